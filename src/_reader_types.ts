// The public types of FrameReader (re-exported by src/frame_reader.ts, where
// they are documented for users): its source, options, summary, callbacks.
import type { Engine, EngineOption } from "./engine.ts";
import type { OversizePolicy } from "./frame_decoder.ts";

/**
 * Where a {@linkcode FrameReader} reads from: anything with Deno's `read`
 * contract, such as `Deno.FsFile` or `Deno.Conn`.
 *
 * @example
 * ```ts
 * import type { FrameSource } from "@fstrm/fstrm";
 *
 * const empty: FrameSource = { read: () => Promise.resolve(null) };
 * console.log(typeof empty.read);
 * ```
 */
export interface FrameSource {
  /**
   * Reads into `buffer`; resolves to the byte count, or `null` at the end.
   *
   * @param buffer Where to put the bytes.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Optional: reads into `buffer` synchronously (as `Deno.FsFile` does).
   * When present the reader uses it, unless `readSync: false`: a file read
   * from the page cache costs far less this way than through an async read.
   *
   * @param buffer Where to put the bytes.
   */
  readSync?(buffer: Uint8Array): number | null;
}

/**
 * Options of {@linkcode FrameReader}.
 *
 * @example
 * ```ts
 * import type { FrameReaderOptions } from "@fstrm/fstrm";
 *
 * const options: FrameReaderOptions = { windowSize: 8 << 20, engine: "wasm" };
 * console.log(options.windowSize);
 * ```
 */
export interface FrameReaderOptions {
  /**
   * The longest data frame payload accepted, in bytes (1 to 4,294,967,295).
   * A frame longer than the window is read into a buffer of its own.
   *
   * @default {1048576}
   */
  maxFrameLength?: number;
  /**
   * What to do with a longer data frame: throw, or skip it without
   * buffering it and count it.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
  /**
   * Reject what is otherwise skipped: unknown or misplaced control frames,
   * data before START, and end of input without STOP.
   *
   * @default {false}
   */
  strict?: boolean;
  /**
   * The scan engine. `"auto"` takes WebAssembly where it loads, which
   * scans files fastest, and TypeScript elsewhere; for frames that own
   * their payloads (`copyPayloads`, the default of
   * {@linkcode FrameReader.prototype.batches} and async iteration) it takes
   * TypeScript, which scans the fresh buffers in place where WebAssembly
   * would copy them into its memory.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /**
   * Bytes read per call: the window the source is read into and scanned,
   * and most of the reader's memory. From 65,536 to 1,073,741,824. Frames
   * that own their payloads (`copyPayloads`) are read 64 KiB at a time
   * instead (or `windowSize` if smaller), into buffers of their own.
   *
   * @default {1048576}
   */
  windowSize?: number;
  /**
   * Use the source's `readSync` where it has one. Each call blocks the
   * event loop for one window's read (well under a millisecond from the page
   * cache); turn it off for sources that may stall, such as network
   * filesystems.
   *
   * @default {true}
   */
  readSync?: boolean;
  /**
   * Whether the frames of {@linkcode FrameReader.prototype.batches} and of
   * async iteration own their payloads. `true`: the source is read into
   * fresh buffers of 64 KiB (or `windowSize` if smaller), never written
   * again, and payloads are views of them, safe to keep (a payload kept
   * alive keeps its 64 KiB buffer alive: `slice()` the few you keep long);
   * nothing is copied. `false`: payloads are views of the reader's one
   * window, valid only until the next batch (or, iterating frame by frame,
   * until the iteration leaves that window): use them at once, or `slice()`
   * what you keep. {@linkcode FrameReader.prototype.forEachFrame} and
   * {@linkcode FrameReader.prototype.forEachRun} always use the one window.
   *
   * @default {true}
   */
  copyPayloads?: boolean;
}

/**
 * What a {@linkcode FrameReader} saw.
 *
 * @example
 * ```ts
 * import type { FrameReaderSummary } from "@fstrm/fstrm";
 *
 * function report(s: FrameReaderSummary): string {
 *   return `${s.dataFrames} frames, ${s.payloadBytes} bytes, STOP ${s.stopped ? "seen" : "missing"}`;
 * }
 * console.log(typeof report);
 * ```
 */
export interface FrameReaderSummary {
  /** The engine that scanned. */
  readonly engine: Engine;
  /** The content type of the last START frame, or `null`. */
  readonly contentType: Uint8Array | null;
  /** Whether a START frame was seen. */
  readonly started: boolean;
  /** Whether the stream's STOP frame was seen. */
  readonly stopped: boolean;
  /** Data frames delivered. */
  readonly dataFrames: number;
  /** Their payload bytes. */
  readonly payloadBytes: number;
  /** Control frames delivered (START, STOP, …). */
  readonly controlFrames: number;
  /** Control frames skipped: unknown types, or known ones out of place. */
  readonly skippedFrames: number;
  /** Data frames over `maxFrameLength` skipped under `oversize: "skip"`. */
  readonly oversizedFrames: number;
  /** Bytes read from the source. */
  readonly bytesRead: number;
}

/**
 * Called once per data frame by {@linkcode FrameReader.prototype.forEachFrame}:
 * the payload is `window[offset, offset + length)`. The window is the
 * reader's own buffer, reused for the next window: read the payload (or copy
 * it) before returning, never keep the view. If it returns a promise, the
 * reader waits for it before the next frame (the view stays valid until the
 * promise settles).
 *
 * @example
 * ```ts
 * import type { DataFrameCallback } from "@fstrm/fstrm";
 *
 * let total = 0;
 * const count: DataFrameCallback = (_window, _offset, length) => {
 *   total += length;
 * };
 * count(new Uint8Array(8), 4, 4);
 * console.log(total); // 4
 * ```
 */
export type DataFrameCallback = (
  window: Uint8Array,
  offset: number,
  length: number,
) => void | PromiseLike<void>;

/**
 * What {@linkcode FrameReader.prototype.forEachRun} calls with each run of
 * consecutive data frames: `window[start, end)` holds `frames` whole data
 * frames still encoded (each a 4-byte big-endian length and its payload),
 * exactly as they were in the input. The window is the reader's own and
 * changes after the callback returns, unless it returns a promise: the
 * reader then waits for it, the window intact.
 *
 * @example
 * ```ts
 * import type { FrameRunCallback } from "@fstrm/fstrm";
 *
 * let bytes = 0;
 * const count: FrameRunCallback = (_window, start, end) => {
 *   bytes += end - start;
 * };
 * count(new Uint8Array(16), 0, 16, 2);
 * console.log(bytes); // 16
 * ```
 */
export type FrameRunCallback = (
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
) => void | PromiseLike<void>;
