// The usual first fields of a dnstap Message (type, socket family and
// protocol, the two addresses, the ports and the times), read straight on
// locals where they come as most servers write them: message() in
// dnstap_protobuf.ts starts there, and reads the rest field by field. Also
// the one-byte tags both use.
import {
  HAS_MESSAGE_TYPE,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_PORT,
  HAS_QUERY_TIME_NSEC,
  HAS_QUERY_TIME_SEC,
  HAS_RESPONSE_ADDRESS,
  HAS_RESPONSE_PORT,
  HAS_RESPONSE_TIME_NSEC,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_FAMILY,
  HAS_SOCKET_PROTOCOL,
  MESSAGE_TYPE,
  QUERY_ADDRESS,
  QUERY_ADDRESS_LENGTH,
  QUERY_PORT,
  QUERY_TIME_NSEC,
  QUERY_TIME_SEC,
  RESPONSE_ADDRESS,
  RESPONSE_ADDRESS_LENGTH,
  RESPONSE_PORT,
  RESPONSE_TIME_NSEC,
  RESPONSE_TIME_SEC,
  SOCKET_FAMILY,
  SOCKET_PROTOCOL,
} from "./dnstap_layout";

/** The byte at memory address `at`. */
// @ts-ignore: decorator
@inline export function u8at(at: u32): u32 {
  return <u32>load<u8>(<usize>at);
}


/** Tags of one byte: field << 3 | wire. */
export const T1_VARINT: u32 = 0x08;
export const T2_VARINT: u32 = 0x10;
export const T3_VARINT: u32 = 0x18;
export const T4_LEN: u32 = 0x22;
export const T5_LEN: u32 = 0x2a;
export const T6_VARINT: u32 = 0x30;
export const T7_VARINT: u32 = 0x38;
export const T8_VARINT: u32 = 0x40;
export const T9_FIXED32: u32 = 0x4d;
export const T10_LEN: u32 = 0x52;
export const T11_LEN: u32 = 0x5a;
export const T12_VARINT: u32 = 0x60;
export const T13_FIXED32: u32 = 0x6d;
export const T14_LEN: u32 = 0x72;
export const T15_VARINT: u32 = 0x78;
export const T1_LEN: u32 = 0x0a;
export const T2_LEN: u32 = 0x12;
export const T3_LEN: u32 = 0x1a;

/**
 * The bytes of the varint at the start of word w (little-endian memory
 * order), or 0 where it does not end within the bytes `tops` covers (the
 * top bit of each).
 */
// @ts-ignore: decorator
@inline function varintBytes(w: u64, tops: u64): u32 {
  const stops = ~w & tops;
  return stops == 0 ? 0 : (<u32>ctz(stops) + 1) >>> 3;
}

/** The value of the varint of k bytes (1 to 8) at the start of word w. */
// @ts-ignore: decorator
@inline function varintValue(w: u64, k: u32): u64 {
  let x = k == 8 ? w : w & ((<u64>1 << (<u64>k << 3)) - 1);
  x &= 0x7f7f_7f7f_7f7f_7f7f;
  x = ((x & 0x7f00_7f00_7f00_7f00) >> 1) | (x & 0x007f_007f_007f_007f);
  x = ((x & 0x3fff_0000_3fff_0000) >> 2) | (x & 0x0000_3fff_0000_3fff);
  return ((x & 0x0fff_ffff_0000_0000) >> 4) | (x & 0x0000_0000_0fff_ffff);
}

/** Where messagePrefix stopped (its caller reads on from there). */
export let PREFIX_END: u32 = 0;

/**
 * Reads the usual first fields of a Message in memory [p, end) into row i:
 * returns the presence bits it found (0 where the Message begins
 * otherwise), the position after them in PREFIX_END.
 */
// @ts-ignore: decorator
@inline export function messagePrefix(p: u32, end: u32, i: u32): u32 {
  const i4 = i << 2;
  const i8 = i << 3;
  let pr: u32 = 0;
  // Most messages begin as message()'s loop would read them fastest: type,
  // socket family and protocol as one-byte varints, then the two addresses
  // (4 or 16 bytes each). Read that prefix straight, checked as a whole;
  // the loop reads the rest (or all, where the prefix differs).
  if (p + 8 <= end) {
    const w = load<u64>(<usize>p);
    if ((w & 0x0000_80ff_80ff_80ff) == 0x0000_0018_0010_0008) {
      store<u32>(<usize>(MESSAGE_TYPE + i4), <u32>(w >> 8) & 0xff);
      store<u32>(<usize>(SOCKET_FAMILY + i4), <u32>(w >> 24) & 0xff);
      store<u32>(<usize>(SOCKET_PROTOCOL + i4), <u32>(w >> 40) & 0xff);
      pr = HAS_MESSAGE_TYPE | HAS_SOCKET_FAMILY | HAS_SOCKET_PROTOCOL;
      p += 6;
      if (p + 12 <= end && load<u16>(<usize>p) == 0x0422) {
        if (load<u16>(<usize>p, 6) == 0x042a) {
          const q = QUERY_ADDRESS + (i << 4);
          const r = RESPONSE_ADDRESS + (i << 4);
          // The whole slot: a repeated message may have filled it.
          store<u32>(<usize>(QUERY_ADDRESS_LENGTH + i4), 4);
          store<u64>(<usize>q, <u64>load<u32>(<usize>p, 2));
          store<u64>(<usize>q, 0, 8);
          store<u32>(<usize>(RESPONSE_ADDRESS_LENGTH + i4), 4);
          store<u64>(<usize>r, <u64>load<u32>(<usize>p, 8));
          store<u64>(<usize>r, 0, 8);
          pr |= HAS_QUERY_ADDRESS | HAS_RESPONSE_ADDRESS;
          p += 12;
        }
      } else if (p + 36 <= end && load<u16>(<usize>p) == 0x1022) {
        if (load<u16>(<usize>p, 18) == 0x102a) {
          const q = QUERY_ADDRESS + (i << 4);
          const r = RESPONSE_ADDRESS + (i << 4);
          store<u32>(<usize>(QUERY_ADDRESS_LENGTH + i4), 16);
          store<u64>(<usize>q, load<u64>(<usize>p, 2));
          store<u64>(<usize>q, load<u64>(<usize>p, 10), 8);
          store<u32>(<usize>(RESPONSE_ADDRESS_LENGTH + i4), 16);
          store<u64>(<usize>r, load<u64>(<usize>p, 20));
          store<u64>(<usize>r, load<u64>(<usize>p, 28), 8);
          pr |= HAS_QUERY_ADDRESS | HAS_RESPONSE_ADDRESS;
          p += 36;
        }
      }
      // Then, mostly, the ports and the times, read straight where the
      // bytes left hold them all: each tag as expected or on to the loop.
      if (p + 40 <= end) {
        do {
          let t = u8at(p);
          if (t == T6_VARINT) {
            const w = <u64>load<u32>(<usize>p, 1);
            const k = varintBytes(w, 0x80_8080); // a port: 1 to 3 bytes
            if (k == 0) break;
            store<u32>(<usize>(QUERY_PORT + i4), <u32>varintValue(w, k));
            pr |= HAS_QUERY_PORT;
            p += 1 + k;
            t = u8at(p);
          }
          if (t == T7_VARINT) {
            const w = <u64>load<u32>(<usize>p, 1);
            const k = varintBytes(w, 0x80_8080); // a port: 1 to 3 bytes
            if (k == 0) break;
            store<u32>(<usize>(RESPONSE_PORT + i4), <u32>varintValue(w, k));
            pr |= HAS_RESPONSE_PORT;
            p += 1 + k;
            t = u8at(p);
          }
          if (t == T8_VARINT) {
            const w = load<u64>(<usize>p, 1);
            const k = varintBytes(w, 0x8080_8080_8080_8080);
            if (k == 0) break;
            store<f64>(<usize>(QUERY_TIME_SEC + i8), <f64>varintValue(w, k));
            pr |= HAS_QUERY_TIME_SEC;
            p += 1 + k;
            t = u8at(p);
          }
          if (t == T9_FIXED32) {
            store<u32>(<usize>(QUERY_TIME_NSEC + i4), load<u32>(<usize>p, 1));
            pr |= HAS_QUERY_TIME_NSEC;
            p += 5;
            t = u8at(p);
          }
          if (t == T12_VARINT) {
            const w = load<u64>(<usize>p, 1);
            const k = varintBytes(w, 0x8080_8080_8080_8080);
            if (k == 0) break;
            store<f64>(<usize>(RESPONSE_TIME_SEC + i8), <f64>varintValue(w, k));
            pr |= HAS_RESPONSE_TIME_SEC;
            p += 1 + k;
            t = u8at(p);
          }
          if (t == T13_FIXED32) {
            const ns = load<u32>(<usize>p, 1);
            store<u32>(<usize>(RESPONSE_TIME_NSEC + i4), ns);
            pr |= HAS_RESPONSE_TIME_NSEC;
            p += 5;
          }
        } while (false);
      }
    }
  }
  PREFIX_END = p;
  return pr;
}
