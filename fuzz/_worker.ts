// Private: the fuzzing worker. fuzz.ts runs the cases here, in a worker,
// so that a case that never returns (a hang) or kills its isolate can be
// stopped from outside and saved. The worker says where it is through a
// SharedArrayBuffer (the batch and case it runs, a tick per case): fuzz.ts
// watches it, and on a stall terminates the worker and regenerates the case
// from the seed, batch and index (see regenerate() in _run.ts).
//
// Cases come in batches: batch b of target t is fast-check's run of
// `batchSize` cases from seed batchSeed(seed, t, b); case i of it is
// fast-check's run i. A failing run is posted at once, then shrunk (by
// fast-check, then by the target's own minimise if it has one: byte by byte
// for the decoder and the reader) and posted again.
import fc from "fast-check";
import { FuzzFailure } from "./_assert.ts";
import { failureClass, type FuzzCase, spelled } from "./_case.ts";
import { type Bounds, checkCase, checkCaseSync } from "./_check.ts";
import {
  batchSeed,
  BEAT_BATCH,
  BEAT_CASES,
  BEAT_INDEX,
  BEAT_PHASE,
  BEAT_TICK,
  PHASE_CASE,
  PHASE_IDLE,
  PHASE_SHRINK,
  type RunRequest,
  type WorkerMessage,
} from "./_run.ts";
import type { FuzzTarget } from "./_target.ts";
import { targetNamed } from "./_targets.ts";

declare const self: {
  onmessage: ((e: MessageEvent<RunRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
  close(): void;
};

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

/** The failure of a case, or null if it passes. */
async function failureOf(
  c: FuzzCase,
  bounds: Bounds,
): Promise<FuzzFailure | null> {
  try {
    await checkCase(c, bounds);
    return null;
  } catch (e) {
    return e instanceof FuzzFailure
      ? e
      : new FuzzFailure("crash", `harness: ${String(e)}`);
  }
}

async function run(req: RunRequest): Promise<void> {
  const beat = new Int32Array(req.sab);
  const target = targetNamed(req.target);
  const { arb } = target;
  const { bounds } = req;
  let cases = 0;
  let failures = 0;
  for (let batch = req.firstBatch;; batch++) {
    const left = req.iterations === null ? Infinity : req.iterations - cases;
    const remaining = req.deadline - Date.now();
    if (left <= 0 || remaining <= 0 || failures >= req.maxFailures) break;
    const seed = batchSeed(req.seed, req.target, batch);
    Atomics.store(beat, BEAT_BATCH, batch);
    let index = -1;
    const enter = () => {
      index++;
      Atomics.store(beat, BEAT_INDEX, index);
      Atomics.store(beat, BEAT_PHASE, PHASE_CASE);
      Atomics.add(beat, BEAT_TICK, 1);
    };
    const leave = () => {
      Atomics.store(beat, BEAT_PHASE, PHASE_IDLE);
      Atomics.add(beat, BEAT_CASES, 1);
    };
    const numRuns = Math.min(req.batchSize, left);
    const params = {
      seed,
      numRuns,
      endOnFailure: true,
      interruptAfterTimeLimit: remaining,
    };
    const details = target.sync
      ? fc.check(
        fc.property(arb, (c: FuzzCase) => {
          enter();
          try {
            checkCaseSync(target, c, bounds);
          } finally {
            leave();
          }
        }),
        params,
      )
      : await fc.check(
        fc.asyncProperty(arb, async (c: FuzzCase) => {
          enter();
          try {
            await checkCase(c, bounds);
          } finally {
            leave();
          }
        }),
        params,
      );
    cases += details.numRuns;
    if (!details.failed || details.counterexample === null) continue;
    failures++;
    const found = details.counterexample[0] as FuzzCase;
    const error = details.errorInstance;
    const failure = error instanceof FuzzFailure
      ? error
      : new FuzzFailure("crash", `harness: ${String(error)}`);
    const where = { batch, index: Number(details.counterexamplePath ?? index) };
    post({
      type: "failure",
      stage: "found",
      target: req.target,
      kind: failure.kind,
      message: failure.message,
      case: spelled(found),
      ...where,
    });
    if (failure.kind === "hang") continue;
    const shrunk = await shrink(
      target,
      found,
      failure,
      seed,
      details.counterexamplePath ?? "0",
      bounds,
      beat,
    );
    post({
      type: "failure",
      stage: "minimised",
      target: req.target,
      kind: shrunk.failure.kind,
      message: shrunk.failure.message,
      case: spelled(shrunk.case),
      ...where,
    });
  }
  post({ type: "done", cases });
}

/**
 * Shrinks a failing case: fast-check's shrinking from its run (replayed by
 * path), keeping only failures of the same class (see failureClass), then
 * byte by byte.
 */
async function shrink(
  target: FuzzTarget,
  found: FuzzCase,
  original: FuzzFailure,
  seed: number,
  path: string,
  bounds: Bounds,
  beat: Int32Array,
): Promise<{ case: FuzzCase; failure: FuzzFailure }> {
  Atomics.store(beat, BEAT_PHASE, PHASE_SHRINK);
  const tick = () => Atomics.add(beat, BEAT_TICK, 1);
  const kind = original.kind;
  const wanted = failureClass(kind, original.message);
  const sameKind = async (c: FuzzCase): Promise<FuzzFailure | null> => {
    tick();
    const f = await failureOf(c, bounds);
    return f !== null && failureClass(f.kind, f.message) === wanted ? f : null;
  };
  let best: FuzzCase = found;
  try {
    const details = await fc.check(
      fc.asyncProperty(target.arb, async (c: FuzzCase) => {
        const f = await sameKind(c);
        if (f !== null) throw f;
      }),
      { seed, path, interruptAfterTimeLimit: 20_000 },
    );
    if (details.failed && details.counterexample !== null) {
      best = details.counterexample[0] as FuzzCase;
    }
    if (target.minimise !== undefined) {
      best = await target.minimise(
        best,
        async (c) => (await sameKind(c)) !== null,
        10_000,
      );
    }
  } finally {
    Atomics.store(beat, BEAT_PHASE, PHASE_IDLE);
  }
  const failure = (await failureOf(best, bounds)) ??
    // Flaky: keep what fast-check found.
    (best = found,
      (await failureOf(found, bounds)) ??
        new FuzzFailure(kind, "the failure does not reproduce"));
  return { case: best, failure };
}

self.onmessage = (e: MessageEvent<RunRequest>) => {
  run(e.data).catch((error) => {
    post({
      type: "error",
      message: error instanceof Error
        ? error.stack ?? error.message
        : String(error),
    });
  });
};
