/**
 * Typed errors of the Frame Streams codec. Each carries the byte offset in
 * the stream of the frame that caused it. The root re-exports the error
 * classes; import this subpath, `@fstrm/fstrm/errors`, for the types of
 * their `reason` fields (`TruncationReason`, `ControlFrameErrorReason`,
 * `HandshakeErrorReason`, `TimeoutReason`), to switch over them exhaustively.
 *
 * @example Catching an oversized frame
 * ```ts
 * import { decodeFrames, FrameTooLargeError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x00, 0x10, 0x00, 0x00, 1, 2, 3]);
 * assert.throws(
 *   () => decodeFrames(bytes, { maxFrameLength: 1024 }),
 *   (e) => e instanceof FrameTooLargeError && e.offset === 0,
 * );
 * ```
 *
 * @module
 */

/**
 * A data frame is longer than the decoder's `maxFrameLength`.
 *
 * @example
 * ```ts
 * import { FrameTooLargeError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const e = new FrameTooLargeError(12, 5_000_000, 1_048_576);
 * assert.ok(e instanceof RangeError);
 * assert.equal(e.length, 5_000_000);
 * ```
 */
export class FrameTooLargeError extends RangeError {
  /** Byte offset of the frame's length word in the stream. */
  readonly offset: number;
  /** The frame's payload length as it was announced. */
  readonly length: number;
  /** The limit it exceeded. */
  readonly maxFrameLength: number;

  /**
   * Makes the error.
   *
   * @param offset Byte offset of the frame's length word.
   * @param length The announced payload length.
   * @param maxFrameLength The limit in force.
   * @param hint Optional words on what the bytes look like instead.
   */
  constructor(
    offset: number,
    length: number,
    maxFrameLength: number,
    hint?: string,
  ) {
    super(
      `Cannot decode frame: data frame at byte ${offset} is ${length} bytes, limit ${maxFrameLength}` +
        (hint ? ` (${hint})` : ""),
    );
    this.name = "FrameTooLargeError";
    this.offset = offset;
    this.length = length;
    this.maxFrameLength = maxFrameLength;
  }
}

/**
 * Why input ended too early: inside a frame, or (strict mode only) at a
 * frame boundary before any STOP frame.
 *
 * @example
 * ```ts
 * import type { TruncationReason } from "@fstrm/fstrm/errors";
 *
 * const reason: TruncationReason = "frame";
 * console.log(reason);
 * ```
 */
export type TruncationReason = "frame" | "missing-stop";

/**
 * The input ended inside a frame (or, in strict mode, without a STOP frame).
 * Every complete frame before it has been delivered.
 *
 * @example
 * ```ts
 * import { decodeFrames, TruncatedFrameError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * // a 5-byte frame of which 2 bytes arrived
 * const bytes = new Uint8Array([0, 0, 0, 5, 104, 101]);
 * assert.throws(() => decodeFrames(bytes), TruncatedFrameError);
 * ```
 */
export class TruncatedFrameError extends RangeError {
  /** Byte offset where the unfinished frame starts (or where input ended). */
  readonly offset: number;
  /** What was cut short. */
  readonly reason: TruncationReason;
  /** Bytes of the frame that arrived. */
  readonly received: number;
  /** Bytes the whole frame needs (length words included), or `null` if its header was cut. */
  readonly expected: number | null;

  /**
   * Makes the error.
   *
   * @param offset Byte offset where the unfinished frame starts.
   * @param received Bytes of the frame that arrived.
   * @param expected Bytes the whole frame needs, or `null` if unknown.
   * @param reason What was cut short.
   */
  constructor(
    offset: number,
    received: number,
    expected: number | null,
    reason: TruncationReason = "frame",
  ) {
    super(
      reason === "missing-stop"
        ? `Cannot decode stream: input ended at byte ${offset} without a STOP frame`
        : `Cannot decode frame: input ended inside the frame at byte ${offset} after ${received} of ${
          expected ?? "at least " + (received + 1)
        } bytes`,
    );
    this.name = "TruncatedFrameError";
    this.offset = offset;
    this.reason = reason;
    this.received = received;
    this.expected = expected;
  }
}

/**
 * Why a control frame was rejected.
 *
 * - `"length"`: its length (`clen`) is under 4 or over 512.
 * - `"field-header"`: fewer than 8 bytes remain for a field's type and length.
 * - `"field-length"`: a field's length runs past the end of the frame.
 * - `"field-type"`: a field type other than CONTENT_TYPE.
 * - `"content-type-length"`: a content type over 256 bytes.
 * - `"content-type-count"`: START with more than one content type, or STOP
 *   or FINISH with any.
 * - `"unknown-type"`: an unknown control type (strict mode only; otherwise
 *   skipped and counted).
 *
 * @example
 * ```ts
 * import type { ControlFrameErrorReason } from "@fstrm/fstrm/errors";
 *
 * const reason: ControlFrameErrorReason = "field-type";
 * console.log(reason);
 * ```
 */
export type ControlFrameErrorReason =
  | "length"
  | "field-header"
  | "field-length"
  | "field-type"
  | "content-type-length"
  | "content-type-count"
  | "unknown-type";

/**
 * A control frame is malformed.
 *
 * @example
 * ```ts
 * import { ControlFrameError, decodeFrames } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * // escape, clen = 3: too short to hold a control type
 * const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0]);
 * assert.throws(
 *   () => decodeFrames(bytes),
 *   (e) => e instanceof ControlFrameError && e.reason === "length",
 * );
 * ```
 */
export class ControlFrameError extends SyntaxError {
  /** Byte offset of the frame's escape word in the stream. */
  readonly offset: number;
  /** Byte offset of the offending word in the stream. */
  readonly errorOffset: number;
  /** What is wrong with it. */
  readonly reason: ControlFrameErrorReason;

  /**
   * Makes the error.
   *
   * @param offset Byte offset of the frame's escape word.
   * @param errorOffset Byte offset of the offending word.
   * @param reason What is wrong.
   * @param detail The message's tail, after "Cannot decode control frame: ".
   */
  constructor(
    offset: number,
    errorOffset: number,
    reason: ControlFrameErrorReason,
    detail: string,
  ) {
    super(
      `Cannot decode control frame at byte ${offset}: ${detail} (at byte ${errorOffset})`,
    );
    this.name = "ControlFrameError";
    this.offset = offset;
    this.errorOffset = errorOffset;
    this.reason = reason;
  }
}

/**
 * A well-formed frame out of place, reported in strict mode only: a data
 * frame before START, a known control frame where the protocol does not
 * allow it (START, READY, ACCEPT or FINISH inside a stream, STOP outside one).
 *
 * @example
 * ```ts
 * import { decodeFrames, encodeDataFrame, UnexpectedFrameError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => decodeFrames(encodeDataFrame("x"), { strict: true }),
 *   UnexpectedFrameError,
 * );
 * ```
 */
export class UnexpectedFrameError extends SyntaxError {
  /** Byte offset of the frame in the stream. */
  readonly offset: number;
  /** The control type of the frame, or `0` for a data frame. */
  readonly frameType: number;

  /**
   * Makes the error.
   *
   * @param offset Byte offset of the frame.
   * @param frameType The control type, or `0` for a data frame.
   * @param detail Where it was found.
   */
  constructor(offset: number, frameType: number, detail: string) {
    super(`Cannot decode frame at byte ${offset}: ${detail}`);
    this.name = "UnexpectedFrameError";
    this.offset = offset;
    this.frameType = frameType;
  }
}

/**
 * Why a handshake failed.
 *
 * - `"no-common-content-type"`: the peer offers none of our content types.
 * - `"content-type-mismatch"`: START names a content type we did not accept.
 * - `"unexpected-frame"`: a frame the handshake does not allow at this point
 *   (for instance a data frame before START).
 * - `"closed"`: the peer ended its input before the handshake was over (for
 *   instance after READY, before START).
 *
 * @example
 * ```ts
 * import type { HandshakeErrorReason } from "@fstrm/fstrm/errors";
 *
 * const reason: HandshakeErrorReason = "no-common-content-type";
 * console.log(reason);
 * ```
 */
export type HandshakeErrorReason =
  | "no-common-content-type"
  | "content-type-mismatch"
  | "unexpected-frame"
  | "closed";

/**
 * The control handshake (READY, ACCEPT, START, STOP, FINISH) failed.
 *
 * @example
 * ```ts
 * import { HandshakeError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const e = new HandshakeError("unexpected-frame", "data frame before START");
 * assert.equal(e.reason, "unexpected-frame");
 * ```
 */
export class HandshakeError extends Error {
  /** Why it failed. */
  readonly reason: HandshakeErrorReason;

  /**
   * Makes the error.
   *
   * @param reason Why it failed.
   * @param detail The message's tail, after "Handshake failed: ".
   */
  constructor(reason: HandshakeErrorReason, detail: string) {
    super(`Handshake failed: ${detail}`);
    this.name = "HandshakeError";
    this.reason = reason;
  }
}

/**
 * Which deadline of a session passed: `"handshake"` (READY or START did not
 * come, or ACCEPT did not), `"idle"` (no byte within the idle timeout of a
 * started stream), `"finish"` (no FINISH after our STOP).
 *
 * @example
 * ```ts
 * import type { TimeoutReason } from "@fstrm/fstrm/errors";
 *
 * const reason: TimeoutReason = "idle";
 * console.log(reason);
 * ```
 */
export type TimeoutReason = "handshake" | "idle" | "finish";

/**
 * A session's deadline passed: the peer was too slow in the handshake, idle
 * too long, or never sent FINISH.
 *
 * @example
 * ```ts
 * import { SessionTimeoutError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const e = new SessionTimeoutError("handshake", 5_000, "no READY or START within 5000 ms");
 * assert.equal(e.reason, "handshake");
 * assert.equal(e.timeout, 5_000);
 * ```
 */
export class SessionTimeoutError extends Error {
  /** Which deadline passed. */
  readonly reason: TimeoutReason;
  /** The timeout in force, in milliseconds. */
  readonly timeout: number;

  /**
   * Makes the error.
   *
   * @param reason Which deadline passed.
   * @param timeout The timeout in force, in milliseconds.
   * @param detail The message's tail, after "Timed out: ".
   */
  constructor(reason: TimeoutReason, timeout: number, detail: string) {
    super(`Timed out: ${detail}`);
    this.name = "SessionTimeoutError";
    this.reason = reason;
    this.timeout = timeout;
  }
}

/**
 * The input is not Frame Streams at all: its first bytes are neither a
 * control frame nor a plausible data frame (a text file, a TLS handshake on
 * a plain port, dnsdist's protobuf logger with 2-byte lengths).
 *
 * @example
 * ```ts
 * import { NotFrameStreamsError } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const e = new NotFrameStreamsError(0, "the first bytes are text: \"hello wo\"");
 * assert.ok(e instanceof SyntaxError);
 * assert.equal(e.offset, 0);
 * ```
 */
export class NotFrameStreamsError extends SyntaxError {
  /** Byte offset in the stream where the foreign bytes begin. */
  readonly offset: number;

  /**
   * Makes the error.
   *
   * @param offset Byte offset where the foreign bytes begin.
   * @param detail What the bytes look like.
   */
  constructor(offset: number, detail: string) {
    super(
      `Cannot decode frame at byte ${offset}: not Frame Streams (${detail})`,
    );
    this.name = "NotFrameStreamsError";
    this.offset = offset;
  }
}
