// Private: what a fuzz target is. A target is one part of the library the
// fuzzer drives: it defines its case type (plain JSON data, see _case.ts), a
// fast-check generator of cases, and a check that runs one case and throws a
// FuzzFailure (see _assert.ts) when something breaks. Each target lives in
// fuzz/_check_<name>.ts and is registered by one line in fuzz/_targets.ts;
// the fuzzer, its worker, the replay and tests/corpus_test.ts take every
// target from there.
import type fc from "fast-check";
import type { FuzzCase } from "./_case.ts";

/** One MiB. */
export const MIB = 1 << 20;

/**
 * ArrayBuffer growth a case may cause when its target says nothing more
 * precise (see {@linkcode TargetBase.allowance}).
 */
export const DEFAULT_ALLOWANCE: number = 64 * MIB;

/** Whether a candidate still fails the same way (for minimising). */
export type StillFails<C extends FuzzCase = FuzzCase> = (
  c: C,
) => Promise<boolean>;

/** What every target has, sync or not. */
export interface TargetBase<C extends FuzzCase> {
  /**
   * The name: `--target NAME`, and the `target` field of the target's
   * cases. A new target goes last in the registry: a target's place there
   * seeds its batches (see batchSeed in _run.ts).
   */
  readonly name: C["target"];
  /** What the target drives, in a few words (for `fuzz.ts --help`). */
  readonly about: string;
  /**
   * The generator of the target's cases. A case may hold its input as
   * `bytes` (see InputSpelling): it is spelled out before it is saved.
   */
  readonly arb: fc.Arbitrary<C>;
  /**
   * ArrayBuffer bytes one case may allocate (Deno.memoryUsage().external
   * growth), checked after the case.
   *
   * @default {DEFAULT_ALLOWANCE} (64 MiB)
   */
  allowance?(c: C): number;
  /**
   * Shrinks a failing case further once fast-check has shrunk it (fast-check
   * shrinks the generator's structure, not the bytes): the smallest case
   * found that `stillFails`, within `budgetMs`. Without it, fast-check's
   * shrinking is all.
   */
  minimise?(c: C, stillFails: StillFails<C>, budgetMs: number): Promise<C>;
}

/**
 * A fuzz target: a synchronous check (run by fc.property, the faster) or an
 * asynchronous one (fc.asyncProperty). Either throws a FuzzFailure; any
 * other error escaping it counts as a crash (and so does a promise returned
 * by a check that says it is synchronous).
 */
export type FuzzTarget<C extends FuzzCase = FuzzCase> =
  | TargetBase<C> & {
    readonly sync: true;
    /** Runs every check of one case. */
    check(c: C): void;
  }
  | TargetBase<C> & {
    readonly sync: false;
    /** Runs every check of one case. */
    check(c: C): Promise<void>;
  };

/**
 * A target as the registry holds it (its case type forgotten: the registry
 * hands each target only cases whose `target` field names it).
 */
export function defineTarget<C extends FuzzCase>(
  target: FuzzTarget<C>,
): FuzzTarget {
  return target as unknown as FuzzTarget;
}
