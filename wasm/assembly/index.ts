// The AssemblyScript twin of scanFramesTs (src/_scan.ts): same statuses, same
// need/what codes, same reason codes, same error positions, same check order.
// Keep the two in step; tests/wasm_scanner_test.ts compares them.
//
// Memory layout (fixed; no allocator, no data segments):
//   [OUT, OUT + 32)        out: 8 u32 status words (see src/_scan.ts)
//   [TABLE, TABLE + 12*N)  the result table: N = TABLE_CAPACITY entries of
//                          [frameOffset, length, kind], u32 each
//   [INPUT, memory end)    the input region: the caller copies window bytes
//                          here; ensureInput() grows memory when needed
// All words are little-endian (WebAssembly's order): read them through a
// Uint32Array view, re-created whenever memory has grown.
//
// One call of scan() handles a window whose bytes may be only partly copied:
// input[0, copied) holds window positions [base, base + copied) of the
// caller's buffer, and the window logically extends to base + length. Data
// frame payloads are never read, so a data frame ending past the copied bytes
// is accepted all the same; when the scanner needs bytes it does not have (a
// header or a whole control frame), it stops with STATUS_REFILL and the
// caller copies more from out[1] and calls again, passing the entry count so
// far. So a caller copies the bytes it scans in bounded pieces, never a whole
// window per call. With copied == length this is exactly scanFramesTs.
// Every position written (table offsets, out[1], out[4]) is base + the
// position in the input region, that is, an offset in the caller's buffer.
//
// scanSizes() is scanInPlace() that also counts data frame sizes, for
// `fstrm stats` (src/_stats_engine.ts): the input region then starts with
// SIZES_BYTES of counts, one f64 per size below DENSE_SIZES (exact up to
// 2^53), and the window follows them. A data frame of DENSE_SIZES bytes or
// more is counted in out[5] instead (the caller finds it in the table).

import {
  DENSE_SIZES,
  OUT,
  scanRange,
  TABLE,
  TABLE_CAPACITY,
} from "./frames";

// Addresses are u32: this module is wasm32 only (OUT, TABLE: see frames.ts).
const INPUT: u32 = 65536;
/** Bytes of the size counts, at the start of the input region. */
const SIZES_BYTES: u32 = DENSE_SIZES * 8;

/** Byte offset of the 8 out words. */
export function outOffset(): u32 {
  return OUT;
}

/** Byte offset of the result table. */
export function tableOffset(): u32 {
  return TABLE;
}

/** Entries the result table holds; scan() never writes more. */
export function tableCapacity(): u32 {
  return TABLE_CAPACITY;
}

/** Byte offset of the input region. */
export function inputOffset(): u32 {
  return INPUT;
}

/** Bytes the input region holds now. */
export function inputCapacity(): u32 {
  return (<u32>memory.size() << 16) - INPUT;
}

/**
 * Grows memory so that the input region holds `size` bytes. Returns the input
 * offset, or 0 if memory cannot grow that far. Views of memory taken before a
 * call are stale after it.
 */
export function ensureInput(size: u32): u32 {
  if (<u64>size + <u64>INPUT > 0xffff_0000) return 0;
  const need = INPUT + size;
  const have = <u32>memory.size() << 16;
  if (need > have) {
    if (memory.grow(<i32>((need - have + 0xffff) >>> 16)) < 0) return 0;
  }
  return INPUT;
}

/** Bytes at the start of the input region that scanSizes counts in. */
export function sizesBytes(): u32 {
  return SIZES_BYTES;
}

/**
 * Scans the window described above, appending table entries from entry
 * `count` up to `capacity` (at most TABLE_CAPACITY). Returns the entry count
 * and writes out[] as scanFramesTs does. `length + INPUT + 8` must stay below
 * 2^32 (the caller falls back to the TS scanner beyond).
 */
export function scan(
  copied: u32,
  length: u32,
  maxFrameLength: u32,
  count: u32,
  capacity: u32,
  base: u32,
): u32 {
  if (capacity > TABLE_CAPACITY) capacity = TABLE_CAPACITY;
  if (copied > length) copied = length;
  // Memory address + delta = offset in the caller's buffer (mod 2^32).
  return scanRange(
    INPUT,
    INPUT + copied,
    INPUT + length,
    maxFrameLength,
    count,
    capacity,
    base - INPUT,
    false,
    0,
  );
}

/**
 * Scans input[from, to), all of it present in memory (the bulk path reads
 * straight into the input region), filling the table from entry 0. Positions
 * written are offsets in the input region. Exactly scanFramesTs on the input
 * region as its buffer.
 */
export function scanInPlace(
  from: u32,
  to: u32,
  maxFrameLength: u32,
  capacity: u32,
): u32 {
  if (capacity > TABLE_CAPACITY) capacity = TABLE_CAPACITY;
  if (to > inputCapacity()) to = inputCapacity();
  if (from > to) from = to;
  return scanRange(
    INPUT + from,
    INPUT + to,
    INPUT + to,
    maxFrameLength,
    0,
    capacity,
    0 - INPUT,
    false,
    0,
  );
}

/**
 * scanInPlace on the window that follows the counts (see the top), and
 * counts the size of each data frame it enters in the table: the count of
 * size s (below DENSE_SIZES) is the f64 at input + 8 s; larger ones are
 * counted in out[5] (zeroed first). Positions `from`, `to` and those
 * written are window offsets.
 */
export function scanSizes(
  from: u32,
  to: u32,
  maxFrameLength: u32,
  capacity: u32,
): u32 {
  if (capacity > TABLE_CAPACITY) capacity = TABLE_CAPACITY;
  const room = inputCapacity();
  const window: u32 = room > SIZES_BYTES ? room - SIZES_BYTES : 0;
  if (to > window) to = window;
  if (from > to) from = to;
  const at = INPUT + SIZES_BYTES;
  store<u32>(<usize>OUT, 0, 20);
  return scanRange(
    at + from,
    at + to,
    at + to,
    maxFrameLength,
    0,
    capacity,
    0 - at,
    true,
    INPUT,
  );
}
