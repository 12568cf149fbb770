/**
 * The bulk path: reading Frame Streams files (or any byte source) of any
 * size, fast, in bounded memory. Portable: a `FrameReader` reads whatever it
 * is given (a `read(buffer)` source, a `ReadableStream`, an async iterable
 * of chunks such as Node's `fs.createReadStream`); opening a file by path is
 * Deno's, in `@fstrm/fstrm/file` ({@linkcode openFrameReader}).
 *
 * @example Counting the frames of a stream of chunks
 * ```ts
 * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["a", "bb", "ccc"], { contentType: "t" });
 * const chunks = ReadableStream.from([bytes.subarray(0, 7), bytes.subarray(7)]);
 *
 * const reader = new FrameReader(chunks);
 * let total = 0;
 * const summary = await reader.forEachFrame((_window, _offset, length) => {
 *   total += length;
 * });
 * assert.equal(summary.frames, 3);
 * assert.equal(total, 6);
 * assert.ok(summary.stopped);
 * ```
 *
 * @module
 */
import { DEFAULT_MAX_FRAME_LENGTH } from "./constants.ts";
import type { Frame } from "./frame.ts";
import type { Engine, EngineOption } from "./engine.ts";
import type {
  FrameReaderOptions,
  FrameReaderSummary,
  FrameSource,
} from "./_reader_types.ts";
import type { DataCallback, RunCallback } from "./callbacks.ts";
import {
  type ScanEngine,
  TABLE_CAPACITY,
  type WindowEngine,
} from "./_engine.ts";
import {
  makeScanEngine,
  makeWindowEngine,
  resolveEngine,
} from "./_select_engine.ts";
import { StreamState } from "./_stream_state.ts";
import { checkFrameLimits } from "./_options.ts";
import {
  closerOf,
  DEFAULT_WINDOW,
  MAX_WINDOW,
  MIN_WINDOW,
  toByteSource,
} from "./_reader_source.ts";
import { type Scanner, type Sinks, WindowLoop } from "./_window_loop.ts";
import { FrameIterator } from "./_frame_iterator.ts";

export type {
  FrameReaderOptions,
  FrameReaderSummary,
  FrameSource,
} from "./_reader_types.ts";

/** The fresh buffers of frame objects that own their payloads (no reuseWindow). */
const FRESH_WINDOW = 65_536;

/**
 * Reads a Frame Streams file, or any byte source, in large windows straight
 * into the scanner's memory, in bounded memory however large the input.
 *
 * It reads from a {@linkcode FrameSource} (`read(buffer)`, as `Deno.FsFile`
 * and `Deno.Conn` have), a `ReadableStream<Uint8Array>`, or an
 * `AsyncIterable<Uint8Array>` (Node's `fs.createReadStream`, a Bun file
 * stream). In Deno, {@linkcode openFrameReader} of `@fstrm/fstrm/file`
 * opens a file by path.
 *
 * Ways to take the frames, one per reader:
 * - {@linkcode FrameReader.prototype.forEachFrame}: a callback per data
 *   frame given the shared window, the payload's offset and its length; no
 *   allocation per frame. The fastest path.
 * - {@linkcode FrameReader.prototype.forEachRun}: runs of data frames still
 *   encoded, to forward or copy them as they are.
 * - `for await (const frame of reader)`: frame objects whose payloads are
 *   safe to keep (views of fresh buffers, not copies).
 * - {@linkcode FrameReader.prototype.batches}: the same frames in arrays, one
 *   per read: one `await` per window instead of one per frame.
 *
 * With `engine: "auto"` it scans with WebAssembly where it loads (fastest
 * on large windows) and TypeScript elsewhere; for frame objects that own
 * their payloads (the default of `batches()` and async iteration) it takes
 * TypeScript, which scans the fresh buffers in place where WebAssembly would
 * copy them into its memory. A data frame longer than the window is read
 * into a buffer of its own.
 *
 * Errors are those of {@linkcode FrameDecoder}, with the same offsets, thrown
 * after every complete frame before them has been delivered: in particular
 * {@linkcode NotFrameStreamsError} for input that is not Frame Streams (a
 * text file, say). {@linkcode FrameReader.prototype.summary} tells what was
 * seen, after an error too.
 *
 * @example Reading frame objects
 * ```ts
 * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["hello", "world"]);
 * const reader = new FrameReader(ReadableStream.from([bytes]));
 * const payloads: string[] = [];
 * for await (const frame of reader) {
 *   if (frame.kind === "data") payloads.push(new TextDecoder().decode(frame.data));
 * }
 * assert.deepEqual(payloads, ["hello", "world"]);
 * ```
 */
export class FrameReader implements AsyncIterable<Frame>, AsyncDisposable {
  #close: (() => void) | null;
  #window: WindowEngine;
  #engineOption: EngineOption;
  #scanned: Engine;
  #loop: WindowLoop;
  #state: StreamState;
  #used = false;
  #copy: boolean;
  #windowSize: number;

  /**
   * Makes a reader of `source`. The reader does not close the source (nor
   * cancel a stream it stops reading early).
   *
   * @param source Where to read from: a {@linkcode FrameSource}, a
   * `ReadableStream<Uint8Array>` (the reader takes its lock) or an
   * `AsyncIterable<Uint8Array>`. An object that is async iterable is read as
   * one even if it has a `read` method (a Node `Readable` has one, of
   * another contract).
   * @param options Limits, policies, engine and window size.
   * @throws {TypeError} If an argument has the wrong type, or `engine` is
   * `"wasm"` where WebAssembly cannot load (an `Error` then).
   * @throws {RangeError} If a number is out of range.
   */
  constructor(
    source:
      | FrameSource
      | ReadableStream<Uint8Array>
      | AsyncIterable<Uint8Array>,
    options: FrameReaderOptions = {},
  ) {
    const input = toByteSource(source);
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
    this.#window = made;
    this.#engineOption = options.engine ?? "auto";
    this.#scanned = made.name;
    this.#windowSize = windowSize;
    this.#copy = options.reuseWindow !== true;
    this.#close = closerOf(input);
    this.#state = new StreamState(strict === true);
    this.#loop = new WindowLoop(
      input,
      options.readSync !== false && typeof input.readSync === "function",
      this.#state,
      maxFrameLength,
      skipOversize,
    );
  }

  /**
   * The engine that scans (or, before reading, the one forEachFrame would
   * take: frame objects that own their payloads may take another under
   * `"auto"`, see {@linkcode FrameReader}).
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
    return this.#scanned;
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
   * console.log(reader.summary.frames, reader.summary.stopped); // 0 false
   * ```
   */
  get summary(): FrameReaderSummary {
    return this.#loop.summary(this.#scanned);
  }

  /**
   * Use this to read each payload where it lies, with nothing allocated per
   * frame: the fastest way through a file. Reads the whole input, calling
   * `callback` for each data frame with the shared window, the payload's
   * offset in it and its length. Control frames are applied (content type, STOP) and
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
   * import { encodeFrameStream } from "@fstrm/fstrm";
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import { openFrameReader } from "@fstrm/fstrm/file";
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
   * await using reader = await openFrameReader(path);
   * await reader.forEachFrame((window, offset, length) => {
   *   const payload = window.subarray(offset, offset + length);
   *   // Queued (copied) now, or wait: the window stays intact meanwhile.
   *   return writer.tryWrite(payload) ? undefined : writer.write(payload);
   * });
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 3);
   * await Deno.remove(path);
   * ```
   */
  forEachFrame(callback: DataCallback): Promise<FrameReaderSummary> {
    return this.#drive({ onData: callback });
  }

  /**
   * Use this to copy or forward data frames as they came, without taking
   * them apart. Reads the whole input, calling `callback` with runs of
   * consecutive data frames still encoded, as they are in the input: `window[start, end)`
   * holds `frames` whole data frames, length words included. A run ends at
   * a control frame or at the end of what one read brought; a data frame
   * larger than the window comes as a run of one in a buffer of its own.
   * Control frames are applied (content type, STOP) and show in the
   * summary, as with {@linkcode FrameReader.prototype.forEachFrame}.
   *
   * Pass a run to {@linkcode FrameWriter.prototype.writeRun} (one copy for
   * a thousand frames), or write it to a file. If `callback` returns a
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
   * const bytes = encodeFrameStream(["a", "bc", "def"]);
   * const parts: Uint8Array[] = [];
   * let frames = 0;
   * const reader = new FrameReader(ReadableStream.from([bytes]));
   * await reader.forEachRun((window, start, end, n) => {
   *   parts.push(window.slice(start, end)); // the window changes after this
   *   frames += n;
   * });
   * assert.equal(frames, 3);
   * const payloads = parts.flatMap((bytes) => decodeFrames(bytes))
   *   .map((f) => f.kind === "data" ? new TextDecoder().decode(f.data) : "");
   * assert.deepEqual(payloads, ["a", "bc", "def"]);
   * ```
   */
  forEachRun(callback: RunCallback): Promise<FrameReaderSummary> {
    return this.#drive({ onRun: callback });
  }

  /** forEachFrame and forEachRun: reads everything into one callback. */
  async #drive(sinks: Sinks): Promise<FrameReaderSummary> {
    if (typeof (sinks.onData ?? sinks.onRun) !== "function") {
      throw new TypeError(
        "Cannot read frames: the callback must be a function",
      );
    }
    this.#claim();
    const run = this.#loop.run(this.#fixed(), this.#window.window, sinks);
    while (!(await run.next()).done);
    return this.summary;
  }

  /**
   * Use this to take frame objects a read at a time: one `await` per
   * window instead of one per frame, and an array per read to hand on
   * whole. Reads the whole input as arrays of frames, one array per read
   * (the array is the caller's). By default payloads are safe to keep: views
   * of buffers of 64 KiB that the reader reads into and never writes again,
   * no copy (a payload kept alive keeps its buffer alive; `slice()` the few
   * you keep long). With `reuseWindow: true` they are views of the reader's
   * one window, valid until the next batch.
   *
   * @returns An async iterable of frame arrays.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const bytes = encodeFrameStream(["a", "b"]);
   * const reader = new FrameReader(ReadableStream.from([bytes]));
   * let frames = 0;
   * for await (const batch of reader.batches()) frames += batch.length;
   * assert.equal(frames, 4); // START, two data frames, STOP
   * ```
   */
  async *batches(): AsyncGenerator<Frame[], void, undefined> {
    this.#claim();
    const sinks: Sinks = { frames: [] };
    const run = this.#copy
      ? this.#loop.run(
        this.#fresh(),
        Math.min(FRESH_WINDOW, this.#windowSize),
        sinks,
      )
      : this.#loop.run(this.#fixed(), this.#window.window, sinks);
    // The frames of one window: the array itself, a new one for the next.
    const ready = (): Frame[] | null => {
      const batch = sinks.frames!;
      if (batch.length === 0) return null;
      sinks.frames = [];
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
   * Use this to take frame objects one by one in a plain `for await` loop,
   * and stop (`break`) at any frame. Iterates over every frame, control
   * frames included. Payloads are safe to keep (views of buffers the reader
   * never writes again, as with {@linkcode FrameReader.prototype.batches}),
   * unless `reuseWindow: true` (see
   * {@linkcode FrameReaderOptions.reuseWindow}). Each `next()` of a
   * frame already read resolves at once: no read, no allocation beyond
   * the promise `for await` needs.
   *
   * @returns An async iterator of frames.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReader } from "@fstrm/fstrm";
   *
   * const reader = new FrameReader(ReadableStream.from([encodeFrameStream(["a"])]));
   * for await (const frame of reader) console.log(frame.kind);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return new FrameIterator(this.batches());
  }

  /**
   * Closes the file if {@linkcode openFrameReader} opened it; otherwise does
   * nothing.
   *
   * @example
   * ```ts
   * import { encodeFrameStream } from "@fstrm/fstrm";
   * import { openFrameReader } from "@fstrm/fstrm/file";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream([]));
   * const reader = await openFrameReader(path);
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
   * import { encodeFrameStream } from "@fstrm/fstrm";
   * import { openFrameReader } from "@fstrm/fstrm/file";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream([]));
   * {
   *   await using reader = await openFrameReader(path);
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

  /** The scanner of the one window. */
  #fixed(): Scanner {
    const engine = this.#window;
    return {
      table: engine.table,
      out: engine.out,
      scan: (_buf, start, end, max) => engine.scan(start, end, max),
    };
  }

  /** A scanner of fresh buffers: TypeScript scans them in place. */
  #fresh(): ScanEngine {
    const engine: Engine = this.#engineOption === "auto"
      ? "ts"
      : this.#window.name;
    const scanner = makeScanEngine(engine, TABLE_CAPACITY);
    this.#scanned = scanner.name;
    return scanner;
  }
}
