// Private: `fstrm dnstap -r FILE --threads N` with N > 1: the main thread
// reads runs of encoded data frames, cuts them into batches and sends each
// to one of N Web Workers (src/cli/_dnstap_worker.ts), which decode,
// filter and format it with the same RecordSink as one thread uses. The
// output comes back per batch and is written strictly in input order;
// --limit is applied exactly (the batch it falls in is formatted again
// here, with the limit left, so the counts stop where one thread's would);
// the counts are summed for the summary.
//
// Memory is bounded: at most 2 batches per worker are out at a time (the
// reader waits for the oldest before it sends another), each of at most
// the batch size (1 MiB; smaller for small files so that every worker gets
// some; a frame larger than that travels alone), and their outputs.
import { CliError } from "./_cli_error.ts";
import type { OutputBuffer } from "./_dump_output.ts";
import { type BatchSettings, takeFrames } from "./_dnstap_batch.ts";
import { goFormatter } from "./_dnstap_formats.ts";
import { type RecordCounts, RecordSink } from "./_dnstap_records.ts";
import type {
  WorkerBatch,
  WorkerInit,
  WorkerOutput,
  WorkerReply,
} from "./_dnstap_worker.ts";

/** The largest batch (frames of a larger size travel alone). */
export const MAX_BATCH = 1 << 20;
/** The smallest batch cut. */
const MIN_BATCH = 16 << 10;
/** Batches out at a time per worker. */
const IN_FLIGHT_PER_WORKER = 2;
/** How long the reader waits for an answer, twice, before it takes a worker for dead. */
const STALL_MS = 60_000;

/** How to run the workers. */
export interface ParallelOptions extends BatchSettings {
  /** Workers to start (2 or more). */
  threads: number;
  /** The most records to output. */
  limit: number;
  /** Whether the main thread uses Go's local zone (workers do the same). */
  goZone: boolean;
  /**
   * How long (ms) the reader may wait with batches out and no answer from
   * any worker, twice in a row, before it fails: a worker that is
   * terminated sends no event at all, so only time tells that it will
   * never answer. Answers take milliseconds (a batch is at most 1 MiB).
   * @default {60000}
   */
  stallMs?: number;
}

/** The length word of the frame at `window[p]`. */
function frameLength(window: Uint8Array, p: number): number {
  return (window[p]! << 24 | window[p + 1]! << 16 | window[p + 2]! << 8 |
    window[p + 3]!) >>> 0;
}

/** A batch sent, waiting for its answer. */
interface Pending {
  worker: number;
  buffer: ArrayBuffer | null;
  length: number;
  reply: WorkerOutput | null;
}

/**
 * Takes runs of frames, formats them on workers and writes their output to
 * `out` in order. {@linkcode ParallelSink.prototype.close} ends the
 * workers.
 */
export class ParallelSink {
  #out: OutputBuffer;
  #options: ParallelOptions;
  #workers: Worker[] = [];
  #load: number[] = [];
  #pending = new Map<number, Pending>();
  #nextSeq = 0;
  #nextWrite = 0;
  #batch: Uint8Array;
  #batchLength = 0;
  #batchSize = MAX_BATCH;
  #free: ArrayBuffer[] = [];
  #failure: unknown = null;
  #wake: (() => void) | null = null;
  /** Answers received, to tell whether any came while the reader waited. */
  #answers = 0;
  /** The counts so far (of what was written). */
  #counts: RecordCounts = {
    frames: 0,
    output: 0,
    filtered: 0,
    malformed: 0,
    unprintable: 0,
  };
  /** Resolves once every worker is ready (null) or one failed (why). */
  #started: Promise<string | null>;
  #startedAs: ((failure: string | null) => void) | null = null;
  #ready = 0;
  /** One thread after all: the workers could not start. */
  #local: RecordSink | null = null;

  /** The counts so far (of what was written). */
  get counts(): RecordCounts {
    return this.#local?.counts ?? this.#counts;
  }

  /**
   * Starts the workers.
   *
   * @throws Whatever `new Worker` throws (the caller takes one thread).
   */
  constructor(out: OutputBuffer, options: ParallelOptions) {
    this.#out = out;
    this.#options = options;
    this.#batch = new Uint8Array(MAX_BATCH);
    this.#started = new Promise((resolve) => this.#startedAs = resolve);
    const url = new URL("./_dnstap_worker.ts", import.meta.url);
    // A worker loads its modules (all under src/) under the read permission.
    const src = new URL("../", import.meta.url);
    if (
      url.protocol === "file:" &&
      Deno.permissions.querySync({ name: "read", path: src }).state !==
        "granted"
    ) {
      throw new Error(`no read access to ${src.pathname}`);
    }
    const init: WorkerInit = {
      settings: { format: options.format, filter: options.filter },
      goZone: options.goZone,
    };
    try {
      for (let i = 0; i < options.threads; i++) {
        const worker = new Worker(url, { type: "module" });
        this.#workers.push(worker);
        this.#load.push(0);
        worker.onmessage = (e: MessageEvent<WorkerReply | "ready">) => {
          if (e.data !== "ready") this.#answer(e.data);
          else if (++this.#ready === options.threads) this.#startedAs?.(null);
        };
        worker.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          if (this.#ready < options.threads) {
            // Not started (a module that cannot be loaded, say): nothing
            // has been sent yet, and one thread takes over.
            this.#startedAs?.(e.message);
          } else {
            this.#fail(new CliError(`a worker thread failed: ${e.message}`));
          }
        };
        worker.postMessage(init);
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** The most batches out at a time. */
  get #bound(): number {
    return IN_FLIGHT_PER_WORKER * this.#workers.length;
  }

  /** Whether --limit records have been output: take no more. */
  get full(): boolean {
    return this.counts.output >= this.#options.limit;
  }

  /**
   * Sizes the batches for an input of `size` bytes (null: unknown), so
   * that a small file still gives every worker some.
   */
  sizeFor(size: number | null): void {
    const share = size === null
      ? MAX_BATCH
      : Math.ceil(size / (this.#bound * 2));
    this.#batchSize = Math.min(MAX_BATCH, Math.max(MIN_BATCH, share));
  }

  /**
   * Takes the data frames `window[start, end)` (length words included).
   * Returns a promise when the reader should wait (too many batches out).
   *
   * @throws What failed: a worker, or writing the output.
   */
  async takeRun(
    window: Uint8Array,
    start: number,
    end: number,
  ): Promise<void> {
    this.#check();
    if (this.#startedAs !== null) await this.#start();
    if (this.#local !== null) {
      let p = start;
      while (p < end) {
        const n = frameLength(window, p);
        if (!this.#local.take(window, p + 4, n)) return;
        p += 4 + n;
      }
      return;
    }
    let p = start;
    while (p < end && !this.full) {
      // As many whole frames as fit in the batch.
      let q = p;
      while (q < end) {
        const n = frameLength(window, q);
        if (this.#batchLength + (q + 4 + n - p) > this.#batchSize) break;
        q += 4 + n;
      }
      if (q > p) {
        this.#batch.set(window.subarray(p, q), this.#batchLength);
        this.#batchLength += q - p;
        p = q;
        if (this.#batchLength < this.#batchSize) continue;
      } else if (this.#batchLength === 0) {
        // A frame larger than a batch travels alone.
        const n = 4 + frameLength(window, p);
        this.#batch = window.slice(p, p + n);
        this.#batchLength = n;
        p += n;
      }
      // The window stays intact while the reader waits for this.
      await this.#waitBelow(this.#bound);
      if (this.full) return;
      this.#send();
    }
  }

  /**
   * Sends what is batched and waits until every batch out is written.
   *
   * @throws What failed: a worker, or writing the output.
   */
  async drain(): Promise<void> {
    if (this.#batchLength > 0 && !this.full) {
      await this.#waitBelow(this.#bound);
      this.#send();
    }
    await this.#waitBelow(1);
  }

  /** Ends the workers (what is out is dropped: a reader waiting fails). */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
    this.#workers = [];
    if (this.#pending.size > 0) {
      this.#fail(new CliError("the worker threads were ended"));
    }
    this.#wake?.();
  }

  /** Waits for the workers; where they cannot start, takes one thread. */
  async #start(): Promise<void> {
    const failure = await this.#started;
    this.#startedAs = null;
    if (failure === null) return;
    console.error(
      `fstrm dnstap: no worker threads (${failure}); formatting on one`,
    );
    this.close();
    this.#local = new RecordSink(this.#out, {
      output: { kind: "text", format: goFormatter(this.#options.format) },
      filter: this.#options.filter,
      limit: this.#options.limit,
    });
  }

  /**
   * Resolves once fewer than `n` batches are out; throws on a failure, and
   * when no answer comes for two periods of `stallMs` (a worker that was
   * terminated). Two, because a process stopped (Ctrl-Z) and resumed
   * finds its first timer due before the answers that wait in its queue.
   */
  async #waitBelow(n: number): Promise<void> {
    const stallMs = this.#options.stallMs ?? STALL_MS;
    while (this.#pending.size >= n && !this.full) {
      this.#check();
      const answers = this.#answers;
      let silent = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const watch = () => {
        if (this.#answers !== answers) return;
        if (++silent < 2) {
          timer = setTimeout(watch, stallMs);
          return;
        }
        this.#fail(
          new CliError(
            `a worker thread stopped answering: no batch back in ${
              2 * stallMs / 1000
            } s`,
          ),
        );
      };
      timer = setTimeout(watch, stallMs);
      try {
        await new Promise<void>((resolve) => this.#wake = resolve);
      } finally {
        clearTimeout(timer);
      }
      this.#wake = null;
    }
    this.#check();
  }

  /** Throws the failure, if any. */
  #check(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  #fail(error: unknown): void {
    if (this.#failure === null) this.#failure = error;
    this.#wake?.();
  }

  /** Sends the batch to the least loaded worker. */
  #send(): void {
    let w = 0;
    for (let i = 1; i < this.#load.length; i++) {
      if (this.#load[i]! < this.#load[w]!) w = i;
    }
    const seq = this.#nextSeq++;
    const buffer = this.#batch.buffer as ArrayBuffer;
    const length = this.#batchLength;
    this.#pending.set(seq, { worker: w, buffer: null, length, reply: null });
    this.#load[w]!++;
    const message: WorkerBatch = { seq, buffer, length };
    this.#workers[w]!.postMessage(message, [buffer]);
    const reused = this.#free.pop();
    this.#batch = reused === undefined
      ? new Uint8Array(MAX_BATCH)
      : new Uint8Array(reused);
    this.#batchLength = 0;
  }

  /** A worker's answer: keep it, and write every answer now in order. */
  #answer(reply: WorkerReply): void {
    this.#answers++;
    if ("error" in reply) {
      // Whatever batch it was (if any): its output is lost.
      this.#fail(new CliError(`a worker thread failed: ${reply.error}`));
      return;
    }
    const pending = this.#pending.get(reply.seq);
    if (pending === undefined || this.#failure !== null) return;
    pending.reply = reply;
    pending.buffer = reply.buffer;
    this.#load[pending.worker]!--;
    try {
      this.#writeInOrder();
    } catch (error) {
      this.#fail(error);
    }
    this.#wake?.();
  }

  #writeInOrder(): void {
    for (;;) {
      const next = this.#pending.get(this.#nextWrite);
      if (next === undefined || next.reply === null) return;
      this.#pending.delete(this.#nextWrite++);
      const reply = next.reply;
      if (!this.full) this.#write(next, reply);
      if (reply.buffer.byteLength === MAX_BATCH && this.#free.length < 4) {
        this.#free.push(reply.buffer);
      }
    }
  }

  /** Writes one batch's answer, or (--limit inside it) formats it here. */
  #write(batch: Pending, reply: WorkerOutput): void {
    const counts = this.#counts;
    const left = this.#options.limit - counts.output;
    const [frames, output, filtered, malformed, unprintable] = reply.counts;
    if (output < left) {
      this.#out.raw(new Uint8Array(reply.output), 0, reply.outputLength);
      counts.frames += frames;
      counts.output += output;
      counts.filtered += filtered;
      counts.malformed += malformed;
      counts.unprintable += unprintable;
      return;
    }
    // The limit falls in this batch: format it again with what is left,
    // stopping exactly where one thread stops (its counts too).
    const sink = new RecordSink(this.#out, {
      output: { kind: "text", format: goFormatter(this.#options.format) },
      filter: this.#options.filter,
      limit: left,
    });
    takeFrames(new Uint8Array(reply.buffer), batch.length, sink);
    counts.frames += sink.counts.frames;
    counts.output += sink.counts.output;
    counts.filtered += sink.counts.filtered;
    counts.malformed += sink.counts.malformed;
    counts.unprintable += sink.counts.unprintable;
  }
}
