// The reader of `fstrm dnstap -q` (src/_dnstap_quiet_reader.ts): the
// source read straight into the quiet engine's window. Its frame scan
// against scanFramesTs (the WebAssembly module's frames and the
// TypeScript window's), its runs, summary and errors against FrameReader's
// on the shared stream cases and on random streams (cut, mutated, frames
// larger than the window, oversized frames), its quiet text against
// FrameReader's runs through the same RecordSink, and the engine's promise
// not to write over or grow under an attached window.
import assert from "node:assert/strict";
import {
  encodeDataFrame,
  encodeFrameStream,
  FrameReader,
  type FrameReaderOptions,
} from "../mod.ts";
import { DnstapQuietReader } from "../src/_dnstap_quiet_reader.ts";
import {
  type QuietEngine,
  TsQuietEngine,
  WasmQuietEngine,
} from "../src/_dnstap_quiet_engine.ts";
import { ENTRY_WORDS } from "../src/_scan.ts";
import { TABLE_CAPACITY, TsScanEngine } from "../src/_engine.ts";
import { RecordSink } from "../src/cli/_dnstap_records.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { goFormatter } from "../src/cli/_dnstap_formats.ts";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapQuiet,
} from "../src/dnstap.ts";
import { rng } from "./_support.ts";
import { concat, plainError } from "./_util.ts";
import { HELLO, START, STOP } from "./_vectors.ts";
import { STREAM_CASES } from "./_control_cases.ts";
import {
  dataFrame,
  type Feed,
  feedSource,
  MIN_WINDOW,
  SHORT_FEEDS,
} from "./_reader_harness.ts";
import { dnstapFile, PAYLOADS } from "./_cli_dnstap.ts";

const ENGINES = ["ts", "wasm"] as const;

function makeEngine(engine: "ts" | "wasm"): QuietEngine {
  return engine === "ts" ? new TsQuietEngine() : new WasmQuietEngine();
}

/** What a reader gave: its runs (copies), summary and error. */
interface Outcome {
  runs: [number, number, number, number[]][];
  summary: Record<string, unknown>;
  error: Record<string, unknown> | null;
}

/** The error as plain fields, its class included. */
function errorOf(e: unknown): Record<string, unknown> | null {
  if (e === null) return null;
  return {
    ...plainError(e),
    class: e instanceof Error ? e.constructor : null,
  };
}

type ReadOptions = Pick<FrameReaderOptions, "maxFrameLength" | "oversize"> & {
  windowSize?: number;
};

/**
 * Reads `bytes` fed as `feed` with FrameReader (`quiet` false) or
 * DnstapQuietReader into a fresh engine (`quiet` true), both `engine`.
 */
async function outcome(
  bytes: Uint8Array,
  engine: "ts" | "wasm",
  feed: Feed,
  options: ReadOptions,
  quiet: boolean,
): Promise<Outcome> {
  const { input, options: feedOptions } = feedSource(bytes, feed);
  const all = {
    engine,
    maxFrameLength: options.maxFrameLength ?? 1 << 20,
    windowSize: options.windowSize ?? MIN_WINDOW,
    ...(options.oversize === undefined ? {} : { oversize: options.oversize }),
    ...feedOptions,
  };
  const reader = quiet
    ? new DnstapQuietReader(input, makeEngine(engine), all)
    : new FrameReader(input, all);
  // Never a silent fallback.
  assert.equal(reader.engine, engine);
  const runs: Outcome["runs"] = [];
  let error: unknown = null;
  try {
    await reader.forEachRun((window, start, end, n) => {
      runs.push([start, end, n, Array.from(window.subarray(start, end))]);
    });
  } catch (e) {
    error = e;
  }
  return {
    runs,
    summary: { ...reader.summary },
    error: errorOf(error),
  };
}

/** Asserts that both readers give the same on `bytes`, every engine. */
async function assertSameAsFrameReader(
  bytes: Uint8Array,
  feed: Feed,
  options: ReadOptions,
  label: string,
): Promise<Outcome> {
  let last: Outcome | null = null;
  for (const engine of ENGINES) {
    const want = await outcome(bytes, engine, feed, options, false);
    const got = await outcome(bytes, engine, feed, options, true);
    const what = `${label} [${engine}], ${feed.kind} reads of ${feed.max}`;
    assert.deepEqual(got.error, want.error, `error: ${what}`);
    assert.deepEqual(got.summary, want.summary, `summary: ${what}`);
    assert.deepEqual(got.runs, want.runs, `runs: ${what}`);
    last = got;
  }
  return last!;
}

// Filler data frames (no START) so that the frame after `prefix` falls
// `before` bytes before the end of the first window.
function padTo(prefix: Uint8Array, before: number): Uint8Array {
  const gap = MIN_WINDOW - before - prefix.length;
  return concat(prefix, dataFrame(gap - 24, 1), dataFrame(16, 2));
}

for (const c of STREAM_CASES) {
  // Lenient cases only: -q reads as FrameReader does without `strict`.
  if (c.options?.strict === true) continue;
  Deno.test(`DnstapQuietReader gives FrameReader's runs, summary and error on ${c.name}`, async () => {
    const options: ReadOptions = { ...c.options };
    const bytes = concat(START, HELLO, c.tail);
    for (const feed of SHORT_FEEDS) {
      const got = await assertSameAsFrameReader(bytes, feed, options, c.name);
      assert.equal(got.error === null, c.error === null, "an error or not");
      if (c.error !== null) {
        for (const [key, value] of Object.entries(c.error)) {
          assert.deepEqual(got.error![key], value, `error.${key}`);
        }
      }
    }
    // Astride the first window's end.
    for (const before of [1, 4, 9, 17]) {
      const padded = padTo(concat(START, HELLO), before);
      await assertSameAsFrameReader(
        concat(padded, c.tail),
        SHORT_FEEDS[0]!,
        options,
        `${c.name}, ${before} bytes before the window's end`,
      );
    }
  });
}

/** A random stream: START, data frames of any size, STOP; maybe cut or bad. */
function randomStream(seed: number): { bytes: Uint8Array; max: number } {
  const r = rng(seed);
  const parts: Uint8Array[] = [START];
  const frames = r() % 200;
  for (let i = 0; i < frames; i++) {
    const kind = r() % 100;
    const length = kind < 2
      ? 60_000 + r() % 20_000 // about the window, or larger
      : kind < 10
      ? 1000 + r() % 9000
      : kind < 12
      ? 0 // a control frame follows (the 0 length word)
      : 1 + r() % 700;
    if (length === 0) {
      // STOP in the middle (data after it: lenient), or an unknown type.
      parts.push(r() % 2 ? STOP : concat(new Uint8Array(4), words(4, 9)));
    } else parts.push(dataFrame(length, seed * 1000 + i));
  }
  if (r() % 2) parts.push(STOP);
  let bytes = concat(...parts);
  const damage = r() % 4;
  if (damage === 1 && bytes.length > 0) {
    // Cut anywhere.
    bytes = bytes.subarray(0, r() % bytes.length);
  } else if (damage === 2 && bytes.length > 0) {
    // A few bytes changed: lengths that lie, control frames gone bad.
    bytes = bytes.slice();
    for (let k = 1 + r() % 4; k > 0; k--) {
      bytes[r() % bytes.length] = [0, 0xff, 1, 4, r() & 0xff][r() % 5]!;
    }
  }
  const max = [1 << 20, 500, 10_000, 70_000][r() % 4]!;
  return { bytes, max };
}

/** Big-endian words. */
function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(4 * i, v));
  return out;
}

Deno.test("DnstapQuietReader gives FrameReader's runs, summary and error on random streams, cut and mutated", async () => {
  const feeds: Feed[] = [
    { kind: "sync", max: Infinity },
    { kind: "async", max: 4096 },
    { kind: "stream", max: 30_000 },
  ];
  const seen = { errors: 0, oversized: 0, bigRuns: 0, clean: 0 };
  for (let seed = 1; seed <= 60; seed++) {
    const { bytes, max } = randomStream(seed);
    const feed = feeds[seed % feeds.length]!;
    for (const oversize of ["error", "skip"] as const) {
      const got = await assertSameAsFrameReader(
        bytes,
        { ...feed, seed },
        { maxFrameLength: max, oversize },
        `seed ${seed}, max ${max}, oversize ${oversize}`,
      );
      if (got.error !== null) seen.errors++;
      else seen.clean++;
      if ((got.summary.oversizedFrames as number) > 0) seen.oversized++;
      if (got.runs.some(([start, end]) => end - start > MIN_WINDOW)) {
        seen.bigRuns++;
      }
    }
  }
  // The inputs reach every path: errors, skips, frames past the window.
  for (const [what, n] of Object.entries(seen)) {
    assert.ok(n >= 5, `${what}: ${n}`);
  }
});

/** A ScanEngine view of a quiet window, the bytes copied into it first. */
function windowScanner(engine: QuietEngine, size: number): TsScanEngine {
  const w = engine.attachWindow(size);
  return {
    name: engine.name,
    get table() {
      return w.table;
    },
    out: w.out,
    scan(buf: Uint8Array, start: number, end: number, max: number): number {
      w.window.set(buf.subarray(0, end));
      return w.scan(w.window, start, end, max);
    },
  } as unknown as TsScanEngine;
}

Deno.test("the quiet window's frame scan is scanFramesTs's, on both engines, on random and mutated bytes", () => {
  const size = 1 << 17;
  const reference = new TsScanEngine();
  const scanners = ENGINES.map((e) => windowScanner(makeEngine(e), size));
  const r = rng(7);
  let faults = 0;
  for (let i = 0; i < 400; i++) {
    const { bytes: stream } = randomStream(1000 + i);
    const bytes = stream.subarray(0, Math.min(stream.length, size));
    const start = bytes.length === 0 ? 0 : r() % Math.min(bytes.length, 64);
    const max = [1 << 20, 300, 5000, 0][r() % 4]!;
    let at = start;
    for (;;) {
      const want = reference.scan(bytes, at, bytes.length, max);
      const wantOut = Array.from(reference.out);
      const wantTable = Array.from(
        reference.table.subarray(0, want * ENTRY_WORDS),
      );
      for (const s of scanners) {
        const n = s.scan(bytes, at, bytes.length, max);
        assert.equal(n, want, `${s.name}: entries, input ${i} at ${at}`);
        assert.deepEqual(Array.from(s.out), wantOut, `${s.name}: out words`);
        assert.deepEqual(
          Array.from(s.table.subarray(0, n * ENTRY_WORDS)),
          wantTable,
          `${s.name}: table`,
        );
      }
      if (wantOut[0]! > 2) faults++;
      // Table full: go on from where it stopped, as the reader does.
      if (wantOut[0] !== 2) break;
      at = wantOut[1]!;
    }
  }
  assert.ok(faults > 20, `control frame and size faults seen: ${faults}`);
  // A full table: more frames than it holds.
  const many = encodeFrameStream(
    Array.from({ length: TABLE_CAPACITY + 10 }, () => new Uint8Array(3)),
  );
  for (const s of scanners) {
    assert.equal(s.scan(many, 0, many.length, 100), TABLE_CAPACITY);
    assert.equal(s.out[0], 2);
  }
});

/** `-q` text of `bytes` through `reader` kinds and RecordSink.takeRun. */
async function quietText(
  bytes: Uint8Array,
  engine: "ts" | "wasm",
  quiet: boolean,
  limit: number,
  feed: Feed,
): Promise<{ text: string; counts: unknown; error: unknown }> {
  const chunks: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync(p: Uint8Array): number {
      chunks.push(p.slice());
      return p.length;
    },
  }, 4096);
  const sink = new RecordSink(out, {
    output: { kind: "text", format: goFormatter("-q") },
    filter: { types: null, suffixes: null, rcodes: null, clients: null },
    limit,
    engine,
  });
  assert.ok(sink.takesRuns);
  const { input, options } = feedSource(bytes, feed);
  const all = {
    engine,
    maxFrameLength: 1 << 20,
    windowSize: MIN_WINDOW,
    ...options,
  };
  const reader = quiet
    ? new DnstapQuietReader(input, sink.runEngine(), all)
    : new FrameReader(input, all);
  let error: unknown = null;
  try {
    await reader.forEachRun((window, start, end) => {
      if (!sink.takeRun(window, start, end)) throw "limit";
    });
  } catch (e) {
    if (e !== "limit") error = errorOf(e);
  }
  sink.finish();
  const text = new TextDecoder().decode(concat(...chunks));
  return { text, counts: { ...sink.counts }, error };
}

Deno.test("DnstapQuietReader through RecordSink.takeRun prints FrameReader's -q text, counts and error, --limit anywhere", async () => {
  // The CLI tests' records (some take the object path), one malformed,
  // many times over, and a big record past the window's size.
  const records = PAYLOADS;
  const big = encodeDnstap({
    ...decodeDnstap(PAYLOADS[1]!),
    extra: new Uint8Array(90_000).fill(0x41),
  });
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) payloads.push(records[i % records.length]!);
  payloads.splice(1500, 0, big, new Uint8Array([0xff]));
  const whole = encodeFrameStream(payloads, {
    contentType: "protobuf:dnstap.Dnstap",
  });
  const expectedLines = payloads.map((p) => {
    try {
      return formatDnstapQuiet(decodeDnstap(p));
    } catch {
      return null;
    }
  });
  const cases: [string, Uint8Array, number][] = [
    ["whole", whole, Infinity],
    ["--limit 1234", whole, 1234],
    ["--limit inside the big record's run", whole, 1500],
    ["cut inside a frame", whole.subarray(0, whole.length - 100), Infinity],
    [
      "a bad control frame",
      concat(whole.subarray(0, whole.length - 12), words(0, 3, 0)),
      Infinity,
    ],
  ];
  for (const [name, bytes, limit] of cases) {
    for (const engine of ENGINES) {
      for (
        const feed of [
          { kind: "sync", max: Infinity },
          { kind: "async", max: 5000, seed: 3 },
        ] as Feed[]
      ) {
        const want = await quietText(bytes, engine, false, limit, feed);
        const got = await quietText(bytes, engine, true, limit, feed);
        const what = `${name} [${engine}] ${feed.kind}`;
        assert.deepEqual(got.error, want.error, `error: ${what}`);
        assert.deepEqual(got.counts, want.counts, `counts: ${what}`);
        assert.equal(got.text, want.text, `text: ${what}`);
        if (name === "whole") {
          const lines = expectedLines.filter((l) => l !== null).join("");
          assert.equal(got.text, lines, `the object path's text: ${what}`);
        } else if (!name.startsWith("--limit")) {
          assert.notEqual(got.error, null, `an error: ${what}`);
        }
      }
    }
  }
});

Deno.test("WasmQuietEngine with a window attached: a run elsewhere is scanned without writing over the window or growing memory", () => {
  const engine = new WasmQuietEngine();
  const quiet = engine.attachWindow(MIN_WINDOW);
  const window = quiet.window;
  const fill = new Uint8Array(MIN_WINDOW).map((_, i) => i * 7);
  window.set(fill);
  const record = PAYLOADS[1]!;
  // A run larger than the window: memory would have to grow to copy it.
  const frames: Uint8Array[] = [];
  for (let size = 0; size <= MIN_WINDOW;) {
    const f = encodeDataFrame(record);
    frames.push(f);
    size += f.length;
  }
  const run = concat(...frames);
  engine.load(run, 0, run.length);
  let lines = 0;
  let text = "";
  for (let pos = 0; pos < run.length;) {
    engine.scan(pos, Infinity);
    lines += engine.results[2]!;
    text += new TextDecoder().decode(engine.output());
    if (engine.results[0] === pos) {
      // A clock wanted: set it as quietRun does.
      const sec = engine.results[3]!;
      engine.setClock(sec, "00:00:00");
    }
    pos = engine.results[0]!;
  }
  assert.equal(lines, frames.length);
  assert.ok(text.length > 0);
  // The window is still attached (memory did not grow) and as it was.
  assert.equal(window.length, MIN_WINDOW);
  assert.deepEqual(window, fill);
  // And a run in the window is scanned where it lies, by WebAssembly (its
  // output is in the window's memory, not the TypeScript engine's): a byte
  // changed in the window after load shows in the output, which a copy
  // made by load (elsewhere in memory, or to the input's start) would not.
  const one = frames[0]!;
  const from = 64;
  window.set(one, from);
  engine.load(window, from, from + one.length);
  const name = new TextEncoder().encode("example");
  const at = one.findIndex((_, i) => name.every((b, k) => one[i + k] === b));
  assert.ok(at > 0);
  window[from + at + 1] = "y".charCodeAt(0);
  engine.scan(from, Infinity);
  assert.equal(engine.results[2], 1);
  assert.equal(engine.results[0], from + one.length);
  const out = engine.output();
  assert.equal(out.buffer, window.buffer);
  assert.match(new TextDecoder().decode(out), /"www\.eyample\.com\."/);
});

Deno.test("fstrm dnstap -q: a cut file, a bad control frame, an oversized frame: the lines before the fault, FrameReader's message, exit 1", async () => {
  const { execRaw, fstrmArgs } = await import("./_cli.ts");
  // Enough records to fill a few windows, so the fault is past the first.
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) payloads.push(PAYLOADS[i % PAYLOADS.length]!);
  const file = dnstapFile(payloads);
  const big = concat(
    file.subarray(0, file.length - 12),
    encodeDataFrame(new Uint8Array(5000)),
    file.subarray(file.length - 12),
  );
  const cases: [string, Uint8Array, string[], RegExp][] = [
    [
      "cut",
      file.subarray(0, file.length - 40),
      [],
      /^fstrm dnstap: stdin: cannot decode frame: input ended inside the frame at byte \d+/,
    ],
    [
      "bad control frame",
      concat(file.subarray(0, file.length - 12), words(0, 3, 0)),
      [],
      /^fstrm dnstap: stdin: cannot decode control frame at byte \d+: its length is 3, it must be from 4 to 512/,
    ],
    [
      "oversized frame",
      big,
      ["--max-frame-length", "4000"],
      /^fstrm dnstap: stdin: cannot decode frame: data frame at byte \d+ is 5000 bytes, limit 4000\n/,
    ],
  ];
  for (const [name, bytes, extra, message] of cases) {
    for (const engine of ENGINES) {
      const args = ["dnstap", "-r", "-", "-q", "--engine", engine, ...extra];
      const run = await execRaw(Deno.execPath(), fstrmArgs(args), bytes);
      // FrameReader's path: the same file through worker threads.
      const threads = await execRaw(
        Deno.execPath(),
        fstrmArgs([...args, "--threads", "2"]),
        bytes,
      );
      const stderr = new TextDecoder().decode(run.stderr);
      const what = `${name} [${engine}]: ${stderr}`;
      assert.equal(run.code, 1, what);
      assert.match(stderr, message, what);
      assert.equal(stderr, new TextDecoder().decode(threads.stderr), what);
      assert.equal(threads.code, 1, what);
      assert.ok(run.stdout.length > 0, what);
      assert.deepEqual(run.stdout, threads.stdout, `stdout: ${what}`);
    }
  }
});
