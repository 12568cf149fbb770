// Private: FrameWriter's queue of data frames, encoded straight into batch
// buffers that are each written in one socket write. It owns the batches
// (sealed when full, when flushInterval passed, or on demand), their growth
// within a budget shared by every writer of the process, the spare buffers
// reused, admission (room, waiting writes in block mode, drops in drop
// mode), the resend window, and the counters of what was written.
import { MAX_FRAME_LENGTH } from "./constants.ts";

/** Encoded data frames, written to a socket in one write. */
export interface Batch {
  bytes: Uint8Array;
  view: DataView;
  length: number;
  frames: number;
  sealed: boolean;
  /** When its first frame came (performance.now()). */
  openedAt: number;
  /** The bytes at which it is full, and written. */
  target: number;
}

/** A write waiting for room in block mode. */
interface Waiter {
  payload: Uint8Array;
  /** 0 for one payload; else the frames in `payload`, already encoded. */
  frames: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/** What the queue needs to know of the writer's settings. */
export interface BatchQueueOptions {
  bufferSize: number;
  flushInterval: number;
  queueSize: number;
  drop: boolean;
  resendWindow: number;
}

/** Batches kept for reuse. */
const SPARE_BATCHES = 4;
/** Batch buffers up to this size are kept for reuse (see SPARE_BATCHES). */
const SPARE_LIMIT = 1 << 20;
/** The first batch's size (at most bufferSize); it doubles while batches fill. */
const FIRST_BATCH = 262_144;
/**
 * How far all the writers of this process together may grow their batches
 * past FIRST_BATCH: a few busy writers get large batches, a thousand share
 * the budget (most keep FIRST_BATCH) rather than take a MiB each.
 */
const BATCH_GROWTH_BUDGET = 16 << 20;
/** Bytes of BATCH_GROWTH_BUDGET in use. */
let batchGrowth = 0;

const encoder = new TextEncoder();

/** Settled, shared: what `write()` returns for a frame queued at once. */
const RESOLVED: Promise<void> = Promise.resolve();

/** Why `payload` cannot be a data frame, or `null` if it can. */
export function checkPayload(payload: unknown): Error | null {
  if (typeof payload === "string") {
    return payload.length === 0 ? emptyPayload() : null;
  }
  if (!(payload instanceof Uint8Array)) {
    return new TypeError(
      `Cannot write frame: expected a string or a Uint8Array, got ${typeof payload}`,
    );
  }
  if (payload.length === 0) return emptyPayload();
  if (payload.length > MAX_FRAME_LENGTH) {
    return new RangeError(
      `Cannot write frame: the payload is ${payload.length} bytes, limit ${MAX_FRAME_LENGTH}`,
    );
  }
  return null;
}

function emptyPayload(): RangeError {
  return new RangeError(
    "Cannot write frame: the payload is empty, and a zero length is the control frame escape",
  );
}

/** The queue of a FrameWriter: see the module comment. */
export class BatchQueue {
  #options: BatchQueueOptions;
  /** options.queueSize, at hand for the hot path. */
  #queueSize: number;
  /** Called when a batch is sealed: it may be written now. */
  #onSeal: () => void;
  /** The next batch's size: grows to bufferSize while batches fill. */
  #batchSize: number;
  #batches: Batch[] = [];
  #spare: Uint8Array[] = [];
  #waiters: Waiter[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Batches written on this connection, kept for resendWindow. */
  #sent: Batch[] = [];
  #sentBytes = 0;
  #closing = false;

  /** Frames queued, not yet written. */
  queued = 0;
  /** Frames ever queued. */
  admitted = 0;
  dropped = 0;
  discarded = 0;
  resent = 0;
  /** Data frames written. */
  frames = 0;
  /** Their payload bytes (length words not included). */
  bytes = 0;
  /** Socket writes of data frames. */
  batches = 0;

  constructor(options: BatchQueueOptions, onSeal: () => void) {
    this.#options = options;
    this.#queueSize = options.queueSize;
    this.#onSeal = onSeal;
    this.#batchSize = Math.min(FIRST_BATCH, options.bufferSize);
  }

  /** Whether nothing is queued and no write waits for room. */
  get empty(): boolean {
    return this.queued === 0 && this.#waiters.length === 0;
  }

  /** The batch to write next, if sealed. */
  get head(): Batch | undefined {
    const batch = this.#batches[0];
    return batch !== undefined && batch.sealed ? batch : undefined;
  }

  /** From now on, frames of writes that waited go out at once. */
  setClosing(): void {
    this.#closing = true;
    this.sealTail();
  }

  /** Queues one checked payload, waits for room, or drops it. */
  write(payload: Uint8Array | string): Promise<void> {
    const bytes = typeof payload === "string" ? null : payload;
    if (this.queued < this.#queueSize && this.#waiters.length === 0) {
      if (bytes === null) this.#admitString(payload as string);
      else this.#admit(bytes);
      return RESOLVED;
    }
    // No room: what is queued goes now, not after flushInterval.
    this.sealTail();
    if (this.#options.drop) {
      this.dropped++;
      return RESOLVED;
    }
    return this.#wait(bytes ?? encoder.encode(payload as string), 0);
  }

  /** Queues one checked payload if there is room now. */
  tryWrite(payload: Uint8Array | string): boolean {
    if (this.queued >= this.#queueSize || this.#waiters.length > 0) {
      this.sealTail();
      return false;
    }
    if (typeof payload === "string") this.#admitString(payload);
    else this.#admit(payload);
    return true;
  }

  /** Queues `count` checked encoded frames, waits for room, or drops them. */
  writeRun(frames: Uint8Array, count: number): Promise<void> {
    if (this.#waiters.length === 0 && this.#roomFor(count)) {
      this.#admitRun(frames, count);
      return RESOLVED;
    }
    this.sealTail();
    if (this.#options.drop) {
      this.dropped += count;
      return RESOLVED;
    }
    return this.#wait(frames, count);
  }

  /** Queues `count` checked encoded frames if there is room now. */
  tryWriteRun(frames: Uint8Array, count: number): boolean {
    if (this.#waiters.length > 0 || !this.#roomFor(count)) {
      this.sealTail();
      return false;
    }
    this.#admitRun(frames, count);
    return true;
  }

  #wait(payload: Uint8Array, frames: number): Promise<void> {
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push({
      payload,
      frames,
      resolve: waiter.resolve,
      reject: waiter.reject,
    });
    return waiter.promise;
  }

  /** The open batch, with room for `need` more bytes. */
  #tailFor(need: number): Batch {
    const last = this.#batches[this.#batches.length - 1];
    if (last !== undefined && !last.sealed) {
      if (last.length + need <= last.bytes.length) return last;
      this.#sealFull(last);
    }
    const size = Math.max(this.#batchSize, need);
    const spare = this.#spare;
    let bytes: Uint8Array | undefined;
    for (let i = spare.length - 1; i >= 0; i--) {
      if (spare[i]!.length >= size) {
        bytes = spare[i]!;
        spare.splice(i, 1);
        break;
      }
    }
    bytes ??= new Uint8Array(size);
    const batch: Batch = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      length: 0,
      frames: 0,
      sealed: false,
      openedAt: 0,
      target: this.#batchSize,
    };
    this.#batches.push(batch);
    return batch;
  }

  #admit(payload: Uint8Array): void {
    const need = 4 + payload.length;
    const batch = this.#tailFor(need);
    batch.view.setUint32(batch.length, payload.length);
    batch.bytes.set(payload, batch.length + 4);
    this.#added(batch, need);
  }

  #admitString(payload: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encode in place when that
    // fits in the open batch, else encode first.
    const most = 4 + 3 * payload.length;
    const last = this.#batches[this.#batches.length - 1];
    if (
      last !== undefined && !last.sealed &&
      last.length + most <= last.bytes.length
    ) {
      const { written } = encoder.encodeInto(
        payload,
        last.bytes.subarray(last.length + 4),
      );
      last.view.setUint32(last.length, written);
      this.#added(last, 4 + written);
    } else {
      this.#admit(encoder.encode(payload));
    }
  }

  /** Whether `frames` more frames may be queued: all fit, or none wait. */
  #roomFor(frames: number): boolean {
    return this.queued === 0 ||
      this.queued + frames <= this.#queueSize;
  }

  /**
   * Queues `frames` encoded data frames (checked by countDataFrames), copied
   * in one piece: into the open batch if they fit in it, else into a batch
   * of their own (a run larger than bufferSize is written in one go, as a
   * frame larger than it is).
   */
  #admitRun(bytes: Uint8Array, frames: number): void {
    const batch = this.#tailFor(bytes.length);
    batch.bytes.set(bytes, batch.length);
    this.#added(batch, bytes.length, frames);
  }

  #added(batch: Batch, bytes: number, frames = 1): void {
    const opened = batch.frames === 0;
    batch.length += bytes;
    batch.frames += frames;
    this.queued += frames;
    this.admitted += frames;
    // A full queue takes no more frames until a batch is written: the open
    // batch goes now, not after flushInterval.
    if (batch.length >= batch.target) {
      this.#sealFull(batch);
    } else if (this.queued >= this.#queueSize) {
      this.#seal(batch);
    } else if (opened) {
      batch.openedAt = performance.now();
      if (this.#flushTimer === undefined) {
        this.#armFlush(this.#options.flushInterval);
      }
    }
  }

  /**
   * One timer for the open batch's flushInterval, not one per batch: when it
   * fires, it seals the open batch if that is old enough, else waits for the
   * rest of its time (batches filled up meanwhile were written without it).
   */
  #armFlush(ms: number): void {
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      const last = this.#batches[this.#batches.length - 1];
      if (last === undefined || last.sealed || last.frames === 0) return;
      const left = last.openedAt + this.#options.flushInterval -
        performance.now();
      if (left > 1) this.#armFlush(left);
      else {
        // Not full in flushInterval: the writer is not busy (now).
        this.shrink();
        this.#seal(last);
      }
    }, ms);
  }

  #seal(batch: Batch): void {
    if (batch.sealed) return;
    batch.sealed = true;
    this.#onSeal();
  }

  /** Seals a batch that is full: the next one may be larger. */
  #sealFull(batch: Batch): void {
    this.#resizeBatches(Math.min(2 * batch.target, this.#options.bufferSize));
    this.#seal(batch);
  }

  /** Sets the next batches' size, growing only within the shared budget. */
  #resizeBatches(size: number): void {
    const more = size - this.#batchSize;
    if (more > 0 && batchGrowth + more > BATCH_GROWTH_BUDGET) return;
    batchGrowth += more;
    this.#batchSize = size;
  }

  /** Back to the first batch size; the growth goes back to the budget. */
  shrink(): void {
    this.#resizeBatches(Math.min(FIRST_BATCH, this.#options.bufferSize));
  }

  /** Seals the open batch, if it holds a frame: written without waiting. */
  sealTail(): void {
    const last = this.#batches[this.#batches.length - 1];
    if (last !== undefined && last.frames > 0) this.#seal(last);
  }

  /** Stops the flush timer. */
  clearTimer(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
  }

  /** The head batch was written: counts it, keeps or recycles it, admits waiters. */
  written(batch: Batch): void {
    this.#batches.shift();
    this.queued -= batch.frames;
    this.frames += batch.frames;
    this.bytes += batch.length - 4 * batch.frames;
    this.batches++;
    if (this.#options.resendWindow > 0) this.#keepSent(batch);
    else this.#recycle(batch);
    this.#admitWaiters();
  }

  /**
   * The head batch's write failed after `written` of its bytes reached the
   * socket: its whole frames among them are counted as written (`frames`,
   * `bytes`), and, as the batch stays at the head to be written again whole
   * on the next connection, as put back (`resent`).
   */
  cut(batch: Batch, written: number): void {
    const view = batch.view;
    let frames = 0;
    let payload = 0;
    for (let at = 0; at + 4 <= written;) {
      const length = view.getUint32(at);
      if (at + 4 + length > written) break;
      frames++;
      payload += length;
      at += 4 + length;
    }
    this.frames += frames;
    this.bytes += payload;
    this.resent += frames;
  }

  /** Moves waiting writes into the queue while there is room. */
  #admitWaiters(): void {
    const waiters = this.#waiters;
    let i = 0;
    while (i < waiters.length) {
      const w = waiters[i]!;
      if (w.frames === 0) {
        if (this.queued >= this.#queueSize) break;
        this.#admit(w.payload);
      } else {
        if (!this.#roomFor(w.frames)) break;
        this.#admitRun(w.payload, w.frames);
      }
      i++;
      w.resolve();
    }
    if (i > 0) waiters.splice(0, i);
    // Frames of writes that waited until close() go out now.
    if (this.#closing) this.sealTail();
  }

  /** Keeps a written batch's buffer for the next batches, if worth it. */
  #recycle(batch: Batch): void {
    // Batches up to bufferSize, and those of runs up to a FrameReader's
    // window: kept for the next batches, a few at most, the largest (as
    // batches grow, the small ones would never serve again).
    const bytes = batch.bytes;
    if (bytes.length > Math.max(this.#options.bufferSize, SPARE_LIMIT)) return;
    const spare = this.#spare;
    if (spare.length < SPARE_BATCHES) {
      spare.push(bytes);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < spare.length; i++) {
      if (spare[i]!.length < spare[smallest]!.length) smallest = i;
    }
    if (spare[smallest]!.length < bytes.length) spare[smallest] = bytes;
  }

  /** Keeps a written batch for the resend window, dropping the oldest. */
  #keepSent(batch: Batch): void {
    const sent = this.#sent;
    sent.push(batch);
    this.#sentBytes += batch.length;
    while (
      sent.length > 1 &&
      this.#sentBytes - sent[0]!.length >= this.#options.resendWindow
    ) {
      const old = sent.shift()!;
      this.#sentBytes -= old.length;
      this.#recycle(old);
    }
  }

  /** Puts the kept batches back at the head of the queue, in order. */
  requeueSent(): void {
    const sent = this.#sent;
    if (sent.length === 0) return;
    let frames = 0;
    for (const b of sent) frames += b.frames;
    this.#batches.unshift(...sent);
    this.queued += frames;
    this.resent += frames;
    this.#sent = [];
    this.#sentBytes = 0;
  }

  /** Throws the queue away, counting it; rejects waiting writes. */
  discardAll(reason: unknown): void {
    this.discarded += this.queued;
    for (const w of this.#waiters) this.discarded += Math.max(w.frames, 1);
    this.queued = 0;
    this.#batches = [];
    this.#sent = [];
    this.#sentBytes = 0;
    this.clearTimer();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      w.reject(
        reason ?? new TypeError("Cannot write frame: the writer was closed"),
      );
    }
  }
}
