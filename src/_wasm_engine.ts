// The WebAssembly scan engine: the AssemblyScript twin of scanFramesTs
// (wasm/assembly/index.ts), behind the same ScanEngine contract, giving the
// same counts, entries and out words on every input.
//
// One compiled module is shared (src/_wasm_loader.ts compiles and instantiates
// every module); each engine has its own instance, so its own
// memory, result table and out words, and decoders stay independent.
//
// The scanner reads only WebAssembly memory, so the window's bytes are copied
// in, in pieces of at most PIECE bytes, and the scanner asks for the next
// piece (STATUS_REFILL) when it needs bytes it has not got. Copying a whole
// window per call would be quadratic: a decoder calls again on the rest of
// its chunk each time the table fills. Data frame payloads are never read, so
// after a payload of PIECE bytes or more, and at the start of a window, only
// a header's worth (JUMP_PIECE) is copied first: a large frame costs a header
// copy, not a payload copy.
import { ENTRY_WORDS, scanFramesTs } from "./_scan.ts";
import {
  type ScanEngine,
  TABLE_CAPACITY,
  type WindowEngine,
} from "./_engine.ts";
import { SCANNER_WASM } from "./_wasm_scanner_bytes.ts";
import {
  compileOnce,
  instantiate,
  MAX_END,
  type ModuleExports,
} from "./_wasm_loader.ts";

/** What wasm/assembly/index.ts exports. */
interface ScannerExports extends ModuleExports {
  outOffset(): number;
  tableOffset(): number;
  tableCapacity(): number;
  inputCapacity(): number;
  scan(
    copied: number,
    length: number,
    maxFrameLength: number,
    count: number,
    capacity: number,
    base: number,
  ): number;
  scanInPlace(
    from: number,
    to: number,
    maxFrameLength: number,
    capacity: number,
  ): number;
}

/** The scanner's own status: copy the window from out[1] and call again. */
const STATUS_REFILL = 5;
/** Bytes copied per piece. */
const PIECE = 16_384;
/** Bytes copied after a jump over a payload of PIECE bytes or more: enough
 * for a frame header. (A control frame there needs a second, PIECE-sized
 * copy, which is never less than the 8 + 512 bytes it can need.) */
const JUMP_PIECE = 16;
/** Copies this short go byte by byte: cheaper than a subarray and set(). */
const SHORT_COPY = 32;

/**
 * The compiled scanner module, compiled once and shared.
 *
 * @throws {Error} If WebAssembly is missing or cannot compile the module.
 */
export const wasmModule: () => WebAssembly.Module = compileOnce(
  SCANNER_WASM,
  "scanner",
);

let available: boolean | null = null;

/**
 * Whether a {@linkcode WasmScanEngine} can be made here. Tries once, then
 * remembers.
 */
export function wasmAvailable(): boolean {
  if (available === null) {
    try {
      new WasmScanEngine();
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** The WebAssembly engine. */
export class WasmScanEngine implements ScanEngine {
  readonly name = "wasm" as const;
  // Views of the instance's memory. Memory grows only in the constructor,
  // before they are made, so they stay valid.
  readonly table: Uint32Array;
  readonly out: Uint32Array;
  #input: Uint8Array;
  #scan: ScannerExports["scan"];

  /**
   * Instantiates the scanner, with memory of its own.
   *
   * @throws {Error} If WebAssembly is missing or cannot instantiate it.
   */
  constructor() {
    const exports = instantiate<ScannerExports>(
      wasmModule,
      "scanner",
      PIECE,
      (x) => {
        if (x.tableCapacity() < TABLE_CAPACITY) {
          throw new RangeError(
            `its table holds ${x.tableCapacity()} entries, need ${TABLE_CAPACITY}`,
          );
        }
      },
    );
    const buffer = exports.memory.buffer;
    this.table = new Uint32Array(
      buffer,
      exports.tableOffset(),
      TABLE_CAPACITY * ENTRY_WORDS,
    );
    this.out = new Uint32Array(buffer, exports.outOffset(), 8);
    this.#input = new Uint8Array(buffer, exports.inputOffset(), PIECE);
    this.#scan = exports.scan;
  }

  /** Scans `buf[start, end)` as scanFramesTs does; returns the entry count. */
  scan(
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrameLength: number,
  ): number {
    if (
      !(start >= 0 && start <= end && end <= buf.length && end <= MAX_END) ||
      !Number.isInteger(start) || !Number.isInteger(end)
    ) {
      // Out of the scanner's range (or nonsense): same results the slow way.
      return scanFramesTs(
        buf,
        start,
        end,
        maxFrameLength,
        this.table,
        TABLE_CAPACITY,
        this.out,
      );
    }
    const max = limit(maxFrameLength);
    const input = this.#input;
    const out = this.out;
    const scan = this.#scan;
    let at = start;
    // The first frame may be a large one: probe its header first.
    let piece = JUMP_PIECE;
    let n = 0;
    for (;;) {
      const length = end - at;
      const copied = length < piece ? length : piece;
      if (copied > SHORT_COPY) input.set(buf.subarray(at, at + copied));
      else for (let i = 0; i < copied; i++) input[i] = buf[at + i]!;
      n = scan(copied, length, max, n, TABLE_CAPACITY, at);
      if (out[0] !== STATUS_REFILL) return n;
      const next = out[1]!;
      // Past a payload of a piece or more, the next frame may be as large:
      // copy a small piece, not a payload's worth.
      piece = next - (at + copied) >= PIECE ? JUMP_PIECE : PIECE;
      at = next;
    }
  }
}

/**
 * The WebAssembly engine of the bulk path: a window of a fixed size in the
 * instance's memory, which the reader fills straight from its source (no
 * copy), and scans in place. Memory grows once, in the constructor, and never
 * again, so `window`, `table` and `out` stay valid views for the engine's
 * life.
 */
export class WasmWindowEngine implements WindowEngine {
  readonly name = "wasm" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array;
  readonly out: Uint32Array;
  readonly capacity: number = TABLE_CAPACITY;
  #scan: ScannerExports["scanInPlace"];

  /**
   * Instantiates the scanner with a window of `size` bytes.
   *
   * @throws {Error} If WebAssembly is missing or cannot give that memory.
   */
  constructor(size: number) {
    const exports = instantiate<ScannerExports>(wasmModule, "scanner", size);
    const buffer = exports.memory.buffer;
    this.window = new Uint8Array(buffer, exports.inputOffset(), size);
    this.table = new Uint32Array(
      buffer,
      exports.tableOffset(),
      TABLE_CAPACITY * ENTRY_WORDS,
    );
    this.out = new Uint32Array(buffer, exports.outOffset(), 8);
    this.#scan = exports.scanInPlace;
  }

  /** Scans `window[start, end)`; returns the entry count. */
  scan(start: number, end: number, maxFrameLength: number): number {
    return this.#scan(start, end, limit(maxFrameLength), TABLE_CAPACITY);
  }
}

/** A u32 `m` such that `len > m` exactly when `len > maxFrameLength`. */
export function limit(maxFrameLength: number): number {
  if (maxFrameLength >= 0xffff_ffff) return 0xffff_ffff;
  if (maxFrameLength >= 0) return Math.floor(maxFrameLength);
  // Negative: every length is over. NaN: none is.
  return maxFrameLength < 0 ? 0 : 0xffff_ffff;
}
