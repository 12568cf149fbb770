// The row counts of `fstrm top` (src/_dnstap_counts.ts, wasm/dnstap_counts.ts):
// the WebAssembly countRows() and its twin countRowsTs fill identical counts
// (every f64: tables, used list, runs and outliers lists, the open run) on
// random columns, several windows a case so that the run of seconds carries
// over, and both equal a plain reference (the per-row code TopCounter ran
// before the engines counted); the one-pass window engines count the same
// on windows of real-server frames, whole, mutated and cut; TopCounter
// reports the same whichever counts its batches come with.
//
// FSTRM_SEED=<n> sets the run's seed, FSTRM_PARITY_SCALE=<x> multiplies the
// number of cases.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  TsDnstapWindowEngine,
  WasmDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";
import {
  C_LATENCY_COUNT,
  C_LATENCY_MAX,
  C_LATENCY_MIN,
  C_OUTLIERS,
  C_RUN_COUNT,
  C_RUN_SECOND,
  C_RUNS,
  C_USED,
  countRowsTs,
  COUNTS_LENGTH,
  L_OUTLIERS,
  L_RUNS,
  L_USED,
  LATENCY_BUCKETS,
  latencyBucket,
  RowCounts,
  T_LATENCY,
  T_MESSAGE_TYPES,
  T_PROTOCOLS,
  T_QTYPES,
  T_RCODES,
} from "../src/_dnstap_counts.ts";
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
} from "../src/_dnstap_scan_layout.ts";
import { STATUS_TABLE_FULL } from "../src/_scan.ts";
import { mutate, prng } from "./_dns_random.ts";
import { frameTables } from "./_dnstap_scan.ts";
import { cases, SEED } from "./_parity_env.ts";
import { TopCounter } from "../src/cli/_top_stats.ts";
import { DnstapScanReader } from "../src/_dnstap_scan_reader.ts";
import { type TopReport, toReport } from "../src/cli/top.ts";
import { encodeFrameStream } from "../src/encode.ts";

/** Cases of the column property (each one to four windows). */
const CASES = cases(10_000);
/** Cases of the window property (each several scans of real frames). */
const WINDOW_CASES = cases(1_000);

type Rand = () => number;

/**
 * What TopCounter counted per row before the engines did, written plainly:
 * the reference both counters must agree with.
 */
class Reference {
  scalars = new Map<string, number>();
  tables = [
    new Map<number, number>(), // message types
    new Map<number, number>(), // protocols
    new Map<number, number>(), // rcodes
    new Map<number, number>(), // qtypes
  ];
  buckets = new Map<number, number>();
  latencyCount = 0;
  min = Infinity;
  max = -Infinity;
  /** Finished runs of seconds, in row order. */
  runs: [number, number][] = [];
  second = -1;
  inSecond = 0;

  #bump(name: string): void {
    this.scalars.set(name, (this.scalars.get(name) ?? 0) + 1);
  }

  #add(table: number, v: number): void {
    const m = this.tables[table]!;
    m.set(v, (m.get(v) ?? 0) + 1);
  }

  rows(c: DnstapColumns, count: number): void {
    for (let i = 0; i < count; i++) {
      const st = c.status[i]!;
      if (st === SCAN_CONTROL) continue;
      this.#bump("messages");
      if (st === SCAN_BAD_PROTOBUF) {
        this.#bump("badProtobuf");
        continue;
      }
      const p = c.present[i]!;
      const t = (p & HAS_MESSAGE_TYPE) !== 0 ? c.messageType[i]! : 0;
      this.#add(0, t);
      this.#add(1, (p & HAS_SOCKET_PROTOCOL) !== 0 ? c.socketProtocol[i]! : 0);
      if (st === SCAN_BAD_DNS_HEADER) {
        this.#bump("badHeader");
        continue;
      }
      if (st === SCAN_BAD_QUESTION) this.#bump("badQuestion");
      if (t > 0 && t % 2 === 0) {
        if ((p & HAS_DNS) === 0) {
          this.#bump("noDns");
          continue;
        }
        this.#bump("responses");
        this.#add(
          2,
          (p & HAS_OPT) !== 0
            ? (c.ednsRcode[i]! << 4) | c.rcode[i]!
            : c.rcode[i]!,
        );
        if (
          (p & HAS_QUERY_TIME_SEC) !== 0 && (p & HAS_RESPONSE_TIME_SEC) !== 0
        ) {
          const ns = (c.responseTimeSec[i]! - c.queryTimeSec[i]!) * 1e9 +
            (c.responseTimeNsec[i]! - c.queryTimeNsec[i]!);
          if (ns < 0) this.#bump("negativeLatency");
          else if (ns < 2 ** 53) {
            const b = latencyBucket(ns);
            this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
            this.latencyCount++;
            this.min = Math.min(this.min, ns);
            this.max = Math.max(this.max, ns);
          }
        }
      } else if ((p & HAS_QUESTION) !== 0) {
        this.#bump("queries");
        if ((p & HAS_QTYPE) !== 0) this.#add(3, c.qtype[i]!);
        if ((p & HAS_QUERY_TIME_SEC) !== 0) {
          const s = c.queryTimeSec[i]!;
          if (s === this.second) this.inSecond++;
          else {
            if (this.inSecond > 0) this.runs.push([this.second, this.inSecond]);
            this.second = s;
            this.inSecond = 1;
          }
        }
      } else if ((p & HAS_DNS) === 0) this.#bump("noDns");
    }
  }
}

const SCALAR_NAMES = [
  "messages",
  "badProtobuf",
  "badHeader",
  "badQuestion",
  "noDns",
  "queries",
  "responses",
  "negativeLatency",
];

/** Sorted entries of a map. */
function entries(m: Map<number, number>): [number, number][] {
  return [...m].sort((a, b) => a[0] - b[0]);
}

/**
 * Checks that `counts`, counted since cleared (its runs, given apart as
 * each call listed them), hold what `ref` counted.
 */
function matchesReference(
  counts: RowCounts,
  runs: [number, number][],
  outliers: [number, number][],
  ref: Reference,
  full: boolean,
): void {
  const f = counts.f;
  const scalars = new Map<string, number>();
  SCALAR_NAMES.forEach((name, k) => {
    if (f[k]! > 0) scalars.set(name, f[k]!);
  });
  assert.deepEqual(scalars, ref.scalars, "scalars");
  const tables = [
    new Map<number, number>(),
    new Map<number, number>(),
    new Map<number, number>(),
    new Map<number, number>(),
  ];
  const bases = [T_MESSAGE_TYPES, T_PROTOCOLS, T_RCODES, T_QTYPES, T_LATENCY];
  const seen = new Set<number>();
  for (let u = 0; u < f[C_USED]!; u++) {
    const at = f[L_USED + u]!;
    assert.ok(!seen.has(at), `used twice: ${at}`);
    seen.add(at);
    const k = bases.findIndex((b, j) => at >= b && at < bases[j + 1]!);
    assert.ok(k >= 0 && k < 4, `used index ${at}`);
    tables[k]!.set(at - bases[k]!, f[at]!);
  }
  // The tables hold nothing but what the used list names.
  for (let at = T_MESSAGE_TYPES; full && at < T_LATENCY; at++) {
    if (f[at] !== 0) assert.ok(seen.has(at), `${at} counted, not listed`);
  }
  for (const [table, v] of outliers) {
    const m = tables[table]!;
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  ref.tables.forEach((m, k) =>
    assert.deepEqual(entries(tables[k]!), entries(m), `table ${k}`)
  );
  const buckets = new Map<number, number>();
  for (let b = 0; b < LATENCY_BUCKETS; b++) {
    if (f[T_LATENCY + b]! > 0) buckets.set(b, f[T_LATENCY + b]!);
  }
  assert.deepEqual(entries(buckets), entries(ref.buckets), "latency");
  assert.equal(f[C_LATENCY_COUNT], ref.latencyCount);
  assert.equal(f[C_LATENCY_MIN], ref.min);
  assert.equal(f[C_LATENCY_MAX], ref.max);
  assert.deepEqual(runs, ref.runs, "runs");
  assert.equal(f[C_RUN_SECOND], ref.second);
  assert.equal(f[C_RUN_COUNT], ref.inSecond);
}

/** The runs and outliers the last call listed. */
function lists(
  counts: RowCounts,
): { runs: [number, number][]; outliers: [number, number][] } {
  const f = counts.f;
  const runs: [number, number][] = [];
  for (let r = 0; r < f[C_RUNS]!; r++) {
    runs.push([f[L_RUNS + 2 * r]!, f[L_RUNS + 2 * r + 1]!]);
  }
  const outliers: [number, number][] = [];
  for (let o = 0; o < f[C_OUTLIERS]!; o++) {
    outliers.push([f[L_OUTLIERS + 2 * o]!, f[L_OUTLIERS + 2 * o + 1]!]);
  }
  return { runs, outliers };
}

/**
 * The first index where two counts differ, or -1: all of them, or with
 * `full` false the head, the lists and the table entries listed as used.
 */
function firstDifference(
  a: Float64Array,
  b: Float64Array,
  full = true,
): number {
  if (full) {
    const x = new Int32Array(a.buffer, a.byteOffset, 2 * COUNTS_LENGTH);
    const y = new Int32Array(b.buffer, b.byteOffset, 2 * COUNTS_LENGTH);
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return k >> 1;
    return -1;
  }
  const spans = [
    [0, T_MESSAGE_TYPES],
    [L_USED, L_USED + a[C_USED]!],
    [L_RUNS, L_RUNS + 2 * a[C_RUNS]!],
    [L_OUTLIERS, L_OUTLIERS + 2 * a[C_OUTLIERS]!],
  ];
  for (const [from, to] of spans) {
    for (let k = from!; k < to!; k++) if (!Object.is(a[k], b[k])) return k;
  }
  for (let u = 0; u < a[C_USED]!; u++) {
    const k = a[L_USED + u]!;
    if (a[k] !== b[k]) return k;
  }
  return -1;
}

/** Copies rows 0 to n - 1 of every column of `from` into `to`. */
function copyRows(from: DnstapColumns, to: DnstapColumns, n: number): void {
  from.all.forEach((column, k) => {
    const per = column.length / from.capacity;
    to.all[k]!.set(column.subarray(0, per * n) as never);
  });
}

/** A random i32, sometimes a small one. */
function int32(rand: Rand): number {
  return rand() < 0.5
    ? Math.floor(rand() * 80) - 40
    : (Math.floor(rand() * 2 ** 32) | 0);
}

/** Random columns for `n` rows; `at` is the second the queries are at. */
function fillColumns(
  c: DnstapColumns,
  n: number,
  rand: Rand,
  at: { second: number },
): void {
  for (let i = 0; i < n; i++) {
    const r = rand();
    c.status[i] = r < 0.03
      ? SCAN_CONTROL
      : r < 0.08
      ? SCAN_BAD_PROTOBUF
      : r < 0.13
      ? SCAN_BAD_DNS_HEADER
      : r < 0.2
      ? SCAN_BAD_QUESTION
      : 0;
    let p = 0;
    if (rand() < 0.95) p |= HAS_MESSAGE_TYPE;
    if (rand() < 0.8) p |= HAS_SOCKET_PROTOCOL;
    if (rand() < 0.85) p |= HAS_DNS;
    if (rand() < 0.75) p |= HAS_QUESTION;
    if (rand() < 0.9) p |= HAS_QTYPE;
    if (rand() < 0.3) p |= HAS_OPT;
    if (rand() < 0.85) p |= HAS_QUERY_TIME_SEC;
    if (rand() < 0.75) p |= HAS_RESPONSE_TIME_SEC;
    // Bits the counters do not read, set at random.
    p |= Math.floor(rand() * 2 ** 32) & ~0x7f00_0000 & ~0x3428;
    c.present[i] = p >>> 0;
    const t = rand();
    c.messageType[i] = t < 0.85 ? 1 + Math.floor(rand() * 14) : int32(rand);
    const s = rand();
    c.socketProtocol[i] = s < 0.85 ? 1 + Math.floor(rand() * 2) : int32(rand);
    c.rcode[i] = rand() < 0.9 ? Math.floor(rand() * 16) : rand() * 256;
    c.ednsRcode[i] = rand() < 0.7 ? 0 : rand() * 256;
    c.qtype[i] = rand() < 0.8
      ? [1, 28, 5, 15, 16, 2, 6, 12, 33, 65, 255][Math.floor(rand() * 11)]!
      : rand() * 65536;
    // Query seconds: mostly the same as the last row's or the next one,
    // sometimes a jump back or forward, or a huge value (u64 as f64).
    const q = rand();
    if (q < 0.2) at.second++;
    else if (q < 0.24) at.second = Math.max(0, at.second - 3);
    else if (q < 0.26) at.second = Math.floor(rand() * 2 ** 32);
    else if (q < 0.27) at.second = Math.floor(rand() * 2 ** 64);
    c.queryTimeSec[i] = at.second;
    c.queryTimeNsec[i] = rand() < 0.9 ? rand() * 1e9 : rand() * 2 ** 32;
    // Latency: mostly small; sometimes negative, huge (up to and past
    // 2^53 ns: 9,007,199 seconds and a bit), or from a huge second.
    const l = rand();
    const delta = l < 0.8
      ? (rand() < 0.7 ? 0 : 1)
      : l < 0.88
      ? -1 - Math.floor(rand() * 3)
      : l < 0.96
      ? 9_007_198 + Math.floor(rand() * 3)
      : Math.floor(rand() * 2 ** 64) - at.second;
    c.responseTimeSec[i] = Math.max(0, at.second + delta);
    c.responseTimeNsec[i] = rand() < 0.9 ? rand() * 1e9 : rand() * 2 ** 32;
  }
}

Deno.test(`countRows: the WebAssembly and TypeScript counters fill identical counts, equal to the reference, on ${CASES} cases of random columns`, () => {
  const ts = new TsDnstapWindowEngine(1 << 16);
  const wasm = new WasmDnstapWindowEngine(1 << 16);
  assert.equal(wasm.name, "wasm");
  let rows = 0;
  let outliers = 0;
  let carried = 0;
  let negative = 0;
  let huge = 0;
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const rand = prng(seed);
      const ref = new Reference();
      ts.counts.clear();
      wasm.counts.clear();
      const runs: [number, number][] = [];
      const out: [number, number][] = [];
      const at = { second: rand() < 0.5 ? 1_700_000_000 : 0 };
      const windows = 1 + Math.floor(rand() * 4);
      for (let w = 0; w < windows; w++) {
        const r = rand();
        const n = r < 0.005
          ? SCAN_CAPACITY
          : r < 0.035
          ? Math.floor(rand() * SCAN_CAPACITY)
          : 1 + Math.floor(rand() * 40);
        fillColumns(ts.columns, n, rand, at);
        copyRows(ts.columns, wasm.columns, n);
        if (ts.counts.f[C_RUN_COUNT]! > 0) carried++;
        ts.count(n);
        wasm.count(n);
        ref.rows(ts.columns, n);
        rows += n;
        const got = lists(wasm.counts);
        const want = lists(ts.counts);
        assert.deepEqual(got, want, "this call's lists");
        runs.push(...want.runs);
        out.push(...want.outliers);
        outliers += want.outliers.length;
      }
      // Every f64 on one case in eight; the rest on the others.
      const k = firstDifference(wasm.counts.f, ts.counts.f, (seed & 7) === 0);
      if (k >= 0) {
        assert.fail(
          `counts differ at ${k}: wasm ${wasm.counts.f[k]}, ts ${
            ts.counts.f[k]
          }`,
        );
      }
      negative += ts.counts.f[7]!;
      if (ts.counts.f[C_LATENCY_MAX]! > 1e15) huge++;
      matchesReference(ts.counts, runs, out, ref, (seed & 7) === 0);
    }),
    { seed: SEED, numRuns: CASES },
  );
  // The cases reach what they are meant to.
  assert.ok(rows > CASES * 30, `${rows} rows`);
  assert.ok(outliers > CASES, `${outliers} outliers`);
  assert.ok(carried > CASES / 2, `${carried} runs carried over`);
  assert.ok(negative > CASES, `${negative} negative latencies`);
  assert.ok(huge > CASES / 10, `${huge} cases with a latency above 1e15`);
});

Deno.test("countRowsTs refuses more rows than a scan has", () => {
  const ts = new TsDnstapWindowEngine(1 << 16);
  assert.throws(
    () => countRowsTs(ts.columns, 0, SCAN_CAPACITY + 1, new RowCounts()),
    RangeError,
  );
  const wasm = new WasmDnstapWindowEngine(1 << 16);
  assert.throws(() => wasm.count(SCAN_CAPACITY + 1), RangeError);
});

// Real-server frames, whole, mutated and cut.
const PAYLOADS: Uint8Array[] = [];
for (const name of ["knot", "bind", "unbound", "dnsdist"]) {
  const buf = Deno.readFileSync(
    new URL(`./data/dnstap/${name}.fstrm`, import.meta.url),
  );
  for (const table of frameTables(buf)) {
    for (let e = 0; e < table.length; e += 3) {
      if (table[e + 2] !== 0) continue;
      PAYLOADS.push(buf.slice(table[e]! + 4, table[e]! + 4 + table[e + 1]!));
    }
  }
}

/** Data frames of real payloads, mutated or cut at times, as a stream. */
function framesOf(rand: Rand, n: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const p = PAYLOADS[Math.floor(rand() * PAYLOADS.length)]!;
    const r = rand();
    frames.push(
      r < 0.6
        ? p
        : r < 0.9
        ? mutate(p, rand)
        : p.subarray(0, Math.floor(rand() * p.length)),
    );
  }
  const size = frames.reduce((s, f) => s + 4 + f.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of frames) {
    view.setUint32(at, f.length);
    out.set(f, at + 4);
    at += 4 + f.length;
  }
  return out;
}

Deno.test(`scanWindow counts as the TypeScript engine on ${WINDOW_CASES} streams of real-server frames, whole, mutated and cut`, () => {
  const ts = new TsDnstapWindowEngine(1 << 24);
  const wasm = new WasmDnstapWindowEngine(1 << 24);
  ts.countRows = true;
  wasm.countRows = true;
  let scans = 0;
  let bad = 0;
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const rand = prng(seed);
      const bytes = framesOf(
        rand,
        rand() < 0.2
          ? 4000 + Math.floor(rand() * 5000)
          : 1 + Math.floor(rand() * 500),
      );
      ts.counts.clear();
      wasm.counts.clear();
      ts.window.set(bytes);
      wasm.window.set(bytes);
      // Several scans when the frames are many: the table holds 4,096.
      let pos = 0;
      for (;;) {
        const n = ts.scan(pos, bytes.length, 0xffff_ffff);
        assert.equal(wasm.scan(pos, bytes.length, 0xffff_ffff), n);
        assert.equal(wasm.rows, ts.rows);
        assert.deepEqual(lists(wasm.counts), lists(ts.counts));
        scans++;
        if (ts.out[0] !== STATUS_TABLE_FULL) break;
        pos = ts.out[1]!;
      }
      const k = firstDifference(wasm.counts.f, ts.counts.f);
      assert.equal(k, -1, `counts differ at ${k}`);
      bad += ts.counts.f[1]! + ts.counts.f[2]! + ts.counts.f[3]!;
    }),
    { seed: SEED, numRuns: WINDOW_CASES },
  );
  assert.ok(scans > WINDOW_CASES, `${scans} scans`);
  assert.ok(bad > WINDOW_CASES, `${bad} malformed rows`);
});

/** top's report of a counter after `finish`. */
function reportOf(counter: TopCounter): TopReport {
  counter.finish();
  return toReport(counter, {
    file: "x",
    engine: "wasm",
    n: 1000,
    dropped: 0,
    error: null,
  });
}

/** Reads `bytes` into `counter`, counted by the engine or not. */
async function readInto(
  counter: TopCounter,
  bytes: Uint8Array,
  engine: "wasm" | "ts",
  counts: boolean,
  windowSize = 1 << 16,
): Promise<void> {
  const reader = new DnstapScanReader(ReadableStream.from([bytes]), {
    engine,
    maxFrameLength: 1 << 20,
    windowSize,
    keys: counter.keyOptions,
    counts,
  });
  await reader.read((cols, count, window, keys, made) => {
    assert.equal(made !== null, counts);
    counter.addBatch(cols, count, window, keys, made);
  });
}

Deno.test("TopCounter reports the same whichever counts its batches come with, a run of seconds split between them", async () => {
  // The four captures' frames one after the other, then again: the second
  // pass goes back in time (runs of seconds out of order).
  const frames = [...PAYLOADS, ...PAYLOADS];
  const whole = encodeFrameStream(frames);
  const options = { depth: 2, memory: 1 << 20 };
  const make = (): TopCounter => new TopCounter(options);
  const want = reportOf(
    await (async () => {
      const c = make();
      await readInto(c, whole, "ts", false);
      return c;
    })(),
  );
  assert.ok(want.queries > 1000);
  for (const engine of ["wasm", "ts"] as const) {
    // One read, counted by the engine; small windows (many batches).
    const one = make();
    await readInto(one, whole, engine, true, 4096);
    assert.deepEqual(reportOf(one), want, `${engine}, one read`);
    // Split in three at random frames: counted by the engine, by the
    // counter, by a second engine, each read folded in at the next one.
    for (const seed of [1, 2, 3]) {
      const rand = prng(seed);
      const a = Math.floor(rand() * frames.length);
      const b = a + Math.floor(rand() * (frames.length - a));
      const counter = make();
      await readInto(
        counter,
        encodeFrameStream(frames.slice(0, a)),
        engine,
        true,
      );
      await readInto(
        counter,
        encodeFrameStream(frames.slice(a, b)),
        engine,
        false,
      );
      await readInto(counter, encodeFrameStream(frames.slice(b)), engine, true);
      assert.deepEqual(reportOf(counter), want, `${engine}, split ${a} ${b}`);
    }
    // finish() part-way (as a live report does), counting on after it.
    const live = make();
    await readInto(live, encodeFrameStream(frames.slice(0, 700)), engine, true);
    live.finish();
    await readInto(live, encodeFrameStream(frames.slice(700)), engine, true);
    assert.deepEqual(reportOf(live), want, `${engine}, finish part-way`);
  }
});
