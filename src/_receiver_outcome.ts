// Private: why a FrameReceiver's connection ended (a protocol error of some
// kind, an I/O error, or a clean end), and the counters that add it up.
import {
  ControlFrameError,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  SessionTimeoutError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "./errors.ts";
import type { ReceiverStats } from "./_receiver_types.ts";

/** Why a connection's task ended. */
export interface Outcome {
  /** The error the "closed" event reports, or null. */
  error: Error | null;
  /** The protocol error's kind (a key of `protocolErrors`), or null. */
  kind: string | null;
  /** Whether it was an I/O error. */
  io: boolean;
}

/** A clean end, or a connection closed under us with no reason recorded. */
export const CLEAN: Outcome = Object.freeze({
  error: null,
  kind: null,
  io: false,
});

/** The outcome of an error that ends a connection. */
export function classify(error: unknown): Outcome {
  const e = error instanceof Error ? error : new Error(String(error));
  if (error instanceof HandshakeError) {
    // Input ended after READY, before START: its own kind, as before.
    const kind = error.reason === "closed"
      ? "handshake-eof"
      : `handshake:${error.reason}`;
    return { error: e, kind, io: false };
  }
  if (error instanceof SessionTimeoutError) {
    return { error: e, kind: `${error.reason}-timeout`, io: false };
  }
  if (error instanceof ControlFrameError) {
    return { error: e, kind: `control-frame:${error.reason}`, io: false };
  }
  if (error instanceof TruncatedFrameError) {
    return { error: e, kind: "truncated", io: false };
  }
  if (error instanceof FrameTooLargeError) {
    return { error: e, kind: "frame-too-large", io: false };
  }
  if (error instanceof UnexpectedFrameError) {
    return { error: e, kind: "unexpected-frame", io: false };
  }
  if (error instanceof NotFrameStreamsError) {
    return { error: e, kind: "not-frame-streams", io: false };
  }
  return { error: e, kind: null, io: true };
}

/** What an open connection counts itself, added up when it closes. */
export interface ConnectionCounts {
  /** Frames handed to onData or onRun. */
  readonly frames: number;
  /** Their payload bytes. */
  readonly bytes: number;
  /** Control frames of unknown type skipped. */
  readonly skippedFrames: number;
  /** Oversized data frames skipped. */
  readonly oversizedFrames: number;
}

/** A receiver's counters, as `stats` reports them. */
export class ReceiverCounters {
  connectionsTotal = 0;
  connectionsRejected = 0;
  connectionsRefused = 0;
  frames = 0;
  bytes = 0;
  handshakeFailures = 0;
  protocolErrors: Record<string, number> = {};
  ioErrors = 0;
  /** Of connections closed; open ones add theirs in `snapshot`. */
  skippedFrames = 0;
  oversizedFrames = 0;

  /** Adds up a connection that ended (and its own counters). */
  closed(outcome: Outcome, started: boolean, c: ConnectionCounts): void {
    this.frames += c.frames;
    this.bytes += c.bytes;
    this.skippedFrames += c.skippedFrames;
    this.oversizedFrames += c.oversizedFrames;
    if (!started && (outcome.kind !== null || outcome.io)) {
      this.handshakeFailures++;
    }
    if (outcome.kind !== null) {
      this.protocolErrors[outcome.kind] =
        (this.protocolErrors[outcome.kind] ?? 0) + 1;
    }
    if (outcome.io) this.ioErrors++;
  }

  /** The counters now, given what the open connections add. */
  snapshot(
    open: Iterable<ConnectionCounts>,
    connectionsOpen: number,
    bufferedFrames: number,
  ): ReceiverStats {
    let frames = this.frames;
    let bytes = this.bytes;
    let skipped = this.skippedFrames;
    let oversized = this.oversizedFrames;
    for (const c of open) {
      frames += c.frames;
      bytes += c.bytes;
      skipped += c.skippedFrames;
      oversized += c.oversizedFrames;
    }
    return {
      connectionsOpen,
      connectionsTotal: this.connectionsTotal,
      connectionsRejected: this.connectionsRejected,
      connectionsRefused: this.connectionsRefused,
      frames,
      bytes,
      bufferedFrames,
      handshakeFailures: this.handshakeFailures,
      protocolErrors: { ...this.protocolErrors },
      ioErrors: this.ioErrors,
      skippedFrames: skipped,
      oversizedFrames: oversized,
    };
  }
}
