// Private: buffered, synchronous output for `fstrm dump`. Nothing is
// written per frame: text is formatted straight into a buffer, written when
// the buffer fills, when the reader has consumed a window, and at the end.
import {
  BASE64_DIGITS,
  DUMP_WIDTH,
  DUMP_WORD,
  HEX_WORD,
} from "./_dump_format.ts";
import { writeU32 } from "../_wire.ts";

/** A raw byte held in text (goUtf8's lone surrogates U+DC80 to U+DCFF). */
const RAW_BYTE_MARK = /[\udc80-\udcff]/gu;

/** Where an {@linkcode OutputBuffer} writes: stdout, stderr, a file. */
export interface SyncWriter {
  /** Writes some of `p`; returns how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

const DEFAULT_SIZE = 1 << 20;

/**
 * A byte buffer in front of a {@linkcode SyncWriter}. Every method that adds
 * bytes makes room first (writing the buffer out when it is full), so the
 * caller never checks capacity. Write errors (such as `BrokenPipe`) are
 * thrown from the method that flushed.
 */
export class OutputBuffer {
  #target: SyncWriter;
  #buf: Uint8Array;
  /** A view of `#buf` for word stores; `#buf` has 4 bytes of slack for them. */
  #view: DataView;
  #pos = 0;
  #size: number;
  #scratch = new Uint8Array(24);
  #encoder = new TextEncoder();

  /**
   * Makes a buffer in front of `target`.
   *
   * @param target Where the bytes go.
   * @param size The buffer's size in bytes (at least 64).
   */
  constructor(target: SyncWriter, size: number = DEFAULT_SIZE) {
    this.#target = target;
    this.#size = Math.max(64, size);
    this.#buf = new Uint8Array(this.#size + 4);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Writes out what the buffer holds. */
  flush(): void {
    let p = 0;
    const end = this.#pos;
    const buf = this.#buf;
    // Reset first: if the target throws, what was buffered is dropped, not
    // written twice by a later flush.
    this.#pos = 0;
    while (p < end) p += this.#target.writeSync(buf.subarray(p, end));
  }

  /**
   * Makes room for `n` bytes: writes the buffer out when they do not fit,
   * and grows it when `n` is more than its size (so a caller that writes in
   * place never writes past its end: a typed array drops such bytes
   * silently).
   */
  #room(n: number): void {
    if (this.#pos + n > this.#size) {
      this.flush();
      if (n > this.#size) {
        this.#size = n;
        this.#buf = new Uint8Array(n + 4);
        this.#view = new DataView(this.#buf.buffer);
      }
    }
  }

  /**
   * Adds a string as the Go tool writes its text: UTF-8, except each lone
   * surrogate U+DC80 to U+DCFF (a byte that was not UTF-8, held so by
   * `goUtf8`), which is written as that raw byte.
   */
  goText(text: string): void {
    let last = 0;
    for (const m of text.matchAll(RAW_BYTE_MARK)) {
      this.text(text.slice(last, m.index));
      this.byte(text.charCodeAt(m.index) & 0xff);
      last = m.index + 1;
    }
    this.text(text.slice(last));
  }

  /** Adds a string, as UTF-8 (ASCII, the usual case, is copied directly). */
  text(text: string): void {
    const n = text.length;
    if (n > this.#size >> 2) {
      const bytes = new TextEncoder().encode(text);
      this.raw(bytes, 0, bytes.length);
      return;
    }
    if (n >= 64) {
      // Long text (a record of dnstap's YAML, say): the native encoder is
      // faster than the loop below, and a rope need not be flattened first.
      this.#room(3 * n);
      this.#pos += this.#encoder.encodeInto(
        text,
        this.#buf.subarray(this.#pos, this.#size),
      ).written;
      return;
    }
    this.#room(n);
    const buf = this.#buf;
    let p = this.#pos;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        // Not ASCII: encode the rest (at most 3 bytes per UTF-16 unit).
        this.#pos = p;
        this.#room(3 * (n - i));
        const { written } = new TextEncoder().encodeInto(
          text.slice(i),
          this.#buf.subarray(this.#pos),
        );
        this.#pos += written;
        return;
      }
      buf[p++] = c;
    }
    this.#pos = p;
  }

  /**
   * Makes room for `n` bytes and returns the buffer itself, for a caller
   * that writes bytes in place: from
   * {@linkcode OutputBuffer.prototype.position}, then sets it past them.
   * The buffer grows when `n` is more than its size, so the array returned
   * may be a new one: use it, not one returned before.
   */
  reserve(n: number): Uint8Array {
    this.#room(n);
    return this.#buf;
  }

  /** Where the next byte goes in the buffer {@linkcode reserve} returns. */
  get position(): number {
    return this.#pos;
  }

  /**
   * Moves past bytes written in place (after {@linkcode reserve}).
   *
   * @throws {RangeError} Past the end of the buffer: bytes were written
   * where there was no room for them (more than `reserve` asked), and are
   * lost.
   */
  set position(pos: number) {
    if (pos > this.#size) {
      throw new RangeError(
        `Cannot move past the output buffer's end: position ${pos}, size ${this.#size}`,
      );
    }
    this.#pos = pos;
  }

  /** Adds one byte. */
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = b;
  }

  /** Adds a non-negative integer in decimal. */
  decimal(n: number): void {
    const s = this.#scratch;
    let i = s.length;
    do {
      const q = Math.floor(n / 10);
      s[--i] = 48 + (n - q * 10);
      n = q;
    } while (n > 0);
    this.raw(s, i, s.length - i);
  }

  /** Adds `src[offset, offset + length)` as it is. */
  raw(src: Uint8Array, offset: number, length: number): void {
    if (length > this.#size >> 1) {
      // Large: no point copying it through the buffer.
      this.flush();
      let p = offset;
      const end = offset + length;
      while (p < end) p += this.#target.writeSync(src.subarray(p, end));
      return;
    }
    this.#room(length);
    this.#buf.set(src.subarray(offset, offset + length), this.#pos);
    this.#pos += length;
  }

  /** Adds a data frame's header: its payload length, a big-endian u32. */
  dataFrameHeader(length: number): void {
    this.#room(4);
    writeU32(this.#buf, this.#pos, length);
    this.#pos += 4;
  }

  /**
   * Adds `src[offset, offset + length)` as fstrm_dump prints bytes between
   * its quotes (see `_dump_format.ts`); the quotes are the caller's.
   */
  escaped(src: Uint8Array, offset: number, length: number): void {
    const chunk = this.#size >> 2; // the most a chunk can grow is 4 times
    let i = offset;
    const end = offset + length;
    while (i < end) {
      const stop = Math.min(end, i + chunk);
      this.#room(4 * (stop - i));
      const view = this.#view;
      let p = this.#pos;
      // One 32-bit store per byte, whatever its width: measured twice as
      // fast as storing its 1, 2 or 4 bytes one by one.
      for (; i < stop; i++) {
        const b = src[i]!;
        view.setUint32(p, DUMP_WORD[b]!, true);
        p += DUMP_WIDTH[b]!;
      }
      this.#pos = p;
    }
  }

  /** Adds `src[offset, offset + length)` as lowercase hex. */
  hex(src: Uint8Array, offset: number, length: number): void {
    const chunk = this.#size >> 1;
    let i = offset;
    const end = offset + length;
    while (i < end) {
      const stop = Math.min(end, i + chunk);
      this.#room(2 * (stop - i));
      const view = this.#view;
      let p = this.#pos;
      for (; i < stop; i++, p += 2) view.setUint16(p, HEX_WORD[src[i]!]!, true);
      this.#pos = p;
    }
  }

  /** Adds `src[offset, offset + length)` as standard padded base64. */
  base64(src: Uint8Array, offset: number, length: number): void {
    // Whole 3-byte groups chunk by chunk, then the tail with padding.
    const groupsPerChunk = Math.floor(this.#size / 4);
    const digits = BASE64_DIGITS;
    let i = offset;
    const whole = offset + length - (length % 3);
    while (i < whole) {
      const stop = Math.min(whole, i + 3 * groupsPerChunk);
      this.#room(((stop - i) / 3) * 4);
      const buf = this.#buf;
      let p = this.#pos;
      for (; i < stop; i += 3) {
        const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
        buf[p++] = digits[v >>> 18]!;
        buf[p++] = digits[(v >>> 12) & 63]!;
        buf[p++] = digits[(v >>> 6) & 63]!;
        buf[p++] = digits[v & 63]!;
      }
      this.#pos = p;
    }
    const rest = offset + length - whole;
    if (rest === 0) return;
    this.#room(4);
    const buf = this.#buf;
    const v = (src[whole]! << 16) | (rest === 2 ? src[whole + 1]! << 8 : 0);
    const p = this.#pos;
    buf[p] = digits[v >>> 18]!;
    buf[p + 1] = digits[(v >>> 12) & 63]!;
    buf[p + 2] = rest === 2 ? digits[(v >>> 6) & 63]! : 0x3d;
    buf[p + 3] = 0x3d;
    this.#pos = p + 4;
  }
}

/** A file's identity, to tell whether two descriptors lead to one file. */
function identity(path: string): string | null {
  try {
    // Never prompt for a permission just for this.
    if (
      Deno.permissions.querySync({ name: "read", path }).state !== "granted"
    ) {
      return null;
    }
    const info = Deno.statSync(path);
    return info.dev !== null && info.ino !== null
      ? `${info.dev}:${info.ino}`
      : null;
  } catch {
    return null;
  }
}

/**
 * Whether stdout and stderr lead to the same file, pipe or terminal (as
 * with `2>&1`), so that one buffer must take both to keep fstrm_dump's line
 * order. Linux only (`/proc/self/fd`); `false` where it cannot be told.
 */
export function stdoutIsStderr(): boolean {
  const out = identity("/proc/self/fd/1");
  return out !== null && out === identity("/proc/self/fd/2");
}

/** Whether `error` is a write to a closed pipe (`| head`). */
export function isBrokenPipe(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    (error instanceof Error && /\bos error 32\b/.test(error.message));
}
