// ReaderSession, sans I/O: every protocol decision of a collector's
// connection, table-driven, each case's input also fed re-chunked (at every
// split point, and one byte at a time) and through each way of taking data
// (next(), next(onData), nextRun(onRun)): the events must be the same.
import assert from "node:assert/strict";
import {
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  ReaderSession,
  type ReaderSessionEvent,
  type ReaderSessionOptions,
} from "../mod.ts";
import { concat, ENGINES } from "./_util.ts";
import { chunkings, feed, type Take, TAKES } from "./_reader_session.ts";
import {
  ACCEPT,
  FINISH,
  HELLO,
  rawControl,
  READY,
  START,
  STOP,
  UNKNOWN,
  words,
} from "./_vectors.ts";

const CONTENT_TYPE = 1;
const DNSTAP = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
const OPTIONS: ReaderSessionOptions = {
  contentTypes: [DNSTAP_CONTENT_TYPE],
  now: 0,
};

/** An event as the tests compare it. */
type Rec =
  | { type: "send"; bytes: Uint8Array }
  | { type: "started"; mode: string; contentType: string | null }
  | { type: "data"; data: string }
  | { type: "stopped" }
  | { type: "closed"; stopped: boolean; error: ErrorRec | null };

/** An error as the tests compare it (the message is matched apart). */
interface ErrorRec {
  name: string;
  reason?: unknown;
  offset?: unknown;
  errorOffset?: unknown;
}

/** What a run of a session gave, as the tests compare it. */
interface Run {
  events: Rec[];
  message: string | null;
  skippedFrames: number;
  oversizedFrames: number;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function errorRec(e: Error): ErrorRec {
  const r: ErrorRec = { name: e.name };
  const x = e as unknown as Record<string, unknown>;
  if ("reason" in x) r.reason = x.reason;
  if ("offset" in x) r.offset = x.offset;
  if ("errorOffset" in x) r.errorOffset = x.errorOffset;
  return r;
}

function record(event: ReaderSessionEvent): Rec {
  switch (event.type) {
    case "send":
      return { type: "send", bytes: event.bytes };
    case "started":
      return {
        type: "started",
        mode: event.mode,
        contentType: event.contentType,
      };
    case "data":
      return { type: "data", data: text(event.data) };
    case "stopped":
      return { type: "stopped" };
    case "closed":
      return {
        type: "closed",
        stopped: event.stopped,
        error: event.error === null ? null : errorRec(event.error),
      };
  }
}

/** Feeds `pieces`, then (if `end`) the end of input; the outcome. */
function run(
  pieces: readonly Uint8Array[],
  end: boolean,
  take: Take,
  options: ReaderSessionOptions,
): Run {
  const { events, session } = feed(pieces, options, { end, take });
  return {
    events: events.map(record),
    message: session.error?.message ?? null,
    skippedFrames: session.skippedFrames,
    oversizedFrames: session.oversizedFrames,
  };
}

const ok = (stopped: boolean): Rec => ({
  type: "closed",
  stopped,
  error: null,
});
const failed = (error: ErrorRec, stopped = false): Rec => ({
  type: "closed",
  stopped,
  error,
});
const handshake = (reason: string): ErrorRec => ({
  name: "HandshakeError",
  reason,
});
const send = (bytes: Uint8Array): Rec => ({ type: "send", bytes });
const data = (s: string): Rec => ({ type: "data", data: s });
const STARTED_BI: Rec = {
  type: "started",
  mode: "bidirectional",
  contentType: DNSTAP_CONTENT_TYPE,
};
const STARTED_UNI: Rec = {
  type: "started",
  mode: "unidirectional",
  contentType: DNSTAP_CONTENT_TYPE,
};
const STOPPED: Rec = { type: "stopped" };

interface Case {
  /** What the case is about. */
  name: string;
  input: Uint8Array;
  /** Whether the input ends (EOF) after the bytes. */
  end: boolean;
  options?: ReaderSessionOptions;
  events: Rec[];
  /** The closing error's message, if any. */
  message?: RegExp;
  skippedFrames?: number;
  oversizedFrames?: number;
}

const STREAM_AFTER_READY = concat(START, HELLO, STOP);

const CASES: Case[] = [
  // The bidirectional handshake: ACCEPT, the stream, FINISH, a clean close.
  {
    name: "READY, START, data, STOP",
    input: concat(READY, STREAM_AFTER_READY),
    end: false,
    events: [
      send(ACCEPT),
      STARTED_BI,
      data("hello"),
      send(FINISH),
      STOPPED,
      ok(true),
    ],
  },
  // START first: unidirectional, nothing is sent.
  {
    name: "START, data, STOP",
    input: STREAM_AFTER_READY,
    end: false,
    events: [STARTED_UNI, data("hello"), STOPPED, ok(true)],
  },
  // Bytes after STOP are not looked at: the session is over.
  {
    name: "frames after STOP",
    input: concat(STREAM_AFTER_READY, READY, HELLO),
    end: true,
    events: [STARTED_UNI, data("hello"), STOPPED, ok(true)],
  },
  // dnsdist: the input ends at a frame boundary without STOP.
  {
    name: "EOF without STOP",
    input: concat(START, HELLO),
    end: true,
    events: [STARTED_UNI, data("hello"), ok(false)],
  },
  // A connection that sends nothing and ends: a clean end.
  {
    name: "EOF before any byte",
    input: new Uint8Array(0),
    end: true,
    events: [ok(false)],
  },
  // After ACCEPT, before START: the handshake was left half done.
  {
    name: "EOF after READY",
    input: READY,
    end: true,
    events: [send(ACCEPT), failed(handshake("closed"))],
    message:
      /^Handshake failed: the connection ended after READY, before START$/,
  },
  // Inside a frame: every frame before it, then the truncation.
  {
    name: "EOF inside a data frame",
    input: concat(START, HELLO, HELLO.subarray(0, 6)),
    end: true,
    events: [
      STARTED_UNI,
      data("hello"),
      failed({
        name: "TruncatedFrameError",
        reason: "frame",
        offset: START.length + HELLO.length,
      }),
    ],
  },
  // A data frame first: refused, nothing delivered.
  {
    name: "data frame first",
    input: concat(HELLO, START),
    end: false,
    events: [failed(handshake("unexpected-frame"))],
    message: /^Handshake failed: data frame before START$/,
  },
  // Only the length word of a huge data frame before START: refused at once.
  {
    name: "data frame header before START",
    input: words(1_000_000),
    end: false,
    events: [failed(handshake("unexpected-frame"))],
    message: /data frame before START/,
  },
  {
    name: "data frame after ACCEPT, before START",
    input: concat(READY, HELLO),
    end: false,
    events: [send(ACCEPT), failed(handshake("unexpected-frame"))],
    message: /data frame before START/,
  },
  {
    name: "READY twice",
    input: concat(READY, READY),
    end: false,
    events: [send(ACCEPT), failed(handshake("unexpected-frame"))],
    message: /^Handshake failed: READY frame received twice$/,
  },
  // Inside the stream: refused (a decoder alone would skip it).
  {
    name: "READY after START",
    input: concat(READY, START, HELLO, READY, HELLO, STOP),
    end: false,
    events: [
      send(ACCEPT),
      STARTED_BI,
      data("hello"),
      failed(handshake("unexpected-frame")),
    ],
    message: /^Handshake failed: READY frame after START$/,
  },
  // The handshake's "START received twice", which a receiver on a plain
  // decoder never saw: the decoder skipped the second START.
  {
    name: "START twice",
    input: concat(START, HELLO, START, HELLO),
    end: false,
    events: [STARTED_UNI, data("hello"), failed(handshake("unexpected-frame"))],
    message: /^Handshake failed: START frame received twice$/,
  },
  {
    name: "STOP first",
    input: STOP,
    end: false,
    events: [failed(handshake("unexpected-frame"))],
    message: /^Handshake failed: STOP frame before START$/,
  },
  {
    name: "STOP after READY",
    input: concat(READY, STOP),
    end: false,
    events: [send(ACCEPT), failed(handshake("unexpected-frame"))],
    message: /STOP frame before START/,
  },
  {
    name: "ACCEPT received",
    input: ACCEPT,
    end: false,
    events: [failed(handshake("unexpected-frame"))],
    message: /ACCEPT frame received: a reader never receives ACCEPT/,
  },
  {
    name: "FINISH inside the stream",
    input: concat(START, FINISH),
    end: false,
    events: [STARTED_UNI, failed(handshake("unexpected-frame"))],
    message: /FINISH frame received: a reader never receives FINISH/,
  },
  // Unknown control types: skipped and counted, before and inside the stream.
  {
    name: "unknown control types",
    input: concat(UNKNOWN, READY, START, HELLO, UNKNOWN, HELLO, STOP),
    end: false,
    events: [
      send(ACCEPT),
      STARTED_BI,
      data("hello"),
      data("hello"),
      send(FINISH),
      STOPPED,
      ok(true),
    ],
    skippedFrames: 2,
  },
  {
    name: "READY with no common content type",
    input: encodeControlFrame(ControlType.READY, ["application/x-other", ""]),
    end: false,
    events: [failed(handshake("no-common-content-type"))],
    message: /READY offers/,
  },
  {
    name: "START naming another content type",
    input: encodeControlFrame(ControlType.START, ["other"]),
    end: false,
    events: [failed(handshake("content-type-mismatch"))],
    message: /START names content type "other", which we do not accept/,
  },
  {
    name: "START naming a type ACCEPT did not list",
    input: concat(
      encodeControlFrame(ControlType.READY, [DNSTAP_CONTENT_TYPE, "b"]),
      encodeControlFrame(ControlType.START, ["b"]),
    ),
    end: false,
    events: [send(ACCEPT), failed(handshake("content-type-mismatch"))],
    message: /our ACCEPT did not list/,
  },
  // Any content type, when none is configured; START without one.
  {
    name: "no content types configured",
    input: concat(
      encodeControlFrame(ControlType.READY, ["x", "y"]),
      encodeControlFrame(ControlType.START),
      STOP,
    ),
    end: false,
    options: { now: 0 },
    events: [
      send(encodeControlFrame(ControlType.ACCEPT, ["x", "y"])),
      { type: "started", mode: "bidirectional", contentType: null },
      send(FINISH),
      STOPPED,
      ok(true),
    ],
  },
  // Malformed control frames: the codec's errors, offsets from byte 0.
  {
    name: "START with two content types",
    input: rawControl(ControlType.START, [
      [CONTENT_TYPE, DNSTAP],
      [CONTENT_TYPE, DNSTAP],
    ]),
    end: false,
    events: [failed({
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: 0,
      errorOffset: 42,
    })],
    message: /START may carry at most 1 content type/,
  },
  {
    name: "STOP with a field",
    input: concat(
      READY,
      START,
      HELLO,
      rawControl(ControlType.STOP, [[CONTENT_TYPE, Uint8Array.of(0x78)]]),
    ),
    end: false,
    events: [
      send(ACCEPT),
      STARTED_BI,
      data("hello"),
      failed({
        name: "ControlFrameError",
        reason: "content-type-count",
        offset: READY.length + START.length + HELLO.length,
        errorOffset: READY.length + START.length + HELLO.length + 12,
      }),
    ],
  },
  {
    name: "a control frame of 513 bytes",
    input: concat(words(0, 513), new Uint8Array(513)),
    end: false,
    events: [failed({
      name: "ControlFrameError",
      reason: "length",
      offset: 0,
      errorOffset: 4,
    })],
    message: /its length is 513, it must be from 4 to 512/,
  },
  {
    name: "an unknown field type",
    input: rawControl(ControlType.READY, [
      [CONTENT_TYPE, DNSTAP],
      [2, Uint8Array.of(1, 2, 3)],
    ]),
    end: false,
    events: [failed({
      name: "ControlFrameError",
      reason: "field-type",
      offset: 0,
      errorOffset: 12 + 8 + DNSTAP.length,
    })],
  },
  {
    name: "a content type of 257 bytes",
    input: rawControl(ControlType.READY, [[
      CONTENT_TYPE,
      new Uint8Array(257).fill(0x41),
    ]]),
    end: false,
    events: [failed({
      name: "ControlFrameError",
      reason: "content-type-length",
      offset: 0,
      errorOffset: 16,
    })],
    message: /content type is 257 bytes, limit 256/,
  },
  // Oversized data frames: an error by default, skipped under "skip".
  {
    name: "an oversized data frame",
    input: concat(START, encodeDataFrame("x".repeat(9)), HELLO),
    end: false,
    options: { ...OPTIONS, maxFrameLength: 8 },
    events: [
      STARTED_UNI,
      failed({
        name: "FrameTooLargeError",
        offset: START.length,
      }),
    ],
    message: /is 9 bytes, limit 8/,
  },
  // Skipped or not, a data frame before START is refused.
  {
    name: "an oversized data frame before START, under skip",
    input: concat(encodeDataFrame("x".repeat(9)), START, HELLO),
    end: false,
    options: { ...OPTIONS, maxFrameLength: 8, oversize: "skip" },
    events: [failed(handshake("unexpected-frame"))],
    message: /data frame before START/,
    oversizedFrames: 1,
  },
  {
    name: "an oversized data frame after READY, under skip",
    input: concat(READY, encodeDataFrame("x".repeat(9))),
    end: true,
    options: { ...OPTIONS, maxFrameLength: 8, oversize: "skip" },
    events: [send(ACCEPT), failed(handshake("unexpected-frame"))],
    message: /data frame before START/,
    oversizedFrames: 1,
  },
  {
    name: "an oversized data frame skipped",
    input: concat(START, encodeDataFrame("x".repeat(9)), HELLO, STOP),
    end: false,
    options: { ...OPTIONS, maxFrameLength: 8, oversize: "skip" },
    events: [STARTED_UNI, data("hello"), STOPPED, ok(true)],
    oversizedFrames: 1,
  },
];

for (const c of CASES) {
  Deno.test(`ReaderSession: ${c.name}`, () => {
    for (
      const [engine, take] of ENGINES.flatMap((e) =>
        TAKES.map((t) => [e, t] as const)
      )
    ) {
      const options = { ...(c.options ?? OPTIONS), engine };
      for (const pieces of chunkings(c.input)) {
        const where = `${engine}, ${take}, pieces of ${
          pieces.map((p) => p.length)
        }`;
        const result = run(pieces, c.end, take, options);
        assert.deepEqual(result.events, c.events, where);
        if (c.message !== undefined) {
          assert.match(result.message ?? "", c.message, where);
        }
        assert.equal(result.skippedFrames, c.skippedFrames ?? 0, where);
        assert.equal(result.oversizedFrames, c.oversizedFrames ?? 0, where);
      }
    }
  });
}

Deno.test("ReaderSession gives the content type as text (U+FFFD for a bad byte) beside its exact bytes", () => {
  const bytes = new Uint8Array([0x61, 0xff]);
  for (const first of ["READY", "START"] as const) {
    const session = new ReaderSession({ now: 0 });
    if (first === "READY") {
      session.receive(encodeControlFrame(ControlType.READY, [bytes]), 0);
    }
    session.receive(encodeControlFrame(ControlType.START, [bytes]), 0);
    const events: ReaderSessionEvent[] = [];
    for (let e = session.next(); e !== null; e = session.next()) events.push(e);
    const started = events.find((e) => e.type === "started");
    assert.ok(started?.type === "started", first);
    assert.equal(started.contentType, "a\uFFFD");
    assert.deepEqual(started.contentTypeBytes, bytes);
    assert.equal(session.contentType, "a\uFFFD");
    assert.deepEqual(session.contentTypeBytes, bytes);
    // Copies: changing one changes nothing else.
    started.contentTypeBytes!.fill(0);
    assert.deepEqual(session.contentTypeBytes, bytes);
  }
  const none = new ReaderSession({ now: 0 });
  none.receive(encodeControlFrame(ControlType.START), 0);
  const started = none.next();
  assert.ok(started?.type === "started");
  assert.equal(started.contentType, null);
  assert.equal(started.contentTypeBytes, null);
  assert.equal(none.contentType, null);
});
