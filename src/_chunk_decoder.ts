// Private: the machinery of FrameDecoder. Chunks come in; the current one is
// scanned in place; a frame that spans chunks is assembled once in a buffer
// of its own (growing with what arrives, never with what a length word
// announces); an oversized frame under "skip" is discarded as it arrives,
// without buffering. Frames go out in order, as objects or to callbacks.
import type { Frame } from "./frame.ts";
import { TruncatedFrameError } from "./errors.ts";
import {
  ENTRY_WORDS,
  KIND_DATA,
  NEED_CONTROL,
  NEED_DATA,
  NEED_HEADER,
  STATUS_END,
  STATUS_NEED_MORE,
  STATUS_TABLE_FULL,
} from "./_scan.ts";
import type { ScanEngine } from "./_engine.ts";
import { frameSize, scanFault } from "./_scan_status.ts";
import { PHASE_DATA, StreamState } from "./_stream_state.ts";
import type { DataSink, RunSink } from "./_sinks.ts";

/** The first size of the buffer that assembles a frame across chunks. */
const CARRY_START = 65_536;

const EMPTY = new Uint8Array(0);

const NO_STATUS = -1;

/** The frame being assembled across chunks (see FrameDecoder.partialFrame). */
export interface Partial {
  readonly kind: "data" | "control" | null;
  readonly offset: number;
  readonly length: number | null;
  readonly received: number;
}

/** The decoding machinery of one FrameDecoder. */
export class ChunkDecoder {
  readonly state: StreamState;
  /** Data frames over the limit skipped. */
  oversized = 0;
  /** Set while a data callback runs: its errors do not poison the decoder. */
  inCallback = false;
  /** Whether the input has ended. */
  ended = false;

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

  constructor(
    engine: ScanEngine,
    maxFrameLength: number,
    skipOversize: boolean,
    strict: boolean,
    deliverOutOfPlace = false,
  ) {
    this.#engine = engine;
    this.#maxFrameLength = maxFrameLength;
    this.#skipOversize = skipOversize;
    this.state = new StreamState(strict, deliverOutOfPlace);
  }

  /** The engine's name. */
  get engine(): "ts" | "wasm" {
    return this.#engine.name;
  }

  /** Queues a chunk (not copied). */
  push(chunk: Uint8Array): void {
    if (chunk.length > 0) this.#queue.push(chunk);
  }

  /** The frame being assembled, or null at a frame boundary. */
  partialFrame(): Partial | null {
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
   * The next frame (data frames go to `onData` or, in runs, to `onRun` when
   * one is given), or null when more input is needed or it is exhausted.
   */
  next(onData: DataSink | null, onRun: RunSink | null): Frame | null {
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
    // The bytes of the frame at `stop` at hand.
    const have = window === this.#carry
      ? this.#carryLength
      : this.#bufLength - stop;
    if (status === STATUS_NEED_MORE) {
      // Start (or grow) the buffer that assembles the frame at `stop`.
      const need = frameSize(this.#value, this.#reason);
      // The buffer grows with what arrives (doubling), up to the frame's
      // size: a peer that announces a large frame and sends little costs
      // little.
      const carry = new Uint8Array(Math.min(need, Math.max(have, CARRY_START)));
      carry.set(window.subarray(stop, stop + have));
      this.#carry = carry;
      this.#carrySize = need;
      this.#carryLength = have;
      this.#carryBase = offset;
      this.#carryWhat = this.#reason;
      if (window === this.#buf) this.#pos = this.#bufLength;
      return;
    }
    // Throws, unless an oversized frame is to be skipped.
    const total = scanFault(
      status,
      window,
      this.#windowBase,
      stop,
      this.#value,
      this.#reason,
      this.#errorPos,
      this.#maxFrameLength,
      this.#skipOversize,
    );
    this.oversized++;
    // Discard the frame's bytes as they come, without buffering them.
    const take = Math.min(total, have);
    this.#skipOffset = offset;
    this.#skipTotal = total;
    this.#skip = total - take;
    if (window === this.#carry) this.#carry = null;
    else this.#pos = stop + take;
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
    if (!this.ended) return null;
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
    this.state.end(this.#base + this.#bufLength);
    return null;
  }

  /** Hands a table entry's data frame to `onData`. */
  #data(at: number, length: number, onData: DataSink): void {
    const state = this.state;
    if (state.phase !== PHASE_DATA) {
      state.dataOutOfPlace(this.#windowBase + at);
    }
    state.frames++;
    state.bytes += length;
    this.inCallback = true;
    onData(this.#window, at + 4, length);
    this.inCallback = false;
  }

  /** Hands `frames` data frames at window[start, end) to `onRun`. */
  #run(start: number, end: number, frames: number, onRun: RunSink): void {
    const state = this.state;
    // Out of place, all of them are (only a control frame changes that).
    if (state.phase !== PHASE_DATA) {
      state.dataOutOfPlace(this.#windowBase + start);
    }
    state.frames += frames;
    state.bytes += end - start - 4 * frames;
    this.inCallback = true;
    onRun(this.#window, start, end, frames);
    this.inCallback = false;
  }

  /** Turns a table entry into a frame, or null if policy skips it. */
  #frame(at: number, length: number, kind: number): Frame | null {
    const window = this.#window;
    const offset = this.#windowBase + at;
    if (kind !== KIND_DATA) {
      return this.state.control(window, at, length, kind, offset);
    }
    const state = this.state;
    if (state.phase !== PHASE_DATA) state.dataOutOfPlace(offset);
    state.frames++;
    state.bytes += length;
    return {
      kind: "data",
      data: window.subarray(at + 4, at + 4 + length),
      offset,
    };
  }
}
