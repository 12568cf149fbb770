/**
 * One Frame Streams connection on the writer's side (the client a DNS
 * server runs), sans I/O: a pure object fed the peer's bytes and the time,
 * that says what to send, when the data phase begins and ends, when a
 * deadline is due, and when and why the connection must close. Sockets,
 * timers, queues and reconnection belong to a shell around it, such as
 * {@linkcode FrameWriter}, a Node `net` client, or a test.
 *
 * @module
 */
import type { ControlFrame } from "./frame.ts";
import { HandshakeError, SessionTimeoutError } from "./errors.ts";
import { WriterHandshake } from "./writer_handshake.ts";
import { ControlReader } from "./_control_reader.ts";
import { contentTypeText } from "./_bytes.ts";
import {
  checkOptions,
  checkTime,
  checkTimeout,
  DEFAULT_TIMEOUT,
} from "./_writer_session_checks.ts";
import type {
  WriterSessionEvent,
  WriterSessionOptions,
  WriterSessionState,
} from "./_writer_session_types.ts";

export type {
  WriterSessionEvent,
  WriterSessionOptions,
  WriterSessionState,
} from "./_writer_session_types.ts";

/**
 * The writer's side of one Frame Streams connection, sans I/O, as h11's
 * `Connection` is for HTTP: it owns the {@linkcode WriterHandshake}, the
 * reading of the peer's control frames, the phase rules and the deadlines,
 * and every protocol decision of the writer's side lives here once:
 *
 * - bidirectional: `start()` sends READY listing our content types; ACCEPT
 *   must come within `handshakeTimeout`; we pick our first content type
 *   ACCEPT lists (ACCEPT with none: our first) and send START;
 * - unidirectional: `start()` sends START naming our first content type;
 * - data frames may be written while `state` is `"data"`, and only then
 *   (they do not pass through the session: the shell batches them);
 * - `stop()` sends STOP; bidirectional, FINISH must come within
 *   `finishTimeout`;
 * - the peer may send ACCEPT once after READY and FINISH once after STOP;
 *   anything else it sends (a data frame, READY, START, STOP, ACCEPT twice,
 *   FINISH before STOP, malformed bytes) closes the session with an error,
 *   and control frames of unknown type are skipped (counted in
 *   `skippedFrames`), for forward compatibility. A data frame fails as soon
 *   as its length word arrives: its payload is never buffered.
 *
 * Feed it what arrives with {@linkcode WriterSession.prototype.receive} and
 * {@linkcode WriterSession.prototype.end}, call
 * {@linkcode WriterSession.prototype.expire} at
 * {@linkcode WriterSession.prototype.deadline}, and take the events with
 * {@linkcode WriterSession.prototype.next} after each call. Times are
 * milliseconds on any monotonic clock the caller chooses
 * (`performance.now()`). Portable: no I/O, no timers, no `Deno` API; a
 * Node or Bun client on `node:net` drives it the same way
 * (tests/writer_session_node_test.ts shows the loop).
 *
 * @example A bidirectional session driven by hand
 * ```ts
 * import {
 *   ControlType,
 *   DNSTAP_CONTENT_TYPE,
 *   encodeControlFrame,
 *   WriterSession,
 * } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const session = new WriterSession({ contentTypes: [DNSTAP_CONTENT_TYPE] });
 * session.start(0);
 * assert.equal(session.next()?.type, "send"); // READY: write it to the peer
 * assert.equal(session.deadline, 5_000); // ACCEPT is due within 5 s
 *
 * session.receive(encodeControlFrame(ControlType.ACCEPT, [DNSTAP_CONTENT_TYPE]), 10);
 * assert.equal(session.next()?.type, "send"); // START
 * assert.equal(session.next()?.type, "started");
 * assert.equal(session.state, "data"); // data frames may be written now
 *
 * session.stop(20);
 * assert.equal(session.next()?.type, "send"); // STOP
 * session.receive(encodeControlFrame(ControlType.FINISH), 30);
 * assert.deepEqual(session.next(), { type: "finished" });
 * assert.deepEqual(session.next(), { type: "closed", error: null });
 * assert.equal(session.next(), null);
 * ```
 */
export class WriterSession {
  #handshake: WriterHandshake;
  #bidirectional: boolean;
  #handshakeTimeout: number;
  #finishTimeout: number;
  #state: WriterSessionState = "idle";
  #deadline: number | null = null;
  #events: WriterSessionEvent[] = [];
  #eventIndex = 0;
  #error: Error | null = null;
  /** Reads the peer's control frames (scanner checks, no phase rules). */
  #reader = new ControlReader();
  #bytesReceived = 0;

  /**
   * Makes a session; call {@linkcode WriterSession.prototype.start} once
   * connected.
   *
   * @param options Content types, mode and deadlines; see
   * {@linkcode WriterSessionOptions}.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If a timeout is negative or over 2^31 - 1 ms, a
   * content type over 256 bytes, or a READY listing them all over 503 bytes.
   */
  constructor(options: WriterSessionOptions = {}) {
    checkOptions(options);
    const {
      handshakeTimeout = DEFAULT_TIMEOUT,
      finishTimeout = DEFAULT_TIMEOUT,
    } = options;
    this.#handshake = new WriterHandshake(options);
    this.#bidirectional = options.bidirectional ?? true;
    this.#handshakeTimeout = checkTimeout("handshakeTimeout", handshakeTimeout);
    this.#finishTimeout = checkTimeout("finishTimeout", finishTimeout);
  }

  /**
   * Where the session stands; see {@linkcode WriterSessionState}.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession();
   * assert.equal(session.state, "idle");
   * session.start(0);
   * assert.equal(session.state, "handshake");
   * ```
   */
  get state(): WriterSessionState {
    return this.#state;
  }

  /**
   * Whether data frames may be written now: the state is `"data"`. The one
   * rule for when data flows; a shell checks it before each batch.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   *
   * console.log(new WriterSession().canSendData); // false: not started
   * ```
   */
  get canSendData(): boolean {
    return this.#state === "data";
  }

  /**
   * The time, on the caller's clock, at which
   * {@linkcode WriterSession.prototype.expire} must be called: ACCEPT's
   * deadline while `"handshake"`, FINISH's while `"stopping"`; `null` when
   * nothing is due.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession({ handshakeTimeout: 250 });
   * assert.equal(session.deadline, null);
   * session.start(1_000);
   * assert.equal(session.deadline, 1_250);
   * ```
   */
  get deadline(): number | null {
    return this.#deadline;
  }

  /**
   * The content type START named, as UTF-8 text (an invalid byte reads as
   * U+FFFD), or `null` before START or if it named none.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   *
   * const session = new WriterSession({ contentTypes: ["a"], bidirectional: false });
   * session.start(0);
   * console.log(session.contentType); // "a"
   * console.log(session.contentTypeBytes); // Uint8Array(1) [ 97 ]
   * ```
   */
  get contentType(): string | null {
    return contentTypeText(this.#handshake.contentType);
  }

  /** The exact bytes of `contentType` (a copy; compare these), or `null`. */
  get contentTypeBytes(): Uint8Array | null {
    return this.#handshake.contentType;
  }

  /**
   * Why the session closed, or `null` (open, or closed cleanly): the
   * `error` of its `"closed"` event.
   *
   * @example
   * ```ts
   * import { HandshakeError, WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession();
   * session.start(0);
   * session.end(1); // the collector hung up before ACCEPT
   * assert.ok(session.error instanceof HandshakeError);
   * assert.equal(session.error.reason, "closed");
   * ```
   */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Bytes received from the peer.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   *
   * console.log(new WriterSession().bytesReceived); // 0
   * ```
   */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /**
   * Control frames received from the peer and acted on (ACCEPT, FINISH,
   * and the one that broke the protocol, if any).
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   *
   * console.log(new WriterSession().controlFrames); // 0
   * ```
   */
  get controlFrames(): number {
    return this.#reader.frames;
  }

  /**
   * Control frames of unknown type received and skipped.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   *
   * console.log(new WriterSession().skippedFrames); // 0
   * ```
   */
  get skippedFrames(): number {
    return this.#reader.skipped;
  }

  /**
   * Opens the stream, once connected: bidirectional, sends READY and sets
   * ACCEPT's deadline; unidirectional, sends START and starts the data
   * phase.
   *
   * @param now The time, on the caller's clock, in milliseconds.
   * @throws {TypeError} If called twice, or `now` is not a number.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession({ bidirectional: false });
   * session.start(0);
   * assert.equal(session.next()?.type, "send"); // START
   * assert.equal(session.next()?.type, "started");
   * assert.throws(() => session.start(0), TypeError);
   * ```
   */
  start(now: number): void {
    checkTime(now, "start writer session");
    if (this.#state !== "idle") {
      throw new TypeError(
        `Cannot start writer session: start() was already called (state "${this.#state}")`,
      );
    }
    const events = this.#handshake.start();
    const ready = events[0]!;
    if (ready.type === "send") this.#events.push(ready);
    if (this.#bidirectional) {
      this.#state = "handshake";
      this.#deadline = now + this.#handshakeTimeout;
    } else {
      this.#started();
    }
  }

  /**
   * Takes bytes that arrived from the peer: its ACCEPT and FINISH, or what
   * breaks the protocol. Ignored once closed.
   *
   * @param chunk The bytes, in order, any chunking; not kept after the call
   * (a control frame cut between chunks is copied).
   * @param now The time, on the caller's clock, in milliseconds.
   * @throws {TypeError} If `chunk` is not a `Uint8Array` or `now` not a
   * number.
   *
   * @example ACCEPT cut in two
   * ```ts
   * import { ControlType, encodeControlFrame, WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession();
   * session.start(0);
   * const accept = encodeControlFrame(ControlType.ACCEPT);
   * session.receive(accept.subarray(0, 5), 1);
   * assert.equal(session.state, "handshake");
   * session.receive(accept.subarray(5), 2);
   * assert.equal(session.state, "data");
   * ```
   */
  receive(chunk: Uint8Array, now: number): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot receive: a chunk must be a Uint8Array, got ${typeof chunk}`,
      );
    }
    checkTime(now, "receive");
    if (this.#state === "closed" || chunk.length === 0) return;
    this.#bytesReceived += chunk.length;
    const error = this.#reader.push(chunk, this.#onFrame);
    if (error !== null) this.#close(error);
  }

  /**
   * The peer ended its input (EOF). Before STOP, or before FINISH, that
   * closes the session with a {@linkcode HandshakeError} of reason
   * `"closed"`; once closed, it is ignored.
   *
   * @param now The time, on the caller's clock, in milliseconds.
   * @throws {TypeError} If `now` is not a number.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession({ bidirectional: false });
   * session.start(0);
   * session.end(1);
   * assert.equal(session.state, "closed");
   * assert.match(session.error!.message, /before STOP/);
   * ```
   */
  end(now: number): void {
    checkTime(now, "end");
    const state = this.#state;
    if (state === "closed") return;
    this.#close(
      new HandshakeError(
        "closed",
        state === "handshake" || state === "idle"
          ? "the collector closed the connection before ACCEPT"
          : state === "stopping"
          ? "the collector closed the connection before FINISH"
          : "the collector closed the connection before STOP",
      ),
    );
  }

  /**
   * Fails the session with a {@linkcode SessionTimeoutError} if its
   * {@linkcode WriterSession.prototype.deadline} has passed (`now` at or
   * after it); else does nothing. Call it when the shell's timer fires.
   *
   * @param now The time, on the caller's clock, in milliseconds.
   * @throws {TypeError} If `now` is not a number.
   *
   * @example
   * ```ts
   * import { SessionTimeoutError, WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession({ handshakeTimeout: 100 });
   * session.start(0);
   * session.expire(100);
   * assert.ok(session.error instanceof SessionTimeoutError);
   * assert.equal(session.error.reason, "handshake");
   * ```
   */
  expire(now: number): void {
    checkTime(now, "expire");
    const deadline = this.#deadline;
    if (deadline === null || now < deadline) return;
    if (this.#state === "handshake") {
      this.#close(
        new SessionTimeoutError(
          "handshake",
          this.#handshakeTimeout,
          `no ACCEPT within ${this.#handshakeTimeout} ms after READY`,
        ),
      );
    } else {
      this.#close(
        new SessionTimeoutError(
          "finish",
          this.#finishTimeout,
          `no FINISH within ${this.#finishTimeout} ms after STOP`,
        ),
      );
    }
  }

  /**
   * Ends the stream after the last data frame: sends STOP; bidirectional,
   * sets FINISH's deadline (state `"stopping"`); unidirectional, closes
   * cleanly at once.
   *
   * @param now The time, on the caller's clock, in milliseconds.
   * @throws {TypeError} Unless the state is `"data"`, or if `now` is not a
   * number.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession({ bidirectional: false });
   * session.start(0);
   * session.stop(1);
   * const types = [];
   * for (let e = session.next(); e !== null; e = session.next()) types.push(e.type);
   * assert.deepEqual(types, ["send", "started", "send", "closed"]);
   * ```
   */
  stop(now: number): void {
    checkTime(now, "stop writer session");
    if (this.#state !== "data") {
      throw new TypeError(
        `Cannot stop writer session: stop() needs state "data", the state is "${this.#state}"`,
      );
    }
    const stop = this.#handshake.stop()[0]!;
    if (stop.type === "send") this.#events.push(stop);
    if (this.#bidirectional) {
      this.#state = "stopping";
      this.#deadline = now + this.#finishTimeout;
    } else {
      this.#close(null);
    }
  }

  /**
   * Use this to learn what to send, when data frames may flow, and when the
   * connection must close: the session's only output. The next event, in
   * order, or `null` when there is none for now; see
   * {@linkcode WriterSessionEvent}. Take them all after each call that
   * feeds the session.
   *
   * @returns The next event or `null`.
   *
   * @example
   * ```ts
   * import { WriterSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new WriterSession();
   * assert.equal(session.next(), null);
   * session.start(0);
   * assert.equal(session.next()?.type, "send");
   * assert.equal(session.next(), null);
   * ```
   */
  next(): WriterSessionEvent | null {
    const events = this.#events;
    if (this.#eventIndex === events.length) return null;
    const event = events[this.#eventIndex++]!;
    if (this.#eventIndex === events.length) {
      events.length = 0;
      this.#eventIndex = 0;
    }
    return event;
  }

  #onFrame = (frame: ControlFrame): boolean => {
    this.#frame(frame);
    return this.#state !== "closed";
  };

  /** Hands one of the peer's known control frames to the handshake. */
  #frame(frame: ControlFrame): void {
    for (const event of this.#handshake.receive(frame)) {
      switch (event.type) {
        case "send":
          this.#events.push(event);
          break;
        case "started":
          this.#started();
          break;
        case "finished":
          this.#events.push({ type: "finished" });
          this.#close(null);
          break;
        case "failed":
          this.#close(event.error);
          break;
      }
    }
  }

  #started(): void {
    this.#state = "data";
    this.#deadline = null;
    this.#events.push({
      type: "started",
      mode: this.#bidirectional ? "bidirectional" : "unidirectional",
      contentType: contentTypeText(this.#handshake.contentType),
      contentTypeBytes: this.#handshake.contentType,
    });
  }

  #close(error: Error | null): void {
    this.#state = "closed";
    this.#deadline = null;
    this.#error = error;
    this.#events.push({ type: "closed", error });
  }
}
