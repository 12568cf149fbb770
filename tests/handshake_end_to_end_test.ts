// WriterHandshake and ReaderHandshake driven against each other through
// FrameDecoder: every negotiation outcome, and the clean failures.
import assert from "node:assert/strict";
import { DNSTAP_CONTENT_TYPE, encodeDataFrame, FrameDecoder } from "../mod.ts";
import type { HandshakeErrorReason } from "../src/errors.ts";
import {
  type ReaderEvent,
  ReaderHandshake,
  type ReaderHandshakeOptions,
} from "../src/reader_handshake.ts";
import {
  type WriterEvent,
  WriterHandshake,
  type WriterHandshakeOptions,
} from "../src/writer_handshake.ts";

/** A content type as bytes: strings are UTF-8. */
function ct(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

/** The number of "send" events. */
function sent(events: (WriterEvent | ReaderEvent)[]): number {
  return events.filter((e) => e.type === "send").length;
}

// End to end: the bytes each side sends, decoded by a FrameDecoder (fed one
// byte at a time), go into the other side.

interface Outcome {
  writer: WriterHandshake;
  reader: ReaderHandshake;
  writerEvents: WriterEvent[];
  readerEvents: ReaderEvent[];
  payloads: string[];
}

/** Runs a whole session between a writer and a reader, sending `payloads`. */
function session(
  writerOptions: WriterHandshakeOptions,
  readerOptions: ReaderHandshakeOptions,
  payloads: string[],
): Outcome {
  const writer = new WriterHandshake(writerOptions);
  const reader = new ReaderHandshake(readerOptions);
  const toReader = new FrameDecoder();
  const toWriter = new FrameDecoder();
  const writerEvents: WriterEvent[] = [];
  const readerEvents: ReaderEvent[] = [];
  const received: string[] = [];

  const push = (decoder: FrameDecoder, bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length; i++) {
      decoder.push(bytes.subarray(i, i + 1));
    }
  };
  const fromWriter = (events: WriterEvent[]): void => {
    writerEvents.push(...events);
    for (const e of events) if (e.type === "send") push(toReader, e.bytes);
  };
  const fromReader = (events: ReaderEvent[]): void => {
    readerEvents.push(...events);
    for (const e of events) {
      if (e.type === "send") push(toWriter, e.bytes);
      if (e.type === "data") received.push(new TextDecoder().decode(e.data));
    }
  };
  /** Delivers every complete frame in flight, both ways, until quiet. */
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (let f = toReader.next(); f !== null; f = toReader.next()) {
        fromReader(reader.receive(f));
        moved = true;
      }
      for (let f = toWriter.next(); f !== null; f = toWriter.next()) {
        fromWriter(writer.receive(f));
        moved = true;
      }
    }
  };

  fromWriter(writer.start());
  pump();
  if (writer.state === "data") {
    for (const p of payloads) push(toReader, encodeDataFrame(p));
    fromWriter(writer.stop());
    pump();
  }
  return { writer, reader, writerEvents, readerEvents, payloads: received };
}

Deno.test("WriterHandshake and ReaderHandshake agree end to end through FrameDecoder", () => {
  const NUL = new Uint8Array([0]);
  const EMPTY = new Uint8Array(0);
  const cases: {
    writer: WriterHandshakeOptions;
    reader: ReaderHandshakeOptions;
    contentType: Uint8Array | null;
  }[] = [
    // dnstap on both sides, as every real deployment
    {
      writer: { contentTypes: [DNSTAP_CONTENT_TYPE] },
      reader: { contentTypes: [DNSTAP_CONTENT_TYPE] },
      contentType: ct(DNSTAP_CONTENT_TYPE),
    },
    // the writer's first type is refused, its second accepted
    {
      writer: { contentTypes: ["a", "b"] },
      reader: { contentTypes: ["b"] },
      contentType: ct("b"),
    },
    // both accepted: the writer's order wins over the reader's
    {
      writer: { contentTypes: ["a", "b"] },
      reader: { contentTypes: ["b", "a"] },
      contentType: ct("a"),
    },
    // the reader takes any: the writer's first
    {
      writer: { contentTypes: ["a", "b"] },
      reader: {},
      contentType: ct("a"),
    },
    // the writer names none: the reader accepts its own, START names none
    {
      writer: {},
      reader: { contentTypes: ["a"] },
      contentType: null,
    },
    // neither names any
    { writer: {}, reader: {}, contentType: null },
    // NUL and the empty type are both offered, only the empty one is taken
    {
      writer: { contentTypes: [NUL, EMPTY] },
      reader: { contentTypes: [EMPTY] },
      contentType: EMPTY,
    },
    // unidirectional, a type the reader takes
    {
      writer: { contentTypes: ["a"], bidirectional: false },
      reader: { contentTypes: ["b", "a"] },
      contentType: ct("a"),
    },
    // unidirectional, no type at all
    {
      writer: { bidirectional: false },
      reader: { contentTypes: ["a"] },
      contentType: null,
    },
  ];
  for (const c of cases) {
    const payloads = ["hello", "world", "x".repeat(300)];
    const out = session(c.writer, c.reader, payloads);
    const bidirectional = c.writer.bidirectional ?? true;
    assert.equal(out.writer.state, "finished");
    assert.equal(out.reader.state, "stopped");
    assert.equal(
      out.reader.mode,
      bidirectional ? "bidirectional" : "unidirectional",
    );
    assert.deepEqual(out.writer.contentType, c.contentType);
    assert.deepEqual(out.reader.contentType, c.contentType);
    assert.deepEqual(out.payloads, payloads);
    assert.deepEqual(
      out.readerEvents.filter((e) => e.type !== "data").map((e) => e.type),
      bidirectional
        ? ["send", "started", "send", "stopped"]
        : ["started", "stopped"],
    );
    assert.deepEqual(
      out.writerEvents.map((e) => e.type),
      bidirectional
        ? ["send", "send", "started", "send", "finished"]
        : ["send", "started", "send", "finished"],
    );
  }
});

Deno.test("WriterHandshake and ReaderHandshake fail cleanly end to end", () => {
  const cases: {
    writer: WriterHandshakeOptions;
    reader: ReaderHandshakeOptions;
    reason: HandshakeErrorReason;
  }[] = [
    // no common type: the reader sends no ACCEPT, the writer still waits
    {
      writer: { contentTypes: [DNSTAP_CONTENT_TYPE] },
      reader: { contentTypes: ["protobuf:other"] },
      reason: "no-common-content-type",
    },
    // unidirectional START with a type the reader does not take
    {
      writer: { contentTypes: ["a"], bidirectional: false },
      reader: { contentTypes: ["b"] },
      reason: "content-type-mismatch",
    },
  ];
  for (const c of cases) {
    const out = session(c.writer, c.reader, ["hello"]);
    const last = out.readerEvents.at(-1);
    assert.ok(last?.type === "failed");
    assert.equal(last.error.reason, c.reason);
    assert.equal(out.payloads.length, 0);
    // nothing was sent in answer to the offending frame
    assert.equal(sent(out.readerEvents), 0);
  }
  // the writer waits for an ACCEPT that never comes: the socket layer's timeout
  const out = session(
    { contentTypes: [DNSTAP_CONTENT_TYPE] },
    { contentTypes: ["protobuf:other"] },
    [],
  );
  assert.equal(out.writer.state, "ready-sent");
});
