/**
 * SVCB and HTTPS rdata (RFC 9460) as miekg/dns 1.1.50 unpacks and prints
 * them: priority, target, then each `key="value"` with miekg's key names and
 * value escaping, and its errors for malformed parameters.
 *
 * @module
 */

import { DnsMessageError, type WireCursor } from "./_dns_wire.ts";
import {
  base64,
  DDD,
  ipv4Text,
  ipv6Text,
  isV4Mapped,
  opt16,
} from "./_dns_rdata_format.ts";
import { optName, type RdataReader } from "./_dns_rdata_basic.ts";

const KEY_NAMES: readonly string[] = [
  "mandatory",
  "alpn",
  "no-default-alpn",
  "port",
  "ipv4hint",
  "ech",
  "ipv6hint",
  "dohpath",
];

/** miekg `SVCBKey.String()`: a name, `keyN`, or "" for 65535. */
export function svcbKeyName(key: number): string {
  if (key < KEY_NAMES.length) return KEY_NAMES[key]!;
  return key === 65535 ? "" : "key" + key;
}

// svcbParamToStr: printable ASCII kept, `"` `;` space `\` escaped with a
// backslash, other bytes as \DDD.
const PARAM_BYTE: string[] = [];
// SVCBAlpn.String: as above, but `,` and `\` as `\\\044` and `\\\092`.
const ALPN_BYTE: string[] = [];
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  if (b < 0x20 || b > 0x7e) {
    PARAM_BYTE.push(DDD[b]!);
    ALPN_BYTE.push(DDD[b]!);
  } else if (c === '"' || c === ";" || c === " ") {
    PARAM_BYTE.push("\\" + c);
    ALPN_BYTE.push("\\" + c);
  } else if (c === "\\") {
    PARAM_BYTE.push("\\\\");
    ALPN_BYTE.push("\\\\\\092");
  } else if (c === ",") {
    PARAM_BYTE.push(c);
    ALPN_BYTE.push("\\\\\\044");
  } else {
    PARAM_BYTE.push(c);
    ALPN_BYTE.push(c);
  }
}

function mapBytes(
  msg: Uint8Array,
  from: number,
  to: number,
  table: readonly string[],
): string {
  let s = "";
  for (let i = from; i < to; i++) s += table[msg[i]!]!;
  return s;
}

function fail(off: number, text: string): DnsMessageError {
  return new DnsMessageError(off, text);
}

// Throws miekg's error for a malformed value of a key.
function checkValue(
  msg: Uint8Array,
  key: number,
  from: number,
  to: number,
): void {
  const n = to - from;
  switch (key) {
    case 0:
      if (n % 2 !== 0) {
        throw fail(
          from,
          "dns: svcbmandatory: value length is not a multiple of 2",
        );
      }
      return;
    case 1:
      for (let i = from; i < to;) {
        const l = msg[i++]!;
        if (i + l > to) {
          throw fail(i - 1, "dns: svcbalpn: alpn array overflowing");
        }
        i += l;
      }
      return;
    case 2:
      if (n !== 0) {
        throw fail(
          from,
          "dns: svcbnodefaultalpn: no-default-alpn must have no value",
        );
      }
      return;
    case 3:
      if (n !== 2) {
        throw fail(
          from,
          "dns: svcbport: port length is not exactly 2 octets",
        );
      }
      return;
    case 4:
      if (n === 0 || n % 4 !== 0) {
        throw fail(
          from,
          "dns: svcbipv4hint: ipv4 address byte array length is not a multiple of 4",
        );
      }
      return;
    case 6:
      if (n === 0 || n % 16 !== 0) {
        throw fail(
          from,
          "dns: svcbipv6hint: ipv6 address byte array length not a multiple of 16",
        );
      }
      for (let i = from; i < to; i += 16) {
        if (isV4Mapped(msg, i)) {
          throw fail(i, "dns: svcbipv6hint: expected ipv6, got ipv4");
        }
      }
  }
}

// One parameter's value text, checked first (miekg's error for its key).
function valueText(
  msg: Uint8Array,
  key: number,
  from: number,
  to: number,
): string {
  checkValue(msg, key, from, to);
  let s = "";
  switch (key) {
    case 0:
      for (let i = from; i < to; i += 2) {
        if (i > from) s += ",";
        s += svcbKeyName((msg[i]! << 8) | msg[i + 1]!);
      }
      return s;
    case 1:
      for (let i = from; i < to;) {
        const l = msg[i++]!;
        if (i > from + 1) s += ",";
        s += mapBytes(msg, i, i + l, ALPN_BYTE);
        i += l;
      }
      return s;
    case 2:
      return "";
    case 3:
      return String((msg[from]! << 8) | msg[from + 1]!);
    case 4:
      s = ipv4Text(msg, from);
      for (let i = from + 4; i < to; i += 4) s += "," + ipv4Text(msg, i);
      return s;
    case 5:
      return base64(msg, from, to);
    case 6:
      for (let i = from; i < to; i += 16) {
        s += (i > from ? "," : "") + ipv6Text(msg, i);
      }
      return s;
    default: // dohpath and keyN
      return mapBytes(msg, from, to, PARAM_BYTE);
  }
}

/**
 * SVCB, HTTPS: priority, target and the parameters as `key="value"`.
 * Fails as miekg does on a cut parameter, key 65535, a malformed value or
 * keys out of order.
 */
export const svcb: RdataReader = (msg, cur) => {
  const pri = opt16(msg, cur);
  if (cur.off === cur.end) return pri + " ";
  const target = optName(msg, cur);
  return pri + " " + target + svcbParams(msg, cur);
};

/**
 * The SVCB parameters, from the cursor to the end of the rdata, as
 * `" key=\"value\""` each; with `text` false, only checked (returns "").
 */
export function svcbParams(
  msg: Uint8Array,
  cur: WireCursor,
  text = true,
): string {
  let s = "";
  let off = cur.off;
  const end = cur.end;
  let last = -1;
  while (off < end) {
    if (off + 4 > end) throw fail(off, "dns: overflow unpacking SVCB");
    const key = (msg[off]! << 8) | msg[off + 1]!;
    const len = (msg[off + 2]! << 8) | msg[off + 3]!;
    if (off + 4 + len > end) throw fail(off, "dns: overflow unpacking SVCB");
    if (key === 65535) throw fail(off, "dns: bad SVCB key");
    let v = "";
    if (text) v = valueText(msg, key, off + 4, off + 4 + len);
    else checkValue(msg, key, off + 4, off + 4 + len);
    if (key <= last) {
      throw fail(off, "dns: SVCB keys not in strictly increasing order");
    }
    last = key;
    if (text) s += " " + svcbKeyName(key) + '="' + v + '"';
    off += 4 + len;
  }
  cur.off = off;
  return s;
}
