/**
 * The EDNS OPT pseudo-record (RFC 6891): its options unpacked and printed as
 * miekg/dns 1.1.50 does (`unpackDataOpt`, `makeDataOpt`, each `EDNS0_*`
 * type's `unpack` and `String`, and `OPT.String`), errors included.
 *
 * @module
 */

import { formatDnstapAddress } from "./_dnstap_text.ts";
import { DnsMessageError, ERR_BUF } from "./_dns_wire.ts";
import { goUtf8 } from "./_dns_rdata_format.ts";

/** miekg/dns's error for an option header or body past the rdata. */
const ERR_OPT = "dns: overflow unpacking opt";

const HEX: string[] = [];
const HEX_UPPER: string[] = [];
for (let b = 0; b < 256; b++) {
  HEX.push(b.toString(16).padStart(2, "0"));
  HEX_UPPER.push(HEX[b]!.toUpperCase());
}

/**
 * Lowercase hex of bytes, as Go's `hex.EncodeToString`.
 *
 * @param msg The bytes.
 * @param from First byte.
 * @param to One past the last byte.
 * @returns The hex text.
 */
export function hexLower(msg: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += HEX[msg[i]!]!;
  return s;
}

function hexUpper(msg: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += HEX_UPPER[msg[i]!]!;
  return s;
}

// miekg/dns AlgorithmToString (DAU) and HashToString (DHU, N3U).
const ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [1, "RSAMD5"],
  [2, "DH"],
  [3, "DSA"],
  [5, "RSASHA1"],
  [6, "DSA-NSEC3-SHA1"],
  [7, "RSASHA1-NSEC3-SHA1"],
  [8, "RSASHA256"],
  [10, "RSASHA512"],
  [12, "ECC-GOST"],
  [13, "ECDSAP256SHA256"],
  [14, "ECDSAP384SHA384"],
  [15, "ED25519"],
  [16, "ED448"],
  [252, "INDIRECT"],
  [253, "PRIVATEDNS"],
  [254, "PRIVATEOID"],
]);
const HASHES: ReadonlyMap<number, string> = new Map([
  [1, "SHA1"],
  [2, "SHA256"],
  [3, "GOST94"],
  [4, "SHA384"],
  [5, "SHA512"],
]);

// miekg/dns ExtendedErrorCodeToString (RFC 8914), by info code.
const EDE_NAMES: readonly string[] = [
  "Other",
  "Unsupported DNSKEY Algorithm",
  "Unsupported DS Digest Type",
  "Stale Answer",
  "Forged Answer",
  "DNSSEC Indeterminate",
  "DNSSEC Bogus",
  "Signature Expired",
  "Signature Not Yet Valid",
  "DNSKEY Missing",
  "RRSIGs Missing",
  "No Zone Key Bit Set",
  "NSEC Missing",
  "Cached Error",
  "Not Ready",
  "Blocked",
  "Censored",
  "Filtered",
  "Prohibited",
  "Stale NXDOMAIN Answer",
  "Not Authoritative",
  "Not Supported",
  "No Reachable Authority",
  "Network Error",
  "Invalid Data",
];

// The label OPT.String() puts before each option's text; "" for EXPIRE,
// which it does not print at all. Codes not here are EDNS0_LOCAL.
const LABELS: readonly string[] = [
  "\n; LOCAL OPT: ", // 0 is not one of miekg's codes: LOCAL
  "\n; LONG LIVED QUERIES: ",
  "\n; UPDATE LEASE: ",
  "\n; NSID: ",
  "\n; ESU: ",
  "\n; DNSSEC ALGORITHM UNDERSTOOD: ",
  "\n; DS HASH UNDERSTOOD: ",
  "\n; NSEC3 HASH UNDERSTOOD: ",
  "\n; SUBNET: ",
  "",
  "\n; COOKIE: ",
  "\n; KEEPALIVE: ",
  "\n; PADDING: ",
  "\n; LOCAL OPT: ",
  "\n; LOCAL OPT: ",
  "\n; EDE: ",
];

// IANA's mnemonics for EDNS option codes.
const OPTION_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "LLQ"],
  [2, "UL"],
  [3, "NSID"],
  [4, "ESU"],
  [5, "DAU"],
  [6, "DHU"],
  [7, "N3U"],
  [8, "ECS"],
  [9, "EXPIRE"],
  [10, "COOKIE"],
  [11, "TCP-KEEPALIVE"],
  [12, "PADDING"],
  [13, "CHAIN"],
  [14, "KEY-TAG"],
  [15, "EDE"],
  [16, "CLIENT-TAG"],
  [17, "SERVER-TAG"],
  [18, "REPORT-CHANNEL"],
  [19, "ZONEVERSION"],
]);

/**
 * An EDNS option code's IANA mnemonic (`"NSID"`, `"ECS"`, `"COOKIE"`,
 * `"EDE"`, ...) or `"OPT"` and the number for a code without one.
 *
 * @param code The option code.
 * @returns Its name.
 */
export function ednsOptionName(code: number): string {
  return OPTION_NAMES.get(code) ?? "OPT" + code;
}

function u16(msg: Uint8Array, i: number): number {
  return (msg[i]! << 8) | msg[i + 1]!;
}

function u32(msg: Uint8Array, i: number): number {
  return ((msg[i]! << 24) >>> 0) + ((msg[i + 1]! << 16) | u16(msg, i + 2));
}

function algorithms(
  msg: Uint8Array,
  from: number,
  to: number,
  names: ReadonlyMap<number, string>,
): string {
  let s = "";
  for (let i = from; i < to; i++) {
    const b = msg[i]!;
    s += " " + (names.get(b) ?? String(b));
  }
  return s;
}

/** The address of an EDNS0_SUBNET option as Go's `net.IP.String()`. */
function subnetAddress(
  msg: Uint8Array,
  from: number,
  to: number,
  size: number,
): string {
  const ip = new Uint8Array(size);
  ip.set(msg.subarray(from, Math.min(to, from + size)));
  if (size === 4) return ip.join(".");
  let mapped = ip[10] === 0xff && ip[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (ip[i] !== 0) mapped = false;
  if (mapped) return ip.subarray(12).join(".");
  return "[" + formatDnstapAddress(ip) + "]";
}

/**
 * One option's text as miekg/dns's `EDNS0_*.String()` prints it, after
 * unpacking it as that type's `unpack` does (and failing where it fails).
 *
 * @param msg The DNS message.
 * @param code The option code.
 * @param from The option data's first byte.
 * @param to One past its last byte.
 * @returns The text.
 */
export function ednsOptionText(
  msg: Uint8Array,
  code: number,
  from: number,
  to: number,
): string {
  const len = to - from;
  switch (code) {
    case 1: // LLQ
      if (len < 18) throw new DnsMessageError(from, ERR_BUF);
      return u16(msg, from) + " " + u16(msg, from + 2) + " " +
        u16(msg, from + 4) + " " +
        ((BigInt(u32(msg, from + 6)) << 32n) + BigInt(u32(msg, from + 10))) +
        " " + u32(msg, from + 14);
    case 2: // UL
      if (len !== 4 && len !== 8) throw new DnsMessageError(from, ERR_BUF);
      return u32(msg, from) + " " + (len === 8 ? u32(msg, from + 4) : 0);
    case 3: { // NSID: hex, two spaces, then each byte as the rune of its value
      let s = hexLower(msg, from, to) + "  ";
      for (let i = from; i < to; i++) {
        s += "(" + String.fromCharCode(msg[i]!) + ")";
      }
      return s;
    }
    case 4: // ESU
      return goUtf8(msg, from, to);
    case 5: // DAU
      return algorithms(msg, from, to, ALGORITHMS);
    case 6: // DHU
    case 7: // N3U
      return algorithms(msg, from, to, HASHES);
    case 8: { // SUBNET
      if (len < 4) throw new DnsMessageError(from, ERR_BUF);
      const family = u16(msg, from);
      const mask = msg[from + 2]!;
      const scope = msg[from + 3]!;
      let addr: string;
      if (family === 0) {
        if (mask !== 0) {
          throw new DnsMessageError(from, "dns: bad address family");
        }
        addr = "0.0.0.0";
      } else if (family === 1 || family === 2) {
        const bits = family === 1 ? 32 : 128;
        if (mask > bits || scope > bits) {
          throw new DnsMessageError(from, "dns: bad netmask");
        }
        addr = subnetAddress(msg, from + 4, to, bits / 8);
      } else {
        throw new DnsMessageError(from, "dns: bad address family");
      }
      return addr + "/" + mask + "/" + scope;
    }
    case 9: // EXPIRE
      if (len === 0) return "";
      if (len < 4) throw new DnsMessageError(from, ERR_BUF);
      return String(u32(msg, from));
    case 10: // COOKIE
      return hexLower(msg, from, to);
    case 11: // TCP KEEPALIVE; Go multiplies in uint16, so it wraps
      if (len === 0) return "use tcp keep-alive, timeout omitted";
      if (len !== 2) {
        throw new DnsMessageError(
          from,
          "dns: length mismatch, want 0/2 but got " + len,
        );
      }
      return u16(msg, from) === 0
        ? "use tcp keep-alive, timeout omitted"
        : "use tcp keep-alive, timeout " + ((u16(msg, from) * 100) & 0xffff) +
          "ms";
    case 12: // PADDING, Go's %0X
      return hexUpper(msg, from, to);
    case 15: { // EDE
      if (len < 2) throw new DnsMessageError(from, ERR_BUF);
      const info = u16(msg, from);
      const name = EDE_NAMES[info];
      return info + (name === undefined ? "" : " (" + name + ")") + ": (" +
        goUtf8(msg, from + 2, to) + ")";
    }
    default: // EDNS0_LOCAL
      return code + ":0x" + hexLower(msg, from, to);
  }
}

/**
 * Walks the options of an OPT record's rdata as miekg/dns
 * `unpackDataOpt` does, calling `each` for every option; throws its errors.
 * Nothing is called for empty rdata (miekg/dns does not unpack it).
 *
 * @param msg The DNS message.
 * @param from The rdata's first byte.
 * @param to One past its last byte.
 * @param each Called with each option's code and data bounds.
 */
export function forEachEdnsOption(
  msg: Uint8Array,
  from: number,
  to: number,
  each: (code: number, start: number, end: number) => void,
): void {
  let off = from;
  while (off < to) {
    if (off + 4 > to) throw new DnsMessageError(off, ERR_OPT);
    const code = u16(msg, off);
    const end = off + 4 + u16(msg, off + 2);
    if (end > to) throw new DnsMessageError(off, ERR_OPT);
    each(code, off + 4, end);
    off = end;
  }
}

/**
 * An OPT record as miekg/dns `OPT.String()` prints it (the "OPT
 * PSEUDOSECTION", starting with a newline), unpacking and checking its
 * options as it goes.
 *
 * @param msg The DNS message.
 * @param from The rdata's first byte.
 * @param to One past its last byte.
 * @param ttl The record's TTL field (extended rcode, version, DO, Z).
 * @param udp The record's class field (the UDP payload size).
 * @returns The text.
 */
export function optText(
  msg: Uint8Array,
  from: number,
  to: number,
  ttl: number,
  udp: number,
): string {
  let s = "\n;; OPT PSEUDOSECTION:\n; EDNS: version " + ((ttl >>> 16) & 0xff) +
    ((ttl & 0x8000) !== 0 ? "; flags: do; udp: " : "; flags: ; udp: ") + udp;
  let off = from;
  while (off < to) {
    if (off + 4 > to) throw new DnsMessageError(off, ERR_OPT);
    const code = u16(msg, off);
    const end = off + 4 + u16(msg, off + 2);
    if (end > to) throw new DnsMessageError(off, ERR_OPT);
    const text = ednsOptionText(msg, code, off + 4, end);
    if (code < 16) {
      const label = LABELS[code]!;
      if (label !== "") s += label + text;
    } else {
      s += "\n; LOCAL OPT: " + text;
    }
    off = end;
  }
  return s;
}

/**
 * Checks an OPT record's options as {@linkcode optText} unpacks them,
 * failing where and as it fails, without making text.
 *
 * @param msg The DNS message.
 * @param from The rdata's first byte.
 * @param to One past its last byte.
 */
export function optCheck(msg: Uint8Array, from: number, to: number): void {
  let off = from;
  while (off < to) {
    if (off + 4 > to) throw new DnsMessageError(off, ERR_OPT);
    const code = u16(msg, off);
    const end = off + 4 + u16(msg, off + 2);
    if (end > to) throw new DnsMessageError(off, ERR_OPT);
    const len = end - off - 4;
    // The options whose unpack can fail; the others take any bytes.
    if (
      (code === 1 && len < 18) || (code === 2 && len !== 4 && len !== 8) ||
      code === 8 || (code === 9 && len !== 0 && len < 4) ||
      (code === 11 && len !== 0 && len !== 2) || (code === 15 && len < 2)
    ) {
      ednsOptionText(msg, code, off + 4, end); // throws, or checks SUBNET
    }
    off = end;
  }
}
