/**
 * The two engines of the columnar dnstap scan, behind one shape: `scan(buf,
 * table, count)` fills `columns` (see `_dnstap_scan_layout.ts`) from a frame
 * table over `buf`.
 *
 * - {@linkcode TsDnstapScanner} runs `scanDnstapTs` over columns in an
 *   `ArrayBuffer` of its own.
 * - {@linkcode WasmDnstapScanner} copies the table and the window's bytes
 *   (from its first data frame to the end of its last) into its WebAssembly
 *   instance's memory and scans there; its columns are views of that memory.
 *
 * @module
 */
import { scanDnstapTs } from "./_dnstap_scan.ts";
import {
  columnsBytes,
  DnstapColumns,
  SCAN_CAPACITY,
} from "./_dnstap_scan_layout.ts";
import { DNSTAP_SCAN_WASM } from "./_dnstap_scan_wasm_bytes.ts";
import {
  compileOnce,
  instantiate,
  type ModuleExports,
} from "./_wasm_loader.ts";
import type { Engine, EngineOption } from "./engine.ts";
import { wasmAvailable } from "./_wasm_engine.ts";

/** What wasm/dnstap_scan.ts exports. */
interface DnstapScanExports extends ModuleExports {
  tableOffset(): number;
  capacity(): number;
  columnsOffset(): number;
  columnsBytes(): number;
  inputCapacity(): number;
  scan(count: number, base: number): void;
}

/** A columnar dnstap scanner (either engine). */
export interface DnstapScanner {
  /** Which implementation runs. */
  readonly name: "ts" | "wasm";
  /**
   * The columns the last scan filled (rows 0 to its count - 1). Valid until
   * the next scan: the WASM engine may then grow its memory and make new
   * views.
   */
  readonly columns: DnstapColumns;
  /**
   * Scans `count` entries of a frame table over `buf` (see scanDnstapTs).
   *
   * @throws {RangeError} More entries than the columns hold, or an entry
   *   that runs past `buf`.
   */
  scan(buf: Uint8Array, table: Uint32Array, count: number): void;
}

/**
 * The first and one past the last byte of the data frames of the table's
 * first `count` entries, checked against `buf`; `[0, 0]` without data
 * frames.
 */
function dataSpan(
  buf: Uint8Array,
  table: Uint32Array,
  count: number,
  capacity: number,
): [number, number] {
  if (!(count >= 0 && count <= capacity && count * 3 <= table.length)) {
    throw new RangeError(
      `Cannot scan dnstap: ${count} entries, the table holds ${
        Math.floor(table.length / 3)
      } and the columns ${capacity}`,
    );
  }
  let lo = Infinity;
  let hi = 0;
  for (let e = 0; e < count * 3; e += 3) {
    if (table[e + 2] !== 0) continue;
    const start = table[e]!;
    const end = start + 4 + table[e + 1]!;
    if (end > buf.length) {
      throw new RangeError(
        `Cannot scan dnstap: the frame at ${start} ends at ${end}, past the buffer's ${buf.length} bytes`,
      );
    }
    if (start < lo) lo = start;
    if (end > hi) hi = end;
  }
  return hi === 0 ? [0, 0] : [lo, hi];
}

/** The TypeScript engine. */
export class TsDnstapScanner implements DnstapScanner {
  readonly name = "ts" as const;
  readonly columns: DnstapColumns;

  /** Makes the columns (`capacity` rows, a multiple of 8). */
  constructor(capacity: number = SCAN_CAPACITY) {
    this.columns = new DnstapColumns(capacity);
  }

  /** Scans `count` entries of `table` over `buf`. */
  scan(buf: Uint8Array, table: Uint32Array, count: number): void {
    dataSpan(buf, table, count, this.columns.capacity);
    scanDnstapTs(buf, table, count, this.columns);
  }
}

/** The compiled module, compiled once and shared. */
export const dnstapScanModule: () => WebAssembly.Module = compileOnce(
  DNSTAP_SCAN_WASM,
  "dnstap scanner",
);

/** The WebAssembly engine. */
export class WasmDnstapScanner implements DnstapScanner {
  readonly name = "wasm" as const;
  #exports: DnstapScanExports;
  #columns!: DnstapColumns;
  #table!: Uint32Array;
  #buffer: ArrayBufferLike | null = null;

  /**
   * Instantiates the scanner, with memory of its own.
   *
   * @throws {Error} If WebAssembly is missing or cannot instantiate it, or
   *   its layout is not this module's.
   */
  constructor() {
    this.#exports = instantiate<DnstapScanExports>(
      dnstapScanModule,
      "dnstap scanner",
      0,
      (x) => {
        if (
          x.capacity() !== SCAN_CAPACITY ||
          x.columnsBytes() !== columnsBytes(SCAN_CAPACITY)
        ) {
          throw new RangeError(
            `its layout is ${x.capacity()} rows of ${x.columnsBytes()} bytes`,
          );
        }
      },
    );
    this.#views();
  }

  // (Re)makes the views after memory has grown.
  #views(): void {
    const x = this.#exports;
    const buffer = x.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#columns = new DnstapColumns(
      SCAN_CAPACITY,
      buffer,
      x.columnsOffset(),
    );
    this.#table = new Uint32Array(buffer, x.tableOffset(), SCAN_CAPACITY * 3);
  }

  /** The columns of the last scan, views of WebAssembly memory. */
  get columns(): DnstapColumns {
    return this.#columns;
  }

  /** Scans `count` entries of `table` over `buf`. */
  scan(buf: Uint8Array, table: Uint32Array, count: number): void {
    const [lo, hi] = dataSpan(buf, table, count, SCAN_CAPACITY);
    const x = this.#exports;
    if (hi - lo > x.inputCapacity()) {
      if (
        hi - lo > 0xffff_0000 - x.inputOffset() ||
        x.ensureInput(hi - lo) === 0
      ) {
        // Beyond what wasm32 memory holds: same columns the slow way.
        scanDnstapTs(buf, table, count, this.#columns);
        return;
      }
      this.#views();
    }
    this.#table.set(table.subarray(0, count * 3));
    new Uint8Array(x.memory.buffer, x.inputOffset(), hi - lo).set(
      buf.subarray(lo, hi),
    );
    x.scan(count, lo);
  }

  /**
   * The input region, grown to `size` bytes: a view of WebAssembly memory
   * that a reader can fill straight from its source, then scan with
   * {@linkcode WasmDnstapScanner.scanInput} without a copy. Valid until the
   * next call of `input` (memory may grow); `columns` may change with it.
   *
   * @throws {RangeError} If memory cannot grow that far.
   */
  input(size: number): Uint8Array {
    const x = this.#exports;
    if (size > x.inputCapacity()) {
      if (
        !(size <= 0xffff_0000 - x.inputOffset()) || x.ensureInput(size) === 0
      ) {
        throw new RangeError(
          `Cannot grow the dnstap scanner's input to ${size} bytes`,
        );
      }
      this.#views();
    }
    return new Uint8Array(x.memory.buffer, x.inputOffset(), size);
  }

  /**
   * Scans `count` entries of a frame table whose offsets are in the input
   * region (see {@linkcode WasmDnstapScanner.input}); column offsets are
   * input offsets too.
   *
   * @throws {RangeError} As {@linkcode WasmDnstapScanner.scan}, with the
   *   input region as the buffer.
   */
  scanInput(table: Uint32Array, count: number): void {
    const x = this.#exports;
    const input = new Uint8Array(
      x.memory.buffer,
      x.inputOffset(),
      x.inputCapacity(),
    );
    dataSpan(input, table, count, SCAN_CAPACITY);
    this.#table.set(table.subarray(0, count * 3));
    x.scan(count, 0);
  }
}

/**
 * `make(engine)` for `engine`, `"auto"` taking WebAssembly where it loads
 * (TypeScript if it does not, or if `make("wasm")` throws): the one engine
 * switch of the dnstap scans.
 *
 * @param engine Which.
 * @param make Makes the thing for a resolved engine.
 * @returns What `make` made.
 * @throws {Error} If `engine` is `"wasm"` and `make` throws.
 * @throws {TypeError} For an unknown engine.
 */
export function pickDnstapEngine<T>(
  engine: EngineOption,
  make: (engine: Engine) => T,
): T {
  switch (engine) {
    case "ts":
    case "wasm":
      return make(engine);
    case "auto":
      if (wasmAvailable()) {
        try {
          return make("wasm");
        } catch {
          // Falls back below.
        }
      }
      return make("ts");
    default:
      throw new TypeError(
        `Cannot scan dnstap: engine must be "auto", "wasm" or "ts", got ${
          String(engine)
        }`,
      );
  }
}

/**
 * Makes a scanner of the columnar dnstap scan.
 *
 * @param engine Which: `"auto"` takes WebAssembly where it loads.
 * @returns The scanner.
 * @throws {Error} If `engine` is `"wasm"` and WebAssembly cannot load it.
 * @throws {TypeError} For an unknown engine.
 */
export function makeDnstapScanner(engine: EngineOption): DnstapScanner {
  return pickDnstapEngine<DnstapScanner>(
    engine,
    (e) => e === "wasm" ? new WasmDnstapScanner() : new TsDnstapScanner(),
  );
}
