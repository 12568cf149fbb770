// Property: FrameReader and FrameDecoder agree on random and mutated input.
import fc from "fast-check";
import { rng } from "./_support.ts";
import { encodeControlFrame } from "../mod.ts";
import { STOP } from "./_vectors.ts";
import {
  assertParity,
  dataFrame,
  type Feed,
  HOWS,
  join,
} from "./_reader_harness.ts";

// ---------------------------------------------------------------------------
// Property: FrameReader and FrameDecoder agree on random and mutated input.

/** A frame to encode: a data frame, or a control frame of any type. */
type Item =
  | { kind: "data"; length: number; seed: number }
  | { kind: "control"; type: number; contentTypes: Uint8Array[] };

const contentTypeArb = fc.uint8Array({ maxLength: 24 });
const lengthArb = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 5, arbitrary: fc.integer({ min: 301, max: 5_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 5_001, max: 140_000 }) },
);
const controlArb: fc.Arbitrary<Item> = fc.oneof(
  // START, with at most one content type.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constant(2),
    contentTypes: fc.array(contentTypeArb, { maxLength: 1 }),
  }),
  // STOP, FINISH.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(3, 5),
    contentTypes: fc.constant<Uint8Array[]>([]),
  }),
  // ACCEPT, READY.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(1, 4),
    contentTypes: fc.array(contentTypeArb, { maxLength: 3 }),
  }),
  // Unknown types.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(0, 6, 9, 0xffff_ffff),
    contentTypes: fc.array(contentTypeArb, { maxLength: 2 }),
  }),
);
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("data" as const),
      length: lengthArb,
      seed: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: controlArb },
);
/** Many small data frames in a row: windows full of frames, cut anywhere. */
const bulkArb = fc.record({
  at: fc.nat(),
  count: fc.integer({ min: 1, max: 4_000 }),
  maxLength: fc.constantFrom(8, 40, 120),
  seed: fc.nat(),
});
const streamArb = fc.record({
  start: fc.boolean(),
  contentType: fc.option(contentTypeArb, { nil: null }),
  items: fc.array(itemArb, { maxLength: 30 }),
  bulk: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: bulkArb },
  ),
  stop: fc.boolean(),
});
/** Byte changes: at a frame's first 12 bytes (headers), or anywhere; a cut. */
const mutationArb = fc.record({
  flips: fc.array(
    fc.record({
      targeted: fc.boolean(),
      frame: fc.nat(),
      at: fc.nat(11),
      anywhere: fc.nat(),
      value: fc.nat(255),
    }),
    { maxLength: 3 },
  ),
  cut: fc.oneof(fc.constant(0), fc.nat(24), fc.nat()),
});
const inputArb = fc.tuple(
  streamArb,
  fc.option(mutationArb, { nil: null, freq: 2 }),
)
  .map(([stream, mutation]) => {
    const parts: Uint8Array[] = [];
    if (stream.start) {
      parts.push(
        encodeControlFrame(
          2,
          stream.contentType === null ? [] : [stream.contentType],
        ),
      );
    }
    const bulk = stream.bulk;
    const place = bulk === null ? -1 : bulk.at % (stream.items.length + 1);
    for (let i = 0; i <= stream.items.length; i++) {
      if (i === place) {
        const r = rng(bulk!.seed);
        for (let n = 0; n < bulk!.count; n++) {
          parts.push(dataFrame(1 + r() % bulk!.maxLength, n));
        }
      }
      const item = stream.items[i];
      if (item === undefined) break;
      parts.push(
        item.kind === "data"
          ? dataFrame(item.length, item.seed)
          : encodeControlFrame(item.type, item.contentTypes),
      );
    }
    if (stream.stop) parts.push(STOP);
    const starts: number[] = [];
    let at = 0;
    for (const p of parts) {
      starts.push(at);
      at += p.length;
    }
    let bytes = join(parts);
    if (mutation !== null && bytes.length > 0) {
      for (const flip of mutation.flips) {
        const pos = flip.targeted && starts.length > 0
          ? starts[flip.frame % starts.length]! + flip.at
          : flip.anywhere % bytes.length;
        if (pos < bytes.length) bytes[pos] = flip.value;
      }
      bytes = bytes.subarray(
        0,
        bytes.length - mutation.cut % (bytes.length + 1),
      );
    }
    return bytes;
  });
const optionsArb = fc.record({
  maxFrameLength: fc.constantFrom(100, 1_000, 65_536, 1 << 20),
  oversize: fc.constantFrom("error" as const, "skip" as const),
  strict: fc.boolean(),
  windowSize: fc.constantFrom(65_536, 65_537, 70_001, 131_072, 1 << 20),
  reuseWindow: fc.boolean(),
});
const feedArb: fc.Arbitrary<Feed> = fc.record({
  kind: fc.constantFrom("sync" as const, "async" as const, "sync-off" as const),
  max: fc.constantFrom(1, 2, 3, 5, 16, 100, 1_000, 4_096, Infinity),
  seed: fc.nat(),
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] gives what FrameDecoder gives on random and mutated streams, read in random pieces`, async () => {
    await fc.assert(
      fc.asyncProperty(
        inputArb,
        optionsArb,
        feedArb,
        fc.constantFrom(...HOWS),
        async (bytes, options, feed, how) => {
          await assertParity(bytes, { ...options, engine }, how, feed);
        },
      ),
      // A failure is shrunk for two minutes at most, then reported as it is.
      {
        numRuns: 2_000,
        interruptAfterTimeLimit: 120_000,
        markInterruptAsFailure: true,
      },
    );
  });
}
