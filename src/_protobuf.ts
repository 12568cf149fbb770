/**
 * Protobuf wire format, the part dnstap needs: varints, fixed32 and
 * length-delimited fields, read from and written to byte arrays, and the
 * skipping of unknown fields (wire types 0, 1, 2 and 5; groups, wire types 3
 * and 4, are rejected, as are 6 and 7). Errors are {@linkcode DnstapError}s.
 *
 * @module
 */
import { DnstapError } from "./_dnstap_error.ts";

/** Wire type of varint fields. */
export const VARINT = 0;
/** Wire type of fixed64 fields. */
export const FIXED64 = 1;
/** Wire type of length-delimited fields. */
export const LEN = 2;
/** Wire type of fixed32 fields. */
export const FIXED32 = 5;

const WIRE_NAMES = [
  "varint",
  "fixed64",
  "length-delimited",
  "group start",
  "group end",
  "fixed32",
  "wire type 6",
  "wire type 7",
];

/** The name of a wire type, for messages. */
export function wireName(wire: number): string {
  return WIRE_NAMES[wire] ?? `wire type ${wire}`;
}

/**
 * A cursor over one message's bytes. `pos` moves as fields are read; `field`
 * is the offset of the tag of the field being read, the offset errors carry.
 */
export class ProtoReader {
  /** The whole input. */
  readonly bytes: Uint8Array;
  /** Next byte to read. */
  pos: number;
  /** End of the current message (exclusive). */
  end: number;
  /** Offset of the tag of the field being read. */
  field: number;

  /** A reader over `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    this.field = start;
  }

  /** Throws a {@linkcode DnstapError} at the current field. */
  fail(detail: string): never {
    throw new DnstapError(this.field, detail);
  }

  /**
   * Reads a varint (at most 10 bytes): a number when it is at most
   * `Number.MAX_SAFE_INTEGER`, else a bigint.
   */
  varint(what: string): number | bigint {
    const b = this.bytes;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) this.fail(`${what} is cut short`);
      const byte = b[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    // Bytes 8 to 10: exact arithmetic in bigint.
    let big = BigInt(value);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (pos >= end) this.fail(`${what} is cut short`);
      const byte = b[pos++]!;
      if (i === 9 && byte > 1) this.fail(`${what} is a varint over 64 bits`);
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      shift += 7n;
    }
    return this.fail(`${what} is a varint over 64 bits`);
  }

  /** Reads a little-endian fixed32 as an unsigned number. */
  fixed32(what: string): number {
    const pos = this.pos;
    if (this.end - pos < 4) this.fail(`${what} is cut short`);
    const b = this.bytes;
    this.pos = pos + 4;
    return (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) |
      (b[pos + 3]! << 24)) >>> 0;
  }

  /**
   * Reads a length prefix and returns the start of the payload; `pos` moves
   * past the payload.
   */
  length(what: string): number {
    const n = this.varint(`${what}'s length`);
    const start = this.pos;
    if (typeof n === "bigint" || n > this.end - start) {
      this.fail(
        `${what} announces ${n} bytes, ${this.end - start} remain`,
      );
    }
    this.pos = start + n;
    return start;
  }

  /**
   * Reads a tag: returns `field number * 8 + wire type`, or -1 at the end of
   * the message. Sets `field` to the tag's offset.
   */
  tag(): number {
    this.field = this.pos;
    if (this.pos >= this.end) return -1;
    const t = this.varint("a field tag");
    if (typeof t === "bigint" || t > 0xffffffff) {
      this.fail("a field tag is over 32 bits");
    }
    if (t < 8) this.fail("field number 0 is not allowed");
    return t;
  }

  /** Skips the value of an unknown field of wire type `wire`. */
  skip(number: number, wire: number): void {
    const what = `unknown field ${number}`;
    switch (wire) {
      case VARINT:
        this.varint(what);
        return;
      case FIXED64:
        if (this.end - this.pos < 8) this.fail(`${what} is cut short`);
        this.pos += 8;
        return;
      case LEN:
        this.length(what);
        return;
      case FIXED32:
        this.fixed32(what);
        return;
      default:
        this.fail(`${what} has ${wireName(wire)}, which is not supported`);
    }
  }
}

/** Converts a decoded varint to an int32 as protobuf does (low 32 bits). */
export function toInt32(v: number | bigint): number {
  return typeof v === "bigint" ? Number(BigInt.asIntN(32, v)) : v | 0;
}

/** Converts a decoded varint to a uint32 as protobuf does (low 32 bits). */
export function toUint32(v: number | bigint): number {
  return typeof v === "bigint" ? Number(BigInt.asUintN(32, v)) : v >>> 0;
}

/** A growable output buffer for protobuf fields. */
export class ProtoWriter {
  #buf: Uint8Array = new Uint8Array(256);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Writes an unsigned varint (number up to 2^53 or bigint up to 2^64). */
  varint(v: number | bigint): void {
    this.#room(10);
    const b = this.#buf;
    let pos = this.#len;
    if (typeof v === "number") {
      // Above 2^31 the bit operators would wrap: divide instead.
      while (v >= 0x80000000) {
        b[pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      while (v >= 0x80) {
        b[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      b[pos++] = v;
    } else {
      let big = v;
      while (big >= 0x80n) {
        b[pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      b[pos++] = Number(big);
    }
    this.#len = pos;
  }

  /**
   * Starts a length-delimited field whose length is not known yet: reserves
   * one byte for it and returns a mark for {@linkcode ProtoWriter.end}.
   */
  begin(): number {
    this.#room(1);
    return this.#len++;
  }

  /**
   * Ends the field started at `mark`: writes its length there, moving the
   * payload when the length takes more than one byte.
   */
  end(mark: number): void {
    const length = this.#len - mark - 1;
    if (length < 0x80) {
      this.#buf[mark] = length;
      return;
    }
    let size = 1;
    for (let n = length; n >= 0x80; n >>>= 7) size++;
    this.#room(size - 1);
    this.#buf.copyWithin(mark + size, mark + 1, this.#len);
    const end = this.#len + size - 1;
    this.#len = mark;
    this.varint(length);
    this.#len = end;
  }

  /** Writes a tag. */
  tag(number: number, wire: number): void {
    this.varint(number * 8 + wire);
  }

  /** Writes an int32 as protobuf does: negatives as 10-byte varints. */
  int32(v: number): void {
    this.varint(v >= 0 ? v : BigInt.asUintN(64, BigInt(v)));
  }

  /** Writes a little-endian fixed32. */
  fixed32(v: number): void {
    this.#room(4);
    const b = this.#buf;
    const pos = this.#len;
    b[pos] = v & 0xff;
    b[pos + 1] = (v >>> 8) & 0xff;
    b[pos + 2] = (v >>> 16) & 0xff;
    b[pos + 3] = (v >>> 24) & 0xff;
    this.#len = pos + 4;
  }

  /** Writes a length prefix and the bytes. */
  bytes(v: Uint8Array): void {
    this.varint(v.length);
    this.#room(v.length);
    this.#buf.set(v, this.#len);
    this.#len += v.length;
  }

  /** Forgets what was written, keeping the buffer (unless it grew large). */
  reset(): void {
    this.#len = 0;
    if (this.#buf.length > 65536) this.#buf = new Uint8Array(256);
  }

  /** The bytes written so far, copied. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
