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
import type { FrameSource } from "../_reader_types.ts";
import type { EngineOption } from "../engine.ts";
import { TruncatedFrameError } from "../errors.ts";
import { describeReadError } from "./_read_errors.ts";
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
  /**
   * The cut word (a BigInt64Array's buffer, see {@linkcode CutSource}), by
   * which the main thread may take the end of the part; null: none.
   */
  readonly cut: SharedArrayBuffer | null;
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
  /**
   * Whether the part ended exactly at the main thread's cut (which is then a
   * frame start, the main thread's read from it valid); false when the
   * worker read to the file's end (a cut inside a frame, an error first, no
   * cut).
   */
  readonly endedAtCut: boolean;
}

/** The answer: the part's result, or why the worker could not give one. */
export type TopWorkerReply = TopWorkerResult | { readonly failed: string };

/**
 * The file from `offset`, read under a cut word shared with the main thread:
 * `2 * R` while not cut, where R is the end of what this source has
 * reserved to read (it reserves each read before it makes it, with a
 * compare-and-exchange), or `2 * Y + 1` once the main thread has cut it at
 * Y (always past R, so never inside a read made): reads then end at Y.
 */
export class CutSource implements FrameSource {
  #file: Deno.FsFile;
  #pos: number;
  #word: BigInt64Array | null;
  /** Whether the reads ended at a cut (not at the file's end). */
  reachedCut = false;

  constructor(file: Deno.FsFile, offset: number, word: BigInt64Array | null) {
    this.#file = file;
    this.#pos = offset;
    this.#word = word;
  }

  readSync(buffer: Uint8Array): number | null {
    let end = this.#pos + buffer.length;
    const word = this.#word;
    if (word !== null) {
      for (;;) {
        const w = Atomics.load(word, 0);
        if ((w & 1n) === 1n) {
          end = Math.min(end, Number(w >> 1n));
          if (end <= this.#pos) {
            this.reachedCut = true;
            return null;
          }
          break;
        }
        if (Number(w >> 1n) >= end) break;
        const reserve = BigInt(end) * 2n;
        if (Atomics.compareExchange(word, 0, w, reserve) === w) break;
      }
    }
    const n = this.#file.readSync(buffer.subarray(0, end - this.#pos));
    if (n !== null) this.#pos += n;
    return n;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return Promise.resolve(this.readSync(buffer));
  }
}

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
    const source = new CutSource(
      file,
      task.offset,
      task.cut === null ? null : new BigInt64Array(task.cut),
    );
    let read = await readFrom(source, task.offset, counter, task);
    let endedAtCut = false;
    if (source.reachedCut) {
      if (read.thrown === null) endedAtCut = true;
      else if (read.thrown instanceof TruncatedFrameError) {
        // The cut is inside a frame: read on to the end from its start
        // (the main thread drops what it read from the cut).
        const from = read.thrown.offset;
        file.seekSync(from, Deno.SeekMode.Start);
        const rest = await readFrom(file, from, counter, task);
        read = { ...rest, dropped: read.dropped + rest.dropped };
      }
    }
    const thrown = read.thrown;
    let error: TopWorkerResult["error"] = null;
    if (thrown !== null) {
      const offset = (thrown as { offset?: unknown }).offset;
      error = {
        message: describeReadError(thrown),
        offset: typeof offset === "number" ? offset : null,
      };
    }
    const { state, transfer } = counter.state();
    return {
      result: {
        state,
        engine: read.engine,
        dropped: read.dropped,
        error,
        endedAtCut,
      },
      transfer,
    };
  } finally {
    file.close();
  }
}

/** Reads `source` (from stream offset `offset`) into `counter`. */
async function readFrom(
  source: FrameSource,
  offset: number,
  counter: TopCounter,
  task: TopWorkerTask,
): Promise<{ engine: string; dropped: number; thrown: unknown }> {
  const reader = new DnstapScanReader(source, {
    engine: task.engine,
    maxFrameLength: task.maxFrameLength,
    windowSize: task.windowSize,
    keys: counter.keyOptions,
    counts: true,
    offset,
  });
  let thrown: unknown = null;
  try {
    await reader.read((cols, count, window, keys, counts) =>
      counter.addBatch(cols, count, window, keys, counts)
    );
  } catch (e) {
    thrown = e;
  }
  return {
    engine: reader.engine,
    dropped: reader.summary.oversizedFrames,
    thrown,
  };
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
