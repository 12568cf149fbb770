// The public types of FrameReader (re-exported by src/frame_reader.ts, where
// they are documented for users): its source, options and summary.
import type { Engine } from "./engine.ts";
import type { FrameDecoderOptions } from "./frame_decoder.ts";

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
 * Options of {@linkcode FrameReader}: those of {@linkcode FrameDecoder}
 * (limits, policies, engine) but `outOfPlace`, and how the source is read.
 *
 * @example
 * ```ts
 * import type { FrameReaderOptions } from "@fstrm/fstrm";
 *
 * const options: FrameReaderOptions = { windowSize: 8 << 20, engine: "wasm" };
 * console.log(options.windowSize);
 * ```
 */
export interface FrameReaderOptions
  extends Omit<FrameDecoderOptions, "outOfPlace"> {
  /**
   * Bytes read per call: the window the source is read into and scanned,
   * and most of the reader's memory. From 65,536 to 1,073,741,824. Frame
   * objects that own their payloads (the default of
   * {@linkcode FrameReader.prototype.batches} and async iteration, unless
   * `reuseWindow`) are read 64 KiB at a time instead (or `windowSize` if
   * smaller), into buffers of their own.
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
   * Whether the frame objects of {@linkcode FrameReader.prototype.batches}
   * and of async iteration are views of the reader's one window, reused.
   * `false`: the source is read into fresh buffers of 64 KiB (or
   * `windowSize` if smaller), never written again, and payloads are views of
   * them, safe to keep (a payload kept alive keeps its 64 KiB buffer alive:
   * `slice()` the few you keep long); nothing is copied. `true`: payloads
   * are views of the reader's one window, valid only until the next batch
   * (or, iterating frame by frame, until the iteration leaves that window):
   * use them at once, or `slice()` what you keep; a little faster.
   * {@linkcode FrameReader.prototype.forEachFrame} and
   * {@linkcode FrameReader.prototype.forEachRun} always use the one window.
   *
   * @default {false}
   */
  reuseWindow?: boolean;
}

/**
 * What a {@linkcode FrameReader} saw.
 *
 * @example
 * ```ts
 * import type { FrameReaderSummary } from "@fstrm/fstrm";
 *
 * function report(s: FrameReaderSummary): string {
 *   return `${s.frames} frames, ${s.bytes} bytes, STOP ${s.stopped ? "seen" : "missing"}`;
 * }
 * console.log(typeof report);
 * ```
 */
export interface FrameReaderSummary {
  /** The engine that scanned. */
  readonly engine: Engine;
  /**
   * The content type of the last START frame as text (UTF-8, a bad byte
   * read as U+FFFD), or `null` if none was seen or it had none.
   */
  readonly contentType: string | null;
  /** The exact bytes of {@linkcode FrameReaderSummary.contentType}, or `null`. */
  readonly contentTypeBytes: Uint8Array | null;
  /** Whether a START frame was seen. */
  readonly started: boolean;
  /** Whether the stream's STOP frame was seen. */
  readonly stopped: boolean;
  /** Data frames delivered. */
  readonly frames: number;
  /** Their payload bytes (length words not included). */
  readonly bytes: number;
  /** Control frames delivered (START, STOP, …). */
  readonly controlFrames: number;
  /** Control frames skipped: unknown types, or known ones out of place. */
  readonly skippedFrames: number;
  /** Data frames over `maxFrameLength` skipped under `oversize: "skip"`. */
  readonly oversizedFrames: number;
  /** Bytes read from the source. */
  readonly bytesRead: number;
}
