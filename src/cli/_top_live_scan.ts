// The live scan of `fstrm top -u`: the receiver's runs of data frames go
// through the one-pass engine of `fstrm top -r` (_dnstap_window_engine.ts:
// frame scan, dnstap scan and top's key lists in one WebAssembly call), so
// that top counts a batch's few distinct keys, not its rows, as on files.
// Each run is copied into the engine's window (WebAssembly memory; the
// receiver reads into buffers of its own), in pieces of whole frames when it
// is longer than the window; the window grows for a frame longer than it.
// Sans I/O: it holds no bytes between runs.
import type { RunCallback } from "../callbacks.ts";
import type { Engine, EngineOption } from "../engine.ts";
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "../_dnstap_window_engine.ts";
import type { DnstapKeys, KeyOptions } from "../_dnstap_keys.ts";
import type { DnstapColumns } from "../_dnstap_scan_layout.ts";
import { STATUS_END, STATUS_NEED_MORE, STATUS_TABLE_FULL } from "../_scan.ts";
import { wasmAvailable } from "../_wasm_engine.ts";

/** The window's first size: a receiver's runs are at most 64 KiB but for
 * one frame assembled across reads. */
export const LIVE_WINDOW = 1 << 18;

/**
 * Called once per batch of a run: rows `0` to `count - 1` of `cols` over
 * `window`, and `keys`, the engine's key lists to which the scan added the
 * batch's keys (with the scanner's `keyOptions`), or `null` when
 * `keyOptions` was `null`. All are valid during the call only, but `keys`,
 * which keeps its lists until its owner clears them.
 */
export type LiveBatchCallback = (
  cols: DnstapColumns,
  count: number,
  window: Uint8Array,
  keys: DnstapKeys | null,
) => void;

/** Options of {@linkcode LiveWindowScanner}. */
export interface LiveWindowScannerOptions {
  /**
   * The engine: `"wasm"`, `"ts"`, or `"auto"` for WebAssembly where it
   * loads.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /**
   * The key lists to make on each scan, or `null` for none.
   *
   * @default {null}
   */
  keyOptions?: KeyOptions | null;
  /**
   * The window's first size in bytes (it grows for a longer frame).
   *
   * @default {LIVE_WINDOW}
   */
  windowSize?: number;
}

/** The engine for `engine` ("auto": WebAssembly where it loads). */
function makeEngine(engine: EngineOption, size: number): DnstapWindowEngine {
  switch (engine) {
    case "ts":
    case "wasm":
      return makeDnstapWindowEngine(engine, size);
    case "auto":
      if (wasmAvailable()) {
        try {
          return makeDnstapWindowEngine("wasm", size);
        } catch {
          // Falls back below.
        }
      }
      return makeDnstapWindowEngine("ts", size);
    default:
      throw new TypeError(
        `Cannot scan dnstap: engine must be "auto", "wasm" or "ts", got ${
          String(engine)
        }`,
      );
  }
}

/**
 * The scan of runs of whole data frames into columns and key lists, one
 * engine call per batch of up to 4096 frames (or per window's worth).
 */
export class LiveWindowScanner<C = void> {
  #engine: DnstapWindowEngine;
  readonly #callback: LiveBatchCallback;
  #keyOptions: KeyOptions | null;
  #batches = 0;
  #messages = 0;

  /**
   * Makes the scanner and its engine.
   *
   * @throws {TypeError} For an unknown engine.
   * @throws {Error} If `engine` is `"wasm"` where WebAssembly cannot load.
   */
  constructor(
    callback: LiveBatchCallback,
    options: LiveWindowScannerOptions = {},
  ) {
    this.#callback = callback;
    this.#keyOptions = options.keyOptions ?? null;
    this.#engine = makeEngine(
      options.engine ?? "auto",
      options.windowSize ?? LIVE_WINDOW,
    );
    this.#engine.keyOptions = this.#keyOptions;
  }

  /** The engine (`"auto"` resolved). */
  get engine(): Engine {
    return this.#engine.name;
  }

  /** Batches passed to the callback so far. */
  get batches(): number {
    return this.#batches;
  }

  /** Rows (data frames) passed to the callback so far. */
  get messages(): number {
    return this.#messages;
  }

  /** The window's size now. */
  get windowSize(): number {
    return this.#engine.window.length;
  }

  /** Key lists made from the next scan on (`null`: none). */
  get keyOptions(): KeyOptions | null {
    return this.#keyOptions;
  }

  set keyOptions(options: KeyOptions | null) {
    this.#keyOptions = options;
    this.#engine.keyOptions = options;
  }

  /**
   * Scans a run: `window[start, end)` holds `frames` whole data frames, as
   * a {@linkcode RunCallback} gets them. A bound function.
   *
   * @throws {RangeError} If the run is not `frames` whole data frames.
   */
  readonly onRun: RunCallback<C> = (window, start, end, frames) => {
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start &&
        start <= end && end <= window.length)
    ) {
      throw new RangeError(
        `Cannot scan dnstap: the run [${start}, ${end}) is not within the window's ${window.length} bytes`,
      );
    }
    let at = start;
    let left = frames;
    while (at < end) {
      let engine = this.#engine;
      const n = Math.min(end - at, engine.window.length);
      engine.window.set(window.subarray(at, at + n), 0);
      const entries = engine.scan(0, n, 0xffff_ffff);
      const status = engine.out[0]!;
      const stop = engine.out[1]!;
      const rows = engine.rows;
      if (
        rows !== entries || rows > left ||
        !(status === STATUS_END || status === STATUS_TABLE_FULL ||
          (status === STATUS_NEED_MORE && n < end - at))
      ) {
        throw new RangeError(
          `Cannot scan dnstap: the run does not hold ${frames} whole data frames (frame ${
            frames - left + (rows === entries ? rows : 0)
          } at ${at - start + stop})`,
        );
      }
      if (rows === 0) {
        // A frame longer than the window: a window that holds it.
        const size = 4 + (window[at]! * 2 ** 24 + (window[at + 1]! << 16) +
          (window[at + 2]! << 8) + window[at + 3]!);
        if (at + size > end || size <= engine.window.length) {
          throw new RangeError(
            `Cannot scan dnstap: the run does not hold ${frames} whole data frames (frame ${
              frames - left
            } at ${at - start})`,
          );
        }
        engine = makeEngine(
          engine.name,
          Math.max(size, 2 * engine.window.length),
        );
        engine.keyOptions = this.#keyOptions;
        this.#engine = engine;
        continue;
      }
      this.#batches++;
      this.#messages += rows;
      left -= rows;
      at += stop;
      this.#callback(
        engine.columns,
        rows,
        engine.window,
        this.#keyOptions === null ? null : engine.keys,
      );
    }
    if (left !== 0) {
      throw new RangeError(
        `Cannot scan dnstap: the run holds ${
          frames - left
        } whole data frames, not ${frames}`,
      );
    }
    return undefined;
  };
}
