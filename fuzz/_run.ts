// Private: what fuzz.ts and its worker share: the messages, the heartbeat
// layout, the seed of each batch, and how to regenerate one case.
import fc from "fast-check";
import { type FailureKind, type FuzzCase, spelled } from "./_case.ts";
import type { Bounds } from "./_check.ts";
import { TARGET_NAMES, targetNamed } from "./_targets.ts";

/** Heartbeat words (Int32Array over the SharedArrayBuffer). */
export const BEAT_BATCH = 0;
export const BEAT_INDEX = 1;
export const BEAT_PHASE = 2;
export const BEAT_TICK = 3;
export const BEAT_CASES = 4;
export const BEAT_WORDS = 8;

/** Phases: between cases, in a case, shrinking a failure. */
export const PHASE_IDLE = 0;
export const PHASE_CASE = 1;
export const PHASE_SHRINK = 2;

/** What fuzz.ts asks its worker to run. */
export interface RunRequest {
  /** The target's name. */
  target: string;
  seed: number;
  firstBatch: number;
  /** Cases to run, or null to run until `deadline`. */
  iterations: number | null;
  /** Date.now() at which to stop. */
  deadline: number;
  batchSize: number;
  maxFailures: number;
  bounds: Bounds;
  sab: SharedArrayBuffer;
}

/** What the worker tells fuzz.ts. */
export type WorkerMessage =
  | {
    type: "failure";
    /** "found": as generated; "minimised": after shrinking. */
    stage: "found" | "minimised";
    target: string;
    kind: FailureKind;
    message: string;
    case: FuzzCase;
    batch: number;
    index: number;
  }
  | { type: "done"; cases: number }
  | { type: "error"; message: string };

/** The fast-check seed of batch `batch` of `target` (a 31-bit integer). */
export function batchSeed(seed: number, target: string, batch: number): number {
  let h = 0x9e37_79b9 ^ (seed >>> 0);
  for (
    const word of [
      TARGET_NAMES.indexOf(target) + 1,
      batch >>> 0,
      Math.floor(batch / 2 ** 32),
    ]
  ) {
    h = Math.imul(h ^ word, 0x85eb_ca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2_ae35);
    h ^= h >>> 16;
  }
  return h & 0x7fff_ffff;
}

/** Case `index` of batch `batch`, exactly as the worker generated it. */
export function regenerate(
  seed: number,
  target: string,
  batch: number,
  index: number,
): FuzzCase {
  let got: FuzzCase | null = null;
  fc.check(
    fc.property(targetNamed(target).arb, (c: FuzzCase) => {
      got = c;
    }),
    { seed: batchSeed(seed, target, batch), path: String(index), numRuns: 1 },
  );
  if (got === null) {
    throw new Error(`Cannot regenerate case ${index} of batch ${batch}`);
  }
  return spelled(got);
}
