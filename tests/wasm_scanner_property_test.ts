// Property: the WebAssembly scanner agrees with the TS scanner on random
// streams, mutations, malformed control frames and random bytes.
import fc from "fast-check";
import { concat, hex } from "./_util.ts";

import { assertSame, control, data, engines, u32 } from "./_scanner_harness.ts";

// ---------------------------------------------------------------------------
// Property tests: random streams (valid but for content types over 256
// bytes), random mutations of them, malformed control frames, random words.

/** Content type lengths, mostly short, some around the 256-byte limit. */
const contentTypeLengthArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }) },
);

/** A frame of any kind and size. */
const frameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }).map((n) => data(n)) },
  {
    weight: 4,
    arbitrary: fc.integer({ min: 41, max: 600 }).map((n) => data(n)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 10_000, max: 70_000 }).map((n) => data(n)),
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

/** Frames, some repeated (up to 100 KB a run) to fill the table. */
const streamArb: fc.Arbitrary<Uint8Array> = fc.array(
  fc.tuple(
    frameArb,
    fc.oneof(
      { weight: 20, arbitrary: fc.constant(1) },
      { weight: 1, arbitrary: fc.integer({ min: 2, max: 1500 }) },
    ),
  ),
  { maxLength: 30 },
).map((frames) =>
  concat(
    ...frames.flatMap(([f, k]) =>
      new Array<Uint8Array>(f.length * k > 100_000 ? 1 : k).fill(f)
    ),
  )
);

const maxArb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(1, 16, 600, 65_536, 0x10_0000, 0xffff_fffe, 0xffff_ffff),
  fc.integer({ min: 1, max: 0xffff_ffff }),
);

/** A window [start, end) of a buffer of `length` bytes, from two ratios. */
function window(length: number, a: number, b: number): [number, number] {
  const x = Math.floor(a * (length + 1));
  const y = Math.floor(b * (length + 1));
  return [Math.min(x, y), Math.max(x, y)];
}

const ratioArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

// One pair of engines for every run: scans follow one another as in a
// decoder, so stale out words are compared too.
const [propTs, propWasm] = engines();

/**
 * Asserts both engines agree on `numRuns` inputs from `bytesArb`, each scanned
 * whole or in a random window, under a random maxFrameLength.
 */
function assertAgree(
  bytesArb: fc.Arbitrary<Uint8Array>,
  numRuns: number,
): void {
  fc.assert(
    fc.property(
      bytesArb,
      maxArb,
      fc.boolean(),
      ratioArb,
      ratioArb,
      (bytes, max, whole, a, b) => {
        const [start, end] = whole
          ? [0, bytes.length]
          : window(bytes.length, a, b);
        assertSame(propTs, propWasm, bytes, start, end, max);
      },
    ),
    { numRuns },
  );
}

Deno.test("WasmScanEngine agrees on random streams", () => {
  assertAgree(streamArb, 8000);
});

Deno.test("WasmScanEngine agrees on mutated streams", () => {
  const mutatedArb = fc.tuple(
    streamArb,
    fc.array(
      fc.tuple(
        ratioArb,
        fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(0, 0xff, 1, 2, 4),
        ),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  ).map(([bytes, edits]) => {
    const out = bytes.slice();
    for (const [r, v] of edits) {
      if (out.length > 0) out[Math.floor(r * out.length)] = v;
    }
    return out;
  });
  assertAgree(mutatedArb, 12000);
});

Deno.test("WasmScanEngine agrees on malformed control frames", () => {
  // Control frames whose clen, field types and field lengths may lie, with
  // junk after the fields: every control check fires, in every order.
  const fieldArb = fc.record({
    ftype: fc.constantFrom(1, 1, 1, 0, 2, 0xffff_ffff),
    length: contentTypeLengthArb,
    lie: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: -9, max: 9 }) },
      { weight: 1, arbitrary: fc.constantFrom(0x7fff_ffff, 0xffff_ffff) },
    ),
  });
  const lyingArb = fc.record({
    type: fc.constantFrom(1, 2, 3, 4, 5, 0, 6),
    fields: fc.array(fieldArb, { maxLength: 3 }),
    junk: fc.integer({ min: 0, max: 9 }),
    clenLie: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: -12, max: 12 }) },
      { weight: 1, arbitrary: fc.integer({ min: 500, max: 520 }) },
    ),
  }).map(({ type, fields, junk, clenLie }) => {
    const parts = [hex(u32(type))];
    for (const { ftype, length, lie } of fields) {
      parts.push(
        hex(`${u32(ftype)} ${u32(length + lie)}`),
        new Uint8Array(length).fill(0x61),
      );
    }
    parts.push(new Uint8Array(junk).fill(0xee));
    const body = concat(...parts);
    const clen = clenLie >= 500 ? clenLie : body.length + clenLie;
    return concat(hex(`00000000 ${u32(clen)}`), body);
  });
  const streamArb = fc.array(
    fc.oneof(lyingArb, frameArb),
    { minLength: 1, maxLength: 4 },
  ).map((frames) => concat(...frames));
  assertAgree(streamArb, 8000);
});

Deno.test("WasmScanEngine agrees on random bytes", () => {
  // Short random windows hit the header, clen and field checks in every
  // order; the words are biased towards the values those checks care about.
  const wordArb = fc.oneof(
    fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 12, 256, 257, 512, 513, 0xffff_ffff),
    fc.integer({ min: 0, max: 0xffff_ffff }),
  );
  const bytesArb = fc.tuple(
    fc.array(wordArb, { maxLength: 40 }),
    fc.integer({ min: 0, max: 3 }),
  ).map(([words, cut]) => {
    const bytes = new Uint8Array(words.length * 4);
    const view = new DataView(bytes.buffer);
    words.forEach((w, i) => view.setUint32(i * 4, w));
    return bytes.subarray(0, Math.max(0, bytes.length - cut));
  });
  fc.assert(
    fc.property(bytesArb, maxArb, (bytes, max) => {
      assertSame(propTs, propWasm, bytes, 0, bytes.length, max);
    }),
    { numRuns: 5000 },
  );
});
