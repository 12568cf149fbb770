// Private: the scan engines of `fstrm stats`. Window engines of the bulk path
// (see _engine.ts) whose scan also counts the size of every data frame it
// enters in its table, so that frame-size statistics cost no JavaScript call
// per frame: the WebAssembly engine counts in its own memory as it scans
// (wasm/assembly/index.ts scanSizes), its TypeScript twin in a typed array
// right after scanFramesTs. Both give the same table, out words and counts
// on every window (tests/stats_engine_test.ts).
//
// Counts are exact: one f64 per size below DENSE_SIZES (exact up to 2^53
// frames of a size). A data frame of DENSE_SIZES bytes or more is not
// counted there; out[OUT_LARGE] says how many the last scan entered, for the
// caller to take from the table.
import { ENTRY_WORDS, KIND_DATA, scanFramesTs } from "./_scan.ts";
import { TABLE_CAPACITY, type WindowEngine } from "./_engine.ts";
import { limit, wasmModule } from "./_wasm_engine.ts";
import { instantiate, type ModuleExports } from "./_wasm_loader.ts";
import type { Engine } from "./engine.ts";

/** Sizes counted one by one: 0 to DENSE_SIZES - 1. */
export const DENSE_SIZES = 65_536;

/** The out word that holds the last scan's data frames of DENSE_SIZES bytes or more. */
export const OUT_LARGE = 5;

/** A window engine that counts data frame sizes as it scans. */
export interface SizesEngine extends WindowEngine {
  /**
   * Data frames of each size below {@linkcode DENSE_SIZES} entered in the
   * table by every scan so far (floats, so they never wrap).
   */
  readonly sizes: Float64Array;
}

/** What wasm/assembly/index.ts exports that this engine uses. */
interface SizesExports extends ModuleExports {
  outOffset(): number;
  tableOffset(): number;
  sizesBytes(): number;
  scanSizes(
    from: number,
    to: number,
    maxFrameLength: number,
    capacity: number,
  ): number;
}

/**
 * The WebAssembly engine: counts, then the window, in the instance's input
 * region. Memory grows once, in the constructor, so every view stays valid
 * for the engine's life.
 */
export class WasmSizesEngine implements SizesEngine {
  readonly name = "wasm" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array;
  readonly out: Uint32Array;
  readonly sizes: Float64Array;
  readonly capacity: number = TABLE_CAPACITY;
  #scan: SizesExports["scanSizes"];

  /**
   * Instantiates the scanner with a window of `size` bytes.
   *
   * @throws {Error} If WebAssembly is missing, the module has no size
   * counting, or memory cannot grow that far.
   */
  constructor(size: number) {
    // The window follows the counts in the input region.
    const exports = instantiate<SizesExports>(
      wasmModule,
      "scanner",
      DENSE_SIZES * 8 + size,
      (x) => {
        if (typeof x.scanSizes !== "function") {
          throw new TypeError("the module does not count sizes");
        }
        if (x.sizesBytes() !== DENSE_SIZES * 8) {
          throw new RangeError(
            `the module counts ${
              x.sizesBytes() / 8
            } sizes, need ${DENSE_SIZES}`,
          );
        }
      },
    );
    const buffer = exports.memory.buffer;
    const input = exports.inputOffset();
    this.sizes = new Float64Array(buffer, input, DENSE_SIZES);
    this.window = new Uint8Array(buffer, input + exports.sizesBytes(), size);
    this.table = new Uint32Array(
      buffer,
      exports.tableOffset(),
      TABLE_CAPACITY * ENTRY_WORDS,
    );
    this.out = new Uint32Array(buffer, exports.outOffset(), 8);
    this.#scan = exports.scanSizes;
  }

  /** Scans `window[start, end)` and counts; returns the entry count. */
  scan(start: number, end: number, maxFrameLength: number): number {
    return this.#scan(start, end, limit(maxFrameLength), TABLE_CAPACITY);
  }
}

/** The TypeScript twin: scanFramesTs, then a count over its table. */
export class TsSizesEngine implements SizesEngine {
  readonly name = "ts" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array = new Uint32Array(TABLE_CAPACITY * ENTRY_WORDS);
  readonly out: Uint32Array = new Uint32Array(8);
  readonly sizes: Float64Array = new Float64Array(DENSE_SIZES);
  readonly capacity: number = TABLE_CAPACITY;

  /** Makes the engine with a window of `size` bytes. */
  constructor(size: number) {
    this.window = new Uint8Array(size);
  }

  /** Scans `window[start, end)` and counts; returns the entry count. */
  scan(start: number, end: number, maxFrameLength: number): number {
    const table = this.table;
    const n = scanFramesTs(
      this.window,
      start,
      end,
      maxFrameLength,
      table,
      TABLE_CAPACITY,
      this.out,
    );
    const sizes = this.sizes;
    let large = 0;
    for (let e = 0, last = n * ENTRY_WORDS; e < last; e += ENTRY_WORDS) {
      if (table[e + 2] !== KIND_DATA) continue;
      const length = table[e + 1]!;
      if (length < DENSE_SIZES) sizes[length]!++;
      else large++;
    }
    this.out[OUT_LARGE] = large;
    return n;
  }
}

/** A size-counting engine with a window of `size` bytes. */
export function makeSizesEngine(engine: Engine, size: number): SizesEngine {
  return engine === "wasm"
    ? new WasmSizesEngine(size)
    : new TsSizesEngine(size);
}
