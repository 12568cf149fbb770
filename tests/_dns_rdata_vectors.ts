// Hand-built rdata for every type miekg/dns 1.1.50 has a struct for, plus
// unknown types: valid values, boundary values and the odd cases of each
// type's text. Tests derive cuts and trailing bytes from them.

import { OWNER_OFFSET, type RdataCase } from "./_dns_rdata.ts";

/** Concatenates byte parts (numbers are single bytes). */
export function cat(...parts: (Uint8Array | number[] | number)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "number" ? new Uint8Array([p]) : Uint8Array.from(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

/** A wire-format name from dotted text (no escapes); "." is the root. */
export function name(text: string): Uint8Array {
  const labels = text === "." ? [] : text.replace(/\.$/, "").split(".");
  const parts: number[] = [];
  for (const l of labels) {
    parts.push(l.length, ...new TextEncoder().encode(l));
  }
  parts.push(0);
  return Uint8Array.from(parts);
}

/** A 16-bit big-endian integer. */
export function u16(v: number): number[] {
  return [v >> 8 & 255, v & 255];
}

/** A 32-bit big-endian integer. */
export function u32(v: number): number[] {
  return [v >>> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255];
}

/** A character-string (length byte + bytes). */
export function str(b: string | number[]): Uint8Array {
  const bytes = typeof b === "string"
    ? Uint8Array.from(b, (c) => c.charCodeAt(0))
    : Uint8Array.from(b);
  return cat(bytes.length, bytes);
}

/** Raw bytes from a latin-1 string. */
export function raw(b: string): Uint8Array {
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** Bytes 0, 1, ..., n - 1 (mod 256). */
export function seq(n: number, start = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
}

/** A pointer to the owner name `a.`. */
export const PTR = [0xc0, OWNER_OFFSET];

const NAMES = [name("mail.example."), name("."), cat(1, 0x78, PTR)];
const ODD_NAME = cat(4, raw('a. "'), 3, [0x00, 0x5c, 0xff], 0);

function c(type: number, note: string, rdata: Uint8Array): RdataCase {
  return { type, note, rdata };
}

const now = Math.floor(Date.now() / 1000);

/** Valid (or interesting) rdata of every type. */
export const VALID: RdataCase[] = [
  c(1, "A", Uint8Array.from([192, 0, 2, 1])),
  c(1, "A zero", new Uint8Array(4)),
  c(28, "AAAA", cat(0x20, 0x01, 0x0d, 0xb8, new Uint8Array(11), 1)),
  c(28, "AAAA all zero", new Uint8Array(16)),
  c(28, "AAAA mapped", cat(new Uint8Array(10), 0xff, 0xff, 1, 2, 3, 4)),
  c(28, "AAAA one zero group", cat(0, 1, 0, 0, 0, 2, 0, 3, seq(8, 4))),
  c(28, "AAAA two runs", cat(0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3)),
  c(28, "AAAA trailing zeros", cat(0xfe, 0x80, new Uint8Array(14))),
  ...[2, 3, 4, 5, 7, 8, 9, 12, 23, 39].flatMap((t) => [
    c(t, "name", NAMES[0]!),
    c(t, "root", NAMES[1]!),
    c(t, "pointer", NAMES[2]!),
    c(t, "escapes", ODD_NAME),
  ]),
  c(14, "MINFO", cat(NAMES[0]!, ODD_NAME)),
  c(17, "RP", cat(NAMES[2]!, NAMES[1]!)),
  c(58, "TALINK", cat(NAMES[1]!, NAMES[0]!)),
  ...[15, 18, 21, 36, 107].flatMap((t) => [
    c(t, "pref name", cat(u16(10), NAMES[0]!)),
    c(t, "pref max", cat(u16(65535), NAMES[2]!)),
  ]),
  c(26, "PX", cat(u16(7), NAMES[0]!, NAMES[2]!)),
  c(
    6,
    "SOA",
    cat(
      NAMES[0]!,
      NAMES[2]!,
      u32(2026120301),
      u32(7200),
      u32(3600),
      u32(
        1209600,
      ),
      u32(4294967295),
    ),
  ),
  c(16, "TXT", cat(str("hello"), str(""), str('q"b\\s;x y'))),
  c(16, "TXT escapes", cat(str([0, 9, 10, 31, 127, 128, 255, 0x5c, 0x31]))),
  c(16, "TXT backslash digits", cat(str("\\123\\"), str("\\\\"))),
  c(16, "TXT 255", cat(str("x".repeat(255)))),
  c(99, "SPF", cat(str("v=spf1 -all"))),
  c(258, "AVC", cat(str("app=x"), str("b"))),
  c(56, "NINFO", cat(str("zs"))),
  c(13, "HINFO", cat(str("INTEL"), str('Linux "x"'))),
  c(100, "UINFO", cat(str("info\x01"))),
  c(19, "X25", cat(str("311061700956"))),
  c(19, "X25 escapes", cat(str('a"b\\c\x7f'))),
  c(27, "GPOS", cat(str("-32.6882"), str("116.8652"), str("10.0"))),
  c(33, "SRV", cat(u16(0), u16(5), u16(5060), NAMES[0]!)),
  c(33, "SRV max", cat(u16(65535), u16(65535), u16(65535), NAMES[1]!)),
  c(
    35,
    "NAPTR",
    cat(u16(100), u16(10), str("u"), str("E2U+sip"), str("!^.*$!x!"), 1, 0),
  ),
  c(
    35,
    "NAPTR escapes",
    cat(u16(1), u16(2), str('"'), str("\\"), str([0xff]), ODD_NAME),
  ),
  c(10, "NULL", raw("hello world")),
  c(10, "NULL binary", Uint8Array.from([0, 1, 0x80, 0xc3, 0xa9, 0xff, 10])),
  c(10, "NULL utf8", new TextEncoder().encode("h\u00e9 \u20ac \u{1f600}")),
  c(257, "CAA", cat(0, str("issue"), raw("ca.example.net"))),
  c(257, "CAA flag 128", cat(128, str("iodef"), raw("mailto:a@b"))),
  c(257, "CAA quotes", cat(0, str("tag"), raw('a"b\\c'))),
  c(257, "CAA backslash dot", cat(0, str("t"), raw("a\\.b\\"))),
  c(257, "CAA ddd", cat(0, str("t"), raw("\\065\\999\\12x\\q"))),
  c(257, "CAA binary", cat(0, str("t\x01"), [0, 0x7f, 0x80, 0xff, 0x0a])),
  c(256, "URI", cat(u16(10), u16(1), raw("ftp://ftp1.example.com/public"))),
  c(256, "URI escapes", cat(u16(1), u16(2), raw('"\\'))),
  c(101, "UID", Uint8Array.from(u32(4294967295))),
  c(102, "GID", Uint8Array.from(u32(1000))),
  c(104, "NID", cat(u16(10), 0, 0x14, 0x4f, 0xff, 0xfe, 0x12, 0x34, 0x5a)),
  c(106, "L64", cat(u16(10), 0x20, 0x14, 0x33, 0x6c, 0xab, 0xcd, 0xef, 0x01)),
  c(105, "L32", cat(u16(10), 10, 1, 2, 3)),
  c(108, "EUI48", Uint8Array.from([0, 0x0a, 0xbc, 0xde, 0xf0, 0x12])),
  c(109, "EUI64", Uint8Array.from([0, 0x0a, 0xbc, 0xde, 0xf0, 0x12, 0, 1])),
  c(31, "EID", Uint8Array.from([0xab, 0xcd, 0x01])),
  c(32, "NIMLOC", Uint8Array.from([0x0f, 0xe0])),
  c(
    29,
    "LOC",
    cat(
      0,
      0x12,
      0x16,
      0x13,
      u32(2 ** 31 + 186000000),
      u32(2 ** 31 - 4000000),
      u32(
        10000000 + 1234,
      ),
    ),
  ),
  c(
    29,
    "LOC equator",
    cat(0, 0x00, 0x01, 0x9f, u32(2 ** 31), u32(2 ** 31), u32(0)),
  ),
  c(
    29,
    "LOC extremes",
    cat(1, 0xff, 0xf1, 0x10, u32(4294967295), u32(0), u32(4294967295)),
  ),
  c(
    29,
    "LOC whole meters",
    cat(
      0,
      0x22,
      0x33,
      0x44,
      u32(2 ** 31 + 12345),
      u32(2 ** 31 + 1),
      u32(
        10000000 - 500,
      ),
    ),
  ),
  c(29, "LOC small alt", cat(0, 0, 0, 0, u32(0), u32(1), u32(9999999))),
  c(
    42,
    "APL",
    cat(u16(1), 24, 3, 192, 168, 32, u16(2), 64, 0x80 | 4, 0x20, 1, 0x0d, 0xb8),
  ),
  c(42, "APL empty address", cat(u16(1), 0, 0, u16(2), 128, 0x80)),
  c(
    42,
    "APL mapped",
    cat(u16(2), 128, 16, new Uint8Array(10), 0xff, 0xff, 1, 2, 3, 4),
  ),
  c(42, "APL bad family", cat(u16(3), 0, 0)),
  c(42, "APL prefix too long", cat(u16(1), 33, 0)),
  c(42, "APL length too long", cat(u16(1), 8, 5, 1, 2, 3, 4, 5)),
  c(42, "APL trailing zero", cat(u16(1), 8, 2, 10, 0)),
  ...[43, 59, 32769, 32768].flatMap((t) => [
    c(t, "DS", cat(u16(60485), 5, 1, seq(20, 0xa0))),
    c(t, "DS empty digest", cat(u16(1), 8, 2)),
  ]),
  ...[48, 60, 25, 57].flatMap((t) => [
    c(t, "DNSKEY", cat(u16(257), 3, 8, seq(33, 7))),
    c(t, "DNSKEY 1 byte", cat(u16(256), 3, 13, 0xfb)),
    c(t, "DNSKEY 2 bytes", cat(u16(256), 3, 13, 0xfb, 0xff)),
  ]),
  // Long keys and digests take the buffered path (96 bytes and more).
  c(48, "DNSKEY 95", cat(u16(257), 3, 8, seq(95, 1))),
  c(48, "DNSKEY 96", cat(u16(257), 3, 8, seq(96, 2))),
  c(48, "DNSKEY 97", cat(u16(257), 3, 8, seq(97, 3))),
  c(48, "DNSKEY 98", cat(u16(257), 3, 8, seq(98, 4))),
  c(48, "DNSKEY 256", cat(u16(256), 3, 8, seq(256, 5))),
  c(43, "DS 96", cat(u16(1), 8, 2, seq(96, 0xf0))),
  c(52, "TLSA 95", cat(3, 1, 1, seq(95, 0xa0))),
  c(49, "DHCID", seq(35, 3)),
  c(61, "OPENPGPKEY", seq(7, 250)),
  ...[46, 24].flatMap((t) => [
    c(
      t,
      "RRSIG",
      cat(
        u16(1),
        8,
        2,
        u32(3600),
        u32(now + 86400),
        u32(now - 86400),
        u16(
          12345,
        ),
        NAMES[0]!,
        seq(64),
      ),
    ),
    c(
      t,
      "RRSIG old and far times",
      cat(
        u16(65280),
        13,
        0,
        u32(0),
        u32(4294967295),
        u32(1),
        u16(0),
        NAMES[
          1
        ]!,
        seq(1),
      ),
    ),
    c(
      t,
      "RRSIG 2**31",
      cat(
        u16(32769),
        253,
        255,
        u32(2 ** 31),
        u32(2 ** 31),
        u32(2 ** 31 - 1),
        u16(
          1,
        ),
        NAMES[2]!,
      ),
    ),
  ]),
  c(47, "NSEC", cat(NAMES[0]!, 0, 6, 0x40, 0x01, 0, 0, 0, 0x03)),
  c(
    47,
    "NSEC windows",
    cat(NAMES[2]!, 0, 1, 0xff, 1, 1, 0x80, 0x80, 1, 0xc0, 0xff, 32, seq(32)),
  ),
  c(47, "NSEC no bitmap", NAMES[1]!),
  c(47, "NSEC out of order", cat(NAMES[1]!, 1, 1, 0x40, 0, 1, 0x40)),
  c(47, "NSEC same window", cat(NAMES[1]!, 0, 1, 0x40, 0, 1, 0x40)),
  c(47, "NSEC empty block", cat(NAMES[1]!, 0, 0)),
  c(47, "NSEC long block", cat(NAMES[1]!, 0, 33, seq(33))),
  c(47, "NSEC cut block", cat(NAMES[1]!, 0, 4, 1)),
  c(47, "NSEC one byte", cat(NAMES[1]!, 0)),
  c(62, "CSYNC", cat(u32(66), u16(3), 0, 3, 0x60, 0, 0x08)),
  c(
    50,
    "NSEC3",
    cat(
      1,
      1,
      u16(12),
      4,
      0xaa,
      0xbb,
      0xcc,
      0xdd,
      20,
      seq(20),
      0,
      2,
      0x22,
      0x01,
    ),
  ),
  c(50, "NSEC3 no salt", cat(1, 0, u16(0), 0, 3, 1, 2, 3)),
  c(50, "NSEC3 hash 0", cat(1, 0, u16(0), 0, 0)),
  c(50, "NSEC3 hash lengths", cat(1, 0, u16(0), 1, 0xff, 1, 0xff)),
  c(50, "NSEC3 long hash", cat(1, 0, u16(0), 0, 9, 1, 2)),
  c(51, "NSEC3PARAM", cat(1, 0, u16(10), 2, 0xab, 0xcd)),
  c(51, "NSEC3PARAM no salt", cat(1, 255, u16(65535), 0)),
  c(52, "TLSA", cat(3, 1, 1, seq(32, 0xe0))),
  c(53, "SMIMEA", cat(3, 0, 1, seq(3, 0xfe))),
  c(53, "SMIMEA 512", cat(0, 0, 0, seq(512))),
  c(53, "SMIMEA 600", cat(0, 0, 0, seq(600))),
  c(53, "SMIMEA 1024", cat(0, 0, 0, seq(1024))),
  c(44, "SSHFP", cat(4, 2, seq(32, 0x9a))),
  c(37, "CERT", cat(u16(1), u16(12345), 8, seq(10))),
  c(37, "CERT unknown", cat(u16(9), u16(0), 4, seq(1))),
  c(37, "CERT URI OID", cat(u16(253), u16(1), 252, seq(2))),
  c(37, "CERT OID", cat(u16(254), u16(1), 254, seq(3))),
  c(37, "CERT algs", cat(u16(255), u16(1), 16, seq(3))),
  c(
    55,
    "HIP",
    cat(4, 2, u16(5), 0xde, 0xad, 0xbe, 0xef, seq(5), NAMES[0]!, NAMES[2]!),
  ),
  c(55, "HIP no servers", cat(1, 2, u16(1), 0xaa, 0xbb)),
  c(55, "HIP empty hit", cat(0, 2, u16(0), 0)),
  c(63, "ZONEMD", cat(u32(2026120301), 1, 1, seq(48, 0x80))),
  c(
    249,
    "TKEY",
    cat(
      name("gss-tsig."),
      u32(now),
      u32(now + 3600),
      u16(3),
      u16(0),
      u16(
        4,
      ),
      0xde,
      0xad,
      0xbe,
      0xef,
      u16(2),
      0xab,
      0xcd,
    ),
  ),
  c(
    249,
    "TKEY empty key",
    cat(NAMES[2]!, u32(1), u32(2), u16(0), u16(0), u16(0), u16(0)),
  ),
  c(
    250,
    "TSIG",
    cat(
      name("hmac-sha256."),
      0,
      0,
      u32(now),
      u16(300),
      u16(4),
      0xde,
      0xad,
      0xbe,
      0xef,
      u16(
        4660,
      ),
      u16(0),
      u16(0),
    ),
  ),
  c(
    250,
    "TSIG far time",
    cat(
      NAMES[1]!,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      u16(1),
      u16(0),
      u16(
        1,
      ),
      u16(18),
      u16(6),
      0,
      0,
      0x5f,
      0x5e,
      0x10,
      0,
    ),
  ),
  c(
    250,
    "TSIG 2**40",
    cat(NAMES[1]!, 1, 0, 0, 0, 0, 0, u16(1), u16(0), u16(1), u16(18), u16(0)),
  ),
  // SVCB / HTTPS
  ...[64, 65].flatMap((t) => [
    c(t, "alias", cat(u16(0), NAMES[0]!)),
    c(
      t,
      "params",
      cat(
        u16(1),
        NAMES[1]!,
        u16(0),
        u16(4),
        u16(1),
        u16(3),
        u16(1),
        u16(10),
        2,
        raw("h2"),
        2,
        raw("h3"),
        3,
        raw('a,"'),
        u16(2),
        u16(0),
        u16(3),
        u16(2),
        u16(443),
        u16(4),
        u16(8),
        192,
        0,
        2,
        1,
        192,
        0,
        2,
        2,
        u16(5),
        u16(4),
        1,
        2,
        3,
        4,
        u16(6),
        u16(16),
        0x20,
        0x01,
        0x0d,
        0xb8,
        new Uint8Array(11),
        1,
        u16(7),
        u16(12),
        raw("/q{?dns}\\ ;\x01"),
        u16(8),
        u16(2),
        0xff,
        0x22,
        u16(65534),
        u16(0),
      ),
    ),
    c(
      t,
      "alpn escapes",
      cat(u16(1), NAMES[2]!, u16(1), u16(6), 0, 4, raw("\\\x00;\x7f")),
    ),
    c(t, "mandatory odd", cat(u16(1), NAMES[1]!, u16(0), u16(3), 0, 1, 2)),
    c(
      t,
      "mandatory keys",
      cat(u16(1), NAMES[1]!, u16(0), u16(6), u16(65535), u16(7), u16(300)),
    ),
    c(
      t,
      "alpn overflow",
      cat(u16(1), NAMES[1]!, u16(1), u16(3), 5, 0x61, 0x62),
    ),
    c(t, "no-default-alpn value", cat(u16(1), NAMES[1]!, u16(2), u16(1), 0)),
    c(t, "port length", cat(u16(1), NAMES[1]!, u16(3), u16(3), 0, 0, 0)),
    c(t, "ipv4hint empty", cat(u16(1), NAMES[1]!, u16(4), u16(0))),
    c(t, "ipv4hint 5", cat(u16(1), NAMES[1]!, u16(4), u16(5), seq(5))),
    c(t, "ipv6hint 15", cat(u16(1), NAMES[1]!, u16(6), u16(15), seq(15))),
    c(
      t,
      "ipv6hint mapped",
      cat(
        u16(1),
        NAMES[1]!,
        u16(6),
        u16(16),
        new Uint8Array(10),
        0xff,
        0xff,
        1,
        2,
        3,
        4,
      ),
    ),
    c(t, "key 65535", cat(u16(1), NAMES[1]!, u16(65535), u16(0))),
    c(
      t,
      "keys out of order",
      cat(u16(1), NAMES[1]!, u16(3), u16(2), 0, 1, u16(1), u16(0)),
    ),
    c(
      t,
      "keys repeated",
      cat(u16(1), NAMES[1]!, u16(9), u16(0), u16(9), u16(0)),
    ),
    c(
      t,
      "bad value before order",
      cat(u16(1), NAMES[1]!, u16(9), u16(0), u16(3), u16(1), 0),
    ),
    c(t, "cut key", cat(u16(1), NAMES[1]!, 0)),
    c(t, "cut length", cat(u16(1), NAMES[1]!, u16(1), 0)),
    c(t, "value past end", cat(u16(1), NAMES[1]!, u16(1), u16(9), 0)),
    c(t, "empty alpn", cat(u16(1), NAMES[1]!, u16(1), u16(0))),
    c(
      t,
      "alpn empty ids",
      cat(u16(1), NAMES[1]!, u16(1), u16(3), 0, 1, 0x61, 0),
    ),
  ]),
  c(255, "ANY", Uint8Array.from([1, 2])),
  // Names in rdata fail as names do anywhere: a pointer loop (offset 25 is
  // the rdata's first byte), a pointer past the rdata's end, 256 octets, a
  // reserved label type.
  c(2, "pointer loop", Uint8Array.from([0xc0, 25])),
  c(15, "pointer past end", cat(u16(1), 0xc0, 40)),
  c(
    2,
    "name over 255",
    cat(...Array.from({ length: 5 }, () => cat(63, seq(63, 0x41))), 0),
  ),
  c(2, "label type 0x40", Uint8Array.from([0x41, 0])),
  c(
    6,
    "SOA pointers",
    cat(PTR, 1, 0x62, 0xc0, 25, u32(1), u32(2), u32(3), u32(4), u32(5)),
  ),
  c(41 + 65239, "unknown 65280", Uint8Array.from([10, 0, 0, 1])),
  c(20, "ISDN (no struct)", cat(str("150862028003217"))),
  c(30, "NXT (no struct)", cat(NAMES[1]!, 0x40)),
  c(34, "ATMA (no struct)", Uint8Array.from([0, 0xab])),
  c(103, "UNSPEC (no struct)", Uint8Array.from([0xff])),
  c(0, "type 0", Uint8Array.from([1])),
  c(65535, "type 65535", Uint8Array.from([1, 2, 3])),
  c(32770, "type 32770", seq(300)),
];
