// ReaderSession, sans I/O: its deadlines (handshake and idle timeouts, on
// the caller's clock), its state and counters, what happens around a close,
// and the checks of its options. The protocol decisions are in
// reader_session_test.ts.
import assert from "node:assert/strict";
import {
  DNSTAP_CONTENT_TYPE,
  ReaderSession,
  type ReaderSessionOptions,
  SessionTimeoutError,
} from "../mod.ts";
import { concat } from "./_util.ts";
import { HELLO, READY, START, STOP } from "./_vectors.ts";

const DNSTAP = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
const OPTIONS: ReaderSessionOptions = {
  contentTypes: [DNSTAP_CONTENT_TYPE],
  now: 0,
};

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
  assert.deepEqual(session.contentTypeBytes, DNSTAP);
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
