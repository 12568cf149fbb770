// How FrameReceiver counts a connection's end (src/_receiver_outcome.ts):
// the session's error → the protocolErrors kind, handshakeFailures for a
// failure before START, ioErrors for the rest. The socket tests
// (frame_receiver_*_test.ts, hostile_input_test.ts) check it end to end.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  SessionTimeoutError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { classify, CLEAN, ReceiverCounters } from "../src/_receiver_outcome.ts";

Deno.test("FrameReceiver outcome: each error has its kind", () => {
  const cases: [Error | null, string | null, boolean][] = [
    [
      new HandshakeError("unexpected-frame", "x"),
      "handshake:unexpected-frame",
      false,
    ],
    [
      new HandshakeError("no-common-content-type", "x"),
      "handshake:no-common-content-type",
      false,
    ],
    [
      new HandshakeError("content-type-mismatch", "x"),
      "handshake:content-type-mismatch",
      false,
    ],
    // Input ended after READY: the kind it always had.
    [new HandshakeError("closed", "x"), "handshake-eof", false],
    [new SessionTimeoutError("handshake", 1, "x"), "handshake-timeout", false],
    [new SessionTimeoutError("idle", 1, "x"), "idle-timeout", false],
    [new ControlFrameError(0, 4, "length", "x"), "control-frame:length", false],
    [new TruncatedFrameError(0, 1, 5), "truncated", false],
    [new FrameTooLargeError(0, 9, 8), "frame-too-large", false],
    [new UnexpectedFrameError(0, 2, "x"), "unexpected-frame", false],
    [new NotFrameStreamsError(0, "x"), "not-frame-streams", false],
    // Anything else is I/O (a reset, a TLS failure).
    [new Deno.errors.ConnectionReset("x"), null, true],
  ];
  for (const [error, kind, io] of cases) {
    assert.deepEqual(classify(error), { error, kind, io }, error?.name);
  }
  const wrapped = classify("a string");
  assert.ok(wrapped.error instanceof Error);
  assert.equal(wrapped.io, true);
  assert.deepEqual(CLEAN, { error: null, kind: null, io: false });
});

Deno.test("FrameReceiver outcome: counters add up connections as they close", () => {
  const counters = new ReceiverCounters();
  const timeout = classify(new SessionTimeoutError("handshake", 1, "x"));
  const none = { frames: 0, bytes: 0, skippedFrames: 0, oversizedFrames: 0 };
  counters.closed(timeout, false, none); // before START: a handshake failure
  counters.closed(
    classify(new SessionTimeoutError("idle", 1, "x")),
    true,
    { frames: 3, bytes: 30, skippedFrames: 2, oversizedFrames: 1 },
  );
  counters.closed(classify(new Deno.errors.ConnectionReset("x")), false, none);
  counters.closed(CLEAN, false, { ...none, skippedFrames: 1 }); // no failure
  counters.closed(CLEAN, true, none);
  counters.frames += 5; // the queue counts what it takes
  counters.bytes += 50;
  const open = [
    { frames: 1, bytes: 7, skippedFrames: 10, oversizedFrames: 20 },
  ];
  assert.deepEqual(counters.snapshot(open, 1, 3), {
    connectionsOpen: 1,
    connectionsTotal: 0,
    connectionsRejected: 0,
    connectionsRefused: 0,
    frames: 9,
    bytes: 87,
    bufferedFrames: 3,
    handshakeFailures: 2,
    protocolErrors: { "handshake-timeout": 1, "idle-timeout": 1 },
    ioErrors: 1,
    skippedFrames: 13,
    oversizedFrames: 21,
  });
});
