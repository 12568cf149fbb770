// Private: the decoder fuzz target. The input, cut into chunks and pulled as
// the case says, goes through FrameDecoder with engine "ts" and "wasm", with
// next() and with next(onData) (whose onData may throw now and then). All
// four must give the same frames (offsets, payloads, types, content types,
// views or copies, the chunk after which each came out), the same error
// (class, message, every field; thrown again by every later call), the same
// counters after every chunk. They must also match the reference model
// (_model.ts): same frames, same error class and fields, same counters; and
// keep the invariants observe() checks frame by frame (_observe_decoder.ts).
// Any thrown error must be one of FrameTooLargeError, TruncatedFrameError,
// ControlFrameError, UnexpectedFrameError; invalid options must make the
// constructor throw a TypeError or RangeError, as documented.
import fc from "fast-check";
import { type Engine, FrameDecoder } from "../mod.ts";
import {
  type Chunking,
  chunkingArb,
  control,
  cutInto,
  data,
  pullsFor,
} from "../tests/_streams.ts";
import { concat } from "../tests/_util.ts";
import { assertSame } from "./_assert.ts";
import { caseInput, type FuzzCase, type InputSpelling } from "./_case.ts";
import { decoderBytesArb, text } from "./_input_arbs.ts";
import { reduceBytes } from "./_minimise.ts";
import { decodeModel } from "./_model.ts";
import {
  assertModel,
  cutChunks,
  type DecoderInput,
  observe,
  type Observed,
} from "./_observe_decoder.ts";
import {
  type CaseOptions,
  frameAllowance,
  fuzzOptionsArb,
  validOptions,
} from "./_options.ts";
import { defineTarget, type FuzzTarget } from "./_target.ts";

/** Bytes through FrameDecoder: both engines, next() and next(onData). */
export interface DecoderCase extends FuzzCase, InputSpelling {
  target: "decoder";
  /** Where the input is cut into chunks (sorted offsets). */
  cuts: number[];
  /** One digit per chunk: "1" pulls frames after that chunk, "0" does not. */
  pulls: string;
  /** The decoders' options. */
  options: CaseOptions;
  /** next(onData)'s onData throws on every data frame whose index is a multiple of this (0: never). */
  throwEvery?: number;
}

// ---------------------------------------------------------------------------
// Cases.

/** A stream whose data frames are one byte under, at and over the limit. */
const atTheLimitArb: fc.Arbitrary<{ bytes: Uint8Array; options: CaseOptions }> =
  fc.record({
    max: fc.oneof(
      fc.integer({ min: 1, max: 600 }),
      fc.constantFrom(65_535, 65_536, 65_537, 1_048_576),
    ),
    deltas: fc.array(fc.integer({ min: -2, max: 2 }), {
      minLength: 1,
      maxLength: 4,
    }),
    oversize: fc.constantFrom("error", "skip"),
    strict: fc.boolean(),
    stop: fc.boolean(),
    cut: fc.nat(),
  }).map(({ max, deltas, oversize, strict, stop, cut }) => {
    const parts = [control(2, [text("protobuf:dnstap.Dnstap")])];
    for (const d of deltas) {
      const length = Math.max(1, max + d);
      parts.push(data(new Uint8Array(length).fill(length & 0xff)));
    }
    if (stop) parts.push(control(3));
    let bytes = concat(...parts);
    // Now and then cut short (inside a skipped frame, say).
    if (cut % 3 === 0) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return { bytes, options: { maxFrameLength: max, oversize, strict } };
  });

/** A decoder case of `bytes` cut and pulled as `chunking` says. */
function decoderCase(
  bytes: Uint8Array,
  chunking: Chunking,
  options: CaseOptions,
  throwEvery: number,
): DecoderCase {
  const chunks = cutInto(bytes, chunking);
  const cuts: number[] = [];
  let at = 0;
  for (const c of chunks.slice(0, -1)) cuts.push(at += c.length);
  return {
    target: "decoder",
    bytes,
    cuts,
    pulls: pullsFor(chunking, chunks.length).map(Number).join(""),
    options,
    throwEvery,
  } satisfies DecoderCase & { bytes: Uint8Array };
}

const throwEveryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
);

/** Cases of the decoder target. */
const decoderCaseArb: fc.Arbitrary<DecoderCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(
      decoderBytesArb,
      chunkingArb(40),
      fuzzOptionsArb,
      throwEveryArb,
    ).map(([bytes, chunking, options, t]) =>
      decoderCase(bytes, chunking, options, t)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(atTheLimitArb, chunkingArb(12), throwEveryArb).map((
      [{ bytes, options }, chunking, t],
    ) => decoderCase(bytes, chunking, options, t)),
  },
);

// ---------------------------------------------------------------------------
// Checks.

/** Runs every check of a decoder case. */
function checkDecoder(c: DecoderCase): void {
  const bytes = caseInput(c);
  const opts = validOptions(
    c.options,
    "FrameDecoder",
    (options) => new FrameDecoder(options),
  );
  if (opts === null) return;
  const chunks = cutChunks(bytes, c.cuts);
  const pulls = chunks.chunks.map((_, i) => (c.pulls[i] ?? "1") !== "0");
  const model = decodeModel(bytes, opts.options);
  const input: DecoderInput = {
    bytes,
    chunks,
    pulls,
    options: opts.decoder,
    model,
    maxFrameLength: opts.options.maxFrameLength,
  };
  const run = (engine: Engine, api: "next" | "nextOnData") =>
    observe(input, {
      engine,
      api,
      throwEvery: api === "nextOnData" ? c.throwEvery ?? 0 : 0,
    });
  const ts = run("ts", "next");
  assertModel(bytes, ts, model, "FrameDecoder [ts] next()");
  const wasm = run("wasm", "next");
  assertSame(wasm, ts, "FrameDecoder engines wasm and ts disagree (next())");
  // next(onData) gives what next() gives, data frames without their offset.
  const expected: Observed = {
    ...ts,
    frames: ts.frames.map((f) => f.kind === "data" ? { ...f, offset: -1 } : f),
  };
  for (const engine of ["ts", "wasm"] as const) {
    assertSame(
      run(engine, "nextOnData"),
      expected,
      `FrameDecoder [${engine}] next(onData) and next() disagree`,
    );
  }
}

/** The decoder target. */
export const decoderTarget: FuzzTarget = defineTarget<DecoderCase>({
  name: "decoder",
  about: "FrameDecoder, both engines, next() and next(onData)",
  arb: decoderCaseArb,
  sync: true,
  check: checkDecoder,
  allowance: frameAllowance,
  minimise: reduceBytes,
});
