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

// "\000" .. "\255" for the bytes a name escapes as decimal.
const DECIMAL: string[] = [];
for (let b = 0; b < 256; b++) DECIMAL.push("\\" + String(b).padStart(3, "0"));

// Presentation text of each byte inside a label, as miekg/dns writes it:
// `\.` for the specials, `\DDD` outside printable ASCII, the character else.
const LABEL_BYTE: string[] = [];
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  if (".\x20'@;()\"\\".includes(c)) LABEL_BYTE.push("\\" + c);
  else if (b < 0x20 || b > 0x7e) LABEL_BYTE.push(DECIMAL[b]!);
  else LABEL_BYTE.push(c);
}

function plainLabel(msg: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = msg[i]!;
    // Printable ASCII other than the specials . ' @ ; ( ) " \ and space.
    if (
      b <= 0x20 || b > 0x7e || b === 0x2e || b === 0x27 || b === 0x40 ||
      b === 0x3b || b === 0x28 || b === 0x29 || b === 0x22 || b === 0x5c
    ) return false;
  }
  return true;
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
  const end = cur.end;
  let off = cur.off;
  let after = -1;
  let budget = 255;
  let pointers = 0;
  let s = "";
  for (;;) {
    if (off >= end) throw new DnsMessageError(off, ERR_BUF);
    const c = msg[off++]!;
    const kind = c & 0xc0;
    if (kind === 0) {
      if (c === 0) break;
      if (off + c > end) throw new DnsMessageError(off - 1, ERR_BUF);
      budget -= c + 1;
      if (budget <= 0) throw new DnsMessageError(off - 1, ERR_LONG_DOMAIN);
      if (plainLabel(msg, off, off + c)) {
        // Latin-1 of printable ASCII: one string per label, no table walk.
        s += String.fromCharCode.apply(
          null,
          msg.subarray(off, off + c) as unknown as number[],
        ) + ".";
      } else {
        for (let i = off; i < off + c; i++) s += LABEL_BYTE[msg[i]!]!;
        s += ".";
      }
      off += c;
    } else if (kind === 0xc0) {
      if (off >= end) throw new DnsMessageError(off - 1, ERR_BUF);
      const c1 = msg[off++]!;
      if (pointers === 0) after = off;
      if (++pointers > MAX_POINTERS) {
        throw new DnsMessageError(off - 2, ERR_POINTERS);
      }
      off = ((c & 0x3f) << 8) | c1;
    } else {
      throw new DnsMessageError(off - 1, ERR_RDATA);
    }
  }
  cur.off = pointers === 0 ? off : after;
  return s === "" ? "." : s;
}
