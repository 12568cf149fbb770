// Private: the one live scan of runs of data frames (FrameReceiver's
// `onRun`, FrameReader's `forEachRun`), on the one-pass engine of `fstrm top
// -r` (_dnstap_window_engine.ts: frame scan, dnstap scan and, when asked,
// top's key lists, in one call per batch). Under the public DnstapRunScanner
// and top's LiveWindowScanner.
//
// The engine's window is a copy region followed by read slots, which the
// scanner lends to a receiver's connections (`readBuffers`): a run read into
// a slot is scanned where it lies; any other run (one from a file, a frame
// assembled across reads, a connection that found no free slot) is copied
// into the copy region, in pieces of whole frames when it is longer; a frame
// longer than the copy region goes through a second engine, grown to hold
// it. A batch is at most 4096 frames (or a copy region's worth); a callback
// that returns a promise is awaited before the run's next batch (its caller,
// the receiver's connection, waits: the run's bytes stay put). Sans I/O: it
// holds no bytes between runs.
import type { RunCallback } from "./callbacks.ts";
import type { Engine, EngineOption } from "./engine.ts";
import type { ReadBufferPool } from "./_receiver_types.ts";
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "./_dnstap_window_engine.ts";
import type { DnstapKeys, KeyOptions } from "./_dnstap_keys.ts";
import type { RowCounts } from "./_dnstap_counts.ts";
import type { DnstapColumns } from "./_dnstap_scan_layout.ts";
import { STATUS_END, STATUS_NEED_MORE, STATUS_TABLE_FULL } from "./_scan.ts";
import { pickDnstapEngine } from "./_dnstap_scan_engine.ts";
import { isThenable } from "./_thenable.ts";

/** The copy region's size: a receiver's runs are at most its read size
 * (256 KiB) but for one frame assembled across reads. */
export const RUN_WINDOW = 1 << 18;

/** Read slots lent to connections (beyond them, runs are copied). */
export const RUN_SLOTS = 16;

/** A read slot's size: FrameReceiver's largest read by default. */
export const RUN_SLOT_SIZE = 1 << 18;

/**
 * Called once per batch: rows `0` to `count - 1` of `cols` over `window`,
 * `keys` (the engine's key lists, to which the scan added the batch's keys,
 * or `null` without `keyOptions`), the run's connection, and `counts` (the
 * engine's row counts, to which the scan added the batch's rows, or `null`
 * without `countRows`). All are valid during the call only, but `keys` and
 * `counts`, which keep what they hold until their owner empties them. A
 * returned promise is awaited before the run's next batch.
 */
export type RunWindowCallback<C> = (
  cols: DnstapColumns,
  count: number,
  window: Uint8Array,
  keys: DnstapKeys | null,
  connection: C,
  counts: RowCounts | null,
) => void | PromiseLike<void>;

/** Options of {@linkcode RunWindowScanner}. */
export interface RunWindowScannerOptions {
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
   * Whether each scan also counts its rows (`fstrm top`'s per-message
   * counts, `_dnstap_counts.ts`) into the engine's counts, passed to the
   * callback.
   *
   * @default {false}
   */
  countRows?: boolean;
  /**
   * The copy region's size in bytes (a frame longer than it goes through
   * a second engine, grown to hold it).
   *
   * @default {RUN_WINDOW}
   */
  windowSize?: number;
  /**
   * Read slots that `readBuffers` lends.
   *
   * @default {RUN_SLOTS}
   */
  slots?: number;
  /**
   * A slot's size in bytes: the largest read buffer lent.
   *
   * @default {RUN_SLOT_SIZE}
   */
  slotSize?: number;
}

/** The engine for `engine` ("auto": WebAssembly where it loads). */
function makeEngine(engine: EngineOption, size: number): DnstapWindowEngine {
  return pickDnstapEngine(engine, (e) => makeDnstapWindowEngine(e, size));
}

/** A run being scanned. */
interface Run<C> {
  readonly window: Uint8Array;
  readonly start: number;
  readonly end: number;
  readonly frames: number;
  readonly connection: C;
  /** The next frame's offset in `window`. */
  at: number;
  /** Frames still to come. */
  left: number;
}

/** A batch needs a window that holds its first frame. */
const LONGER = Symbol("longer");

/**
 * The scan of runs of whole data frames into columns (and key lists), one
 * engine call per batch.
 */
export class RunWindowScanner<C = void> {
  /** The engine whose window holds the copy region and the slots. */
  readonly #engine: DnstapWindowEngine;
  /** The engine for frames longer than the copy region, once one came. */
  #big: DnstapWindowEngine | null = null;
  readonly #callback: RunWindowCallback<C>;
  #keyOptions: KeyOptions | null;
  #countRows: boolean;
  readonly #copySize: number;
  readonly #slotSize: number;
  /** Free slots, and the slot of each buffer lent. */
  readonly #free: number[];
  readonly #lent = new Map<Uint8Array, number>();
  /** The run whose bytes from `#copiedAt` the copy region holds. */
  #copied: Run<C> | null = null;
  #copiedAt = 0;
  #copiedLength = 0;
  #batches = 0;
  #messages = 0;
  #inPlace = 0;

  /**
   * Makes the scanner and its engine.
   *
   * @throws {TypeError} For an unknown engine.
   * @throws {Error} If `engine` is `"wasm"` where WebAssembly cannot load.
   */
  constructor(
    callback: RunWindowCallback<C>,
    options: RunWindowScannerOptions = {},
  ) {
    this.#callback = callback;
    this.#keyOptions = options.keyOptions ?? null;
    this.#countRows = options.countRows ?? false;
    this.#copySize = options.windowSize ?? RUN_WINDOW;
    this.#slotSize = options.slotSize ?? RUN_SLOT_SIZE;
    const slots = options.slots ?? RUN_SLOTS;
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

  /** Whether the next scans count their rows (see the option). */
  get countRows(): boolean {
    return this.#countRows;
  }

  set countRows(on: boolean) {
    this.#countRows = on;
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
   * engine's window (a lent slot), else copied in. A bound function. The
   * callback's promise, chained over the run's later batches, when it
   * returns one.
   *
   * @throws {RangeError} If the run is not `frames` whole data frames.
   */
  readonly onRun: RunCallback<C> = (
    window,
    start,
    end,
    frames,
    connection,
  ) => {
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start &&
        start <= end && end <= window.length)
    ) {
      throw new RangeError(
        `Cannot scan dnstap: the run [${start}, ${end}) is not within the window's ${window.length} bytes`,
      );
    }
    return this.#go({
      window,
      start,
      end,
      frames,
      connection,
      at: start,
      left: frames,
    });
  };

  /** Scans the rest of a run, up to a callback's promise. */
  #go(run: Run<C>): PromiseLike<void> | undefined {
    while (run.at < run.end) {
      const returned = this.#batch(run);
      if (returned !== undefined && isThenable(returned)) {
        if (run.at < run.end) return this.#chain(returned, run);
        this.#done(run);
        return returned;
      }
    }
    this.#done(run);
    return undefined;
  }

  async #chain(wait: PromiseLike<void>, run: Run<C>): Promise<void> {
    await wait;
    await this.#go(run);
  }

  /** Throws unless every frame said was there. */
  #done(run: Run<C>): void {
    if (run.left !== 0) {
      throw new RangeError(
        `Cannot scan dnstap: the run holds ${
          run.frames - run.left
        } whole data frames, not ${run.frames}`,
      );
    }
  }

  /** Scans the run's next batch, in place or copied; the callback's return. */
  #batch(run: Run<C>): void | PromiseLike<void> {
    const engine = this.#engine;
    const own = engine.window;
    const window = run.window;
    const base = window.byteOffset - own.byteOffset;
    if (
      window.buffer === own.buffer && base >= 0 && base + run.end <= own.length
    ) {
      const messages = this.#messages;
      const returned = this.#scan(
        engine,
        base + run.at,
        base + run.end,
        false,
        run,
        base + run.start,
      );
      this.#inPlace += this.#messages - messages;
      return returned as void | PromiseLike<void>;
    }
    // Copied: the region holds the run from #copiedAt, unless another run
    // was copied since.
    for (;;) {
      if (
        this.#copied !== run || run.at >= this.#copiedAt + this.#copiedLength
      ) {
        const n = Math.min(run.end - run.at, this.#copySize);
        own.set(window.subarray(run.at, run.at + n), 0);
        this.#copied = run;
        this.#copiedAt = run.at;
        this.#copiedLength = n;
      }
      const from = run.at - this.#copiedAt;
      const returned = this.#scan(
        engine,
        from,
        this.#copiedLength,
        this.#copiedAt + this.#copiedLength < run.end,
        run,
        run.start - this.#copiedAt,
      );
      if (returned !== LONGER) return returned;
      if (from > 0) {
        // The frame begins in the region and ends past it: copy from it.
        this.#copied = null;
        continue;
      }
      return this.#long(run);
    }
  }

  /** A frame longer than the copy region: scanned in the engine that holds it. */
  #long(run: Run<C>): void | PromiseLike<void> {
    const window = run.window;
    const at = run.at;
    const size = 4 + (window[at]! * 2 ** 24 + (window[at + 1]! << 16) +
      (window[at + 2]! << 8) + window[at + 3]!);
    if (at + size > run.end || size <= this.#copySize) {
      throw this.#notWhole(run, 0, at - run.start);
    }
    let big = this.#big;
    if (big === null || big.window.length < size) {
      big = makeEngine(
        this.#engine.name,
        Math.max(size, 2 * (big?.window.length ?? this.#copySize)),
      );
      big.keyOptions = this.#keyOptions;
      this.#big = big;
    }
    big.window.set(window.subarray(at, at + size), 0);
    return this.#scan(big, 0, size, false, run, -at + run.start) as
      | void
      | PromiseLike<void>;
  }

  /**
   * Scans one batch of `engine.window[from, to)`, whose frames are whole
   * but (with `cut`) the last, passes it on and moves the run on;
   * `LONGER` if the first frame is cut. `origin` is the window offset of
   * the run's start, for errors.
   */
  #scan(
    engine: DnstapWindowEngine,
    from: number,
    to: number,
    cut: boolean,
    run: Run<C>,
    origin: number,
  ): void | PromiseLike<void> | typeof LONGER {
    const entries = engine.scan(from, to, 0xffff_ffff);
    const status = engine.out[0]!;
    const stop = engine.out[1]!;
    const rows = engine.rows;
    if (
      rows !== entries || rows > run.left ||
      !(status === STATUS_END || status === STATUS_TABLE_FULL ||
        (status === STATUS_NEED_MORE && cut))
    ) {
      throw this.#notWhole(run, rows === entries ? rows : 0, stop - origin);
    }
    if (rows === 0) return LONGER;
    // Counted once the batch is taken (a refused run counts nothing).
    if (this.#countRows) engine.count(rows);
    this.#batches++;
    this.#messages += rows;
    run.left -= rows;
    run.at += stop - from;
    return this.#callback(
      engine.columns,
      rows,
      engine.window,
      this.#keyOptions === null ? null : engine.keys,
      run.connection,
      this.#countRows ? engine.counts : null,
    );
  }

  /**
   * The error for a run that is not its frames whole: the frame `more`
   * frames after those passed on, at offset `at` of the run.
   */
  #notWhole(run: Run<C>, more: number, at: number): RangeError {
    return new RangeError(
      `Cannot scan dnstap: the run does not hold ${run.frames} whole data frames (frame ${
        run.frames - run.left + more
      } at ${at})`,
    );
  }
}
