// The protobuf part of the dnstap scan (dnstap_scan.ts): a Dnstap payload
// and its Message in memory, field by field into a row of the columns, with
// decodeDnstap's checks (the TypeScript twin: the protobuf part of
// src/_dnstap_scan.ts). dnstap() returns the row's presence bits, or -1
// where decodeDnstap fails (the caller then clears the row).
import {
  DNSTAP_TYPE,
  HAS_EXTRA,
  HAS_HTTP_PROTOCOL,
  HAS_IDENTITY,
  HAS_MESSAGE,
  HAS_MESSAGE_TYPE,
  HAS_POLICY,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_MESSAGE,
  HAS_QUERY_PORT,
  HAS_QUERY_TIME_NSEC,
  HAS_QUERY_TIME_SEC,
  HAS_QUERY_ZONE,
  HAS_RESPONSE_ADDRESS,
  HAS_RESPONSE_MESSAGE,
  HAS_RESPONSE_PORT,
  HAS_RESPONSE_TIME_NSEC,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_FAMILY,
  HAS_SOCKET_PROTOCOL,
  HAS_TYPE,
  HAS_VERSION,
  IDENTITY_LENGTH,
  IDENTITY_OFFSET,
  MESSAGE_TYPE,
  QUERY_ADDRESS,
  QUERY_ADDRESS_LENGTH,
  QUERY_MESSAGE_LENGTH,
  QUERY_MESSAGE_OFFSET,
  QUERY_PORT,
  QUERY_TIME_NSEC,
  QUERY_TIME_SEC,
  RESPONSE_ADDRESS,
  RESPONSE_ADDRESS_LENGTH,
  RESPONSE_MESSAGE_LENGTH,
  RESPONSE_MESSAGE_OFFSET,
  RESPONSE_PORT,
  RESPONSE_TIME_NSEC,
  RESPONSE_TIME_SEC,
  SOCKET_FAMILY,
  SOCKET_PROTOCOL,
} from "./dnstap_layout";
import {
  messagePrefix,
  PREFIX_END,
  T1_LEN,
  T1_VARINT,
  T10_LEN,
  T11_LEN,
  T12_VARINT,
  T13_FIXED32,
  T14_LEN,
  T15_VARINT,
  T2_LEN,
  T2_VARINT,
  T3_LEN,
  T3_VARINT,
  T4_LEN,
  T5_LEN,
  T6_VARINT,
  T7_VARINT,
  T8_VARINT,
  T9_FIXED32,
  u8at,
} from "./dnstap_protobuf_prefix";

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/** Read position (a memory address). */
let P: u32 = 0;
/** The last varint. */
let V: u64 = 0;
/** Presence bits of the row being read. */
let PR: u32 = 0;
/** Memory address - delta = buffer offset (set by the caller, setDelta). */
export let DELTA: u32 = 0;

/** Sets DELTA. */
export function setDelta(delta: u32): void {
  DELTA = delta;
}

/**
 * Reads a varint at P into V (at most 10 bytes, as decodeDnstap): a byte
 * below 0x80 inline (tags, enums: most varints), longer ones in varintLong.
 */
// @ts-ignore: decorator
@inline function varint(end: u32): bool {
  const p = P;
  if (p < end) {
    const x = u8at(p);
    if (x < 0x80) {
      V = <u64>x;
      P = p + 1;
      return true;
    }
  }
  return varintLong(end);
}

/** varint's general case. */
function varintLong(end: u32): bool {
  let p = P;
  if (p >= end) return false;
  let x = u8at(p++);
  if (x < 0x80) {
    V = <u64>x;
    P = p;
    return true;
  }
  let v: u64 = <u64>(x & 0x7f);
  let s: u64 = 7;
  for (let i = 1; i < 10; i++) {
    if (p >= end) return false;
    x = u8at(p++);
    if (i == 9 && x > 1) return false;
    v |= <u64>(x & 0x7f) << s;
    if (x < 0x80) {
      V = v;
      P = p;
      return true;
    }
    s += 7;
  }
  return false;
}

/** Reads a length prefix: V is the length, P the payload start. */
// @ts-ignore: decorator
@inline function length(end: u32): bool {
  return varint(end) && V <= <u64>(end - P);
}

/** Reads a little-endian fixed32 into V. */
// @ts-ignore: decorator
@inline function fixed32(end: u32): bool {
  if (end - P < 4) return false;
  V = <u64>load<u32>(<usize>P);
  P += 4;
  return true;
}

/** Reads a tag into V; false at a bad one. */
// @ts-ignore: decorator
@inline function tag(end: u32): bool {
  return varint(end) && V <= 0xffff_ffff && V >= 8;
}

/** Skips a field's value of wire type `wire`. */
function skip(end: u32, wire: u32): bool {
  if (wire == VARINT) return varint(end);
  if (wire == FIXED64) {
    if (end - P < 8) return false;
    P += 8;
    return true;
  }
  if (wire == LEN) {
    if (!length(end)) return false;
    P += <u32>V;
    return true;
  }
  if (wire == FIXED32) return fixed32(end);
  return false;
}

/** Validates a Policy in [P, end) as decodeDnstap reads it. */
function policy(end: u32): bool {
  while (P < end) {
    if (!tag(end)) return false;
    const t = <u32>V;
    const field = t >>> 3;
    const wire = t & 7;
    if (field == 1 || field == 2 || field == 5) {
      if (wire != LEN || !length(end)) return false;
      P += <u32>V;
    } else if (field == 3 || field == 4) {
      if (wire != VARINT || !varint(end)) return false;
    } else if (!skip(end, wire)) return false;
  }
  return true;
}

/** Copies an address field (payload at p, n bytes) into a 16-byte slot. */
// @ts-ignore: decorator
@inline function address(to: u32, p: u32, n: u32): void {
  // Loads and stores: memory.copy is a call into the engine, costly for
  // the 4 or 16 bytes of an address.
  if (n >= 16) {
    store<u64>(<usize>to, load<u64>(<usize>p));
    store<u64>(<usize>to, load<u64>(<usize>p, 8), 8);
  } else {
    store<u64>(<usize>to, 0);
    store<u64>(<usize>to, 0, 8);
    if (n == 4) store<u32>(<usize>to, load<u32>(<usize>p));
    else {
      for (let k: u32 = 0; k < n; k++) {
        store<u8>(<usize>(to + k), load<u8>(<usize>(p + k)));
      }
    }
  }
}

/**
 * Reads a varint at p (at most 10 bytes) into V; returns the position
 * after it, or 0 where varint() fails (positions are never 0).
 */
function varintAt(p: u32, end: u32): u32 {
  P = p;
  return varintLong(end) ? P : 0;
}

// The fast paths below (and messagePrefix, dnstap_protobuf_prefix.ts) read
// fields by their one-byte tag on locals (the position, the presence bits),
// one jump per field; anything else (a tag of two bytes or more, a wrong
// wire type, an unknown field) goes to the general code on the globals P, V
// and PR (messageField, dnstapField), which decides as before. Which check
// fails first does not matter: a failing row is cleared whole.

/**
 * Reads one field of a Message (tag already read into V, P after it) into
 * row i, as decodeDnstap: the general case of message().
 */
function messageField(end: u32, i: u32): bool {
  const i4 = i << 2;
  const i8 = i << 3;
  const t = <u32>V;
  const field = t >>> 3;
  const wire = t & 7;
  switch (field) {
    case 1:
    case 2:
    case 3:
    case 16: {
      if (wire != VARINT || !varint(end)) return false;
      const v = <u32>V;
      if (field == 1) {
        store<u32>(<usize>(MESSAGE_TYPE + i4), v);
        PR |= HAS_MESSAGE_TYPE;
      } else if (field == 2) {
        store<u32>(<usize>(SOCKET_FAMILY + i4), v);
        PR |= HAS_SOCKET_FAMILY;
      } else if (field == 3) {
        store<u32>(<usize>(SOCKET_PROTOCOL + i4), v);
        PR |= HAS_SOCKET_PROTOCOL;
      } else PR |= HAS_HTTP_PROTOCOL;
      break;
    }
    case 6:
    case 7:
      if (wire != VARINT || !varint(end)) return false;
      if (field == 6) {
        store<u32>(<usize>(QUERY_PORT + i4), <u32>V);
        PR |= HAS_QUERY_PORT;
      } else {
        store<u32>(<usize>(RESPONSE_PORT + i4), <u32>V);
        PR |= HAS_RESPONSE_PORT;
      }
      break;
    case 8:
    case 12:
      if (wire != VARINT || !varint(end)) return false;
      if (field == 8) {
        store<f64>(<usize>(QUERY_TIME_SEC + i8), <f64>V);
        PR |= HAS_QUERY_TIME_SEC;
      } else {
        store<f64>(<usize>(RESPONSE_TIME_SEC + i8), <f64>V);
        PR |= HAS_RESPONSE_TIME_SEC;
      }
      break;
    case 9:
    case 13:
      if (wire != FIXED32 || !fixed32(end)) return false;
      if (field == 9) {
        store<u32>(<usize>(QUERY_TIME_NSEC + i4), <u32>V);
        PR |= HAS_QUERY_TIME_NSEC;
      } else {
        store<u32>(<usize>(RESPONSE_TIME_NSEC + i4), <u32>V);
        PR |= HAS_RESPONSE_TIME_NSEC;
      }
      break;
    case 4:
    case 5:
    case 10:
    case 11:
    case 14: {
      if (wire != LEN || !length(end)) return false;
      const n = <u32>V;
      if (field == 4) {
        store<u32>(<usize>(QUERY_ADDRESS_LENGTH + i4), n);
        address(QUERY_ADDRESS + (i << 4), P, n);
        PR |= HAS_QUERY_ADDRESS;
      } else if (field == 5) {
        store<u32>(<usize>(RESPONSE_ADDRESS_LENGTH + i4), n);
        address(RESPONSE_ADDRESS + (i << 4), P, n);
        PR |= HAS_RESPONSE_ADDRESS;
      } else if (field == 10) {
        store<u32>(<usize>(QUERY_MESSAGE_OFFSET + i4), P - DELTA);
        store<u32>(<usize>(QUERY_MESSAGE_LENGTH + i4), n);
        PR |= HAS_QUERY_MESSAGE;
      } else if (field == 14) {
        store<u32>(<usize>(RESPONSE_MESSAGE_OFFSET + i4), P - DELTA);
        store<u32>(<usize>(RESPONSE_MESSAGE_LENGTH + i4), n);
        PR |= HAS_RESPONSE_MESSAGE;
      } else PR |= HAS_QUERY_ZONE;
      P += n;
      break;
    }
    case 15: {
      if (wire != LEN || !length(end)) return false;
      const stop = P + <u32>V;
      if (!policy(stop)) return false;
      PR |= HAS_POLICY;
      break;
    }
    default:
      if (!skip(end, wire)) return false;
  }
  return true;
}

/**
 * Reads a Message in memory [p, end) into row i (merging, as decodeDnstap);
 * returns the presence bits it found, or -1 where decodeDnstap fails.
 */
function message(p: u32, end: u32, i: u32): i32 {
  const i4 = i << 2;
  const i8 = i << 3;
  // Most messages begin with the same few fields, read straight there
  // (dnstap_protobuf_prefix.ts); the loop reads the rest.
  let pr = messagePrefix(p, end, i);
  p = PREFIX_END;
  while (p < end) {
    const at = p;
    const t = u8at(p);
    p++;
    // A varint field's value (v) or a length field's length (v, checked),
    // read for every one-byte tag of those wire types: where this fails,
    // the general case fails too.
    let v: u64 = 0;
    if (t < 0x80 && ((t & 7) == VARINT || (t & 7) == LEN)) {
      if (p >= end) return -1;
      const x = u8at(p);
      if (x < 0x80) {
        v = <u64>x;
        p++;
      } else {
        p = varintAt(p, end);
        if (p == 0) return -1;
        v = V;
      }
      if ((t & 7) == LEN && v > <u64>(end - p)) return -1;
    }
    switch (t) {
      case T1_VARINT:
        store<u32>(<usize>(MESSAGE_TYPE + i4), <u32>v);
        pr |= HAS_MESSAGE_TYPE;
        break;
      case T2_VARINT:
        store<u32>(<usize>(SOCKET_FAMILY + i4), <u32>v);
        pr |= HAS_SOCKET_FAMILY;
        break;
      case T3_VARINT:
        store<u32>(<usize>(SOCKET_PROTOCOL + i4), <u32>v);
        pr |= HAS_SOCKET_PROTOCOL;
        break;
      case T6_VARINT:
        store<u32>(<usize>(QUERY_PORT + i4), <u32>v);
        pr |= HAS_QUERY_PORT;
        break;
      case T7_VARINT:
        store<u32>(<usize>(RESPONSE_PORT + i4), <u32>v);
        pr |= HAS_RESPONSE_PORT;
        break;
      case T8_VARINT:
        store<f64>(<usize>(QUERY_TIME_SEC + i8), <f64>v);
        pr |= HAS_QUERY_TIME_SEC;
        break;
      case T12_VARINT:
        store<f64>(<usize>(RESPONSE_TIME_SEC + i8), <f64>v);
        pr |= HAS_RESPONSE_TIME_SEC;
        break;
      case T9_FIXED32:
        if (end - p < 4) return -1;
        store<u32>(<usize>(QUERY_TIME_NSEC + i4), load<u32>(<usize>p));
        p += 4;
        pr |= HAS_QUERY_TIME_NSEC;
        break;
      case T13_FIXED32:
        if (end - p < 4) return -1;
        store<u32>(<usize>(RESPONSE_TIME_NSEC + i4), load<u32>(<usize>p));
        p += 4;
        pr |= HAS_RESPONSE_TIME_NSEC;
        break;
      case T4_LEN:
        store<u32>(<usize>(QUERY_ADDRESS_LENGTH + i4), <u32>v);
        address(QUERY_ADDRESS + (i << 4), p, <u32>v);
        p += <u32>v;
        pr |= HAS_QUERY_ADDRESS;
        break;
      case T5_LEN:
        store<u32>(<usize>(RESPONSE_ADDRESS_LENGTH + i4), <u32>v);
        address(RESPONSE_ADDRESS + (i << 4), p, <u32>v);
        p += <u32>v;
        pr |= HAS_RESPONSE_ADDRESS;
        break;
      case T10_LEN:
        store<u32>(<usize>(QUERY_MESSAGE_OFFSET + i4), p - DELTA);
        store<u32>(<usize>(QUERY_MESSAGE_LENGTH + i4), <u32>v);
        p += <u32>v;
        pr |= HAS_QUERY_MESSAGE;
        break;
      case T14_LEN:
        store<u32>(<usize>(RESPONSE_MESSAGE_OFFSET + i4), p - DELTA);
        store<u32>(<usize>(RESPONSE_MESSAGE_LENGTH + i4), <u32>v);
        p += <u32>v;
        pr |= HAS_RESPONSE_MESSAGE;
        break;
      case T11_LEN:
        p += <u32>v;
        pr |= HAS_QUERY_ZONE;
        break;
      default: {
        // The general case, from the tag again.
        P = at;
        if (!tag(end)) return -1;
        PR = pr;
        if (!messageField(end, i)) return -1;
        p = P;
        pr = PR;
      }
    }
  }
  return <i32>pr;
}
/**
 * Reads one field of a Dnstap (tag already read into V, P after it) into
 * row i, as decodeDnstap: the general case of dnstap().
 */
function dnstapField(end: u32, i: u32): bool {
  const i4 = i << 2;
  const t = <u32>V;
  const field = t >>> 3;
  const wire = t & 7;
  switch (field) {
    case 1:
    case 2:
    case 3: {
      if (wire != LEN || !length(end)) return false;
      const n = <u32>V;
      if (field == 1) {
        store<u32>(<usize>(IDENTITY_OFFSET + i4), P - DELTA);
        store<u32>(<usize>(IDENTITY_LENGTH + i4), n);
        PR |= HAS_IDENTITY;
      } else PR |= field == 2 ? HAS_VERSION : HAS_EXTRA;
      P += n;
      break;
    }
    case 14: {
      if (wire != LEN || !length(end)) return false;
      const stop = P + <u32>V;
      const saved = PR; // message() may use PR
      const pr = message(P, stop, i);
      if (pr < 0) return false;
      P = stop;
      PR = saved | <u32>pr | HAS_MESSAGE;
      break;
    }
    case 15:
      if (wire != VARINT || !varint(end)) return false;
      store<u32>(<usize>(DNSTAP_TYPE + i4), <u32>V);
      PR |= HAS_TYPE;
      break;
    default:
      if (!skip(end, wire)) return false;
  }
  return true;
}

/**
 * Reads a Dnstap in memory [p, end) into row i; returns its presence bits,
 * or -1 where decodeDnstap fails.
 */
export function dnstap(p: u32, end: u32, i: u32): i32 {
  const i4 = i << 2;
  let pr: u32 = 0;
  while (p < end) {
    const at = p;
    const t = u8at(p);
    p++;
    // As in message(): the value or length of a one-byte tag's field.
    let v: u64 = 0;
    if (t < 0x80 && ((t & 7) == VARINT || (t & 7) == LEN)) {
      if (p >= end) return -1;
      const x = u8at(p);
      if (x < 0x80) {
        v = <u64>x;
        p++;
      } else {
        p = varintAt(p, end);
        if (p == 0) return -1;
        v = V;
      }
      if ((t & 7) == LEN && v > <u64>(end - p)) return -1;
    }
    switch (t) {
      case T1_LEN:
        store<u32>(<usize>(IDENTITY_OFFSET + i4), p - DELTA);
        store<u32>(<usize>(IDENTITY_LENGTH + i4), <u32>v);
        p += <u32>v;
        pr |= HAS_IDENTITY;
        break;
      case T2_LEN:
        p += <u32>v;
        pr |= HAS_VERSION;
        break;
      case T3_LEN:
        p += <u32>v;
        pr |= HAS_EXTRA;
        break;
      case T14_LEN: {
        const stop = p + <u32>v;
        const m = message(p, stop, i);
        if (m < 0) return -1;
        p = stop;
        pr |= <u32>m | HAS_MESSAGE;
        break;
      }
      case T15_VARINT:
        store<u32>(<usize>(DNSTAP_TYPE + i4), <u32>v);
        pr |= HAS_TYPE;
        break;
      default: {
        // The general case, from the tag again.
        P = at;
        if (!tag(end)) return -1;
        PR = pr;
        if (!dnstapField(end, i)) return -1;
        p = P;
        pr = PR;
      }
    }
  }
  // Required fields, checked once the message repeats have merged.
  if (
    (pr & HAS_TYPE) == 0 ||
    (pr & (HAS_MESSAGE | HAS_MESSAGE_TYPE)) == HAS_MESSAGE
  ) return -1;
  return <i32>pr;
}
