// Helpers of the ReaderSession tests: feed a session its input in pieces and
// take everything it says, and the ways of cutting input the tests try.
import assert from "node:assert/strict";
import {
  decodeFrames,
  ReaderSession,
  type ReaderSessionEvent,
  type ReaderSessionOptions,
} from "../mod.ts";
import { rng } from "./_support.ts";

/** How data frames are taken: `next()`, `next(onData)`, `nextRun(onRun)`. */
export type Take = "next" | "sink" | "run";
/** Every way of taking data frames. */
export const TAKES: readonly Take[] = ["next", "sink", "run"];

/** What a session said, data frames copied out. */
export interface SessionRun {
  /** Every event, data frames as `"data"` events whatever `take` was. */
  events: ReaderSessionEvent[];
  /** The session, closed or waiting for more. */
  session: ReaderSession;
}

/** Takes every event the session has now into `out`. */
export function drain(
  session: ReaderSession,
  take: Take,
  out: ReaderSessionEvent[],
): void {
  const sink = (w: Uint8Array, o: number, n: number) =>
    void out.push({ type: "data", data: w.slice(o, o + n) });
  const runSink = (w: Uint8Array, s: number, e: number, frames: number) => {
    const decoded = decodeFrames(w.subarray(s, e));
    assert.equal(decoded.length, frames, "a run holds its frames");
    for (const f of decoded) {
      assert.equal(f.kind, "data", "runs hold data frames only");
      if (f.kind === "data") out.push({ type: "data", data: f.data.slice() });
    }
  };
  for (;;) {
    const event = take === "next"
      ? session.next()
      : take === "sink"
      ? session.next(sink)
      : session.nextRun(runSink);
    if (event === null) return;
    out.push(
      event.type === "data"
        ? { type: "data", data: event.data.slice() }
        : event,
    );
  }
}

/**
 * Feeds `pieces` (at time 0), then the end of input if `end`; everything the
 * session said.
 */
export function feed(
  pieces: readonly Uint8Array[],
  options: ReaderSessionOptions,
  { end = false, take = "next" }: { end?: boolean; take?: Take } = {},
): SessionRun {
  const session = new ReaderSession({ now: 0, ...options });
  const events: ReaderSessionEvent[] = [];
  for (const piece of pieces) {
    session.receive(piece, 0);
    drain(session, take, events);
  }
  if (end) {
    session.end(0);
    drain(session, take, events);
  }
  assert.equal(session.next(), null, "nothing after the last event");
  return { events, session };
}

/**
 * Ways of cutting `bytes`: whole; for up to `exhaustive` bytes, at every
 * split point and one byte at a time; beyond, `random` random cuttings
 * (seeded) into pieces of 1 to 64 bytes.
 */
export function chunkings(
  bytes: Uint8Array,
  { exhaustive = 600, random = 20, seed = 1 } = {},
): Uint8Array[][] {
  const out: Uint8Array[][] = [[bytes]];
  if (bytes.length <= exhaustive) {
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
  const r = rng(seed);
  for (let k = 0; k < random; k++) {
    const pieces: Uint8Array[] = [];
    for (let p = 0; p < bytes.length;) {
      const n = 1 + (r() % 64);
      pieces.push(bytes.subarray(p, p + n));
      p += n;
    }
    out.push(pieces);
  }
  return out;
}

/** The session's "closed" event (asserting it is the last one). */
export function closedEvent(
  run: SessionRun,
): Extract<ReaderSessionEvent, { type: "closed" }> {
  const last = run.events.at(-1);
  assert.ok(last?.type === "closed", `closed, got ${last?.type}`);
  return last;
}
