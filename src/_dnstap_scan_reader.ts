/**
 * The one-pass reader of the dnstap scan: FrameReader's bulk path (the same
 * read-scan loop, stream state, errors, offsets and summary) on a window
 * engine that scans frames, dnstap and keys in one call
 * (`_dnstap_window_engine.ts`): the source is read straight into the
 * engine's window (WebAssembly memory for the WASM engine) and never copied.
 * Each scan's data frames reach the sink as one batch of columns.
 *
 * Lenient mode only (no `strict`): there every data frame a scan enters in
 * its table is delivered (nothing but a sink can throw part-way through a
 * table, and this reader's run sink does not), so a batch is exactly the
 * frames the summary counts. A data frame larger than the window comes in a
 * buffer of its own and is scanned by the TypeScript scanner, whose columns
 * are the same (and counted, when asked, by the TypeScript counter into the
 * engine's counts, in row order).
 *
 * @module
 */
import type { EngineOption } from "./engine.ts";
import type { FrameReaderSummary, FrameSource } from "./_reader_types.ts";
import { resolveEngine } from "./_select_engine.ts";
import { StreamState } from "./_stream_state.ts";
import { closerOf, toByteSource } from "./_reader_source.ts";
import { isThenable, type Scanner, WindowLoop } from "./_window_loop.ts";
import { checkFrameLimits } from "./_options.ts";
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "./_dnstap_window_engine.ts";
import { DnstapKeys, type KeyOptions, keysTs } from "./_dnstap_keys.ts";
import { TsDnstapScanner } from "./_dnstap_scan_engine.ts";
import type { DnstapColumns } from "./_dnstap_scan_layout.ts";
import { countRowsTs, type RowCounts } from "./_dnstap_counts.ts";

/**
 * Takes a batch: rows 0 to `count - 1` of `cols`, offsets in `window`, and
 * when the reader makes key lists, the lists the batch's keys were added to
 * (they keep earlier batches' keys until the sink empties them; see
 * `_dnstap_keys.ts`); when the reader counts rows, the counts the batch's
 * rows were added to (the runs and outliers lists hold the batch's; see
 * `_dnstap_counts.ts`), the same object for every batch of a read. The
 * columns and window are views valid during the call (and until a returned
 * promise settles).
 */
export type DnstapBatchSink = (
  cols: DnstapColumns,
  count: number,
  window: Uint8Array,
  keys: DnstapKeys | null,
  counts: RowCounts | null,
) => void | PromiseLike<void>;

/** How to read. */
export interface DnstapScanReaderOptions {
  /**
   * The engine: "auto" takes WebAssembly where it loads.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /** The longest data frame accepted. */
  maxFrameLength: number;
  /** Whether a longer one is skipped (counted) rather than an error. */
  oversize?: "error" | "skip";
  /** The window size, from MIN_WINDOW to MAX_WINDOW bytes. */
  windowSize: number;
  /**
   * Use the source's `readSync` where it has one.
   *
   * @default {true}
   */
  readSync?: boolean;
  /**
   * The key lists to make per batch (`fstrm top`), or null for none.
   *
   * @default {null}
   */
  keys?: KeyOptions | null;
  /**
   * Count each batch's rows in the engine (`fstrm top`'s row counts, see
   * `_dnstap_counts.ts`) and pass the counts to the sink.
   *
   * @default {false}
   */
  counts?: boolean;
  /**
   * The stream offset of the source's first byte, for a source that starts
   * part-way into a stream known to have a frame start there: errors and
   * offsets count from it (the phase starts before START, which lenient
   * mode does not hold against data frames).
   *
   * @default {0}
   */
  offset?: number;
}

/** Reads a Frame Streams source of dnstap once, a batch of columns per scan. */
export class DnstapScanReader {
  #engine: DnstapWindowEngine;
  #state = new StreamState(false);
  #loop: WindowLoop;
  #close: (() => void) | null;
  #keys: KeyOptions | null;
  /** Batches passed to the sink. */
  batches = 0;

  /**
   * Makes a reader of `source`, which it does not close.
   *
   * @throws {Error} If `engine` is "wasm" and WebAssembly cannot load.
   */
  constructor(
    source:
      | FrameSource
      | ReadableStream<Uint8Array>
      | AsyncIterable<Uint8Array>,
    options: DnstapScanReaderOptions,
  ) {
    const input = toByteSource(source);
    const { maxFrameLength, windowSize } = options;
    const skip = checkFrameLimits(
      "FrameReader",
      maxFrameLength,
      options.oversize ?? "error",
    );
    const engine = resolveEngine(options.engine, "wasm", "FrameReader");
    let made: DnstapWindowEngine;
    try {
      made = makeDnstapWindowEngine(engine, windowSize);
    } catch (error) {
      // "auto" falls back where WebAssembly loads but cannot give the window.
      if ((options.engine ?? "auto") !== "auto") throw error;
      made = makeDnstapWindowEngine("ts", windowSize);
    }
    this.#keys = options.keys ?? null;
    made.keyOptions = this.#keys;
    made.countRows = options.counts === true;
    this.#engine = made;
    this.#close = closerOf(input);
    this.#loop = new WindowLoop(
      input,
      options.readSync !== false && typeof input.readSync === "function",
      this.#state,
      maxFrameLength,
      skip,
      options.offset ?? 0,
    );
  }

  /** The engine that scans. */
  get engine(): "ts" | "wasm" {
    return this.#engine.name;
  }

  /**
   * Reads everything, passing each scan's data frames to `sink` as a batch.
   *
   * @returns The summary, as FrameReader's.
   * @throws The errors of FrameReader, after every batch before the fault;
   * whatever `sink` throws.
   */
  async read(sink: DnstapBatchSink): Promise<FrameReaderSummary> {
    const engine = this.#engine;
    const window = engine.window;
    const keyOptions = this.#keys;
    const counts = engine.countRows ? engine.counts : null;
    let pending: PromiseLike<void> | undefined;
    let big: TsDnstapScanner | null = null;
    let bigKeys: DnstapKeys | null = null;
    const bigTable = new Uint32Array(3);
    const scanner: Scanner = {
      table: engine.table,
      out: engine.out,
      scan: (_buf, start, end, max): number => {
        const n = engine.scan(start, end, max);
        const rows = engine.rows;
        if (rows > 0) {
          this.batches++;
          const returned = sink(
            engine.columns,
            rows,
            window,
            keyOptions === null ? null : engine.keys,
            counts,
          );
          if (returned !== undefined && isThenable(returned)) {
            pending = returned;
          }
        }
        return n;
      },
    };
    const run = this.#loop.run(scanner, window, {
      onRun: (buf, start, end) => {
        if (buf === window) {
          // The scan's batch was passed already: wait for it here, where
          // the loop keeps the window intact.
          const wait = pending;
          pending = undefined;
          return wait;
        }
        // A frame larger than the window, in a buffer of its own.
        big ??= new TsDnstapScanner();
        bigTable[0] = start;
        bigTable[1] = end - start - 4;
        big.scan(buf, bigTable, 1);
        let keys: DnstapKeys | null = null;
        if (keyOptions !== null) {
          keys = bigKeys ??= new DnstapKeys();
          keysTs(big.columns, 1, buf, keyOptions, keys);
        }
        if (counts !== null) countRowsTs(big.columns, 0, 1, counts);
        this.batches++;
        return sink(big.columns, 1, buf, keys, counts);
      },
    });
    while (!(await run.next()).done);
    return this.summary;
  }

  /** What has been seen so far (also after an error), as FrameReader's. */
  get summary(): FrameReaderSummary {
    return this.#loop.summary(this.#engine.name);
  }

  /** Closes the source if the reader owns it (a file opened by path). */
  close(): void {
    const close = this.#close;
    this.#close = null;
    close?.();
  }
}
