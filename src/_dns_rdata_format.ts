/**
 * Text helpers for rdata as miekg/dns 1.1.50 prints it: hex, base64 and
 * base32hex encoders, the `\DDD` escapes of character-strings, Go's
 * `net.IP.String()` and the `20060102150405` time layout. Every result is
 * ASCII, except {@linkcode latin1} (one character per byte).
 *
 * @module
 */

import {
  DnsMessageError,
  readU16,
  readU32,
  readU8,
  type WireCursor,
} from "./_dns_wire.ts";

/** Bytes as a string of one character per byte (code 0 to 255). */
export function latin1(msg: Uint8Array, from: number, to: number): string {
  if (to - from >= 16) {
    // ASCII (the usual case) decodes natively, much faster than below.
    let i = from;
    while (i < to && msg[i]! < 0x80) i++;
    if (i === to) return ASCII.decode(msg.subarray(from, to));
  }
  let s = "";
  for (let i = from; i < to; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      msg.subarray(i, Math.min(to, i + 8192)) as unknown as number[],
    );
  }
  return s;
}

const HEX_LOWER: string[] = [];
const HEX_UPPER: string[] = [];
for (let b = 0; b < 256; b++) {
  const h = b.toString(16).padStart(2, "0");
  HEX_LOWER.push(h);
  HEX_UPPER.push(h.toUpperCase());
}

/** The two hex digits of each byte, lower case (Go `%02x`). */
export const HEX2: readonly string[] = HEX_LOWER;

/**
 * Bytes as hex, as Go `hex.EncodeToString` (lower case) or its
 * `strings.ToUpper`.
 */
export function hex(
  msg: Uint8Array,
  from: number,
  to: number,
  upper = false,
): string {
  if (to - from >= LONG_HEX) return hexLong(msg, from, to, upper);
  const table = upper ? HEX_UPPER : HEX_LOWER;
  let s = "";
  for (let i = from; i < to; i++) s += table[msg[i]!]!;
  return s;
}

// From this many bytes on, hex and base64 are written to a byte buffer and
// decoded once: one flat string, faster than concatenating (and later
// flattening) a piece per byte or per three bytes from about these sizes on
// (measured: a 32-byte digest in hex, a 33-byte key in base64, twice as fast).
const LONG_HEX = 16;
const LONG_BASE64 = 24;
let scratch = new Uint8Array(1024);
// For bytes known to be ASCII: the UTF-8 decoder's ASCII path is several
// times faster than the "latin1" (windows-1252) one in Deno.
const ASCII = new TextDecoder();

function buffer(n: number): Uint8Array {
  if (scratch.length < n) {
    scratch = new Uint8Array(Math.max(n, 2 * scratch.length));
  }
  return scratch;
}

const HEX_CODES = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const HEX_CODES_UPPER = Uint8Array.from(
  "0123456789ABCDEF",
  (c) => c.charCodeAt(0),
);

function hexLong(
  msg: Uint8Array,
  from: number,
  to: number,
  upper: boolean,
): string {
  const codes = upper ? HEX_CODES_UPPER : HEX_CODES;
  const out = buffer(2 * (to - from));
  let o = 0;
  for (let i = from; i < to; i++) {
    const b = msg[i]!;
    out[o++] = codes[b >> 4]!;
    out[o++] = codes[b & 15]!;
  }
  return ASCII.decode(out.subarray(0, o));
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32HEX = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

// Two base64 digits for each 12-bit value.
const B64_PAIR: string[] = [];
for (let v = 0; v < 4096; v++) B64_PAIR.push(B64[v >> 6]! + B64[v & 63]!);

/** Bytes as Go `base64.StdEncoding` (padded). */
export function base64(msg: Uint8Array, from: number, to: number): string {
  if (to - from >= LONG_BASE64) return base64Long(msg, from, to);
  let s = "";
  let i = from;
  for (; i + 3 <= to; i += 3) {
    const v = (msg[i]! << 16) | (msg[i + 1]! << 8) | msg[i + 2]!;
    s += B64_PAIR[v >> 12]! + B64_PAIR[v & 4095]!;
  }
  const rest = to - i;
  if (rest === 1) s += B64_PAIR[msg[i]! << 4]! + "==";
  else if (rest === 2) {
    const v = (msg[i]! << 10) | (msg[i + 1]! << 2);
    s += B64_PAIR[v >> 6]! + B64[v & 63]! + "=";
  }
  return s;
}

const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));

function base64Long(msg: Uint8Array, from: number, to: number): string {
  const out = buffer(Math.ceil((to - from) / 3) * 4);
  let o = 0;
  let i = from;
  for (; i + 3 <= to; i += 3) {
    const v = (msg[i]! << 16) | (msg[i + 1]! << 8) | msg[i + 2]!;
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = B64_CODES[(v >> 6) & 63]!;
    out[o++] = B64_CODES[v & 63]!;
  }
  const rest = to - i;
  if (rest > 0) {
    const v = (msg[i]! << 16) | (rest === 2 ? msg[i + 1]! << 8 : 0);
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = rest === 2 ? B64_CODES[(v >> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return ASCII.decode(out.subarray(0, o));
}

/** Bytes as Go `base32.HexEncoding` without padding (upper case). */
export function base32hex(msg: Uint8Array, from: number, to: number): string {
  let s = "";
  let acc = 0;
  let bits = 0;
  for (let i = from; i < to; i++) {
    acc = ((acc << 8) | msg[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32HEX[(acc >> bits) & 31];
    }
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31];
  return s;
}

/** miekg `escapeByte`: `\DDD` for every byte. */
export const DDD: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => "\\" + String(b).padStart(3, "0"),
);

// A character-string byte as miekg's unpackString / writeTXTStringByte print
// it: `\"` and `\\`, `\DDD` outside printable ASCII.
const TXT_BYTE: string[] = [];
for (let b = 0; b < 256; b++) {
  if (b === 0x22 || b === 0x5c) TXT_BYTE.push("\\" + String.fromCharCode(b));
  else if (b < 0x20 || b > 0x7e) TXT_BYTE.push(DDD[b]!);
  else TXT_BYTE.push(String.fromCharCode(b));
}

/** TXT_BYTE as bytes: the length (1, 2 or 4) and the bytes of each. */
const TXT_LEN = new Uint8Array(256);
const TXT_CODES = new Uint8Array(1024);
for (let b = 0; b < 256; b++) {
  const t = TXT_BYTE[b]!;
  TXT_LEN[b] = t.length;
  for (let i = 0; i < t.length; i++) TXT_CODES[4 * b + i] = t.charCodeAt(i);
}

// Keeps a leading U+FEFF (the default decoder drops it).
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A character-string's bytes quoted, when every byte prints as itself
 * (printable ASCII but `"` and `\\`); else null. Natively: decoded, then
 * checked by its length (a byte above 0x7F decodes into a wider character,
 * shortening the text, or into U+FFFD), for U+007F and U+FFFD, and by
 * `JSON.stringify`, which lengthens a text holding `"`, `\\` or a control
 * character and otherwise adds just the quotes.
 */
function plainQuoted(msg: Uint8Array, from: number, to: number): string | null {
  const t = UTF8.decode(msg.subarray(from, to));
  if (
    t.length !== to - from || t.indexOf("\x7f") >= 0 ||
    t.indexOf("\ufffd") >= 0
  ) return null;
  const q = JSON.stringify(t);
  return q.length === t.length + 2 ? q : null;
}

/**
 * miekg `sprintTxt` of `unpackTxt`: the character-strings from `cur.off` to
 * `cur.end`, each escaped and quoted, joined by spaces. Long strings that
 * print as they are go through {@linkcode plainQuoted}; the rest are
 * written as bytes and decoded once. Fails with "dns: overflow unpacking
 * txt" as {@linkcode readCharString}, `cur.off` at the string that fails.
 */
export function txtStrings(msg: Uint8Array, cur: WireCursor): string {
  const end = cur.end;
  const first = cur.off;
  // A single long string (the usual long TXT record) needs no buffer.
  if (first < end) {
    const l = msg[first]!;
    if (first + 1 + l === end && l >= 32) {
      const q = plainQuoted(msg, first + 1, end);
      if (q !== null) {
        cur.off = end;
        return q;
      }
    }
  }
  // Each byte at most 4 (\DDD), and per string 2 quotes and a space.
  const out = buffer(4 * (end - cur.off) + 3);
  let o = 0;
  while (cur.off < end) {
    const off = cur.off;
    const l = msg[off]!;
    if (off + 1 + l > end) {
      throw new DnsMessageError(off, "dns: overflow unpacking txt");
    }
    if (o > 0) out[o++] = 0x20;
    out[o++] = 0x22;
    let i = off + 1;
    const stop = off + 1 + l;
    while (i < stop && TXT_LEN[msg[i]!] === 1) i++;
    if (i - off > 32) {
      // A long run of bytes printed as they are: copied natively.
      out.set(msg.subarray(off + 1, i), o);
      o += i - off - 1;
    } else i = off + 1;
    for (; i < stop; i++) {
      const b = msg[i]!;
      const n = TXT_LEN[b]!;
      if (n === 1) out[o++] = b;
      else {
        for (let k = 0; k < n; k++) out[o++] = TXT_CODES[4 * b + k]!;
      }
    }
    out[o++] = 0x22;
    cur.off = off + 1 + l;
  }
  return ASCII.decode(out.subarray(0, o));
}

/** Bytes escaped as miekg `unpackString` does (no quotes added). */
export function txtEscape(msg: Uint8Array, from: number, to: number): string {
  for (let i = from; i < to; i++) {
    const b = msg[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) {
      let s = latin1(msg, from, i);
      for (let j = i; j < to; j++) s += TXT_BYTE[msg[j]!]!;
      return s;
    }
  }
  return latin1(msg, from, to);
}

/**
 * miekg `unpackString`: a length byte and that many bytes, escaped. Fails
 * with "dns: overflow unpacking txt".
 */
export function readCharString(msg: Uint8Array, cur: WireCursor): string {
  const off = cur.off;
  if (off + 1 > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking txt");
  }
  const l = msg[off]!;
  if (off + 1 + l > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking txt");
  }
  cur.off = off + 1 + l;
  return txtEscape(msg, off + 1, off + 1 + l);
}

/**
 * miekg `sprintTxtOctet` on raw bytes (CAA value, URI target): quoted, a
 * `\.` pair kept, other backslash escapes decoded (`\DDD` modulo 256, a
 * dangling one dropped) and the bytes escaped again.
 */
export function sprintTxtOctet(
  msg: Uint8Array,
  from: number,
  to: number,
): string {
  let s = '"';
  for (let i = from; i < to;) {
    const c = msg[i]!;
    if (c !== 0x5c) {
      s += TXT_BYTE[c]!;
      i++;
      continue;
    }
    if (i + 1 < to && msg[i + 1] === 0x2e) {
      s += "\\.";
      i += 2;
      continue;
    }
    const left = to - i;
    if (left === 1) break; // dangling backslash
    if (
      left >= 4 && isDigit(msg[i + 1]!) && isDigit(msg[i + 2]!) &&
      isDigit(msg[i + 3]!)
    ) {
      const v = (msg[i + 1]! - 48) * 100 + (msg[i + 2]! - 48) * 10 +
        msg[i + 3]! - 48;
      s += TXT_BYTE[v & 0xff]!;
      i += 4;
    } else {
      s += TXT_BYTE[msg[i + 1]!]!;
      i += 2;
    }
  }
  return s + '"';
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Four bytes as Go `net.IP.String()` prints an IPv4 address. */
export function ipv4Text(msg: Uint8Array, off: number): string {
  return msg[off] + "." + msg[off + 1] + "." + msg[off + 2] + "." +
    msg[off + 3];
}

/** Whether 16 bytes are an IPv4-mapped address (Go `To4() != nil`). */
export function isV4Mapped(msg: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (msg[off + i] !== 0) return false;
  return msg[off + 10] === 0xff && msg[off + 11] === 0xff;
}

/**
 * Sixteen bytes as Go 1.19 `net.IP.String()`: dotted IPv4 for a mapped
 * address, else RFC 5952 (the first longest run of two or more zero groups
 * as `::`).
 */
export function ipv6Text(msg: Uint8Array, off: number): string {
  if (isV4Mapped(msg, off)) return ipv4Text(msg, off + 12);
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && msg[off + j] === 0 && msg[off + j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) e0 = e1 = -1;
  let s = "";
  for (let i = 0; i < 16; i += 2) {
    if (i === e0) {
      s += "::";
      i = e1;
      if (i >= 16) break;
    } else if (i > 0) s += ":";
    s += ((msg[off + i]! << 8) | msg[off + i + 1]!).toString(16);
  }
  return s;
}

const YEAR68 = 2 ** 31;

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/**
 * Unix seconds (any safe integer) as Go `Format("20060102150405")` in UTC:
 * the year padded to four digits and never cut.
 */
export function goTime(sec: number): string {
  const days = Math.floor(sec / 86400);
  let rem = sec - days * 86400;
  const hh = Math.floor(rem / 3600);
  rem -= hh * 3600;
  const mm = Math.floor(rem / 60);
  return dateText(days) + pad2(hh) + pad2(mm) + pad2(rem - mm * 60);
}

// The last two days formatted: signatures in one response share their
// inception and expiration dates.
let lastDays = NaN;
let lastDate = "";
let prevDays = NaN;
let prevDate = "";

// Days since 1970-01-01 as YYYYMMDD (proleptic Gregorian, after H. Hinnant).
function dateText(days: number): string {
  if (days === lastDays) return lastDate;
  if (days === prevDays) return prevDate;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) -
      Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const ys = y < 0
    ? "-" + String(-y).padStart(4, "0")
    : String(y).padStart(4, "0");
  prevDays = lastDays;
  prevDate = lastDate;
  lastDays = days;
  lastDate = ys + pad2(m) + pad2(d);
  return lastDate;
}

/**
 * miekg `TimeToString`: a 32-bit signature time read with RFC 1982 serial
 * arithmetic around the current time, then {@linkcode goTime}.
 */
export function dnssecTime(t: number, nowSec: number): string {
  let mod = Math.trunc((t - nowSec) / YEAR68) - 1;
  if (mod < 0) mod = 0;
  return goTime(t - mod * YEAR68);
}

/** Reads one byte, or 0 at the end of the rdata (miekg's early return). */
export function opt8(msg: Uint8Array, cur: WireCursor): number {
  return cur.off === cur.end ? 0 : readU8(msg, cur);
}

/** Reads a 16-bit integer, or 0 at the end of the rdata. */
export function opt16(msg: Uint8Array, cur: WireCursor): number {
  return cur.off === cur.end ? 0 : readU16(msg, cur);
}

/** Reads a 32-bit integer, or 0 at the end of the rdata. */
export function opt32(msg: Uint8Array, cur: WireCursor): number {
  return cur.off === cur.end ? 0 : readU32(msg, cur);
}

/** Reads a character-string, or "" at the end of the rdata. */
export function optString(msg: Uint8Array, cur: WireCursor): string {
  return cur.off === cur.end ? "" : readCharString(msg, cur);
}

/**
 * Checks that `n` bytes are left (miekg's size-hex / size-base64 fields) and
 * returns where they end; fails with `"dns: overflow unpacking " + what`.
 */
export function take(cur: WireCursor, n: number, what: string): number {
  const end = cur.off + n;
  if (end > cur.end) {
    throw new DnsMessageError(cur.off, "dns: overflow unpacking " + what);
  }
  cur.off = end;
  return end;
}

/**
 * miekg `unpackDataNsec`: a type bitmap to the end of the rdata, as the
 * text `" TYPE1 TYPE2"` with the given namer.
 */
export function readTypeBitmap(
  msg: Uint8Array,
  cur: WireCursor,
  name: (type: number) => string,
): string {
  let s = "";
  let off = cur.off;
  const end = cur.end;
  let last = -1;
  while (off < end) {
    if (off + 2 > end) {
      throw new DnsMessageError(off, "dns: overflow unpacking NSEC(3)");
    }
    const window = msg[off]!;
    const length = msg[off + 1]!;
    if (window <= last) {
      throw new DnsMessageError(
        off,
        "dns: out of order NSEC(3) block in type bitmap",
      );
    }
    if (length === 0) {
      throw new DnsMessageError(
        off,
        "dns: empty NSEC(3) block in type bitmap",
      );
    }
    if (length > 32) {
      throw new DnsMessageError(
        off,
        "dns: NSEC(3) block too long in type bitmap",
      );
    }
    off += 2;
    if (off + length > end) {
      throw new DnsMessageError(
        off,
        "dns: overflowing NSEC(3) block in type bitmap",
      );
    }
    for (let j = 0; j < length; j++) {
      const b = msg[off + j]!;
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (b & (0x80 >> bit)) s += " " + name(window * 256 + j * 8 + bit);
      }
    }
    off += length;
    last = window;
  }
  cur.off = off;
  return s;
}

/**
 * How many raw-byte marks {@linkcode goUtf8} has made in this thread: a
 * writer that reads it before and after formatting a record knows, without
 * scanning the text, whether the text may hold marks to write as raw bytes
 * (the Go tool's YAML does).
 */
export let rawByteMarks = 0;

/**
 * Bytes that Go holds in a string (miekg/dns prints NULL rdata and EDE text
 * unescaped) as text: valid UTF-8 sequences as their characters, and each
 * byte of an invalid one, 0x80 to 0xFF, as the lone surrogate U+DC00 + byte
 * (Python's "surrogateescape"). Go's JSON writes such a byte as `\ufffd`
 * (`jsonString` does the same); as UTF-8, `TextEncoder` writes U+FFFD.
 *
 * @param msg The bytes.
 * @param from First byte.
 * @param to One past the last byte.
 * @returns The text.
 */
export function goUtf8(msg: Uint8Array, from: number, to: number): string {
  let s = "";
  let i = from;
  while (i < to) {
    const b = msg[i]!;
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if (b >= 0xc2 && b <= 0xdf) need = 1, cp = b & 0x1f, min = 0x80;
    else if (b >= 0xe0 && b <= 0xef) need = 2, cp = b & 0x0f, min = 0x800;
    else if (b >= 0xf0 && b <= 0xf4) need = 3, cp = b & 0x07, min = 0x10000;
    let ok = need > 0 && i + need < to;
    for (let k = 1; ok && k <= need; k++) {
      const c = msg[i + k]!;
      if ((c & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3f);
    }
    if (
      !ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)
    ) {
      s += String.fromCharCode(0xdc00 + b);
      rawByteMarks++;
      i++;
      continue;
    }
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}
