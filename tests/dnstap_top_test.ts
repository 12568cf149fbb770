// fstrm top's counters: on the four real-server captures, every count equals
// what decodeDnstap + parseDnsMessage give, computed here independently; the
// two engines give identical reports; Space-Saving's bounds hold on skewed
// random streams under a tiny budget; the latency histogram's error bound.
import assert from "node:assert/strict";
import { decodeFrames } from "../mod.ts";
import {
  decodeDnstap,
  type DnstapMessage,
  formatDnstapAddress,
} from "../src/dnstap.ts";
import { parseDnsMessage } from "../src/dns.ts";
import { forEachDnstapBatch } from "../src/dnstap_scan.ts";
import { TopCounter } from "../src/cli/_top_stats.ts";
import { DnstapScanReader } from "../src/_dnstap_scan_reader.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { type TopReport, toReport, toText } from "../src/cli/top.ts";
import { openInput } from "../src/cli/_file_input.ts";
import { readTop } from "../src/cli/_top_parallel.ts";
import { HeavyHitters } from "../src/cli/_top_heavy.ts";
import {
  LATENCY_RELATIVE_ERROR,
  latencyBucket,
  latencyBucketLow,
  LatencyHistogram,
} from "../src/cli/_top_latency.ts";
import { rcodeName, typeName } from "../src/_dns_names.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["knot", "bind", "unbound", "dnsdist"];
const TYPES = [
  "",
  "AUTH_QUERY",
  "AUTH_RESPONSE",
  "RESOLVER_QUERY",
  "RESOLVER_RESPONSE",
  "CLIENT_QUERY",
  "CLIENT_RESPONSE",
  "FORWARDER_QUERY",
  "FORWARDER_RESPONSE",
  "STUB_QUERY",
  "STUB_RESPONSE",
  "TOOL_QUERY",
  "TOOL_RESPONSE",
  "UPDATE_QUERY",
  "UPDATE_RESPONSE",
];

/**
 * top's report of `bytes` with `engine`: by default as `fstrm top` reads, in
 * one pass with the engine's key lists and row counts (with `counts: false`,
 * the rows counted by TopCounter itself); with `via: "batches"` through
 * forEachDnstapBatch and TopCounter.add (the key lists made by keysTs), as
 * a caller feeding batches of columns does.
 */
export async function reportOf(
  bytes: Uint8Array,
  engine: "ts" | "wasm",
  options: {
    n?: number;
    depth?: number;
    memory?: number;
    caseSensitive?: boolean;
    via?: "reader" | "batches";
    counts?: boolean;
  } = {},
): Promise<TopReport> {
  const counter = new TopCounter({
    depth: options.depth ?? 2,
    memory: options.memory ?? 64 << 20,
    caseSensitive: options.caseSensitive ?? false,
  });
  if (options.via === "batches") {
    const summary = await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      (cols, count, window) => counter.add(cols, count, window),
      { engine },
    );
    assert.equal(summary.scanEngine, engine);
  } else {
    const reader = new DnstapScanReader(ReadableStream.from([bytes]), {
      engine,
      maxFrameLength: 1 << 20,
      windowSize: 1 << 16,
      keys: counter.keyOptions,
      counts: options.counts ?? true,
    });
    assert.equal(reader.engine, engine);
    await reader.read((cols, count, window, keys, counts) => {
      assert.ok(keys !== null);
      assert.equal(counts !== null, options.counts ?? true);
      counter.addBatch(cols, count, window, keys, counts);
    });
  }
  counter.finish();
  return toReport(counter, {
    file: "x",
    engine,
    n: options.n ?? 1_000_000,
    dropped: 0,
    error: null,
  });
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** The last `depth` labels of a presentation name (no escaped dots here). */
function lastLabels(name: string, depth: number): string {
  if (name === ".") return name;
  const labels = name.slice(0, -1).split(".");
  return labels.length <= depth ? name : labels.slice(-depth).join(".") + ".";
}

/** Nearest-rank percentile of sorted values. */
function exactPercentile(values: number[], p: number): number {
  return values[Math.max(1, Math.ceil((p / 100) * values.length)) - 1]!;
}

for (const name of CAPTURES) {
  Deno.test(`fstrm top counts ${name}.fstrm as decodeDnstap and parseDnsMessage do`, async () => {
    const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    const types = new Map<string, number>();
    const qtypes = new Map<string, number>();
    const rcodes = new Map<string, number>();
    const names = new Map<string, number>();
    const domains = new Map<string, number>();
    const clients = new Map<string, number>();
    const seconds = new Map<number, number>();
    const latencies: number[] = [];
    let queries = 0;
    let responses = 0;
    for (const frame of decodeFrames(bytes)) {
      if (frame.kind !== "data") continue;
      const m: DnstapMessage = decodeDnstap(frame.data).message!;
      const typeName_ = String(m.type);
      bump(types, typeName_);
      const t = TYPES.indexOf(typeName_);
      if (t % 2 === 1) {
        const dns = parseDnsMessage(m.queryMessage!);
        const q = dns.question;
        if (q === null) continue;
        queries++;
        bump(qtypes, typeName(q.type));
        // Names count case-insensitively (ASCII letters lowercased).
        const name = q.name.replace(/[A-Z]/g, (c) => c.toLowerCase());
        bump(names, name);
        bump(domains, lastLabels(name, 2));
        if (m.queryAddress !== undefined) {
          bump(clients, formatDnstapAddress(m.queryAddress));
        }
        if (m.queryTimeSec !== undefined) bump(seconds, Number(m.queryTimeSec));
      } else {
        const dns = parseDnsMessage(m.responseMessage!);
        responses++;
        bump(rcodes, rcodeName(dns.rcode));
        if (m.queryTimeSec !== undefined && m.responseTimeSec !== undefined) {
          latencies.push(
            (Number(m.responseTimeSec) - Number(m.queryTimeSec)) * 1e9 +
              (m.responseTimeNsec ?? 0) - (m.queryTimeNsec ?? 0),
          );
        }
      }
    }
    const report = await reportOf(bytes, "ts");
    assert.equal(report.queries, queries);
    assert.equal(report.responses, responses);
    // Count order; ties in name order (the report orders ties by value).
    const rows = (r: { name: string; count: number }[]) =>
      sorted(new Map(r.map((x) => [x.name, x.count])));
    assert.deepEqual(rows(report.messageTypes), sorted(types));
    assert.deepEqual(rows(report.qtypes), sorted(qtypes));
    assert.deepEqual(rows(report.rcodes), sorted(rcodes));
    assert.ok(
      report.names.exact && report.names.rows.every((r) => r.error === 0),
    );
    assert.deepEqual(rows(report.names.rows), sorted(names));
    assert.deepEqual(rows(report.domains.rows), sorted(domains));
    assert.deepEqual(rows(report.clients.rows), sorted(clients));
    const secs = [...seconds.keys()].sort((a, b) => a - b);
    assert.equal(report.qps.first, secs[0]);
    assert.equal(report.qps.last, secs[secs.length - 1]);
    assert.equal(
      report.qps.series!.reduce((a, b) => a + b, 0),
      [...seconds.values()].reduce((a, b) => a + b, 0),
    );
    latencies.sort((a, b) => a - b);
    assert.equal(report.latency.count, latencies.length);
    if (latencies.length > 0) {
      assert.equal(report.latency.min, latencies[0]);
      assert.equal(report.latency.max, latencies[latencies.length - 1]);
      for (const p of [50, 90, 99] as const) {
        const exact = exactPercentile(latencies, p);
        const got = report.latency[`p${p}`]!;
        assert.ok(
          got <= exact && exact < got * (1 + LATENCY_RELATIVE_ERROR),
          `p${p}: ${got} vs exact ${exact}`,
        );
      }
    }
    assert.deepEqual(report.malformed, {
      protobuf: 0,
      dnsHeader: 0,
      question: 0,
    });
  });

  Deno.test(`fstrm top gives identical reports with both engines on ${name}.fstrm`, async () => {
    const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    const ts = await reportOf(bytes, "ts", { memory: 2000 });
    const wasm = await reportOf(bytes, "wasm", { memory: 2000 });
    assert.deepEqual({ ...wasm, engine: "ts" }, ts);
    // Batches of columns fed to TopCounter.add count the same, and so
    // does TopCounter counting the rows itself.
    for (const engine of ["ts", "wasm"] as const) {
      const exact = await reportOf(bytes, engine);
      const batches = await reportOf(bytes, engine, { via: "batches" });
      assert.deepEqual(batches, exact);
      const uncounted = await reportOf(bytes, engine, { counts: false });
      assert.deepEqual(uncounted, exact);
    }
  });
}

Deno.test("latencyBucket: every value's bucket starts at most 1/128 below it", () => {
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = [0, 1, 255, 256, 257, 511, 512, 2 ** 31, 2 ** 32 - 1, 2 ** 52];
  for (let k = 0; k < 20_000; k++) values.push(Math.floor(2 ** (rand() * 52)));
  for (const v of values) {
    const b = latencyBucket(v);
    const low = latencyBucketLow(b);
    assert.ok(low <= v, `${v}: low ${low}`);
    assert.ok(
      v < 256 ? low === v : v < low * (1 + LATENCY_RELATIVE_ERROR),
      `${v}: ${low}`,
    );
    assert.ok(latencyBucket(low) === b, `${v}: bucket of its low`);
  }
});

Deno.test("LatencyHistogram percentiles are within the stated error of the exact ones", () => {
  const h = new LatencyHistogram();
  const values: number[] = [];
  let seed = 11;
  for (let k = 0; k < 5000; k++) {
    seed = (seed * 48271) % 2147483647;
    const v = Math.floor(2 ** (8 + (seed / 2147483647) * 24));
    values.push(v);
    h.add(v);
  }
  values.sort((a, b) => a - b);
  for (const p of [1, 50, 90, 99, 100]) {
    const exact = exactPercentile(values, p);
    const got = h.percentile(p)!;
    assert.ok(
      got <= exact && exact < got * (1 + LATENCY_RELATIVE_ERROR),
      `${p}`,
    );
  }
});

/** A Zipf-like stream of `n` keys over `universe` keys (skew s = 1.2). */
function zipfStream(n: number, universe: number, seed: number): string[] {
  const weights: number[] = [];
  let total = 0;
  for (let k = 1; k <= universe; k++) {
    total += 1 / k ** 1.2, weights.push(total);
  }
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    const u = (x / 2147483647) * total;
    let lo = 0, hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (weights[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(`k${lo}`);
  }
  return out;
}

Deno.test("HeavyHitters under a tiny capacity keeps the true top keys and its bounds hold", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const stream = zipfStream(20_000, 5_000, seed);
    const capacity = 50;
    const hh = new HeavyHitters(capacity);
    const truth = new Map<string, number>();
    for (const k of stream) {
      hh.add(k);
      bump(truth, k);
    }
    assert.ok(hh.evictions > 0, "the budget was exceeded");
    const all = hh.top(capacity);
    const bound = hh.bound;
    assert.ok(bound <= stream.length / capacity, `bound ${bound}`);
    for (const item of all) {
      const t = truth.get(item.key)!;
      assert.ok(item.count - item.error <= t && t <= item.count, item.key);
      assert.ok(item.error <= bound);
    }
    // Every key more frequent than the bound is monitored.
    const monitored = new Set(all.map((i) => i.key));
    for (const [k, t] of truth) {
      if (t > bound) assert.ok(monitored.has(k), `${k} (${t}) kept`);
    }
    // The true top 5 are the reported top 5 (a skewed stream).
    const top5 = sorted(truth).slice(0, 5).map(([k]) => k);
    assert.deepEqual(hh.top(5).map((i) => i.key).sort(), top5.sort());
  }
});

Deno.test("HeavyHitters fed batches' distinct keys with their counts keeps its bounds", () => {
  for (const seed of [1, 2, 3, 4]) {
    const stream = zipfStream(20_000, 5_000, seed);
    const capacity = 50;
    const hh = new HeavyHitters(capacity);
    const truth = new Map<string, number>();
    // Batches of 300, each as its distinct keys in order of first occurrence.
    for (let at = 0; at < stream.length; at += 300) {
      const batch = new Map<string, number>();
      for (const k of stream.slice(at, at + 300)) {
        bump(batch, k);
        bump(truth, k);
      }
      for (const [k, c] of batch) hh.add(k, c);
    }
    assert.equal(hh.total, stream.length);
    assert.ok(hh.evictions > 0, "the budget was exceeded");
    const bound = hh.bound;
    assert.ok(bound <= stream.length / capacity, `bound ${bound}`);
    const all = hh.top(capacity);
    for (const item of all) {
      const t = truth.get(item.key)!;
      assert.ok(item.count - item.error <= t && t <= item.count, item.key);
      assert.ok(item.error <= bound);
    }
    const monitored = new Set(all.map((i) => i.key));
    for (const [k, t] of truth) {
      if (t > bound) assert.ok(monitored.has(k), `${k} (${t}) kept`);
    }
  }
});

Deno.test("HeavyHitters is exact while it holds every key", () => {
  const hh = new HeavyHitters(10);
  for (const k of ["a", "b", "a", "c", "a", "b"]) hh.add(k);
  assert.equal(hh.evictions, 0);
  assert.equal(hh.bound, 0);
  assert.deepEqual(hh.top(2), [
    { key: "a", count: 3, error: 0 },
    { key: "b", count: 2, error: 0 },
  ]);
});

Deno.test("fstrm top under a tiny memory budget reports estimates with bounds that hold on a capture", async () => {
  const bytes = await Deno.readFile(new URL("unbound.fstrm", DIR));
  const exact = await reportOf(bytes, "ts");
  const small = await reportOf(bytes, "wasm", { memory: 3 * 160 * 8, n: 8 });
  assert.equal(small.names.capacity, 8);
  assert.equal(small.names.exact, false);
  const truth = new Map(exact.names.rows.map((r) => [r.name, r.count]));
  for (const r of small.names.rows) {
    const t = truth.get(r.name)!;
    assert.ok(r.count - r.error <= t && t <= r.count, r.name);
  }
  for (const r of exact.names.rows) {
    if (r.count > small.names.bound) {
      assert.ok(small.names.rows.some((s) => s.name === r.name), r.name);
    }
  }
});

/** A query for `name` (presentation, no escapes) from 192.0.2.`last`. */
function queryFrame(name: string, last: number, identity = 0): Uint8Array {
  const labels = name.split(".").filter((l) => l !== "");
  const wire = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of labels) wire.push(l.length, ...new TextEncoder().encode(l));
  wire.push(0, 0, 1, 0, 1);
  return encodeDnstap({
    type: "MESSAGE",
    // A long identity makes a frame larger than the reader's window.
    ...(identity > 0 ? { identity: new Uint8Array(identity) } : {}),
    message: {
      type: "CLIENT_QUERY",
      queryAddress: new Uint8Array([192, 0, 2, last]),
      queryMessage: new Uint8Array(wire),
    },
  });
}

Deno.test("fstrm top counts names case-insensitively unless caseSensitive, in both engines", async () => {
  // A resolver's 0x20 randomization writes one name many ways.
  const written = [
    "www.Example.COM.",
    "WWW.example.com.",
    "www.example.com.",
    "wWw.eXample.Com.",
    "mail.EXAMPLE.com.",
    "Mail.example.org.",
  ];
  // The second comes in a frame larger than the window (scanned apart).
  const bytes = encodeFrameStream(
    written.map((name, k) => queryFrame(name, k & 1, k === 1 ? 70_000 : 0)),
  );
  for (const engine of ["ts", "wasm"] as const) {
    for (const via of ["reader", "batches"] as const) {
      const folded = await reportOf(bytes, engine, { via });
      // The large frame is counted by the TypeScript counter into the
      // engine's counts, the others by the engine.
      assert.equal(folded.queries, written.length);
      assert.deepEqual(folded.names.rows, [
        { name: "www.example.com.", count: 4, error: 0 },
        { name: "mail.example.com.", count: 1, error: 0 },
        { name: "mail.example.org.", count: 1, error: 0 },
      ]);
      assert.deepEqual(folded.domains.rows, [
        { name: "example.com.", count: 5, error: 0 },
        { name: "example.org.", count: 1, error: 0 },
      ]);
      const kept = await reportOf(bytes, engine, { via, caseSensitive: true });
      assert.equal(kept.names.distinct, 6);
      assert.deepEqual(
        kept.names.rows.map((r) => r.name).sort(),
        [...written].sort(),
      );
      assert.equal(kept.domains.distinct, 5);
    }
  }
});

Deno.test("fstrm top counts exactly when key lists fill and are emptied many times, in both engines", async () => {
  // 9,000 distinct names (and 256 clients) over 30,000 queries: the key
  // lists fill (more than 4,096 names) and are counted and emptied often.
  const frames: Uint8Array[] = [];
  const truth = new Map<string, number>();
  let x = 12345;
  for (let k = 0; k < 30_000; k++) {
    x = (x * 48271) % 2147483647;
    const name = `h${x % 9000}.Example.net.`;
    bump(truth, name.toLowerCase());
    frames.push(queryFrame(name, x & 255));
  }
  const bytes = encodeFrameStream(frames);
  const want = sorted(truth);
  for (const engine of ["ts", "wasm"] as const) {
    for (const via of ["reader", "batches"] as const) {
      const r = await reportOf(bytes, engine, { via, n: 20_000 });
      assert.equal(r.names.distinct, truth.size, `${engine} ${via}`);
      // Ties are in wire order in the report: compare as sets of pairs.
      const byName = (a: [string, number], b: [string, number]) =>
        a[0] < b[0] ? -1 : 1;
      assert.deepEqual(
        r.names.rows.map((row): [string, number] => [row.name, row.count])
          .sort(byName),
        want.sort(byName),
      );
      assert.equal(r.clients.distinct, 256);
      assert.deepEqual(r.domains.rows, [
        { name: "example.net.", count: 30_000, error: 0 },
      ]);
    }
  }
});

Deno.test("fstrm top reports the same with the wasm engine on two threads as with the ts engine on one, the engines counting the rows", async () => {
  // The four captures, then again (a second pass back in time): 1.8 MB,
  // read on two threads (forced), split in the middle.
  const parts: Uint8Array[] = [];
  for (let k = 0; k < 2; k++) {
    for (const name of CAPTURES) {
      parts.push(await Deno.readFile(new URL(`${name}.fstrm`, DIR)));
    }
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(path, bytes);
    const options = { depth: 2, memory: 64 << 20 };
    const reports: string[] = [];
    for (const [engine, threads] of [["wasm", 2], ["ts", 1]] as const) {
      const input = await openInput(path, 1 << 20);
      const counter = new TopCounter(options);
      try {
        const read = await readTop(input, counter, {
          engine,
          maxFrameLength: 1 << 20,
          threads,
          counter: options,
          warn: (line) => assert.fail(line),
        });
        assert.equal(read.engine, engine);
        assert.equal(read.how, threads === 2 ? "split" : "one");
      } finally {
        input.close();
      }
      counter.finish();
      const report = toReport(counter, {
        file: path,
        engine: "either",
        n: 10,
        dropped: 0,
        error: null,
      });
      assert.ok(report.messages > 2000 && report.latency.count > 500);
      reports.push(JSON.stringify(report) + toText(report));
    }
    assert.equal(reports[0], reports[1]);
  } finally {
    await Deno.remove(path);
  }
});
