// Portable: ReaderHandshake and WriterHandshake driven against each other
// through bytes and decoders, as two ends of a connection would be.
import assert from "node:assert/strict";
import {
  ControlType,
  decodeControlFrame,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  FrameDecoder,
  HandshakeError,
} from "../../mod.ts";
import { ReaderHandshake } from "../../src/reader_handshake.ts";
import { WriterHandshake } from "../../src/writer_handshake.ts";
import type { ReaderEvent } from "../../src/reader_handshake.ts";
import type { WriterEvent } from "../../src/writer_handshake.ts";
import { ACCEPT, FINISH, HELLO, READY, START, STOP } from "../_vectors.ts";
import { test } from "./_harness.ts";

const text = new TextEncoder();

/** The bytes of every "send" event, in order. */
function sent(events: readonly (ReaderEvent | WriterEvent)[]): Uint8Array[] {
  return events.flatMap((e) => e.type === "send" ? [e.bytes] : []);
}

/** Feeds `bytes` through `decoder` into `receive`; returns every event. */
function deliver<E>(
  decoder: FrameDecoder,
  bytes: readonly Uint8Array[],
  receive: (frame: Parameters<ReaderHandshake["receive"]>[0]) => E[],
): E[] {
  for (const b of bytes) decoder.push(b);
  const events: E[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) {
    events.push(...receive(f));
  }
  return events;
}

test("WriterHandshake and ReaderHandshake complete a bidirectional session with the vectors", () => {
  const writer = new WriterHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  const reader = new ReaderHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  const toReader = new FrameDecoder();
  const toWriter = new FrameDecoder();
  const r = (f: Parameters<ReaderHandshake["receive"]>[0]) => reader.receive(f);
  const w = (f: Parameters<WriterHandshake["receive"]>[0]) => writer.receive(f);

  const ready = writer.start();
  assert.deepEqual(sent(ready), [READY]);
  assert.equal(writer.state, "ready-sent");

  const accept = deliver(toReader, sent(ready), r);
  assert.deepEqual(sent(accept), [ACCEPT]);
  assert.equal(reader.state, "accepted");

  const start = deliver(toWriter, sent(accept), w);
  assert.deepEqual(sent(start), [START]);
  assert.deepEqual(start[1], {
    type: "started",
    contentType: text.encode(DNSTAP_CONTENT_TYPE),
  });
  assert.equal(writer.state, "data");

  const data = deliver(
    toReader,
    [...sent(start), HELLO, encodeDataFrame("x")],
    r,
  );
  assert.deepEqual(data.map((e) => e.type), ["started", "data", "data"]);
  assert.deepEqual(data[0], {
    type: "started",
    mode: "bidirectional",
    contentType: text.encode(DNSTAP_CONTENT_TYPE),
  });
  assert.equal(reader.mode, "bidirectional");

  const stop = writer.stop();
  assert.deepEqual(sent(stop), [STOP]);
  assert.equal(writer.state, "stopping");
  const finish = deliver(toReader, sent(stop), r);
  assert.deepEqual(sent(finish), [FINISH]);
  assert.equal(finish.at(-1)?.type, "stopped");
  assert.deepEqual(deliver(toWriter, sent(finish), w), [{ type: "finished" }]);
  assert.equal(writer.state, "finished");
  assert.equal(reader.state, "stopped");
});

test("WriterHandshake unidirectional sends START at once; ReaderHandshake sends no FINISH", () => {
  const writer = new WriterHandshake({
    contentTypes: [DNSTAP_CONTENT_TYPE],
    bidirectional: false,
  });
  const reader = new ReaderHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  const start = writer.start();
  assert.deepEqual(sent(start), [START]);
  assert.equal(writer.state, "data");
  const toReader = new FrameDecoder();
  const events = deliver(toReader, [
    ...sent(start),
    HELLO,
    ...sent(writer.stop()),
  ], (f) => reader.receive(f));
  assert.deepEqual(events.map((e) => e.type), ["started", "data", "stopped"]);
  assert.equal(reader.mode, "unidirectional");
  assert.equal(writer.state, "finished");
});

test("WriterHandshake takes its first type that ACCEPT lists, not only its first type", () => {
  // libfstrm fails here when its first type is not listed; we do not.
  const writer = new WriterHandshake({
    contentTypes: ["x", DNSTAP_CONTENT_TYPE],
  });
  writer.start();
  const events = writer.receive(decodeControlFrame(ACCEPT));
  assert.deepEqual(sent(events), [START]);
});

test("WriterHandshake takes its own first type when ACCEPT lists none", () => {
  const writer = new WriterHandshake({ contentTypes: ["a", "b"] });
  writer.start();
  const events = writer.receive(
    decodeControlFrame(encodeControlFrame(ControlType.ACCEPT)),
  );
  assert.deepEqual(sent(events), [
    encodeControlFrame(ControlType.START, ["a"]),
  ]);
});

test("ReaderHandshake accepts everything offered when it has no types of its own", () => {
  const reader = new ReaderHandshake();
  const events = reader.receive(
    decodeControlFrame(encodeControlFrame(ControlType.READY, ["a", "b"])),
  );
  assert.deepEqual(sent(events), [
    encodeControlFrame(ControlType.ACCEPT, ["a", "b"]),
  ]);
});

/** A handshake failure and its reason. */
function failure(
  events: readonly (ReaderEvent | WriterEvent)[],
): HandshakeError {
  const last = events.at(-1);
  assert.ok(last?.type === "failed", `no failure in ${JSON.stringify(events)}`);
  assert.ok(last.error instanceof HandshakeError);
  return last.error;
}

test("ReaderHandshake fails with its reasons", () => {
  const ready = (types: string[]) =>
    decodeControlFrame(encodeControlFrame(ControlType.READY, types));
  const start = (types: string[]) =>
    decodeControlFrame(encodeControlFrame(ControlType.START, types));

  // READY offers nothing we take.
  let reader = new ReaderHandshake({ contentTypes: ["a"] });
  assert.equal(
    failure(reader.receive(ready(["b"]))).reason,
    "no-common-content-type",
  );
  assert.equal(reader.state, "failed");
  assert.deepEqual(reader.receive(start([])), []);

  // START names a type ACCEPT did not list.
  reader = new ReaderHandshake({ contentTypes: ["a", "b"] });
  reader.receive(ready(["a"]));
  assert.equal(
    failure(reader.receive(start(["b"]))).reason,
    "content-type-mismatch",
  );

  // Unidirectional START of a type we do not take.
  reader = new ReaderHandshake({ contentTypes: ["a"] });
  assert.equal(
    failure(reader.receive(start(["z"]))).reason,
    "content-type-mismatch",
  );

  // A data frame before START.
  reader = new ReaderHandshake();
  const data = new FrameDecoder();
  data.push(HELLO);
  const error = failure(reader.receive(data.next()!));
  assert.equal(error.reason, "unexpected-frame");
  assert.match(error.message, /data frame before START/);

  // STOP before START.
  reader = new ReaderHandshake();
  assert.equal(
    failure(reader.receive(decodeControlFrame(STOP))).reason,
    "unexpected-frame",
  );
});

test("WriterHandshake fails with its reasons and refuses calls out of order", () => {
  let writer = new WriterHandshake({ contentTypes: ["a"] });
  writer.start();
  const accept = decodeControlFrame(
    encodeControlFrame(ControlType.ACCEPT, ["b"]),
  );
  assert.equal(
    failure(writer.receive(accept)).reason,
    "no-common-content-type",
  );

  writer = new WriterHandshake();
  writer.start();
  assert.equal(
    failure(writer.receive(decodeControlFrame(FINISH))).reason,
    "unexpected-frame",
  );

  writer = new WriterHandshake();
  assert.throws(() => writer.stop(), TypeError);
  writer.start();
  assert.throws(() => writer.start(), TypeError);
});
