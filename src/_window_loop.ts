// Private: the read-scan loop of FrameReader. It reads the source into a
// window, scans the window, hands what the scan found to one sink (a callback
// per data frame, a callback per run of data frames, or an array of frame
// objects), and moves a frame cut by the window's end on.
//
// Two ways to hold the window:
// - fixed: one window for the whole input (the engine's, WebAssembly memory
//   for the WASM engine), rewritten by every read. What a sink was given is
//   valid until the loop goes on.
// - fresh: bytes once read are never written again. Reads go into the free
//   end of the current window, and a new window is made when it is full, the
//   cut frame copied to its front. Views of a window stay valid for as long
//   as anyone holds them: the way to hand out frames a user may keep without
//   copying payloads.
import type { ControlFrame, Frame } from "./frame.ts";
import { TruncatedFrameError } from "./errors.ts";
import {
  KIND_DATA,
  NEED_HEADER,
  STATUS_END,
  STATUS_NEED_MORE,
  STATUS_TABLE_FULL,
} from "./_scan.ts";
import { frameSize, scanFault } from "./_scan_status.ts";
import {
  PHASE_DATA,
  PHASE_IDLE,
  PHASE_STOPPED,
  type StreamState,
} from "./_stream_state.ts";
import { contentTypeText } from "./_bytes.ts";
import type { Engine } from "./engine.ts";
import type { FrameReaderSummary } from "./_reader_types.ts";
import type { ByteSource } from "./_reader_source.ts";
import type { DataSink, RunSink } from "./_sinks.ts";
import { isThenable } from "./_thenable.ts";

export { isThenable };

/** Where the loop delivers: exactly one of the three is set. */
export interface Sinks {
  readonly onData?: DataSink;
  readonly onRun?: RunSink;
  /**
   * Frame objects are pushed here, data frames as views of the window. The
   * consumer may replace the array between windows (taking the old one).
   */
  frames?: Frame[];
}

/** What the loop scans with: any buffer (fresh mode) or its own window. */
export interface Scanner {
  readonly table: Uint32Array;
  readonly out: Uint32Array;
  scan(buf: Uint8Array, start: number, end: number, max: number): number;
}

/** A promise a sink returned, for the read loop to wait on. */
interface Hold {
  promise: PromiseLike<unknown> | undefined;
}

/** The loop's settings and counters. */
export class WindowLoop {
  /** Data frames over the limit skipped. */
  oversized = 0;
  /** Bytes read from the source. */
  bytesRead = 0;
  readonly #source: ByteSource;
  readonly #sync: boolean;
  readonly #state: StreamState;
  readonly #max: number;
  readonly #skipOversize: boolean;
  readonly #offset: number;

  /** `offset`: the stream offset of the source's first byte (errors and
   * frame offsets count from it). */
  constructor(
    source: ByteSource,
    sync: boolean,
    state: StreamState,
    maxFrameLength: number,
    skipOversize: boolean,
    offset = 0,
  ) {
    this.#source = source;
    this.#sync = sync;
    this.#state = state;
    this.#max = maxFrameLength;
    this.#skipOversize = skipOversize;
    this.#offset = offset;
  }

  /**
   * What has been read so far (also after an error), as FrameReader's
   * summary says it; `engine` names the engine that scanned.
   */
  summary(engine: Engine): FrameReaderSummary {
    const state = this.#state;
    return {
      engine,
      contentType: contentTypeText(state.contentType),
      contentTypeBytes: state.contentType,
      started: state.phase !== PHASE_IDLE,
      stopped: state.phase === PHASE_STOPPED,
      frames: state.frames,
      bytes: state.bytes,
      controlFrames: state.controlFrames,
      skippedFrames: state.skippedFrames,
      oversizedFrames: this.oversized,
      bytesRead: this.bytesRead,
    };
  }

  #read(into: Uint8Array): Promise<number | null> | number | null {
    return this.#sync ? this.#source.readSync!(into) : this.#source.read(into);
  }

  /**
   * Reads the whole input. `window` is the fixed window, or the size of the
   * fresh ones. Yields after each window's frames are delivered, so that a
   * consumer can take what a sink gathered while the window is intact;
   * throws after delivering every frame before a fault.
   */
  async *run(
    scanner: Scanner,
    window: Uint8Array | number,
    sinks: Sinks,
  ): AsyncGenerator<void, void, undefined> {
    const fresh = typeof window === "number";
    const size = fresh ? window : window.length;
    let buf = fresh ? new Uint8Array(size) : window;
    const out = scanner.out;
    const state = this.#state;
    const max = this.#max;
    const { onData, onRun } = sinks;
    const toFrames = sinks.frames !== undefined;
    let base = this.#offset; // stream offset of buf[0]
    let have = 0; // bytes in the window
    let pos = 0; // where the next frame starts
    let eof = false;
    let skip = 0; // bytes of an oversized frame still to discard
    let skipOffset = 0;
    let skipTotal = 0;
    const hold: Hold = { promise: undefined };
    for (;;) {
      if (!eof) {
        const into = have === 0 ? buf : buf.subarray(have);
        let n = this.#read(into);
        if (typeof n !== "number" && n !== null) n = await n;
        if (buf.byteLength !== size) {
          // A fixed window in memory that grew (WebAssembly) or was
          // transferred: its bytes are gone, and every read would give 0
          // bytes, for ever.
          throw new TypeError(
            "Cannot read frames: the read window was detached (its memory grew or was transferred)",
          );
        }
        if (n === null) eof = true;
        else {
          have += n;
          this.bytesRead += n;
        }
      }
      if (skip > 0) {
        const take = Math.min(skip, have - pos);
        skip -= take;
        pos += take;
      }
      // Scan what the window holds.
      while (skip === 0 && pos < have) {
        const n = scanner.scan(buf, pos, have, max);
        const table = scanner.table;
        if (toFrames) {
          deliverFrames(table, n, buf, base, state, sinks.frames!);
        } else {
          // A sink that returns a promise pauses the delivery until it
          // settles (the window and the table stay as they are meanwhile).
          for (let i = 0;;) {
            i = onData !== undefined
              ? deliver(table, i, n, buf, base, state, onData, hold)
              : deliverRuns(table, i, n, buf, base, state, onRun!, hold);
            const pending = hold.promise;
            if (pending === undefined) break;
            hold.promise = undefined;
            await pending;
            if (i >= n) break;
          }
        }
        const status = out[0]!;
        const stop = out[1]!;
        pos = stop;
        if (status === STATUS_TABLE_FULL) continue;
        if (status === STATUS_END || status === STATUS_NEED_MORE) break;
        // Throws, unless an oversized frame is to be skipped.
        const total = scanFault(
          status,
          buf,
          base,
          stop,
          out[2]!,
          out[3]!,
          out[4]!,
          max,
          this.#skipOversize,
        );
        this.oversized++;
        const take = Math.min(total, have - stop);
        skipOffset = base + stop;
        skipTotal = total;
        skip = total - take;
        pos = stop + take;
      }
      // This window's frames are delivered: let the consumer take them while
      // the window is intact.
      yield;
      if (pos === have) {
        // Everything in the window is consumed (or being skipped).
        if (eof) {
          if (skip > 0) {
            throw new TruncatedFrameError(
              skipOffset,
              skipTotal - skip,
              skipTotal,
            );
          }
          state.end(base + have);
          return;
        }
        if (!fresh || have === size) {
          base += have;
          have = pos = 0;
          if (fresh) buf = new Uint8Array(size);
        }
        continue;
      }
      // A frame starts at `pos` and is not complete.
      const need = frameSize(out[2]!, out[3]!);
      if (eof) {
        throw new TruncatedFrameError(
          base + pos,
          have - pos,
          out[3]! === NEED_HEADER ? null : need,
        );
      }
      if (need > size) {
        // A data frame larger than the window: read it into its own buffer.
        const frame = new Uint8Array(need);
        let got = have - pos;
        frame.set(buf.subarray(pos, have));
        while (got < need) {
          let n = this.#read(frame.subarray(got));
          if (typeof n !== "number" && n !== null) n = await n;
          if (n === null) {
            throw new TruncatedFrameError(base + pos, got, need);
          }
          got += n;
          this.bytesRead += n;
        }
        const frameOffset = base + pos;
        if (state.phase !== PHASE_DATA) state.dataOutOfPlace(frameOffset);
        state.frames++;
        state.bytes += need - 4;
        if (toFrames) {
          sinks.frames!.push({
            kind: "data",
            data: frame.subarray(4),
            offset: frameOffset,
          });
        } else {
          const returned = onData !== undefined
            ? onData(frame, 4, need - 4)
            : onRun!(frame, 0, need, 1);
          if (isThenable(returned)) await returned;
        }
        base = frameOffset + need;
        have = pos = 0;
        if (fresh) buf = new Uint8Array(size);
        yield;
      } else if (!fresh) {
        // Keep the partial frame: move it to the front and read on.
        buf.copyWithin(0, pos, have);
        base += pos;
        have -= pos;
        pos = 0;
      } else if (pos + need > size) {
        // The frame does not fit in what is left: a new window, the frame's
        // bytes first (the old window's bytes are never written again).
        const next = new Uint8Array(size);
        next.set(buf.subarray(pos, have));
        buf = next;
        base += pos;
        have -= pos;
        pos = 0;
      }
    }
  }
}

/**
 * Hands the frames `start` to `n` of a scan to `onData` (control frames are
 * applied to `state`), counting them in `state` (also when a sink or the
 * policy throws part-way). Stops after a sink that returns a promise,
 * putting it in `hold`. Returns the index of the next frame to deliver.
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
        const returned = onData(window, at + 4, length);
        if (returned !== undefined && isThenable(returned)) {
          hold.promise = returned;
          return i + 1;
        }
      } else {
        state.control(window, at, length, kind, base + at);
      }
    }
  } finally {
    state.frames += data;
    state.bytes += payload;
  }
  return n;
}

/**
 * As {@linkcode deliver}, pushing frame objects to `frames`: control frames
 * as the state machine makes them, data frames as views of `window`.
 */
function deliverFrames(
  table: Uint32Array,
  n: number,
  window: Uint8Array,
  base: number,
  state: StreamState,
  frames: Frame[],
): void {
  const buffer = window.buffer;
  const shift = window.byteOffset + 4;
  let payload = 0;
  let data = 0;
  try {
    for (let i = 0, e = 0; i < n; i++, e += 3) {
      const at = table[e]!;
      const length = table[e + 1]!;
      const kind = table[e + 2]!;
      if (kind === KIND_DATA) {
        if (state.phase !== PHASE_DATA) state.dataOutOfPlace(base + at);
        data++;
        payload += length;
        frames.push({
          kind: "data",
          data: new Uint8Array(buffer, shift + at, length),
          offset: base + at,
        });
      } else {
        const frame: ControlFrame | null = state.control(
          window,
          at,
          length,
          kind,
          base + at,
        );
        if (frame !== null) frames.push(frame);
      }
    }
  } finally {
    state.frames += data;
    state.bytes += payload;
  }
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
  onRun: RunSink,
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
    state.frames += frames;
    state.bytes += end - at - 4 * frames;
    i = j;
    const returned = onRun(window, at, end, frames);
    if (returned !== undefined && isThenable(returned)) {
      hold.promise = returned;
      return i;
    }
  }
  return n;
}
