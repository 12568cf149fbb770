/**
 * The bulk path: reading Frame Streams files (or any byte source) of any
 * size, fast, in bounded memory.
 *
 * @example Counting the frames of a capture file
 * ```ts
 * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["a", "bb", "ccc"], { contentType: "t" }));
 *
 * await using reader = await FrameReader.open(path);
 * let bytes = 0;
 * const summary = await reader.forEachFrame((_window, _offset, length) => {
 *   bytes += length;
 * });
 * assert.equal(summary.dataFrames, 3);
 * assert.equal(bytes, 6);
 * assert.ok(summary.stopped);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */
import { DEFAULT_MAX_FRAME_LENGTH } from "./constants.ts";
import type { ControlFrame, Frame } from "./frame.ts";
import { FrameTooLargeError, TruncatedFrameError } from "./errors.ts";
import type { Engine, EngineOption } from "./engine.ts";
import type { OversizePolicy } from "./frame_decoder.ts";
import {
  KIND_DATA,
  NEED_DATA,
  NEED_HEADER,
  STATUS_CONTROL_ERROR,
  STATUS_END,
  STATUS_NEED_MORE,
  STATUS_TABLE_FULL,
  STATUS_TOO_LARGE,
} from "./_scan.ts";
import type { WindowEngine } from "./_engine.ts";
import { makeWindowEngine, resolveEngine } from "./_select_engine.ts";
import {
  PHASE_DATA,
  PHASE_IDLE,
  PHASE_STOPPED,
  StreamState,
} from "./_stream_state.ts";
import { controlFrameError } from "./_control.ts";
import { describeForeignBytes } from "./_bytes.ts";
import { checkFrameLimits } from "./_options.ts";

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
   * scans files fastest, and TypeScript elsewhere.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /**
   * Bytes read per call: the window the source is read into and scanned,
   * and most of the reader's memory. From 65,536 to 1,073,741,824.
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
   * async iteration own their payloads. `true`: each window's payloads are
   * copied out once (a fresh buffer per window; fresh memory costs about
   * 1 ms per MiB here, so this is the slow path). `false`: payloads are views
   * of the reader's window, valid only until the next batch (or, iterating
   * frame by frame, until the iteration leaves that window): use them at
   * once, or `slice()` what you keep. {@linkcode
   * FrameReader.prototype.forEachFrame} never copies.
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

// 1 MiB: the scan then finds the bytes the read just wrote still in the CPU
// caches; 4 MiB windows were 5–10 % slower on dnstap-sized frames.
const DEFAULT_WINDOW = 1 << 20;
const MIN_WINDOW = 65_536;
const MAX_WINDOW = 1 << 30;

/** Called for each data frame: payload at window[offset, offset + length). */
type DataSink = (
  window: Uint8Array,
  offset: number,
  length: number,
  frameOffset: number,
) => unknown;

/** A promise a sink returned, for the read loop to wait on. */
interface Hold {
  promise: PromiseLike<unknown> | undefined;
}

/**
 * Reads a Frame Streams file, or any byte source, in large windows straight
 * into the scanner's memory, in bounded memory however large the input.
 *
 * Two ways to take the frames, one per reader:
 * - {@linkcode FrameReader.prototype.forEachFrame}: a callback per data
 *   frame given the shared window, the payload's offset and its length; no
 *   allocation per frame. The fastest path.
 * - `for await (const frame of reader)` (or
 *   {@linkcode FrameReader.prototype.batches} for arrays of frames): frame
 *   objects whose payloads are copies, safe to keep.
 *
 * Errors are those of {@linkcode FrameDecoder}, with the same offsets, thrown
 * after every complete frame before them has been delivered.
 * {@linkcode FrameReader.prototype.summary} tells what was seen, after an
 * error too.
 *
 * @example Reading frame objects
 * ```ts
 * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["hello", "world"]));
 * await using reader = await FrameReader.open(path);
 * const payloads: string[] = [];
 * for await (const frame of reader) {
 *   if (frame.kind === "data") payloads.push(new TextDecoder().decode(frame.data));
 * }
 * assert.deepEqual(payloads, ["hello", "world"]);
 * await Deno.remove(path);
 * ```
 */
export class FrameReader implements AsyncIterable<Frame>, AsyncDisposable {
  #source: FrameSource;
  #close: (() => void) | null;
  #engine: WindowEngine;
  #maxFrameLength: number;
  #skipOversize: boolean;
  #state: StreamState;
  #oversized = 0;
  #bytesRead = 0;
  #used = false;
  #sync: boolean;
  #copy: boolean;

  /**
   * Makes a reader of `source`. The reader does not close the source.
   *
   * @param source Where to read from.
   * @param options Limits, policies, engine and window size.
   * @throws {TypeError} If an argument has the wrong type, or `engine` is
   * `"wasm"` where WebAssembly cannot load (an `Error` then).
   * @throws {RangeError} If a number is out of range.
   */
  constructor(source: FrameSource, options: FrameReaderOptions = {}) {
    if (typeof source?.read !== "function") {
      throw new TypeError(
        "Cannot create FrameReader: the source must have a read(buffer) method",
      );
    }
    const {
      maxFrameLength = DEFAULT_MAX_FRAME_LENGTH,
      oversize = "error",
      strict = false,
      windowSize = DEFAULT_WINDOW,
    } = options;
    const skipOversize = checkFrameLimits(
      "FrameReader",
      maxFrameLength,
      oversize,
    );
    if (!Number.isInteger(windowSize)) {
      throw new TypeError(
        `Cannot create FrameReader: windowSize must be an integer, got ${windowSize}`,
      );
    }
    if (windowSize < MIN_WINDOW || windowSize > MAX_WINDOW) {
      throw new RangeError(
        `Cannot create FrameReader: windowSize must be from ${MIN_WINDOW} to ${MAX_WINDOW}, got ${windowSize}`,
      );
    }
    const engine = resolveEngine(options.engine, "wasm", "FrameReader");
    let made: WindowEngine;
    try {
      made = makeWindowEngine(engine, windowSize);
    } catch (error) {
      // "auto" falls back where WebAssembly loads but cannot give the window.
      if ((options.engine ?? "auto") !== "auto") throw error;
      made = makeWindowEngine("ts", windowSize);
    }
    this.#engine = made;
    this.#source = source;
    this.#sync = options.readSync !== false &&
      typeof source.readSync === "function";
    this.#copy = options.copyPayloads !== false;
    this.#close = null;
    this.#maxFrameLength = maxFrameLength;
    this.#skipOversize = skipOversize;
    this.#state = new StreamState(strict === true);
  }

  /**
   * Opens a file for reading; the reader closes it on
   * {@linkcode FrameReader.prototype.close} (or `await using`). Without a
   * `windowSize`, a file smaller than the default window gets a smaller one
   * (from 64 KiB up, by powers of two).
   *
   * @param path The file.
   * @param options See {@linkcode FrameReaderOptions}.
   * @returns The reader.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["x"]));
   * await using reader = await FrameReader.open(path, { engine: "ts" });
   * console.log((await reader.forEachFrame(() => {})).dataFrames); // 1
   * await Deno.remove(path);
   * ```
   */
  static async open(
    path: string | URL,
    options: FrameReaderOptions = {},
  ): Promise<FrameReader> {
    const file = await Deno.open(path, { read: true });
    try {
      if (options.windowSize === undefined) {
        // A small file needs no 1 MiB window: fresh memory is not free.
        const { size } = await file.stat();
        let windowSize = MIN_WINDOW;
        while (windowSize < DEFAULT_WINDOW && windowSize <= size) {
          windowSize *= 2;
        }
        options = { ...options, windowSize };
      }
      const reader = new FrameReader(file, options);
      reader.#close = () => file.close();
      return reader;
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * The engine that scans.
   *
   * @example
   * ```ts
   * import { FrameReader } from "@fstrm/fstrm";
   *
   * const reader = new FrameReader({ read: () => Promise.resolve(null) }, { engine: "ts" });
   * console.log(reader.engine); // "ts"
   * ```
   */
  get engine(): Engine {
    return this.#engine.name;
  }

  /**
   * What has been seen so far (also after an error).
   *
   * @example
   * ```ts
   * import { FrameReader } from "@fstrm/fstrm";
   *
   * const reader = new FrameReader({ read: () => Promise.resolve(null) });
   * await reader.forEachFrame(() => {});
   * console.log(reader.summary.dataFrames, reader.summary.stopped); // 0 false
   * ```
   */
  get summary(): FrameReaderSummary {
    const state = this.#state;
    return {
      engine: this.#engine.name,
      contentType: state.contentType,
      started: state.phase !== PHASE_IDLE,
      stopped: state.phase === PHASE_STOPPED,
      dataFrames: state.dataFrames,
      payloadBytes: state.payloadBytes,
      controlFrames: state.controlFrames,
      skippedFrames: state.skippedFrames,
      oversizedFrames: this.#oversized,
      bytesRead: this.#bytesRead,
    };
  }

  /**
   * Reads the whole input, calling `callback` for each data frame with the
   * shared window, the payload's offset in it and its length. Nothing is
   * allocated per frame. Control frames are applied (content type, STOP) and
   * show in the summary.
   *
   * If `callback` returns a promise, the reader waits for it before the next
   * frame, and the window (with the payload) stays as it is until then: a
   * way to apply backpressure, e.g. to forward frames to a
   * `FrameWriter` whose queue is full. Returning nothing costs
   * nothing.
   *
   * @param callback Called once per data frame, in order.
   * @returns The summary, once the input is exhausted.
   * @throws The errors of {@linkcode FrameDecoder}, after every complete
   * frame before the fault has been passed to `callback`; and whatever
   * `callback` throws.
   *
   * @example Checksumming every payload's first byte
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const bytes = encodeFrameStream(["a", "b"]);
   * let done = false;
   * const source = {
   *   read(buffer: Uint8Array): Promise<number | null> {
   *     if (done) return Promise.resolve(null);
   *     buffer.set(bytes);
   *     done = true;
   *     return Promise.resolve(bytes.length);
   *   },
   * };
   * let sum = 0;
   * await new FrameReader(source).forEachFrame((window, offset) => {
   *   sum += window[offset]!;
   * });
   * assert.equal(sum, 0x61 + 0x62);
   * ```
   *
   * @example Forwarding a file's frames to a collector, waiting when its queue is full
   * ```ts
   * import { encodeFrameStream, FrameReader, FrameWriter } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a", "b", "c"]));
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false, queueSize: 1 },
   * );
   * await using reader = await FrameReader.open(path);
   * await reader.forEachFrame((window, offset, length) => {
   *   const payload = window.subarray(offset, offset + length);
   *   // Queued (copied) now, or wait: the window stays intact meanwhile.
   *   return writer.tryWrite(payload) ? undefined : writer.write(payload);
   * });
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 3);
   * await Deno.remove(path);
   * ```
   */
  forEachFrame(callback: DataFrameCallback): Promise<FrameReaderSummary> {
    return this.#drive(callback, null);
  }

  /**
   * Reads the whole input, calling `callback` with runs of consecutive data
   * frames still encoded, as they are in the input: `window[start, end)`
   * holds `frames` whole data frames, length words included. A run ends at
   * a control frame or at the end of what one read brought; a data frame
   * larger than the window comes as a run of one in a buffer of its own.
   * Control frames are applied (content type, STOP) and show in the
   * summary, as with {@linkcode FrameReader.prototype.forEachFrame}.
   *
   * The way to forward or copy frames without taking them apart: pass a run
   * to {@linkcode FrameWriter.prototype.writeEncoded} (one copy for a
   * thousand frames), or write it to a file. If `callback` returns a
   * promise, the reader waits for it, the window intact.
   *
   * @param callback Called once per run, in order.
   * @returns The summary, once the input is exhausted.
   * @throws The errors of {@linkcode FrameDecoder}, after every complete
   * frame before the fault has been passed to `callback`; and whatever
   * `callback` throws.
   *
   * @example Copying a file's data frames, without its control frames
   * ```ts
   * import { decodeFrames, encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a", "bc", "def"]));
   * const parts: Uint8Array[] = [];
   * let frames = 0;
   * await using reader = await FrameReader.open(path);
   * await reader.forEachRun((window, start, end, n) => {
   *   parts.push(window.slice(start, end)); // the window changes after this
   *   frames += n;
   * });
   * assert.equal(frames, 3);
   * const payloads = parts.flatMap((bytes) => decodeFrames(bytes))
   *   .map((f) => f.kind === "data" ? new TextDecoder().decode(f.data) : "");
   * assert.deepEqual(payloads, ["a", "bc", "def"]);
   * await Deno.remove(path);
   * ```
   */
  forEachRun(callback: FrameRunCallback): Promise<FrameReaderSummary> {
    return this.#drive(null, callback);
  }

  /** forEachFrame and forEachRun: reads everything into one callback. */
  async #drive(
    onData: DataFrameCallback | null,
    onRun: FrameRunCallback | null,
  ): Promise<FrameReaderSummary> {
    if (typeof (onData ?? onRun) !== "function") {
      throw new TypeError(
        "Cannot read frames: the callback must be a function",
      );
    }
    this.#claim();
    const run = this.#run(onData, null, onRun);
    while (!(await run.next()).done);
    return this.summary;
  }

  /**
   * Reads the whole input as arrays of frames, one array per window read.
   * By default payloads are copies, safe to keep: views of one copy per
   * window (so a payload kept alive keeps its window's copy alive; `slice()`
   * the few you keep long). With `copyPayloads: false` they are views of the
   * reader's window, valid until the next batch. Cheaper than iterating frame
   * by frame: one `await` per window instead of one per frame.
   *
   * @returns An async iterable of frame arrays.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a", "b"]));
   * await using reader = await FrameReader.open(path);
   * let frames = 0;
   * for await (const batch of reader.batches()) frames += batch.length;
   * assert.equal(frames, 4); // START, two data frames, STOP
   * await Deno.remove(path);
   * ```
   */
  async *batches(): AsyncGenerator<Frame[], void, undefined> {
    this.#claim();
    // What one window delivered: control frames as they are, data frames as
    // indexes into the offset arrays, all in order. At each yield of the read
    // loop the window is intact: its payloads are copied out in one piece.
    const items: (ControlFrame | number)[] = [];
    const offsets: number[] = [];
    const lengths: number[] = [];
    const frameOffsets: number[] = [];
    let buffer: Uint8Array | null = null;
    const take = (): Frame[] => {
      let copy: Uint8Array | null = null;
      let low = 0;
      const last = offsets.length - 1;
      // (Only the copying path gathers: views are made as frames come.)
      if (buffer !== null && last >= 0) {
        low = offsets[0]!;
        copy = buffer.slice(low, offsets[last]! + lengths[last]!);
      }
      const batch = items.map((item): Frame =>
        typeof item === "number"
          ? {
            kind: "data",
            data: copy!.subarray(
              offsets[item]! - low,
              offsets[item]! - low + lengths[item]!,
            ),
            offset: frameOffsets[item]!,
          }
          : item
      );
      items.length =
        offsets.length =
        lengths.length =
        frameOffsets.length =
          0;
      buffer = null;
      return batch;
    };
    // Without copies, frames are made as they come, views of the window.
    const direct: Frame[] = [];
    const run = this.#copy
      ? this.#run(
        (window, offset, length, frameOffset) => {
          buffer = window;
          items.push(offsets.length);
          offsets.push(offset);
          lengths.push(length);
          frameOffsets.push(frameOffset);
        },
        (frame) => items.push(frame),
        null,
      )
      : this.#run(
        (window, offset, length, frameOffset) => {
          direct.push({
            kind: "data",
            data: window.subarray(offset, offset + length),
            offset: frameOffset,
          });
        },
        (frame) => direct.push(frame),
        null,
      );
    const ready = (): Frame[] | null => {
      if (items.length > 0) return take();
      if (direct.length === 0) return null;
      const batch = direct.slice();
      direct.length = 0;
      return batch;
    };
    let batch: Frame[] | null;
    try {
      while (!(await run.next()).done) {
        if ((batch = ready()) !== null) yield batch;
      }
    } catch (error) {
      // The frames before the fault first, then the error.
      if ((batch = ready()) !== null) yield batch;
      throw error;
    }
  }

  /**
   * Iterates over every frame, control frames included. Payloads are
   * copies, safe to keep, unless `copyPayloads: false` (see
   * {@linkcode FrameReaderOptions.copyPayloads}).
   *
   * @returns An async iterator of frames.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a"]));
   * await using reader = await FrameReader.open(path);
   * for await (const frame of reader) console.log(frame.kind);
   * await Deno.remove(path);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return new FrameIterator(this.batches());
  }

  /**
   * Closes the file if the reader opened it; otherwise does nothing.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream([]));
   * const reader = await FrameReader.open(path);
   * reader.close();
   * await Deno.remove(path);
   * ```
   */
  close(): void {
    const close = this.#close;
    this.#close = null;
    close?.();
  }

  /**
   * Closes, as {@linkcode FrameReader.prototype.close}, for `await using`.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream([]));
   * {
   *   await using reader = await FrameReader.open(path);
   *   console.log(reader.engine);
   * }
   * await Deno.remove(path);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  #claim(): void {
    if (this.#used) {
      throw new TypeError(
        "Cannot read frames: this FrameReader was already read",
      );
    }
    this.#used = true;
  }

  /**
   * The read-scan loop. Yields after each window, so that a consumer can
   * take what it gathered; throws after delivering every frame before a
   * fault.
   */
  async *#run(
    onData: DataSink | null,
    onControl: ((frame: ControlFrame) => void) | null,
    onRun: FrameRunCallback | null,
  ): AsyncGenerator<void, void, undefined> {
    const engine = this.#engine;
    const window = engine.window;
    const size = window.length;
    const table = engine.table;
    const out = engine.out;
    const state = this.#state;
    const max = this.#maxFrameLength;
    const source = this.#source;
    const sync = this.#sync;
    let base = 0; // stream offset of window[0]
    let have = 0; // bytes in the window
    let pos = 0; // where the next frame starts
    let eof = false;
    let skip = 0; // bytes of an oversized frame still to discard
    let skipOffset = 0;
    let skipTotal = 0;
    const hold: Hold = { promise: undefined };
    for (;;) {
      if (!eof) {
        const into = have === 0 ? window : window.subarray(have);
        const n = sync ? source.readSync!(into) : await source.read(into);
        if (n === null) eof = true;
        else {
          have += n;
          this.#bytesRead += n;
        }
      }
      if (skip > 0) {
        const take = Math.min(skip, have - pos);
        skip -= take;
        pos += take;
      }
      // Scan what the window holds.
      let status = STATUS_END;
      while (skip === 0 && pos < have) {
        const n = engine.scan(pos, have, max);
        // A sink that returns a promise pauses the delivery until it settles
        // (the window and the table stay as they are meanwhile).
        for (let i = 0;;) {
          i = onData !== null
            ? deliver(
              table,
              i,
              n,
              window,
              base,
              state,
              onData,
              onControl,
              hold,
            )
            : deliverRuns(table, i, n, window, base, state, onRun!, hold);
          const pending = hold.promise;
          if (pending === undefined) break;
          hold.promise = undefined;
          await pending;
          if (i >= n) break;
        }
        status = out[0]!;
        const stop = out[1]!;
        pos = stop;
        if (status === STATUS_TABLE_FULL) continue;
        if (status === STATUS_END || status === STATUS_NEED_MORE) break;
        if (status === STATUS_TOO_LARGE) {
          const length = out[2]!;
          if (!this.#skipOversize) {
            throw new FrameTooLargeError(
              base + stop,
              length,
              max,
              describeForeignBytes(window.subarray(stop, stop + 8)),
            );
          }
          this.#oversized++;
          const total = 4 + length;
          const take = Math.min(total, have - stop);
          skipOffset = base + stop;
          skipTotal = total;
          skip = total - take;
          pos = stop + take;
          continue;
        }
        if (status === STATUS_CONTROL_ERROR) {
          throw controlFrameError(
            window,
            base,
            stop,
            out[2]!,
            out[3]!,
            out[4]!,
          );
        }
        throw new Error(`Cannot read frames: unknown scanner status ${status}`);
      }
      // This window's frames are delivered: let the consumer take them while
      // the window is intact.
      yield;
      if (pos === have) {
        // Everything in the window is consumed (or being skipped).
        base += have;
        have = pos = 0;
        if (eof) {
          if (skip > 0) {
            throw new TruncatedFrameError(
              skipOffset,
              skipTotal - skip,
              skipTotal,
            );
          }
          state.end(base);
          return;
        }
        continue;
      }
      // A frame starts at `pos` and is not complete.
      const what = out[3]!;
      const need = what === NEED_HEADER
        ? out[2]!
        : (what === NEED_DATA ? 4 : 8) + out[2]!;
      if (eof) {
        throw new TruncatedFrameError(
          base + pos,
          have - pos,
          what === NEED_HEADER ? null : need,
        );
      }
      if (need > size) {
        // A data frame larger than the window: read it into its own buffer.
        const frame = new Uint8Array(need);
        let got = have - pos;
        frame.set(window.subarray(pos, have));
        while (got < need) {
          const into = frame.subarray(got);
          const n = sync ? source.readSync!(into) : await source.read(into);
          if (n === null) {
            throw new TruncatedFrameError(base + pos, got, need);
          }
          got += n;
          this.#bytesRead += n;
        }
        const frameOffset = base + pos;
        if (state.phase !== PHASE_DATA) state.dataOutOfPlace(frameOffset);
        state.dataFrames++;
        state.payloadBytes += need - 4;
        const returned = onData !== null
          ? onData(frame, 4, need - 4, frameOffset)
          : onRun!(frame, 0, need, 1);
        if (isThenable(returned)) await returned;
        base = frameOffset + need;
        have = pos = 0;
        yield;
      } else {
        // Keep the partial frame: move it to the front and read on.
        window.copyWithin(0, pos, have);
        base += pos;
        have -= pos;
        pos = 0;
      }
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise ||
    (typeof value === "object" && value !== null &&
      typeof (value as { then?: unknown }).then === "function");
}

/**
 * Hands the frames `start` to `n` of a scan to the sinks, counting them in
 * `state` (also when a sink or the policy throws part-way). Stops after a
 * data sink that returns a promise, putting it in `hold`. Returns the index
 * of the next frame to deliver.
 * A plain function, not part of the async loop, so that it is optimized as
 * the hot path it is.
 */
function deliver(
  table: Uint32Array,
  start: number,
  n: number,
  window: Uint8Array,
  base: number,
  state: StreamState,
  onData: DataSink,
  onControl: ((frame: ControlFrame) => void) | null,
  hold: Hold,
): number {
  let payload = 0;
  let data = 0;
  let i = start;
  try {
    for (let e = 3 * start; i < n; i++, e += 3) {
      const at = table[e]!;
      const length = table[e + 1]!;
      const kind = table[e + 2]!;
      if (kind === KIND_DATA) {
        if (state.phase !== PHASE_DATA) state.dataOutOfPlace(base + at);
        data++;
        payload += length;
        const returned = onData(window, at + 4, length, base + at);
        if (returned !== undefined && isThenable(returned)) {
          hold.promise = returned;
          return i + 1;
        }
      } else {
        const frame = state.control(window, at, length, kind, base + at);
        if (frame !== null && onControl !== null) onControl(frame);
      }
    }
  } finally {
    state.dataFrames += data;
    state.payloadBytes += payload;
  }
  return n;
}

/**
 * As {@linkcode deliver}, for runs of consecutive data frames: hands each
 * run to `onRun` when a control frame or the scan's end closes it, counting
 * its frames in `state` then. Stops after a run whose sink returns a
 * promise, putting it in `hold`. Returns the index of the next frame.
 */
function deliverRuns(
  table: Uint32Array,
  start: number,
  n: number,
  window: Uint8Array,
  base: number,
  state: StreamState,
  onRun: FrameRunCallback,
  hold: Hold,
): number {
  let i = start;
  while (i < n) {
    const at = table[3 * i]!;
    if (table[3 * i + 2]! !== KIND_DATA) {
      state.control(
        window,
        at,
        table[3 * i + 1]!,
        table[3 * i + 2]!,
        base + at,
      );
      i++;
      continue;
    }
    // A stretch of data frames: only its ends matter. Out of place (before
    // START, after STOP), strict mode's error comes here, after the frames
    // before it.
    if (state.phase !== PHASE_DATA) state.dataOutOfPlace(base + at);
    let j = i + 1;
    while (j < n && table[3 * j + 2]! === KIND_DATA) j++;
    const last = 3 * (j - 1);
    const end = table[last]! + 4 + table[last + 1]!;
    const frames = j - i;
    state.dataFrames += frames;
    state.payloadBytes += end - at - 4 * frames;
    i = j;
    const returned = onRun(window, at, end, frames);
    if (returned !== undefined && isThenable(returned)) {
      hold.promise = returned;
      return i;
    }
  }
  return n;
}

/** Frame-by-frame iteration over batches: one promise per frame, no more. */
class FrameIterator implements AsyncIterator<Frame> {
  #batches: AsyncGenerator<Frame[], void, undefined>;
  #batch: Frame[] = [];
  #index = 0;

  constructor(batches: AsyncGenerator<Frame[], void, undefined>) {
    this.#batches = batches;
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.#index < this.#batch.length) {
      return Promise.resolve({
        value: this.#batch[this.#index++]!,
        done: false,
      });
    }
    return this.#refill();
  }

  async #refill(): Promise<IteratorResult<Frame>> {
    for (;;) {
      const result = await this.#batches.next();
      if (result.done) return { value: undefined, done: true };
      this.#batch = result.value;
      this.#index = 0;
      if (this.#batch.length > 0) {
        return { value: this.#batch[this.#index++]!, done: false };
      }
    }
  }

  async return(): Promise<IteratorResult<Frame>> {
    await this.#batches.return();
    return { value: undefined, done: true };
  }
}
