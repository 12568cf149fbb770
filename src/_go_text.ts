/**
 * Go values printed as the Go `dnstap` tool (golang-dnstap 0.4, built with
 * Go 1.19) prints them: `strconv.Quote`, `encoding/json` strings, `net.IP`'s
 * text, and protobuf-go's enum names (times are in _go_time.ts).
 *
 * @module
 */
import { GO_PRINTABLE } from "./_go_isprint.ts";
import {
  DNSTAP_TYPES,
  type EnumTable,
  MESSAGE_TYPES,
  SOCKET_FAMILIES,
  SOCKET_PROTOCOLS,
} from "./_dnstap_names.ts";

const HEX = "0123456789abcdef";

/** Whether Go's `strconv.IsPrint` holds for a code point above U+007F. */
function isPrintWide(cp: number): boolean {
  const t = GO_PRINTABLE;
  let lo = 0;
  let hi = (t.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < t[2 * mid]!) hi = mid - 1;
    else if (cp > t[2 * mid + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Decodes one UTF-8 sequence at `i` as Go's `utf8.DecodeRune` does: returns
 * the code point, or -1 for an invalid byte (Go's RuneError of width 1).
 * The width is `utf8Width(cp)` when valid.
 */
function decodeRune(b: Uint8Array, i: number): number {
  const c0 = b[i]!;
  const n = b.length;
  if (c0 < 0xc2 || c0 > 0xf4) return -1;
  if (c0 < 0xe0) {
    const c1 = i + 1 < n ? b[i + 1]! : 0;
    if ((c1 & 0xc0) !== 0x80) return -1;
    return ((c0 & 0x1f) << 6) | (c1 & 0x3f);
  }
  const c1 = i + 1 < n ? b[i + 1]! : 0;
  const lo1 = c0 === 0xe0 ? 0xa0 : c0 === 0xf0 ? 0x90 : 0x80;
  const hi1 = c0 === 0xed ? 0x9f : c0 === 0xf4 ? 0x8f : 0xbf;
  if (c1 < lo1 || c1 > hi1) return -1;
  const c2 = i + 2 < n ? b[i + 2]! : 0;
  if ((c2 & 0xc0) !== 0x80) return -1;
  if (c0 < 0xf0) {
    return ((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
  }
  const c3 = i + 3 < n ? b[i + 3]! : 0;
  if ((c3 & 0xc0) !== 0x80) return -1;
  return ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) |
    (c3 & 0x3f);
}

function utf8Width(cp: number): number {
  return cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

// Quote's text of each ASCII byte.
const QUOTE_ASCII: string[] = [];
for (let b = 0; b < 128; b++) {
  const special: Record<number, string> = {
    7: "\\a",
    8: "\\b",
    12: "\\f",
    10: "\\n",
    13: "\\r",
    9: "\\t",
    11: "\\v",
    34: '\\"',
    92: "\\\\",
  };
  QUOTE_ASCII.push(
    special[b] ??
      (b < 0x20 || b === 0x7f
        ? "\\x" + HEX[b >> 4] + HEX[b & 15]
        : String.fromCharCode(b)),
  );
}

function hex4(n: number): string {
  return HEX[(n >> 12) & 15]! + HEX[(n >> 8) & 15]! + HEX[(n >> 4) & 15]! +
    HEX[n & 15]!;
}

/**
 * Go's `strconv.Quote(string(bytes))`: double quotes around the bytes, `"`
 * and `\` escaped, `\a \b \f \n \r \t \v`, other control bytes and invalid
 * UTF-8 bytes as `\xNN`, runes that are not printable (`strconv.IsPrint`)
 * as `\uNNNN` or `\UNNNNNNNN`, the rest as they are.
 *
 * @param bytes The bytes (any, not necessarily UTF-8).
 * @returns The quoted text.
 */
export function goQuote(bytes: Uint8Array): string {
  let s = '"';
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      s += QUOTE_ASCII[b]!;
      i++;
      continue;
    }
    const cp = decodeRune(bytes, i);
    if (cp < 0) {
      s += "\\x" + HEX[b >> 4] + HEX[b & 15];
      i++;
      continue;
    }
    i += utf8Width(cp);
    if (isPrintWide(cp)) s += String.fromCodePoint(cp);
    else if (cp < 0x10000) s += "\\u" + hex4(cp);
    else s += "\\U" + hex4(cp >> 16) + hex4(cp & 0xffff);
  }
  return s + '"';
}

/**
 * Go's `strconv.Quote` of a string of printable ASCII with maybe `"` and
 * `\` (a domain name's presentation text): only those two are escaped.
 *
 * @param text The text, each char below U+0080.
 * @returns The quoted text.
 */
export function goQuoteAscii(text: string): string {
  let s = '"';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x7f) {
      s += text.slice(from, i) + QUOTE_ASCII[c & 0x7f]!;
      from = i + 1;
    }
  }
  return s + text.slice(from) + '"';
}

/**
 * The text of the last bytes given, for fields that repeat record after
 * record (identity, version): compares the bytes, and keeps a copy of them
 * (a decoded record's bytes are views of a buffer that may be reused).
 */
export class BytesTextCache {
  #key: Uint8Array | null = null;
  #text = "";
  readonly #f: (bytes: Uint8Array) => string;

  /** @param f What to compute on a miss. */
  constructor(f: (bytes: Uint8Array) => string) {
    this.#f = f;
  }

  /** `f(bytes)`, from the cache when the bytes are the last ones. */
  get(bytes: Uint8Array): string {
    const key = this.#key;
    const n = bytes.length;
    if (key !== null && key.length === n) {
      let i = 0;
      while (i < n && key[i] === bytes[i]) i++;
      if (i === n) return this.#text;
    }
    this.#text = this.#f(bytes);
    this.#key = bytes.slice();
    return this.#text;
  }
}

/**
 * The text of enum values (names or numbers), computed once per value: a
 * record's type, socket family and protocol repeat record after record.
 */
export class EnumTextCache {
  readonly #map = new Map<string | number, string>();
  readonly #f: (v: string | number) => string;

  /** @param f What to compute for a value not seen before. */
  constructor(f: (v: string | number) => string) {
    this.#f = f;
  }

  /** `f(v)`, computed once per value. */
  get(v: string | number): string {
    let t = this.#map.get(v);
    if (t === undefined) {
      t = this.#f(v);
      // Bounded: names are few, and numbers seen are kept up to a limit.
      if (this.#map.size < 1024) this.#map.set(v, t);
    }
    return t;
  }
}

// encoding/json's text of each ASCII byte, HTML escaping on (Go 1.19: no
// \b or \f short forms yet).
const JSON_ASCII: string[] = [];
for (let b = 0; b < 128; b++) {
  let t = String.fromCharCode(b);
  if (b === 0x22 || b === 0x5c) t = "\\" + t;
  else if (b === 10) t = "\\n";
  else if (b === 13) t = "\\r";
  else if (b === 9) t = "\\t";
  else if (b < 0x20 || b === 0x3c || b === 0x3e || b === 0x26) {
    t = "\\u00" + HEX[b >> 4] + HEX[b & 15];
  }
  JSON_ASCII.push(t);
}
const JSON_PLAIN = new Uint8Array(128);
for (let b = 0; b < 128; b++) {
  JSON_PLAIN[b] = JSON_ASCII[b]!.length === 1 ? 1 : 0;
}

/**
 * `encoding/json`'s string of `string(bytes)`, quotes included: `"` and `\`
 * escaped, `\n \r \t`, other control bytes and `< > &` as `\u00NN`, invalid
 * UTF-8 bytes as `\ufffd` each, U+2028 and U+2029 as `\u2028`/`\u2029`.
 *
 * @param bytes The bytes (any).
 * @returns The JSON string.
 */
export function jsonStringOfBytes(bytes: Uint8Array): string {
  let s = '"';
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      s += JSON_ASCII[b]!;
      i++;
      continue;
    }
    const cp = decodeRune(bytes, i);
    if (cp < 0) {
      s += "\\ufffd";
      i++;
      continue;
    }
    i += utf8Width(cp);
    if (cp === 0x2028 || cp === 0x2029) s += "\\u" + hex4(cp);
    else s += String.fromCodePoint(cp);
  }
  return s + '"';
}

// What JSON.stringify escapes otherwise than Go's encoding/json does.
const JSON_NOT_NATIVE = /[<>&\b\f\u2028\u2029\ud800-\udfff]/;

/**
 * `encoding/json`'s string of a JavaScript string (text whose UTF-8 is the
 * Go string), quotes included; a lone surrogate U+DC80 to U+DCFF is one raw
 * byte that is not UTF-8 (see `goUtf8`), other lone surrogates count as
 * their 3 invalid bytes.
 *
 * @param text The text.
 * @returns The JSON string.
 */
export function jsonString(text: string): string {
  // Native JSON.stringify agrees with Go unless one of these is in the
  // text (any surrogate: pairs too, which the loop below keeps); one scan.
  if (!JSON_NOT_NATIVE.test(text)) return JSON.stringify(text);
  let s = '"';
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (JSON_PLAIN[c] === 1) continue;
      s += text.slice(from, i) + JSON_ASCII[c]!;
      from = i + 1;
    } else if (c === 0x2028 || c === 0x2029) {
      s += text.slice(from, i) + "\\u" + hex4(c);
      from = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      // A lone surrogate. U+DC80 to U+DCFF stand for one raw byte 0x80 to
      // 0xFF that is not UTF-8 (goUtf8's convention, as Python's
      // surrogateescape): one U+FFFD in Go. Others: 3 invalid bytes.
      s += text.slice(from, i) +
        (c >= 0xdc80 && c <= 0xdcff ? "\\ufffd" : "\\ufffd\\ufffd\\ufffd");
      from = i + 1;
    }
  }
  return s + text.slice(from) + '"';
}

// ---------------------------------------------------------------------------
// net.IP

const DEC: string[] = [];
for (let b = 0; b < 256; b++) DEC.push(String(b));

function dotted(b: Uint8Array, at: number): string {
  return DEC[b[at]!]! + "." + DEC[b[at + 1]!]! + "." + DEC[b[at + 2]!]! +
    "." + DEC[b[at + 3]!]!;
}

/**
 * Go's `net.IP(bytes).String()`: `"<nil>"` for no bytes, a dotted quad for
 * 4 bytes and for IPv4-mapped IPv6 (`::ffff:a.b.c.d` prints as `a.b.c.d`),
 * RFC 5952 text for other 16-byte addresses, `"?"` and the bytes in hex for
 * other lengths.
 *
 * @param b The address bytes.
 * @returns Its text.
 */
export function goIPString(b: Uint8Array): string {
  const n = b.length;
  if (n === 4) return dotted(b, 0);
  if (n === 0) return "<nil>";
  if (n !== 16) {
    let s = "?";
    for (let i = 0; i < n; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
    return s;
  }
  let zeros10 = true;
  for (let i = 0; i < 10; i++) {
    if (b[i] !== 0) {
      zeros10 = false;
      break;
    }
  }
  if (zeros10 && b[10] === 0xff && b[11] === 0xff) return dotted(b, 12);
  // The longest run of two or more zero groups (the first on a tie).
  let best = -1;
  let bestEnd = -1;
  for (let i = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && b[j] === 0 && b[j + 1] === 0) j += 2;
    if (j > i && j - i > bestEnd - best) {
      best = i;
      bestEnd = j;
      i = j;
    }
  }
  if (bestEnd - best <= 2) best = bestEnd = -1;
  let s = "";
  for (let i = 0; i < 16; i += 2) {
    if (i === best) {
      s += "::";
      i = bestEnd - 2;
      continue;
    }
    if (i > 0 && i !== bestEnd) s += ":";
    s += ((b[i]! << 8) | b[i + 1]!).toString(16);
  }
  return s;
}

// ---------------------------------------------------------------------------
// dnstap enums as the Go tool's generated code names them (protobuf-go
// `String()`: the name it knows, else the number in decimal).

/** Go's SocketProtocol names: golang-dnstap 0.4 knows only the first four. */
const GO_SOCKET_PROTOCOLS: EnumTable = [undefined, "UDP", "TCP", "DOT", "DOH"];

/** An enum value's number, from our name or the number itself. */
export function enumValue(table: EnumTable, v: string | number): number {
  return typeof v === "number" ? v : table.indexOf(v);
}

function goName(go: EnumTable, n: number): string {
  return (n > 0 ? go[n] : undefined) ?? String(n);
}

/** `fmt.Sprint` of a `Dnstap.Type`. */
export function goDnstapType(v: string | number): string {
  return goName(DNSTAP_TYPES, enumValue(DNSTAP_TYPES, v));
}

/** `fmt.Sprint` of a `Message.Type`. */
export function goMessageType(v: string | number): string {
  return goName(MESSAGE_TYPES, enumValue(MESSAGE_TYPES, v));
}

/** `fmt.Sprint` of a `SocketFamily`. */
export function goSocketFamily(v: string | number): string {
  return goName(SOCKET_FAMILIES, enumValue(SOCKET_FAMILIES, v));
}

/** `fmt.Sprint` of a `SocketProtocol`. */
export function goSocketProtocol(v: string | number): string {
  return goName(GO_SOCKET_PROTOCOLS, enumValue(SOCKET_PROTOCOLS, v));
}
