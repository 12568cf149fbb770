// Private: decoder options as fuzz cases hold them (the decoder and reader
// targets share them): how they are generated (mostly valid, some huge, some
// invalid), how a check reads them as the constructors do, and what an
// invalid set must make a constructor throw.
import fc from "fast-check";
import type { Engine, FrameDecoderOptions } from "../mod.ts";
import { MAX_TESTED_LENGTH, optionsArb } from "../tests/_streams.ts";
import { describeThrown, fail } from "./_assert.ts";
import { caseInput, type InputSpelling } from "./_case.ts";
import { DEFAULT_ALLOWANCE } from "./_target.ts";
import type { ModelOptions } from "./_model.ts";

/**
 * Decoder options as a case holds them: usually valid, now and then not
 * (then the constructors must throw a TypeError or RangeError, nothing else).
 */
export interface CaseOptions {
  /** FrameDecoderOptions.maxFrameLength, or a value it must refuse. */
  maxFrameLength?: number | string | null;
  /** FrameDecoderOptions.oversize, or a value it must refuse. */
  oversize?: string | null;
  /** FrameDecoderOptions.strict. */
  strict?: boolean;
}

const HUGE_LIMITS = [
  0xffff_ffff,
  0xffff_fffe,
  0x8000_0001,
  0x8000_0000,
  0x7fff_ffff,
  MAX_TESTED_LENGTH,
];

/** Decoder options: mostly those of the property tests, some huge, some invalid. */
export const fuzzOptionsArb: fc.Arbitrary<CaseOptions> = fc.oneof(
  { weight: 16, arbitrary: optionsArb as fc.Arbitrary<CaseOptions> },
  {
    weight: 1,
    arbitrary: fc.record({
      maxFrameLength: fc.constantFrom(...HUGE_LIMITS),
      oversize: fc.constantFrom("error", "skip"),
      strict: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.record({
        maxFrameLength: fc.constantFrom<number | string | null>(
          0,
          -1,
          1.5,
          0x1_0000_0000,
          1e300,
          "1024",
          null,
        ),
      }),
      fc.record({ oversize: fc.constantFrom("drop", "", "ERROR", null) }),
    ),
  },
);

/** Valid options: as the model and as the constructors take them. */
export interface ValidOptions {
  /** For the reference model. */
  options: ModelOptions;
  /** For FrameDecoder and FrameReader (without the engine). */
  decoder: FrameDecoderOptions;
}

/**
 * A case's options if they are valid. Invalid ones must make `make` (with
 * each engine) throw the documented TypeError or RangeError, and nothing
 * else: once it did, null.
 */
export function validOptions(
  o: CaseOptions,
  what: string,
  make: (options: FrameDecoderOptions & { engine: Engine }) => unknown,
): ValidOptions | null {
  const opts = readOptions(o);
  if (!("error" in opts)) return opts;
  for (const engine of ["ts", "wasm"] as const) {
    expectOptionsError(
      () => make({ ...rawOptions(o), engine }),
      opts.error,
      `${what} [${engine}]`,
    );
  }
  return null;
}

/** A case's options, checked as the constructors check them. */
function readOptions(
  o: CaseOptions,
): ValidOptions | { error: "TypeError" | "RangeError" } {
  const max = o.maxFrameLength === undefined ? 1_048_576 : o.maxFrameLength;
  const oversize = o.oversize === undefined ? "error" : o.oversize;
  if (typeof max !== "number" || !Number.isInteger(max)) {
    return { error: "TypeError" };
  }
  if (max < 1 || max > 0xffff_ffff) return { error: "RangeError" };
  if (oversize !== "error" && oversize !== "skip") {
    return { error: "TypeError" };
  }
  const decoder: FrameDecoderOptions = {};
  if (o.maxFrameLength !== undefined) decoder.maxFrameLength = max;
  if (o.oversize !== undefined) decoder.oversize = oversize;
  if (o.strict !== undefined) decoder.strict = o.strict;
  return {
    options: {
      maxFrameLength: max,
      skipOversize: oversize === "skip",
      strict: o.strict === true,
    },
    decoder,
  };
}

/** The options as the constructors get them, invalid values included. */
function rawOptions(o: CaseOptions): FrameDecoderOptions {
  const out: Record<string, unknown> = {};
  if (o.maxFrameLength !== undefined) out.maxFrameLength = o.maxFrameLength;
  if (o.oversize !== undefined) out.oversize = o.oversize;
  if (o.strict !== undefined) out.strict = o.strict;
  return out as FrameDecoderOptions;
}

/** Checks that making `what` with invalid options throws `expected`, only. */
function expectOptionsError(
  make: () => unknown,
  expected: "TypeError" | "RangeError",
  what: string,
): void {
  try {
    make();
  } catch (e) {
    const ok = expected === "TypeError"
      ? e instanceof TypeError
      : e instanceof RangeError;
    if (!ok || !(e as Error).message.startsWith("Cannot create")) {
      fail(
        "crash",
        `${what} with invalid options threw ${
          describeThrown(e)
        }, expected a ${expected}`,
      );
    }
    return;
  }
  fail(
    "invariant",
    `${what} accepted invalid options (expected a ${expected})`,
  );
}

/**
 * ArrayBuffer bytes a decoder or reader case may allocate: frames its
 * decoders may assemble.
 */
export function frameAllowance(
  c: InputSpelling & { options: CaseOptions },
): number {
  const opts = readOptions(c.options);
  const max = "error" in opts ? 0 : opts.options.maxFrameLength;
  const input = caseInput(c).length;
  // decoder: 4 decoders; reader: 2 readers and 1 decoder. Each may assemble
  // one frame at a time (garbage of earlier ones is counted too: at most
  // the input again).
  return 5 * (max + 8) + 16 * input + DEFAULT_ALLOWANCE;
}
