// Private: replaying one case in a worker of its own, with a watchdog: what
// tests/corpus_test.ts and `fuzz.ts --replay` do with a corpus file.
import type { FailureKind, FuzzCase } from "./_case.ts";
import type { Bounds } from "./_check.ts";

/** How a replay went. */
export type ReplayResult =
  | { ok: true; ms: number }
  | { ok: false; kind: FailureKind; message: string; ms: number };

/**
 * Runs every check of `c` (see _check.ts) in a fresh worker; a case that
 * has not finished after `timeoutMs` is stopped and reported as a hang.
 */
export function replay(
  c: FuzzCase,
  bounds: Bounds,
  timeoutMs: number,
): Promise<ReplayResult> {
  const worker = new Worker(
    new URL("./_replay_worker.ts", import.meta.url).href,
    { type: "module" },
  );
  const start = performance.now();
  return new Promise<ReplayResult>((resolve) => {
    const timer = setTimeout(() => {
      finish({
        ok: false,
        kind: "hang",
        message: `the case did not finish in ${timeoutMs} ms`,
        ms: performance.now() - start,
      });
    }, timeoutMs);
    const finish = (result: ReplayResult) => {
      clearTimeout(timer);
      worker.terminate();
      resolve(result);
    };
    worker.onmessage = (e: MessageEvent<ReplayResult>) => finish(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      finish({
        ok: false,
        kind: "crash",
        message: `the worker died: ${e.message}`,
        ms: performance.now() - start,
      });
    };
    worker.postMessage({ case: c, bounds });
  });
}
