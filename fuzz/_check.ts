// Private: one case through its target's checks, within the bounds. This is
// what fuzz/fuzz.ts (on generated cases, in its worker) and
// tests/corpus_test.ts (on the saved ones, through _replay.ts) run: one case
// in, nothing out, or a FuzzFailure saying what broke. What each target
// checks is said at the top of its module (fuzz/_check_<target>.ts).
//
// Bounds, for every case: wall time (performance.now()) at most
// `caseTimeoutMs`; resident memory (Deno.memoryUsage().rss) growing at most
// `rssLimit` bytes within the case; ArrayBuffer memory of this isolate
// (Deno.memoryUsage().external) growing at most what the case may hold (its
// target's allowance: for the decoder and the reader, one frame of
// maxFrameLength + 8 per decoder or reader, plus a few times the input).
import { describeThrown, FuzzFailure } from "./_assert.ts";
import type { FuzzCase } from "./_case.ts";
import { DEFAULT_ALLOWANCE, type FuzzTarget, MIB } from "./_target.ts";
import { targetNamed } from "./_targets.ts";

/** The per-case bounds. */
export interface Bounds {
  /** Wall time of one case, in milliseconds. */
  caseTimeoutMs: number;
  /** Growth of the process's resident memory within one case, in bytes. */
  rssLimit: number;
}

/** 2 s and 512 MiB. */
export const DEFAULT_BOUNDS: Bounds = {
  caseTimeoutMs: 2_000,
  rssLimit: 512 << 20,
};

/**
 * Runs every check of `c` within `bounds`; throws a {@linkcode FuzzFailure}
 * if one fails. Any other error escaping a check is reported as a crash.
 */
export async function checkCase(
  c: FuzzCase,
  bounds: Bounds = DEFAULT_BOUNDS,
): Promise<void> {
  const target = targetNamed(c.target);
  if (target.sync) return checkCaseSync(target, c, bounds);
  const before = measure();
  try {
    await target.check(c);
  } catch (e) {
    throw asFailure(e);
  }
  checkBounds(before, bounds, allowance(target, c));
}

/** {@linkcode checkCase} for a target that runs synchronously. */
export function checkCaseSync(
  target: FuzzTarget & { sync: true },
  c: FuzzCase,
  bounds: Bounds = DEFAULT_BOUNDS,
): void {
  const before = measure();
  let result: unknown;
  try {
    result = target.check(c);
  } catch (e) {
    throw asFailure(e);
  }
  if (result instanceof Promise) {
    // A check that returns a promise would go unwaited: say so, loudly.
    result.catch(() => {});
    throw new FuzzFailure(
      "crash",
      `harness: target ${target.name} says it is synchronous, yet its check returned a promise`,
    );
  }
  checkBounds(before, bounds, allowance(target, c));
}

/** A thrown value as a FuzzFailure: a crash unless it is one already. */
function asFailure(e: unknown): FuzzFailure {
  if (e instanceof FuzzFailure) return e;
  return new FuzzFailure(
    "crash",
    `uncaught ${describeThrown(e)}${
      e instanceof Error && e.stack ? `\n${e.stack}` : ""
    }`,
  );
}

/** ArrayBuffer bytes a case of `target` may allocate. */
function allowance(target: FuzzTarget, c: FuzzCase): number {
  return target.allowance?.(c) ?? DEFAULT_ALLOWANCE;
}

interface Measure {
  time: number;
  rss: number;
  external: number;
}

function measure(): Measure {
  const m = Deno.memoryUsage();
  return { time: performance.now(), rss: m.rss, external: m.external };
}

function checkBounds(before: Measure, bounds: Bounds, external: number): void {
  const after = measure();
  const ms = after.time - before.time;
  if (ms > bounds.caseTimeoutMs) {
    throw new FuzzFailure(
      "hang",
      `case took ${ms.toFixed(0)} ms, bound ${bounds.caseTimeoutMs} ms`,
    );
  }
  const rss = after.rss - before.rss;
  if (rss > bounds.rssLimit) {
    throw new FuzzFailure(
      "alloc",
      `resident memory grew by ${
        (rss / MIB).toFixed(0)
      } MiB in one case, bound ${(bounds.rssLimit / MIB).toFixed(0)} MiB`,
    );
  }
  const ext = after.external - before.external;
  if (ext > external) {
    throw new FuzzFailure(
      "alloc",
      `ArrayBuffer memory grew by ${
        (ext / MIB).toFixed(1)
      } MiB in one case, allowance ${(external / MIB).toFixed(1)} MiB`,
    );
  }
}
