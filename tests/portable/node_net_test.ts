// Portable: a collector and a writer built on node:net from the root's
// sans-I/O parts alone (FrameDecoder and the two handshakes), talking over
// TCP on every runtime: the shape of the Node collector of docs/decoding.md. (When
// ReaderSession and WriterSession land, the lead adds the same exchange
// driven by the sessions beside this one.)
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { connect } from "node:net";
import {
  DNSTAP_CONTENT_TYPE,
  encodeDataFrame,
  FrameDecoder,
} from "../../mod.ts";
import { ReaderHandshake } from "../../src/reader_handshake.ts";
import { WriterHandshake } from "../../src/writer_handshake.ts";
import { test } from "./_harness.ts";

/** What the collector saw on one connection. */
interface Collected {
  mode: string | null;
  contentType: string | null;
  payloads: string[];
  stopped: boolean;
  error: Error | null;
}

/** A collector: one ReaderHandshake and one FrameDecoder per connection. */
function collector(done: (c: Collected) => void): Server {
  return createServer((socket: Socket) => {
    const decoder = new FrameDecoder();
    const handshake = new ReaderHandshake({
      contentTypes: [DNSTAP_CONTENT_TYPE],
    });
    const seen: Collected = {
      mode: null,
      contentType: null,
      payloads: [],
      stopped: false,
      error: null,
    };
    const text = new TextDecoder();
    socket.on("data", (chunk: Uint8Array) => {
      try {
        decoder.push(chunk);
        for (let f = decoder.next(); f !== null; f = decoder.next()) {
          for (const event of handshake.receive(f)) {
            switch (event.type) {
              case "send":
                socket.write(event.bytes);
                break;
              case "started":
                seen.mode = event.mode;
                seen.contentType = event.contentType === null
                  ? null
                  : text.decode(event.contentType);
                break;
              case "data":
                seen.payloads.push(text.decode(event.data));
                break;
              case "stopped":
                seen.stopped = true;
                socket.end();
                break;
              case "failed":
                seen.error = event.error;
                socket.destroy();
                break;
            }
          }
        }
      } catch (error) {
        seen.error = error as Error;
        socket.destroy();
      }
    });
    socket.on("error", (error) => seen.error ??= error);
    socket.on("close", () => done(seen));
  });
}

/** A writer: sends `payloads` after the handshake, then STOP, waits for FINISH. */
function write(
  port: number,
  payloads: string[],
  bidirectional: boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const handshake = new WriterHandshake({
      contentTypes: [DNSTAP_CONTENT_TYPE],
      bidirectional,
    });
    const decoder = new FrameDecoder();
    const socket = connect({ host: "127.0.0.1", port });
    let outcome = "closed before FINISH";
    const act = (events: ReturnType<WriterHandshake["start"]>): void => {
      for (const event of events) {
        switch (event.type) {
          case "send":
            socket.write(event.bytes);
            break;
          case "started":
            for (const p of payloads) socket.write(encodeDataFrame(p));
            act(handshake.stop());
            break;
          case "finished":
            outcome = "finished";
            socket.end();
            break;
          case "failed":
            outcome = event.error.message;
            socket.destroy();
            break;
        }
      }
    };
    socket.on("connect", () => act(handshake.start()));
    socket.on("data", (chunk: Uint8Array) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        act(handshake.receive(f));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(outcome));
  });
}

async function exchange(
  payloads: string[],
  bidirectional: boolean,
): Promise<{ writer: string; seen: Collected }> {
  let collected!: (c: Collected) => void;
  const seen = new Promise<Collected>((resolve) => collected = resolve);
  const server = collector(collected);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const address = server.address();
    assert.ok(address !== null && typeof address === "object");
    const writer = await write(address.port, payloads, bidirectional);
    return { writer, seen: await seen };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test("node:net collector and writer complete a bidirectional stream", async () => {
  const payloads = Array.from(
    { length: 500 },
    (_, i) => `frame ${i} `.repeat(1 + (i % 40)),
  );
  const { writer, seen } = await exchange(payloads, true);
  assert.equal(writer, "finished");
  assert.equal(seen.error, null);
  assert.equal(seen.mode, "bidirectional");
  assert.equal(seen.contentType, DNSTAP_CONTENT_TYPE);
  assert.deepEqual(seen.payloads, payloads);
  assert.equal(seen.stopped, true);
});

test("node:net collector takes a unidirectional stream", async () => {
  const { writer, seen } = await exchange(["a", "bb"], false);
  // No FINISH in a unidirectional stream: the writer is done after STOP.
  assert.equal(writer, "finished");
  assert.equal(seen.error, null);
  assert.equal(seen.mode, "unidirectional");
  assert.deepEqual(seen.payloads, ["a", "bb"]);
  assert.equal(seen.stopped, true);
});
