// Private: the worker that replays one corpus case (see _replay.ts), so that
// a case that never returns can be stopped from outside.
import type { FuzzCase } from "./_case.ts";
import { FuzzFailure } from "./_assert.ts";
import { type Bounds, checkCase } from "./_check.ts";
import type { ReplayResult } from "./_replay.ts";

declare const self: {
  onmessage:
    | ((e: MessageEvent<{ case: FuzzCase; bounds: Bounds }>) => void)
    | null;
  postMessage(message: ReplayResult): void;
};

self.onmessage = async (e) => {
  const start = performance.now();
  try {
    await checkCase(e.data.case, e.data.bounds);
    self.postMessage({ ok: true, ms: performance.now() - start });
  } catch (error) {
    const failure = error instanceof FuzzFailure
      ? error
      : new FuzzFailure("crash", `harness: ${String(error)}`);
    self.postMessage({
      ok: false,
      kind: failure.kind,
      message: failure.message,
      ms: performance.now() - start,
    });
  }
};
