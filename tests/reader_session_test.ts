// ReaderSession, sans I/O: every protocol decision of a collector's
// connection, table-driven, each case's input also fed re-chunked (at every
// split point, and one byte at a time) and through each way of taking data
// (next(), next(onData), nextRun(onRun)): the events must be the same.
import assert from "node:assert/strict";
import {
  ControlType,
  decodeFrames,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  ReaderSession,
  type ReaderSessionEvent,
  type ReaderSessionOptions,
  SessionTimeoutError,
} from "../mod.ts";
import { concat, ENGINES } from "./_util.ts";
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

/** How data frames are taken. */
type Take = "next" | "sink" | "run";
const TAKES: readonly Take[] = ["next", "sink", "run"];

/** What a run of a session gave. */
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

/** Takes every event the session has now. */
function drain(session: ReaderSession, take: Take, out: Rec[]): void {
  const sink = (w: Uint8Array, o: number, n: number) =>
    void out.push({ type: "data", data: text(w.subarray(o, o + n)) });
  const runSink = (w: Uint8Array, s: number, e: number, frames: number) => {
    const decoded = decodeFrames(w.subarray(s, e));
    assert.equal(decoded.length, frames, "a run holds its frames");
    for (const f of decoded) {
      assert.equal(f.kind, "data");
      if (f.kind === "data") out.push({ type: "data", data: text(f.data) });
    }
  };
  for (;;) {
    const event: ReaderSessionEvent | null = take === "next"
      ? session.next()
      : take === "sink"
      ? session.next(sink)
      : session.nextRun(runSink);
    if (event === null) return;
    out.push(record(event));
  }
}

function record(event: ReaderSessionEvent): Rec {
  switch (event.type) {
    case "send":
      return { type: "send", bytes: event.bytes };
    case "started":
      return {
        type: "started",
        mode: event.mode,
        contentType: event.contentType === null
          ? null
          : text(event.contentType),
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
function feed(
  pieces: readonly Uint8Array[],
  end: boolean,
  take: Take,
  options: ReaderSessionOptions = OPTIONS,
): Run {
  const session = new ReaderSession(options);
  const events: Rec[] = [];
  for (const piece of pieces) {
    session.receive(piece, 0);
    drain(session, take, events);
  }
  if (end) {
    session.end(0);
    drain(session, take, events);
  }
  assert.equal(session.next(), null, "nothing after the last event");
  return {
    events,
    message: session.error?.message ?? null,
    skippedFrames: session.skippedFrames,
    oversizedFrames: session.oversizedFrames,
  };
}

/** Every way of cutting `bytes` the tests try: whole, at each point, bytewise. */
function chunkings(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) {
    out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  }
  const bytewise: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i++) {
    bytewise.push(bytes.subarray(i, i + 1));
  }
  out.push(bytewise);
  return out;
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
        const run = feed(pieces, c.end, take, options);
        assert.deepEqual(run.events, c.events, where);
        if (c.message !== undefined) {
          assert.match(run.message ?? "", c.message, where);
        }
        assert.equal(run.skippedFrames, c.skippedFrames ?? 0, where);
        assert.equal(run.oversizedFrames, c.oversizedFrames ?? 0, where);
      }
    }
  });
}

Deno.test("ReaderSession times out a handshake step, counted from when it began", () => {
  // Nothing at all: from `now`.
  const silent = new ReaderSession({
    ...OPTIONS,
    now: 1_000,
    handshakeTimeout: 400,
  });
  assert.equal(silent.deadline, 1_400);
  silent.expire(1_399.9);
  assert.equal(silent.state, "waiting");
  silent.expire(1_400);
  const e = silent.next();
  assert.ok(e?.type === "closed" && e.error instanceof SessionTimeoutError);
  assert.equal(e.error.reason, "handshake");
  assert.equal(e.error.timeout, 400);
  assert.equal(e.error.message, "Timed out: no READY or START within 400 ms");
  assert.equal(silent.deadline, null);
  assert.equal(silent.next(), null);
  // READY, then no START: from the bytes that brought READY.
  const half = new ReaderSession({ ...OPTIONS, now: 0, handshakeTimeout: 400 });
  half.receive(READY.subarray(0, 10), 100);
  assert.equal(half.next(), null);
  assert.equal(half.deadline, 400, "a partial READY does not count");
  half.receive(READY.subarray(10), 300);
  assert.equal(half.next()?.type, "send");
  assert.equal(half.state, "accepted");
  assert.equal(half.deadline, 700);
  half.expire(699);
  assert.equal(half.next(), null);
  half.expire(700);
  const h = half.next();
  assert.ok(h?.type === "closed" && h.error instanceof SessionTimeoutError);
  assert.equal(
    h.error.message,
    "Timed out: no START within 400 ms after ACCEPT",
  );
  // handshakeTimeout 0: no deadline.
  assert.equal(
    new ReaderSession({ now: 0, handshakeTimeout: 0 }).deadline,
    null,
  );
});

Deno.test("ReaderSession times out a silent started stream, but only with idleTimeout", () => {
  const session = new ReaderSession({ ...OPTIONS, now: 0, idleTimeout: 50 });
  session.receive(START, 10);
  assert.equal(session.next()?.type, "started");
  assert.equal(session.deadline, 60, "from the bytes that brought START");
  session.receive(HELLO, 40);
  assert.equal(session.deadline, 90, "each byte received restarts it");
  assert.equal(session.next()?.type, "data");
  session.resume(200);
  assert.equal(session.deadline, 250, "resume restarts it");
  session.expire(249);
  assert.equal(session.state, "data");
  session.expire(250);
  const e = session.next();
  assert.ok(e?.type === "closed" && e.error instanceof SessionTimeoutError);
  assert.equal(e.error.reason, "idle");
  assert.equal(e.error.message, "Timed out: connection idle for 50 ms");
  assert.equal(e.stopped, false);
  // Without idleTimeout, a started stream has no deadline.
  const quiet = new ReaderSession({ ...OPTIONS, now: 0 });
  quiet.receive(START, 1);
  quiet.next();
  assert.equal(quiet.deadline, null);
  quiet.expire(1e12);
  assert.equal(quiet.state, "data");
});

Deno.test("ReaderSession reports state, mode, content type, started and stopped", () => {
  const session = new ReaderSession(OPTIONS);
  assert.deepEqual(
    [session.state, session.mode, session.started, session.stopped],
    ["waiting", null, false, false],
  );
  session.receive(concat(READY, START, STOP), 0);
  session.next();
  assert.deepEqual([session.state, session.mode], [
    "accepted",
    "bidirectional",
  ]);
  session.next();
  assert.deepEqual([session.state, session.started], ["data", true]);
  assert.deepEqual(session.contentType, DNSTAP);
  while (session.next() !== null);
  assert.deepEqual(
    [session.state, session.stopped, session.error],
    ["closed", true, null],
  );
});

Deno.test("ReaderSession closes with what a sink throws, and ignores bytes once closed", () => {
  const boom = new Error("boom");
  const session = new ReaderSession(OPTIONS);
  session.receive(concat(START, HELLO, HELLO), 0);
  assert.equal(session.next()?.type, "started");
  let calls = 0;
  const e = session.next(() => {
    calls++;
    throw boom;
  });
  assert.deepEqual(e, { type: "closed", error: boom, stopped: false });
  assert.equal(calls, 1);
  session.receive(HELLO, 1);
  assert.equal(session.next(), null);
  session.end(2);
  assert.throws(() => session.receive(HELLO, 3), TypeError);
});

Deno.test("ReaderSession checks its options and arguments", () => {
  assert.throws(
    () => new ReaderSession(null as unknown as ReaderSessionOptions),
    TypeError,
  );
  assert.throws(() => new ReaderSession({ handshakeTimeout: -1 }), RangeError);
  assert.throws(
    () => new ReaderSession({ idleTimeout: "5" as unknown as number }),
    TypeError,
  );
  assert.throws(() => new ReaderSession({ now: Number.NaN }), TypeError);
  assert.throws(() => new ReaderSession({ maxFrameLength: 0 }), RangeError);
  assert.throws(
    () => new ReaderSession({ contentTypes: ["x".repeat(257)] }),
    RangeError,
  );
  const session = new ReaderSession({ now: 0 });
  assert.throws(
    () => session.receive("x" as unknown as Uint8Array, 0),
    TypeError,
  );
  assert.throws(
    () => session.nextRun(null as unknown as () => void),
    TypeError,
  );
});
