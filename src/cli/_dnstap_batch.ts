// Private: one batch of `fstrm dnstap --threads N`: data frames still
// encoded (a big-endian length word, then the payload, one after another),
// formatted into output bytes by the same RecordSink as one thread uses,
// with the counts. What a worker does with each batch (src/cli/
// _dnstap_worker.ts), and what the main thread does again with the batch
// where --limit falls inside it.
import { OutputBuffer, type SyncWriter } from "./_dump_output.ts";
import type { DnstapFilterSpec } from "./_dnstap_filter.ts";
import { type GoFormatFlag, goFormatter } from "./_dnstap_formats.ts";
import { type RecordCounts, RecordSink } from "./_dnstap_records.ts";
import type { QuietEngine } from "../_dnstap_quiet_engine.ts";

/** What a thread needs to format batches: the format and the filters. */
export interface BatchSettings {
  /** The output format's flag. */
  format: GoFormatFlag;
  /** The filters. */
  filter: DnstapFilterSpec;
}

/** A batch formatted: its output bytes and its counts. */
export interface BatchResult {
  /** The output, `bytes[0, length)`. */
  bytes: Uint8Array;
  /** The counts of the batch. */
  counts: RecordCounts;
}

/** A writer that keeps copies of everything written. */
class Collector implements SyncWriter {
  chunks: Uint8Array[] = [];
  length = 0;

  writeSync(p: Uint8Array): number {
    this.chunks.push(p.slice());
    this.length += p.length;
    return p.length;
  }

  /** Everything written, in one buffer of its own; then empty. */
  take(): Uint8Array {
    const chunks = this.chunks;
    const all = chunks.length === 1 ? chunks[0]! : new Uint8Array(this.length);
    if (chunks.length !== 1) {
      let p = 0;
      for (const c of chunks) {
        all.set(c, p);
        p += c.length;
      }
    }
    this.chunks = [];
    this.length = 0;
    return all;
  }
}

/**
 * Takes the frames of `batch[0, length)` into `sink` until it wants no
 * more.
 *
 * @returns Whether the sink wants more (false: --limit reached).
 */
export function takeFrames(
  batch: Uint8Array,
  length: number,
  sink: RecordSink,
): boolean {
  let off = 0;
  while (off + 4 <= length) {
    const n = (batch[off]! << 24 | batch[off + 1]! << 16 |
      batch[off + 2]! << 8 | batch[off + 3]!) >>> 0;
    if (!sink.take(batch, off + 4, n)) return false;
    off += 4 + n;
  }
  return true;
}

/**
 * Formats batches with the same settings, one after another, through one
 * output buffer: each batch's output comes out in a buffer of its own (to
 * be transferred).
 */
export class BatchFormatter {
  #settings: BatchSettings;
  #collector = new Collector();
  #out = new OutputBuffer(this.#collector, 8 << 20);
  /** The quiet scan's engine, kept from batch to batch. */
  #engine: QuietEngine | null = null;

  /** Makes a formatter of batches with `settings`. */
  constructor(settings: BatchSettings) {
    this.#settings = settings;
  }

  /**
   * Formats the frames of `batch[0, length)`.
   *
   * @returns The output bytes and the counts.
   */
  format(batch: Uint8Array, length: number): BatchResult {
    const sink = new RecordSink(this.#out, {
      output: { kind: "text", format: goFormatter(this.#settings.format) },
      filter: this.#settings.filter,
      limit: Infinity,
      ...(this.#engine === null ? {} : { quietEngine: this.#engine }),
    });
    if (sink.takesRuns) {
      // -q: the batch is a run of frames, for the quiet scan.
      sink.takeRun(batch, 0, length);
      this.#engine = sink.quietEngine;
    } else takeFrames(batch, length, sink);
    this.#out.flush();
    return { bytes: this.#collector.take(), counts: sink.counts };
  }
}
