// Private: the two engines of the quiet scan (`fstrm dnstap -q` on runs of
// data frames), behind one shape, and the loop that drives either.
//
// - TsQuietEngine runs quietScanTs (src/_dnstap_quiet_fast.ts) on the
//   window in place.
// - WasmQuietEngine scans in its WebAssembly instance's memory
//   (wasm/dnstap_quiet.ts): a run in the window it gave a reader
//   (attachWindow: the reader reads straight into that memory) where it
//   lies, any other run copied in first. Its tables are written once, from
//   src/_dnstap_quiet_tables.ts.
//
// attachWindow gives a window to read into and scan frames in: a
// WindowLoop scanner (src/_window_loop.ts) whose runs of data frames the
// engine then scans in place (src/_dnstap_quiet_reader.ts).
//
// Both keep a clock cache (the `hh:mm:ss` of each second, in the local zone
// as goLocalClock gives it), filled by the driver when a scan asks; make an
// engine after the zone is set.
import type { EngineOption } from "./engine.ts";
import { goLocalClock } from "./_go_time.ts";
import { QuietClocks, quietScanTs } from "./_dnstap_quiet_fast.ts";
import {
  CLOCK_SLOTS,
  QS_BAD_RUN,
  QS_DONE,
  QS_FALLBACK,
  QS_LIMIT,
  QS_NEED_CLOCK,
  QS_OUT_FULL,
  quietTables,
  TABLES_BYTES,
} from "./_dnstap_quiet_tables.ts";
import { DNSTAP_QUIET_WASM } from "./_dnstap_quiet_wasm_bytes.ts";
import { compileOnce, instantiate, MAX_END } from "./_wasm_loader.ts";
import { ENTRY_WORDS, scanFramesTs } from "./_scan.ts";
import { TABLE_CAPACITY } from "./_engine.ts";
import { limit } from "./_wasm_engine.ts";
import type { Scanner } from "./_window_loop.ts";

/**
 * A window a reader reads into, and its frame scan (as a WindowLoop
 * scanner: `scan` ignores its buffer argument and scans `window`).
 */
export interface QuietWindow extends Scanner {
  /** The window: a view valid until the engine's next attachWindow. */
  readonly window: Uint8Array;
  /** Entries the table holds. */
  readonly capacity: number;
}

/** A quiet scan engine (either implementation). */
export interface QuietEngine {
  /** Which implementation runs. */
  readonly name: "ts" | "wasm";
  /**
   * After a scan: the window offset of the frame not yet done, the output's
   * length, the lines written, the second wanted (on QS_NEED_CLOCK).
   */
  readonly results: Float64Array;
  /** Takes the run `window[from, to)` (whole data frames) for scans. */
  load(window: Uint8Array, from: number, to: number): void;
  /** Scans the loaded run from the window offset `pos`; a `QS_` status. */
  scan(pos: number, maxLines: number): number;
  /** The last scan's output, `results[1]` bytes; valid until the next. */
  output(): Uint8Array;
  /** Sets the clock text (8 characters) of a second. */
  setClock(sec: number, text: string): void;
  /**
   * Gives a window of `size` bytes to read into: a run loaded from it is
   * scanned where it lies. Replaces the window of an earlier call (whose
   * views are no longer valid).
   *
   * @throws {RangeError} If the engine's memory cannot hold it.
   */
  attachWindow(size: number): QuietWindow;
}

/** Bytes of output per scan (the WebAssembly module's too). */
const OUTPUT_BYTES = 262_144;

/** The TypeScript engine. */
export class TsQuietEngine implements QuietEngine {
  readonly name = "ts" as const;
  readonly results: Float64Array = new Float64Array(4);
  #clocks = new QuietClocks();
  #out = new Uint8Array(OUTPUT_BYTES);
  #window: Uint8Array = new Uint8Array(0);
  #to = 0;

  load(window: Uint8Array, from: number, to: number): void {
    checkRun(window, from, to);
    this.#window = window;
    this.#to = to;
  }

  scan(pos: number, maxLines: number): number {
    return quietScanTs(
      this.#window,
      pos,
      this.#to,
      this.#out,
      0,
      OUTPUT_BYTES,
      maxLines,
      this.#clocks,
      this.results,
    );
  }

  output(): Uint8Array {
    return this.#out.subarray(0, this.results[1]);
  }

  setClock(sec: number, text: string): void {
    this.#clocks.set(sec, text);
  }

  attachWindow(size: number): QuietWindow {
    const window = new Uint8Array(size);
    const table = new Uint32Array(TABLE_CAPACITY * ENTRY_WORDS);
    const out = new Uint32Array(8);
    return {
      window,
      table,
      out,
      capacity: TABLE_CAPACITY,
      scan: (_buf, start, end, max) =>
        scanFramesTs(window, start, end, max, table, TABLE_CAPACITY, out),
    };
  }
}

/** What wasm/dnstap_quiet.ts exports. */
interface QuietExports {
  readonly memory: WebAssembly.Memory;
  resultsOffset(): number;
  tablesOffset(): number;
  tablesBytes(): number;
  clocksOffset(): number;
  outputOffset(): number;
  outputBytes(): number;
  inputOffset(): number;
  inputCapacity(): number;
  ensureInput(size: number): number;
  scan(from: number, to: number, maxLines: number): number;
  outOffset(): number;
  tableOffset(): number;
  tableCapacity(): number;
  scanFrames(from: number, to: number, maxFrameLength: number): number;
}

/** The module, compiled once (by the shared loader). */
const quietModule = compileOnce(DNSTAP_QUIET_WASM, "quiet scan");

/**
 * The WebAssembly engine. A run its memory cannot hold (more than
 * `inputLimit` bytes, or memory that cannot grow) is scanned by a
 * TypeScript engine of its own instead: the same results, the slow way.
 * So is any run not in the window, once a window is attached: memory
 * never grows under the window, and the window's bytes are never
 * overwritten by a copy.
 */
export class WasmQuietEngine implements QuietEngine {
  readonly name = "wasm" as const;
  readonly results: Float64Array = new Float64Array(4);
  #x: QuietExports;
  #base = 0;
  #to = 0;
  #inputLimit: number;
  /** The engine of the run loaded, when it is not this one. */
  #slow: TsQuietEngine | null = null;
  #useSlow = false;
  /** The attached window, or null. */
  #window: Uint8Array | null = null;

  /**
   * Instantiates the module, with memory of its own, and writes its tables.
   *
   * @param inputLimit The longest run copied into WebAssembly memory
   *   (longer ones are scanned in TypeScript).
   * @throws {Error} If WebAssembly is missing or cannot instantiate it, or
   *   its layout is not this module's.
   */
  constructor(inputLimit: number = 0x7fff_0000) {
    this.#inputLimit = inputLimit;
    this.#x = instantiate<QuietExports>(
      quietModule,
      "quiet scan",
      0,
      (x) => {
        if (
          x.tablesBytes() !== TABLES_BYTES ||
          x.outputBytes() !== OUTPUT_BYTES ||
          typeof x.scanFrames !== "function" ||
          x.tableCapacity() !== TABLE_CAPACITY ||
          // The frame table (wasm/assembly/frames.ts) ends before the
          // quiet scan's tables start.
          x.tableOffset() + TABLE_CAPACITY * ENTRY_WORDS * 4 > x.tablesOffset()
        ) {
          throw new RangeError(`its layout is not this module's`);
        }
      },
    );
    const x = this.#x;
    const mem = x.memory.buffer;
    new Uint8Array(mem, x.tablesOffset(), TABLES_BYTES).set(quietTables());
    const clocks = new DataView(mem, x.clocksOffset(), CLOCK_SLOTS * 16);
    for (let s = 0; s < CLOCK_SLOTS; s++) clocks.setFloat64(s * 16, -1, true);
  }

  load(window: Uint8Array, from: number, to: number): void {
    checkRun(window, from, to);
    if (window === this.#window) {
      // Read into this memory: scanned where it lies.
      this.#useSlow = false;
      this.#base = 0;
      this.#to = to;
      return;
    }
    const x = this.#x;
    this.#useSlow = this.#window !== null || to - from > this.#inputLimit ||
      (to - from > x.inputCapacity() && x.ensureInput(to - from) === 0);
    if (this.#useSlow) {
      this.#slow ??= new TsQuietEngine();
      this.#slow.load(window, from, to);
      return;
    }
    new Uint8Array(x.memory.buffer, x.inputOffset(), to - from).set(
      window.subarray(from, to),
    );
    this.#base = from;
    this.#to = to;
  }

  scan(pos: number, maxLines: number): number {
    if (this.#useSlow) {
      const status = this.#slow!.scan(pos, maxLines);
      this.results.set(this.#slow!.results);
      return status;
    }
    const x = this.#x;
    const status = x.scan(
      pos - this.#base,
      this.#to - this.#base,
      Math.min(maxLines, 0xffff_ffff),
    );
    const r = new Float64Array(x.memory.buffer, x.resultsOffset(), 4);
    const results = this.results;
    results[0] = r[0]! + this.#base;
    results[1] = r[1]!;
    results[2] = r[2]!;
    results[3] = r[3]!;
    return status;
  }

  output(): Uint8Array {
    if (this.#useSlow) return this.#slow!.output();
    const x = this.#x;
    return new Uint8Array(x.memory.buffer, x.outputOffset(), this.results[1]);
  }

  setClock(sec: number, text: string): void {
    this.#slow?.setClock(sec, text);
    const x = this.#x;
    const at = x.clocksOffset() + (sec % CLOCK_SLOTS) * 16;
    new DataView(x.memory.buffer).setFloat64(at, sec, true);
    const bytes = new Uint8Array(x.memory.buffer, at + 8, 8);
    for (let i = 0; i < 8; i++) bytes[i] = text.charCodeAt(i);
  }

  attachWindow(size: number): QuietWindow {
    const x = this.#x;
    this.#window = null;
    if (
      size > this.#inputLimit || size > MAX_END - x.inputOffset() ||
      x.ensureInput(size) === 0
    ) {
      throw new RangeError(
        `Cannot attach a window: the quiet scan's memory cannot grow to ${size} bytes of input`,
      );
    }
    const buffer = x.memory.buffer;
    const window = new Uint8Array(buffer, x.inputOffset(), size);
    const table = new Uint32Array(
      buffer,
      x.tableOffset(),
      TABLE_CAPACITY * ENTRY_WORDS,
    );
    const out = new Uint32Array(buffer, x.outOffset(), 8);
    const scanFrames = x.scanFrames;
    this.#window = window;
    return {
      window,
      table,
      out,
      capacity: TABLE_CAPACITY,
      scan: (_buf, start, end, max) => scanFrames(start, end, limit(max)),
    };
  }
}

function checkRun(window: Uint8Array, from: number, to: number): void {
  if (!(0 <= from && from <= to && to <= window.length)) {
    throw new RangeError(
      `Cannot scan: the run [${from}, ${to}) is not inside the ${window.length}-byte window`,
    );
  }
}

/**
 * The quiet engine for an engine option: `"ts"`, `"wasm"` (throws where it
 * cannot load), or `"auto"` (WebAssembly where it loads).
 */
export function makeQuietEngine(option: EngineOption): QuietEngine {
  if (option === "ts") return new TsQuietEngine();
  if (option === "wasm") return new WasmQuietEngine();
  try {
    return new WasmQuietEngine();
  } catch {
    return new TsQuietEngine();
  }
}

/** Where {@linkcode quietRun} hands its results. */
export interface QuietRunSink {
  /** Takes lines written (`bytes`, a view valid during the call). */
  lines(bytes: Uint8Array, count: number): void;
  /**
   * Takes the frame `window[offset, offset + length)` that the scan leaves
   * to the object path; returns whether it printed a line (counted against
   * `maxLines`).
   */
  fallback(window: Uint8Array, offset: number, length: number): boolean;
}

/**
 * Writes the quiet lines of the run `window[from, to)` (whole data frames:
 * a big-endian length word, then the payload) with `engine`, at most
 * `maxLines` of them: the scan's lines and clocks, and the object path for
 * the frames it leaves.
 *
 * @returns The lines written; fewer than `maxLines` means the run is done.
 * @throws {RangeError} If the run is not whole frames.
 */
export function quietRun(
  engine: QuietEngine,
  window: Uint8Array,
  from: number,
  to: number,
  maxLines: number,
  sink: QuietRunSink,
): number {
  engine.load(window, from, to);
  const results = engine.results;
  let pos = from;
  let lines = 0;
  while (pos < to && lines < maxLines) {
    const status = engine.scan(pos, maxLines - lines);
    const n = results[2]!;
    if (n > 0) sink.lines(engine.output(), n);
    lines += n;
    pos = results[0]!;
    switch (status) {
      case QS_DONE:
      case QS_LIMIT:
      case QS_OUT_FULL:
        break;
      case QS_NEED_CLOCK: {
        const sec = results[3]!;
        engine.setClock(sec, goLocalClock(sec));
        break;
      }
      case QS_FALLBACK: {
        const length = (window[pos]! << 24 | window[pos + 1]! << 16 |
          window[pos + 2]! << 8 | window[pos + 3]!) >>> 0;
        if (sink.fallback(window, pos + 4, length)) lines++;
        pos += 4 + length;
        break;
      }
      case QS_BAD_RUN:
      default:
        throw new RangeError(
          `Cannot scan: the frame at ${pos} runs past the run's end ${to}`,
        );
    }
  }
  return lines;
}
