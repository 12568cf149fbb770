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

// Addresses are u32: this module is wasm32 only.
const OUT: u32 = 0;
const TABLE: u32 = 1024;
const TABLE_CAPACITY: u32 = 4096;
const ENTRY_BYTES: u32 = 12;
const INPUT: u32 = 65536;
/** Sizes counted one by one by scanSizes (src/cli/_stats_histogram.ts's DENSE_LIMIT). */
const DENSE_SIZES: u32 = 65536;
/** Bytes of those counts, at the start of the input region. */
const SIZES_BYTES: u32 = DENSE_SIZES * 8;

const STATUS_END: u32 = 0;
const STATUS_NEED_MORE: u32 = 1;
const STATUS_TABLE_FULL: u32 = 2;
const STATUS_TOO_LARGE: u32 = 3;
const STATUS_CONTROL_ERROR: u32 = 4;
/** Not in scanFramesTs's contract: copy the window from out[1] and resume. */
const STATUS_REFILL: u32 = 5;

const NEED_HEADER: u32 = 0;
const NEED_DATA: u32 = 1;
const NEED_CONTROL: u32 = 2;

const KIND_DATA: u32 = 0;
const KIND_UNKNOWN_CONTROL: u32 = 6;

const REASON_LENGTH: u32 = 1;
const REASON_FIELD_HEADER: u32 = 2;
const REASON_FIELD_LENGTH: u32 = 3;
const REASON_FIELD_TYPE: u32 = 4;
const REASON_CONTENT_TYPE_LENGTH: u32 = 5;
const REASON_CONTENT_TYPE_COUNT: u32 = 6;

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

/** Reads a big-endian u32 at a memory address. */
// @ts-ignore: decorator
@inline function be32(at: u32): u32 {
  return bswap<u32>(load<u32>(<usize>at));
}

// @ts-ignore: decorator
@inline function stop(status: u32, at: u32): void {
  store<u32>(<usize>OUT, status);
  store<u32>(<usize>OUT, at, 4);
}

// @ts-ignore: decorator
@inline function needMore(at: u32, value: u32, what: u32): void {
  store<u32>(<usize>OUT, STATUS_NEED_MORE);
  store<u32>(<usize>OUT, at, 4);
  store<u32>(<usize>OUT, value, 8);
  store<u32>(<usize>OUT, what, 12);
}

// @ts-ignore: decorator
@inline function controlError(
  at: u32,
  reason: u32,
  errorAt: u32,
  value: u32,
): void {
  store<u32>(<usize>OUT, STATUS_CONTROL_ERROR);
  store<u32>(<usize>OUT, at, 4);
  store<u32>(<usize>OUT, value, 8);
  store<u32>(<usize>OUT, reason, 12);
  store<u32>(<usize>OUT, errorAt, 16);
}

// @ts-ignore: decorator
@inline function entries(t: u32): u32 {
  return (t - TABLE) / ENTRY_BYTES;
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
  );
}

/**
 * The scanner: memory [p, e) is the window, [p, c) of it copied; positions
 * written are memory addresses + delta. With `sizes` (a constant at each
 * call, so each caller gets its own copy) it counts data frame sizes as
 * scanSizes says.
 */
// @ts-ignore: decorator
@inline function scanRange(
  p: u32,
  c: u32,
  e: u32,
  maxFrameLength: u32,
  count: u32,
  capacity: u32,
  delta: u32,
  sizes: bool,
): u32 {
  const tEnd = TABLE + capacity * ENTRY_BYTES;
  let t = TABLE + count * ENTRY_BYTES;
  while (true) {
    const left = e - p;
    if (left == 0) {
      stop(STATUS_END, p + delta);
      return entries(t);
    }
    if (t >= tEnd) {
      stop(STATUS_TABLE_FULL, p + delta);
      return entries(t);
    }
    if (p + 4 > c) {
      if (left < 4) needMore(p + delta, 4, NEED_HEADER);
      else stop(STATUS_REFILL, p + delta);
      return entries(t);
    }
    const len = be32(p);
    if (len != 0) {
      if (len > maxFrameLength) {
        store<u32>(<usize>OUT, STATUS_TOO_LARGE);
        store<u32>(<usize>OUT, p + delta, 4);
        store<u32>(<usize>OUT, len, 8);
        return entries(t);
      }
      if (left - 4 < len) {
        needMore(p + delta, len, NEED_DATA);
        return entries(t);
      }
      store<u32>(<usize>t, p + delta);
      store<u32>(<usize>t, len, 4);
      store<u32>(<usize>t, KIND_DATA, 8);
      t += ENTRY_BYTES;
      p += 4 + len;
      if (sizes) {
        if (len < DENSE_SIZES) {
          const a = <usize>(INPUT + (len << 3));
          store<f64>(a, load<f64>(a) + 1.0);
        } else {
          store<u32>(<usize>OUT, load<u32>(<usize>OUT, 20) + 1, 20);
        }
      }
      continue;
    }
    if (left < 8) {
      needMore(p + delta, 8, NEED_HEADER);
      return entries(t);
    }
    if (p + 8 > c) {
      stop(STATUS_REFILL, p + delta);
      return entries(t);
    }
    const clen = be32(p + 4);
    if (clen < 4 || clen > 512) {
      controlError(p + delta, REASON_LENGTH, p + 4 + delta, clen);
      return entries(t);
    }
    if (left - 8 < clen) {
      needMore(p + delta, clen, NEED_CONTROL);
      return entries(t);
    }
    const fend = p + 8 + clen;
    if (fend > c) {
      stop(STATUS_REFILL, p + delta);
      return entries(t);
    }
    const type = be32(p + 8);
    let kind = type;
    if (type - 1 < 5) {
      // START takes at most one content type, STOP and FINISH none.
      const max: u32 = type == 2
        ? 1
        : type == 3 || type == 5
        ? 0
        : 0xffff_ffff;
      let f = p + 12;
      let n: u32 = 0;
      while (f < fend) {
        if (fend - f < 8) {
          controlError(p + delta, REASON_FIELD_HEADER, f + delta, fend - f);
          return entries(t);
        }
        const ftype = be32(f);
        if (ftype != 1) {
          controlError(p + delta, REASON_FIELD_TYPE, f + delta, ftype);
          return entries(t);
        }
        const flen = be32(f + 4);
        if (flen > fend - f - 8) {
          controlError(p + delta, REASON_FIELD_LENGTH, f + 4 + delta, flen);
          return entries(t);
        }
        if (flen > 256) {
          controlError(
            p + delta,
            REASON_CONTENT_TYPE_LENGTH,
            f + 4 + delta,
            flen,
          );
          return entries(t);
        }
        n++;
        if (n > max) {
          controlError(p + delta, REASON_CONTENT_TYPE_COUNT, f + delta, n);
          return entries(t);
        }
        f += 8 + flen;
      }
    } else {
      kind = KIND_UNKNOWN_CONTROL;
    }
    store<u32>(<usize>t, p + delta);
    store<u32>(<usize>t, clen, 4);
    store<u32>(<usize>t, kind, 8);
    t += ENTRY_BYTES;
    p = fend;
  }
  return 0;
}
