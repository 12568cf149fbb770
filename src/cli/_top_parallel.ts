// Private: how `fstrm top` reads its input into a TopCounter, on one thread
// or, for a regular file, on two.
//
// Two threads: Frame Streams has no sync marker, so a split point must be
// verified. The main thread reads PROBE bytes at MAIN_SHARE of the file and
// looks there for a chain of SPLIT_HOPS plausible frames (findSplit); the
// point the chain reaches is the candidate. A Web Worker
// (_top_worker.ts) reads [candidate, end) into a counter of its own while
// the main thread reads [0, candidate), through a source that ends at the
// candidate, into the command's counter. Then:
// - the main thread's frames end exactly at the candidate: the candidate is
//   a frame start of the chain one thread reads, so the worker read exactly
//   what one thread would have read from there (errors and offsets
//   included); its counts are merged (TopCounter.merge) and its read error,
//   if any, is the command's;
// - a frame runs over the candidate (the read ends in a TruncatedFrameError
//   at the limit): the candidate was inside a frame; the worker's result is
//   dropped and the main thread reads on from that frame's start;
// - the main thread's part ends in an error of its own: one thread would
//   have stopped there too; the worker's result is dropped.
// When the main thread is done and the worker is not (another process has
// the second core, say), the main thread takes the end of the worker's
// part: it finds a split point halfway into what the worker has not yet
// read (steal), cuts the worker's part there through a shared word (the
// worker reserves each read in it first: _top_worker.ts CutSource), and
// reads from there to the end into a counter of its own. That read counts
// only if the worker's part ends exactly at the cut; else (the cut was
// inside a frame) the worker reads on to the end itself and the main
// thread's read is dropped.
// The worker failing (no permission to load its modules, a file changed)
// leaves the main thread to read on itself, with one line on stderr. So the
// counts are always those of one thread; the output is byte for byte the
// same whenever the name and client tables hold every key (else within the
// bounds printed, see docs/top.md).
//
// Memory: each thread has its own counter (its tables of the --memory
// budget) and its own window (at most TOP_WINDOW), the main thread a third
// counter when it takes the end of the worker's part, and the probe (PROBE
// bytes) while it looks for a split.
import { DnstapScanReader } from "../_dnstap_scan_reader.ts";
import type { FrameSource } from "../_reader_types.ts";
import type { EngineOption } from "../engine.ts";
import { TruncatedFrameError } from "../errors.ts";
import { CliError } from "./_cli_error.ts";
import { describeReadError, type Input } from "./_file_input.ts";
import { TopCounter, type TopCounterOptions } from "./_top_stats.ts";
import type {
  TopWorkerReply,
  TopWorkerResult,
  TopWorkerTask,
} from "./_top_worker.ts";

/**
 * The share of the file the main thread reads first: a little under half.
 * The worker reaches its first read 7-30 ms after the main thread (its
 * isolate, its modules), but only the main thread can rebalance (it takes
 * the end of the worker's part when it is done first, see steal), so the
 * main thread's part is made the one likely to end first (on the bench
 * file, 2026-12-03).
 */
export const MAIN_SHARE = 0.48;
/** Bytes read where the split is looked for. */
export const PROBE = 1 << 20;
/** Frames a chain must hold for its end to be taken as a split point. */
export const SPLIT_HOPS = 32;
/** The least the main thread takes from the end of the worker's part. */
export const STEAL_MIN = 8 << 20;
/** Files smaller than this are read on one thread unless asked. */
export const THREADS_MIN_BYTES = 16 << 20;
/**
 * The window of each thread's reader (at most: a smaller file gets a
 * smaller one). 256 KiB holds the largest dnstap message (two DNS messages
 * of 64 KiB) with room, and the kernel's copy into a window that stays in
 * the L2 cache costs less than into 1 MiB: on the bench file, 30 ms less
 * CPU in 0.45 s on one thread (2026-12-03; 128 KiB and 512 KiB did as
 * well, 4 MiB worse).
 */
export const TOP_WINDOW = 256 << 10;

/** How `fstrm top` reads. */
export interface TopReadOptions {
  /** The engine option. */
  engine: EngineOption;
  /** The longest data frame accepted. */
  maxFrameLength: number;
  /** Threads: 1, or 2 for a regular file. */
  threads: number;
  /** The counter's options (a worker makes a counter of the same). */
  counter: TopCounterOptions;
  /** Says one line on stderr (a worker that could not help). */
  warn: (line: string) => void;
  /**
   * The share of the file the main thread reads first (tests take less).
   *
   * @default {MAIN_SHARE}
   */
  share?: number;
  /**
   * The least the main thread takes from the end of the worker's part.
   *
   * @default {STEAL_MIN}
   */
  stealMin?: number;
}

/** How the read went. */
export interface TopReadResult {
  /** The engine that scanned. */
  engine: string;
  /** Oversized frames dropped. */
  dropped: number;
  /** The read error, as the report says it, or null. */
  error: { message: string; offset: number | null } | null;
  /**
   * How the threads shared the file: "one" (one thread), "split" (the
   * worker's part merged), "crossed" (the candidate was inside a frame),
   * "stopped" (an error, or the end, before the candidate), "no-split" (no
   * candidate found), "failed" (the worker could not read its part),
   * "stolen" (split, and the main thread read the end of the worker's part
   * too).
   */
  how:
    | "one"
    | "split"
    | "crossed"
    | "stopped"
    | "no-split"
    | "failed"
    | "stolen";
  /** The candidate split point, or null. */
  split: number | null;
}

/** The default --threads for an input of `size` bytes (null: not a file). */
export function defaultTopThreads(size: number | null): number {
  if (size === null || size < THREADS_MIN_BYTES) return 1;
  const cores = typeof navigator === "undefined"
    ? 1
    : navigator.hardwareConcurrency ?? 1;
  return cores >= 2 ? 2 : 1;
}

/** The big-endian word at `b[p]`. */
function u32(b: Uint8Array, p: number): number {
  return (b[p]! << 24 | b[p + 1]! << 16 | b[p + 2]! << 8 | b[p + 3]!) >>> 0;
}

/**
 * The end of the first chain of `hops` plausible frames starting in
 * `bytes` (every frame whole in `bytes`): data frames of 1 to
 * `maxFrameLength` bytes whose first byte can start a protobuf field (a
 * dnstap message is one), or control frames of 4 to 512 bytes of a known
 * type. -1 if there is none. A chain started inside a frame may join the
 * true one after a few frames; its end, `hops` frames on, is then a true
 * frame start all the same. Only the main thread's read verifies it.
 */
export function findSplit(
  bytes: Uint8Array,
  maxFrameLength: number,
  hops: number = SPLIT_HOPS,
): number {
  const n = bytes.length;
  for (let p = 0; p + 4 <= n; p++) {
    let q = p;
    let k = 0;
    for (; k < hops; k++) {
      if (q + 4 > n) break;
      const length = u32(bytes, q);
      if (length === 0) {
        // A control frame: escape, length, type.
        if (q + 12 > n) break;
        const clen = u32(bytes, q + 4);
        const type = u32(bytes, q + 8);
        if (clen < 4 || clen > 512 || type < 1 || type > 5) break;
        if (q + 8 + clen > n) break;
        q += 8 + clen;
      } else {
        if (length > maxFrameLength || q + 4 + length > n) break;
        const key = bytes[q + 4]!;
        const wire = key & 7;
        if (key < 8 || wire === 3 || wire === 4 || wire > 5) break;
        q += 4 + length;
      }
    }
    if (k === hops) return q;
  }
  return -1;
}

/**
 * A split point near `at` in `file` of `size` bytes (see findSplit), or -1;
 * the file's position is left where the probe ended.
 */
function probeSplit(
  file: Deno.FsFile,
  at: number,
  size: number,
  maxFrameLength: number,
): number {
  const probe = new Uint8Array(Math.min(PROBE, size - at));
  file.seekSync(at, Deno.SeekMode.Start);
  let got = 0;
  while (got < probe.length) {
    const n = file.readSync(probe.subarray(got));
    if (n === null) break;
    got += n;
  }
  const found = findSplit(probe.subarray(0, got), maxFrameLength);
  const split = found < 0 ? -1 : at + found;
  return split > 0 && split < size ? split : -1;
}

/** A file's bytes up to `limit`, then the end. */
class LimitedSource implements FrameSource {
  #file: Deno.FsFile;
  #left: number;
  /** Whether the file gave every byte up to the limit. */
  reachedLimit = false;

  constructor(file: Deno.FsFile, limit: number) {
    this.#file = file;
    this.#left = limit;
  }

  readSync(buffer: Uint8Array): number | null {
    if (this.#left === 0) {
      this.reachedLimit = true;
      return null;
    }
    const n = this.#file.readSync(
      buffer.length > this.#left ? buffer.subarray(0, this.#left) : buffer,
    );
    if (n !== null) this.#left -= n;
    return n;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return Promise.resolve(this.readSync(buffer));
  }
}

/** What one reader's read came to. */
interface Span {
  engine: string;
  dropped: number;
  /** What the read threw, or null. */
  thrown: unknown;
}

/** Reads `source` (whose first byte is at stream offset `offset`) into
 * `counter`. */
async function readSpan(
  source: FrameSource,
  counter: TopCounter,
  options: TopReadOptions,
  windowSize: number,
  offset: number,
): Promise<Span> {
  const reader = new DnstapScanReader(source, {
    engine: options.engine,
    maxFrameLength: options.maxFrameLength,
    windowSize,
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
    if (e instanceof CliError) throw e;
    thrown = e;
  }
  return {
    engine: reader.engine,
    dropped: reader.summary.oversizedFrames,
    thrown,
  };
}

/** A read error as the report says it. */
function reported(thrown: unknown): TopReadResult["error"] {
  if (thrown === null) return null;
  const offset = (thrown as { offset?: unknown }).offset;
  return {
    message: describeReadError(thrown),
    offset: typeof offset === "number" ? offset : null,
  };
}

/**
 * Reads `input` into `counter`: on one thread, or (`threads` 2, a regular
 * file) on two as the module's note says. The counts are one thread's.
 *
 * @throws {CliError} Whatever the reading throws as one.
 */
export async function readTop(
  input: Input,
  counter: TopCounter,
  options: TopReadOptions,
): Promise<TopReadResult> {
  const file = input.source;
  const size = input.size;
  const windowSize = Math.min(input.windowSize, TOP_WINDOW);
  if (
    options.threads < 2 || size === null || input.identity === null ||
    !(file instanceof Deno.FsFile)
  ) {
    const span = await readSpan(file, counter, options, windowSize, 0);
    return { ...oneResult(span), how: "one", split: null };
  }
  // Look for the split in PROBE bytes at MAIN_SHARE of the file.
  const split = probeSplit(
    file,
    Math.floor(size * (options.share ?? MAIN_SHARE)),
    size,
    options.maxFrameLength,
  );
  file.seekSync(0, Deno.SeekMode.Start);
  if (split < 0) {
    const span = await readSpan(file, counter, options, windowSize, 0);
    return { ...oneResult(span), how: "no-split", split: null };
  }
  const cut = new BigInt64Array(new SharedArrayBuffer(8));
  cut[0] = BigInt(split) * 2n;
  const worker = startWorker({
    path: input.name,
    identity: input.identity,
    offset: split,
    engine: options.engine,
    maxFrameLength: options.maxFrameLength,
    windowSize,
    counter: options.counter,
    cut: cut.buffer as SharedArrayBuffer,
  });
  let resume: number;
  let how: TopReadResult["how"];
  let first: Span;
  try {
    const limited = new LimitedSource(file, split);
    first = await readSpan(limited, counter, options, windowSize, 0);
    if (first.thrown === null && limited.reachedLimit) {
      // The main part ends exactly at the split: the worker's part follows.
      // While the worker is busy, take the end of its part.
      const tail = worker.settled ? null : await steal(
        file,
        size,
        cut,
        options,
        windowSize,
      );
      const reply = await worker.result;
      if (!("failed" in reply)) {
        counter.merge(reply.state);
        let last: TopWorkerResult | Span = reply;
        if (tail !== null && reply.endedAtCut) {
          counter.merge(tail.counter.state().state);
          last = tail.span;
        }
        return {
          engine: first.engine,
          dropped: first.dropped + reply.dropped +
            (last === reply ? 0 : last.dropped),
          error: "thrown" in last ? reported(last.thrown) : last.error,
          how: last === reply ? "split" : "stolen",
          split,
        };
      }
      options.warn(
        `fstrm top: no worker thread (${reply.failed}); reading on one`,
      );
      resume = split;
      how = "failed";
    } else if (
      first.thrown instanceof TruncatedFrameError && limited.reachedLimit
    ) {
      // A frame runs over the split: read on from its start.
      resume = first.thrown.offset;
      how = "crossed";
    } else {
      // An error (or the file's end) before the split: one thread's end.
      return { ...oneResult(first), how: "stopped", split };
    }
  } finally {
    worker.terminate();
  }
  file.seekSync(resume, Deno.SeekMode.Start);
  const rest = await readSpan(file, counter, options, windowSize, resume);
  return {
    engine: first.engine,
    dropped: first.dropped + rest.dropped,
    error: reported(rest.thrown),
    how,
    split,
  };
}

/**
 * Cuts the worker's part at `y` through the cut word (see _top_worker.ts
 * CutSource): done unless the part is cut already or the worker has
 * reserved reads up to `y`. The worker reserves on (a window at a time)
 * while the main thread reads its probe, so the word is read again until
 * the exchange takes.
 *
 * @returns Whether the part is cut at `y`.
 */
export function cutAt(cut: BigInt64Array, y: number): boolean {
  let w = Atomics.load(cut, 0);
  while ((w & 1n) === 0n && Number(w >> 1n) < y) {
    const seen = Atomics.compareExchange(cut, 0, w, BigInt(y) * 2n + 1n);
    if (seen === w) return true;
    w = seen;
  }
  return false;
}

/**
 * Takes the second half of what the worker has not yet reserved to read, at
 * a split point found there, if it is worth it (`stealMin`) and the worker
 * has not moved past it: cuts the worker's part there and reads from it to
 * the end into a counter of its own. Valid only if the worker's part ends
 * exactly at the cut (`endedAtCut`).
 */
async function steal(
  file: Deno.FsFile,
  size: number,
  cut: BigInt64Array,
  options: TopReadOptions,
  windowSize: number,
): Promise<{ counter: TopCounter; span: Span } | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const reserved = Number(Atomics.load(cut, 0) >> 1n);
    const left = size - reserved;
    if (left < (options.stealMin ?? STEAL_MIN)) return null;
    const y = probeSplit(
      file,
      reserved + Math.floor(left / 2),
      size,
      options.maxFrameLength,
    );
    if (y < 0) return null;
    if (!cutAt(cut, y)) continue;
    file.seekSync(y, Deno.SeekMode.Start);
    const tail = new TopCounter(options.counter);
    const span = await readSpan(file, tail, options, windowSize, y);
    return { counter: tail, span };
  }
  return null;
}

function oneResult(span: Span): Omit<TopReadResult, "how" | "split"> {
  return {
    engine: span.engine,
    dropped: span.dropped,
    error: reported(span.thrown),
  };
}

/** A worker started on a task: its reply to come, and how to stop it. */
interface StartedWorker {
  /** The reply; `failed` when the worker could not start or read. */
  readonly result: Promise<TopWorkerReply>;
  /** Whether the reply has come. */
  readonly settled: boolean;
  /** Ends the worker (idempotent). */
  terminate(): void;
}

/** Starts the worker on `task`; never throws (a failure is the reply). */
function startWorker(task: TopWorkerTask): StartedWorker {
  let worker: Worker | null = null;
  const result = new Promise<TopWorkerReply>((resolve) => {
    try {
      const url = new URL("./_top_worker.ts", import.meta.url);
      // A worker loads its modules (all under src/) under the read
      // permission.
      const src = new URL("../", import.meta.url);
      if (
        url.protocol === "file:" &&
        Deno.permissions.querySync({ name: "read", path: src }).state !==
          "granted"
      ) {
        throw new Error(`no read access to ${src.pathname}`);
      }
      const w = new Worker(url, { type: "module" });
      worker = w;
      w.onmessage = (e: MessageEvent<TopWorkerReply>) => resolve(e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        resolve({ failed: e.message });
      };
      w.postMessage(task);
    } catch (error) {
      resolve({
        failed: error instanceof Error ? error.message : String(error),
      });
    }
  });
  let settled = false;
  void result.then(() => settled = true);
  return {
    result,
    get settled(): boolean {
      return settled;
    },
    terminate: () => {
      worker?.terminate();
      worker = null;
    },
  };
}
