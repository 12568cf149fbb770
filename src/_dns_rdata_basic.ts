/**
 * Rdata of the classic and the small RFC types as miekg/dns 1.1.50 unpacks
 * and prints them: names, character-strings, addresses, numbers. Each reader
 * takes the message and a cursor over the rdata and returns the text that
 * `RR.String()` prints after the header. miekg stops without error when the
 * rdata ends between two fields, leaving the rest at their zero values; the
 * `opt*` readers do that.
 *
 * @module
 */

import { DnsMessageError, readName, type WireCursor } from "./_dns_wire.ts";
import {
  goUtf8,
  hex,
  HEX2,
  ipv4Text,
  ipv6Text,
  isV4Mapped,
  opt16,
  opt32,
  opt8,
  optString,
  sprintTxtOctet,
  txtStrings,
} from "./_dns_rdata_format.ts";

/** A reader of one type's rdata. */
export type RdataReader = (msg: Uint8Array, cur: WireCursor) => string;

/** A name, or "" at the end of the rdata. */
export function optName(msg: Uint8Array, cur: WireCursor): string {
  return cur.off === cur.end ? "" : readName(msg, cur);
}

/** NS, CNAME, PTR, MB, MG, MR, MD, MF, DNAME, NSAP-PTR: one name. */
export const oneName: RdataReader = optName;

/** MINFO, RP, TALINK: two names. */
export const twoNames: RdataReader = (msg, cur) => {
  const a = optName(msg, cur);
  return a + " " + optName(msg, cur);
};

/** MX, AFSDB, RT, KX, LP: a 16-bit preference and a name. */
export const prefName: RdataReader = (msg, cur) => {
  const p = opt16(msg, cur);
  return p + " " + optName(msg, cur);
};

/** PX: preference and two names. */
export const px: RdataReader = (msg, cur) => {
  const p = opt16(msg, cur);
  const a = optName(msg, cur);
  return p + " " + a + " " + optName(msg, cur);
};

/** A: four bytes. */
export const a: RdataReader = (msg, cur) => {
  if (cur.off === cur.end) return "";
  return ipv4Text(msg, readAddress(cur, 4, "a"));
};

/** AAAA: sixteen bytes. */
export const aaaa: RdataReader = (msg, cur) => {
  if (cur.off === cur.end) return "";
  return ipv6Text(msg, readAddress(cur, 16, "aaaa"));
};

function readAddress(cur: WireCursor, n: number, what: string): number {
  const off = cur.off;
  if (off + n > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking " + what);
  }
  cur.off = off + n;
  return off;
}

/** SOA: two names and five 32-bit numbers. */
export const soa: RdataReader = (msg, cur) => {
  const ns = optName(msg, cur);
  const mbox = optName(msg, cur);
  return ns + " " + mbox + " " + opt32(msg, cur) + " " + opt32(msg, cur) +
    " " + opt32(msg, cur) + " " + opt32(msg, cur) + " " + opt32(msg, cur);
};

/**
 * TXT, SPF, AVC, NINFO: character-strings to the end of the rdata, each
 * quoted (miekg `sprintTxt` of `unpackTxt`).
 */
export const txt: RdataReader = txtStrings;

/** HINFO: CPU and OS, quoted. */
export const hinfo: RdataReader = (msg, cur) => {
  const cpu = optString(msg, cur);
  return '"' + cpu + '" "' + optString(msg, cur) + '"';
};

/** UINFO: one quoted character-string. */
export const uinfo: RdataReader = (msg, cur) => '"' + optString(msg, cur) + '"';

/** X25: one character-string, unquoted. */
export const x25: RdataReader = optString;

/** GPOS: three character-strings, unquoted. */
export const gpos: RdataReader = (msg, cur) => {
  const lon = optString(msg, cur);
  const lat = optString(msg, cur);
  return lon + " " + lat + " " + optString(msg, cur);
};

/** SRV: priority, weight, port, target. */
export const srv: RdataReader = (msg, cur) => {
  const pri = opt16(msg, cur);
  const w = opt16(msg, cur);
  const port = opt16(msg, cur);
  return pri + " " + w + " " + port + " " + optName(msg, cur);
};

/** NAPTR: order, preference, three quoted strings, replacement. */
export const naptr: RdataReader = (msg, cur) => {
  const order = opt16(msg, cur);
  const pref = opt16(msg, cur);
  const flags = optString(msg, cur);
  const service = optString(msg, cur);
  const regexp = optString(msg, cur);
  return order + " " + pref + ' "' + flags + '" "' + service + '" "' +
    regexp + '" ' + optName(msg, cur);
};

/**
 * NULL: miekg prints the bytes unescaped. Text is decoded from them as Go's
 * JSON output shows it (valid UTF-8 kept, each invalid byte U+FFFD); the Go
 * tool's YAML writes invalid bytes raw, which a string cannot hold.
 */
export const nul: RdataReader = (msg, cur) => {
  const s = goUtf8(msg, cur.off, cur.end);
  cur.off = cur.end;
  return s;
};

/** CAA: flag, tag, quoted value. */
export const caa: RdataReader = (msg, cur) => {
  const flag = opt8(msg, cur);
  const tag = optString(msg, cur);
  const v = sprintTxtOctet(msg, cur.off, cur.end);
  cur.off = cur.end;
  return flag + " " + tag + " " + v;
};

/** URI: priority, weight, quoted target. */
export const uri: RdataReader = (msg, cur) => {
  const pri = opt16(msg, cur);
  const w = opt16(msg, cur);
  const v = sprintTxtOctet(msg, cur.off, cur.end);
  cur.off = cur.end;
  return pri + " " + w + " " + v;
};

/** UID, GID: one 32-bit number. */
export const u32: RdataReader = (msg, cur) => String(opt32(msg, cur));

function read64(cur: WireCursor, what: string): number {
  const off = cur.off;
  if (off + 8 > cur.end) {
    throw new DnsMessageError(off, "dns: overflow unpacking " + what);
  }
  cur.off = off + 8;
  return off;
}

function groups(msg: Uint8Array, off: number, upper: boolean): string {
  const h = hex(msg, off, off + 8, upper);
  return h.slice(0, 4) + ":" + h.slice(4, 8) + ":" + h.slice(8, 12) + ":" +
    h.slice(12, 16);
}

/** NID: preference and a 64-bit node id in four lower-case hex groups. */
export const nid: RdataReader = (msg, cur) => {
  const p = opt16(msg, cur);
  if (cur.off === cur.end) return p + " 0000:0000:0000:0000";
  return p + " " + groups(msg, read64(cur, "uint64"), false);
};

/** L64: preference and a 64-bit locator in four upper-case hex groups. */
export const l64: RdataReader = (msg, cur) => {
  const p = opt16(msg, cur);
  if (cur.off === cur.end) return p + " 0000:0000:0000:0000";
  return p + " " + groups(msg, read64(cur, "uint64"), true);
};

/** L32: preference and an IPv4 locator (omitted when absent). */
export const l32: RdataReader = (msg, cur) => {
  const p = opt16(msg, cur);
  if (cur.off === cur.end) return String(p);
  return p + " " + ipv4Text(msg, readAddress(cur, 4, "a"));
};

function eui(msg: Uint8Array, cur: WireCursor, n: number): string {
  if (cur.off === cur.end) return n === 6 ? ZERO_EUI48 : ZERO_EUI64;
  const off = n === 6
    ? readAddress(cur, 6, "uint64 as uint48")
    : read64(cur, "uint64");
  let s = HEX2[msg[off]!]!;
  for (let i = 1; i < n; i++) s += "-" + HEX2[msg[off + i]!]!;
  return s;
}

const ZERO_EUI48 = "00-00-00-00-00-00";
const ZERO_EUI64 = "00-00-00-00-00-00-00-00";

/** EUI48: six bytes as `xx-xx-xx-xx-xx-xx`. */
export const eui48: RdataReader = (msg, cur) => eui(msg, cur, 6);

/** EUI64: eight bytes as `xx-...-xx`. */
export const eui64: RdataReader = (msg, cur) => eui(msg, cur, 8);

/** EID, NIMLOC: the rest as upper-case hex. */
export const hexUpper: RdataReader = (msg, cur) => {
  const s = hex(msg, cur.off, cur.end, true);
  cur.off = cur.end;
  return s;
};

/** ANY: nothing is read (its rdata, if any, is a bad rdlength). */
export const none: RdataReader = () => "";

/** RFC 3597: `\# <length> <lower-case hex>`. */
export const rfc3597: RdataReader = (msg, cur) => {
  const n = cur.end - cur.off;
  const s = "\\# " + n + " " + hex(msg, cur.off, cur.end);
  cur.off = cur.end;
  return s;
};

// miekg cmToM: a LOC size or precision byte (mantissa, exponent) in meters.
function cmToM(b: number): string {
  let m = b >> 4;
  const e = b & 0x0f;
  if (e < 2) {
    if (e === 1) m *= 10;
    return "0." + (m < 10 ? "0" + m : String(m));
  }
  return m + "0".repeat(e - 2);
}

const LOC_HALF = 2 ** 31;

function locAngle(v: number, pos: string, neg: string): string {
  let dir = pos;
  if (v > LOC_HALF) v -= LOC_HALF;
  else {
    dir = neg;
    v = LOC_HALF - v;
  }
  const h = Math.floor(v / 3600000);
  v %= 3600000;
  const m = Math.floor(v / 60000);
  v %= 60000;
  const ms = v % 1000;
  return (h < 10 ? "0" + h : String(h)) + " " +
    (m < 10 ? "0" + m : String(m)) + " " + Math.floor(v / 1000) + "." +
    String(ms).padStart(3, "0") + " " + dir + " ";
}

/** LOC: RFC 1876 as miekg prints it (degrees, meters, precisions). */
export const loc: RdataReader = (msg, cur) => {
  opt8(msg, cur); // version: not printed
  const size = opt8(msg, cur);
  const hp = opt8(msg, cur);
  const vp = opt8(msg, cur);
  const lat = opt32(msg, cur);
  const lon = opt32(msg, cur);
  const alt = opt32(msg, cur);
  let s = locAngle(lat, "N", "S") + locAngle(lon, "E", "W");
  // Altitude in cm above -100000 m: "%.2f" when not whole meters, else "%.0f".
  const cm = alt - 10000000;
  const abs = Math.abs(cm);
  const sign = cm < 0 ? "-" : "";
  if (alt % 100 !== 0) {
    s += sign + Math.floor(abs / 100) + "." +
      String(abs % 100).padStart(2, "0") + "m ";
  } else s += sign + abs / 100 + "m ";
  return s + cmToM(size) + "m " + cmToM(hp) + "m " + cmToM(vp) + "m";
};

function aplError(off: number, what: string): DnsMessageError {
  return new DnsMessageError(off, "dns: " + what);
}

/** APL: prefixes as `[!]family:address/prefix`. */
export const apl: RdataReader = (msg, cur) => {
  let s = "";
  let off = cur.off;
  const end = cur.end;
  while (off < end) {
    if (off + 4 > end) throw aplError(off, "overflow unpacking APL prefix");
    const family = (msg[off]! << 8) | msg[off + 1]!;
    const prefix = msg[off + 2]!;
    const nlen = msg[off + 3]!;
    off += 4;
    let size: number;
    if (family === 1) size = 4;
    else if (family === 2) size = 16;
    else throw aplError(off, "unrecognized APL address family");
    if (prefix > 8 * size) throw aplError(off, "APL prefix too long");
    const afd = nlen & 0x7f;
    if (afd > size) throw aplError(off, "APL length too long");
    if (off + afd > end) throw aplError(off, "overflow unpacking APL address");
    if (afd > 0 && msg[off + afd - 1] === 0) {
      throw aplError(off, "extra APL address bits");
    }
    const ip = new Uint8Array(size);
    ip.set(msg.subarray(off, off + afd));
    off += afd;
    if (s !== "") s += " ";
    if (nlen & 0x80) s += "!";
    if (size === 4) s += "1:" + ipv4Text(ip, 0);
    else s += "2:" + (isV4Mapped(ip, 0) ? "::ffff:" : "") + ipv6Text(ip, 0);
    s += "/" + prefix;
  }
  cur.off = off;
  return s;
};
