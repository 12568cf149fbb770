// Private: the Web Worker of `fstrm top -r FILE` on two threads
// (_top_parallel.ts). Takes one task: a regular file, the offset where its
// second part starts (a frame start, which the main thread verifies), the
// reading options and the counter's. Opens the file (refusing it if it is no
// longer the one the main thread opened), reads it from that offset to its
// end with its own TopCounter, and answers with the counter's state (its
// buffers transferred), the engine, the oversized frames and the read error
// worded as one thread words it, offsets counted from the file's start. Any
// other failure is answered as `failed`: the main thread then reads the
// part itself.
import { DnstapScanReader } from "../_dnstap_scan_reader.ts";
import type { EngineOption } from "../engine.ts";
import { describeReadError } from "./_file_input.ts";
import {
  TopCounter,
  type TopCounterOptions,
  type TopCounterState,
} from "./_top_stats.ts";

/** What to read and count. */
export interface TopWorkerTask {
  /** The file's path, as the main thread opened it. */
  readonly path: string;
  /** Its `dev:ino`, as the main thread found it. */
  readonly identity: string;
  /** Where to start: a frame start (unverified until the main thread's
   * part ends there). */
  readonly offset: number;
  /** The engine option. */
  readonly engine: EngineOption;
  /** The longest data frame accepted. */
  readonly maxFrameLength: number;
  /** The window size. */
  readonly windowSize: number;
  /** The counter's options (the main thread's). */
  readonly counter: TopCounterOptions;
}

/** The part read: its counts and how the read ended. */
export interface TopWorkerResult {
  /** The counter's state. */
  readonly state: TopCounterState;
  /** The engine that scanned. */
  readonly engine: string;
  /** Oversized frames dropped. */
  readonly dropped: number;
  /** The read error, as one thread words it, or null. */
  readonly error: { message: string; offset: number | null } | null;
}

/** The answer: the part's result, or why the worker could not give one. */
export type TopWorkerReply = TopWorkerResult | { readonly failed: string };

/** Reads `task`'s part of its file into a counter. */
export async function readPart(
  task: TopWorkerTask,
): Promise<{ result: TopWorkerResult; transfer: ArrayBuffer[] }> {
  const file = await Deno.open(task.path, { read: true });
  try {
    const info = file.statSync();
    if (`${info.dev}:${info.ino}` !== task.identity) {
      throw new Error(`${task.path} is no longer the file opened`);
    }
    file.seekSync(task.offset, Deno.SeekMode.Start);
    const counter = new TopCounter(task.counter);
    const reader = new DnstapScanReader(file, {
      engine: task.engine,
      maxFrameLength: task.maxFrameLength,
      windowSize: task.windowSize,
      keys: counter.keyOptions,
      offset: task.offset,
    });
    let error: TopWorkerResult["error"] = null;
    try {
      await reader.read((cols, count, window, keys) =>
        counter.addBatch(cols, count, window, keys)
      );
    } catch (e) {
      const offset = (e as { offset?: unknown }).offset;
      error = {
        message: describeReadError(e),
        offset: typeof offset === "number" ? offset : null,
      };
    }
    const { state, transfer } = counter.state();
    return {
      result: {
        state,
        engine: reader.engine,
        dropped: reader.summary.oversizedFrames,
        error,
      },
      transfer,
    };
  } finally {
    file.close();
  }
}

/** The worker's global scope, as far as this module uses it. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<TopWorkerTask>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

// Only in a worker: the module is also imported by tests, for readPart.
if (
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
    "undefined"
) {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = async (event: MessageEvent<TopWorkerTask>) => {
    try {
      const { result, transfer } = await readPart(event.data);
      scope.postMessage(result, transfer);
    } catch (error) {
      const reply: TopWorkerReply = {
        failed: error instanceof Error ? error.message : String(error),
      };
      scope.postMessage(reply);
    }
  };
}
