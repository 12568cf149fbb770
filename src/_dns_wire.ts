/**
 * The lowest layer of the DNS message parser: a read cursor, the error every
 * DNS reading function throws, and the readers of integers and domain names,
 * each failing exactly where and as miekg/dns 1.1.50 fails (its error text is
 * kept, because the Go `dnstap` tool prints it).
 *
 * @module
 */

/**
 * Bytes that are not a DNS message as miekg/dns 1.1.50 unpacks one. A
 * `SyntaxError` carrying the byte offset where reading failed and the error
 * text as miekg/dns words it (`"dns: buffer size too small"`), which the Go
 * `dnstap` tool prints after `parse failed: `.
 *
 * @example
 * ```ts
 * import { DnsMessageError, formatDnsMessage } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => formatDnsMessage(new Uint8Array(5)),
 *   (e) => e instanceof DnsMessageError && e instanceof SyntaxError &&
 *     e.goError === "dns: overflow unpacking uint16" && e.offset === 4,
 * );
 * ```
 */
export class DnsMessageError extends SyntaxError {
  /** Byte offset in the DNS message of the field being read. */
  readonly offset: number;
  /** The error as miekg/dns 1.1.50 words it, e.g. `"dns: bad rdlength"`. */
  readonly goError: string;

  /**
   * Makes the error.
   *
   * @param offset Byte offset of the field being read.
   * @param goError The error text as miekg/dns prints it, `dns: ` included.
   */
  constructor(offset: number, goError: string) {
    super(`Cannot decode DNS message: ${goError} (at byte ${offset})`);
    this.name = "DnsMessageError";
    this.offset = offset;
    this.goError = goError;
  }
}

/** miekg/dns `ErrBuf`. */
export const ERR_BUF = "dns: buffer size too small";
/** miekg/dns `ErrRdata`. */
export const ERR_RDATA = "dns: bad rdata";
/** miekg/dns `ErrLongDomain`. */
export const ERR_LONG_DOMAIN =
  "dns: domain name exceeded 255 wire-format octets";
/** miekg/dns "too many compression pointers". */
export const ERR_POINTERS = "dns: too many compression pointers";

/** (255 + 1) / 2 - 2, as miekg/dns `maxCompressionPointers`. */
const MAX_POINTERS = 126;

/**
 * A read position in a DNS message. `off` advances as fields are read; `end`
 * bounds every read (miekg/dns reads an RR's rdata from the message cut at the
 * rdata's end, so a name pointing past it fails there too).
 */
export class WireCursor {
  /** The next byte to read. */
  off = 0;
  /** One past the last byte that may be read. */
  end = 0;
}

/**
 * Reads one byte.
 *
 * @param msg The DNS message.
 * @param cur Where to read; advanced by one.
 * @returns The byte.
 */
export function readU8(msg: Uint8Array, cur: WireCursor): number {
  const off = cur.off;
  if (off + 1 > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking uint8");
  }
  cur.off = off + 1;
  return msg[off]!;
}

/**
 * Reads a big-endian 16-bit integer.
 *
 * @param msg The DNS message.
 * @param cur Where to read; advanced by two.
 * @returns The integer.
 */
export function readU16(msg: Uint8Array, cur: WireCursor): number {
  const off = cur.off;
  if (off + 2 > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking uint16");
  }
  cur.off = off + 2;
  return (msg[off]! << 8) | msg[off + 1]!;
}

/**
 * Reads a big-endian 32-bit unsigned integer.
 *
 * @param msg The DNS message.
 * @param cur Where to read; advanced by four.
 * @returns The integer, 0 to 2^32 - 1.
 */
export function readU32(msg: Uint8Array, cur: WireCursor): number {
  const off = cur.off;
  if (off + 4 > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking uint32");
  }
  cur.off = off + 4;
  return ((msg[off]! << 24) >>> 0) +
    ((msg[off + 1]! << 16) | (msg[off + 2]! << 8) | msg[off + 3]!);
}

// The name cache: while a message is being read (between `beginMessage`
// and `endMessage`), every name read leaves, for each offset where one of
// its labels (or the name itself) starts, the text from there to the end,
// so a compression pointer to that offset costs a lookup. A cached suffix is
// used only where reading it again would succeed with the same text: the
// wire-octet budget and the pointer limit still hold with it added, and its
// bytes lie before the current read limit. Pointers reach offsets below
// 16384 only.
const SLOTS = 16384;
let cacheMsg: Uint8Array | null = null;
let generation = 0;
const slotGen = new Uint32Array(SLOTS);
const slotText: string[] = new Array<string>(SLOTS).fill("");
const slotWire = new Uint16Array(SLOTS); // label octets (len + 1 each)
const slotPtrs = new Uint16Array(SLOTS); // pointers followed
const slotMax = new Int32Array(SLOTS); // one past the last byte read
const slotNext = new Int32Array(SLOTS); // where the name ends in place
const slotFrom = new Uint16Array(SLOTS); // where the suffix starts in the text
// Per read: where labels started, the text length and counters then, and
// where the name read from there ends in place.
const MARKS = 256;
const markOff = new Int32Array(MARKS);
const markLen = new Int32Array(MARKS);
const markWire = new Int32Array(MARKS);
const markPtrs = new Int32Array(MARKS);
const markNext = new Int32Array(MARKS);

// The character codes of the name being read, made into one flat string at
// the end (faster than joining one-character strings).
const chars: number[] = [];

// Appends the text of one label byte to `chars` at `j`; returns the new `j`.
function pushByte(b: number, j: number): number {
  if (
    b <= 0x20 || b > 0x7e || b === 0x2e || b === 0x27 || b === 0x40 ||
    b === 0x3b || b === 0x28 || b === 0x29 || b === 0x22 || b === 0x5c
  ) {
    chars[j++] = 0x5c; // backslash
    if (b < 0x20 || b > 0x7e) {
      chars[j++] = 0x30 + ((b / 100) | 0);
      chars[j++] = 0x30 + (((b / 10) | 0) % 10);
      chars[j++] = 0x30 + (b % 10);
    } else chars[j++] = b;
  } else chars[j++] = b;
  return j;
}

function charsText(j: number): string {
  chars.length = j;
  return String.fromCharCode.apply(null, chars);
}

/**
 * Turns the name cache on for one message: names read from `msg` until
 * {@linkcode endMessage} may reuse each other's suffixes. Call both around
 * one synchronous walk of a message (in `try`/`finally`); `msg` must not
 * change in between.
 *
 * @param msg The DNS message about to be read.
 */
export function beginMessage(msg: Uint8Array): void {
  cacheMsg = msg;
  if (++generation === 0xffffffff) {
    slotGen.fill(0);
    generation = 1;
  }
}

/** Turns the name cache off (see {@linkcode beginMessage}). */
export function endMessage(): void {
  cacheMsg = null;
}

/**
 * Reads a domain name, following compression pointers, as miekg/dns
 * `UnpackDomainName` does: presentation text with a trailing dot (`"."` for
 * the root), special characters escaped with a backslash and bytes outside
 * printable ASCII as `\DDD`. Fails with `ErrBuf` when the name runs past
 * `cur.end`, with "domain name exceeded 255 wire-format octets", with "too
 * many compression pointers" (a loop), and with `ErrRdata` on the reserved
 * label types 0x40 and 0x80.
 *
 * @param msg The DNS message (pointers are offsets into it).
 * @param cur Where the name starts; advanced past the name as it appears
 *   here (up to and including the first pointer).
 * @returns The name's presentation text.
 */
export function readName(msg: Uint8Array, cur: WireCursor): string {
  const off = cur.off;
  if (msg === cacheMsg && off + 1 < cur.end && msg[off]! >= 0xc0) {
    // A pointer to a name read before (the common case in responses).
    const to = ((msg[off]! & 0x3f) << 8) | msg[off + 1]!;
    if (
      slotGen[to] === generation && slotPtrs[to]! < MAX_POINTERS &&
      slotWire[to]! < 255 && slotMax[to]! <= cur.end
    ) {
      cur.off = off + 2;
      const s = suffixText(to);
      return s === "" ? "." : s;
    }
  }
  return plainName(msg, cur) ?? readAnyName(msg, cur);
}

// The cached text from a slot, sliced once and kept sliced.
function suffixText(slot: number): string {
  const from = slotFrom[slot]!;
  if (from === 0) return slotText[slot]!;
  const s = slotText[slot]!.slice(from);
  slotText[slot] = s;
  slotFrom[slot] = 0;
  return s;
}

// Whole names by a hash of their wire bytes, for names written in place (no
// pointer) of plain labels: their text is their bytes with dots for the
// length bytes, so a cached text is checked against the bytes directly.
const NAMES = 8192;
const nameCache: string[] = new Array<string>(NAMES).fill("");

function isPlain(b: number): boolean {
  // Printable ASCII other than the specials . ' @ ; ( ) " \ and space.
  return b > 0x20 && b <= 0x7e && b !== 0x2e && b !== 0x27 && b !== 0x40 &&
    b !== 0x3b && b !== 0x28 && b !== 0x29 && b !== 0x22 && b !== 0x5c;
}

/**
 * The fast path of {@linkcode readName}: a name in place, of plain labels,
 * within bounds and the budget. `null`, reading nothing, for anything else.
 */
function plainName(msg: Uint8Array, cur: WireCursor): string | null {
  const end = cur.end;
  const start = cur.off;
  const cache = msg === cacheMsg && start < SLOTS;
  if (cache && slotGen[start] === generation) return null; // a lookup
  let off = start;
  let h = 0x811c9dc5;
  for (;;) {
    if (off >= end) return null;
    const c = msg[off]!;
    if (c === 0) break;
    if (c >= 0x40 || off + 1 + c > end || off + c - start >= 254) return null;
    for (let i = off + 1; i <= off + c; i++) {
      const b = msg[i]!;
      if (!isPlain(b)) return null;
      h = Math.imul(h ^ b, 0x01000193);
    }
    h = Math.imul(h ^ 0x2e, 0x01000193);
    off += c + 1;
  }
  const len = off - start; // text length: each label's bytes and a dot
  if (len === 0) return null;
  const slot = (h ^ (h >>> 13)) & (NAMES - 1);
  let text = nameCache[slot]!;
  let same = text.length === len;
  for (let p = start; same && p < off;) {
    const c = msg[p]!;
    const j = p - start;
    for (let k = 1; k <= c; k++) {
      if (text.charCodeAt(j + k - 1) !== msg[p + k]) {
        same = false;
        break;
      }
    }
    if (text.charCodeAt(j + c) !== 0x2e) same = false;
    p += c + 1;
  }
  if (!same) {
    // The bytes after the first length byte, length bytes made dots.
    for (let p = start + 1, j = 0; j < len; p++, j++) {
      chars[j] = j + 1 === len ? 0x2e : msg[p]!;
    }
    for (let p = start; p < off; p += msg[p]! + 1) {
      if (p > start) chars[p - start - 1] = 0x2e;
    }
    nameCache[slot] = text = charsText(len);
  }
  cur.off = off + 1;
  if (cache) {
    // Each label's suffix, for pointers to it later in the message.
    const gen = generation;
    for (let p = start; p <= off && p < SLOTS;) {
      if (slotGen[p] !== gen) {
        slotGen[p] = gen;
        slotText[p] = text;
        slotFrom[p] = p - start;
        slotWire[p] = len - (p - start);
        slotPtrs[p] = 0;
        slotMax[p] = off + 1;
        slotNext[p] = off + 1;
      }
      p += msg[p]! + 1;
    }
  }
  return text;
}

function readAnyName(msg: Uint8Array, cur: WireCursor): string {
  const end = cur.end;
  const cache = msg === cacheMsg;
  const gen = generation;
  let off = cur.off;
  let next = -1; // where the name ends in place: after its first pointer
  let wire = 0;
  let pointers = 0;
  let max = off;
  let marks = 0;
  let pending = 0; // marks[pending..] still lack their in-place end
  let j = 0; // text length so far, in chars
  let suffix = "";
  for (;;) {
    if (
      cache && off < SLOTS && slotGen[off] === gen &&
      wire + slotWire[off]! < 255 &&
      pointers + slotPtrs[off]! <= MAX_POINTERS && slotMax[off]! <= end
    ) {
      // A suffix read before, which reading again would give unchanged.
      for (; pending < marks; pending++) markNext[pending] = slotNext[off]!;
      if (next < 0) next = slotNext[off]!;
      suffix = suffixText(off);
      wire += slotWire[off]!;
      pointers += slotPtrs[off]!;
      if (slotMax[off]! > max) max = slotMax[off]!;
      break;
    }
    if (off >= end) throw new DnsMessageError(off, ERR_BUF);
    if (cache && off < SLOTS && marks < MARKS) {
      markOff[marks] = off;
      markLen[marks] = j;
      markWire[marks] = wire;
      markPtrs[marks++] = pointers;
    }
    const c = msg[off++]!;
    if (off > max) max = off;
    if (c < 0x40) {
      if (c === 0) {
        for (; pending < marks; pending++) markNext[pending] = off;
        if (next < 0) next = off;
        break;
      }
      if (off + c > end) throw new DnsMessageError(off - 1, ERR_BUF);
      wire += c + 1;
      if (wire >= 255) throw new DnsMessageError(off - 1, ERR_LONG_DOMAIN);
      for (let i = off; i < off + c; i++) j = pushByte(msg[i]!, j);
      chars[j++] = 0x2e;
      off += c;
      if (off > max) max = off;
    } else if (c >= 0xc0) {
      if (off >= end) throw new DnsMessageError(off - 1, ERR_BUF);
      const c1 = msg[off++]!;
      if (off > max) max = off;
      for (; pending < marks; pending++) markNext[pending] = off;
      if (next < 0) next = off;
      if (++pointers > MAX_POINTERS) {
        throw new DnsMessageError(off - 2, ERR_POINTERS);
      }
      const to = ((c & 0x3f) << 8) | c1;
      // A target past the end: the error is at the pointer, in the message.
      if (to >= end) throw new DnsMessageError(off - 2, ERR_BUF);
      off = to;
    } else {
      throw new DnsMessageError(off - 1, ERR_RDATA);
    }
  }
  cur.off = next;
  const s = j === 0 ? suffix : charsText(j) + suffix;
  if (cache) {
    for (let k = 0; k < marks; k++) {
      const at = markOff[k]!;
      if (slotGen[at] === gen) continue;
      slotGen[at] = gen;
      // The whole text, sliced on use: most suffixes are never used. The
      // suffix at the final zero is "" (the root adds no text after a label).
      slotText[at] = s;
      slotFrom[at] = markLen[k]!;
      slotWire[at] = wire - markWire[k]!;
      slotPtrs[at] = pointers - markPtrs[k]!;
      slotMax[at] = max;
      slotNext[at] = markNext[k]!;
    }
  }
  return s === "" ? "." : s;
}

/**
 * Checks a domain name as {@linkcode readName} reads it, failing where and
 * as it fails, without making its text: for walks that only need to know
 * that miekg/dns would unpack a message.
 *
 * @param msg The DNS message.
 * @param cur Where the name starts; advanced as by {@linkcode readName}.
 */
export function skipName(msg: Uint8Array, cur: WireCursor): void {
  const end = cur.end;
  let off = cur.off;
  let next = -1;
  let wire = 0;
  let pointers = 0;
  for (;;) {
    if (off >= end) throw new DnsMessageError(off, ERR_BUF);
    const c = msg[off++]!;
    if (c < 0x40) {
      if (c === 0) break;
      if (off + c > end) throw new DnsMessageError(off - 1, ERR_BUF);
      wire += c + 1;
      if (wire >= 255) throw new DnsMessageError(off - 1, ERR_LONG_DOMAIN);
      off += c;
    } else if (c >= 0xc0) {
      if (off >= end) throw new DnsMessageError(off - 1, ERR_BUF);
      const c1 = msg[off++]!;
      if (next < 0) next = off;
      if (++pointers > MAX_POINTERS) {
        throw new DnsMessageError(off - 2, ERR_POINTERS);
      }
      const to = ((c & 0x3f) << 8) | c1;
      // A target past the end: the error is at the pointer, in the message.
      if (to >= end) throw new DnsMessageError(off - 2, ERR_BUF);
      off = to;
    } else {
      throw new DnsMessageError(off - 1, ERR_RDATA);
    }
  }
  cur.off = next < 0 ? off : next;
}
