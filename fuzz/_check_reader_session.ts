// Private: the reader-session fuzz target. A ReaderSession is fed random and
// mutated Frame Streams (READY, START, STOP, ACCEPT, FINISH with various
// content types, data frames, unknown control types, garbage, huge lengths),
// cut at random points, each piece at its own time, taken in one of the
// three ways (next(), next(onData), nextRun(onRun)), with or without the end
// of input. Checked for every case:
// - nothing but a documented TypeError ever escapes the session (a crash);
// - the events are in order: ACCEPT only first, "started" once, data only
//   after it, FINISH right before "stopped", "closed" last and once, and
//   nothing after it; every "send" is a valid control frame;
// - the deadline: never in the past of the time just given, null once
//   closed, and expire() at it closes the session with a SessionTimeoutError
//   of the phase's reason (expire() before it does nothing);
// - the outcome equals the oracle's: a plain reference reader that walks the
//   whole input frame by frame (decodeControlFrame for control frames,
//   ReaderHandshake for the handshake's decisions), never cut: the same
//   ACCEPT/FINISH bytes, START, payloads, STOP, and the same closing error
//   (class, reason, offset);
// - memory stays bounded (the harness's allowance) and the case ends (the
//   harness's time bound).
//
// The target is written for the fuzz harness of fuzz/_target.ts (the case
// type, the arbitrary, a synchronous check); it takes the harness's `fail`
// so that it can be registered with one line in fuzz/_targets.ts:
//   readerSessionTarget(fail),
// and tests/reader_session_fuzz_test.ts runs it on its own.
import fc from "fast-check";
import {
  ControlType,
  decodeControlFrame,
  DNSTAP_CONTENT_TYPE,
  encodeDataFrame,
  type Frame,
  ReaderSession,
  type ReaderSessionEvent,
  SessionTimeoutError,
} from "../mod.ts";
import { describeForeignBytes } from "../src/_bytes.ts";
import { ReaderHandshake } from "../src/reader_handshake.ts";

/** What went wrong, in the harness's words (see fuzz/_case.ts). */
export type SessionFailureKind = "divergence" | "crash" | "invariant";

/** The harness's way of failing a case: throws its FuzzFailure. */
export type Fail = (kind: SessionFailureKind, message: string) => never;

/** One case of the reader-session target: plain JSON data. */
export interface ReaderSessionCase {
  /** Always "reader-session". */
  target: "reader-session";
  /** The input bytes, as hex (or, in memory only, `bytes`). */
  input?: string;
  bytes?: Uint8Array;
  /** Where the input is cut into pieces (any numbers: taken modulo). */
  cuts: number[];
  /** Milliseconds between pieces. */
  step: number;
  /** Whether the input ends after the last piece. */
  end: boolean;
  /** How data frames are taken. */
  take: "next" | "sink" | "run";
  /** Our content types, as hex. */
  contentTypes: string[];
  maxFrameLength: number;
  oversize: "error" | "skip";
  engine: "ts" | "wasm";
  handshakeTimeout: number;
  idleTimeout: number;
}

const enc = new TextEncoder();
const CONTENT_TYPES = ["", DNSTAP_CONTENT_TYPE, "other", "a"];

const u32 = (b: Uint8Array, p: number): number =>
  ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Cases.

const word = (n: number): Uint8Array =>
  Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

/**
 * A control frame built by hand, so that it can be wrong (STOP with a
 * content type, START with two).
 */
function rawControl(type: number, types: readonly string[]): Uint8Array {
  const fields = types.map((t) => {
    const b = enc.encode(t);
    return concat([word(1), word(b.length), b]);
  });
  const body = concat([word(type), ...fields]);
  return concat([word(0), word(body.length), body]);
}

const contentTypeArb = fc.constantFrom(...CONTENT_TYPES);

/** One piece of input: mostly frames, some of them wrong. */
const pieceArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(
        ControlType.READY,
        ControlType.START,
        ControlType.STOP,
        ControlType.ACCEPT,
        ControlType.FINISH,
      ),
      fc.array(contentTypeArb, { maxLength: 2 }),
    ).map(([type, types]) => rawControl(type, types)),
  },
  {
    weight: 8,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((p) =>
      encodeDataFrame(p)
    ),
  },
  // an unknown control type
  {
    weight: 1,
    arbitrary: fc.integer({ min: 6, max: 0xffff }).map((t) =>
      concat([
        Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 4),
        Uint8Array.of(t >>> 24, (t >>> 16) & 255, (t >>> 8) & 255, t & 255),
      ])
    ),
  },
  // a length word alone, often huge
  {
    weight: 1,
    arbitrary: fc.oneof(fc.nat(), fc.constantFrom(0xffff_ffff, 4096, 513))
      .map((n) =>
        Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255)
      ),
  },
  // garbage
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
);

/** The case generator. */
export const readerSessionCaseArb: fc.Arbitrary<ReaderSessionCase> = fc
  .record({
    // Most streams begin with a good handshake and end with STOP, so that
    // the data phase and its end get their share of the cases.
    opening: fc.constantFrom("bidirectional", "unidirectional", "none"),
    pieces: fc.array(pieceArb, { maxLength: 12 }),
    stop: fc.boolean(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
      maxLength: 2,
    }).map((f) => f.slice(0, f.length > 0 && f[0]![0] % 3 === 0 ? 2 : 0)),
    cuts: fc.array(fc.nat(), { maxLength: 8 }),
    step: fc.integer({ min: 0, max: 300 }),
    end: fc.boolean(),
    take: fc.constantFrom("next", "sink", "run") as fc.Arbitrary<
      ReaderSessionCase["take"]
    >,
    contentTypes: fc.oneof(
      fc.constant<string[]>([DNSTAP_CONTENT_TYPE]),
      fc.array(contentTypeArb, { maxLength: 2 }),
    ),
    maxFrameLength: fc.constantFrom(8, 32, 1_048_576),
    oversize: fc.constantFrom("error", "skip") as fc.Arbitrary<
      "error" | "skip"
    >,
    engine: fc.constantFrom("ts", "wasm") as fc.Arbitrary<"ts" | "wasm">,
    handshakeTimeout: fc.constantFrom(0, 100, 5_000),
    idleTimeout: fc.constantFrom(0, 50, 1_000),
  })
  .map((r) => {
    const dnstap = [DNSTAP_CONTENT_TYPE];
    const bytes = concat([
      ...(r.opening === "bidirectional"
        ? [rawControl(ControlType.READY, dnstap)]
        : []),
      ...(r.opening === "none" ? [] : [rawControl(ControlType.START, dnstap)]),
      ...r.pieces,
      ...(r.stop ? [rawControl(ControlType.STOP, [])] : []),
    ]);
    for (const [at, x] of r.flips) {
      if (bytes.length > 0) bytes[at % bytes.length]! ^= x;
    }
    return {
      target: "reader-session" as const,
      input: hex(bytes),
      cuts: r.cuts,
      step: r.step,
      end: r.end,
      take: r.take,
      contentTypes: r.contentTypes.map((t) => hex(enc.encode(t))),
      maxFrameLength: r.maxFrameLength,
      oversize: r.oversize,
      engine: r.engine,
      handshakeTimeout: r.handshakeTimeout,
      idleTimeout: r.idleTimeout,
    };
  });

// ---------------------------------------------------------------------------
// The outcome, and the oracle's.

/** What a session said, as the oracle says it too. */
export interface Outcome {
  sends: string[];
  started: string | null;
  data: string[];
  stopped: boolean;
  /** Whether "closed" came. */
  closed: boolean;
  /** The closing error: class, reason, offset. */
  error: string | null;
}

function describeError(e: Error): string {
  const x = e as Error & { reason?: unknown; offset?: unknown };
  return `${e.name}(${x.reason ?? ""}@${x.offset ?? ""})`;
}

/**
 * The reference reader: walks the whole input frame by frame, as
 * PROTOCOL.md and ReaderSession's documented rules say.
 */
export function oracle(bytes: Uint8Array, c: ReaderSessionCase): Outcome {
  const out: Outcome = {
    sends: [],
    started: null,
    data: [],
    stopped: false,
    closed: false,
    error: null,
  };
  const hs = new ReaderHandshake({ contentTypes: c.contentTypes.map(fromHex) });
  const close = (error: string | null): void => {
    out.closed = true;
    out.error = error;
  };
  const judge = (frame: Frame): void => {
    for (const e of hs.receive(frame)) {
      if (e.type === "send") out.sends.push(hex(e.bytes));
      else if (e.type === "started") {
        out.started = `${e.mode}:${
          e.contentType === null ? "-" : hex(e.contentType)
        }`;
      } else if (e.type === "data") out.data.push(hex(e.data));
      else if (e.type === "stopped") {
        out.stopped = true;
        close(null);
      } else close(describeError(e.error));
    }
  };
  const n = bytes.length;
  let pos = 0;
  const truncated = (): void => close(`TruncatedFrameError(frame@${pos})`);
  while (!out.closed) {
    const rem = n - pos;
    if (rem < 4) {
      if (!c.end) break;
      if (rem > 0) truncated();
      else if (hs.state === "accepted") close("HandshakeError(closed@)");
      else close(null);
      break;
    }
    const len = u32(bytes, pos);
    if (len === 0) {
      if (rem < 8) {
        if (c.end) truncated();
        break;
      }
      const clen = u32(bytes, pos + 4);
      if (clen < 4 || clen > 512) {
        close(`ControlFrameError(length@${pos})`);
        break;
      }
      if (rem < 8 + clen) {
        if (c.end) truncated();
        break;
      }
      let frame;
      try {
        frame = decodeControlFrame(bytes.subarray(pos, pos + 8 + clen));
      } catch (e) {
        const x = e as Error & { reason?: unknown };
        close(`${x.name}(${x.reason ?? ""}@${pos})`);
        break;
      }
      if (frame.type >= 1 && frame.type <= 5) {
        judge({ ...frame, offset: pos });
      }
      pos += 8 + clen;
      continue;
    }
    const dataPhase = hs.state === "data";
    // Foreign first bytes at byte 0: not Frame Streams, never skipped.
    if (
      pos === 0 && len > c.maxFrameLength &&
      describeForeignBytes(bytes.subarray(0, 4)) !== undefined
    ) {
      close(`NotFrameStreamsError(@0)`);
      break;
    }
    if (len > c.maxFrameLength && c.oversize === "error") {
      close(`FrameTooLargeError(@${pos})`);
      break;
    }
    // Before START, a data frame is refused once its length word is in.
    if (!dataPhase) {
      judge({ kind: "data", data: new Uint8Array(0), offset: pos });
      break;
    }
    if (rem < 4 + len) {
      if (c.end) truncated();
      break;
    }
    if (len <= c.maxFrameLength) {
      judge({
        kind: "data",
        data: bytes.subarray(pos + 4, pos + 4 + len),
        offset: pos,
      });
    }
    pos += 4 + len;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The check.

/** Pieces of `bytes` cut at `cuts` (modulo its length), in order. */
function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [
    ...new Set(cuts.map((x) => bytes.length === 0 ? 0 : x % bytes.length)),
  ]
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let p = 0;
  for (const x of at) {
    if (x > p) out.push(bytes.subarray(p, x));
    p = Math.max(p, x);
  }
  out.push(bytes.subarray(p));
  return out;
}

/** Whether `bytes` is one valid control frame of `type`. */
function isControl(bytes: Uint8Array, type: number): boolean {
  try {
    return decodeControlFrame(bytes).type === type;
  } catch {
    return false;
  }
}

/** Runs one case; `fail` throws the harness's failure. */
export function checkReaderSession(c: ReaderSessionCase, fail: Fail): void {
  const bytes = c.bytes ?? fromHex(c.input ?? "");
  let session: ReaderSession;
  try {
    session = new ReaderSession({
      contentTypes: c.contentTypes.map(fromHex),
      maxFrameLength: c.maxFrameLength,
      oversize: c.oversize,
      engine: c.engine,
      handshakeTimeout: c.handshakeTimeout,
      idleTimeout: c.idleTimeout,
      now: 0,
    });
  } catch (e) {
    return fail("crash", `the constructor threw ${String(e)}`);
  }
  const got: Outcome = {
    sends: [],
    started: null,
    data: [],
    stopped: false,
    closed: false,
    error: null,
  };
  // A sink's throw would close the session (as documented): the sinks note
  // what is wrong, and the check fails after the call.
  let violation: string | null = null;
  const onData = (w: Uint8Array, o: number, n: number): void => {
    if (got.started === null) violation ??= "data before START";
    got.data.push(hex(w.subarray(o, o + n)));
  };
  const onRun = (w: Uint8Array, s: number, e: number, frames: number): void => {
    if (got.started === null) violation ??= "data before START";
    let p = s;
    for (let k = 0; k < frames; k++) {
      const len = u32(w, p);
      got.data.push(hex(w.subarray(p + 4, p + 4 + len)));
      p += 4 + len;
    }
    if (p !== e) violation ??= `a run of ${frames} frames is not whole`;
  };
  const seen = (event: ReaderSessionEvent): void => {
    if (got.closed) fail("invariant", `"${event.type}" after "closed"`);
    switch (event.type) {
      case "send":
        if (got.started === null && got.sends.length === 0) {
          if (!isControl(event.bytes, ControlType.ACCEPT)) {
            fail("invariant", `sent ${hex(event.bytes)} as ACCEPT`);
          }
        } else if (!isControl(event.bytes, ControlType.FINISH)) {
          fail("invariant", `sent ${hex(event.bytes)} as FINISH`);
        }
        got.sends.push(hex(event.bytes));
        break;
      case "started":
        if (got.started !== null) fail("invariant", `"started" twice`);
        got.started = `${event.mode}:${
          event.contentTypeBytes === null ? "-" : hex(event.contentTypeBytes)
        }`;
        if (
          event.contentType !==
            (event.contentTypeBytes === null
              ? null
              : new TextDecoder().decode(event.contentTypeBytes))
        ) fail("invariant", "contentType is not contentTypeBytes as text");
        break;
      case "data":
        if (c.take !== "next") fail("invariant", `a "data" event with a sink`);
        got.data.push(hex(event.data));
        break;
      case "stopped":
        if (got.started === null) {
          fail("invariant", `"stopped" before "started"`);
        }
        got.stopped = true;
        break;
      case "closed":
        got.closed = true;
        got.error = event.error === null ? null : describeError(event.error);
        if (event.stopped !== got.stopped) {
          fail("invariant", `"closed" says stopped: ${event.stopped}`);
        }
        if (session.deadline !== null) {
          fail("invariant", "a deadline after closing");
        }
        break;
    }
    if (event.type === "data" && got.started === null) {
      fail("invariant", "data before START");
    }
  };
  const drain = (): void => {
    for (;;) {
      const event = c.take === "next"
        ? session.next()
        : c.take === "sink"
        ? session.next(onData)
        : session.nextRun(onRun);
      if (violation !== null) fail("invariant", violation);
      if (event === null) return;
      seen(event);
    }
  };
  let now = 0;
  try {
    for (const piece of cut(bytes, c.cuts)) {
      now += c.step;
      // A deadline passed while the piece was on its way: the session
      // times out first, as a shell's timer would have made it.
      const due = session.deadline;
      if (due !== null && due <= now) {
        session.expire(due - 1);
        if (session.state === "closed") fail("invariant", "expired early");
        session.expire(due);
        drain();
        break;
      }
      session.receive(piece, now);
      drain();
      const d = session.deadline;
      if (d !== null && d < now) {
        fail("invariant", `deadline ${d} in the past of ${now}`);
      }
    }
    if (c.end && session.state !== "closed") {
      session.end(now);
      drain();
    }
  } catch (e) {
    if (e instanceof Error && e.name === "FuzzFailure") throw e;
    return fail("crash", `the session threw ${String(e)}`);
  }
  if (got.closed && got.error?.startsWith("SessionTimeoutError")) {
    // Timed out on the way: the oracle has nothing to say of the rest.
    const reason = got.error.includes("idle") ? "idle" : "handshake";
    const expected = got.started === null ? "handshake" : "idle";
    if (reason !== expected) {
      fail("invariant", `a ${reason} timeout in the ${expected} phase`);
    }
    return;
  }
  // Not closed: the deadline, if any, closes it.
  if (!got.closed && session.deadline !== null) {
    const due = session.deadline;
    const phase = session.state === "data" ? "idle" : "handshake";
    session.expire(due);
    drain();
    const error = session.error;
    if (!(error instanceof SessionTimeoutError) || error.reason !== phase) {
      fail("invariant", `expire(deadline) gave ${String(error)}`);
    }
    got.closed = false; // compare the rest with the oracle, not the timeout
    got.error = null;
  }
  const want = oracle(bytes, c);
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  if (a !== b) {
    fail("divergence", `session ${a}\n oracle ${b}`);
  }
}

/**
 * The reader-session fuzz target, for the harness's registry (see
 * fuzz/_target.ts): `readerSessionTarget(fail)` where `fail` throws the
 * harness's FuzzFailure.
 */
export function readerSessionTarget(fail: Fail): {
  readonly name: "reader-session";
  readonly about: string;
  readonly sync: true;
  readonly arb: fc.Arbitrary<ReaderSessionCase>;
  allowance(c: ReaderSessionCase): number;
  check(c: ReaderSessionCase): void;
} {
  return {
    name: "reader-session",
    about: "ReaderSession fed cut streams, against a reference reader",
    sync: true,
    arb: readerSessionCaseArb,
    // Small inputs: a few buffers of at most maxFrameLength.
    allowance: (c) => (8 << 20) + Math.min(c.maxFrameLength, 1 << 20),
    check: (c) => checkReaderSession(c, fail),
  };
}
