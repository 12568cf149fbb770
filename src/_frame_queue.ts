// Private: the frames a FrameReceiver holds for its application (async
// iteration and onFrame), with flow control: producers (connections) wait
// for room once `highWaterMark` frames are buffered.
import type { ConnectionInfo, ReceivedFrame } from "./_receiver_types.ts";
import type { ReceiverCounters } from "./_receiver_outcome.ts";

/** A connection, as far as the queue copies its frames out of its reads. */
export interface ReadBufferOwner {
  /** The connection's frames' `connection`. */
  readonly info: ConnectionInfo;
  /** What the connection reads into. */
  readonly buffer: Uint8Array;
  /** Set when the queue has taken `buffer` (the next read needs a new one). */
  bufferTaken: boolean;
}

/** The buffer between connections and the application. */
export class FrameQueue {
  #queue: ReceivedFrame[] = [];
  #head = 0;
  #reader: ((result: IteratorResult<ReceivedFrame>) => void) | null = null;
  #roomWaiters: (() => void)[] = [];
  #highWaterMark: number;
  #counters: ReceiverCounters;
  /** Frames are counted, not kept (nobody will read them). */
  discard = false;
  /** No more frames will come. */
  done = false;

  constructor(highWaterMark: number, counters: ReceiverCounters) {
    this.#highWaterMark = highWaterMark;
    this.#counters = counters;
  }

  /** Frames buffered. */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** The next frame, as an async iterator's `next()` gives it. */
  next(): Promise<IteratorResult<ReceivedFrame>> {
    if (this.#head < this.#queue.length) {
      return Promise.resolve({ done: false, value: this.take() });
    }
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    if (this.#reader !== null) {
      return Promise.reject(
        new TypeError("Cannot read a FrameReceiver: a read is pending"),
      );
    }
    return new Promise((resolve) => this.#reader = resolve);
  }

  /** Takes the first buffered frame (there must be one). */
  take(): ReceivedFrame {
    const frame = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as ReceivedFrame;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 4096 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (
      this.#roomWaiters.length > 0 &&
      this.#queue.length - this.#head < this.#highWaterMark
    ) {
      this.wakeProducers();
    }
    return frame;
  }

  /** Counts a frame and hands it to a waiting reader, or buffers it. */
  put(frame: ReceivedFrame): void {
    this.#counters.frames++;
    this.#counters.bytes += frame.data.length;
    if (this.discard) return;
    const reader = this.#reader;
    if (reader !== null) {
      this.#reader = null;
      reader({ done: false, value: frame });
      return;
    }
    this.#queue.push(frame);
  }

  /**
   * Queues data frames given as views of a connection's input (its read
   * buffer, or a frame the decoder assembled across reads), so that each
   * payload is memory no one else writes: one fresh buffer for each run of
   * views lying in order in one buffer, which is what a read holds.
   * Allocating a buffer per frame costs several times more than copying
   * the bytes. When the frames fill at least half of the read buffer, the
   * read buffer itself is handed over, without a copy, and the connection
   * reads into a fresh one next. Either way each frame is a view of its
   * own bytes, safe to keep and to modify; its `buffer` also holds its
   * neighbours' bytes. Empties `views`.
   */
  putViews(views: Uint8Array[], c: ReadBufferOwner): void {
    const n = views.length;
    if (n === 0) return;
    const connection = c.info;
    if (this.discard) {
      // Nobody will see them: count them, copy nothing.
      for (const v of views) this.put({ data: v, connection });
      views.length = 0;
      return;
    }
    const readBuffer = c.buffer.buffer;
    let i = 0;
    while (i < n) {
      const first = views[i]!;
      const buffer = first.buffer;
      const low = first.byteOffset;
      let high = low + first.length;
      let j = i + 1;
      for (; j < n; j++) {
        const v = views[j]!;
        if (v.buffer !== buffer || v.byteOffset < high) break;
        high = v.byteOffset + v.length;
      }
      if (buffer === readBuffer && 2 * (high - low) >= readBuffer.byteLength) {
        c.bufferTaken = true;
        for (; i < j; i++) this.put({ data: views[i]!, connection });
        continue;
      }
      const copy = new Uint8Array(buffer, low, high - low).slice();
      for (; i < j; i++) {
        const v = views[i]!;
        const at = v.byteOffset - low;
        this.put({ data: copy.subarray(at, at + v.length), connection });
      }
    }
    views.length = 0;
  }

  /** Drops every buffered frame (and wakes the producers). */
  clear(): void {
    this.#queue = [];
    this.#head = 0;
    this.wakeProducers();
  }

  /** Whether producers must wait before reading more. */
  full(): boolean {
    return !this.discard && !this.done &&
      this.#queue.length - this.#head >= this.#highWaterMark;
  }

  /** Resolves when there may be room again. */
  room(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Wakes every producer waiting for room. */
  wakeProducers(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** No more frames will come: end the iteration once the buffer drains. */
  finish(): void {
    this.done = true;
    this.wakeProducers();
    const reader = this.#reader;
    if (reader !== null && this.#head === this.#queue.length) {
      this.#reader = null;
      reader({ done: true, value: undefined });
    }
  }
}
