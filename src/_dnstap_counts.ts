/**
 * The per-row counts of `fstrm top`, made by the engine that scanned the
 * rows: messages, malformed ones by status, queries and responses, counts by
 * message type, socket protocol, rcode and qtype, the latency histogram, and
 * queries per second as runs of equal `query_time_sec`. Everything but the
 * names and clients (those are the key lists of `_dnstap_keys.ts`), so that
 * no JavaScript runs per row on the WebAssembly path.
 *
 * {@linkcode countRowsTs} is the twin of `countRows()` in
 * `wasm/dnstap_counts.ts`: same rules, same f64 values in the same layout
 * (the WebAssembly engine's counts are a view of its memory, the TypeScript
 * engine's a `Float64Array` of their own), compared by
 * tests/dnstap_counts_test.ts.
 *
 * Per row (status other than control): a message; a bad protobuf one counts
 * as that and nothing more. Else its Message.type (0 when absent) and socket
 * protocol (0 when absent) are counted; a bad DNS header counts as that and
 * nothing more; a bad question counts as that and goes on. A response (an
 * even Message.type above 0) without a DNS message counts in `noDns`; with
 * one, its rcode (extended by the OPT record's bits) and, with both times,
 * its latency in nanoseconds (computed in f64: negative ones apart, those
 * from 2^53 on not counted). A query (any other type) with a question: its
 * QTYPE when parsed, and its second; else without a DNS message, `noDns`.
 *
 * Layout (f64 indices): the scalars (`C_*`), then the tables of message
 * types (32), protocols (32), rcodes (4096), qtypes (65536) and latency
 * buckets, then the list of table entries counted since the counts were
 * last folded (their indices, in order of first count: a reader visits the
 * values seen, not the tables), then the per-call lists: finished runs of
 * seconds `(second, count)` in row order, and outliers `(table, value)`:
 * message types and protocols outside [0, 32), table 0 or 1. The open run
 * (`C_RUN_SECOND`, `C_RUN_COUNT`) carries over from call to call.
 *
 * @module
 */
import {
  type DnstapColumns,
  HAS_DNS,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_QTYPE,
  HAS_QUERY_TIME_SEC,
  HAS_QUESTION,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_PROTOCOL,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CAPACITY,
  SCAN_CONTROL,
} from "./_dnstap_scan_layout.ts";

/** Sub-buckets per power of two of the latency histogram (2^SUB_BITS). */
const SUB = 128;
const SUB_BITS = 7;
/** Latencies below this have a bucket each. */
const LINEAR = 2 * SUB;
/** Latency buckets: 256 exact, then 128 per power of two up to 2^53. */
export const LATENCY_BUCKETS: number = LINEAR + (53 - 8) * SUB;

/**
 * The latency histogram's bucket of a non-negative integer `v` (below
 * 2^53): `v` itself below 256; above, each power of two [2^e, 2^(e+1)) cut
 * into 128 equal buckets.
 */
export function latencyBucket(v: number): number {
  if (v < LINEAR) return v;
  // e = floor(log2 v), m = the top 8 bits of v (128 .. 255): integer
  // operations below 2^32 (Math.log2 and powers cost ten times more).
  let e: number;
  let m: number;
  if (v < 0x1_0000_0000) {
    e = 31 - Math.clz32(v);
    m = v >>> (e - SUB_BITS);
  } else {
    e = 63 - Math.clz32(Math.floor(v / 0x1_0000_0000));
    m = Math.floor(v / 2 ** (e - SUB_BITS));
  }
  return LINEAR + (e - 8) * SUB + (m - SUB);
}

/** The lower bound of latency bucket `b` (the inverse of latencyBucket). */
export function latencyBucketLow(b: number): number {
  if (b < LINEAR) return b;
  const e = 8 + Math.floor((b - LINEAR) / SUB);
  const m = SUB + ((b - LINEAR) % SUB);
  return m * 2 ** (e - SUB_BITS);
}

/**
 * The relative error bound of a value reported as its bucket's lower bound
 * (under, never over).
 */
export const LATENCY_RELATIVE_ERROR: number = 1 / SUB;

/** Data rows (not control). */
export const C_MESSAGES = 0;
/** Rows of status bad protobuf. */
export const C_BAD_PROTOBUF = 1;
/** Rows of status bad DNS header. */
export const C_BAD_HEADER = 2;
/** Rows of status bad question. */
export const C_BAD_QUESTION = 3;
/** Queries and responses without a DNS message. */
export const C_NO_DNS = 4;
/** Queries with a question. */
export const C_QUERIES = 5;
/** Responses with a DNS message. */
export const C_RESPONSES = 6;
/** Responses whose response time is before their query time. */
export const C_NEGATIVE_LATENCY = 7;
/** Scalars a reader adds up batch by batch (indices 0 to 7). */
export const C_SCALARS = 8;
/** Latencies counted in the histogram. */
export const C_LATENCY_COUNT = 8;
/** The smallest latency (Infinity without one). */
export const C_LATENCY_MIN = 9;
/** The largest latency (-Infinity without one). */
export const C_LATENCY_MAX = 10;
/** The open run's second (-1: none). */
export const C_RUN_SECOND = 11;
/** The open run's queries (0: none). */
export const C_RUN_COUNT = 12;
/** Finished runs listed by the last call. */
export const C_RUNS = 13;
/** Outliers listed by the last call. */
export const C_OUTLIERS = 14;
/** Table entries listed in the used list. */
export const C_USED = 15;
/** Slots of the head (scalars and the rest). */
const HEAD = 32;

/** Index of the message type table (32 values). */
export const T_MESSAGE_TYPES = HEAD;
/** Index of the socket protocol table (32 values). */
export const T_PROTOCOLS = T_MESSAGE_TYPES + 32;
/** Index of the rcode table (4096 values). */
export const T_RCODES = T_PROTOCOLS + 32;
/** Index of the qtype table (65536 values). */
export const T_QTYPES = T_RCODES + 4096;
/** Index of the latency buckets. */
export const T_LATENCY = T_QTYPES + 65536;
/** Index of the used list: indices of table entries counted. */
export const L_USED = T_LATENCY + LATENCY_BUCKETS;
/** Index of the runs list: (second, count) pairs. */
export const L_RUNS = L_USED + 32 + 32 + 4096 + 65536;
/** Index of the outliers list: (table, value) pairs. */
export const L_OUTLIERS = L_RUNS + 2 * SCAN_CAPACITY;
/** f64 slots of the counts. */
export const COUNTS_LENGTH = L_OUTLIERS + 4 * SCAN_CAPACITY;
/** Bytes of the counts. */
export const COUNTS_BYTES = COUNTS_LENGTH * 8;

/**
 * Row counts laid out as the module doc says, over a `Float64Array` of
 * their own or WebAssembly memory.
 */
export class RowCounts {
  /** The counts, by the indices of the module doc. */
  readonly f: Float64Array;

  /**
   * Empty counts: in `buffer` at `byteOffset`, which must be zeroes there
   * (fresh memory), or in a buffer of their own. Only the few slots whose
   * empty value is not 0 are written, so that the tables' pages stay
   * untouched until counted in.
   */
  constructor(buffer?: ArrayBufferLike, byteOffset = 0) {
    this.f = buffer === undefined
      ? new Float64Array(COUNTS_LENGTH)
      : new Float64Array(buffer, byteOffset, COUNTS_LENGTH);
    this.#start();
  }

  /** Writes the slots whose empty value is not 0. */
  #start(): void {
    const f = this.f;
    f[C_LATENCY_MIN] = Infinity;
    f[C_LATENCY_MAX] = -Infinity;
    f[C_RUN_SECOND] = -1;
  }

  /** Empties the counts (and the open run). */
  clear(): void {
    this.f.fill(0);
    this.#start();
  }
}

/**
 * Counts rows `from` to `to - 1` of `c` (at most SCAN_CAPACITY rows) into
 * `counts`; the runs and outliers lists then hold this call's.
 *
 * @throws {RangeError} For more rows than SCAN_CAPACITY.
 */
export function countRowsTs(
  c: DnstapColumns,
  from: number,
  to: number,
  counts: RowCounts,
): void {
  if (!(to - from <= SCAN_CAPACITY)) {
    throw new RangeError(
      `Cannot count ${to - from} rows at once: at most ${SCAN_CAPACITY}`,
    );
  }
  const f = counts.f;
  const status = c.status;
  const present = c.present;
  const types = c.messageType;
  let runs = 0;
  let outliers = 0;
  let used = f[C_USED]!;
  let second = f[C_RUN_SECOND]!;
  let inSecond = f[C_RUN_COUNT]!;
  for (let i = from; i < to; i++) {
    const st = status[i]!;
    if (st === SCAN_CONTROL) continue;
    f[C_MESSAGES]!++;
    if (st === SCAN_BAD_PROTOBUF) {
      f[C_BAD_PROTOBUF]!++;
      continue;
    }
    const p = present[i]!;
    const t = (p & HAS_MESSAGE_TYPE) !== 0 ? types[i]! : 0;
    if (t >= 0 && t < 32) {
      if (f[T_MESSAGE_TYPES + t]!++ === 0) {
        f[L_USED + used++] = T_MESSAGE_TYPES + t;
      }
    } else {
      f[L_OUTLIERS + 2 * outliers] = 0;
      f[L_OUTLIERS + 2 * outliers++ + 1] = t;
    }
    const sp = (p & HAS_SOCKET_PROTOCOL) !== 0 ? c.socketProtocol[i]! : 0;
    if (sp >= 0 && sp < 32) {
      if (f[T_PROTOCOLS + sp]!++ === 0) f[L_USED + used++] = T_PROTOCOLS + sp;
    } else {
      f[L_OUTLIERS + 2 * outliers] = 1;
      f[L_OUTLIERS + 2 * outliers++ + 1] = sp;
    }
    if (st === SCAN_BAD_DNS_HEADER) {
      f[C_BAD_HEADER]!++;
      continue;
    }
    if (st === SCAN_BAD_QUESTION) f[C_BAD_QUESTION]!++;
    if (t > 0 && (t & 1) === 0) {
      // A response.
      if ((p & HAS_DNS) === 0) {
        f[C_NO_DNS]!++;
        continue;
      }
      f[C_RESPONSES]!++;
      const rcode = (p & HAS_OPT) !== 0
        ? (c.ednsRcode[i]! << 4) | c.rcode[i]!
        : c.rcode[i]!;
      if (f[T_RCODES + rcode]!++ === 0) f[L_USED + used++] = T_RCODES + rcode;
      if (
        (p & HAS_QUERY_TIME_SEC) !== 0 && (p & HAS_RESPONSE_TIME_SEC) !== 0
      ) {
        const ns = (c.responseTimeSec[i]! - c.queryTimeSec[i]!) * 1e9 +
          (c.responseTimeNsec[i]! - c.queryTimeNsec[i]!);
        if (ns < 0) f[C_NEGATIVE_LATENCY]!++;
        else if (ns < 2 ** 53) {
          f[T_LATENCY + latencyBucket(ns)]!++;
          f[C_LATENCY_COUNT]!++;
          if (ns < f[C_LATENCY_MIN]!) f[C_LATENCY_MIN] = ns;
          if (ns > f[C_LATENCY_MAX]!) f[C_LATENCY_MAX] = ns;
        }
      }
    } else if ((p & HAS_QUESTION) !== 0) {
      f[C_QUERIES]!++;
      if ((p & HAS_QTYPE) !== 0) {
        const q = c.qtype[i]!;
        if (f[T_QTYPES + q]!++ === 0) f[L_USED + used++] = T_QTYPES + q;
      }
      if ((p & HAS_QUERY_TIME_SEC) !== 0) {
        const s = c.queryTimeSec[i]!;
        if (s === second) inSecond++;
        else {
          if (inSecond !== 0) {
            f[L_RUNS + 2 * runs] = second;
            f[L_RUNS + 2 * runs++ + 1] = inSecond;
          }
          second = s;
          inSecond = 1;
        }
      }
    } else if ((p & HAS_DNS) === 0) f[C_NO_DNS]!++;
  }
  f[C_USED] = used;
  f[C_RUN_SECOND] = second;
  f[C_RUN_COUNT] = inSecond;
  f[C_RUNS] = runs;
  f[C_OUTLIERS] = outliers;
}
