/**
 * The key lists of `fstrm top`: for the batches of rows of the dnstap scan
 * since the lists were last emptied, the distinct query names, names cut to
 * their last `depth` labels, and client addresses, each with its count, in
 * order of first occurrence. `fstrm top` then counts the few distinct keys
 * instead of the rows, and empties the lists ({@linkcode DnstapKeys.clear})
 * once one holds more than a batch's worth ({@linkcode DnstapKeys.full}), so
 * that the next batch always fits.
 *
 * {@linkcode keysTs} is the twin of `keys()` in `wasm/dnstap_keys.ts`: same
 * rules, same order, same bytes in the same layout (the WebAssembly engine's
 * lists are views of its memory, the TypeScript engine's of an
 * `ArrayBuffer`), compared by tests/dnstap_keys_test.ts.
 *
 * A row counts when it is a query (Message.type absent, 0, odd or negative)
 * with a parsed question ({@linkcode HAS_QUESTION}) and a status other than
 * control, bad protobuf or bad header. Its name: the wire bytes of the
 * question name with pointers followed, the final 0 included, ASCII letters
 * lowercased when folding case. Its cut name: the name from its label
 * `labels - depth` on (all of it with `depth` labels or fewer). Its client:
 * the first min(length, 16) bytes of query_address, when present.
 *
 * Layout of a list: {@linkcode KEY_ROWS} entries of 4 u32 `[arena offset,
 * length, count, FNV-1a hash]`, {@linkcode KEY_SLOTS} u32 hash slots (entry
 * + 1, 0 empty; linear probing), then the arena of key bytes.
 *
 * Keys repeat (a server sees a few clients and names over and over), so
 * two small direct-mapped caches, indexed by a cheap hash of a key's bytes,
 * come first: a name without pointer found there by its bytes in place
 * (letters folded, compared with its entry's key) counts in its name's and
 * its cut name's entries, a client found there in its entry, without
 * copying, hashing or probing. A cache slot is valid for a generation: a
 * new one begins once the lists are emptied or the options change. A name
 * not found there is copied (folded), then its cut name is first compared
 * with the last one.
 *
 * @module
 */
import {
  type DnstapColumns,
  HAS_MESSAGE_TYPE,
  HAS_QNAME_POINTER,
  HAS_QUERY_ADDRESS,
  HAS_QUESTION,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_CAPACITY,
  SCAN_CONTROL,
} from "./_dnstap_scan_layout.ts";

/** Entries a list holds: two batches' rows. */
export const KEY_ROWS = 2 * SCAN_CAPACITY;
/** Hash slots of a list. */
export const KEY_SLOTS = 2 * KEY_ROWS;
/** Arena bytes of a list: 256 per entry. */
export const KEY_ARENA = 256 * KEY_ROWS;
/** Bytes of one list. */
export const KEY_LIST_BYTES = KEY_ROWS * 16 + KEY_SLOTS * 4 + KEY_ARENA;
/** The lists, by index. */
export const KEY_NAMES = 0;
/** Names cut to their last `depth` labels. */
export const KEY_DOMAINS = 1;
/** Client addresses. */
export const KEY_CLIENTS = 2;

/** One key list: views of its entries, slots and arena. */
export class KeyList {
  /** 4 u32 per entry: arena offset, length, count, hash. */
  readonly entries: Uint32Array;
  /** The hash slots. */
  readonly slots: Uint32Array;
  /** The key bytes. */
  readonly arena: Uint8Array;

  /** Views of the list at `byteOffset` of `buffer`. */
  constructor(buffer: ArrayBufferLike, byteOffset: number) {
    this.entries = new Uint32Array(buffer, byteOffset, KEY_ROWS * 4);
    this.slots = new Uint32Array(
      buffer,
      byteOffset + KEY_ROWS * 16,
      KEY_SLOTS,
    );
    this.arena = new Uint8Array(
      buffer,
      byteOffset + KEY_ROWS * 16 + KEY_SLOTS * 4,
      KEY_ARENA,
    );
  }
}

/** The three key lists, their distinct counts and arena bytes used. */
export class DnstapKeys {
  /** Names, cut names, clients. */
  readonly lists: readonly [KeyList, KeyList, KeyList];
  /** Distinct keys in each list (words 0 to 2), arena bytes used (3 to 5). */
  readonly counts: Uint32Array;

  /**
   * Views over `buffer` (a new one by default): the lists from `byteOffset`,
   * the counts at `countsOffset`.
   */
  constructor(
    buffer: ArrayBufferLike = new ArrayBuffer(3 * KEY_LIST_BYTES + 24),
    byteOffset = 0,
    countsOffset: number = 3 * KEY_LIST_BYTES,
  ) {
    this.lists = [
      new KeyList(buffer, byteOffset),
      new KeyList(buffer, byteOffset + KEY_LIST_BYTES),
      new KeyList(buffer, byteOffset + 2 * KEY_LIST_BYTES),
    ];
    this.counts = new Uint32Array(buffer, countsOffset, 6);
  }

  /** Whether a list holds more than a batch's worth: empty them now. */
  get full(): boolean {
    const c = this.counts;
    const most = KEY_ROWS - SCAN_CAPACITY;
    return c[0]! > most || c[1]! > most || c[2]! > most;
  }

  /** Empties the lists. */
  clear(): void {
    for (const list of this.lists) list.slots.fill(0);
    this.counts.fill(0);
  }
}

/** The options of {@linkcode keysTs}. */
export interface KeyOptions {
  /** Labels kept by the cut names (1 to 127). */
  depth: number;
  /** Lowercase ASCII letters of names. */
  fold: boolean;
}

const NAME = new Uint8Array(256);
const LABEL_AT = new Int32Array(128);
let labelsOut = 0;

/**
 * The hash of `b[from, from + length)`: 4 bytes at a time (little endian),
 * then the last 0 to 3, each step h = rotl(h ^ w, 5) * 0x9e3779b1, then the
 * length mixed in (`hash` of wasm/dnstap_keys.ts).
 */
export function keyHash(b: Uint8Array, from: number, length: number): number {
  let h = 0x811c9dc5;
  let a = from;
  const end = from + length;
  for (; a + 4 <= end; a += 4) {
    h ^= b[a]! | (b[a + 1]! << 8) | (b[a + 2]! << 16) | (b[a + 3]! << 24);
    h = Math.imul((h << 5) | (h >>> 27), 0x9e3779b1);
  }
  for (; a < end; a++) {
    h ^= b[a]!;
    h = Math.imul((h << 5) | (h >>> 27), 0x9e3779b1);
  }
  h ^= length;
  h ^= h >>> 16;
  return Math.imul(h, 0x85ebca6b) >>> 0;
}

/** Whether the entry at word `e` of `list` holds `b[from, from + length)`. */
function holds(
  list: KeyList,
  e: number,
  b: Uint8Array,
  from: number,
  length: number,
): boolean {
  if (list.entries[e + 1] !== length) return false;
  const arena = list.arena;
  const key = list.entries[e]!;
  let j = 0;
  while (j < length && arena[key + j] === b[from + j]) j++;
  return j === length;
}

/**
 * Counts one occurrence of `b[from, to)` in list `k`; returns the index of
 * its entry's first word.
 */
function add(
  keys: DnstapKeys,
  k: number,
  b: Uint8Array,
  from: number,
  to: number,
): number {
  const list = keys.lists[k]!;
  const length = to - from;
  const h = keyHash(b, from, length);
  const slots = list.slots;
  const entries = list.entries;
  const arena = list.arena;
  let slot = h & (KEY_SLOTS - 1);
  for (;;) {
    const v = slots[slot]!;
    if (v === 0) {
      const count = keys.counts[k]!;
      const e = count << 2;
      const at = keys.counts[3 + k]!;
      entries[e] = at;
      entries[e + 1] = length;
      entries[e + 2] = 1;
      entries[e + 3] = h;
      arena.set(b.subarray(from, to), at);
      keys.counts[3 + k] = at + length;
      slots[slot] = count + 1;
      keys.counts[k] = count + 1;
      return e;
    }
    const e = (v - 1) << 2;
    if (entries[e + 3] === h && holds(list, e, b, from, length)) {
      entries[e + 2]!++;
      return e;
    }
    slot = (slot + 1) & (KEY_SLOTS - 1);
  }
}

/** Bits of the name cache's slot index. */
const NAME_BITS = 10;
/** Bits of the client cache's slot index. */
const CLIENT_BITS = 8;

/**
 * The caches of keysTs for one {@linkcode DnstapKeys} (keys() keeps its own
 * in WebAssembly memory): name slots of 4 words [generation, length, entry
 * of the name, entry of the cut name], client slots of 8 [generation,
 * length, entry, 0, the key as 4 little-endian words, zero past its
 * length]. A slot is valid in its generation only (0: never).
 */
class KeyCaches {
  gen = 0;
  depth = -1;
  fold = false;
  readonly names: Int32Array = new Int32Array(4 << NAME_BITS);
  readonly clients: Int32Array = new Int32Array(8 << CLIENT_BITS);
}

const CACHES = new WeakMap<DnstapKeys, KeyCaches>();

/** Each byte, its ASCII capitals lowercased: the case folding. */
const FOLDED = Uint8Array.from(
  { length: 256 },
  (_, x) => x >= 0x41 && x <= 0x5a ? x + 0x20 : x,
);
/** Each byte as it is. */
const UNFOLDED = Uint8Array.from({ length: 256 }, (_, x) => x);

/**
 * Whether `b[from, from + length)`, its bytes through `map` (FOLDED or
 * UNFOLDED), is the key of the entry at word `e` of `list` (whose length is
 * `length`).
 */
function sameFolded(
  b: Uint8Array,
  from: number,
  list: KeyList,
  e: number,
  length: number,
  map: Uint8Array,
): boolean {
  const arena = list.arena;
  const key = list.entries[e]!;
  for (let j = 0; j < length; j++) {
    if (arena[key + j] !== map[b[from + j]!]) return false;
  }
  return true;
}

/**
 * Puts the question name of row `i` in `NAME` as wire bytes, pointers
 * followed, through `map` (FOLDED or UNFOLDED); returns its length, or -1
 * where a pointer loops or the name runs out (never after the scan's
 * checks), and sets `labelsOut`.
 */
function wireName(
  c: DnstapColumns,
  i: number,
  window: Uint8Array,
  map: Uint8Array,
): number {
  const m = c.queryMessageOffset[i]!;
  const end = m + c.dnsSize[i]!;
  let at = c.qnameOffset[i]!;
  let n = 0;
  let labels = 0;
  let hops = 0;
  for (;;) {
    if (at >= end) return -1;
    const len = window[at]!;
    if (len === 0) break;
    if (len >= 0xc0) {
      if (at + 1 >= end || ++hops > 126) return -1;
      at = m + (((len & 0x3f) << 8) | window[at + 1]!);
      continue;
    }
    if (at + 1 + len > end || n + 1 + len > 255 || labels >= 127) return -1;
    LABEL_AT[labels++] = n;
    NAME[n++] = len;
    for (let k = 1; k <= len; k++) NAME[n++] = map[window[at + k]!]!;
    at += 1 + len;
  }
  NAME[n++] = 0;
  labelsOut = labels;
  return n;
}

/**
 * Adds the keys of rows 0 to `rows - 1` of `c` (over `window`, the buffer
 * the columns' offsets are in) to `keys`, as the module doc says. The lists
 * must not be {@linkcode DnstapKeys.full}.
 *
 * @param c The columns of a batch.
 * @param rows Its rows.
 * @param window The buffer of its offsets.
 * @param options Depth of the cut names, case folding.
 * @param keys Where the lists go.
 */
export function keysTs(
  c: DnstapColumns,
  rows: number,
  window: Uint8Array,
  options: KeyOptions,
  keys: DnstapKeys,
): void {
  const { depth, fold } = options;
  const map = fold ? FOLDED : UNFOLDED;
  const status = c.status;
  const present = c.present;
  const [names, cuts, clients] = keys.lists;
  let cache = CACHES.get(keys);
  if (cache === undefined) {
    cache = new KeyCaches();
    CACHES.set(keys, cache);
  }
  // The caches hold entries of the lists: a new generation once the caller
  // has emptied them (all three counts 0) or the options change.
  const counts = keys.counts;
  if (
    cache.depth !== depth || cache.fold !== fold ||
    (counts[0]! | counts[1]! | counts[2]!) === 0
  ) {
    cache.depth = depth;
    cache.fold = fold;
    if (++cache.gen > 0x7fff_ffff) {
      cache.names.fill(0);
      cache.clients.fill(0);
      cache.gen = 1;
    }
  }
  const gen = cache.gen;
  const nameSlots = cache.names;
  const clientSlots = cache.clients;
  // The entry of the last cut name (-1: none): most names share it.
  let lastCut = -1;
  for (let i = 0; i < rows; i++) {
    const st = status[i]!;
    if (
      st === SCAN_CONTROL || st === SCAN_BAD_PROTOBUF ||
      st === SCAN_BAD_DNS_HEADER
    ) continue;
    const p = present[i]!;
    const t = (p & HAS_MESSAGE_TYPE) !== 0 ? c.messageType[i]! : 0;
    if ((t > 0 && (t & 1) === 0) || (p & HAS_QUESTION) === 0) continue;
    const at = c.qnameOffset[i]!;
    // A name without pointer: its bytes in place; its cache slot by its
    // length and first and last 8 bytes.
    const length = (p & HAS_QNAME_POINTER) === 0 ? c.qnameLength[i]! : 0;
    let slot = -1;
    let cached = false;
    if (length !== 0) {
      const f = Math.min(length, 8);
      let h = Math.imul(length, 0x9e3779b1);
      for (let k = 0; k < f; k++) {
        h = Math.imul(h ^ window[at + k]!, 0x01000193);
      }
      for (let k = Math.max(f, length - 8); k < length; k++) {
        h = Math.imul(h ^ window[at + k]!, 0x01000193);
      }
      slot = (Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> (32 - NAME_BITS)) << 2;
      if (nameSlots[slot] === gen && nameSlots[slot + 1] === length) {
        const e = nameSlots[slot + 2]!;
        if (sameFolded(window, at, names, e, length, map)) {
          names.entries[e + 2]!++;
          cuts.entries[nameSlots[slot + 3]! + 2]!++;
          cached = true;
        }
      }
    }
    if (!cached) {
      let n: number;
      let cut = 0;
      if (length !== 0) {
        // The name is its bytes (their letters lowercased when folding,
        // length bytes are below 0x40); the cut name starts past its first
        // labels - depth labels.
        for (let k = 0; k < length; k++) NAME[k] = map[window[at + k]!]!;
        n = length;
        for (let k = c.qnameLabels[i]!; k > depth; k--) cut += 1 + NAME[cut]!;
      } else {
        n = wireName(c, i, window, map);
        if (labelsOut > depth) cut = LABEL_AT[labelsOut - depth]!;
      }
      if (n >= 0) {
        const e = add(keys, KEY_NAMES, NAME, 0, n);
        if (lastCut >= 0 && holds(cuts, lastCut, NAME, cut, n - cut)) {
          cuts.entries[lastCut + 2]!++;
        } else lastCut = add(keys, KEY_DOMAINS, NAME, cut, n);
        if (slot >= 0) {
          nameSlots[slot] = gen;
          nameSlots[slot + 1] = length;
          nameSlots[slot + 2] = e;
          nameSlots[slot + 3] = lastCut;
        }
      }
    }
    if ((p & HAS_QUERY_ADDRESS) !== 0) {
      const length = Math.min(c.queryAddressLength[i]!, 16);
      const at = 16 * i;
      const b = c.queryAddress;
      // The key as 4 words, zero past its length.
      let w0 = 0, w1 = 0, w2 = 0, w3 = 0;
      for (let k = 0; k < length; k++) {
        const x = b[at + k]! << ((k & 3) << 3);
        if (k < 4) w0 |= x;
        else if (k < 8) w1 |= x;
        else if (k < 12) w2 |= x;
        else w3 |= x;
      }
      const h = Math.imul(
        w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^
          Math.imul(w3, 0x27d4eb2f) ^ length,
        0x9e3779b1,
      );
      const s = (h >>> (32 - CLIENT_BITS)) << 3;
      if (
        clientSlots[s] === gen && clientSlots[s + 1] === length &&
        clientSlots[s + 4] === w0 && clientSlots[s + 5] === w1 &&
        clientSlots[s + 6] === w2 && clientSlots[s + 7] === w3
      ) clients.entries[clientSlots[s + 2]! + 2]!++;
      else {
        clientSlots[s] = gen;
        clientSlots[s + 1] = length;
        clientSlots[s + 2] = add(keys, KEY_CLIENTS, b, at, at + length);
        clientSlots[s + 4] = w0;
        clientSlots[s + 5] = w1;
        clientSlots[s + 6] = w2;
        clientSlots[s + 7] = w3;
      }
    }
  }
}
