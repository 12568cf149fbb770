// Private: the reader of `fstrm stats`. FrameReader's bulk path (the same
// read-scan loop, stream state, errors, offsets and summary) on a scan
// engine that counts data frame sizes as it scans (src/_stats_engine.ts), so
// that the histogram costs no JavaScript call per frame: the loop hands
// runs of data frames to a sink that has nothing to do but for a frame
// larger than the window, which comes in a buffer of its own.
//
// Exact in lenient mode only, which is the only mode stats reads in: there
// every data frame a scan enters in its table is delivered (nothing but a
// sink can throw part-way through a table, and this sink does not), so the
// engine's counts are those of the frames the summary counts.
import type { EngineOption } from "../engine.ts";
import type { FrameReaderSummary, FrameSource } from "../_reader_types.ts";
import { ENTRY_WORDS, KIND_DATA } from "../_scan.ts";
import { resolveEngine } from "../_select_engine.ts";
import {
  DENSE_SIZES,
  makeSizesEngine,
  OUT_LARGE,
  type SizesEngine,
} from "../_stats_engine.ts";
import { StreamState } from "../_stream_state.ts";
import { toByteSource } from "../_reader_source.ts";
import { type Scanner, WindowLoop } from "../_window_loop.ts";
import { SizeHistogram } from "./_stats_histogram.ts";

/** How to read. */
export interface SizeReaderOptions {
  /**
   * The engine: "auto" takes WebAssembly where it loads.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /** The longest data frame accepted; a longer one is an error. */
  maxFrameLength: number;
  /** The window size, from MIN_WINDOW to MAX_WINDOW bytes. */
  windowSize: number;
}

/**
 * Reads a Frame Streams source once, as `FrameReader.forEachFrame` would
 * with a callback counting sizes, and keeps the sizes in a
 * {@linkcode SizeHistogram}.
 */
export class SizeReader {
  /** The sizes of the data frames read so far. */
  readonly histogram: SizeHistogram;
  #engine: SizesEngine;
  #state = new StreamState(false);
  #loop: WindowLoop;

  /**
   * Makes a reader of `source`, which it does not close.
   *
   * @throws {Error} If `engine` is "wasm" and WebAssembly cannot load.
   */
  constructor(source: FrameSource, options: SizeReaderOptions) {
    const input = toByteSource(source);
    const { maxFrameLength, windowSize } = options;
    const engine = resolveEngine(options.engine, "wasm", "FrameReader");
    let made: SizesEngine;
    try {
      made = makeSizesEngine(engine, windowSize);
    } catch (error) {
      // "auto" falls back where WebAssembly loads but cannot give the window.
      if ((options.engine ?? "auto") !== "auto") throw error;
      made = makeSizesEngine("ts", windowSize);
    }
    this.#engine = made;
    this.histogram = new SizeHistogram(made.sizes);
    this.#loop = new WindowLoop(
      input,
      typeof input.readSync === "function",
      this.#state,
      maxFrameLength,
      false,
    );
  }

  /**
   * Reads everything.
   *
   * @returns The summary, as FrameReader's.
   * @throws The errors of FrameReader, after counting every frame before
   * the fault.
   */
  async read(): Promise<FrameReaderSummary> {
    const engine = this.#engine;
    const histogram = this.histogram;
    const table = engine.table;
    const out = engine.out;
    const scanner: Scanner = {
      table,
      out,
      scan(_buf, start, end, max): number {
        const n = engine.scan(start, end, max);
        if (out[OUT_LARGE] !== 0) addLarge(table, n, histogram);
        return n;
      },
    };
    const window = engine.window;
    const run = this.#loop.run(scanner, window, {
      onRun(buf, start, end) {
        // A frame larger than the window, read into a buffer of its own.
        if (buf !== window) histogram.add(end - start - 4);
      },
    });
    while (!(await run.next()).done);
    return this.summary;
  }

  /** What has been seen so far (also after an error), as FrameReader's. */
  get summary(): FrameReaderSummary {
    return this.#loop.summary(this.#engine.name);
  }
}

/** Counts the data frames of DENSE_SIZES bytes or more among `n` entries. */
function addLarge(
  table: Uint32Array,
  n: number,
  histogram: SizeHistogram,
): void {
  for (let e = 0, last = n * ENTRY_WORDS; e < last; e += ENTRY_WORDS) {
    const length = table[e + 1]!;
    if (table[e + 2] === KIND_DATA && length >= DENSE_SIZES) {
      histogram.addLarge(length);
    }
  }
}
