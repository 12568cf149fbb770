/**
 * Decoding one control frame held in memory.
 *
 * @example
 * ```ts
 * import { ControlType, decodeControlFrame, encodeControlFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const frame = decodeControlFrame(encodeControlFrame(ControlType.READY, ["a", "b"]));
 * assert.equal(frame.type, ControlType.READY);
 * assert.equal(frame.contentTypes.length, 2);
 * ```
 *
 * @module
 */
import type { ControlFrame } from "./frame.ts";
import { TruncatedFrameError } from "./errors.ts";
import { TsScanEngine } from "./_engine.ts";
import {
  KIND_DATA,
  KIND_UNKNOWN_CONTROL,
  NEED_CONTROL,
  STATUS_CONTROL_ERROR,
  STATUS_NEED_MORE,
} from "./_scan.ts";
import { controlFrame, controlFrameError, u32 } from "./_control.ts";

/**
 * Decodes exactly one control frame (escape and length included), with
 * every check of the stream decoder: length 4 to 512, fields that fit
 * exactly, CONTENT_TYPE fields only, content types of at most 256 bytes, at
 * most one on START and none on STOP or FINISH. A control type this library
 * does not know is returned with its number and no content types.
 *
 * @param bytes The frame; nothing may follow it.
 * @returns The frame, its content types copied.
 * @throws {ControlFrameError} If the frame is malformed.
 * @throws {TruncatedFrameError} If `bytes` ends inside the frame.
 * @throws {TypeError} If `bytes` is not one control frame.
 *
 * @example
 * ```ts
 * import { ControlFrameError, decodeControlFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * // STOP carrying a content type field
 * const bytes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 65]);
 * assert.throws(() => decodeControlFrame(bytes), ControlFrameError);
 * ```
 */
export function decodeControlFrame(bytes: Uint8Array): ControlFrame {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot decode control frame: expected a Uint8Array, got ${typeof bytes}`,
    );
  }
  const engine = new TsScanEngine();
  const n = engine.scan(bytes, 0, bytes.length, 0xffff_ffff);
  const out = engine.out;
  if (n === 0) {
    if (out[0] === STATUS_CONTROL_ERROR) {
      throw controlFrameError(bytes, 0, 0, out[2]!, out[3]!, out[4]!);
    }
    if (bytes.length === 0) throw new TruncatedFrameError(0, 0, null);
    if (out[0] === STATUS_NEED_MORE) {
      const expected = out[3] === NEED_CONTROL ? 8 + out[2]! : null;
      if (bytes.length < 4 || u32(bytes, 0) === 0) {
        throw new TruncatedFrameError(0, bytes.length, expected);
      }
    }
    throw new TypeError(
      "Cannot decode control frame: the bytes hold no control frame",
    );
  }
  const [at, clen, kind] = engine.table;
  if (kind === KIND_DATA) {
    throw new TypeError(
      "Cannot decode control frame: the bytes hold a data frame",
    );
  }
  if (n > 1 || 8 + clen! !== bytes.length) {
    throw new TypeError(
      `Cannot decode control frame: ${
        bytes.length - 8 - clen!
      } bytes follow the frame`,
    );
  }
  if (kind === KIND_UNKNOWN_CONTROL) {
    return {
      kind: "control",
      type: u32(bytes, 8),
      contentTypes: [],
      offset: 0,
    };
  }
  return controlFrame(bytes, at!, clen!, kind!, 0);
}
