// Private: what a scan's status means, in one place for every decoding path
// (FrameDecoder over chunks, FrameReader over windows). The scanner (either
// engine) reports where it stopped and why (see _scan.ts); this module turns
// that into the size of a frame still to come, or into the error to throw.
import { FrameTooLargeError, NotFrameStreamsError } from "./errors.ts";
import { describeForeignBytes } from "./_bytes.ts";
import { controlFrameError } from "./_control.ts";
import {
  NEED_DATA,
  NEED_HEADER,
  STATUS_CONTROL_ERROR,
  STATUS_TOO_LARGE,
} from "./_scan.ts";

/**
 * The whole size (header included) of the frame a scan stopped at with
 * STATUS_NEED_MORE, from its out words: `value` (out[2]) and `what` (out[3]).
 * For NEED_HEADER it is the header size the scanner needs (4 or 8).
 */
export function frameSize(value: number, what: number): number {
  return what === NEED_HEADER ? value : (what === NEED_DATA ? 4 : 8) + value;
}

/**
 * The error for a data frame over the limit at window offset `at` (stream
 * offset `base + at`), announcing `length` bytes.
 *
 * It is a {@linkcode NotFrameStreamsError} when the input is not Frame
 * Streams at all: the frame is the first of the stream (offset 0) and its
 * first bytes look like something else (`describeForeignBytes`: text, HTTP,
 * TLS, a 2-byte length and protobuf). Otherwise a
 * {@linkcode FrameTooLargeError}, with the same hint where the bytes have one.
 * It depends on the first 4 bytes only, which the scanner had in hand, so
 * every engine and every chunking gives the same error.
 */
export function oversizeError(
  window: Uint8Array,
  base: number,
  at: number,
  length: number,
  maxFrameLength: number,
): FrameTooLargeError | NotFrameStreamsError {
  const offset = base + at;
  const hint = describeForeignBytes(window.subarray(at, at + 4));
  if (offset === 0 && hint !== undefined) {
    // The error says "not Frame Streams" already.
    const what = hint.replace(/(, not|: that is not) Frame Streams$/, "");
    return new NotFrameStreamsError(
      0,
      `${what}${
        what.endsWith("?") ? " Its" : "; its"
      } first word announces a data frame of ${length} bytes, limit ${maxFrameLength}`,
    );
  }
  return new FrameTooLargeError(offset, length, maxFrameLength, hint);
}

/**
 * Acts on a scan that stopped at a frame it cannot take, at window offset
 * `stop` (out[1]); `value`, `reason`, `errorAt` are out[2], out[3], out[4].
 *
 * STATUS_TOO_LARGE under `oversize: "skip"` returns the frame's whole size
 * (4 + its length): the caller discards that many bytes and counts it.
 * Anything else throws: the oversize error (see {@linkcode oversizeError};
 * a stream that is not Frame Streams is never skipped), the control frame's
 * error, or an Error for a status the scanner never gives.
 */
export function scanFault(
  status: number,
  window: Uint8Array,
  base: number,
  stop: number,
  value: number,
  reason: number,
  errorAt: number,
  maxFrameLength: number,
  skipOversize: boolean,
): number {
  if (status === STATUS_TOO_LARGE) {
    const error = oversizeError(window, base, stop, value, maxFrameLength);
    if (!skipOversize || error instanceof NotFrameStreamsError) throw error;
    return 4 + value;
  }
  if (status === STATUS_CONTROL_ERROR) {
    throw controlFrameError(window, base, stop, value, reason, errorAt);
  }
  throw new Error(`Cannot decode frame: unknown scanner status ${status}`);
}
