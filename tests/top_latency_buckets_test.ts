// The latency histogram's buckets against values computed by hand, not by
// the module under test: latencyBucket (src/_dnstap_counts.ts) at the
// edges, latencyBucketLow (src/cli/_top_latency.ts) bounding every value
// from below and its next bucket from above, and the WebAssembly engine's
// bucket() (wasm/dnstap_counts.ts) through countRows on crafted responses,
// as the TypeScript one.
//
// Buckets: v itself below 256; from 2^e to 2^(e+1) (e = 8 .. 52), 128
// buckets of width 2^(e-7) from 256 + (e - 8) * 128.
import assert from "node:assert/strict";
import {
  C_LATENCY_COUNT,
  C_LATENCY_MAX,
  C_LATENCY_MIN,
  C_NEGATIVE_LATENCY,
  LATENCY_BUCKETS,
  latencyBucket,
  T_LATENCY,
} from "../src/_dnstap_counts.ts";
import { latencyBucketLow } from "../src/cli/_top_latency.ts";
import {
  type DnstapWindowEngine,
  TsDnstapWindowEngine,
  WasmDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { encodeDataFrame } from "../src/encode.ts";
import { prng } from "./_dns_random.ts";
import { dnsMessage } from "./_cli_dnstap.ts";
import { cases, SEED } from "./_parity_env.ts";

/** [value, its bucket], computed by hand. */
const TABLE: [number, number][] = [
  [0, 0],
  [1, 1],
  [255, 255],
  // 2^8: e = 8, width 2.
  [256, 256],
  [257, 256],
  [258, 257],
  [259, 257],
  [510, 383],
  [511, 383],
  // 2^9: e = 9, width 4.
  [512, 384],
  [515, 384],
  [516, 385],
  [1023, 511],
  [1024, 512],
  // 1 ms: 2^19 <= 10^6 < 2^20, (10^6 - 2^19) / 2^12 = 116.1..
  [1_000_000, 256 + 11 * 128 + 116],
  // 2^31 - 1 and 2^31: the top of e = 30, the bottom of e = 31.
  [2 ** 31 - 1, 256 + 22 * 128 + 127],
  [2 ** 31, 256 + 23 * 128],
  // 2^32 - 1: e = 31, m = 255; 2^32: e = 32 (width 2^25).
  [2 ** 32 - 1, 3327],
  [2 ** 32, 3328],
  [2 ** 32 + 1, 3328],
  [2 ** 32 + 2 ** 25 - 1, 3328],
  [2 ** 32 + 2 ** 25, 3329],
  [2 ** 33 - 1, 3455],
  [2 ** 33, 3456],
  // 1 s: 2^29 <= 10^9 < 2^30, (10^9 - 2^29) / 2^22 = 110.4..
  [1_000_000_000, 256 + 21 * 128 + 110],
  // 2^52: e = 52, width 2^45; 2^53 - 1: the last bucket.
  [2 ** 52 - 1, 5887],
  [2 ** 52, 5888],
  [2 ** 52 + 1, 5888],
  [2 ** 52 + 2 ** 45, 5889],
  [2 ** 53 - 1, 6015],
];

Deno.test("latencyBucket: the buckets at the edges, computed by hand", () => {
  assert.equal(LATENCY_BUCKETS, 6016);
  for (const [v, b] of TABLE) assert.equal(latencyBucket(v), b, `${v}`);
});

Deno.test("latencyBucket: around each power of two from 2^8 to 2^52", () => {
  for (let e = 8; e <= 52; e++) {
    const first = 256 + (e - 8) * 128;
    const p = 2 ** e;
    const width = 2 ** (e - 7);
    assert.equal(latencyBucket(p - 1), first - 1, `2^${e} - 1`);
    assert.equal(latencyBucket(p), first, `2^${e}`);
    assert.equal(latencyBucket(p + 1), first, `2^${e} + 1`);
    assert.equal(latencyBucket(p + width - 1), first, `2^${e} + width - 1`);
    assert.equal(latencyBucket(p + width), first + 1, `2^${e} + width`);
    assert.equal(latencyBucket(2 * p - width), first + 127, `2^${e + 1} - w`);
    assert.equal(latencyBucketLow(first), p, `low of 2^${e}'s bucket`);
    assert.equal(latencyBucketLow(first + 1), p + width);
  }
});

Deno.test("latencyBucketLow: every bucket's low bound is in it, and above the one before", () => {
  let before = -1;
  for (let b = 0; b < LATENCY_BUCKETS; b++) {
    const low = latencyBucketLow(b);
    assert.ok(Number.isSafeInteger(low) && low > before, `bucket ${b}`);
    assert.equal(latencyBucket(low), b, `bucket ${b}'s low ${low}`);
    before = low;
  }
  assert.equal(latencyBucketLow(LATENCY_BUCKETS - 1), 2 ** 53 - 2 ** 45);
});

/** Random values in [0, 2^53), as many below 2^8 as from 2^52 on. */
function randomValue(rand: () => number): number {
  const bits = Math.floor(rand() * 54);
  const high = Math.floor(rand() * 2 ** Math.max(0, bits - 32));
  const low = Math.floor(rand() * 2 ** Math.min(32, bits));
  return Math.min(high * 2 ** 32 + low, 2 ** 53 - 1);
}

Deno.test("latencyBucket: each value's bucket starts at or below it, the next above it", () => {
  const rand = prng(SEED ^ 0x1a7e);
  const n = cases(100_000);
  for (let k = 0; k < n; k++) {
    const v = randomValue(rand);
    const b = latencyBucket(v);
    assert.ok(Number.isInteger(b) && b >= 0 && b < LATENCY_BUCKETS, `${v}`);
    assert.ok(latencyBucketLow(b) <= v, `${v}: bucket ${b}`);
    if (b + 1 < LATENCY_BUCKETS) {
      assert.ok(latencyBucketLow(b + 1) > v, `${v}: bucket ${b + 1}`);
    }
  }
});

const RESPONSE = dnsMessage({ name: "example.com.", response: true });
const QUERY_SEC = 1_764_094_866;

/** A response whose latency is `ns` (query at QUERY_SEC s + `qns` ns). */
function response(ns: number, qns = 0): Uint8Array {
  const at = BigInt(qns) + BigInt(ns); // exact beyond 2^53 too
  return encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: {
      type: "CLIENT_RESPONSE",
      socketFamily: "INET",
      socketProtocol: "UDP",
      queryAddress: new Uint8Array([192, 0, 2, 1]),
      responseAddress: new Uint8Array([192, 0, 2, 53]),
      queryPort: 40000,
      responsePort: 53,
      queryTimeSec: QUERY_SEC,
      queryTimeNsec: qns,
      responseTimeSec: QUERY_SEC + Number(at / 1_000_000_000n),
      responseTimeNsec: Number(at % 1_000_000_000n),
      responseMessage: RESPONSE,
    },
  }));
}

Deno.test("countRows: both engines count crafted responses' latencies in the buckets computed by hand", () => {
  // Values of the table, most with a query nanosecond so that the
  // latency takes both fields; one below 0 and one of 2^53 not counted.
  const frames: Uint8Array[] = [];
  const want = new Map<number, number>();
  for (const [v, b] of TABLE) {
    frames.push(response(v, v % 3 === 0 ? 999_999_999 : 123_456_789));
    want.set(b, (want.get(b) ?? 0) + 1);
  }
  frames.push(response(-5, 500)); // before the query: negative
  frames.push(response(2 ** 53)); // too long for the histogram
  const bytes = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  const engines: DnstapWindowEngine[] = [
    new TsDnstapWindowEngine(1 << 16),
    new WasmDnstapWindowEngine(1 << 16),
  ];
  for (const engine of engines) {
    engine.countRows = true;
    engine.window.set(bytes);
    engine.scan(0, bytes.length, 0xffff_ffff);
    assert.equal(engine.rows, frames.length, engine.name);
    const f = engine.counts.f;
    const got = new Map<number, number>();
    for (let b = 0; b < LATENCY_BUCKETS; b++) {
      if (f[T_LATENCY + b]! !== 0) got.set(b, f[T_LATENCY + b]!);
    }
    assert.deepEqual(
      [...got].sort((x, y) => x[0] - y[0]),
      [...want].sort((x, y) => x[0] - y[0]),
      engine.name,
    );
    assert.equal(f[C_LATENCY_COUNT], TABLE.length, engine.name);
    assert.equal(f[C_NEGATIVE_LATENCY], 1, engine.name);
    assert.equal(f[C_LATENCY_MIN], 0, engine.name);
    assert.equal(f[C_LATENCY_MAX], 2 ** 53 - 1, engine.name);
  }
});
