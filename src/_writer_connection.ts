// Private: one connection of a FrameWriter: a socket and the WriterSession
// that decides everything on it. This shell reads what the collector sends
// into the session, writes what the session says to send, runs the timer of
// the session's deadline, and closes the socket when the session is closed
// (or when the writer says so).
import { WriterSession, type WriterSessionOptions } from "./writer_session.ts";
import { asError, closeQuietly, writeAll } from "./_io.ts";

/** The read buffer for what a collector sends us (ACCEPT, FINISH). */
const READ_SIZE = 4096;

/** Called once when a connection ends: `error` is null for a clean end. */
export type ConnectionClosed = (
  connection: WriterConnection,
  error: Error | null,
) => void;

/** A socket driven by a WriterSession. */
export class WriterConnection {
  readonly session: WriterSession;
  /** The read loop; it settles once the connection is over. */
  readonly reading: Promise<void>;
  #conn: Deno.Conn;
  #onClosed: ConnectionClosed;
  #alive = true;
  #started = Promise.withResolvers<void>();
  #ended = Promise.withResolvers<void>();
  /** Event handling, one drain after the other: sends keep their order. */
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armed: number | null = null;

  constructor(
    conn: Deno.Conn,
    options: WriterSessionOptions,
    onClosed: ConnectionClosed,
  ) {
    this.#conn = conn;
    this.session = new WriterSession(options);
    this.#onClosed = onClosed;
    this.#started.promise.catch(() => {});
    this.reading = this.#read();
  }

  /** Whether the socket is open. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Runs the opening handshake; resolves once data may be written. */
  start(): Promise<void> {
    this.session.start(performance.now());
    this.#pump();
    return this.#started.promise;
  }

  /**
   * Writes encoded data frames (the caller checks `session.canSendData`).
   * Never rejects: resolves with the bytes the socket took, and the error
   * that stopped it short (null when all were written).
   */
  async write(
    bytes: Uint8Array,
  ): Promise<{ written: number; error: unknown }> {
    const progress = { written: 0 };
    try {
      await writeAll(this.#conn, bytes, progress);
      return { written: bytes.length, error: null };
    } catch (error) {
      return {
        written: progress.written,
        error: error ?? new Error("write failed"),
      };
    }
  }

  /**
   * Sends STOP and waits for the session to end: FINISH, the finish
   * timeout, or a failure (unidirectional: at once).
   */
  async stop(): Promise<void> {
    if (!this.#alive) return;
    if (!this.session.canSendData) {
      this.close(null);
      return;
    }
    this.session.stop(performance.now());
    this.#pump();
    await this.#ended.promise;
  }

  /** Ends the connection now, once; `error` goes to the onClosed callback. */
  close(error: Error | null): void {
    if (!this.#alive) return;
    this.#alive = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    closeQuietly(this.#conn);
    this.#started.reject(
      error ?? new Deno.errors.Interrupted("Cannot connect: interrupted"),
    );
    this.#ended.resolve();
    this.#onClosed(this, error);
  }

  #pump(): void {
    this.#chain = this.#chain.then(() => this.#drain());
  }

  /** Acts on the session's events, in order, then arms its deadline. */
  async #drain(): Promise<void> {
    const session = this.session;
    for (let e = session.next(); e !== null; e = session.next()) {
      if (!this.#alive) return;
      switch (e.type) {
        case "send":
          try {
            await writeAll(this.#conn, e.bytes);
          } catch (error) {
            this.close(asError(error));
            return;
          }
          break;
        case "started":
          this.#started.resolve();
          break;
        case "finished":
          break;
        case "closed":
          this.close(e.error);
          return;
      }
    }
    this.#arm();
  }

  /** Keeps one timer on the session's deadline. */
  #arm(): void {
    const deadline = this.#alive ? this.session.deadline : null;
    if (deadline === this.#armed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armed = deadline;
    if (deadline === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armed = null;
      this.session.expire(performance.now());
      this.#pump();
    }, Math.max(0, deadline - performance.now()));
  }

  /** Reads what the collector sends into the session, until it is over. */
  async #read(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    const session = this.session;
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (!this.#alive) return;
        const now = performance.now();
        if (n === null) {
          session.end(now);
          this.#pump();
          return;
        }
        // The session copies what it keeps: the buffer can be reused.
        session.receive(buf.subarray(0, n), now);
        this.#pump();
        if (session.state === "closed") return;
      }
    } catch (error) {
      if (this.#alive) this.close(asError(error));
    }
  }
}
