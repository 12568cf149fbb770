// The row counts of `fstrm top`, the AssemblyScript twin of countRowsTs
// (src/_dnstap_counts.ts): messages, malformed ones, queries, responses,
// message types, protocols, rcodes, qtypes, the latency histogram and runs
// of query seconds, counted over rows of the columns into the f64 counts at
// COUNTS (indices in dnstap_layout.ts). Same rules, same order, same f64
// values as the twin (tests/dnstap_counts_test.ts); its module doc says
// what counts.
import {
  C_BAD_HEADER,
  C_BAD_PROTOBUF,
  C_BAD_QUESTION,
  C_LATENCY_COUNT,
  C_LATENCY_MAX,
  C_LATENCY_MIN,
  C_MESSAGES,
  C_NEGATIVE_LATENCY,
  C_NO_DNS,
  C_OUTLIERS,
  C_QUERIES,
  C_RESPONSES,
  C_RUN_COUNT,
  C_RUN_SECOND,
  C_RUNS,
  C_USED,
  COUNTS,
  EDNS_RCODE,
  HAS_DNS,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_QTYPE,
  HAS_QUERY_TIME_SEC,
  HAS_QUESTION,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_PROTOCOL,
  L_OUTLIERS,
  L_RUNS,
  L_USED,
  MESSAGE_TYPE,
  PRESENT,
  QTYPE,
  QUERY_TIME_NSEC,
  QUERY_TIME_SEC,
  RCODE,
  RESPONSE_TIME_NSEC,
  RESPONSE_TIME_SEC,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CONTROL,
  SOCKET_PROTOCOL,
  STATUS,
  T_LATENCY,
  T_MESSAGE_TYPES,
  T_PROTOCOLS,
  T_QTYPES,
  T_RCODES,
} from "./dnstap_layout";

// @ts-ignore: decorator
@inline function at(index: u32): usize {
  return <usize>(COUNTS + (index << 3));
}

// @ts-ignore: decorator
@inline function get(index: u32): f64 {
  return load<f64>(at(index));
}

// @ts-ignore: decorator
@inline function put(index: u32, v: f64): void {
  store<f64>(at(index), v);
}

// @ts-ignore: decorator
@inline function bump(index: u32): void {
  store<f64>(at(index), load<f64>(at(index)) + 1);
}

/** Table entries listed in the used list (kept in a local while counting). */
let USED: u32 = 0;
/** Outliers listed by this call. */
let OUTLIERS: u32 = 0;

/** Counts table entry `index` once, listing it on its first count. */
// @ts-ignore: decorator
@inline function tally(index: u32): void {
  const a = at(index);
  const c = load<f64>(a);
  if (c == 0) {
    put(L_USED + USED, <f64>index);
    USED++;
  }
  store<f64>(a, c + 1);
}

/** Counts `v` in the table of 32 at `table`, or lists it as an outlier. */
// @ts-ignore: decorator
@inline function small(table: u32, which: f64, v: i32): void {
  if (<u32>v < 32) tally(table + <u32>v);
  else {
    const o = L_OUTLIERS + (OUTLIERS << 1);
    put(o, which);
    put(o + 1, <f64>v);
    OUTLIERS++;
  }
}

/** The latency bucket of an integer `ns` in [0, 2^53) (latencyBucket). */
// @ts-ignore: decorator
@inline function bucket(ns: f64): u32 {
  const v = <u64>ns;
  if (v < 256) return <u32>v;
  const e = <u32>(63 - clz<u64>(v));
  const m = <u32>(v >> <u64>(e - 7));
  return 256 + (e - 8) * 128 + (m - 128);
}

/**
 * Counts rows 0 to rows - 1 of the columns (at most CAPACITY) into the
 * counts; the runs and outliers lists then hold this call's. The scalars
 * are kept in locals while counting (stores to memory would not be).
 */
export function countRows(rows: u32): void {
  USED = <u32>get(C_USED);
  OUTLIERS = 0;
  let runs: u32 = 0;
  let second = get(C_RUN_SECOND);
  let inSecond = get(C_RUN_COUNT);
  let messages: f64 = 0;
  let badProtobuf: f64 = 0;
  let badHeader: f64 = 0;
  let badQuestion: f64 = 0;
  let noDns: f64 = 0;
  let queries: f64 = 0;
  let responses: f64 = 0;
  let negative: f64 = 0;
  let latencies: f64 = 0;
  let min = get(C_LATENCY_MIN);
  let max = get(C_LATENCY_MAX);
  for (let i: u32 = 0; i < rows; i++) {
    const st = load<u8>(<usize>(STATUS + i));
    if (st == SCAN_CONTROL) continue;
    messages++;
    if (st == SCAN_BAD_PROTOBUF) {
      badProtobuf++;
      continue;
    }
    const i4 = i << 2;
    const p = load<u32>(<usize>(PRESENT + i4));
    const t = (p & HAS_MESSAGE_TYPE) != 0
      ? load<i32>(<usize>(MESSAGE_TYPE + i4))
      : 0;
    small(T_MESSAGE_TYPES, 0, t);
    small(
      T_PROTOCOLS,
      1,
      (p & HAS_SOCKET_PROTOCOL) != 0
        ? load<i32>(<usize>(SOCKET_PROTOCOL + i4))
        : 0,
    );
    if (st == SCAN_BAD_DNS_HEADER) {
      badHeader++;
      continue;
    }
    if (st == SCAN_BAD_QUESTION) badQuestion++;
    if (t > 0 && (t & 1) == 0) {
      // A response.
      if ((p & HAS_DNS) == 0) {
        noDns++;
        continue;
      }
      responses++;
      let rcode = <u32>load<u8>(<usize>(RCODE + i));
      if ((p & HAS_OPT) != 0) {
        rcode |= <u32>load<u8>(<usize>(EDNS_RCODE + i)) << 4;
      }
      tally(T_RCODES + rcode);
      if (
        (p & HAS_QUERY_TIME_SEC) != 0 && (p & HAS_RESPONSE_TIME_SEC) != 0
      ) {
        const i8 = i << 3;
        const ns = (load<f64>(<usize>(RESPONSE_TIME_SEC + i8)) -
              load<f64>(<usize>(QUERY_TIME_SEC + i8))) * 1e9 +
          (<f64>load<u32>(<usize>(RESPONSE_TIME_NSEC + i4)) -
            <f64>load<u32>(<usize>(QUERY_TIME_NSEC + i4)));
        if (ns < 0) negative++;
        else if (ns < 9007199254740992.0) {
          bump(T_LATENCY + bucket(ns));
          latencies++;
          if (ns < min) min = ns;
          if (ns > max) max = ns;
        }
      }
    } else if ((p & HAS_QUESTION) != 0) {
      queries++;
      if ((p & HAS_QTYPE) != 0) {
        tally(T_QTYPES + <u32>load<u16>(<usize>(QTYPE + (i << 1))));
      }
      if ((p & HAS_QUERY_TIME_SEC) != 0) {
        const s = load<f64>(<usize>(QUERY_TIME_SEC + (i << 3)));
        if (s == second) inSecond++;
        else {
          if (inSecond != 0) {
            const r = L_RUNS + (runs << 1);
            put(r, second);
            put(r + 1, inSecond);
            runs++;
          }
          second = s;
          inSecond = 1;
        }
      }
    } else if ((p & HAS_DNS) == 0) noDns++;
  }
  put(C_MESSAGES, get(C_MESSAGES) + messages);
  put(C_BAD_PROTOBUF, get(C_BAD_PROTOBUF) + badProtobuf);
  put(C_BAD_HEADER, get(C_BAD_HEADER) + badHeader);
  put(C_BAD_QUESTION, get(C_BAD_QUESTION) + badQuestion);
  put(C_NO_DNS, get(C_NO_DNS) + noDns);
  put(C_QUERIES, get(C_QUERIES) + queries);
  put(C_RESPONSES, get(C_RESPONSES) + responses);
  put(C_NEGATIVE_LATENCY, get(C_NEGATIVE_LATENCY) + negative);
  put(C_LATENCY_COUNT, get(C_LATENCY_COUNT) + latencies);
  put(C_LATENCY_MIN, min);
  put(C_LATENCY_MAX, max);
  put(C_USED, <f64>USED);
  put(C_RUN_SECOND, second);
  put(C_RUN_COUNT, inSecond);
  put(C_RUNS, <f64>runs);
  put(C_OUTLIERS, <f64>OUTLIERS);
}
