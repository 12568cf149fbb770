/**
 * A sans-I/O incremental Frame Streams decoder: feed it chunks of any size,
 * pull frames out in order.
 *
 * @example Decoding a stream that arrives in pieces
 * ```ts
 * import { encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["one", "two"], { contentType: "test" });
 * const decoder = new FrameDecoder();
 * const kinds: string[] = [];
 * for (let i = 0; i < bytes.length; i += 5) {
 *   decoder.push(bytes.subarray(i, i + 5));
 *   for (let f = decoder.next(); f !== null; f = decoder.next()) kinds.push(f.kind);
 * }
 * decoder.end();
 * assert.equal(decoder.next(), null);
 * assert.deepEqual(kinds, ["control", "data", "data", "control"]);
 * assert.ok(decoder.stopped);
 * ```
 *
 * @module
 */
import { DEFAULT_MAX_FRAME_LENGTH } from "./constants.ts";
import type { ControlFrame, Frame } from "./frame.ts";
import type { Engine } from "./engine.ts";
import type { DecodeOptions } from "./options.ts";
import type { DataCallback, RunCallback } from "./callbacks.ts";
import { makeScanEngine, resolveEngine } from "./_select_engine.ts";
import { checkFrameLimits } from "./_options.ts";
import { ChunkDecoder } from "./_chunk_decoder.ts";
import { PHASE_IDLE, PHASE_STOPPED } from "./_stream_state.ts";

/**
 * Options of {@linkcode FrameDecoder} (and of {@linkcode decodeFrames}): the
 * {@linkcode DecodeOptions}, and how strictly the stream's phase is kept.
 *
 * @example
 * ```ts
 * import { FrameDecoder, type FrameDecoderOptions } from "@fstrm/fstrm";
 *
 * const options: FrameDecoderOptions = { maxFrameLength: 65_536, oversize: "skip" };
 * const decoder = new FrameDecoder(options);
 * console.log(decoder.oversizedFrames);
 * ```
 */
export interface FrameDecoderOptions extends DecodeOptions {
  /**
   * Reject instead of skipping: control frames of unknown type, known ones
   * out of place, data frames before START, and end of input without STOP.
   *
   * @default {false}
   */
  strict?: boolean;
  /**
   * Known control frames out of place (START, READY, ACCEPT or FINISH inside
   * a stream, STOP outside one): `"skip"` skips them (counted in
   * `skippedFrames`; an error in strict mode), `"deliver"` returns them, for
   * a caller that keeps the phase itself (as `ReaderSession` does).
   *
   * @default {"skip"}
   */
  outOfPlace?: "skip" | "deliver";
}

/** What "auto" picks for the decoder (see the README's benchmarks). */
const AUTO_DECODER_ENGINE: Engine = "ts";

/**
 * A frame a {@linkcode FrameDecoder} has begun to assemble; see
 * {@linkcode FrameDecoder.prototype.partialFrame}.
 *
 * @example
 * ```ts
 * import type { PartialFrame } from "@fstrm/fstrm";
 *
 * const progress = (p: PartialFrame): string =>
 *   p.length === null ? "header" : `${p.received}/${p.length} bytes`;
 * console.log(progress({ kind: "data", offset: 0, length: 10, received: 4 }));
 * ```
 */
export interface PartialFrame {
  /**
   * `"data"` or `"control"` once its first word (and, for a control frame,
   * its length) has arrived; `null` before.
   */
  readonly kind: "data" | "control" | null;
  /** Its stream offset. */
  readonly offset: number;
  /** Its whole size in bytes, header included, once known; else `null`. */
  readonly length: number | null;
  /** Its bytes that have arrived. */
  readonly received: number;
}

/**
 * An incremental decoder of Frame Streams bytes, with no I/O of its own.
 *
 * Feed it chunks with {@linkcode FrameDecoder.prototype.push}, pull frames
 * with {@linkcode FrameDecoder.prototype.next} until it returns `null`, and
 * call {@linkcode FrameDecoder.prototype.end} when the input is over.
 * Frames come out in order; an error is thrown by `next()` only after every
 * complete frame before it has been returned, and then again on every call.
 *
 * A data frame that lies inside one chunk is handed out as a view of that
 * chunk (so do not reuse a chunk's buffer while its frames are in use); one
 * that spans chunks is assembled once into a buffer of its own. Memory is
 * bounded by `maxFrameLength` plus the chunks not yet consumed.
 *
 * The decoder follows the stream's phase: before START it delivers READY,
 * ACCEPT, FINISH, START (and, unless `strict`, data frames); after START it
 * delivers data frames and STOP, and skips (counting them in
 * {@linkcode FrameDecoder.prototype.skippedFrames}) control frames that have
 * no place there; control frames of unknown type are always skipped. After
 * STOP a new START may begin another stream.
 *
 * Ways to take the frames (mix them freely):
 * - {@linkcode FrameDecoder.prototype.next}`()`: every frame as an object.
 * - {@linkcode FrameDecoder.prototype.next}`(onData)`: each data frame's
 *   payload where it lies, handed to a callback; control frames as objects.
 * - {@linkcode FrameDecoder.prototype.nextRun}`(onRun)`: runs of data frames
 *   still encoded; control frames as objects.
 *
 * With `engine: "auto"` the decoder takes the TypeScript engine, measured
 * faster here (the WebAssembly engine must copy each chunk into its memory;
 * see docs/benchmarks.md).
 *
 * @example
 * ```ts
 * import { encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const decoder = new FrameDecoder();
 * decoder.push(encodeFrameStream(["hello"], { contentType: "protobuf:dnstap.Dnstap" }));
 * decoder.end();
 * const frames = [];
 * for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
 * assert.equal(frames.length, 3);
 * assert.equal(new TextDecoder().decode(decoder.contentType!), "protobuf:dnstap.Dnstap");
 * ```
 */
export class FrameDecoder {
  #core: ChunkDecoder;
  #error: unknown = null;

  /**
   * Makes a decoder.
   *
   * @param options Limits and policies; see {@linkcode FrameDecoderOptions}.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If `maxFrameLength` is out of range.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const {
      maxFrameLength = DEFAULT_MAX_FRAME_LENGTH,
      oversize = "error",
      strict = false,
    } = options;
    const skipOversize = checkFrameLimits("decoder", maxFrameLength, oversize);
    this.#core = new ChunkDecoder(
      makeScanEngine(
        resolveEngine(options.engine, AUTO_DECODER_ENGINE, "decoder"),
      ),
      maxFrameLength,
      skipOversize,
      strict === true,
      options.outOfPlace === "deliver",
    );
  }

  /**
   * The scan engine in use.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().engine); // "ts"
   * ```
   */
  get engine(): Engine {
    return this.#core.engine;
  }

  /**
   * The content type of the last START frame (a copy), or `null` if none was
   * seen or it had none.
   *
   * @example
   * ```ts
   * import { decodeFrames, encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeFrameStream([], { contentType: "x" }));
   * while (decoder.next() !== null);
   * console.log(decoder.contentType); // Uint8Array [ 120 ]
   * ```
   */
  get contentType(): Uint8Array | null {
    return this.#core.state.contentType;
  }

  /**
   * Whether a START frame has been seen.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().started); // false
   * ```
   */
  get started(): boolean {
    return this.#core.state.phase !== PHASE_IDLE;
  }

  /**
   * Whether the stream's STOP frame has been seen (and no new START since).
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeFrameStream(["x"]));
   * while (decoder.next() !== null);
   * console.log(decoder.stopped); // true
   * ```
   */
  get stopped(): boolean {
    return this.#core.state.phase === PHASE_STOPPED;
  }

  /**
   * Data frames delivered so far (as objects or to a callback).
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().frames); // 0
   * ```
   */
  get frames(): number {
    return this.#core.state.frames;
  }

  /**
   * The payload bytes of the data frames delivered so far (length words not
   * included).
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeFrameStream(["ab", "cde"]));
   * while (decoder.next() !== null);
   * console.log(decoder.frames, decoder.bytes); // 2 5
   * ```
   */
  get bytes(): number {
    return this.#core.state.bytes;
  }

  /**
   * Control frames delivered so far.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().controlFrames); // 0
   * ```
   */
  get controlFrames(): number {
    return this.#core.state.controlFrames;
  }

  /**
   * Well-formed control frames skipped: unknown types, and known ones out of
   * place.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().skippedFrames); // 0
   * ```
   */
  get skippedFrames(): number {
    return this.#core.state.skippedFrames;
  }

  /**
   * Data frames over `maxFrameLength` skipped under `oversize: "skip"`.
   *
   * @example
   * ```ts
   * import { encodeDataFrame, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder({ maxFrameLength: 2, oversize: "skip" });
   * decoder.push(encodeDataFrame("long"));
   * console.log(decoder.next(), decoder.oversizedFrames); // null 1
   * ```
   */
  get oversizedFrames(): number {
    return this.#core.oversized;
  }

  /**
   * The frame being assembled from more than one chunk, as of the last
   * `next()` (or `nextRun()`) that returned `null`; `null` at a frame
   * boundary. A receiver can act on a frame before its bytes arrive: refuse
   * a data frame out of place, or show the progress of a large one.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(new Uint8Array([0, 0, 1, 0, 0xaa, 0xbb])); // 256 bytes announced, 2 here
   * assert.equal(decoder.next(), null);
   * assert.deepEqual(decoder.partialFrame, {
   *   kind: "data",
   *   offset: 0,
   *   length: 260,
   *   received: 6,
   * });
   * ```
   */
  get partialFrame(): PartialFrame | null {
    return this.#core.partialFrame();
  }

  /**
   * Adds a chunk of input. The decoder keeps a reference to it (no copy)
   * until its frames have been pulled.
   *
   * @param chunk The next bytes of the stream.
   * @throws {TypeError} If `chunk` is not a `Uint8Array`, or after `end()`.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(new Uint8Array([0, 0, 0, 1]));
   * assert.equal(decoder.next(), null); // the payload has not arrived
   * decoder.push(new Uint8Array([42]));
   * assert.deepEqual(decoder.next()?.kind, "data");
   * ```
   */
  push(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot decode: a chunk must be a Uint8Array, got ${typeof chunk}`,
      );
    }
    if (this.#core.ended) {
      throw new TypeError("Cannot decode: push() called after end()");
    }
    this.#core.push(chunk);
  }

  /**
   * Marks the end of input. `next()` then returns the frames left, and
   * throws {@linkcode TruncatedFrameError} if the input ended inside a frame
   * (or, in strict mode, without STOP).
   *
   * @example
   * ```ts
   * import { FrameDecoder, TruncatedFrameError } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(new Uint8Array([0, 0, 0, 9, 1, 2]));
   * decoder.end();
   * assert.throws(() => decoder.next(), TruncatedFrameError);
   * ```
   */
  end(): void {
    this.#core.ended = true;
  }

  /**
   * Use this to take every frame as an object, data frames with their
   * stream offset. Returns the next frame, or `null` when more input is
   * needed (or, after `end()`, when the input is exhausted).
   *
   * @returns The next frame or `null`.
   * @throws {NotFrameStreamsError} The input is not Frame Streams: its
   * first word (stream offset 0) announces a data frame over
   * `maxFrameLength` and its first bytes look like something else (text,
   * HTTP, TLS, a 2-byte length and protobuf). Under either `oversize`
   * policy: such a "frame" is never skipped.
   * @throws {FrameTooLargeError} A data frame is over `maxFrameLength` (with
   * `oversize: "error"`).
   * @throws {ControlFrameError} A control frame is malformed, or of unknown
   * type in strict mode.
   * @throws {UnexpectedFrameError} A frame out of place, in strict mode.
   * @throws {TruncatedFrameError} After `end()`, the input ended inside a
   * frame, or without STOP in strict mode.
   * Errors come after every frame before the fault has been returned, and
   * then again on every call.
   *
   * @example
   * ```ts
   * import { encodeDataFrame, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeDataFrame("hi"));
   * const frame = decoder.next();
   * console.log(frame?.kind); // "data"
   * ```
   */
  next(): Frame | null;
  /**
   * Use this to read each payload where it lies, with no object made per
   * data frame: the fast path for a consumer that reads or copies payloads
   * at once. Data frames go to `onData(window, offset, length)`, the payload
   * being `window[offset, offset + length)`, a view of the pushed chunk (or
   * of the buffer that assembled a frame spanning chunks) valid while that
   * chunk is; only control frames are returned. The shape of
   * `ReaderSession.prototype.next(onData)`; mixing calls with `next()` is
   * fine.
   *
   * @param onData Called for each data frame, in order; what it returns is
   * ignored. If it throws, the error propagates and the decoder goes on
   * after that frame at the next call.
   * @returns The next control frame, or `null` when more input is needed
   * (or, after `end()`, when the input is exhausted).
   * @throws {TypeError} If `onData` is not a function.
   * @throws The errors of `next()`, after every data frame before the fault
   * has been handed to `onData`.
   *
   * @example Counting payload bytes without a frame object each
   * ```ts
   * import { ControlType, encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeFrameStream(["ab", "cde"], { contentType: "t" }));
   * decoder.end();
   * let bytes = 0;
   * const controls: string[] = [];
   * const count = (_w: Uint8Array, _o: number, length: number) => {
   *   bytes += length;
   * };
   * for (let f = decoder.next(count); f !== null; f = decoder.next(count)) {
   *   controls.push(f.type === ControlType.START ? "START" : "STOP");
   * }
   * assert.equal(bytes, 5);
   * assert.deepEqual(controls, ["START", "STOP"]);
   * ```
   */
  next(onData: DataCallback): ControlFrame | null;
  /**
   * `next()` or `next(onData)`, for a caller whose callback may be
   * `undefined`: as `next()` without one.
   *
   * @param onData Called for each data frame, or `undefined`.
   * @returns The next frame (given `onData`: the next control frame) or
   * `null`.
   *
   * @example
   * ```ts
   * import { encodeDataFrame, FrameDecoder } from "@fstrm/fstrm";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeDataFrame("hi"));
   * const sink = undefined as ((w: Uint8Array, o: number, n: number) => void) | undefined;
   * console.log(decoder.next(sink)?.kind); // "data"
   * ```
   */
  next(onData?: DataCallback): Frame | null;
  next(onData?: DataCallback): Frame | null {
    if (this.#error !== null) throw this.#error;
    if (onData === undefined) {
      try {
        return this.#core.next(null, null);
      } catch (error) {
        this.#error = error;
        throw error;
      }
    }
    if (typeof onData !== "function") {
      throw new TypeError("Cannot decode: onData must be a function");
    }
    try {
      return this.#core.next(onData, null);
    } catch (error) {
      if (!this.#core.inCallback) this.#error = error;
      this.#core.inCallback = false;
      throw error;
    }
  }

  /**
   * Use this to copy or forward data frames as they came, a run at a time,
   * length words included. As {@linkcode FrameDecoder.prototype.next}
   * given a callback, handing data frames still encoded, in runs: `onRun(window, start, end, frames)` gets
   * `frames` consecutive whole data frames (length words included) as
   * `window[start, end)`, a view of the pushed chunk (or of the buffer that
   * assembled a frame spanning chunks: a run of one), valid while that
   * chunk is. A run ends at a control frame and at the end of what one scan
   * found. The fast path for copying or forwarding frames as they are.
   *
   * @param onRun Called for each run, in order; what it returns is ignored.
   * If it throws, the error propagates and the decoder goes on after that
   * run at the next call.
   * @returns The next control frame, or `null` when more input is needed
   * (or, after `end()`, when the input is exhausted).
   * @throws The errors of {@linkcode FrameDecoder.prototype.next}, after
   * every data frame before the fault has been handed to `onRun`.
   *
   * @example Copying the data frames of a stream, encoded, without its control frames
   * ```ts
   * import { decodeFrames, encodeFrameStream, FrameDecoder } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const decoder = new FrameDecoder();
   * decoder.push(encodeFrameStream(["ab", "cde"], { contentType: "t" }));
   * decoder.end();
   * const copies: Uint8Array[] = [];
   * const copy = (window: Uint8Array, start: number, end: number) => {
   *   copies.push(window.slice(start, end));
   * };
   * while (decoder.nextRun(copy) !== null); // START, STOP
   * assert.equal(copies.length, 1); // one run of two frames
   * const payloads = decodeFrames(copies[0]!).map((f) =>
   *   f.kind === "data" ? new TextDecoder().decode(f.data) : ""
   * );
   * assert.deepEqual(payloads, ["ab", "cde"]);
   * ```
   */
  nextRun(onRun: RunCallback): ControlFrame | null {
    if (this.#error !== null) throw this.#error;
    if (typeof onRun !== "function") {
      throw new TypeError("Cannot decode: onRun must be a function");
    }
    try {
      return this.#core.next(null, onRun) as ControlFrame | null;
    } catch (error) {
      if (!this.#core.inCallback) this.#error = error;
      this.#core.inCallback = false;
      throw error;
    }
  }
}

/**
 * Decodes a whole stream held in memory, in one call.
 *
 * @param bytes The stream.
 * @param options Limits and policies; see {@linkcode FrameDecoderOptions}.
 * @returns Every frame, in order. Data frames are views of `bytes`.
 * @throws The errors of {@linkcode FrameDecoder.prototype.next}: the frames
 * before the error are lost to the caller here, so use a
 * {@linkcode FrameDecoder} to keep them.
 *
 * @example
 * ```ts
 * import { decodeFrames, encodeFrameStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const frames = decodeFrames(encodeFrameStream(["a"], { contentType: "t" }));
 * assert.deepEqual(frames.map((f) => f.kind), ["control", "data", "control"]);
 * ```
 */
export function decodeFrames(
  bytes: Uint8Array,
  options: FrameDecoderOptions = {},
): Frame[] {
  const decoder = new FrameDecoder(options);
  decoder.push(bytes);
  decoder.end();
  const frames: Frame[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  return frames;
}
