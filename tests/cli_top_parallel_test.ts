// `fstrm top -r FILE` on two threads: the split point, the merge of the
// counters, and the report, which must be one thread's byte for byte (both
// engines, --json and text) on files built from the captures: split where a
// frame starts, where the candidate is inside a large frame, files cut short
// or without STOP, an error before the split, a worker that fails.
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { rng } from "./_support.ts";

/** A seeded generator of numbers in [0, 1). */
function unit(seed: number): () => number {
  const next = rng(seed);
  return () => next() / 2 ** 32;
}
import { openInput } from "../src/cli/_file_input.ts";
import {
  cutAt,
  findSplit,
  readTop,
  type TopReadOptions,
  type TopReadResult,
} from "../src/cli/_top_parallel.ts";
import { CutSource, readPart } from "../src/cli/_top_worker.ts";
import {
  IntCounts,
  TopCounter,
  type TopCounterOptions,
} from "../src/cli/_top_stats.ts";
import { HeavyHitters } from "../src/cli/_top_heavy.ts";
import { toReport, toText } from "../src/cli/top.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["bind", "dnsdist", "knot", "unbound"].map((n) =>
  Deno.readFileSync(new URL(`${n}.fstrm`, DIR))
);
const MAX = 1 << 20;
const ENGINES = ["wasm", "ts"] as const;

function u32(b: Uint8Array, p: number): number {
  return (b[p]! << 24 | b[p + 1]! << 16 | b[p + 2]! << 8 | b[p + 3]!) >>> 0;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The four captures, one after another, `times` times. */
function captures(times: number): Uint8Array {
  return concat(Array.from({ length: times }, () => CAPTURES).flat());
}

/** The offsets where the frames of `b` start (walking the chain). */
function frameStarts(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let p = 0; p + 4 <= b.length;) {
    out.push(p);
    const n = u32(b, p);
    p += n === 0 ? 8 + u32(b, p + 4) : 4 + n;
  }
  return out;
}

/** A capture's data frames (START and STOP cut off). */
function dataFrames(capture: Uint8Array): Uint8Array {
  return capture.subarray(8 + u32(capture, 4), capture.length - 12);
}

const OPTIONS: TopCounterOptions = { depth: 2, memory: 64 << 20 };

/** The report of `path` read on `threads` threads, as JSON and text. */
async function report(
  path: string,
  threads: number,
  engine: "wasm" | "ts",
  options: TopCounterOptions = OPTIONS,
  identity?: string,
  extra: Partial<TopReadOptions> = {},
): Promise<{ json: string; text: string; read: TopReadResult }> {
  const opened = await openInput(path, MAX);
  const input = identity === undefined ? opened : { ...opened, identity };
  const counter = new TopCounter(options);
  const warnings: string[] = [];
  let read: TopReadResult;
  try {
    read = await readTop(input, counter, {
      engine,
      maxFrameLength: MAX,
      threads,
      counter: options,
      warn: (line) => warnings.push(line),
      ...extra,
    });
  } finally {
    opened.close();
  }
  if (read.how === "failed") assert.equal(warnings.length, 1);
  else assert.deepEqual(warnings, []);
  const r = toReport(counter, {
    file: path,
    engine: read.engine,
    n: 10,
    dropped: read.dropped,
    error: read.error,
  });
  return { json: JSON.stringify(r), text: toText(r), read };
}

/**
 * Checks both engines read `bytes` on two threads as on one, the threads
 * sharing the file as `how` says (null: any way); returns how they did.
 */
async function assertSameAsOne(
  bytes: Uint8Array,
  how: TopReadResult["how"] | null,
  options: TopCounterOptions = OPTIONS,
  extra: Partial<TopReadOptions> = {},
): Promise<TopReadResult["how"]> {
  let shared: TopReadResult["how"] = "one";
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(path, bytes);
    for (const engine of ENGINES) {
      const one = await report(path, 1, engine, options);
      const two = await report(path, 2, engine, options, undefined, extra);
      assert.equal(one.read.how, "one");
      if (how !== null) {
        assert.equal(two.read.how, how, `${engine}: ${two.read.how}`);
      }
      shared = two.read.how;
      assert.equal(two.json, one.json, engine);
      assert.equal(two.text, one.text, engine);
    }
  } finally {
    await Deno.remove(path);
  }
  return shared;
}

Deno.test("findSplit finds a frame start of the chain, not in garbage", () => {
  const bytes = captures(2);
  const starts = new Set(frameStarts(bytes));
  for (const at of [1, 5000, 100_000, 333_333, 700_000]) {
    const found = findSplit(bytes.subarray(at), MAX);
    assert.ok(found > 0, String(at));
    assert.ok(starts.has(at + found), `${at} + ${found}`);
  }
  // Random bytes hold no chain of 32 frames.
  const next = unit(7);
  const noise = Uint8Array.from({ length: 1 << 16 }, () => next() * 256);
  assert.equal(findSplit(noise, MAX), -1);
  // Nor does a chain cut short by the probe's end.
  assert.equal(findSplit(bytes.subarray(0, 2000), MAX), -1);
});

Deno.test("IntCounts: state and merge give the counts of both, in the array and beyond it", () => {
  const next = unit(11);
  // Values in the array (0..255), beyond it, and negative.
  const values = Array.from(
    { length: 5000 },
    () => ((next() * 300) | 0) - 20,
  );
  const whole = new IntCounts(256);
  const a = new IntCounts(256);
  const b = new IntCounts(256);
  values.forEach((v, i) => {
    whole.add(v);
    (i < 1700 ? a : b).add(v);
  });
  const state = b.state();
  // Sent as value, count pairs of the values seen only.
  assert.equal(state.length, 2 * b.entries().length);
  a.merge(state);
  assert.deepEqual(a.entries(), whole.entries());
  // Into an empty table, and an empty state.
  const empty = new IntCounts(256);
  empty.merge(whole.state());
  empty.merge(new IntCounts(256).state());
  assert.deepEqual(empty.entries(), whole.entries());
  assert.equal(
    whole.entries().reduce((n, [, c]) => n + c, 0),
    values.length,
  );
});

Deno.test("HeavyHitters.merge of exact tables is the table of both", () => {
  const next = unit(3);
  const keys = Array.from({ length: 5000 }, () => `k${(next() * 300) | 0}`);
  const whole = new HeavyHitters(400);
  for (const k of keys) whole.add(k);
  const a = new HeavyHitters(400);
  const b = new HeavyHitters(400);
  keys.forEach((k, i) => (i < 2100 ? a : b).add(k));
  a.merge(b.state().state);
  assert.equal(a.evictions, 0);
  assert.equal(a.bound, 0);
  assert.equal(a.size, whole.size);
  assert.equal(a.total, whole.total);
  assert.deepEqual(a.top(1000), whole.top(1000));
});

Deno.test("HeavyHitters.merge keeps Space-Saving's bounds beyond capacity", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = unit(seed);
    const capacity = 5 + ((next() * 40) | 0);
    const n = 200 + ((next() * 3000) | 0);
    // A skewed stream: some keys heavy, many light.
    const keys = Array.from(
      { length: n },
      () => `k${Math.floor(Math.pow(next(), 3) * 400)}`,
    );
    const cut = (next() * n) | 0;
    const a = new HeavyHitters(capacity);
    const b = new HeavyHitters(capacity);
    keys.forEach((k, i) => (i < cut ? a : b).add(k, 1 + (i % 3)));
    a.merge(b.state().state);
    const truth = new Map<string, number>();
    keys.forEach((k, i) => truth.set(k, (truth.get(k) ?? 0) + 1 + (i % 3)));
    const listed = a.top(capacity);
    assert.ok(listed.length <= capacity);
    const shown = new Set(listed.map((x) => x.key));
    for (const item of listed) {
      const t = truth.get(item.key)!;
      assert.ok(
        item.count - item.error <= t && t <= item.count,
        `seed ${seed}: ${item.key} ${t} in [${
          item.count - item.error
        }, ${item.count}]`,
      );
    }
    for (const [k, t] of truth) {
      if (!shown.has(k)) assert.ok(t <= a.bound, `seed ${seed}: ${k} ${t}`);
    }
    assert.equal(a.total, [...truth.values()].reduce((x, y) => x + y, 0));
    // Adds after the merge keep the bounds too.
    a.add("k0", 5);
    a.add("new", 2);
    const t = (truth.get("k0") ?? 0) + 5;
    const k0 = a.top(capacity).find((x) => x.key === "k0");
    if (k0 !== undefined) assert.ok(k0.count - k0.error <= t && t <= k0.count);
    else assert.ok(t <= a.bound);
  }
});

Deno.test("fstrm top on two threads reports as one: the captures repeated, a split in the middle", async () => {
  // About 3.7 MB: --threads 2 forced on a small file.
  await assertSameAsOne(captures(4), "split");
});

Deno.test("fstrm top on two threads reports as one under a tiny memory budget while exact, within bounds beyond", async () => {
  // 0.3 MiB: 655 keys a table, more than the distinct names and clients of
  // the captures (the tables stay exact).
  await assertSameAsOne(captures(4), "split", {
    depth: 3,
    memory: 0.3 * (1 << 20),
    caseSensitive: true,
  });
  // 10 keys a table: estimates, within their bounds on both.
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(path, captures(4));
    // Every key the tables hold is printed (10 rows), so a name not
    // printed is one not held.
    const tiny = { depth: 2, memory: 10 * 3 * 160 };
    const one = JSON.parse((await report(path, 1, "wasm")).json);
    const two = await report(path, 2, "wasm", tiny);
    assert.equal(two.read.how, "split");
    const r = JSON.parse(two.json);
    assert.equal(r.names.exact, false);
    assert.equal(r.messages, one.messages);
    const truth = new Map<string, number>(
      one.names.rows.map((x: { name: string; count: number }) => [
        x.name,
        x.count,
      ]),
    );
    for (const row of r.names.rows) {
      const t = truth.get(row.name);
      if (t !== undefined) {
        assert.ok(row.count - row.error <= t && t <= row.count, row.name);
      }
    }
    for (const [name, t] of truth) {
      if (!r.names.rows.some((x: { name: string }) => x.name === name)) {
        assert.ok(t <= r.names.bound, name);
      }
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fstrm top on two threads: a candidate inside a large frame is dropped, the report is one thread's", async () => {
  // A 900 KB data frame whose payload is a chain of real frames sits where
  // the split is looked for: the chain found there is not the file's.
  const fake = concat(
    Array.from({ length: 4 }, () => CAPTURES.map(dataFrames)).flat(),
  ).subarray(0, 900_000);
  const inner = frameStarts(fake);
  const payload = fake.subarray(0, inner.findLast((p) => p < 900_000)!);
  const big = new Uint8Array(4 + payload.length);
  new DataView(big.buffer).setUint32(0, payload.length);
  big.set(payload, 4);
  // The big frame inside a stream: the captures' data frames around it.
  const head = captures(2);
  const start = head.subarray(0, 8 + u32(head, 4));
  const body = concat(CAPTURES.map(dataFrames));
  const bytes = concat([start, body, body, big, body, head.subarray(-12)]);
  // The split looked for 50 KB into the big frame's payload, whatever
  // MAIN_SHARE is.
  const bigAt = start.length + 2 * body.length;
  const share = (bigAt + 4 + 50_000) / bytes.length;
  const at = Math.floor(bytes.length * share);
  assert.ok(at > bigAt + 4 && at < bigAt + 4 + payload.length - 200_000);
  await assertSameAsOne(bytes, "crossed", OPTIONS, { share });
});

Deno.test("fstrm top on two threads: a file cut short, without STOP, or with an error before the split", async () => {
  const bytes = captures(4);
  // Cut inside the last frame: the worker's part ends in the error.
  await assertSameAsOne(bytes.subarray(0, bytes.length - 30), "split");
  // No STOP frame: read to its end all the same.
  await assertSameAsOne(bytes.subarray(0, bytes.length - 12), "split");
  // A frame announcing 2 GiB at a tenth of the file: one thread stops there.
  const starts = frameStarts(bytes);
  const bad = bytes.slice();
  const p = starts.find((s) => s > bytes.length / 10 && u32(bytes, s) > 0)!;
  new DataView(bad.buffer).setUint32(p, 0x7fff_ffff);
  await assertSameAsOne(bad, "stopped");
  // A garbage word after the split: found by the worker, reported as one
  // thread reports it (its offset from the file's start).
  const late = bytes.slice();
  const q = starts.find((s) => s > bytes.length * 0.8 && u32(bytes, s) > 0)!;
  new DataView(late.buffer).setUint32(q, 0x7fff_ffff);
  await assertSameAsOne(late, "split");
});

Deno.test("fstrm top on two threads reports as one on files cut and overwritten at random", async () => {
  const bytes = captures(4);
  const next = unit(11);
  const seen = new Set<string>();
  for (let k = 0; k < 12; k++) {
    const b = bytes.slice(0, bytes.length - Math.floor(next() * 2000));
    // A few words overwritten anywhere: inside payloads (malformed
    // messages), on length words (a chain broken or moved).
    for (let w = 0; w < 3; w++) {
      const at = Math.floor(next() * (b.length - 4));
      new DataView(b.buffer).setUint32(at, Math.floor(next() * 2 ** 32));
    }
    seen.add(await assertSameAsOne(b, null));
  }
  assert.ok(seen.has("split"), [...seen].join());
});

// The main thread reads 2 % first, then takes the end of the worker's part
// (the worker is still starting: it takes 15 ms and more).
const STEAL = { share: 0.02, stealMin: 1 << 20 };

Deno.test("fstrm top on two threads: the main thread takes the end of a busy worker's part, the report is one thread's", async () => {
  const bytes = captures(8);
  await assertSameAsOne(bytes, "stolen", OPTIONS, STEAL);
  // Cut short: the error is found by the main thread's second read.
  await assertSameAsOne(
    bytes.subarray(0, bytes.length - 30),
    "stolen",
    OPTIONS,
    STEAL,
  );
  // Cut and overwritten at random: whichever way the threads share it.
  const next = unit(5);
  for (let k = 0; k < 8; k++) {
    const b = bytes.slice(0, bytes.length - Math.floor(next() * 2000));
    for (let w = 0; w < 3; w++) {
      const at = Math.floor(next() * (b.length - 4));
      new DataView(b.buffer).setUint32(at, Math.floor(next() * 2 ** 32));
    }
    await assertSameAsOne(b, null, OPTIONS, STEAL);
  }
});

Deno.test("cutAt cuts past what the worker reserved, also after it reserved more, never before it or twice", async () => {
  const cut = new BigInt64Array(new SharedArrayBuffer(8));
  cut[0] = 1000n * 2n;
  // Not at or before what is reserved.
  assert.equal(cutAt(cut, 1000), false);
  assert.equal(cutAt(cut, 10), false);
  assert.equal(cut[0], 2000n);
  // The worker's source reserves window after window; a cut far ahead is
  // made wherever it has got to (the cut once failed whenever the worker
  // had reserved a window since the main thread first read the word).
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    const bytes = captures(2);
    await Deno.writeFile(path, bytes);
    using file = await Deno.open(path);
    file.seekSync(1000, Deno.SeekMode.Start);
    const source = new CutSource(file, 1000, cut);
    const window = new Uint8Array(4096);
    assert.equal(source.readSync(window), 4096);
    assert.equal(source.readSync(window), 4096);
    assert.equal(cut[0], BigInt(1000 + 2 * 4096) * 2n);
    const y = 1000 + 2 * 4096 + 10_000;
    assert.equal(cutAt(cut, y), true);
    assert.equal(cut[0], BigInt(y) * 2n + 1n);
    // Cut once: no second cut, and the source stops at y.
    assert.equal(cutAt(cut, y + 5000), false);
    let read = 1000 + 2 * 4096;
    for (let n; (n = source.readSync(window)) !== null;) read += n;
    assert.equal(read, y);
    assert.equal(source.reachedCut, true);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readPart ends at a cut on a frame start, and reads on to the end past a cut inside a frame", async () => {
  const bytes = captures(4);
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(path, bytes);
    const info = await Deno.stat(path);
    const starts = frameStarts(bytes);
    const from = starts.find((p) => p > bytes.length / 3)!;
    const to = starts.find((p) => p > (bytes.length * 2) / 3)!;
    const part = async (cut: number | null, offset = from) => {
      let word: SharedArrayBuffer | null = null;
      if (cut !== null) {
        word = new SharedArrayBuffer(8);
        new BigInt64Array(word)[0] = BigInt(cut) * 2n + 1n;
      }
      const { result } = await readPart({
        path,
        identity: `${info.dev}:${info.ino}`,
        offset,
        engine: "wasm",
        maxFrameLength: MAX,
        windowSize: 1 << 16,
        counter: OPTIONS,
        cut: word,
      });
      return result;
    };
    const whole = await part(null);
    assert.equal(whole.endedAtCut, false);
    // Cut at a frame start: [from, to), then [to, end) add up to the whole.
    const head = await part(to);
    assert.equal(head.endedAtCut, true);
    assert.equal(head.error, null);
    const tail = await part(null, to);
    assert.equal(
      head.state.scalars[0]! + tail.state.scalars[0]!,
      whole.state.scalars[0],
    );
    // Cut inside a frame: read on to the end, as without a cut.
    const inside = await part(to + 3);
    assert.equal(inside.endedAtCut, false);
    assert.deepEqual(inside.state, whole.state);
    assert.deepEqual(inside.error, whole.error);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fstrm top on two threads: a worker that fails leaves one thread to read on, with a warning", async () => {
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(path, captures(4));
    const one = await report(path, 1, "wasm");
    // The worker refuses a file whose identity is not the one opened.
    const two = await report(path, 2, "wasm", OPTIONS, "0:0");
    assert.equal(two.read.how, "failed");
    assert.equal(two.json, one.json);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fstrm top --threads: the command on a 16 MiB file, default and forced, as one thread", async () => {
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    // 19 times the captures: about 17.4 MB, two threads by default.
    await Deno.writeFile(path, captures(19));
    assert.ok((await Deno.stat(path)).size >= 16 << 20);
    const one = await fstrm(["top", "-r", path, "--threads", "1", "--json"]);
    assert.equal(one.code, 0, one.stderr);
    for (const args of [["--json"], ["--threads", "2", "--json"]]) {
      const two = await fstrm(["top", "-r", path, ...args]);
      assert.equal(two.code, 0, two.stderr);
      assert.equal(two.stderr, "");
      assert.equal(two.stdout, one.stdout);
    }
    const text1 = await fstrm(["top", "-r", path, "--threads", "1"]);
    const text2 = await fstrm(["top", "-r", path, "--threads", "2"]);
    assert.equal(text2.stdout, text1.stdout);
    const bad = await fstrm(["top", "-r", path, "--threads", "3"]);
    assert.equal(bad.code, 2);
    // A socket is read on one thread: --threads there is a usage error.
    const live = await fstrm(["top", "-u", `${path}.sock`, "--threads", "2"]);
    assert.equal(live.code, 2);
    assert.match(live.stderr, /--threads reads a file/);
    // Permission to read the file only: the worker cannot load its
    // modules; one line says so, one thread reads.
    const alone = await fstrm(["top", "-r", path, "--json"], {
      permissions: [`--allow-read=${path}`],
    });
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(
      alone.stderr,
      /^fstrm top: no worker thread \(no read access to [^)]*\); reading on one\n$/,
    );
    assert.equal(alone.stdout, one.stdout);
  } finally {
    await Deno.remove(path);
  }
});
