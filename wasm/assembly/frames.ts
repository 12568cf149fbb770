// The frame scan shared by the WebAssembly modules: scanRange, the
// AssemblyScript twin of scanFramesTs (src/_scan.ts), with the out words and
// the result table at fixed addresses. The frame scanner (index.ts) and the
// dnstap scan (../dnstap_scan.ts, which scans frames and dnstap in one call)
// both lay out OUT and TABLE as below and keep their input elsewhere.

// Addresses are u32: this module is wasm32 only.
export const OUT: u32 = 0;
export const TABLE: u32 = 1024;
export const TABLE_CAPACITY: u32 = 4096;
export const ENTRY_BYTES: u32 = 12;
/** Sizes counted one by one by scanSizes (src/cli/_stats_histogram.ts's DENSE_LIMIT). */
export const DENSE_SIZES: u32 = 65536;

export const STATUS_END: u32 = 0;
export const STATUS_NEED_MORE: u32 = 1;
export const STATUS_TABLE_FULL: u32 = 2;
export const STATUS_TOO_LARGE: u32 = 3;
export const STATUS_CONTROL_ERROR: u32 = 4;
/** Not in scanFramesTs's contract: copy the window from out[1] and resume. */
export const STATUS_REFILL: u32 = 5;

export const NEED_HEADER: u32 = 0;
export const NEED_DATA: u32 = 1;
export const NEED_CONTROL: u32 = 2;

export const KIND_DATA: u32 = 0;
export const KIND_UNKNOWN_CONTROL: u32 = 6;

export const REASON_LENGTH: u32 = 1;
export const REASON_FIELD_HEADER: u32 = 2;
export const REASON_FIELD_LENGTH: u32 = 3;
export const REASON_FIELD_TYPE: u32 = 4;
export const REASON_CONTENT_TYPE_LENGTH: u32 = 5;
export const REASON_CONTENT_TYPE_COUNT: u32 = 6;

/** Reads a big-endian u32 at a memory address. */
// @ts-ignore: decorator
@inline export function be32(at: u32): u32 {
  return bswap<u32>(load<u32>(<usize>at));
}

// @ts-ignore: decorator
@inline export function stop(status: u32, at: u32): void {
  store<u32>(<usize>OUT, status);
  store<u32>(<usize>OUT, at, 4);
}

// @ts-ignore: decorator
@inline export function needMore(at: u32, value: u32, what: u32): void {
  store<u32>(<usize>OUT, STATUS_NEED_MORE);
  store<u32>(<usize>OUT, at, 4);
  store<u32>(<usize>OUT, value, 8);
  store<u32>(<usize>OUT, what, 12);
}

// @ts-ignore: decorator
@inline export function controlError(
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
@inline export function entries(t: u32): u32 {
  return (t - TABLE) / ENTRY_BYTES;
}

/**
 * The scanner: memory [p, e) is the window, [p, c) of it copied; positions
 * written are memory addresses + delta. With `sizes` (a constant at each
 * call, so each caller gets its own copy) it counts data frame sizes as
 * scanSizes says, the count of size s at `counts` + 8 s.
 */
// @ts-ignore: decorator
@inline export function scanRange(
  p: u32,
  c: u32,
  e: u32,
  maxFrameLength: u32,
  count: u32,
  capacity: u32,
  delta: u32,
  sizes: bool,
  counts: u32,
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
          const a = <usize>(counts + (len << 3));
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
