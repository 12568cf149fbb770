// Private: the fuzz target of WriterSession. A case is a script of calls
// (start, the peer's bytes in chunks, end, stop, time passing) on a session
// with random content types and mode, against a peer that sends anything:
// ACCEPT with any list, FINISH, READY, START, STOP, data frames, unknown and
// malformed control frames, cut anywhere. The checks:
//
// - nothing escapes the session but the documented TypeError of a call out
//   of order (start twice, stop outside the data phase), exactly then;
// - the events follow the grammar: sends are valid control frames, in the
//   order READY?, START, STOP (unidirectional: START, STOP); "started"
//   right after START; "finished" only after STOP and right before a clean
//   "closed"; "closed" once, last, and exactly when the state is "closed";
// - the deadline is set exactly while waiting for ACCEPT or FINISH, at the
//   time of start() or stop() plus the timeout, and expire() fails the
//   session exactly when it has passed;
// - the outcome does not depend on how the peer's bytes are cut: the same
//   script fed whole and byte by byte gives the same events and errors
//   (class, reason, message);
// - an error blaming the peer's bytes points at bytes that were fed;
// - no hang, bounded memory: a case is at most a few dozen calls on a few
//   hundred bytes; once registered, the fuzzer's case timeout and RSS bound
//   apply (what the session holds between chunks, at most one control
//   frame, is asserted in writer_session_test.ts).
//
// Registration (the lead wires it into the fuzzer's target table): target
// "writer-session", `writerSessionCaseArb` as its generator,
// `checkWriterSession` as its synchronous check. tests/writer_session_test.ts
// runs it as a property test.
import fc from "fast-check";
import { FuzzFailure } from "./_assert.ts";
import { defineTarget, type FuzzTarget } from "./_target.ts";
import {
  ControlFrameError,
  ControlType,
  decodeControlFrame,
  encodeControlFrame,
  HandshakeError,
  SessionTimeoutError,
  WriterSession,
  type WriterSessionEvent,
} from "../mod.ts";

/** One call of a script. */
export type WriterSessionStep =
  | { op: "start" }
  | { op: "stop" }
  | { op: "end" }
  /** Feed the next `bytes` bytes of the input, in chunks cut at `cuts`. */
  | { op: "feed"; bytes: number }
  /** Let `ms` pass, then call expire(). */
  | { op: "wait"; ms: number }
  /** Go to `early` ms before the deadline (if any), then call expire(). */
  | { op: "until"; early: number };

/** A case of the writer-session target, as JSON. */
export interface WriterSessionCase {
  target: "writer-session";
  bidirectional: boolean;
  /** Our content types, hex. */
  ours: string[];
  handshakeTimeout: number;
  finishTimeout: number;
  /** What the peer sends, hex. */
  input: string;
  /** Where feeds are cut further (offsets in the input). */
  cuts: number[];
  steps: WriterSessionStep[];
}

/** A check failed: the kind is one of the fuzzer's failure kinds. */
export class WriterSessionFailure extends Error {
  /** "crash", "invariant" or "divergence". */
  readonly kind: "crash" | "invariant" | "divergence";

  constructor(kind: "crash" | "invariant" | "divergence", message: string) {
    super(message);
    this.name = "WriterSessionFailure";
    this.kind = kind;
  }
}

function fail(
  kind: "crash" | "invariant" | "divergence",
  message: string,
): never {
  throw new WriterSessionFailure(kind, message);
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How the input is cut: per feed, at the case's cuts, whole, or bytewise. */
type Chunking = "cuts" | "whole" | "bytes";

/** What a run gave, as plain data. */
interface Run {
  events: string[];
  state: string;
}

function describe(e: WriterSessionEvent): string {
  switch (e.type) {
    case "send":
      return `send ${toHex(e.bytes)}`;
    case "started":
      return `started ${e.mode} ${
        e.contentTypeBytes === null ? "-" : toHex(e.contentTypeBytes)
      }`;
    case "finished":
      return "finished";
    case "closed": {
      const error = e.error as (Error & { reason?: string }) | null;
      return error === null
        ? "closed"
        : `closed ${error.name} ${error.reason ?? ""} ${error.message}`;
    }
  }
}

const u32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>>
  0;

/** Runs the script once, checking the grammar and the deadlines as it goes. */
function runOnce(c: WriterSessionCase, chunking: Chunking): Run {
  const input = fromHex(c.input);
  const cuts = new Set(c.cuts);
  const session = new WriterSession({
    contentTypes: c.ours.map(fromHex),
    bidirectional: c.bidirectional,
    handshakeTimeout: c.handshakeTimeout,
    finishTimeout: c.finishTimeout,
  });
  const events: string[] = [];
  let now = 0;
  let fed = 0;
  let received = 0;
  let closed = false;
  let sends: number[] = [];
  let startedAt: number | null = null;
  let stoppedAt: number | null = null;
  const drain = () => {
    for (let e = session.next(); e !== null; e = session.next()) {
      if (closed) fail("invariant", `event ${e.type} after "closed"`);
      events.push(describe(e));
      if (e.type === "send") {
        let frame;
        try {
          frame = decodeControlFrame(e.bytes);
        } catch (error) {
          fail("invariant", `sent bytes are no control frame: ${error}`);
        }
        sends.push(frame.type);
      } else if (e.type === "started") {
        if (sends.at(-1) !== ControlType.START) {
          fail("invariant", '"started" not right after START');
        }
      } else if (e.type === "finished") {
        if (sends.at(-1) !== ControlType.STOP) {
          fail("invariant", '"finished" before STOP');
        }
      } else if (e.type === "closed") {
        closed = true;
        if (events.at(-2) === "finished" && e.error !== null) {
          fail("invariant", '"finished" then a failure');
        }
        const error = e.error;
        if (
          error !== null && !(error instanceof HandshakeError) &&
          !(error instanceof SessionTimeoutError) &&
          !(error instanceof ControlFrameError)
        ) {
          fail("crash", `closed with an undocumented error: ${error}`);
        }
        // An error blaming the peer's bytes points at bytes that were fed.
        if (error instanceof ControlFrameError) {
          if (error.offset >= fed || error.errorOffset >= fed) {
            fail("invariant", `error offset past the fed bytes: ${error}`);
          }
          if (u32(input, error.offset) !== 0) {
            fail("invariant", `control frame error on a data frame: ${error}`);
          }
        }
        const m = error === null
          ? null
          : /^Handshake failed: data frame at byte (\d+)/.exec(error.message);
        if (m !== null) {
          const at = Number(m[1]);
          if (at + 4 > fed || u32(input, at) === 0) {
            fail("invariant", `no data frame at byte ${at}`);
          }
        }
      }
    }
    // The grammar of what we sent.
    const order = sends.map((t) => t === 4 ? "R" : t === 2 ? "S" : "P")
      .join("");
    const allowed = c.bidirectional ? "RSP" : "SP";
    if (!allowed.startsWith(order)) {
      fail("invariant", `sent ${order}, expected a prefix of ${allowed}`);
    }
    if ((session.state === "closed") !== closed) {
      fail("invariant", `state ${session.state}, closed event: ${closed}`);
    }
    const deadline = session.deadline;
    const expected = session.state === "handshake"
      ? startedAt! + c.handshakeTimeout
      : session.state === "stopping"
      ? stoppedAt! + c.finishTimeout
      : null;
    if (deadline !== expected) {
      fail(
        "invariant",
        `deadline ${deadline} in ${session.state}, expected ${expected}`,
      );
    }
  };
  for (const step of c.steps) {
    const state = session.state;
    switch (step.op) {
      case "start":
      case "stop": {
        const ok = step.op === "start" ? state === "idle" : state === "data";
        try {
          if (step.op === "start") {
            session.start(now);
            startedAt = now;
          } else {
            session.stop(now);
            stoppedAt = now;
          }
        } catch (error) {
          if (ok || !(error instanceof TypeError)) {
            fail("crash", `${step.op}() in state ${state} threw ${error}`);
          }
          break;
        }
        if (!ok) {
          fail("invariant", `${step.op}() in state ${state} did not throw`);
        }
        break;
      }
      case "end":
        session.end(now);
        break;
      case "feed": {
        const to = Math.min(input.length, fed + step.bytes);
        let from = fed;
        for (let at = fed + 1; at <= to; at++) {
          const cut = at === to || chunking === "bytes" ||
            (chunking === "cuts" && cuts.has(at));
          if (!cut) continue;
          const open = session.state !== "closed";
          session.receive(input.subarray(from, at), now);
          if (open) received += at - from;
          from = at;
        }
        fed = to;
        break;
      }
      case "wait":
      case "until": {
        const deadline = session.deadline;
        if (step.op === "wait") now += step.ms;
        else if (deadline !== null) now = Math.max(now, deadline - step.early);
        const before = session.state;
        session.expire(now);
        const expired = deadline !== null && now >= deadline;
        if (expired !== (session.state === "closed" && before !== "closed")) {
          fail(
            "invariant",
            `expire(${now}) with deadline ${deadline}: state ${before} → ${session.state}`,
          );
        }
        break;
      }
    }
    drain();
  }
  if (session.bytesReceived !== received) {
    fail(
      "invariant",
      `bytesReceived ${session.bytesReceived}, fed ${received}`,
    );
  }
  sends = [];
  return { events, state: session.state };
}

/**
 * Runs every check of a case; throws a {@linkcode WriterSessionFailure}
 * if one fails (any other error escaping is a crash).
 */
export function checkWriterSession(c: WriterSessionCase): void {
  let first: Run;
  try {
    first = runOnce(c, "cuts");
    for (const chunking of ["whole", "bytes"] as const) {
      const other = runOnce(c, chunking);
      const a = JSON.stringify(first);
      const b = JSON.stringify(other);
      if (a !== b) {
        fail("divergence", `cut at the case's cuts: ${a}\n${chunking}: ${b}`);
      }
    }
  } catch (error) {
    if (error instanceof WriterSessionFailure) throw error;
    fail("crash", `${error instanceof Error ? error.stack : error}`);
  }
}

// ---------------------------------------------------------------------------
// The generator.

const enc = new TextEncoder();
const POOL: readonly Uint8Array[] = [
  enc.encode("protobuf:dnstap.Dnstap"),
  new Uint8Array(0),
  enc.encode("a"),
  enc.encode("b"),
  new Uint8Array([0x00, 0x78]),
];

/** A control frame built by hand: the encoder refuses STOP with a type. */
function rawControl(type: number, types: Uint8Array[]): Uint8Array {
  const clen = 4 + types.reduce((n, t) => n + 8 + t.length, 0);
  const out = new Uint8Array(8 + clen);
  const view = new DataView(out.buffer);
  view.setUint32(4, clen);
  view.setUint32(8, type);
  let at = 12;
  for (const t of types) {
    view.setUint32(at, 1);
    view.setUint32(at + 4, t.length);
    out.set(t, at + 8);
    at += 8 + t.length;
  }
  return out;
}

const typeArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...POOL) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
);

/** One thing a peer may send, whole or broken. */
const pieceArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(typeArb, { maxLength: 3 }).map((t) =>
      encodeControlFrame(ControlType.ACCEPT, t)
    ),
  },
  { weight: 4, arbitrary: fc.constant(encodeControlFrame(ControlType.FINISH)) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom(
        ControlType.READY,
        ControlType.START,
        ControlType.STOP,
        7,
        0xffffffff,
      ),
      fc.array(typeArb, { maxLength: 1 }),
    ).map(([type, t]) => rawControl(type, t)),
  },
  // A data frame, maybe huge (announced only).
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.uint8Array({ maxLength: 8 }),
    )
      .map(([len, tail]) => {
        const b = new Uint8Array(4 + tail.length);
        new DataView(b.buffer).setUint32(0, len);
        b.set(tail, 4);
        return b;
      }),
  },
  // A control frame header with any length, and a few bytes.
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.integer({ min: 0, max: 600 }),
      fc.uint8Array({ maxLength: 16 }),
    )
      .map(([clen, tail]) => {
        const b = new Uint8Array(8 + tail.length);
        new DataView(b.buffer).setUint32(4, clen);
        b.set(tail, 8);
        return b;
      }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) },
);

const stepArb: fc.Arbitrary<WriterSessionStep> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: "start" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "stop" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "end" as const }) },
  {
    weight: 5,
    arbitrary: fc.integer({ min: 1, max: 80 }).map((bytes) => ({
      op: "feed" as const,
      bytes,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 0, max: 200 }).map((ms) => ({
      op: "wait" as const,
      ms,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0, 0, 1).map((early) => ({
      op: "until" as const,
      early,
    })),
  },
);

/** Cases of the writer-session target. */
export const writerSessionCaseArb: fc.Arbitrary<WriterSessionCase> = fc
  .record({
    bidirectional: fc.boolean(),
    ours: fc.array(typeArb, { maxLength: 3 }),
    handshakeTimeout: fc.integer({ min: 0, max: 300 }),
    finishTimeout: fc.integer({ min: 0, max: 300 }),
    pieces: fc.array(pieceArb, { maxLength: 8 }),
    cutSeeds: fc.array(fc.nat(), { maxLength: 12 }),
    steps: fc.array(stepArb, { maxLength: 16 }),
  })
  .map(({ pieces, cutSeeds, ours, steps, ...rest }) => {
    const input = pieces.reduce((a, p) => {
      const out = new Uint8Array(a.length + p.length);
      out.set(a);
      out.set(p, a.length);
      return out;
    }, new Uint8Array(0));
    const cuts = [...new Set(cutSeeds.map((s) => s % (input.length + 1)))]
      .sort((a, b) => a - b);
    return {
      target: "writer-session" as const,
      ...rest,
      ours: ours.map(toHex),
      input: toHex(input),
      cuts,
      // Usually start first, as a shell does.
      steps: steps[0]?.op === "start" || steps.length % 3 === 0
        ? steps
        : [{ op: "start" as const }, ...steps],
    };
  });

/**
 * The writer-session target: a WriterSession scripted against a peer that
 * sends anything, its WriterSessionFailure turned into the fuzzer's
 * FuzzFailure of the same kind.
 */
export const writerSessionTarget: FuzzTarget = defineTarget<
  WriterSessionCase
>({
  name: "writer-session",
  about: "WriterSession scripted against a peer sending anything",
  arb: writerSessionCaseArb,
  sync: true,
  check(c: WriterSessionCase): void {
    try {
      checkWriterSession(c);
    } catch (error) {
      if (error instanceof WriterSessionFailure) {
        throw new FuzzFailure(error.kind, error.message);
      }
      throw error;
    }
  },
});
