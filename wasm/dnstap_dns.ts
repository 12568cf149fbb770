// The DNS part of the dnstap scan (dnstap_scan.ts): the header, the first
// question and the OPT record of a DNS message in memory, into a row of the
// columns, with miekg/dns's checks (the TypeScript twin: the DNS part of
// src/_dnstap_scan.ts). dns() returns the row's status and leaves the
// presence bits it found in DNS_PR.
import {
  ANCOUNT,
  ARCOUNT,
  DNS_SIZE,
  EDNS_FLAGS,
  EDNS_RCODE,
  EDNS_UDP_SIZE,
  EDNS_VERSION,
  FLAGS,
  HAS_OPT,
  HAS_QCLASS,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUESTION,
  ID,
  NSCOUNT,
  OPCODE,
  QCLASS,
  QDCOUNT,
  QNAME_LABELS,
  QNAME_LENGTH,
  QNAME_OFFSET,
  QTYPE,
  RCODE,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_QUESTION,
  SCAN_OK,
} from "./dnstap_layout";

/** miekg/dns `maxCompressionPointers`. */
const MAX_POINTERS: u32 = 126;

/** Presence bits the last dns() found (HAS_QUESTION ... HAS_OPT). */
export let DNS_PR: u32 = 0;

// @ts-ignore: decorator
@inline function u8at(at: u32): u32 {
  return <u32>load<u8>(<usize>at);
}

// @ts-ignore: decorator
@inline function be16(at: u32): u32 {
  return <u32>bswap<u16>(load<u16>(<usize>at));
}

/**
 * Where the name at `off` ends in place, or 0 where miekg/dns fails on it
 * (skipName in _dns_wire.ts); the message is memory [m, end).
 */
function skipName(m: u32, end: u32, off: u32): u32 {
  let next: u32 = 0;
  let wire: u32 = 0;
  let pointers: u32 = 0;
  while (true) {
    if (off >= end) return 0;
    const x = u8at(off);
    off++;
    if (x < 0x40) {
      if (x == 0) return next == 0 ? off : next;
      if (off + x > end) return 0;
      wire += x + 1;
      if (wire >= 255) return 0;
      off += x;
    } else if (x >= 0xc0) {
      if (off >= end) return 0;
      const y = u8at(off);
      off++;
      if (next == 0) next = off;
      if (++pointers > MAX_POINTERS) return 0;
      off = m + (((x & 0x3f) << 8) | y);
    } else return 0;
  }
  return 0;
}

/**
 * Walks the rest of the message memory [m, end) from `off` (questions 2 and
 * on, then the records) and fills the EDNS columns of row i from the last
 * OPT record of the additional section (see src/_dnstap_scan_layout.ts).
 */
function edns(m: u32, end: u32, off: u32, i: u32): void {
  // No additional section: no OPT record, and the walk finds nothing else.
  if (be16(m + 10) == 0) return;
  const i2 = i << 1;
  for (let k = <i32>be16(m + 4) - 1; k > 0; k--) {
    off = skipName(m, end, off);
    if (off == 0) return;
    if (off == end) continue;
    if (off + 2 > end) return;
    off = off + 4 > end ? end : off + 4;
  }
  const records = be16(m + 6) + be16(m + 8);
  const all = records + be16(m + 10);
  let found: u32 = 0;
  // The target of the last owner name that was one pointer and valid: the
  // same pointer again is valid again (the walk from it does not depend on
  // where it is), so its two bytes are skipped without a walk.
  let known: u32 = 0;
  for (let k: u32 = 0; k < all; k++) {
    // A section that ends early ends the walk (miekg/dns stops at the end
    // of the message without an error).
    if (off == end) break;
    const x = u8at(off);
    if (x >= 0xc0 && off + 1 < end) {
      const target = m + (((x & 0x3f) << 8) | u8at(off + 1));
      if (target == known) off += 2;
      else {
        off = skipName(m, end, off);
        if (off != 0) known = target;
      }
    } else off = skipName(m, end, off);
    if (off == 0 || off + 10 > end) break;
    const rdEnd = off + 10 + be16(off + 8);
    if (rdEnd > end) break;
    if (k >= records && be16(off) == 41) found = off;
    off = rdEnd;
  }
  if (found == 0) return;
  store<u16>(<usize>(EDNS_UDP_SIZE + i2), <u16>be16(found + 2));
  store<u8>(<usize>(EDNS_RCODE + i), load<u8>(<usize>(found + 4)));
  store<u8>(<usize>(EDNS_VERSION + i), load<u8>(<usize>(found + 5)));
  store<u16>(<usize>(EDNS_FLAGS + i2), <u16>be16(found + 6));
  DNS_PR |= HAS_OPT;
}

/**
 * Reads the DNS header, first question and OPT record of the message at
 * memory [m, m + n) into row i; returns the row's status.
 */
export function dns(m: u32, n: u32, i: u32, delta: u32): u8 {
  DNS_PR = 0;
  const i2 = i << 1;
  store<u32>(<usize>(DNS_SIZE + (i << 2)), n);
  if (n < 12) return SCAN_BAD_DNS_HEADER;
  const w = be16(m + 2);
  const qd = be16(m + 4);
  store<u16>(<usize>(ID + i2), <u16>be16(m));
  store<u16>(<usize>(FLAGS + i2), <u16>w);
  store<u8>(<usize>(OPCODE + i), <u8>((w >> 11) & 0xf));
  store<u8>(<usize>(RCODE + i), <u8>(w & 0xf));
  store<u16>(<usize>(QDCOUNT + i2), <u16>qd);
  store<u16>(<usize>(ANCOUNT + i2), <u16>be16(m + 6));
  store<u16>(<usize>(NSCOUNT + i2), <u16>be16(m + 8));
  store<u16>(<usize>(ARCOUNT + i2), <u16>be16(m + 10));
  if (n == 12) return SCAN_OK;
  // Addresses stay below 2^32: memory ends below 0xffff_0000, and a pointer
  // reaches at most m + 16383.
  const end = m + n;
  if (qd == 0) {
    edns(m, end, m + 12, i);
    return SCAN_OK;
  }
  // The name, as miekg/dns UnpackDomainName (skipName in _dns_wire.ts).
  let off = m + 12;
  let next: u32 = 0;
  let wire: u32 = 0;
  let pointers: u32 = 0;
  let labels: u32 = 0;
  while (true) {
    if (off >= end) return SCAN_BAD_QUESTION;
    const x = u8at(off);
    off++;
    if (x < 0x40) {
      if (x == 0) break;
      if (off + x > end) return SCAN_BAD_QUESTION;
      wire += x + 1;
      if (wire >= 255) return SCAN_BAD_QUESTION;
      labels++;
      off += x;
    } else if (x >= 0xc0) {
      if (off >= end) return SCAN_BAD_QUESTION;
      const y = u8at(off);
      off++;
      if (next == 0) next = off;
      if (++pointers > MAX_POINTERS) return SCAN_BAD_QUESTION;
      off = m + (((x & 0x3f) << 8) | y);
    } else return SCAN_BAD_QUESTION;
  }
  let pr = HAS_QUESTION;
  if (next == 0) next = off;
  else pr |= HAS_QNAME_POINTER;
  // QTYPE and QCLASS as miekg/dns unpackQuestion: absent at the message's
  // end; one byte left is an error before QTYPE, not before QCLASS.
  let qtype: u32 = 0;
  let qclass: u32 = 0;
  let after = end;
  if (next < end) {
    if (next + 2 > end) return SCAN_BAD_QUESTION;
    qtype = be16(next);
    pr |= HAS_QTYPE;
    if (next + 4 <= end) {
      qclass = be16(next + 2);
      pr |= HAS_QCLASS;
      after = next + 4;
    }
  }
  store<u32>(<usize>(QNAME_OFFSET + (i << 2)), m + 12 - delta);
  store<u16>(<usize>(QNAME_LENGTH + i2), <u16>(next - (m + 12)));
  store<u8>(<usize>(QNAME_LABELS + i), <u8>labels);
  store<u16>(<usize>(QTYPE + i2), <u16>qtype);
  store<u16>(<usize>(QCLASS + i2), <u16>qclass);
  DNS_PR |= pr;
  edns(m, end, after, i);
  return SCAN_OK;
}
