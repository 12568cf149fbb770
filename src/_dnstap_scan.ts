/**
 * The columnar dnstap scan in TypeScript: the twin of the WebAssembly scanner
 * (`wasm/dnstap_scan.ts`), filling the columns of `_dnstap_scan_layout.ts`
 * row by row with no object per message. Same checks in the same order as
 * {@linkcode decodeDnstap} (a row is {@linkcode SCAN_BAD_PROTOBUF} exactly
 * when it throws), as `parseDnsMessage(...).question` for the question, and
 * as its `edns` for the OPT record wherever its `error` is null (the layout
 * module says what differs on messages miekg/dns rejects for their rdata).
 *
 * State lives in module variables (`P`, `LO`, `HI`, `PR`): the scan is
 * synchronous and not re-entrant, and so allocates nothing per message.
 *
 * @module
 */
import {
  type DnstapColumns,
  HAS_DNS,
  HAS_DNS_RESPONSE,
  HAS_EXTRA,
  HAS_HTTP_PROTOCOL,
  HAS_IDENTITY,
  HAS_MESSAGE,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_POLICY,
  HAS_QCLASS,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_MESSAGE,
  HAS_QUERY_PORT,
  HAS_QUERY_TIME_NSEC,
  HAS_QUERY_TIME_SEC,
  HAS_QUERY_ZONE,
  HAS_QUESTION,
  HAS_RESPONSE_ADDRESS,
  HAS_RESPONSE_MESSAGE,
  HAS_RESPONSE_PORT,
  HAS_RESPONSE_TIME_NSEC,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_FAMILY,
  HAS_SOCKET_PROTOCOL,
  HAS_TYPE,
  HAS_VERSION,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CONTROL,
  SCAN_OK,
} from "./_dnstap_scan_layout.ts";

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;
/** miekg/dns `maxCompressionPointers`. */
const MAX_POINTERS = 126;

/** Read position. */
let P = 0;
/** The last varint's low and high 32 bits (unsigned). */
let LO = 0;
let HI = 0;
/** Presence bits of the row being read. */
let PR = 0;

/** Reads a varint at P (at most 10 bytes, as decodeDnstap). */
function varint(b: Uint8Array, end: number): boolean {
  let p = P;
  if (p >= end) return false;
  let x = b[p++]!;
  if (x < 0x80) {
    LO = x;
    HI = 0;
    P = p;
    return true;
  }
  let lo = x & 0x7f;
  for (let s = 7; s < 28; s += 7) {
    if (p >= end) return false;
    x = b[p++]!;
    lo |= (x & 0x7f) << s;
    if (x < 0x80) {
      LO = lo >>> 0;
      HI = 0;
      P = p;
      return true;
    }
  }
  if (p >= end) return false;
  x = b[p++]!;
  lo |= (x & 0x0f) << 28;
  let hi = (x & 0x7f) >> 4;
  if (x < 0x80) {
    LO = lo >>> 0;
    HI = hi;
    P = p;
    return true;
  }
  for (let s = 3; s < 32; s += 7) {
    if (p >= end) return false;
    x = b[p++]!;
    if (s === 31 && x > 1) return false;
    hi |= (x & 0x7f) << s;
    if (x < 0x80) {
      LO = lo >>> 0;
      HI = hi >>> 0;
      P = p;
      return true;
    }
  }
  return false;
}

/** Reads a length prefix: LO is the length, P the payload start. */
function length(b: Uint8Array, end: number): boolean {
  return varint(b, end) && HI === 0 && LO <= end - P;
}

/** Reads a little-endian fixed32 into LO. */
function fixed32(b: Uint8Array, end: number): boolean {
  const p = P;
  if (end - p < 4) return false;
  LO = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>>
    0;
  P = p + 4;
  return true;
}

/** Reads a tag into LO; false at a bad one. */
function tag(b: Uint8Array, end: number): boolean {
  return varint(b, end) && HI === 0 && LO >= 8;
}

/** Skips a field's value of wire type `wire`. */
function skip(b: Uint8Array, end: number, wire: number): boolean {
  switch (wire) {
    case VARINT:
      return varint(b, end);
    case FIXED64:
      if (end - P < 8) return false;
      P += 8;
      return true;
    case LEN:
      if (!length(b, end)) return false;
      P += LO;
      return true;
    case FIXED32:
      return fixed32(b, end);
    default:
      return false;
  }
}

/** Validates a Policy in [P, end) as decodeDnstap reads it. */
function policy(b: Uint8Array, end: number): boolean {
  while (P < end) {
    if (!tag(b, end)) return false;
    const field = LO >>> 3;
    const wire = LO & 7;
    if (field === 1 || field === 2 || field === 5) {
      if (wire !== LEN || !length(b, end)) return false;
      P += LO;
    } else if (field === 3 || field === 4) {
      if (wire !== VARINT || !varint(b, end)) return false;
    } else if (!skip(b, end, wire)) return false;
  }
  return true;
}

/** Copies an address field (payload at P, LO bytes) into a 16-byte slot. */
function address(b: Uint8Array, col: Uint8Array, at: number): void {
  const n = LO < 16 ? LO : 16;
  let k = 0;
  for (; k < n; k++) col[at + k] = b[P + k]!;
  for (; k < 16; k++) col[at + k] = 0;
}

/** Reads a Message in [P, end) into row i (merging, as decodeDnstap). */
function message(
  b: Uint8Array,
  end: number,
  c: DnstapColumns,
  i: number,
): boolean {
  while (P < end) {
    if (!tag(b, end)) return false;
    const field = LO >>> 3;
    const wire = LO & 7;
    switch (field) {
      case 1:
      case 2:
      case 3:
      case 16:
        if (wire !== VARINT || !varint(b, end)) return false;
        if (field === 1) {
          c.messageType[i] = LO | 0;
          PR |= HAS_MESSAGE_TYPE;
        } else if (field === 2) {
          c.socketFamily[i] = LO | 0;
          PR |= HAS_SOCKET_FAMILY;
        } else if (field === 3) {
          c.socketProtocol[i] = LO | 0;
          PR |= HAS_SOCKET_PROTOCOL;
        } else PR |= HAS_HTTP_PROTOCOL;
        break;
      case 6:
      case 7:
        if (wire !== VARINT || !varint(b, end)) return false;
        if (field === 6) {
          c.queryPort[i] = LO;
          PR |= HAS_QUERY_PORT;
        } else {
          c.responsePort[i] = LO;
          PR |= HAS_RESPONSE_PORT;
        }
        break;
      case 8:
      case 12:
        if (wire !== VARINT || !varint(b, end)) return false;
        if (field === 8) {
          c.queryTimeSec[i] = HI * 4294967296 + LO;
          PR |= HAS_QUERY_TIME_SEC;
        } else {
          c.responseTimeSec[i] = HI * 4294967296 + LO;
          PR |= HAS_RESPONSE_TIME_SEC;
        }
        break;
      case 9:
      case 13:
        if (wire !== FIXED32 || !fixed32(b, end)) return false;
        if (field === 9) {
          c.queryTimeNsec[i] = LO;
          PR |= HAS_QUERY_TIME_NSEC;
        } else {
          c.responseTimeNsec[i] = LO;
          PR |= HAS_RESPONSE_TIME_NSEC;
        }
        break;
      case 4:
      case 5:
      case 10:
      case 11:
      case 14:
        if (wire !== LEN || !length(b, end)) return false;
        if (field === 4) {
          c.queryAddressLength[i] = LO;
          address(b, c.queryAddress, i * 16);
          PR |= HAS_QUERY_ADDRESS;
        } else if (field === 5) {
          c.responseAddressLength[i] = LO;
          address(b, c.responseAddress, i * 16);
          PR |= HAS_RESPONSE_ADDRESS;
        } else if (field === 10) {
          c.queryMessageOffset[i] = P;
          c.queryMessageLength[i] = LO;
          PR |= HAS_QUERY_MESSAGE;
        } else if (field === 14) {
          c.responseMessageOffset[i] = P;
          c.responseMessageLength[i] = LO;
          PR |= HAS_RESPONSE_MESSAGE;
        } else PR |= HAS_QUERY_ZONE;
        P += LO;
        break;
      case 15: {
        if (wire !== LEN || !length(b, end)) return false;
        const stop = P + LO;
        if (!policy(b, stop)) return false;
        PR |= HAS_POLICY;
        break;
      }
      default:
        if (!skip(b, end, wire)) return false;
    }
  }
  return true;
}

/** Reads a Dnstap in [P, end) into row i. */
function dnstap(
  b: Uint8Array,
  end: number,
  c: DnstapColumns,
  i: number,
): boolean {
  while (P < end) {
    if (!tag(b, end)) return false;
    const field = LO >>> 3;
    const wire = LO & 7;
    switch (field) {
      case 1:
      case 2:
      case 3:
        if (wire !== LEN || !length(b, end)) return false;
        if (field === 1) {
          c.identityOffset[i] = P;
          c.identityLength[i] = LO;
          PR |= HAS_IDENTITY;
        } else PR |= field === 2 ? HAS_VERSION : HAS_EXTRA;
        P += LO;
        break;
      case 14: {
        if (wire !== LEN || !length(b, end)) return false;
        const stop = P + LO;
        if (!message(b, stop, c, i)) return false;
        PR |= HAS_MESSAGE;
        break;
      }
      case 15:
        if (wire !== VARINT || !varint(b, end)) return false;
        c.dnstapType[i] = LO | 0;
        PR |= HAS_TYPE;
        break;
      default:
        if (!skip(b, end, wire)) return false;
    }
  }
  // Required fields, checked once the message repeats have merged.
  return (PR & HAS_TYPE) !== 0 &&
    (PR & (HAS_MESSAGE | HAS_MESSAGE_TYPE)) !== HAS_MESSAGE;
}

/** Zeroes rows 0 to n - 1 of every column: a fill per column is cheaper
 * than a store per column and row. */
function clearRows(c: DnstapColumns, n: number): void {
  const all = c.all;
  for (let k = 0; k < all.length; k++) {
    const a = all[k]!;
    a.fill(0, 0, n * (a.length / c.capacity));
  }
}

/** Zeroes row i of every column. */
function clearRow(c: DnstapColumns, i: number): void {
  const all = c.all;
  for (let k = 0; k < all.length; k++) {
    const a = all[k]!;
    const w = a.length / c.capacity;
    a.fill(0, i * w, i * w + w);
  }
}

/**
 * Where the name at `off` ends in place, or -1 where miekg/dns fails on it
 * (skipName in _dns_wire.ts); the message is `b[m, end)`.
 */
function skipName(b: Uint8Array, m: number, end: number, off: number): number {
  let next = -1;
  let wire = 0;
  let pointers = 0;
  for (;;) {
    if (off >= end) return -1;
    const x = b[off++]!;
    if (x < 0x40) {
      if (x === 0) return next < 0 ? off : next;
      if (off + x > end) return -1;
      wire += x + 1;
      if (wire >= 255) return -1;
      off += x;
    } else if (x >= 0xc0) {
      if (off >= end) return -1;
      const y = b[off++]!;
      if (next < 0) next = off;
      if (++pointers > MAX_POINTERS) return -1;
      off = m + (((x & 0x3f) << 8) | y);
    } else return -1;
  }
}

/**
 * Walks the rest of the message `b[m, end)` from `off` (questions 2 and
 * on, then the records) as the module doc says, and fills the EDNS columns
 * of row i from the last OPT record of the additional section.
 */
function edns(
  b: Uint8Array,
  m: number,
  end: number,
  off: number,
  c: DnstapColumns,
  i: number,
): void {
  // No additional section: no OPT record, and the walk finds nothing else.
  if (c.arcount[i] === 0) return;
  for (let k = c.qdcount[i]! - 1; k > 0; k--) {
    off = skipName(b, m, end, off);
    if (off < 0) return;
    if (off === end) continue;
    if (off + 2 > end) return;
    off = off + 4 > end ? end : off + 4;
  }
  const records = c.ancount[i]! + c.nscount[i]!;
  const additional = c.arcount[i]!;
  let found = -1;
  for (let k = 0; k < records + additional; k++) {
    // A section that ends early ends the walk (miekg/dns stops at the end
    // of the message without an error).
    if (off === end) break;
    off = skipName(b, m, end, off);
    if (off < 0 || off + 10 > end) break;
    const rdEnd = off + 10 + ((b[off + 8]! << 8) | b[off + 9]!);
    if (rdEnd > end) break;
    if (k >= records && b[off]! === 0 && b[off + 1]! === 41) found = off;
    off = rdEnd;
  }
  if (found < 0) return;
  c.ednsUdpSize[i] = (b[found + 2]! << 8) | b[found + 3]!;
  c.ednsRcode[i] = b[found + 4]!;
  c.ednsVersion[i] = b[found + 5]!;
  c.ednsFlags[i] = (b[found + 6]! << 8) | b[found + 7]!;
  PR |= HAS_OPT;
}

/**
 * Reads the DNS header, first question and OPT record of the message
 * `b[m, m + n)` into row i; returns the row's status.
 */
function dns(
  b: Uint8Array,
  m: number,
  n: number,
  c: DnstapColumns,
  i: number,
): number {
  c.dnsSize[i] = n;
  if (n < 12) return SCAN_BAD_DNS_HEADER;
  const w = (b[m + 2]! << 8) | b[m + 3]!;
  const qd = (b[m + 4]! << 8) | b[m + 5]!;
  c.id[i] = (b[m]! << 8) | b[m + 1]!;
  c.flags[i] = w;
  c.opcode[i] = (w >> 11) & 0xf;
  c.rcode[i] = w & 0xf;
  c.qdcount[i] = qd;
  c.ancount[i] = (b[m + 6]! << 8) | b[m + 7]!;
  c.nscount[i] = (b[m + 8]! << 8) | b[m + 9]!;
  c.arcount[i] = (b[m + 10]! << 8) | b[m + 11]!;
  if (n === 12) return SCAN_OK;
  const end = m + n;
  if (qd === 0) {
    edns(b, m, end, m + 12, c, i);
    return SCAN_OK;
  }
  // The name, as miekg/dns UnpackDomainName (skipName in _dns_wire.ts).
  let off = m + 12;
  let next = -1;
  let wire = 0;
  let pointers = 0;
  let labels = 0;
  for (;;) {
    if (off >= end) return SCAN_BAD_QUESTION;
    const x = b[off++]!;
    if (x < 0x40) {
      if (x === 0) break;
      if (off + x > end) return SCAN_BAD_QUESTION;
      wire += x + 1;
      if (wire >= 255) return SCAN_BAD_QUESTION;
      labels++;
      off += x;
    } else if (x >= 0xc0) {
      if (off >= end) return SCAN_BAD_QUESTION;
      const y = b[off++]!;
      if (next < 0) next = off;
      if (++pointers > MAX_POINTERS) return SCAN_BAD_QUESTION;
      off = m + (((x & 0x3f) << 8) | y);
    } else return SCAN_BAD_QUESTION;
  }
  let pr = HAS_QUESTION;
  if (next < 0) next = off;
  else pr |= HAS_QNAME_POINTER;
  // QTYPE and QCLASS as miekg/dns unpackQuestion: absent at the message's
  // end; one byte left is an error before QTYPE, not before QCLASS.
  let qtype = 0;
  let qclass = 0;
  let after = end;
  if (next < end) {
    if (next + 2 > end) return SCAN_BAD_QUESTION;
    qtype = (b[next]! << 8) | b[next + 1]!;
    pr |= HAS_QTYPE;
    if (next + 4 <= end) {
      qclass = (b[next + 2]! << 8) | b[next + 3]!;
      pr |= HAS_QCLASS;
      after = next + 4;
    }
  }
  c.qnameOffset[i] = m + 12;
  c.qnameLength[i] = next - (m + 12);
  c.qnameLabels[i] = labels;
  c.qtype[i] = qtype;
  c.qclass[i] = qclass;
  PR |= pr;
  edns(b, m, end, after, c, i);
  return SCAN_OK;
}

/**
 * Scans `count` entries of a frame table (`[frameOffset, length, kind]`
 * each, as the frame scanner fills it) over `buf`, filling rows 0 to
 * `count - 1` of `c`.
 *
 * @param buf The window the table's offsets are in.
 * @param table The frame table.
 * @param count Entries to scan, at most `c.capacity`.
 * @param c The columns to fill.
 */
export function scanDnstapTs(
  buf: Uint8Array,
  table: Uint32Array,
  count: number,
  c: DnstapColumns,
): void {
  clearRows(c, count);
  for (let i = 0; i < count; i++) {
    const e = i * 3;
    if (table[e + 2] !== 0) {
      c.status[i] = SCAN_CONTROL;
      continue;
    }
    P = table[e]! + 4;
    PR = 0;
    if (!dnstap(buf, P + table[e + 1]!, c, i)) {
      clearRow(c, i);
      c.status[i] = SCAN_BAD_PROTOBUF;
      continue;
    }
    const t = c.messageType[i]!;
    let status = SCAN_OK;
    if (t > 0 && (t & 1) === 0) {
      if (PR & HAS_RESPONSE_MESSAGE) {
        PR |= HAS_DNS | HAS_DNS_RESPONSE;
        status = dns(
          buf,
          c.responseMessageOffset[i]!,
          c.responseMessageLength[i]!,
          c,
          i,
        );
      }
    } else if (PR & HAS_QUERY_MESSAGE) {
      PR |= HAS_DNS;
      status = dns(
        buf,
        c.queryMessageOffset[i]!,
        c.queryMessageLength[i]!,
        c,
        i,
      );
    }
    c.status[i] = status;
    c.present[i] = PR;
  }
}
