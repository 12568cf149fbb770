// The live scan of `fstrm top -u`: the receiver's runs of data frames go
// through the one-pass engine of `fstrm top -r` (_dnstap_window_engine.ts:
// frame scan, dnstap scan and top's key lists in one WebAssembly call), so
// that top counts a batch's few distinct keys, not its rows, as on files.
// The engine's window is a copy region followed by read slots, which the
// scanner lends to the receiver's connections (`readBuffers`): a run read
// into a slot is scanned where it lies; any other run (a frame assembled
// across reads, a connection that found no free slot) is copied into the
// copy region, in pieces of whole frames when it is longer; a frame longer
// than the copy region goes through a second engine, grown to hold it.
// Sans I/O: it holds no bytes between runs.
import type { RunCallback } from "../callbacks.ts";
import type { Engine, EngineOption } from "../engine.ts";
import type { ReadBufferPool } from "../_receiver_types.ts";
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "../_dnstap_window_engine.ts";
import type { DnstapKeys, KeyOptions } from "../_dnstap_keys.ts";
import type { DnstapColumns } from "../_dnstap_scan_layout.ts";
import { STATUS_END, STATUS_NEED_MORE, STATUS_TABLE_FULL } from "../_scan.ts";
import { wasmAvailable } from "../_wasm_engine.ts";

/** The copy region's size: a receiver's runs are at most its read size
 * (256 KiB) but for one frame assembled across reads. */
export const LIVE_WINDOW = 1 << 18;

/** Read slots lent to connections (beyond them, runs are copied). */
export const LIVE_SLOTS = 16;

/** A read slot's size: FrameReceiver's largest read by default. */
export const LIVE_SLOT_SIZE = 1 << 18;

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
   * The copy region's size in bytes (a frame longer than it goes through
   * a second engine, grown to hold it).
   *
   * @default {LIVE_WINDOW}
   */
  windowSize?: number;
  /**
   * Read slots that `readBuffers` lends.
   *
   * @default {LIVE_SLOTS}
   */
  slots?: number;
  /**
   * A slot's size in bytes: the largest read buffer lent.
   *
   * @default {LIVE_SLOT_SIZE}
   */
  slotSize?: number;
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
 * engine call per batch of up to 4096 frames (or per copy region's worth).
 */
export class LiveWindowScanner<C = void> {
  /** The engine whose window holds the copy region and the slots. */
  #engine: DnstapWindowEngine;
  /** The engine for frames longer than the copy region, once one came. */
  #big: DnstapWindowEngine | null = null;
  readonly #callback: LiveBatchCallback;
  #keyOptions: KeyOptions | null;
  readonly #copySize: number;
  readonly #slotSize: number;
  /** Free slots, and the slot of each buffer lent. */
  readonly #free: number[];
  readonly #lent = new Map<Uint8Array, number>();
  #batches = 0;
  #messages = 0;
  #inPlace = 0;
  /** Frames of the run being scanned still to come. */
  #left = 0;

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
    this.#copySize = options.windowSize ?? LIVE_WINDOW;
    this.#slotSize = options.slotSize ?? LIVE_SLOT_SIZE;
    const slots = options.slots ?? LIVE_SLOTS;
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    this.#engine = makeEngine(
      options.engine ?? "auto",
      this.#copySize + slots * this.#slotSize,
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

  /** Rows of those scanned where they were read (in a lent slot). */
  get inPlace(): number {
    return this.#inPlace;
  }

  /** The longest frame (and length word) it scans without growing. */
  get windowSize(): number {
    return Math.max(this.#copySize, this.#big?.window.length ?? 0);
  }

  /** Key lists made from the next scan on (`null`: none). */
  get keyOptions(): KeyOptions | null {
    return this.#keyOptions;
  }

  set keyOptions(options: KeyOptions | null) {
    this.#keyOptions = options;
    this.#engine.keyOptions = options;
    if (this.#big !== null) this.#big.keyOptions = options;
  }

  /**
   * Slots of the engine's window, lent to a FrameReceiver's connections
   * (its `readBuffers`): the runs read into them are scanned in place.
   * A connection asking for more than a slot, or when none is free, is
   * declined (it reads into its own buffers; its runs are copied).
   */
  readonly readBuffers: ReadBufferPool = {
    acquire: (size: number): Uint8Array | null => {
      if (size > this.#slotSize) return null;
      const slot = this.#free.pop();
      if (slot === undefined) return null;
      const at = this.#copySize + slot * this.#slotSize;
      const buffer = this.#engine.window.subarray(at, at + size);
      this.#lent.set(buffer, slot);
      return buffer;
    },
    release: (buffer: Uint8Array): void => {
      const slot = this.#lent.get(buffer);
      if (slot === undefined) {
        throw new TypeError(
          "Cannot take back a read buffer: this scanner did not lend it",
        );
      }
      this.#lent.delete(buffer);
      this.#free.push(slot);
    },
  };

  /**
   * Scans a run: `window[start, end)` holds `frames` whole data frames, as
   * a {@linkcode RunCallback} gets them: in place when it lies in the
   * engine's window (a lent slot), else copied in. A bound function.
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
    this.#left = frames;
    const engine = this.#engine;
    const own = engine.window;
    const base = window.byteOffset - own.byteOffset;
    if (
      window.buffer === own.buffer && base >= 0 && base + end <= own.length
    ) {
      const messages = this.#messages;
      this.#scan(engine, base + start, base + end, false, base + start, frames);
      this.#inPlace += this.#messages - messages;
    } else this.#copy(window, start, end, frames);
    if (this.#left !== 0) {
      throw new RangeError(
        `Cannot scan dnstap: the run holds ${
          frames - this.#left
        } whole data frames, not ${frames}`,
      );
    }
    return undefined;
  };

  /** Scans a run not in the engine's window: copied in, in pieces. */
  #copy(window: Uint8Array, start: number, end: number, frames: number): void {
    const engine = this.#engine;
    const copySize = this.#copySize;
    let at = start;
    while (at < end) {
      const n = Math.min(end - at, copySize);
      engine.window.set(window.subarray(at, at + n), 0);
      const stop = this.#scan(engine, 0, n, n < end - at, start - at, frames);
      if (stop > 0) {
        at += stop;
        continue;
      }
      // A frame longer than the copy region: the engine that holds it.
      const size = 4 + (window[at]! * 2 ** 24 + (window[at + 1]! << 16) +
        (window[at + 2]! << 8) + window[at + 3]!);
      if (at + size > end || size <= copySize) {
        throw this.#notWhole(frames, 0, at - start);
      }
      let big = this.#big;
      if (big === null || big.window.length < size) {
        big = makeEngine(
          engine.name,
          Math.max(size, 2 * (big?.window.length ?? copySize)),
        );
        big.keyOptions = this.#keyOptions;
        this.#big = big;
      }
      big.window.set(window.subarray(at, at + size), 0);
      this.#scan(big, 0, size, false, start - at, frames);
      at += size;
    }
  }

  /**
   * Scans `engine.window[from, to)`, frames whole but (with `cut`) the
   * last, and passes its batches on; the offset from `from` of the first
   * frame not scanned (`to - from` but with `cut`). `origin` is the run's
   * start as a window offset, for errors.
   */
  #scan(
    engine: DnstapWindowEngine,
    from: number,
    to: number,
    cut: boolean,
    origin: number,
    frames: number,
  ): number {
    let at = from;
    while (at < to) {
      const entries = engine.scan(at, to, 0xffff_ffff);
      const status = engine.out[0]!;
      const stop = engine.out[1]!;
      const rows = engine.rows;
      if (
        rows !== entries || rows > this.#left ||
        !(status === STATUS_END || status === STATUS_TABLE_FULL ||
          (status === STATUS_NEED_MORE && cut))
      ) {
        throw this.#notWhole(
          frames,
          rows === entries ? rows : 0,
          stop - origin,
        );
      }
      if (rows > 0) {
        this.#batches++;
        this.#messages += rows;
        this.#left -= rows;
        this.#callback(
          engine.columns,
          rows,
          engine.window,
          this.#keyOptions === null ? null : engine.keys,
        );
      }
      at = stop;
      if (status === STATUS_NEED_MORE) break;
    }
    return at - from;
  }

  /**
   * The error for a run that is not `frames` whole data frames: the frame
   * `more` frames after those passed on, at offset `at` of the run.
   */
  #notWhole(frames: number, more: number, at: number): RangeError {
    return new RangeError(
      `Cannot scan dnstap: the run does not hold ${frames} whole data frames (frame ${
        frames - this.#left + more
      } at ${at})`,
    );
  }
}
