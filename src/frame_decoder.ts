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
import { FrameTooLargeError, TruncatedFrameError } from "./errors.ts";
import {
  ENTRY_WORDS,
  KIND_DATA,
  NEED_CONTROL,
  NEED_DATA,
  NEED_HEADER,
  STATUS_CONTROL_ERROR,
  STATUS_END,
  STATUS_NEED_MORE,
  STATUS_TABLE_FULL,
  STATUS_TOO_LARGE,
} from "./_scan.ts";
import type { ScanEngine } from "./_engine.ts";
import type { Engine, EngineOption } from "./engine.ts";
import { makeScanEngine, resolveEngine } from "./_select_engine.ts";
import { describeForeignBytes } from "./_bytes.ts";
import { checkFrameLimits } from "./_options.ts";
import { controlFrameError } from "./_control.ts";
import {
  PHASE_DATA,
  PHASE_IDLE,
  PHASE_STOPPED,
  StreamState,
} from "./_stream_state.ts";

/** The first size of the buffer that assembles a frame across chunks. */
const CARRY_START = 65_536;

/** Where {@linkcode FrameDecoder.prototype.nextControl} puts data frames. */
type DataSink = (window: Uint8Array, offset: number, length: number) => unknown;

/** Where {@linkcode FrameDecoder.prototype.nextRun} puts runs of data frames. */
type RunSink = (
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
) => unknown;

/**
 * What to do with a data frame longer than `maxFrameLength`.
 *
 * - `"error"`: throw a {@linkcode FrameTooLargeError}.
 * - `"skip"`: discard it without buffering it, count it in
 *   {@linkcode FrameDecoder.prototype.oversizedFrames}, and go on, as
 *   `fstrm_capture` does.
 *
 * @example
 * ```ts
 * import type { OversizePolicy } from "@fstrm/fstrm";
 *
 * const policy: OversizePolicy = "skip";
 * console.log(policy);
 * ```
 */
export type OversizePolicy = "error" | "skip";

/**
 * Options of {@linkcode FrameDecoder}.
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
export interface FrameDecoderOptions {
  /**
   * The longest data frame payload accepted, in bytes: an integer from 1 to
   * 4,294,967,295. Real dnstap frames reach about 56 KB, so a limit under
   * about 66 KB loses real traffic.
   *
   * @default {1048576}
   */
  maxFrameLength?: number;
  /**
   * What to do with a longer data frame.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
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
  /**
   * The scan engine. `"auto"` takes the TypeScript engine, measured faster
   * here for the decoder (the WebAssembly engine must copy each chunk into
   * its memory; see the README's benchmarks); `"wasm"` insists on
   * WebAssembly and throws where it cannot load.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
}

const EMPTY = new Uint8Array(0);
/** What "auto" picks for the decoder (see the README's benchmarks). */
const AUTO_DECODER_ENGINE: Engine = "ts";

const NO_STATUS = -1;

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
  #engine: ScanEngine;
  #maxFrameLength: number;
  #skipOversize: boolean;

  // Chunks pushed but not yet current.
  #queue: Uint8Array[] = [];
  #queueIndex = 0;
  // The current chunk, the next byte to scan in it, its offset in the stream.
  #buf: Uint8Array = EMPTY;
  // Lengths are kept in fields, never computed as `array.length - n`: V8's
  // Maglev (Deno 2.9.6) does that subtraction in 32 bits once warm, which
  // is wrong for arrays of 2 GiB or more.
  #bufLength = 0;
  #pos = 0;
  #base = 0;

  // A frame that spans chunks, being assembled.
  #carry: Uint8Array | null = null;
  #carrySize = 0;
  #carryLength = 0;
  #carryBase = 0;
  #carryWhat = NEED_HEADER;

  // An oversized frame being skipped.
  #skip = 0;
  #skipOffset = 0;
  #skipTotal = 0;

  // The last scan: its window, the window's stream offset, its entries.
  #window: Uint8Array = EMPTY;
  #windowBase = 0;
  #count = 0;
  #index = 0;
  #status = NO_STATUS;
  #stopPos = 0;
  #value = 0;
  #reason = 0;
  #errorPos = 0;

  #state: StreamState;
  #ended = false;
  #error: unknown = null;
  #inCallback = false;
  #oversized = 0;

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
    this.#engine = makeScanEngine(
      resolveEngine(options.engine, AUTO_DECODER_ENGINE, "decoder"),
    );
    this.#maxFrameLength = maxFrameLength;
    this.#skipOversize = skipOversize;
    this.#state = new StreamState(
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
    return this.#engine.name;
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
    return this.#state.contentType;
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
    return this.#state.phase !== PHASE_IDLE;
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
    return this.#state.phase === PHASE_STOPPED;
  }

  /**
   * Data frames delivered so far.
   *
   * @example
   * ```ts
   * import { FrameDecoder } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoder().dataFrames); // 0
   * ```
   */
  get dataFrames(): number {
    return this.#state.dataFrames;
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
    return this.#state.controlFrames;
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
    return this.#state.skippedFrames;
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
    return this.#oversized;
  }

  /**
   * The frame being assembled from more than one chunk, as of the last
   * `next()` (or `nextControl()`) that returned `null`; `null` at a frame
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
    // A complete carry is a frame delivered, or being delivered.
    if (this.#carry === null || this.#carryLength === this.#carrySize) {
      return null;
    }
    const what = this.#carryWhat;
    const header = what === NEED_HEADER;
    return {
      kind: what === NEED_DATA
        ? "data"
        : what === NEED_CONTROL || this.#carrySize === 8
        ? "control"
        : null,
      offset: this.#carryBase,
      length: header ? null : this.#carrySize,
      received: this.#carryLength,
    };
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
    if (this.#ended) {
      throw new TypeError("Cannot decode: push() called after end()");
    }
    if (chunk.length > 0) this.#queue.push(chunk);
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
    this.#ended = true;
  }

  /**
   * Returns the next frame, or `null` when more input is needed (or, after
   * `end()`, when the input is exhausted).
   *
   * @returns The next frame or `null`.
   * @throws {FrameTooLargeError} A data frame is over `maxFrameLength` (with
   * `oversize: "error"`).
   * @throws {ControlFrameError} A control frame is malformed, or of unknown
   * type in strict mode.
   * @throws {UnexpectedFrameError} A frame out of place, in strict mode.
   * @throws {TruncatedFrameError} After `end()`, the input ended inside a
   * frame, or without STOP in strict mode.
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
  next(): Frame | null {
    if (this.#error !== null) throw this.#error;
    try {
      return this.#next();
    } catch (error) {
      this.#error = error;
      throw error;
    }
  }

  /**
   * Returns the next control frame, or `null` as {@linkcode FrameDecoder.prototype.next}
   * does, handing every data frame before it to `onData` instead of
   * returning it: `onData(window, offset, length)` gets the payload as
   * `window[offset, offset + length)`, a view of the pushed chunk (or of the
   * buffer that assembled a frame spanning chunks), valid while that chunk
   * is. No object is made per data frame: the fast path for a consumer that
   * reads or copies payloads at once. Mixing calls with `next()` is fine.
   *
   * @param onData Called for each data frame, in order; what it returns is
   * ignored. If it throws, the error propagates and the decoder goes on
   * after that frame at the next call.
   * @returns The next control frame, or `null` when more input is needed
   * (or, after `end()`, when the input is exhausted).
   * @throws The errors of {@linkcode FrameDecoder.prototype.next}, after
   * every data frame before the fault has been handed to `onData`.
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
   * for (let f = decoder.nextControl(count); f !== null; f = decoder.nextControl(count)) {
   *   controls.push(f.type === ControlType.START ? "START" : "STOP");
   * }
   * assert.equal(bytes, 5);
   * assert.deepEqual(controls, ["START", "STOP"]);
   * ```
   */
  nextControl(
    onData: (window: Uint8Array, offset: number, length: number) => unknown,
  ): ControlFrame | null {
    if (this.#error !== null) throw this.#error;
    if (typeof onData !== "function") {
      throw new TypeError("Cannot decode: onData must be a function");
    }
    try {
      return this.#next(onData) as ControlFrame | null;
    } catch (error) {
      if (!this.#inCallback) this.#error = error;
      this.#inCallback = false;
      throw error;
    }
  }

  /**
   * As {@linkcode FrameDecoder.prototype.nextControl}, handing data frames
   * still encoded, in runs: `onRun(window, start, end, frames)` gets
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
  nextRun(
    onRun: (
      window: Uint8Array,
      start: number,
      end: number,
      frames: number,
    ) => unknown,
  ): ControlFrame | null {
    if (this.#error !== null) throw this.#error;
    if (typeof onRun !== "function") {
      throw new TypeError("Cannot decode: onRun must be a function");
    }
    try {
      return this.#next(null, onRun) as ControlFrame | null;
    } catch (error) {
      if (!this.#inCallback) this.#error = error;
      this.#inCallback = false;
      throw error;
    }
  }

  #next(
    onData: DataSink | null = null,
    onRun: RunSink | null = null,
  ): Frame | null {
    for (;;) {
      // The table of the last scan (the engine may replace it when it scans).
      const table = this.#engine.table;
      // 1. Frames found by the last scan.
      while (this.#index < this.#count) {
        const i = this.#index;
        const e = i * ENTRY_WORDS;
        if (onRun !== null && table[e + 2] === KIND_DATA) {
          // A stretch of data frames: only its ends matter.
          let j = i + 1;
          while (j < this.#count && table[j * ENTRY_WORDS + 2] === KIND_DATA) {
            j++;
          }
          this.#index = j;
          const last = (j - 1) * ENTRY_WORDS;
          this.#run(
            table[e]!,
            table[last]! + 4 + table[last + 1]!,
            j - i,
            onRun,
          );
          continue;
        }
        this.#index = i + 1;
        if (onData !== null && table[e + 2] === KIND_DATA) {
          this.#data(table[e]!, table[e + 1]!, onData);
          continue;
        }
        const frame = this.#frame(table[e]!, table[e + 1]!, table[e + 2]!);
        if (frame !== null) return frame;
      }
      // 2. What stopped the last scan.
      if (this.#status !== NO_STATUS) {
        this.#afterScan();
        continue;
      }
      // 3. More bytes: skip, assemble, or scan the current chunk.
      if (this.#pos === this.#bufLength && !this.#nextChunk()) {
        return this.#atEnd();
      }
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, this.#bufLength - this.#pos);
        this.#skip -= take;
        this.#pos += take;
      } else if (this.#carry !== null) {
        this.#fillCarry();
      } else {
        this.#scan(this.#buf, this.#pos, this.#bufLength, this.#base);
        // The scan's stop position is where this chunk resumes.
        this.#pos = this.#stopPos;
      }
    }
  }

  /** Makes the current chunk the next queued one; false if none is queued. */
  #nextChunk(): boolean {
    if (this.#queueIndex === this.#queue.length) {
      if (this.#queue.length > 0) {
        this.#queue.length = 0;
        this.#queueIndex = 0;
      }
      return false;
    }
    this.#base += this.#bufLength;
    this.#buf = this.#queue[this.#queueIndex++]!;
    this.#bufLength = this.#buf.length;
    this.#pos = 0;
    return true;
  }

  #scan(window: Uint8Array, start: number, end: number, base: number): void {
    const engine = this.#engine;
    this.#count = engine.scan(window, start, end, this.#maxFrameLength);
    this.#index = 0;
    this.#window = window;
    this.#windowBase = base;
    const out = engine.out;
    this.#status = out[0]!;
    this.#stopPos = out[1]!;
    this.#value = out[2]!;
    this.#reason = out[3]!;
    this.#errorPos = out[4]!;
  }

  /** Acts on the status of the last scan, once its entries are delivered. */
  #afterScan(): void {
    const status = this.#status;
    this.#status = NO_STATUS;
    const window = this.#window;
    const stop = this.#stopPos;
    const offset = this.#windowBase + stop;
    if (status === STATUS_END || status === STATUS_TABLE_FULL) {
      if (window === this.#carry) this.#carry = null;
      return;
    }
    if (status === STATUS_NEED_MORE) {
      // Start (or grow) the buffer that assembles the frame at `stop`.
      const what = this.#reason;
      const need = what === NEED_HEADER
        ? this.#value
        : (what === NEED_DATA ? 4 : 8) + this.#value;
      const have = window === this.#carry
        ? this.#carryLength
        : this.#bufLength - stop;
      // The buffer grows with what arrives (doubling), up to the frame's
      // size: a peer that announces a large frame and sends little costs
      // little.
      const carry = new Uint8Array(Math.min(need, Math.max(have, CARRY_START)));
      carry.set(window.subarray(stop, stop + have));
      this.#carry = carry;
      this.#carrySize = need;
      this.#carryLength = have;
      this.#carryBase = offset;
      this.#carryWhat = what;
      if (window === this.#buf) this.#pos = this.#bufLength;
      return;
    }
    if (status === STATUS_TOO_LARGE) {
      const length = this.#value;
      if (!this.#skipOversize) {
        throw new FrameTooLargeError(
          offset,
          length,
          this.#maxFrameLength,
          describeForeignBytes(window.subarray(stop, stop + 8)),
        );
      }
      this.#oversized++;
      // Discard the frame's bytes as they come, without buffering them.
      const total = 4 + length;
      const have = window === this.#carry
        ? this.#carryLength
        : this.#bufLength - stop;
      const take = Math.min(total, have);
      this.#skipOffset = offset;
      this.#skipTotal = total;
      this.#skip = total - take;
      if (window === this.#carry) this.#carry = null;
      else this.#pos = stop + take;
      return;
    }
    if (status === STATUS_CONTROL_ERROR) {
      throw controlFrameError(
        window,
        this.#windowBase,
        stop,
        this.#value,
        this.#reason,
        this.#errorPos,
      );
    }
    throw new Error(`Cannot decode: unknown scanner status ${status}`);
  }

  #fillCarry(): void {
    let carry = this.#carry!;
    const take = Math.min(
      this.#carrySize - this.#carryLength,
      this.#bufLength - this.#pos,
    );
    const want = this.#carryLength + take;
    if (want > carry.length) {
      const grown = new Uint8Array(
        Math.min(this.#carrySize, Math.max(want, 2 * carry.length)),
      );
      grown.set(carry.subarray(0, this.#carryLength));
      this.#carry = carry = grown;
    }
    carry.set(
      this.#buf.subarray(this.#pos, this.#pos + take),
      this.#carryLength,
    );
    this.#carryLength += take;
    this.#pos += take;
    if (this.#carryLength === this.#carrySize) {
      this.#scan(carry, 0, this.#carrySize, this.#carryBase);
    }
  }

  #atEnd(): null {
    if (!this.#ended) return null;
    if (this.#carry !== null) {
      const expected = this.#carryWhat === NEED_HEADER ? null : this.#carrySize;
      throw new TruncatedFrameError(
        this.#carryBase,
        this.#carryLength,
        expected,
      );
    }
    if (this.#skip > 0) {
      throw new TruncatedFrameError(
        this.#skipOffset,
        this.#skipTotal - this.#skip,
        this.#skipTotal,
      );
    }
    this.#state.end(this.#base + this.#bufLength);
    return null;
  }

  /** Hands a table entry's data frame to `onData`. */
  #data(at: number, length: number, onData: DataSink): void {
    const state = this.#state;
    if (state.phase !== PHASE_DATA) {
      state.dataOutOfPlace(this.#windowBase + at);
    }
    state.dataFrames++;
    this.#inCallback = true;
    onData(this.#window, at + 4, length);
    this.#inCallback = false;
  }

  /** Hands `frames` data frames at window[start, end) to `onRun`. */
  #run(start: number, end: number, frames: number, onRun: RunSink): void {
    const state = this.#state;
    // Out of place, all of them are (only a control frame changes that).
    if (state.phase !== PHASE_DATA) {
      state.dataOutOfPlace(this.#windowBase + start);
    }
    state.dataFrames += frames;
    this.#inCallback = true;
    onRun(this.#window, start, end, frames);
    this.#inCallback = false;
  }

  /** Turns a table entry into a frame, or null if policy skips it. */
  #frame(at: number, length: number, kind: number): Frame | null {
    const window = this.#window;
    const offset = this.#windowBase + at;
    if (kind !== KIND_DATA) {
      return this.#state.control(window, at, length, kind, offset);
    }
    const state = this.#state;
    if (state.phase !== PHASE_DATA) state.dataOutOfPlace(offset);
    state.dataFrames++;
    return {
      kind: "data",
      data: window.subarray(at + 4, at + 4 + length),
      offset,
    };
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
