// The key lists of `fstrm top`, the AssemblyScript twin of keysTs
// (src/_dnstap_keys.ts): for the batches of rows of the dnstap scan since the
// caller last emptied them, the distinct query names, names cut to their last
// `depth` labels, and client addresses, each with its count, in order of
// first occurrence. `fstrm top` then counts the few distinct keys, not rows. Same
// rules, same order, same bytes as the twin (tests/dnstap_keys_test.ts).
//
// A row counts when it is a query (Message.type absent, 0, odd or negative)
// with a parsed question and a status other than control, bad protobuf or
// bad header. Its name: the wire bytes of the question name with pointers
// followed, the final 0 included, ASCII letters lowercased when folding
// (flag bit 1). The cut name: the name from its label `labels - depth` on
// (all of it when it has `depth` labels or fewer). The client: the first
// min(length, 16) bytes of query_address, when present.
//
// Each list at KEYS + k * KEY_LIST_BYTES: KEY_ROWS entries of 4 u32 [arena
// offset, length, count, FNV-1a hash], KEY_SLOTS u32 hash slots (entry + 1,
// 0 empty; linear probing), then the arena of key bytes.
//
// Keys repeat (a server sees a few clients and names over and over), so two
// small direct-mapped caches at KEY_CACHE, indexed by a cheap hash of a
// key's bytes, come first: a name without pointer found there by its bytes
// in place (letters folded, compared with its entry's key) counts in its
// name's and its cut name's entries, a client found there in its entry,
// without copying, hashing or probing. A cache slot is valid for a
// generation: a new one begins once the lists are emptied or the flags
// change. A name not found there is copied (folded), then its cut name is
// first compared with the last one. The twin has the same caches, indexed
// by another cheap hash (what a cache holds never changes the lists).
import {
  DNS_SIZE,
  HAS_MESSAGE_TYPE,
  HAS_QNAME_POINTER,
  HAS_QUERY_ADDRESS,
  HAS_QUESTION,
  INPUT,
  KEY_CACHE,
  KEY_CACHE_BYTES,
  KEY_COUNTS,
  KEY_LIST_BYTES,
  KEY_ROWS,
  KEY_SCRATCH,
  KEY_SLOTS,
  KEYS,
  MESSAGE_TYPE,
  PRESENT,
  QNAME_LABELS,
  QNAME_LENGTH,
  QNAME_OFFSET,
  QUERY_ADDRESS,
  QUERY_ADDRESS_LENGTH,
  QUERY_MESSAGE_OFFSET,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_CONTROL,
  STATUS,
} from "./dnstap_layout";

const LABEL_AT: u32 = KEY_SCRATCH + 512;
const ENTRIES: u32 = 0;
const SLOTS: u32 = KEY_ROWS * 16;
const ARENA: u32 = SLOTS + KEY_SLOTS * 4;

/**
 * The hash of memory [from, from + length): 4 bytes at a time (little
 * endian), then the last 0 to 3, each step h = rotl(h ^ w, 5) * 0x9e3779b1,
 * then the length mixed in (the twin's keyHash).
 */
function hash(from: u32, length: u32): u32 {
  let h: u32 = 0x811c9dc5;
  let a = from;
  const end = from + length;
  for (; a + 4 <= end; a += 4) {
    h = rotl<u32>(h ^ load<u32>(<usize>a), 5) * 0x9e3779b1;
  }
  for (; a < end; a++) {
    h = rotl<u32>(h ^ <u32>load<u8>(<usize>a), 5) * 0x9e3779b1;
  }
  h ^= length;
  h ^= h >>> 16;
  return h * 0x85ebca6b;
}

/** The 8 bytes x with their ASCII capitals lowercased, by bit tricks. */
// @ts-ignore: decorator
@inline
function lower(x: u64): u64 {
  const low = x & 0x7f7f7f7f7f7f7f7f;
  const geA = low + 0x3f3f3f3f3f3f3f3f; // bit 7 set from 'A' (0x41)
  const gtZ = low + 0x2525252525252525; // bit 7 set past 'Z' (0x5a)
  return x | ((~x & (geA ^ gtZ) & 0x8080808080808080) >> 2);
}

/** The number of labels of the last name wireName put in the scratch. */
let LABELS: u32 = 0;

/**
 * Whether memory [a, a + length), its ASCII capitals lowercased with `fold`,
 * equals [b, b + length), 8 bytes at a time (both may be read up to 7 bytes
 * past their end). Inlined: a constant `fold` costs nothing.
 */
// @ts-ignore: decorator
@inline
function same(a: u32, b: u32, length: u32, fold: bool): bool {
  let j: u32 = 0;
  for (; j + 8 <= length; j += 8) {
    const x = load<u64>(<usize>(a + j));
    if ((fold ? lower(x) : x) != load<u64>(<usize>(b + j))) return false;
  }
  if (j == length) return true;
  const x = load<u64>(<usize>(a + j));
  const d = (fold ? lower(x) : x) ^ load<u64>(<usize>(b + j));
  return (d << <u64>(64 - ((length - j) << 3))) == 0;
}

/** Whether the entry at e of list k holds memory [from, from + length). */
// @ts-ignore: decorator
@inline
function holds(k: u32, e: u32, from: u32, length: u32): bool {
  return load<u32>(<usize>e, 4) == length &&
    same(
      KEYS + k * KEY_LIST_BYTES + ARENA + load<u32>(<usize>e),
      from,
      length,
      false,
    );
}

/** Adds 1 to the count of the entry at e. */
// @ts-ignore: decorator
@inline
function bump(e: u32): void {
  store<u32>(<usize>e, load<u32>(<usize>e, 8) + 1, 8);
}

/**
 * Counts one occurrence of memory [from, to) in list k; returns the address
 * of its entry.
 */
function add(k: u32, from: u32, to: u32): u32 {
  const list = KEYS + k * KEY_LIST_BYTES;
  const length = to - from;
  const h = hash(from, length);
  let slot = h & (KEY_SLOTS - 1);
  while (true) {
    const s = <usize>(list + SLOTS + (slot << 2));
    const v = load<u32>(s);
    if (v == 0) {
      const count = load<u32>(<usize>(KEY_COUNTS + (k << 2)));
      const e = <usize>(list + ENTRIES + (count << 4));
      const at = load<u32>(<usize>(KEY_COUNTS + 12 + (k << 2)));
      store<u32>(e, at);
      store<u32>(e, length, 4);
      store<u32>(e, 1, 8);
      store<u32>(e, h, 12);
      memory.copy(<usize>(list + ARENA + at), <usize>from, <usize>length);
      store<u32>(<usize>(KEY_COUNTS + 12 + (k << 2)), at + length);
      store<u32>(s, count + 1);
      store<u32>(<usize>(KEY_COUNTS + (k << 2)), count + 1);
      return <u32>e;
    }
    const e = <usize>(list + ENTRIES + ((v - 1) << 4));
    if (
      load<u32>(e, 12) == h && load<u32>(e, 4) == length &&
      same(list + ARENA + load<u32>(e), from, length, false)
    ) {
      store<u32>(e, load<u32>(e, 8) + 1, 8);
      return <u32>e;
    }
    slot = (slot + 1) & (KEY_SLOTS - 1);
  }
}

/**
 * Puts the question name of row i in the scratch as wire bytes, pointers
 * followed (lowercased with `fold`); returns its length, or -1 where a
 * pointer loops or the name runs out (never after the scan's checks), and
 * sets LABELS.
 */
function wireName(i: u32, fold: bool): i32 {
  const m = INPUT + load<u32>(<usize>(QUERY_MESSAGE_OFFSET + (i << 2)));
  const end = m + load<u32>(<usize>(DNS_SIZE + (i << 2)));
  let at = INPUT + load<u32>(<usize>(QNAME_OFFSET + (i << 2)));
  let n: u32 = 0;
  let labels: u32 = 0;
  let hops: u32 = 0;
  while (true) {
    if (at >= end) return -1;
    const len = <u32>load<u8>(<usize>at);
    if (len == 0) break;
    if (len >= 0xc0) {
      if (at + 1 >= end || ++hops > 126) return -1;
      at = m + (((len & 0x3f) << 8) | <u32>load<u8>(<usize>(at + 1)));
      continue;
    }
    if (at + 1 + len > end || n + 1 + len > 255 || labels >= 127) return -1;
    store<u32>(<usize>(LABEL_AT + (labels << 2)), n);
    labels++;
    store<u8>(<usize>(KEY_SCRATCH + n), <u8>len);
    n++;
    // 8 bytes at a time (the scratch has room past 256 for the overrun),
    // ASCII capitals lowercased by bit tricks when folding.
    for (let k: u32 = 0; k < len; k += 8) {
      const x = load<u64>(<usize>(at + 1 + k));
      store<u64>(<usize>(KEY_SCRATCH + n + k), fold ? lower(x) : x);
    }
    n += len;
    at += 1 + len;
  }
  store<u8>(<usize>(KEY_SCRATCH + n), 0);
  n++;
  LABELS = labels;
  return <i32>n;
}

/** Slots of the name cache (a power of two): [generation, length, entry of
 * the name, entry of the cut name]. */
const NAME_BITS: u32 = 10;
const NAME_CACHE: u32 = KEY_CACHE;
/** Slots of the client cache: [generation, length, entry, 0, key as two
 * u64, zero past its length]. */
const CLIENT_BITS: u32 = 8;
const CLIENT_CACHE: u32 = NAME_CACHE + (16 << NAME_BITS);
/** The generation of the caches' valid slots (0: never valid). */
let CACHE_GEN: u32 = 0;
/** The flags of the last call of keys (a new generation when they change). */
let KEY_FLAGS: u32 = 0;

/** The low `length` bytes of a u64 (all 8 from 8 on). */
// @ts-ignore: decorator
@inline
function mask(length: u32): u64 {
  return length >= 8 ? <u64>-1 : (<u64>1 << (<u64>length << 3)) - 1;
}

/**
 * Adds the keys of rows 0 to rows - 1 to the lists (flags: bit 1 folds
 * case, bits 8 to 15 are the depth of the cut names). The lists keep what
 * earlier calls added until the caller empties them (zeroes their slots and
 * the six words at KEY_COUNTS), which it does once a list holds more than a
 * batch's worth, so that the next batch always fits.
 */
export function keys(rows: u32, flags: u32): void {
  const fold = (flags & 2) != 0;
  const depth = (flags >>> 8) & 0xff;
  // The caches hold entries of the lists: a new generation once the caller
  // has emptied them (all three counts 0) or the flags change.
  const c = <usize>KEY_COUNTS;
  if (
    flags != KEY_FLAGS ||
    (load<u32>(c) | load<u32>(c, 4) | load<u32>(c, 8)) == 0
  ) {
    KEY_FLAGS = flags;
    if (++CACHE_GEN == 0) {
      memory.fill(<usize>KEY_CACHE, 0, <usize>KEY_CACHE_BYTES);
      CACHE_GEN = 1;
    }
  }
  const gen = CACHE_GEN;
  // The entry of the last cut name (0: none): most names share it.
  let lastCut: u32 = 0;
  for (let i: u32 = 0; i < rows; i++) {
    const st = load<u8>(<usize>(STATUS + i));
    if (
      st == SCAN_CONTROL || st == SCAN_BAD_PROTOBUF ||
      st == SCAN_BAD_DNS_HEADER
    ) continue;
    const p = load<u32>(<usize>(PRESENT + (i << 2)));
    const t = (p & HAS_MESSAGE_TYPE) != 0
      ? load<i32>(<usize>(MESSAGE_TYPE + (i << 2)))
      : 0;
    if ((t > 0 && (t & 1) == 0) || (p & HAS_QUESTION) == 0) continue;
    const at = INPUT + load<u32>(<usize>(QNAME_OFFSET + (i << 2)));
    // A name without pointer: its bytes in place; its cache slot by its
    // length and first and last 8 bytes.
    const length = (p & HAS_QNAME_POINTER) == 0
      ? <u32>load<u16>(<usize>(QNAME_LENGTH + (i << 1)))
      : 0;
    let slot: u32 = 0;
    let cached = false;
    if (length != 0) {
      const first = load<u64>(<usize>at) & mask(length);
      const last = length > 8 ? load<u64>(<usize>(at + length - 8)) : 0;
      const x = (first ^ rotl<u64>(last, 29) ^ <u64>length) *
        0x9e3779b97f4a7c15;
      slot = NAME_CACHE + (<u32>(x >>> (64 - NAME_BITS)) << 4);
      if (
        load<u32>(<usize>slot) == gen && load<u32>(<usize>slot, 4) == length
      ) {
        const e = load<u32>(<usize>slot, 8);
        if (same(at, KEYS + ARENA + load<u32>(<usize>e), length, fold)) {
          bump(e);
          bump(load<u32>(<usize>slot, 12));
          cached = true;
        }
      }
    }
    if (!cached) {
      let n: i32;
      let cut: u32 = KEY_SCRATCH;
      if (length != 0) {
        // The name is its bytes (their letters lowercased when folding,
        // length bytes are below 0x40); the cut name starts past its first
        // labels - depth labels.
        for (let k: u32 = 0; k < length; k += 8) {
          const x = load<u64>(<usize>(at + k));
          store<u64>(<usize>(KEY_SCRATCH + k), fold ? lower(x) : x);
        }
        n = <i32>length;
        const labels = <u32>load<u8>(<usize>(QNAME_LABELS + i));
        for (let k = labels; k > depth; k--) {
          cut += 1 + <u32>load<u8>(<usize>cut);
        }
      } else {
        n = wireName(i, fold);
        if (LABELS > depth) {
          cut += load<u32>(<usize>(LABEL_AT + ((LABELS - depth) << 2)));
        }
      }
      if (n >= 0) {
        const to = KEY_SCRATCH + <u32>n;
        const e = add(0, KEY_SCRATCH, to);
        if (lastCut != 0 && holds(1, lastCut, cut, to - cut)) bump(lastCut);
        else lastCut = add(1, cut, to);
        if (slot != 0) {
          store<u32>(<usize>slot, gen);
          store<u32>(<usize>slot, length, 4);
          store<u32>(<usize>slot, e, 8);
          store<u32>(<usize>slot, lastCut, 12);
        }
      }
    }
    if ((p & HAS_QUERY_ADDRESS) != 0) {
      let length = load<u32>(<usize>(QUERY_ADDRESS_LENGTH + (i << 2)));
      if (length > 16) length = 16;
      const at = QUERY_ADDRESS + (i << 4);
      const lo = load<u64>(<usize>at) & mask(length);
      const hi = length > 8 ? load<u64>(<usize>at, 8) & mask(length - 8) : 0;
      const x = (lo ^ rotl<u64>(hi, 32) ^ <u64>length) * 0x9e3779b97f4a7c15;
      const slot = CLIENT_CACHE + (<u32>(x >>> (64 - CLIENT_BITS)) << 5);
      if (
        load<u32>(<usize>slot) == gen && load<u32>(<usize>slot, 4) == length &&
        load<u64>(<usize>slot, 16) == lo && load<u64>(<usize>slot, 24) == hi
      ) bump(load<u32>(<usize>slot, 8));
      else {
        store<u32>(<usize>slot, gen);
        store<u32>(<usize>slot, length, 4);
        store<u32>(<usize>slot, add(2, at, at + length), 8);
        store<u64>(<usize>slot, lo, 16);
        store<u64>(<usize>slot, hi, 24);
      }
    }
  }
}
