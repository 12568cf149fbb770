// WriterSession, pure: no socket, no timer. Each case is a script of calls
// (start, the peer's bytes, end, stop, expire) and the exact events it must
// give, errors with their class, reason and message; the peer's bytes are
// also fed re-chunked at every split point, and byte by byte, with the same
// outcome.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  ControlType,
  encodeControlFrame,
  HandshakeError,
  SessionTimeoutError,
  WriterSession,
  type WriterSessionEvent,
  type WriterSessionOptions,
} from "../mod.ts";
import {
  ACCEPT,
  FINISH,
  HELLO,
  READY,
  START,
  STOP,
  UNKNOWN,
} from "./_vectors.ts";
import { concat, hex } from "./_util.ts";
import fc from "fast-check";
import {
  checkWriterSession,
  writerSessionCaseArb,
} from "../fuzz/_check_writer_session.ts";

const enc = new TextEncoder();

/** One call on the session; `peer` bytes are re-chunked by the runner. */
type Step =
  | { start: number }
  | { peer: Uint8Array; at?: number }
  | { end: number }
  | { stop: number }
  | { expire: number };

/** An event as plain data, named where the bytes are a known vector. */
type Plain =
  | string
  | { closed: null }
  | { closed: string; reason?: string; message: string };

const NAMES: [string, Uint8Array][] = [
  ["READY", READY],
  ["START", START],
  ["STOP", STOP],
];

function plainEvent(e: WriterSessionEvent): Plain {
  switch (e.type) {
    case "send": {
      const name = NAMES.find(([, v]) =>
        v.length === e.bytes.length &&
        v.every((b, i) => b === e.bytes[i])
      );
      return `send ${name?.[0] ?? [...e.bytes].join(",")}`;
    }
    case "started":
      return `started ${e.mode} ${
        e.contentType === null ? "null" : e.contentType
      }`;
    case "finished":
      return "finished";
    case "closed": {
      const error = e.error;
      if (error === null) return { closed: null };
      const reason = (error as { reason?: string }).reason;
      return {
        closed: error.name,
        ...(reason === undefined ? {} : { reason }),
        message: error.message,
      };
    }
  }
}

/** Runs `steps`, feeding each peer input cut at `cuts` (offsets in it). */
function run(
  options: WriterSessionOptions,
  steps: readonly Step[],
  cut: (bytes: Uint8Array) => Uint8Array[],
): { events: Plain[]; state: string; deadline: number | null } {
  const session = new WriterSession(options);
  const events: Plain[] = [];
  const drain = () => {
    for (let e = session.next(); e !== null; e = session.next()) {
      events.push(plainEvent(e));
    }
  };
  for (const step of steps) {
    if ("start" in step) session.start(step.start);
    else if ("peer" in step) {
      for (const chunk of cut(step.peer)) session.receive(chunk, step.at ?? 0);
    } else if ("end" in step) session.end(step.end);
    else if ("stop" in step) session.stop(step.stop);
    else session.expire(step.expire);
    drain();
  }
  return { events, state: session.state, deadline: session.deadline };
}

/** Asserts the outcome, then the same outcome under every re-chunking. */
function check(
  options: WriterSessionOptions,
  steps: readonly Step[],
  expected: Plain[],
  state: string,
  deadline: number | null = null,
): void {
  const whole = run(options, steps, (b) => [b]);
  assert.deepEqual(whole.events, expected);
  assert.equal(whole.state, state);
  assert.equal(whole.deadline, deadline);
  const longest = Math.max(
    0,
    ...steps.map((s) => "peer" in s ? s.peer.length : 0),
  );
  for (let k = 1; k < longest; k++) {
    const split = run(options, steps, (b) => [b.subarray(0, k), b.subarray(k)]);
    assert.deepEqual(split, whole, `split at ${k}`);
  }
  const bytewise = run(
    options,
    steps,
    (b) => Array.from(b, (_, i) => b.subarray(i, i + 1)),
  );
  assert.deepEqual(bytewise, whole, "byte by byte");
}

const DNSTAP = { contentTypes: ["protobuf:dnstap.Dnstap"] };
const accept = (...types: string[]) =>
  encodeControlFrame(ControlType.ACCEPT, types);
const unexpected = (message: string): Plain => ({
  closed: "HandshakeError",
  reason: "unexpected-frame",
  message: `Handshake failed: ${message}`,
});
const OPEN = [
  "send READY",
  "send START",
  "started bidirectional protobuf:dnstap.Dnstap",
];

Deno.test("WriterSession runs READY, ACCEPT, START … STOP, FINISH with the byte-exact vectors", () => {
  check(
    DNSTAP,
    [
      { start: 100 },
      { peer: ACCEPT, at: 110 },
      { stop: 200 },
      { peer: FINISH, at: 210 },
    ],
    [...OPEN, "send STOP", "finished", { closed: null }],
    "closed",
  );
});

Deno.test("WriterSession decides every handshake case once, on re-chunked peer input", async (t) => {
  const cases: {
    name: string;
    options?: WriterSessionOptions;
    steps: Step[];
    events: Plain[];
    state: string;
    deadline?: number | null;
  }[] = [
    {
      name: "ACCEPT with the wrong content type: no START, a clear error",
      steps: [{ start: 0 }, { peer: accept("other") }],
      events: ["send READY", {
        closed: "HandshakeError",
        reason: "no-common-content-type",
        message:
          'Handshake failed: ACCEPT lists "other", none of the content types we offered ("protobuf:dnstap.Dnstap")',
      }],
      state: "closed",
    },
    {
      name: "ACCEPT listing none: START names our first content type",
      steps: [{ start: 0 }, { peer: accept() }],
      events: OPEN,
      state: "data",
    },
    {
      name: "two content types: START names our first that ACCEPT lists",
      options: { contentTypes: ["v2", "v1"] },
      steps: [{ start: 0 }, { peer: accept("v0", "v1") }],
      events: [
        "send 0,0,0,0,0,0,0,24,0,0,0,4,0,0,0,1,0,0,0,2,118,50,0,0,0,1,0,0,0,2,118,49",
        "send 0,0,0,0,0,0,0,14,0,0,0,2,0,0,0,1,0,0,0,2,118,49",
        "started bidirectional v1",
      ],
      state: "data",
    },
    {
      name: "ACCEPT twice: fails in the data phase",
      steps: [{ start: 0 }, { peer: concat(ACCEPT, ACCEPT) }],
      events: [...OPEN, unexpected("ACCEPT frame received twice")],
      state: "closed",
    },
    {
      name: "FINISH before STOP, in the handshake",
      steps: [{ start: 0 }, { peer: FINISH }],
      events: ["send READY", unexpected("FINISH frame before STOP")],
      state: "closed",
    },
    {
      name: "FINISH before STOP, in the data phase",
      steps: [{ start: 0 }, { peer: concat(ACCEPT, FINISH) }],
      events: [...OPEN, unexpected("FINISH frame before STOP")],
      state: "closed",
    },
    {
      name: "READY from the collector",
      steps: [{ start: 0 }, { peer: READY }],
      events: [
        "send READY",
        unexpected(
          "READY frame received: a writer never receives READY, only a reader does",
        ),
      ],
      state: "closed",
    },
    {
      name: "START from the collector",
      steps: [{ start: 0 }, { peer: START }],
      events: [
        "send READY",
        unexpected(
          "START frame received: a writer never receives START, only a reader does",
        ),
      ],
      state: "closed",
    },
    {
      name: "STOP from the collector (no phase rule of a decoder hides it)",
      steps: [{ start: 0 }, { peer: STOP }],
      events: [
        "send READY",
        unexpected(
          "STOP frame received: a writer never receives STOP, only a reader does",
        ),
      ],
      state: "closed",
    },
    {
      name: "a data frame fails at its length word, its payload never awaited",
      steps: [{ start: 0 }, { peer: concat(ACCEPT, hex("7fffffff")) }],
      events: [
        ...OPEN,
        unexpected(
          "data frame at byte 42: a writer never receives data frames",
        ),
      ],
      state: "closed",
    },
    {
      name: "a data frame in the handshake",
      steps: [{ start: 0 }, { peer: HELLO }],
      events: [
        "send READY",
        unexpected("data frame at byte 0: a writer never receives data frames"),
      ],
      state: "closed",
    },
    {
      name: "a control frame too short, with its stream offset",
      steps: [{ start: 0 }, { peer: concat(ACCEPT, hex("00000000 00000003")) }],
      events: [...OPEN, {
        closed: "ControlFrameError",
        reason: "length",
        message:
          "Cannot decode control frame at byte 42: its length is 3, it must be from 4 to 512 (at byte 46)",
      }],
      state: "closed",
    },
    {
      name: "FINISH carrying a content type",
      steps: [
        { start: 0 },
        { peer: ACCEPT },
        { stop: 0 },
        { peer: hex(`00000000 0000000d 00000005 00000001 00000001 "x"`) },
      ],
      events: [...OPEN, "send STOP", {
        closed: "ControlFrameError",
        reason: "content-type-count",
        message:
          "Cannot decode control frame at byte 42: FINISH may carry at most 0 content types, this one carries 1 or more (at byte 54)",
      }],
      state: "closed",
    },
    {
      name: "control frames of unknown type are skipped in every phase",
      steps: [
        { start: 0 },
        { peer: concat(UNKNOWN, ACCEPT, UNKNOWN) },
        { stop: 0 },
        { peer: concat(UNKNOWN, FINISH) },
      ],
      events: [...OPEN, "send STOP", "finished", { closed: null }],
      state: "closed",
    },
    {
      name: "what follows FINISH is ignored",
      steps: [
        { start: 0 },
        { peer: ACCEPT },
        { stop: 0 },
        { peer: concat(FINISH, HELLO, hex("00")) },
        { end: 0 },
      ],
      events: [...OPEN, "send STOP", "finished", { closed: null }],
      state: "closed",
    },
    {
      name: "input ends before ACCEPT",
      steps: [{ start: 0 }, { peer: ACCEPT.subarray(0, 20) }, { end: 5 }],
      events: ["send READY", {
        closed: "HandshakeError",
        reason: "closed",
        message:
          "Handshake failed: the collector closed the connection before ACCEPT",
      }],
      state: "closed",
    },
    {
      name: "input ends in the data phase",
      steps: [{ start: 0 }, { peer: ACCEPT }, { end: 5 }],
      events: [...OPEN, {
        closed: "HandshakeError",
        reason: "closed",
        message:
          "Handshake failed: the collector closed the connection before STOP",
      }],
      state: "closed",
    },
    {
      name: "input ends before FINISH (Unbound closes right after STOP)",
      steps: [{ start: 0 }, { peer: ACCEPT }, { stop: 1 }, { end: 5 }],
      events: [...OPEN, "send STOP", {
        closed: "HandshakeError",
        reason: "closed",
        message:
          "Handshake failed: the collector closed the connection before FINISH",
      }],
      state: "closed",
    },
    {
      name: "no ACCEPT by the deadline: a timeout, as data",
      options: { ...DNSTAP, handshakeTimeout: 100 },
      steps: [{ start: 1000 }, { expire: 1099 }, { expire: 1100 }, {
        peer: ACCEPT,
      }],
      events: ["send READY", {
        closed: "SessionTimeoutError",
        reason: "handshake",
        message: "Timed out: no ACCEPT within 100 ms after READY",
      }],
      state: "closed",
    },
    {
      name: "ACCEPT just in time clears the deadline",
      options: { ...DNSTAP, handshakeTimeout: 100 },
      steps: [{ start: 1000 }, { peer: ACCEPT, at: 1099 }, { expire: 5000 }],
      events: OPEN,
      state: "data",
    },
    {
      name: "no FINISH by the deadline",
      options: { ...DNSTAP, finishTimeout: 50 },
      steps: [{ start: 0 }, { peer: ACCEPT }, { stop: 10 }, { expire: 59 }, {
        expire: 60,
      }],
      events: [...OPEN, "send STOP", {
        closed: "SessionTimeoutError",
        reason: "finish",
        message: "Timed out: no FINISH within 50 ms after STOP",
      }],
      state: "closed",
    },
    {
      name: "waiting for FINISH: the deadline is set",
      options: { ...DNSTAP, finishTimeout: 50 },
      steps: [{ start: 0 }, { peer: ACCEPT }, { stop: 10 }],
      events: [...OPEN, "send STOP"],
      state: "stopping",
      deadline: 60,
    },
    {
      name: "waiting for ACCEPT: the deadline is set",
      options: { ...DNSTAP, handshakeTimeout: 0 },
      steps: [{ start: 7 }, { peer: ACCEPT.subarray(0, 11) }],
      events: ["send READY"],
      state: "handshake",
      deadline: 7,
    },
    {
      name: "unidirectional: START at once, STOP closes cleanly",
      options: { ...DNSTAP, bidirectional: false },
      steps: [{ start: 0 }, { stop: 1 }],
      events: [
        "send START",
        "started unidirectional protobuf:dnstap.Dnstap",
        "send STOP",
        { closed: null },
      ],
      state: "closed",
    },
    {
      name: "unidirectional: ACCEPT has no place",
      options: { ...DNSTAP, bidirectional: false },
      steps: [{ start: 0 }, { peer: ACCEPT }],
      events: [
        "send START",
        "started unidirectional protobuf:dnstap.Dnstap",
        unexpected("ACCEPT frame in a unidirectional stream"),
      ],
      state: "closed",
    },
    {
      name: "unidirectional, no content type: START names none",
      options: { contentTypes: [], bidirectional: false },
      steps: [{ start: 0 }],
      events: [
        "send 0,0,0,0,0,0,0,4,0,0,0,2",
        "started unidirectional null",
      ],
      state: "data",
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      check(c.options ?? DNSTAP, c.steps, c.events, c.state, c.deadline);
    });
  }
});

Deno.test("WriterSession gives errors with the classes callers catch", () => {
  const session = new WriterSession();
  session.start(0);
  session.receive(hex("00000000 00000003"), 0);
  assert.ok(session.error instanceof ControlFrameError);
  assert.equal(session.error.offset, 0);
  const timeout = new WriterSession({ handshakeTimeout: 5 });
  timeout.start(0);
  timeout.expire(5);
  assert.ok(timeout.error instanceof SessionTimeoutError);
  assert.equal(timeout.error.timeout, 5);
  const closed = new WriterSession();
  closed.start(0);
  closed.end(0);
  assert.ok(closed.error instanceof HandshakeError);
});

Deno.test("WriterSession allows data only in the data phase", () => {
  const session = new WriterSession(DNSTAP);
  const seen: boolean[] = [session.canSendData];
  session.start(0);
  seen.push(session.canSendData);
  session.receive(ACCEPT, 0);
  seen.push(session.canSendData);
  session.stop(0);
  seen.push(session.canSendData);
  session.receive(FINISH, 0);
  seen.push(session.canSendData);
  assert.deepEqual(seen, [false, false, true, false, false]);
});

Deno.test("WriterSession counts what the peer sent", () => {
  const session = new WriterSession(DNSTAP);
  session.start(0);
  session.receive(concat(UNKNOWN, ACCEPT, UNKNOWN), 0);
  session.stop(0);
  session.receive(FINISH.subarray(0, 3), 0);
  session.receive(FINISH.subarray(3), 0);
  assert.deepEqual(
    [session.bytesReceived, session.controlFrames, session.skippedFrames],
    [16 + 42 + 16 + 12, 2, 2],
  );
  // Closed: ignored, not counted.
  session.receive(HELLO, 0);
  assert.equal(session.bytesReceived, 86);
});

Deno.test("WriterSession holds no more than one control frame of the peer's bytes", () => {
  const session = new WriterSession(DNSTAP);
  session.start(0);
  // A 1 GiB data frame announced: refused at its length word.
  session.receive(hex("40000000 00"), 0);
  assert.equal(session.state, "closed");
  // A control frame of 512 bytes, a byte at a time: waits, then decides.
  const big = new Uint8Array(8 + 512);
  big.set(hex("00000000 00000200 00000009"));
  const other = new WriterSession(DNSTAP);
  other.start(0);
  for (let i = 0; i < big.length; i++) other.receive(big.subarray(i, i + 1), 0);
  assert.equal(other.skippedFrames, 1);
  assert.equal(other.state, "handshake");
});

Deno.test("WriterSession refuses calls out of order and arguments of the wrong type", () => {
  const session = new WriterSession(DNSTAP);
  assert.throws(() => session.stop(0), TypeError);
  session.start(0);
  assert.throws(() => session.start(0), TypeError);
  assert.throws(() => session.stop(0), TypeError); // still in the handshake
  assert.throws(
    () => session.receive("x" as unknown as Uint8Array, 0),
    TypeError,
  );
  assert.throws(() => session.receive(ACCEPT, NaN), TypeError);
  assert.throws(() => session.expire("1" as unknown as number), TypeError);
  assert.throws(() => new WriterSession({ handshakeTimeout: -1 }), RangeError);
  assert.throws(
    () => new WriterSession({ finishTimeout: "5" as unknown as number }),
    TypeError,
  );
  assert.throws(
    () => new WriterSession(null as unknown as WriterSessionOptions),
    TypeError,
  );
  assert.throws(
    () => new WriterSession({ contentTypes: ["x".repeat(257)] }),
    RangeError,
  );
  // A session that closed ignores what comes later.
  session.end(0);
  session.receive(ACCEPT, 0);
  session.end(0);
  session.expire(1e9);
  const events: string[] = [];
  for (let e = session.next(); e !== null; e = session.next()) {
    events.push(e.type);
  }
  assert.deepEqual(events, ["send", "closed"]);
});

Deno.test("WriterSession's READY is byte-exact for one content type, and START names it", () => {
  const session = new WriterSession({
    contentTypes: [enc.encode("protobuf:dnstap.Dnstap")],
  });
  session.start(0);
  const ready = session.next();
  assert.ok(ready?.type === "send");
  assert.deepEqual(ready.bytes, READY);
});

Deno.test("WriterSession holds to its grammar, deadlines and chunking on random scripts and peers (the fuzz target)", () => {
  fc.assert(fc.property(writerSessionCaseArb, checkWriterSession), {
    numRuns: 500,
  });
});

Deno.test("WriterSession gives the content type as text (U+FFFD for a bad byte) beside its exact bytes", () => {
  const bytes = new Uint8Array([0xff, 0x62]);
  const session = new WriterSession({
    contentTypes: [bytes],
    bidirectional: false,
  });
  session.start(0);
  const events: WriterSessionEvent[] = [];
  for (let e = session.next(); e !== null; e = session.next()) events.push(e);
  const started = events.find((e) => e.type === "started");
  assert.ok(started?.type === "started");
  assert.equal(started.contentType, "\uFFFDb");
  assert.deepEqual(started.contentTypeBytes, bytes);
  assert.equal(session.contentType, "\uFFFDb");
  assert.deepEqual(session.contentTypeBytes, bytes);
  const none = new WriterSession({ contentTypes: [], bidirectional: false });
  none.start(0);
  assert.equal(none.contentType, null);
  assert.equal(none.contentTypeBytes, null);
});
