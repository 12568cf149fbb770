// The size-counting scan engines of `fstrm stats` (src/_stats_engine.ts) and
// its reader (src/cli/_stats_reader.ts): the WebAssembly engine and its
// TypeScript twin give the same table, out words and counts on random
// windows (cut frames, control frames good and bad, frames of 64 KiB and
// more, mutated bytes); their tables are those of the plain scanner; and the
// reader gives FrameReader's summary and errors with exactly the sizes a
// forEachFrame callback sees.
import assert from "node:assert/strict";
import fc from "fast-check";
import { TsWindowEngine } from "../src/_engine.ts";
import { ENTRY_WORDS, KIND_DATA, STATUS_TABLE_FULL } from "../src/_scan.ts";
import {
  DENSE_SIZES,
  type SizesEngine,
  TsSizesEngine,
  WasmSizesEngine,
} from "../src/_stats_engine.ts";
import { SCANNER_WASM } from "../src/_wasm_scanner_bytes.ts";
import { DENSE_LIMIT, SizeHistogram } from "../src/cli/_stats_histogram.ts";
import { SizeReader } from "../src/cli/_stats_reader.ts";
import { FrameReader } from "../src/frame_reader.ts";
import type { FrameSource } from "../src/_reader_types.ts";
import { control, data } from "./_scanner_harness.ts";
import { concat, ENGINES, hex } from "./_util.ts";

// ---------------------------------------------------------------------------
// Arbitraries

/** Content type lengths, mostly short, some around the 256-byte limit. */
const contentTypeLengthArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }) },
);

/** A frame: data of every size class (around 64 KiB too), control frames. */
const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.integer({ min: 1, max: 600 }).map((n) => data(n)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: DENSE_SIZES - 3, max: DENSE_SIZES + 2 })
      .map((n) => data(n)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 150_000 }).map((n) => data(n)),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom(1, 2, 3, 4, 5),
      fc.array(contentTypeLengthArb, { maxLength: 2 }),
    ).map(([type, fields]) =>
      control(type, ...(type === 3 || type === 5 ? [] : fields))
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(0, 6, 7, 0xffff_ffff),
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 2 }),
    ).map(([type, fields]) => control(type, ...fields)),
  },
);

const ratioArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** Frames, small ones sometimes repeated to fill the table. */
const streamArb: fc.Arbitrary<Uint8Array> = fc.array(
  fc.tuple(
    frameArb,
    fc.oneof(
      { weight: 10, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.integer({ min: 2, max: 5000 }) },
    ),
  ),
  { maxLength: 30 },
).map((frames) =>
  concat(
    ...frames.flatMap(([f, k]) =>
      new Array<Uint8Array>(f.length * k > 400_000 ? 1 : k).fill(f)
    ),
  )
);

/** A position in `length` bytes: mostly the start or the end, else any. */
const edgeArb = (atEnd: boolean): fc.Arbitrary<(length: number) => number> =>
  fc.oneof(
    { weight: 2, arbitrary: fc.constant((n: number) => atEnd ? n : 0) },
    {
      weight: 3,
      arbitrary: ratioArb.map((r) => (n: number) => Math.floor(r * (n + 1))),
    },
  );

/** Byte flips: [ratio of the position, new byte]. */
const mutationsArb = fc.array(
  fc.tuple(
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
    fc.integer({ min: 0, max: 255 }),
  ),
  { maxLength: 3 },
);

/** Frame length limits: mostly none, some cutting through the sizes. */
const maxArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0xffff_ffff) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1, 600, 65_535, 65_536, 0x10_0000),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xffff_ffff }) },
);

function mutate(
  bytes: Uint8Array,
  mutations: readonly [number, number][],
): Uint8Array {
  const out = bytes.slice();
  for (const [at, b] of mutations) {
    if (out.length > 0) out[Math.floor(at * out.length)] = b;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The engines

/** Windows of this many bytes: every stream of streamArb fits. */
const WINDOW = 8 << 20;

/** One scan, as plain data: the count, the entries, out words 0 to 5. */
function scanOnce(
  engine: SizesEngine | TsWindowEngine,
  start: number,
  end: number,
  max: number,
): { n: number; entries: number[]; out: number[] } {
  const n = engine.scan(start, end, max);
  return {
    n,
    entries: Array.from(engine.table.subarray(0, n * ENTRY_WORDS)),
    out: Array.from(engine.out.subarray(0, 6)),
  };
}

Deno.test("WasmSizesEngine really is WebAssembly, with no imports", () => {
  const module = new WebAssembly.Module(SCANNER_WASM);
  assert.equal(WebAssembly.Module.imports(module).length, 0);
  const engine = new WasmSizesEngine(65_536);
  assert.equal(engine.name, "wasm");
  assert.ok(engine.window.buffer !== new TsSizesEngine(1).window.buffer);
  // The counts and the window are WebAssembly memory, side by side.
  assert.equal(engine.sizes.buffer, engine.window.buffer);
  assert.equal(
    engine.sizes.byteOffset + 8 * DENSE_SIZES,
    engine.window.byteOffset,
  );
  assert.equal(DENSE_LIMIT, DENSE_SIZES);
});

Deno.test("Size engines count each data frame in the table, large ones in out[5] (vectors)", () => {
  const stream = concat(
    control(2, 3), // START, content type "aaa"
    data(1),
    data(240),
    data(240),
    data(DENSE_SIZES - 1),
    data(DENSE_SIZES), // over the dense range: out[5]
    control(9), // unknown control type: an entry, not counted
    data(7).subarray(0, 9), // cut: not counted
  );
  for (
    const engine of [new TsSizesEngine(WINDOW), new WasmSizesEngine(WINDOW)]
  ) {
    engine.window.set(stream);
    const n = engine.scan(0, stream.length, 0xffff_ffff);
    assert.equal(n, 7, engine.name);
    assert.equal(engine.out[0], 1, "STATUS_NEED_MORE at the cut frame");
    assert.equal(engine.out[1], stream.length - 9);
    assert.equal(engine.out[5], 1, "one frame of DENSE_SIZES bytes or more");
    const counted = [...engine.sizes.entries()].filter(([, c]) => c > 0);
    assert.deepEqual(
      counted,
      [[1, 1], [240, 2], [DENSE_SIZES - 1, 1]],
      engine.name,
    );
    // A scan of nothing counts nothing and clears out[5].
    assert.equal(engine.scan(5, 5, 0xffff_ffff), 0);
    assert.equal(engine.out[5], 0, engine.name);
    // A full table: 4096 frames counted, the rest at the next scan.
    const many = concat(...new Array<Uint8Array>(5000).fill(data(10)));
    engine.window.set(many);
    assert.equal(engine.scan(0, many.length, 0xffff_ffff), 4096);
    assert.equal(engine.out[0], STATUS_TABLE_FULL, engine.name);
    assert.equal(engine.sizes[10], 4096, engine.name);
    assert.equal(engine.scan(engine.out[1]!, many.length, 0xffff_ffff), 904);
    assert.equal(engine.sizes[10], 5000, engine.name);
  }
});

Deno.test("Size engines: wasm and ts give the same tables, out words and counts, and the plain scanner's tables, on random windows", () => {
  const ts = new TsSizesEngine(WINDOW);
  const wasm = new WasmSizesEngine(WINDOW);
  const plain = new TsWindowEngine(WINDOW);
  // The counts the tables say, kept by hand.
  const expected = new Float64Array(DENSE_SIZES);
  let cases = 0;
  fc.assert(
    fc.property(
      streamArb,
      mutationsArb,
      maxArb,
      edgeArb(false),
      edgeArb(true),
      (stream, mutations, max, a, b) => {
        // From the start or anywhere, to the end or anywhere (cutting a
        // frame, most likely).
        const bytes = mutate(stream, mutations);
        const x = a(bytes.length);
        const y = b(bytes.length);
        const [from, to] = [Math.min(x, y), Math.max(x, y)];
        for (const e of [ts, wasm, plain]) e.window.set(bytes);
        let at = from;
        for (;;) {
          const p = scanOnce(plain, at, to, max);
          const t = scanOnce(ts, at, to, max);
          const w = scanOnce(wasm, at, to, max);
          const label = `window [${at}, ${to}) max ${max}`;
          assert.deepEqual(w, t, label);
          assert.deepEqual(t.entries, p.entries, label);
          assert.deepEqual(t.out.slice(0, 5), p.out.slice(0, 5), label);
          let large = 0;
          for (let e = 0; e < t.entries.length; e += ENTRY_WORDS) {
            if (t.entries[e + 2] !== KIND_DATA) continue;
            const length = t.entries[e + 1]!;
            if (length < DENSE_SIZES) expected[length]!++;
            else large++;
          }
          assert.equal(t.out[5], large, label);
          if (t.out[0] !== STATUS_TABLE_FULL || t.out[1] === at) break;
          at = t.out[1]!;
        }
        for (let s = 0; s < DENSE_SIZES; s++) {
          if (ts.sizes[s] !== expected[s] || wasm.sizes[s] !== expected[s]) {
            assert.fail(
              `size ${s}: ts ${ts.sizes[s]}, wasm ${wasm.sizes[s]}, tables ${
                expected[s]
              }`,
            );
          }
        }
        cases++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.equal(cases, 3000);
});

// ---------------------------------------------------------------------------
// The reader

/** A source of `bytes` in reads of pseudo-random sizes, sync or not. */
function source(bytes: Uint8Array, seed: number, sync: boolean): FrameSource {
  let at = 0;
  let s = seed >>> 0 || 1;
  const readSync = (buffer: Uint8Array): number | null => {
    if (at === bytes.length) return null;
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const want = 1 + (s % (buffer.length < 300_000 ? buffer.length : 300_000));
    const n = Math.min(want, buffer.length, bytes.length - at);
    buffer.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
  return sync
    ? { read: (b) => Promise.resolve(readSync(b)), readSync }
    : { read: (b) => Promise.resolve(readSync(b)) };
}

/** An error as comparable data. */
function plainError(e: unknown): Record<string, unknown> | null {
  if (e === null) return null;
  const x = e as Error & { offset?: number };
  return { name: x.name, message: x.message, offset: x.offset };
}

const START = control(2, 22);
const STOP = hex(`00000000 00000004 00000003`);

Deno.test("SizeReader gives FrameReader's summary and errors, and the sizes forEachFrame sees", async () => {
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(
      streamArb,
      fc.constantFrom("whole", "cut", "mutated"),
      mutationsArb,
      fc.constantFrom(65_536, 131_072, 1 << 20),
      fc.constantFrom(65_535, 200_000, 0xffff_ffff),
      fc.constantFrom(...ENGINES),
      fc.integer({ min: 1, max: 0x7fff_ffff }),
      fc.boolean(),
      async (frames, shape, mutations, windowSize, max, engine, seed, sync) => {
        let bytes = concat(START, frames, STOP);
        if (shape === "cut") bytes = bytes.subarray(0, seed % bytes.length);
        if (shape === "mutated") bytes = mutate(bytes, mutations);
        const options = { engine, maxFrameLength: max, windowSize };

        const reference = new FrameReader(source(bytes, seed, sync), options);
        const sizes = new SizeHistogram();
        let refError: unknown = null;
        try {
          await reference.forEachFrame((_w, _o, length) => sizes.add(length));
        } catch (e) {
          refError = e;
        }

        const reader = new SizeReader(source(bytes, seed, sync), options);
        let error: unknown = null;
        try {
          await reader.read();
        } catch (e) {
          error = e;
        }
        const label = `${engine}, window ${windowSize}, max ${max}`;
        assert.deepEqual(plainError(error), plainError(refError), label);
        assert.deepEqual(reader.summary, reference.summary, label);
        assert.deepEqual(reader.histogram.summary(), sizes.summary(), label);
        assert.deepEqual(
          reader.histogram.summary(reader.summary.frames),
          sizes.summary(),
          label,
        );
        assert.equal(reader.histogram.count, reader.summary.frames, label);
        assert.deepEqual(
          [...reader.histogram.sparse].sort(([x], [y]) => x - y),
          [...sizes.sparse].sort(([x], [y]) => x - y),
          label,
        );
        for (let s = 0; s < DENSE_LIMIT; s++) {
          if (reader.histogram.dense[s] !== sizes.dense[s]) {
            assert.fail(`${label}: size ${s}`);
          }
        }
        cases++;
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(cases, 300);
});

Deno.test("SizeReader counts a frame larger than its window, read into a buffer of its own", async () => {
  // 65,533 bytes: over a 64 KiB window with its length word, yet in the
  // dense range; 300,000: over both.
  const bytes = concat(START, data(65_533), data(300_000), data(10), STOP);
  for (const engine of ENGINES) {
    const reader = new SizeReader(source(bytes, 7, true), {
      engine,
      maxFrameLength: 0xffff_ffff,
      windowSize: 65_536,
    });
    const summary = await reader.read();
    assert.equal(summary.frames, 3);
    assert.equal(summary.engine, engine);
    assert.deepEqual(reader.histogram.summary(), {
      min: 10,
      median: 65_533,
      p99: 300_000,
      max: 300_000,
    });
    assert.deepEqual([...reader.histogram.sparse], [[300_000, 1]]);
  }
});
