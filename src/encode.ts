/**
 * Encoding data frames, control frames and whole unidirectional streams.
 *
 * @example Encoding a one-frame dnstap stream
 * ```ts
 * import { encodeFrameStream, DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["hello"], { contentType: DNSTAP_CONTENT_TYPE });
 * // START (42) + data (9) + STOP (12)
 * assert.equal(bytes.length, 42 + 9 + 12);
 * ```
 *
 * @module
 */
import {
  ControlType,
  FieldType,
  MAX_CONTROL_FRAME_LENGTH,
  MAX_FRAME_LENGTH,
} from "./constants.ts";
import type { ContentTypeInput } from "./frame.ts";
import { toContentTypeBytes, toPayloadBytes } from "./_bytes.ts";
import type { EncodeOptions } from "./options.ts";

/**
 * Encodes one data frame: a 4-byte big-endian length, then the payload
 * (copied). Strings are encoded as UTF-8.
 *
 * @param payload The frame's payload; must not be empty.
 * @returns A new buffer holding the frame.
 * @throws {RangeError} If the payload is empty (a zero length is the control
 * frame escape) or longer than 2^32 - 1 bytes.
 *
 * @example
 * ```ts
 * import { encodeDataFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   [...encodeDataFrame("hello")],
 *   [0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f],
 * );
 * assert.throws(() => encodeDataFrame(new Uint8Array(0)), RangeError);
 * ```
 */
export function encodeDataFrame(payload: string | Uint8Array): Uint8Array {
  const bytes = toPayloadBytes(payload);
  checkPayloadLength(bytes.length);
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/**
 * Throws the encoder's `RangeError` unless `length` is a legal data frame
 * payload length.
 */
function checkPayloadLength(length: number): void {
  if (length === 0) {
    throw new RangeError(
      "Cannot encode data frame: the payload is empty, and a zero length is the control frame escape",
    );
  }
  if (length > MAX_FRAME_LENGTH) {
    throw new RangeError(
      `Cannot encode data frame: the payload is ${length} bytes, limit ${MAX_FRAME_LENGTH}`,
    );
  }
}

/**
 * Encodes one control frame: the escape (4 zero bytes), its length, its
 * type, and one CONTENT_TYPE field per content type given.
 *
 * @param type The control type, usually one of {@linkcode ControlType}.
 * @param contentTypes The content types, as strings (UTF-8) or bytes; at most
 * 256 bytes each. START takes at most one, STOP and FINISH none.
 * @returns A new buffer holding the frame.
 * @throws {TypeError} If `type` is not a 32-bit unsigned integer.
 * @throws {RangeError} If a content type is over 256 bytes, the frame would be
 * over 512 bytes, or the control type does not allow that many content types.
 *
 * @example
 * ```ts
 * import { ControlType, encodeControlFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const finish = encodeControlFrame(ControlType.FINISH);
 * assert.deepEqual([...finish], [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5]);
 *
 * const ready = encodeControlFrame(ControlType.READY, ["a", "b"]);
 * assert.equal(ready.length, 12 + 2 * (8 + 1));
 * ```
 */
export function encodeControlFrame(
  type: number,
  contentTypes: readonly ContentTypeInput[] = [],
): Uint8Array {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff_ffff) {
    throw new TypeError(
      `Cannot encode control frame: the type must be a 32-bit unsigned integer, got ${type}`,
    );
  }
  if (!Array.isArray(contentTypes)) {
    throw new TypeError(
      "Cannot encode control frame: content types must be an array",
    );
  }
  const max = type === ControlType.START
    ? 1
    : type === ControlType.STOP || type === ControlType.FINISH
    ? 0
    : Infinity;
  if (contentTypes.length > max) {
    throw new RangeError(
      `Cannot encode control frame: type ${type} takes at most ${max} content type(s), got ${contentTypes.length}`,
    );
  }
  const fields = contentTypes.map(toContentTypeBytes);
  let clen = 4;
  for (const f of fields) clen += 8 + f.length;
  if (clen > MAX_CONTROL_FRAME_LENGTH) {
    throw new RangeError(
      `Cannot encode control frame: it would be ${clen} bytes, limit ${MAX_CONTROL_FRAME_LENGTH}`,
    );
  }
  const out = new Uint8Array(8 + clen);
  const view = new DataView(out.buffer);
  view.setUint32(4, clen);
  view.setUint32(8, type);
  let p = 12;
  for (const f of fields) {
    view.setUint32(p, FieldType.CONTENT_TYPE);
    view.setUint32(p + 4, f.length);
    out.set(f, p + 8);
    p += 8 + f.length;
  }
  return out;
}

/**
 * Encodes a whole unidirectional stream, as a Frame Streams file holds it:
 * START, one data frame per payload, STOP.
 *
 * @param payloads The payloads, in order; none may be empty.
 * @param options The content type of the START frame.
 * @returns A new buffer holding the stream.
 *
 * @example
 * ```ts
 * import { decodeFrames, encodeFrameStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["a", "b"], { contentType: "test" });
 * const kinds = decodeFrames(bytes).map((f) => f.kind);
 * assert.deepEqual(kinds, ["control", "data", "data", "control"]);
 * ```
 */
export function encodeFrameStream(
  payloads: Iterable<string | Uint8Array>,
  options: EncodeOptions = {},
): Uint8Array {
  const { contentType = null } = options;
  const start = encodeControlFrame(
    ControlType.START,
    contentType === null ? [] : [contentType],
  );
  const stop = encodeControlFrame(ControlType.STOP);
  const parts: Uint8Array[] = [];
  let total = start.length + stop.length;
  for (const payload of payloads) {
    const bytes = toPayloadBytes(payload);
    checkPayloadLength(bytes.length);
    parts.push(bytes);
    total += 4 + bytes.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(start, 0);
  let p = start.length;
  for (const bytes of parts) {
    view.setUint32(p, bytes.length);
    out.set(bytes, p + 4);
    p += 4 + bytes.length;
  }
  out.set(stop, p);
  return out;
}
