// Private: the background side of a FrameWriter: the first connection (with
// retries within connectTimeout), the loop that writes sealed batches on
// the current connection, reconnection with backoff after any failure, the
// final STOP, and aborts. Protocol decisions are the WriterSession's (in
// each WriterConnection); the batches are the BatchQueue's.
import type { BatchQueue } from "./_batch_queue.ts";
import { type ConnectTarget, dial } from "./_connect_target.ts";
import type { WriterSettings } from "./_writer_options.ts";
import { WriterConnection } from "./_writer_connection.ts";
import { asError } from "./_io.ts";

/** A one-shot wake-up, renewed after each notification. */
export class Wakeup {
  #p = Promise.withResolvers<void>();
  wait(): Promise<void> {
    return this.#p.promise;
  }
  notify(): void {
    this.#p.resolve();
    this.#p = Promise.withResolvers<void>();
  }
}

/** Connections and the write loop of one FrameWriter. */
export class WriterLoop {
  /** Notified whenever frames were written, or the writer stopped. */
  readonly progress: Wakeup = new Wakeup();
  #target: ConnectTarget;
  #settings: WriterSettings;
  #queue: BatchQueue;
  #session: WriterConnection | null = null;
  #pending: WriterConnection | null = null;
  #readers = new Set<Promise<void>>();
  #contentType: Uint8Array | null = null;
  #wake = new Wakeup();
  #interrupt = new Wakeup();
  #running: Promise<void> = Promise.resolve();
  #closing = false;
  #aborted = false;
  #failure: Error | null = null;
  #reconnects = 0;
  #dial: (target: ConnectTarget) => Promise<Deno.Conn>;

  /**
   * @param dialer How to connect: `dial`, or a test's own connections.
   */
  constructor(
    target: ConnectTarget,
    settings: WriterSettings,
    queue: BatchQueue,
    dialer: (target: ConnectTarget) => Promise<Deno.Conn> = dial,
  ) {
    this.#target = target;
    this.#settings = settings;
    this.#queue = queue;
    this.#dial = dialer;
  }

  /** The content type of the last START, or null. */
  get contentType(): Uint8Array | null {
    return this.#contentType;
  }

  /** Whether a connection is in its data phase now. */
  get connected(): boolean {
    return this.#session !== null;
  }

  /** Successful connections after the first one. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Why frames cannot be written now, or null. */
  refusal(): Error | null {
    // One test on the hot path: closing is set whenever the others are.
    if (!this.#closing) return null;
    if (this.#aborted) return asError(this.#settings.signal?.reason);
    if (this.#failure !== null) return this.#failure;
    if (this.#closing) {
      return new TypeError("Cannot write frame: the writer is closed");
    }
    return null;
  }

  /** Why the writer stopped for good (aborted, or failed), or null. */
  stopped(): { error: unknown } | null {
    if (this.#aborted) return { error: this.#settings.signal?.reason };
    if (this.#failure !== null) return { error: this.#failure };
    return null;
  }

  /** A batch was sealed: the loop may write it. */
  wake(): void {
    this.#wake.notify();
  }

  /** The first connection and handshake; then the loop runs. */
  async open(): Promise<void> {
    const signal = this.#settings.signal;
    signal?.throwIfAborted();
    signal?.addEventListener("abort", this.#onAbort);
    try {
      await this.#connectFirst();
    } catch (error) {
      this.#closing = true;
      signal?.removeEventListener("abort", this.#onAbort);
      await this.#settleReaders();
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    this.#running = this.#run();
  }

  /** Ends the loop after the queue is written (see FrameWriter.close). */
  async close(): Promise<void> {
    this.#closing = true;
    this.#queue.setClosing();
    this.#interrupt.notify();
    this.#wake.notify();
    await this.#running;
    await this.#settleReaders();
    this.#queue.clearTimer();
    this.#settings.signal?.removeEventListener("abort", this.#onAbort);
  }

  #onAbort = (): void => {
    this.#aborted = true;
    this.#closing = true;
    this.#queue.discardAll(this.#settings.signal?.reason);
    this.#session?.close(null);
    this.#pending?.close(null);
    this.#interrupt.notify();
    this.#wake.notify();
    this.progress.notify();
  };

  #report(error: Error): void {
    try {
      this.#settings.onError?.(error);
    } catch {
      // A logging callback must not break the writer.
    }
  }

  /**
   * The first connection: failures to connect are retried, with the
   * reconnect backoff, until connectTimeout has passed; but not a refusal
   * by Deno's permissions (NotCapable), which no retry can change.
   */
  async #connectFirst(): Promise<void> {
    const { reconnect, connectTimeout } = this.#settings;
    const until = performance.now() + (reconnect === null ? 0 : connectTimeout);
    let delay = reconnect?.initialDelay ?? 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#dial(this.#target);
      } catch (error) {
        const left = until - performance.now();
        if (
          this.#aborted || left <= 0 || error instanceof Deno.errors.NotCapable
        ) throw error;
        this.#report(asError(error));
        await this.#sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, reconnect!.maxDelay);
        if (this.#aborted) throw this.#settings.signal?.reason;
        continue;
      }
      return await this.#handshake(conn);
    }
  }

  /** Dials and runs one handshake; on success, the connection is current. */
  async #connectOnce(): Promise<void> {
    await this.#handshake(await this.#dial(this.#target));
  }

  async #handshake(conn: Deno.Conn): Promise<void> {
    if (this.#aborted) {
      conn.close();
      throw this.#settings.signal?.reason;
    }
    const s = this.#settings;
    const connection = new WriterConnection(conn, {
      contentTypes: s.contentTypes,
      bidirectional: s.bidirectional,
      handshakeTimeout: s.handshakeTimeout,
      finishTimeout: s.finishTimeout,
    }, this.#onClosed);
    this.#pending = connection;
    const reading = connection.reading;
    this.#readers.add(reading);
    reading.finally(() => this.#readers.delete(reading));
    try {
      await connection.start();
    } catch (error) {
      connection.close(null);
      throw error;
    } finally {
      this.#pending = null;
    }
    this.#contentType = connection.session.contentTypeBytes;
    if (connection.alive) {
      this.#session = connection;
    } else {
      // START went out, and the peer broke the protocol in the same read
      // (ACCEPT and a forbidden frame together): connected, then lost at
      // once, as if in two reads; the loop reconnects.
      const error = connection.session.error;
      if (error !== null) this.#report(error);
    }
    this.progress.notify();
  }

  #onClosed = (connection: WriterConnection, error: Error | null): void => {
    if (this.#session !== connection) return;
    this.#session = null;
    if (error !== null) this.#report(error);
    this.#wake.notify();
  };

  async #settleReaders(): Promise<void> {
    while (this.#readers.size > 0) await Promise.all(this.#readers);
  }

  /** Waits `ms`, or less if close() or an abort interrupts. */
  async #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
      this.#interrupt.wait(),
    ]);
    clearTimeout(timer);
  }

  /** The background loop: writes batches, reconnects, stops at the end. */
  async #run(): Promise<void> {
    const queue = this.#queue;
    const reconnect = this.#settings.reconnect;
    let delay = reconnect?.initialDelay ?? 0;
    try {
      for (;;) {
        if (this.#aborted || this.#failure !== null) return;
        let session = this.#session;
        if (session !== null && !session.alive) {
          // Closed without telling us (cannot happen; never spin on it).
          session = this.#session = null;
        }
        if (session === null) {
          // What may not have reached the collector goes first again.
          queue.requeueSent();
          if (this.#closing && queue.empty) return;
          if (reconnect === null) {
            this.#failure = new Deno.errors.NotConnected(
              "Cannot write frame: the connection was lost and reconnect is false",
            );
            this.#closing = true;
            queue.discardAll(this.#failure);
            return;
          }
          // Back off before every attempt; only a connection that carried
          // a batch resets the delay, so a collector that accepts and then
          // drops us at once is not hammered.
          await this.#sleep(delay);
          delay = Math.min(delay * 2, reconnect.maxDelay);
          if (this.#aborted) return;
          try {
            await this.#connectOnce();
          } catch (error) {
            if (!this.#aborted) this.#report(asError(error));
            continue;
          }
          this.#reconnects++;
          continue;
        }
        const batch = queue.head;
        if (batch === undefined) {
          if (this.#closing && queue.empty) {
            await session.stop();
            return;
          }
          await this.#wake.wait();
          continue;
        }
        // The session's rule: data only in its data phase.
        if (!session.session.canSendData) {
          session.close(session.session.error);
          continue;
        }
        const { written, error } = await session.write(
          batch.bytes.subarray(0, batch.length),
        );
        if (error !== null) {
          // Cut by the failure: its whole frames written so far count;
          // the batch is written again, whole, on the next connection.
          queue.cut(batch, written);
          if (!this.#aborted) session.close(asError(error));
          continue;
        }
        if (this.#aborted) return;
        queue.written(batch);
        delay = reconnect?.initialDelay ?? 0;
        this.progress.notify();
      }
    } catch (error) {
      // A bug: fail loudly to callers rather than hang them.
      this.#failure = asError(error);
      this.#closing = true;
      queue.discardAll(this.#failure);
    } finally {
      this.#session?.close(null);
      // Done: the growth goes back to the shared budget.
      queue.shrink();
      this.progress.notify();
    }
  }
}
