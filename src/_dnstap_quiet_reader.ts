/**
 * The reader of `fstrm dnstap -q`: FrameReader's bulk path (the same
 * read-scan loop, stream state, errors, offsets and summary: WindowLoop) on
 * a window that a quiet scan engine gives (`attachWindow` of
 * `_dnstap_quiet_engine.ts`): for the WebAssembly engine the source is read
 * straight into the engine's memory, the frames are found there, and each
 * run of data frames is scanned where it lies, never copied.
 *
 * Runs come as FrameReader's `forEachRun` gives them (a run ends at a
 * control frame or at the end of a scan's table); pass each to `quietRun`
 * with the same engine (as `RecordSink.takeRun` does). A data frame larger
 * than the window comes as a run of one in a buffer of its own, which the
 * engine scans the slow way (see `WasmQuietEngine`).
 *
 * @module
 */
import type { EngineOption } from "./engine.ts";
import type { FrameReaderSummary, FrameSource } from "./_reader_types.ts";
import type { RunCallback } from "./callbacks.ts";
import { StreamState } from "./_stream_state.ts";
import {
  closerOf,
  MAX_WINDOW,
  MIN_WINDOW,
  toByteSource,
} from "./_reader_source.ts";
import { WindowLoop } from "./_window_loop.ts";
import { checkFrameLimits } from "./_options.ts";
import {
  type QuietEngine,
  type QuietWindow,
  TsQuietEngine,
} from "./_dnstap_quiet_engine.ts";

/** How to read. */
export interface DnstapQuietReaderOptions {
  /**
   * The engine option the quiet engine was made with: with `"auto"`, an
   * engine that cannot give the window is read around (a window of the
   * TypeScript engine's, each run then copied into the engine's memory);
   * otherwise that is an error.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /** The longest data frame accepted. */
  maxFrameLength: number;
  /**
   * Whether a longer one is skipped (counted) rather than an error.
   *
   * @default {"error"}
   */
  oversize?: "error" | "skip";
  /** The window size, from MIN_WINDOW to MAX_WINDOW bytes. */
  windowSize: number;
  /**
   * Use the source's `readSync` where it has one.
   *
   * @default {true}
   */
  readSync?: boolean;
}

/** Reads a Frame Streams source once into a quiet engine's window. */
export class DnstapQuietReader {
  #window: QuietWindow;
  #scanned: "ts" | "wasm";
  #state = new StreamState(false);
  #loop: WindowLoop;
  #close: (() => void) | null;
  #used = false;

  /**
   * Makes a reader of `source` (which it does not close) into `engine`'s
   * window, replacing any window the engine gave before.
   *
   * @throws {TypeError} If `windowSize` is not an integer.
   * @throws {RangeError} If a number is out of range, or (unless `engine`
   * is `"auto"`) the engine cannot give the window.
   */
  constructor(
    source:
      | FrameSource
      | ReadableStream<Uint8Array>
      | AsyncIterable<Uint8Array>,
    engine: QuietEngine,
    options: DnstapQuietReaderOptions,
  ) {
    const input = toByteSource(source);
    const { maxFrameLength, windowSize } = options;
    const skip = checkFrameLimits(
      "FrameReader",
      maxFrameLength,
      options.oversize ?? "error",
    );
    if (!Number.isInteger(windowSize)) {
      throw new TypeError(
        `Cannot create FrameReader: windowSize must be an integer, got ${windowSize}`,
      );
    }
    if (windowSize < MIN_WINDOW || windowSize > MAX_WINDOW) {
      throw new RangeError(
        `Cannot create FrameReader: windowSize must be from ${MIN_WINDOW} to ${MAX_WINDOW}, got ${windowSize}`,
      );
    }
    let scanned = engine.name;
    let window: QuietWindow;
    try {
      window = engine.attachWindow(windowSize);
    } catch (error) {
      if ((options.engine ?? "auto") !== "auto") throw error;
      window = new TsQuietEngine().attachWindow(windowSize);
      scanned = "ts";
    }
    this.#window = window;
    this.#scanned = scanned;
    this.#close = closerOf(input);
    this.#loop = new WindowLoop(
      input,
      options.readSync !== false && typeof input.readSync === "function",
      this.#state,
      maxFrameLength,
      skip,
    );
  }

  /** The engine that scans frames in the window. */
  get engine(): "ts" | "wasm" {
    return this.#scanned;
  }

  /**
   * Reads everything, calling `callback` with each run of data frames:
   * `window[start, end)` (the engine's window, or a buffer of its own for a
   * frame larger than it) holds `frames` whole data frames, length words
   * included; valid during the call (and until a returned promise
   * settles). As FrameReader's `forEachRun`.
   *
   * @returns The summary, as FrameReader's.
   * @throws The errors of FrameReader, after every run before the fault;
   * whatever `callback` throws.
   */
  async forEachRun(callback: RunCallback): Promise<FrameReaderSummary> {
    if (typeof callback !== "function") {
      throw new TypeError(
        "Cannot read frames: the callback must be a function",
      );
    }
    if (this.#used) {
      throw new TypeError(
        "Cannot read frames: this FrameReader was already read",
      );
    }
    this.#used = true;
    const window = this.#window;
    const run = this.#loop.run(window, window.window, { onRun: callback });
    while (!(await run.next()).done);
    return this.summary;
  }

  /** What has been seen so far (also after an error), as FrameReader's. */
  get summary(): FrameReaderSummary {
    return this.#loop.summary(this.#scanned);
  }

  /** Closes the source if the reader owns it (a file opened by path). */
  close(): void {
    const close = this.#close;
    this.#close = null;
    close?.();
  }
}
