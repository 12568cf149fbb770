/**
 * The one-pass engines of the dnstap scan: window engines of the bulk path
 * (see `_engine.ts`) whose `scan` runs the frame scan over the window, then
 * the columnar dnstap scan of its data frames, then (when asked) the key
 * lists of `fstrm top` (`_dnstap_keys.ts`) and its row counts
 * (`_dnstap_counts.ts`), in one call.
 *
 * - {@linkcode WasmDnstapWindowEngine}: the window is in the WebAssembly
 *   instance's memory, which the reader fills straight from its source; one
 *   call (`scanWindow` of `wasm/dnstap_scan.ts`) does it all, with no copy.
 * - {@linkcode TsDnstapWindowEngine}: its twin over a JavaScript buffer:
 *   `scanFramesTs`, the data entries gathered, `scanDnstapTs`, `keysTs`,
 *   `countRowsTs`.
 *
 * Both fill the same frame table and out words as the frame scanners, and
 * the same columns, key lists and counts (tests/dnstap_scan_parity_test.ts,
 * tests/dnstap_counts_test.ts). Row `r` of the columns is the `r`-th data
 * frame of the table; offsets are window offsets.
 *
 * @module
 */
import { ENTRY_WORDS, KIND_DATA, scanFramesTs } from "./_scan.ts";
import { TABLE_CAPACITY, type WindowEngine } from "./_engine.ts";
import { limit } from "./_wasm_engine.ts";
import { scanDnstapTs } from "./_dnstap_scan.ts";
import {
  columnsBytes,
  DnstapColumns,
  SCAN_CAPACITY,
} from "./_dnstap_scan_layout.ts";
import {
  DnstapKeys,
  KEY_LIST_BYTES,
  type KeyOptions,
  keysTs,
} from "./_dnstap_keys.ts";
import { dnstapScanModule } from "./_dnstap_scan_engine.ts";
import { countRowsTs, COUNTS_BYTES, RowCounts } from "./_dnstap_counts.ts";
import type { Engine } from "./engine.ts";
import { instantiate, type ModuleExports } from "./_wasm_loader.ts";

/** The out word that holds the last scan's data rows. */
export const OUT_ROWS = 6;

/** A window engine that also scans dnstap (and lists keys). */
export interface DnstapWindowEngine extends WindowEngine {
  /** The columns of the last scan: row r is its r-th data frame. */
  readonly columns: DnstapColumns;
  /** The key lists of the last scan (when `keyOptions` is set). */
  readonly keys: DnstapKeys;
  /** Key lists to make on each scan, or null for none. */
  keyOptions: KeyOptions | null;
  /**
   * The counts each scan adds its rows to when `countRows` is set (empty
   * at first; their reader empties them, see `_top_stats.ts`).
   */
  readonly counts: RowCounts;
  /**
   * Whether each scan counts its rows into `counts`.
   *
   * @default {false}
   */
  countRows: boolean;
  /** Data rows of the last scan (`out[OUT_ROWS]`). */
  readonly rows: number;
  /** Counts rows 0 to `rows - 1` of `columns` into `counts` (tests). */
  count(rows: number): void;
}

/** What wasm/dnstap_scan.ts exports that this engine uses. */
interface WindowExports extends ModuleExports {
  tableOffset(): number;
  columnsOffset(): number;
  columnsBytes(): number;
  capacity(): number;
  keysOffset(): number;
  keyListBytes(): number;
  keyCountsOffset(): number;
  countsOffset(): number;
  countsBytes(): number;
  countRows(rows: number): void;
  scanWindow(
    from: number,
    to: number,
    maxFrameLength: number,
    keyFlags: number,
  ): number;
}

/**
 * The flags of scanWindow: keys() for `options` (bit 0 and the bits of
 * its options; none for null), countRows() with `count` (bit 2).
 */
function scanFlags(options: KeyOptions | null, count: boolean): number {
  const counting = count ? 4 : 0;
  if (options === null) return counting;
  return 1 | (options.fold ? 2 : 0) | ((options.depth & 0xff) << 8) |
    counting;
}

/**
 * The WebAssembly engine. Memory grows once, in the constructor, so every
 * view stays valid for the engine's life.
 */
export class WasmDnstapWindowEngine implements DnstapWindowEngine {
  readonly name = "wasm" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array;
  readonly out: Uint32Array;
  readonly columns: DnstapColumns;
  readonly keys: DnstapKeys;
  readonly counts: RowCounts;
  readonly capacity: number = TABLE_CAPACITY;
  keyOptions: KeyOptions | null = null;
  countRows = false;
  #scan: WindowExports["scanWindow"];
  #count: WindowExports["countRows"];

  /**
   * Instantiates the module with a window of `size` bytes.
   *
   * @throws {Error} If WebAssembly is missing, the module is not this one,
   * or memory cannot grow that far.
   */
  constructor(size: number) {
    // 8 bytes past the window: keys() reads names 8 bytes at a time.
    const x = instantiate<WindowExports>(
      dnstapScanModule,
      "dnstap scanner",
      size + 8,
      (x) => {
        if (
          typeof x.scanWindow !== "function" ||
          x.capacity() !== SCAN_CAPACITY ||
          x.columnsBytes() !== columnsBytes(SCAN_CAPACITY) ||
          x.keyListBytes() !== KEY_LIST_BYTES ||
          x.countsBytes() !== COUNTS_BYTES
        ) {
          throw new RangeError("its layout is not this engine's");
        }
      },
    );
    const buffer = x.memory.buffer;
    this.window = new Uint8Array(buffer, x.inputOffset(), size);
    this.table = new Uint32Array(
      buffer,
      x.tableOffset(),
      TABLE_CAPACITY * ENTRY_WORDS,
    );
    this.out = new Uint32Array(buffer, 0, 8);
    this.columns = new DnstapColumns(
      SCAN_CAPACITY,
      buffer,
      x.columnsOffset(),
    );
    this.keys = new DnstapKeys(buffer, x.keysOffset(), x.keyCountsOffset());
    // Fresh memory: zeroes.
    this.counts = new RowCounts(buffer, x.countsOffset());
    this.#scan = x.scanWindow;
    this.#count = x.countRows;
  }

  /** Data rows of the last scan. */
  get rows(): number {
    return this.out[OUT_ROWS]!;
  }

  /** Scans `window[start, end)`; returns the frame table's entry count. */
  scan(start: number, end: number, maxFrameLength: number): number {
    return this.#scan(
      start,
      end,
      limit(maxFrameLength),
      scanFlags(this.keyOptions, this.countRows),
    );
  }

  /** Counts rows 0 to `rows - 1` of `columns` into `counts`. */
  count(rows: number): void {
    if (!(rows >= 0 && rows <= SCAN_CAPACITY)) {
      throw new RangeError(
        `Cannot count ${rows} rows: at most ${SCAN_CAPACITY}`,
      );
    }
    this.#count(rows);
  }
}

/** The TypeScript twin. */
export class TsDnstapWindowEngine implements DnstapWindowEngine {
  readonly name = "ts" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array = new Uint32Array(TABLE_CAPACITY * ENTRY_WORDS);
  readonly out: Uint32Array = new Uint32Array(8);
  readonly columns: DnstapColumns = new DnstapColumns(SCAN_CAPACITY);
  readonly keys: DnstapKeys = new DnstapKeys();
  /** Made on first use (1.3 MiB): most scans never count. */
  #counts: RowCounts | null = null;
  readonly capacity: number = TABLE_CAPACITY;
  keyOptions: KeyOptions | null = null;
  countRows = false;
  readonly #data = new Uint32Array(SCAN_CAPACITY * ENTRY_WORDS);

  /** Makes the engine with a window of `size` bytes. */
  constructor(size: number) {
    this.window = new Uint8Array(size);
  }

  /** Data rows of the last scan. */
  get rows(): number {
    return this.out[OUT_ROWS]!;
  }

  /** Scans `window[start, end)`; returns the frame table's entry count. */
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
    const data = this.#data;
    let rows = 0;
    for (let e = 0, last = n * ENTRY_WORDS; e < last; e += ENTRY_WORDS) {
      if (table[e + 2] !== KIND_DATA) continue;
      data[3 * rows] = table[e]!;
      data[3 * rows + 1] = table[e + 1]!;
      data[3 * rows + 2] = 0;
      rows++;
    }
    this.out[OUT_ROWS] = rows;
    scanDnstapTs(this.window, data, rows, this.columns);
    if (this.keyOptions !== null) {
      keysTs(this.columns, rows, this.window, this.keyOptions, this.keys);
    }
    if (this.countRows) countRowsTs(this.columns, 0, rows, this.counts);
    return n;
  }

  /** The counts scans add their rows to (see the interface). */
  get counts(): RowCounts {
    return this.#counts ??= new RowCounts();
  }

  /** Counts rows 0 to `rows - 1` of `columns` into `counts`. */
  count(rows: number): void {
    if (!(rows >= 0 && rows <= SCAN_CAPACITY)) {
      throw new RangeError(
        `Cannot count ${rows} rows: at most ${SCAN_CAPACITY}`,
      );
    }
    countRowsTs(this.columns, 0, rows, this.counts);
  }
}

/** A one-pass engine with a window of `size` bytes. */
export function makeDnstapWindowEngine(
  engine: Engine,
  size: number,
): DnstapWindowEngine {
  return engine === "wasm"
    ? new WasmDnstapWindowEngine(size)
    : new TsDnstapWindowEngine(size);
}
