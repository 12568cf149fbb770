// Private: one connection of a FrameReceiver, the shell around its
// ReaderSession: it reads the socket into buffers that grow with a busy
// stream, feeds the session, writes what it says to send, runs its deadline
// on a timer, and hands the data frames to the application (the receiver's
// queue, or onData / onRun, waiting for the promises they return).
import type { DataCallback, RunCallback } from "./callbacks.ts";
import type {
  ConnectionEvent,
  ConnectionInfo,
  ReadBufferPool,
} from "./_receiver_types.ts";
import type { ContentTypeInput } from "./frame.ts";
import type { ReaderSession } from "./reader_session.ts";
import type { FrameQueue, ReadBufferOwner } from "./_frame_queue.ts";
import { classify, CLEAN, type Outcome } from "./_receiver_outcome.ts";
import {
  HANDSHAKE_READ_SIZE,
  newSession,
  READ_BUFFER_SIZE,
  type ResolvedOptions,
} from "./_receiver_options.ts";
import { closeQuietly, isPeerGone, writeAll } from "./_io.ts";
import { isThenable } from "./_thenable.ts";

/** What a connection needs of its receiver. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  readonly contentTypes: readonly ContentTypeInput[];
  readonly queue: FrameQueue;
  readonly onData: DataCallback<ConnectionInfo> | null;
  readonly onRun: RunCallback<ConnectionInfo> | null;
  /** Who lends the read buffers of the data phase, or null. */
  readonly readBuffers: ReadBufferPool | null;
  /** Whether the receiver failed: callbacks are no longer called. */
  readonly status: { failed: boolean };
  /** A callback failed: the receiver closes everything. */
  fail(error: unknown): void;
  /** Tells onConnection. */
  emit(event: ConnectionEvent): void;
  /** Asks for `bytes` more of read buffer, within the shared budget. */
  grow(bytes: number): boolean;
}

/** One connection: its socket, its session, its buffers and its timer. */
export class ReceiverConnection implements ReadBufferOwner {
  readonly conn: Deno.Conn;
  info: ConnectionInfo;
  readonly session: ReaderSession;
  /**
   * What the socket is read into. Once frames have been handed out as views
   * of it, it is theirs, and the next read takes a fresh one.
   */
  buffer: Uint8Array = new Uint8Array(HANDSHAKE_READ_SIZE);
  bufferTaken = false;
  /** Whether `buffer` was lent by the host's `readBuffers`. */
  bufferLent = false;
  /** How much the next read buffer of the data phase holds. */
  readSize: number = READ_BUFFER_SIZE;
  /** Set when we close the socket ourselves: why. */
  closedBy: Outcome | null = null;
  closed = false;
  /**
   * Data frames, and their payload bytes, handed to onData or onRun (the
   * receiver adds them up: counted here, the per-frame path touches only
   * this connection).
   */
  frames = 0;
  bytes = 0;

  #host: ConnectionHost;
  // What the per-frame path reads, in fields of their own.
  #onData: DataCallback<ConnectionInfo> | null;
  #onRun: RunCallback<ConnectionInfo> | null;
  #status: { failed: boolean };
  /** With onData or onRun: the promise it returned, that the next frame waits for. */
  #waiting: PromiseLike<unknown> | null = null;
  /** Whether the lent read buffer was found detached (the receiver failed). */
  #lost = false;
  /**
   * With onData or onRun: frames (or runs) decoded while `waiting`, held (as
   * places in the read buffer, intact until the next read, or in an
   * assembled frame) until it settles.
   */
  #heldWindows: Uint8Array[] = [];
  #heldOffsets: number[] = [];
  #heldLengths: number[] = [];
  #heldFrames: number[] = [];
  /** Data frames of the data phase, as views, until the queue copies them. */
  #views: Uint8Array[] = [];
  #sink: DataCallback;
  #runSink: RunCallback | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armed: number | null = null;

  constructor(conn: Deno.Conn, id: number, host: ConnectionHost) {
    this.conn = conn;
    this.#host = host;
    this.#onData = host.onData;
    this.#onRun = host.onRun;
    this.#status = host.status;
    this.info = {
      id,
      remoteAddr: conn.remoteAddr,
      mode: null,
      contentType: null,
      contentTypeBytes: null,
    };
    this.session = newSession(
      host.options,
      host.contentTypes,
      performance.now(),
    );
    const views = this.#views;
    this.#sink = (window, offset, length) =>
      void views.push(window.subarray(offset, offset + length));
    if (host.onData !== null) {
      this.#sink = (window, offset, length) => {
        if (this.#waiting !== null) {
          this.#heldWindows.push(window);
          this.#heldOffsets.push(offset);
          this.#heldLengths.push(length);
        } else this.#callOnData(window, offset, length);
      };
    }
    if (host.onRun !== null) {
      this.#runSink = (window, start, end, frames) => {
        if (this.#waiting !== null) {
          this.#heldWindows.push(window);
          this.#heldOffsets.push(start);
          this.#heldLengths.push(end - start);
          this.#heldFrames.push(frames);
        } else this.#callOnRun(window, start, end, frames);
      };
    }
  }

  /** Control frames of unknown type its session skipped. */
  get skippedFrames(): number {
    return this.session.skippedFrames;
  }

  /** Oversized data frames its session skipped. */
  get oversizedFrames(): number {
    return this.session.oversizedFrames;
  }

  /** Closes the socket once (a pending read then fails), recording why. */
  close(outcome: Outcome | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closedBy === null) this.closedBy = outcome;
    this.#disarm();
    closeQuietly(this.conn);
    this.#host.queue.wakeProducers();
  }

  /** Reads and handles the connection until it ends; why it ended. */
  async run(): Promise<Outcome> {
    const host = this.#host;
    const maxReadSize = host.options.readSize;
    const idle = host.options.idleTimeout > 0;
    const session = this.session;
    const queue = host.queue;
    this.#syncTimer();
    try {
      for (;;) {
        // Flow control: a started stream waits while the application's
        // buffer is full. A handshake goes on (its first read may add data
        // frames: one read's worth at most).
        while (session.state === "data" && queue.full()) {
          await queue.room();
          if (this.closed) return this.closedBy ?? CLEAN;
        }
        const data = session.state === "data";
        if (data && idle) {
          // The idle clock runs while we read, not while the application
          // keeps us waiting.
          session.resume(performance.now());
          this.#syncTimer();
        }
        if (this.bufferTaken || (data && this.buffer.length < this.readSize)) {
          if (!this.#newBuffer(data)) return this.closedBy ?? CLEAN;
        }
        const buffer = this.buffer;
        let n: number | null;
        try {
          n = await this.conn.read(buffer);
        } catch (error) {
          if (this.closedBy !== null) return this.closedBy;
          return classify(error);
        } finally {
          if (data) this.#disarm();
        }
        if (this.closed) return this.closedBy ?? CLEAN;
        if (this.#detached("while the connection read into it")) {
          return this.closedBy ?? CLEAN;
        }
        if (n === null) {
          session.end(performance.now());
        } else {
          session.receive(buffer.subarray(0, n), performance.now());
          // A busy stream: read more at a time.
          if (
            n === buffer.length && buffer.length >= READ_BUFFER_SIZE &&
            this.readSize < maxReadSize
          ) {
            const next = Math.min(2 * this.readSize, maxReadSize);
            if (host.grow(next - this.readSize)) this.readSize = next;
          }
        }
        const result = await this.#drain();
        if (result !== null) return result;
        // The session closes at the end of input; never read past it.
        if (n === null) return CLEAN;
        // The handshake's deadline runs across reads; the idle one only
        // during them.
        if (session.state === "data") this.#disarm();
        else this.#syncTimer();
      }
    } finally {
      this.#disarm();
    }
  }

  /**
   * Gives back the lent read buffer, if any (after the last callback on its
   * bytes); false if the pool failed (the receiver fails).
   */
  releaseBuffer(): boolean {
    if (!this.bufferLent) return true;
    this.bufferLent = false;
    const old = this.buffer;
    this.buffer = EMPTY;
    try {
      this.#host.readBuffers!.release(old, this.info);
    } catch (error) {
      this.#host.fail(error);
      return false;
    }
    return true;
  }

  /**
   * The next read buffer, `readSize` bytes: lent by the host's pool in the
   * data phase when it lends one, else new. False if the pool failed (the
   * receiver fails).
   */
  #newBuffer(data: boolean): boolean {
    this.bufferTaken = false;
    if (!this.releaseBuffer()) return false;
    const pool = this.#host.readBuffers;
    const size = this.readSize;
    if (data && pool !== null) {
      let lent: Uint8Array | null;
      try {
        lent = pool.acquire(size, this.info);
        if (
          lent !== null && !(lent instanceof Uint8Array && lent.length === size)
        ) {
          throw new TypeError(
            `Cannot read: readBuffers.acquire must return null or a Uint8Array of ${size} bytes, got ${
              lent instanceof Uint8Array
                ? `one of ${lent.length} bytes`
                : typeof lent
            }`,
          );
        }
      } catch (error) {
        this.#host.fail(error);
        return false;
      }
      if (lent !== null) {
        this.buffer = lent;
        this.bufferLent = true;
        return true;
      }
    }
    this.buffer = new Uint8Array(size);
    return true;
  }

  /**
   * Handles every event the session has: null to go on reading, or the
   * outcome that ends the connection.
   */
  async #drain(): Promise<Outcome | null> {
    const session = this.session;
    const queue = this.#host.queue;
    const views = this.#views;
    const sink = this.#sink;
    const runSink = this.#runSink;
    for (;;) {
      // The data phase's frames go straight to the sink.
      const event = runSink !== null
        ? session.nextRun(runSink)
        : session.next(sink);
      // A callback detached the lent buffer: the session decoded nothing
      // (or zeros) after it; the receiver fails, the peer is not blamed.
      if (this.#lost) return this.closedBy ?? CLEAN;
      if (this.#waiting !== null) {
        await this.#settle();
        if (this.closed || this.#lost) return this.closedBy ?? CLEAN;
      }
      // Copied out before anything else happens, and before the read
      // buffer is read into again.
      queue.putViews(views, this);
      if (event === null) return null;
      switch (event.type) {
        case "send":
          try {
            await writeAll(this.conn, event.bytes);
          } catch (error) {
            // FINISH to a peer already gone (unbound) is normal.
            if (session.stopped && isPeerGone(error)) break;
            if (this.closedBy !== null) return this.closedBy;
            return classify(error);
          }
          if (this.closed) return this.closedBy ?? CLEAN;
          break;
        case "started":
          this.info = {
            ...this.info,
            mode: event.mode,
            contentType: event.contentType,
            contentTypeBytes: event.contentTypeBytes,
          };
          this.#host.emit({ type: "started", connection: this.info });
          break;
        case "closed":
          return event.error === null ? CLEAN : classify(event.error);
        default:
          // "stopped": "closed" follows. "data": never, with a sink.
          break;
      }
    }
  }

  /** Hands a frame to onData; a promise it returns becomes `waiting`. */
  #callOnData(window: Uint8Array, offset: number, length: number): void {
    if (this.#status.failed) return;
    this.frames++;
    this.bytes += length;
    let returned;
    try {
      returned = this.#onData!(window, offset, length, this.info);
    } catch (error) {
      this.#host.fail(error);
      return;
    }
    if (this.#detached("by onData")) return;
    if (returned !== undefined && isThenable(returned)) {
      this.#waiting = returned;
    }
  }

  /** Hands a run to onRun; a promise it returns becomes `waiting`. */
  #callOnRun(
    window: Uint8Array,
    start: number,
    end: number,
    frames: number,
  ): void {
    if (this.#status.failed) return;
    this.frames += frames;
    this.bytes += end - start - 4 * frames;
    let returned;
    try {
      returned = this.#onRun!(window, start, end, frames, this.info);
    } catch (error) {
      this.#host.fail(error);
      return;
    }
    if (this.#detached("by onRun")) return;
    if (returned !== undefined && isThenable(returned)) {
      this.#waiting = returned;
    }
  }

  /**
   * Waits for the callback's promise, then hands it the frames held
   * meanwhile, one at a time, waiting again for each promise it returns.
   */
  async #settle(): Promise<void> {
    let i = 0;
    while (this.#waiting !== null) {
      const waiting = this.#waiting;
      this.#waiting = null;
      try {
        await waiting;
      } catch (error) {
        this.#host.fail(error);
      }
      // The held frames are views of the lent buffer.
      if (this.#detached("while a callback's promise was pending")) break;
      while (this.#waiting === null && i < this.#heldWindows.length) {
        if (this.#runSink !== null) {
          this.#callOnRun(
            this.#heldWindows[i]!,
            this.#heldOffsets[i]!,
            this.#heldOffsets[i]! + this.#heldLengths[i]!,
            this.#heldFrames[i]!,
          );
        } else {
          this.#callOnData(
            this.#heldWindows[i]!,
            this.#heldOffsets[i]!,
            this.#heldLengths[i]!,
          );
        }
        i++;
      }
    }
    this.#heldWindows.length =
      this.#heldOffsets.length =
      this.#heldLengths.length =
      this.#heldFrames.length =
        0;
  }

  /**
   * Whether the lent read buffer was detached (its memory grew: a
   * WebAssembly memory grown by a callback, say) `when`; the first time,
   * fails the receiver with a TypeError, as its views hold no bytes.
   */
  #detached(when: string): boolean {
    if (this.#lost) return true;
    if (!this.bufferLent || this.buffer.length !== 0) return false;
    this.#lost = true;
    this.#host.fail(
      new TypeError(
        `Cannot read: the read buffer lent by readBuffers was detached (its memory grew) ${when}`,
      ),
    );
    return true;
  }

  /** Runs a timer for the session's deadline, if it changed. */
  #syncTimer(): void {
    const deadline = this.session.deadline;
    if (deadline === this.#armed) return;
    this.#disarm();
    if (deadline === null) return;
    this.#armed = deadline;
    this.#timer = setTimeout(
      this.#expire,
      Math.max(0, deadline - performance.now()),
    );
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armed = null;
  }

  /** The timer fired: the session decides whether its time is up. */
  #expire = (): void => {
    this.#timer = undefined;
    this.#armed = null;
    if (this.closed) return;
    const session = this.session;
    session.expire(performance.now());
    if (session.state === "closed") this.close(classify(session.error));
    else this.#syncTimer(); // early: wait on
  };
}

const EMPTY = new Uint8Array(0);
