/**
 * The error of the dnstap decoder.
 *
 * @module
 */

/**
 * Bytes that are not a valid dnstap protobuf message: cut short, a bad
 * varint, a wrong wire type for a known field, a group, or a missing required
 * field. A `SyntaxError` carrying the byte offset in the decoded input of the
 * field being read when decoding failed (for a missing required field, the
 * offset of the message's first byte).
 *
 * @example
 * ```ts
 * import { decodeDnstap, DnstapError } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * // Field 1 (identity) announces 5 bytes, only 2 follow.
 * const bytes = new Uint8Array([0x0a, 0x05, 0x61, 0x62]);
 * assert.throws(
 *   () => decodeDnstap(bytes),
 *   (e) => e instanceof DnstapError && e instanceof SyntaxError && e.offset === 0,
 * );
 * ```
 */
export class DnstapError extends SyntaxError {
  /** Byte offset in the input of the field (or message) that failed. */
  readonly offset: number;

  /**
   * Makes the error.
   *
   * @param offset Byte offset of the failing field's tag, or of the message.
   * @param detail What is wrong, appended to "Cannot decode dnstap: ".
   */
  constructor(offset: number, detail: string) {
    super(`Cannot decode dnstap: ${detail} (at byte ${offset})`);
    this.name = "DnstapError";
    this.offset = offset;
  }
}
