// FrameReceiver over TLS: a TLS writer streams; failed TLS handshakes close
// only their connection.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { encodeDataFrame, encodeFrameStream } from "../mod.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { interopTest } from "./_peers.ts";
import { concat } from "./_util.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  assertSamePayloads,
  closedEvents,
  DNSTAP,
  FINISH,
  listen,
  makePayloads,
  readToEnd,
  READY,
  sendReady,
  START,
  take,
  writeAll,
} from "./_receiver.ts";

// ---------------------------------------------------------------------------
// TLS

interopTest(
  "FrameReceiver speaks Frame Streams over TLS",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const { receiver, events } = await listen(
        { transport: "tls", port: 0, cert, key },
        { contentTypes: [DNSTAP] },
      );
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: (receiver.addr as Deno.NetAddr).port,
        caCerts: [cert],
      });
      await sendReady(conn);
      const payloads = makePayloads(200, 5);
      await writeAll(
        conn,
        encodeFrameStream(payloads, { contentType: DNSTAP }),
      );
      const frames = await take(
        receiver[Symbol.asyncIterator](),
        payloads.length,
      );
      assert.deepEqual(await readToEnd(conn), FINISH);
      conn.close();
      assertSamePayloads(frames.map((f) => f.data), payloads);
      await waitFor(() => closedEvents(events).length === 1, "the close");
      assert.equal(closedEvents(events)[0]!.error, null);
      await receiver.close();
    });
  },
);

interopTest(
  "FrameReceiver over TLS: failed TLS handshakes close only their connection, counted; a good TLS writer streams alongside",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const got: Uint8Array[] = [];
      const { receiver, events } = await listen(
        { transport: "tls", port: 0, cert, key },
        { onData: (w, o, n) => void got.push(w.slice(o, o + n)) },
      );
      const port = (receiver.addr as Deno.NetAddr).port;
      const payloads = makePayloads(2_000, 61);
      const good = (async () => {
        const writer = await FrameWriter.connect(
          { transport: "tls", hostname: "localhost", port, caCerts: [cert] },
          { reconnect: false },
        );
        for (const p of payloads) await writer.write(p);
        await writer.close();
        return writer.stats.frames;
      })();
      // Plain Frame Streams on the TLS port: not a ClientHello.
      const plain = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(plain, concat(READY, START, encodeDataFrame("plain")));
      const answer = await readToEnd(plain);
      plain.close();
      assert.ok(
        answer.length === 0 || answer[0] === 0x15, // nothing, or a TLS alert
        `plain client got ${answer.length} bytes starting ${answer[0]}`,
      );
      // A TLS client that does not trust the certificate.
      const distrust = await Deno.connectTls({ hostname: "localhost", port });
      await assert.rejects(distrust.handshake(), /certificate|UnknownIssuer/i);
      distrust.close();
      // A FrameWriter that does not trust it: connect() fails, says why.
      await assert.rejects(
        FrameWriter.connect(
          { transport: "tls", hostname: "localhost", port },
          { reconnect: false, handshakeTimeout: 2_000 },
        ),
        /certificate|UnknownIssuer/i,
      );
      assert.equal(await good, payloads.length);
      await waitFor(() => closedEvents(events).length === 4, "four closes");
      await receiver.close();
      assertSamePayloads(got, payloads);
      const closed = closedEvents(events);
      assert.equal(closed.filter((e) => e.error === null).length, 1);
      assert.equal(closed.filter((e) => e.error !== null).length, 3);
      assert.equal(receiver.stats.handshakeFailures, 3);
      assert.equal(receiver.stats.frames, payloads.length);
    });
  },
);
