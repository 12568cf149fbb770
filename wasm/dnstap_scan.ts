// The AssemblyScript twin of scanDnstapTs (src/_dnstap_scan.ts): the columnar
// dnstap scan, same checks in the same order, same columns byte for byte
// (layout in src/_dnstap_scan_layout.ts). Keep the two in step;
// tests/dnstap_scan_parity_test.ts compares them.
//
// The protobuf part (Dnstap, Message) is in dnstap_protobuf.ts, the DNS
// part (header, question, OPT record) in dnstap_dns.ts, the key lists in
// dnstap_keys.ts. Memory layout: dnstap_layout.ts. Two ways in:
// - scan(count, base): the caller copies a frame table to TABLE and the
//   window's bytes to INPUT (input[0] is the caller's buffer offset `base`).
//   Offsets in the table and written to the columns are offsets in the
//   caller's buffer; memory address = offset - base + INPUT.
// - scanWindow(from, to, ...): one pass over a window the caller has read
//   straight into INPUT. The frame scan (frames.ts, as scanFramesTs) fills
//   TABLE and the out words, its data entries are gathered in DATA_TABLE,
//   the dnstap scan fills a row per data entry, keys() (dnstap_keys.ts)
//   lists the batch's distinct keys for `fstrm top`, and countRows()
//   (dnstap_counts.ts) counts its rows for it. Offsets are window offsets
//   (base 0). The TypeScript twin: src/_dnstap_window_engine.ts.
import { OUT, scanRange } from "./assembly/frames";
import { dns, DNS_PR } from "./dnstap_dns";
import { keys } from "./dnstap_keys";
import { countRows } from "./dnstap_counts";
import {
  CAPACITY,
  COLUMNS,
  COLUMNS_END,
  COUNTS,
  COUNTS_BYTES,
  DATA_TABLE,
  EDNS_RCODE,
  EDNS_VERSION,
  HAS_DNS,
  HAS_DNS_RESPONSE,
  HAS_QUERY_MESSAGE,
  HAS_RESPONSE_MESSAGE,
  ID,
  INPUT,
  KEY_COUNTS,
  KEY_LIST_BYTES,
  KEYS,
  MESSAGE_TYPE,
  N,
  OPCODE,
  PRESENT,
  QNAME_LABELS,
  QUERY_ADDRESS,
  QUERY_MESSAGE_LENGTH,
  QUERY_MESSAGE_OFFSET,
  QUERY_TIME_SEC,
  RCODE,
  RESPONSE_ADDRESS,
  RESPONSE_MESSAGE_LENGTH,
  RESPONSE_MESSAGE_OFFSET,
  RESPONSE_TIME_SEC,
  ROW,
  SCAN_BAD_PROTOBUF,
  SCAN_CONTROL,
  SCAN_OK,
  STATUS,
  TABLE,
} from "./dnstap_layout";
import { DELTA, dnstap, setDelta } from "./dnstap_protobuf";

/** Byte offset of the frame table. */
export function tableOffset(): u32 {
  return TABLE;
}

/** Rows per scan. */
export function capacity(): u32 {
  return CAPACITY;
}

/** Byte offset of the columns. */
export function columnsOffset(): u32 {
  return COLUMNS;
}

/** Bytes of the columns (ROW * CAPACITY). */
export function columnsBytes(): u32 {
  return COLUMNS_END - COLUMNS;
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
 * Grows memory so that the input region holds `size` bytes. Returns the
 * input offset, or 0 if memory cannot grow that far.
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

/** Zeroes row i of every column. */
function clearRow(i: u32): void {
  const i2 = i << 1;
  const i4 = i << 2;
  const i8 = i << 3;
  store<u64>(<usize>(QUERY_TIME_SEC + i8), 0);
  store<u64>(<usize>(RESPONSE_TIME_SEC + i8), 0);
  for (let a = PRESENT + i4; a < ID; a += N * 4) store<u32>(<usize>a, 0);
  for (let a = ID + i2; a < STATUS; a += N * 2) store<u16>(<usize>a, 0);
  store<u8>(<usize>(STATUS + i), 0);
  store<u8>(<usize>(OPCODE + i), 0);
  store<u8>(<usize>(RCODE + i), 0);
  store<u8>(<usize>(QNAME_LABELS + i), 0);
  store<u8>(<usize>(EDNS_RCODE + i), 0);
  store<u8>(<usize>(EDNS_VERSION + i), 0);
  const q = QUERY_ADDRESS + (i << 4);
  store<u64>(<usize>q, 0);
  store<u64>(<usize>q, 0, 8);
  const r = RESPONSE_ADDRESS + (i << 4);
  store<u64>(<usize>r, 0);
  store<u64>(<usize>r, 0, 8);
}

/** Zeroes rows 0 to n - 1 of every column: one fill per column. */
function clearRows(n: u32): void {
  memory.fill(<usize>QUERY_TIME_SEC, 0, <usize>(n << 3));
  memory.fill(<usize>RESPONSE_TIME_SEC, 0, <usize>(n << 3));
  for (let a = PRESENT; a < ID; a += N * 4) {
    memory.fill(<usize>a, 0, <usize>(n << 2));
  }
  for (let a = ID; a < STATUS; a += N * 2) {
    memory.fill(<usize>a, 0, <usize>(n << 1));
  }
  for (let a = STATUS; a < QUERY_ADDRESS; a += N) {
    memory.fill(<usize>a, 0, <usize>n);
  }
  memory.fill(<usize>QUERY_ADDRESS, 0, <usize>(n << 4));
  memory.fill(<usize>RESPONSE_ADDRESS, 0, <usize>(n << 4));
}

/**
 * Scans `count` entries of the frame table (at most CAPACITY) over the
 * input region, which holds the caller's buffer from offset `base` on.
 * Every entry's frame must lie in the input region.
 */
export function scan(count: u32, base: u32): void {
  if (count > CAPACITY) count = CAPACITY;
  setDelta(INPUT - base);
  scanEntries(TABLE, count);
}

/**
 * One pass over input[from, to), read there by the caller: the frame scan
 * (scanInPlace of the frame scanner: TABLE, out words, return value), then
 * the dnstap scan of its data entries in order, row r for the r-th data
 * entry (their count in out[6]), then, when `keyFlags` has bit 0, keys()
 * with those flags, and when it has bit 2, countRows() of the rows.
 * Offsets are input offsets.
 */
export function scanWindow(
  from: u32,
  to: u32,
  maxFrameLength: u32,
  keyFlags: u32,
): u32 {
  const room = inputCapacity();
  if (to > room) to = room;
  if (from > to) from = to;
  const n = scanRange(
    INPUT + from,
    INPUT + to,
    INPUT + to,
    maxFrameLength,
    0,
    CAPACITY,
    0 - INPUT,
    false,
    0,
  );
  let rows: u32 = 0;
  for (let e = TABLE, last = TABLE + n * 12; e < last; e += 12) {
    if (load<u32>(<usize>e, 8) != 0) continue;
    const d = <usize>(DATA_TABLE + rows * 12);
    store<u32>(d, load<u32>(<usize>e));
    store<u32>(d, load<u32>(<usize>e, 4), 4);
    store<u32>(d, 0, 8);
    rows++;
  }
  store<u32>(<usize>OUT, rows, 24);
  setDelta(INPUT);
  scanEntries(DATA_TABLE, rows);
  if ((keyFlags & 1) != 0) keys(rows, keyFlags);
  if ((keyFlags & 4) != 0) countRows(rows);
  return n;
}

/** The dnstap scan of `count` entries of the table at `table`. */
function scanEntries(table: u32, count: u32): void {
  clearRows(count);
  for (let i: u32 = 0; i < count; i++) {
    const e = table + i * 12;
    if (load<u32>(<usize>e, 8) != 0) {
      store<u8>(<usize>(STATUS + i), SCAN_CONTROL);
      continue;
    }
    const p = load<u32>(<usize>e) + 4 + DELTA;
    const bits = dnstap(p, p + load<u32>(<usize>e, 4), i);
    if (bits < 0) {
      clearRow(i);
      store<u8>(<usize>(STATUS + i), SCAN_BAD_PROTOBUF);
      continue;
    }
    let pr = <u32>bits;
    const t = load<i32>(<usize>(MESSAGE_TYPE + (i << 2)));
    let status = SCAN_OK;
    if (t > 0 && (t & 1) == 0) {
      if (pr & HAS_RESPONSE_MESSAGE) {
        pr |= HAS_DNS | HAS_DNS_RESPONSE;
        status = dns(
          load<u32>(<usize>(RESPONSE_MESSAGE_OFFSET + (i << 2))) + DELTA,
          load<u32>(<usize>(RESPONSE_MESSAGE_LENGTH + (i << 2))),
          i,
          DELTA,
        );
        pr |= DNS_PR;
      }
    } else if (pr & HAS_QUERY_MESSAGE) {
      pr |= HAS_DNS;
      status = dns(
        load<u32>(<usize>(QUERY_MESSAGE_OFFSET + (i << 2))) + DELTA,
        load<u32>(<usize>(QUERY_MESSAGE_LENGTH + (i << 2))),
        i,
        DELTA,
      );
      pr |= DNS_PR;
    }
    store<u8>(<usize>(STATUS + i), status);
    store<u32>(<usize>(PRESENT + (i << 2)), pr);
  }
}

/** Byte offset of the key lists (see dnstap_keys.ts). */
export function keysOffset(): u32 {
  return KEYS;
}

/** Bytes of one key list. */
export function keyListBytes(): u32 {
  return KEY_LIST_BYTES;
}

/** Byte offset of the three distinct-key counts of the last keys(). */
export function keyCountsOffset(): u32 {
  return KEY_COUNTS;
}

/** Byte offset of the row counts (see dnstap_counts.ts). */
export function countsOffset(): u32 {
  return COUNTS;
}

/** Bytes of the row counts. */
export function countsBytes(): u32 {
  return COUNTS_BYTES;
}

export { countRows };
