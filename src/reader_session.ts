/**
 * One Frame Streams connection on the collector's side, sans I/O: the
 * decoder, the handshake, the phase rules and the deadlines of a connection
 * joined in one pure object, as h11's `Connection` joins an HTTP/1.1
 * connection's parts. Feed it the bytes that arrive and the time; it says
 * what to send back, when the stream starts and stops, the data frames, when
 * a timeout is due, and when (and why) the connection must close.
 * {@linkcode FrameReceiver} is a shell around it; a collector on Node's
 * `node:net`, or a test, can drive it the same way.
 *
 * @example A collector on Node's `node:net`
 * ```ts ignore
 * import net from "node:net";
 * import { DNSTAP_CONTENT_TYPE, ReaderSession } from "@fstrm/fstrm";
 *
 * net.createServer((socket) => {
 *   const session = new ReaderSession({ contentTypes: [DNSTAP_CONTENT_TYPE] });
 *   let timer: ReturnType<typeof setTimeout> | undefined;
 *   const drain = (): void => {
 *     for (let e = session.next(); e !== null; e = session.next()) {
 *       if (e.type === "send") socket.write(e.bytes);
 *       else if (e.type === "data") console.log(e.data.length);
 *       else if (e.type === "closed") socket.end();
 *     }
 *     clearTimeout(timer);
 *     const due = session.deadline;
 *     if (due !== null) {
 *       timer = setTimeout(() => {
 *         session.expire(performance.now());
 *         drain();
 *       }, due - performance.now());
 *     }
 *   };
 *   socket.on("data", (b) => {
 *     session.receive(b, performance.now());
 *     drain();
 *   });
 *   socket.on("end", () => {
 *     session.end(performance.now());
 *     drain();
 *   });
 *   drain();
 * }).listen("/run/dnstap.sock");
 * ```
 *
 * @module
 */
import { FrameDecoder } from "./frame_decoder.ts";
import { contentTypeText } from "./_bytes.ts";
import type { DataCallback, RunCallback } from "./callbacks.ts";
import { checkReaderSessionOptions, ReaderPhase } from "./_reader_phase.ts";
import type {
  ReaderSessionEvent,
  ReaderSessionOptions,
  ReaderSessionState,
} from "./_reader_session_types.ts";

export type {
  ReaderSessionEvent,
  ReaderSessionOptions,
  ReaderSessionState,
} from "./_reader_session_types.ts";

/**
 * One connection of a collector, sans I/O: feed it with
 * {@linkcode ReaderSession.prototype.receive} and
 * {@linkcode ReaderSession.prototype.end}, take events with
 * {@linkcode ReaderSession.prototype.next} until it returns `null`, write
 * the `"send"` bytes to the peer, and close the connection at `"closed"`.
 * Call {@linkcode ReaderSession.prototype.expire} when the time in
 * {@linkcode ReaderSession.prototype.deadline} comes.
 *
 * The rules, each decided here once:
 *
 * - The first frame picks the mode: READY (answered with ACCEPT listing the
 *   content types both sides take) or START (unidirectional: nothing is
 *   sent). Content types are compared as bytes.
 * - A data frame before START closes the session as soon as its length word
 *   has arrived (not once its perhaps huge payload has), an oversized one
 *   skipped under `oversize: "skip"` too.
 * - Every known control frame out of place closes the session with a
 *   {@linkcode HandshakeError} (`"unexpected-frame"`): READY received twice
 *   or after START, START received twice, STOP before START, ACCEPT or
 *   FINISH ever. Control frames of unknown type are skipped and counted
 *   (forward compatibility).
 * - STOP is answered with FINISH in bidirectional mode, then the session
 *   closes cleanly.
 * - Input ending at a frame boundary is a clean end (dnsdist never sends
 *   STOP), except after ACCEPT, before START (a {@linkcode HandshakeError}
 *   with reason `"closed"`); ending inside a frame is a
 *   {@linkcode TruncatedFrameError}, after every complete frame before it.
 * - A handshake step not done within `handshakeTimeout`, or a started stream
 *   silent for `idleTimeout`, closes the session with a
 *   {@linkcode SessionTimeoutError}.
 * - Malformed frames close it with the codec's errors, whose offsets count
 *   from the connection's first byte.
 *
 * The fast path: `next(onData)` and `nextRun(onRun)` hand the data frames of
 * the stream to a sink, as places in the received bytes, with no object made
 * per frame.
 *
 * With `engine: "auto"` it decodes with the TypeScript engine, as
 * {@linkcode FrameDecoder} does (the received chunks are scanned in place).
 *
 * @example A bidirectional stream, fed in one piece
 * ```ts
 * import {
 *   ControlType,
 *   DNSTAP_CONTENT_TYPE,
 *   encodeControlFrame,
 *   encodeFrameStream,
 *   ReaderSession,
 * } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const session = new ReaderSession({ contentTypes: [DNSTAP_CONTENT_TYPE], now: 0 });
 * const ready = encodeControlFrame(ControlType.READY, [DNSTAP_CONTENT_TYPE]);
 * const stream = encodeFrameStream(["hello"], { contentType: DNSTAP_CONTENT_TYPE });
 * session.receive(ready, 1);
 * session.receive(stream, 2);
 * const seen: string[] = [];
 * for (let event = session.next(); event !== null; event = session.next()) {
 *   seen.push(event.type);
 * }
 * // ACCEPT, START, "hello", FINISH, STOP, then the connection closes cleanly
 * assert.deepEqual(seen, ["send", "started", "data", "send", "stopped", "closed"]);
 * assert.equal(session.error, null);
 * ```
 */
export class ReaderSession {
  #decoder: FrameDecoder;
  #phase: ReaderPhase;

  /**
   * Makes a session for a connection that has just opened.
   *
   * @param options See {@linkcode ReaderSessionOptions}.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options: ReaderSessionOptions = {}) {
    const checked = checkReaderSessionOptions(options);
    this.#decoder = new FrameDecoder({
      outOfPlace: "deliver",
      ...(options.maxFrameLength !== undefined &&
        { maxFrameLength: options.maxFrameLength }),
      ...(options.oversize !== undefined && { oversize: options.oversize }),
      ...(options.engine !== undefined && { engine: options.engine }),
    });
    this.#phase = new ReaderPhase(checked, this.#decoder);
  }

  /**
   * Where the session stands; see {@linkcode ReaderSessionState}.
   *
   * @example
   * ```ts
   * import { ControlType, encodeControlFrame, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeControlFrame(ControlType.READY, ["x"]), 1);
   * session.next(); // the ACCEPT to send
   * assert.equal(session.state, "accepted");
   * assert.equal(session.mode, "bidirectional");
   * session.receive(encodeControlFrame(ControlType.START, ["x"]), 2);
   * session.receive(encodeControlFrame(ControlType.STOP), 3);
   * while (session.next() !== null);
   * assert.deepEqual(
   *   [session.state, session.started, session.stopped, session.error],
   *   ["closed", true, true, null],
   * );
   * assert.equal(session.contentType, "x");
   * ```
   */
  get state(): ReaderSessionState {
    return this.#phase.state;
  }

  /**
   * The time (on the caller's clock) at which
   * {@linkcode ReaderSession.prototype.expire} must be called, or `null` if
   * no timeout is running (none configured for this phase, or closed). It
   * changes as the session goes on: read it again after `receive`, `end`,
   * `resume` and `next`.
   *
   * @example
   * ```ts
   * import { ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * assert.equal(new ReaderSession({ now: 100, handshakeTimeout: 50 }).deadline, 150);
   * assert.equal(new ReaderSession({ now: 100, handshakeTimeout: 0 }).deadline, null);
   * ```
   */
  get deadline(): number | null {
    return this.#phase.deadline;
  }

  /**
   * How the stream began: `"bidirectional"` after READY, `"unidirectional"`
   * after START first, `null` before either.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * assert.equal(session.mode, null);
   * session.receive(encodeFrameStream([]), 0); // START first
   * session.next();
   * assert.equal(session.mode, "unidirectional");
   * ```
   */
  get mode(): "bidirectional" | "unidirectional" | null {
    return this.#phase.handshake.mode;
  }

  /**
   * The content type START named, as UTF-8 text (an invalid byte reads as
   * U+FFFD), or `null` before START or if it named none.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream([], { contentType: "protobuf:dnstap.Dnstap" }), 0);
   * session.next();
   * assert.equal(session.contentType, "protobuf:dnstap.Dnstap");
   * ```
   */
  get contentType(): string | null {
    return contentTypeText(this.#phase.handshake.contentType);
  }

  /**
   * The exact bytes of `contentType` (a copy; compare these), or `null`.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream([], { contentType: new Uint8Array([0xff]) }), 0);
   * session.next();
   * assert.deepEqual(session.contentTypeBytes, new Uint8Array([0xff]));
   * assert.equal(session.contentType, "\uFFFD");
   * ```
   */
  get contentTypeBytes(): Uint8Array | null {
    return this.#phase.handshake.contentType;
  }

  /**
   * Whether START came (the stream started, whatever happened next).
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream(["a"]).subarray(0, 12), 0); // START
   * session.next();
   * assert.equal(session.started, true);
   * ```
   */
  get started(): boolean {
    return this.#phase.started;
  }

  /**
   * Whether STOP came.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream(["a"]), 0); // START, "a", STOP
   * while (session.next() !== null);
   * assert.equal(session.stopped, true);
   * ```
   */
  get stopped(): boolean {
    return this.#phase.stopped;
  }

  /**
   * Why the session closed, once `state` is `"closed"`: `null` for a clean
   * end (and before). A {@linkcode HandshakeError}, a
   * {@linkcode SessionTimeoutError}, a codec error
   * ({@linkcode ControlFrameError}, {@linkcode FrameTooLargeError},
   * {@linkcode TruncatedFrameError}, ...), or what a sink threw.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession, TruncatedFrameError } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream(["a"]).subarray(0, 14), 0); // "a" cut short
   * session.end(1);
   * while (session.next() !== null);
   * assert.ok(session.error instanceof TruncatedFrameError);
   * ```
   */
  get error(): Error | null {
    return this.#phase.error;
  }

  /**
   * Well-formed control frames of unknown type skipped so far.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream([]).subarray(0, 12), 0); // START
   * session.receive(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 99]), 1); // type 99
   * while (session.next() !== null);
   * assert.equal(session.skippedFrames, 1);
   * ```
   */
  get skippedFrames(): number {
    return this.#decoder.skippedFrames;
  }

  /**
   * Data frames over `maxFrameLength` skipped under `oversize: "skip"`.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0, maxFrameLength: 2, oversize: "skip" });
   * session.receive(encodeFrameStream(["ab", "cde"]), 0);
   * while (session.next() !== null);
   * assert.equal(session.oversizedFrames, 1);
   * ```
   */
  get oversizedFrames(): number {
    return this.#decoder.oversizedFrames;
  }

  /**
   * Bytes that arrived from the peer. The session keeps a reference to
   * `chunk` (no copy) until its frames have been taken: do not reuse its
   * buffer before `next` returns `null`. Ignored once closed.
   *
   * @param chunk The bytes.
   * @param now The time, on the caller's clock: a started stream is not idle.
   * @throws {TypeError} If `chunk` is not a `Uint8Array`, or after `end`.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * const bytes = encodeFrameStream(["a"], { contentType: "t" });
   * for (let i = 0; i < bytes.length; i++) session.receive(bytes.subarray(i, i + 1), i);
   * const types: string[] = [];
   * for (let e = session.next(); e !== null; e = session.next()) types.push(e.type);
   * assert.deepEqual(types, ["started", "data", "stopped", "closed"]);
   * ```
   */
  receive(chunk: Uint8Array, now: number): void {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot receive: a chunk must be a Uint8Array, got ${typeof chunk}`,
      );
    }
    if (this.#phase.ended) {
      throw new TypeError("Cannot receive: end() was called");
    }
    if (this.#phase.state === "closed") return;
    this.#decoder.push(chunk);
    this.#phase.touch(now);
  }

  /**
   * The peer ended its input (EOF). `next` then returns what is left, and
   * the `"closed"` event.
   *
   * @param now The time, on the caller's clock.
   *
   * @example
   * ```ts
   * import { ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.end(1);
   * assert.deepEqual(session.next(), { type: "closed", error: null, stopped: false });
   * ```
   */
  end(now: number): void {
    this.#phase.end(now);
  }

  /**
   * Restarts the idle clock of a started stream at `now`: call it when you
   * read again after pausing on purpose (flow control), so that the time
   * spent waiting for your application does not count as the peer's
   * silence. Does nothing before START or without `idleTimeout`.
   *
   * @param now The time, on the caller's clock.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0, idleTimeout: 100 });
   * session.receive(encodeFrameStream(["a"]).subarray(0, 17), 0); // START, "a"
   * while (session.next() !== null);
   * session.resume(500);
   * assert.equal(session.deadline, 600);
   * ```
   */
  resume(now: number): void {
    this.#phase.touch(now);
  }

  /**
   * Closes the session with a {@linkcode SessionTimeoutError} if its
   * deadline has passed at `now`; does nothing otherwise (a timer may fire
   * a little early: read `deadline` again and wait on).
   *
   * @param now The time, on the caller's clock.
   *
   * @example
   * ```ts
   * import { ReaderSession, SessionTimeoutError } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0, handshakeTimeout: 100 });
   * session.expire(99);
   * assert.equal(session.state, "waiting");
   * session.expire(100);
   * const event = session.next();
   * assert.ok(event?.type === "closed" && event.error instanceof SessionTimeoutError);
   * assert.equal(event.error.reason, "handshake");
   * ```
   */
  expire(now: number): void {
    this.#phase.expire(now);
  }

  /**
   * Use this to take the session's events one at a time, data frames
   * included: as `"data"` events, or, given `onData`, each payload where it
   * lies with nothing allocated per frame. The next event, or `null` when the
   * session needs more input (or is closed and every event was taken).
   *
   * @param onData Optional: in the data phase, data frames go to it
   * instead of coming as `"data"` events: `onData(window, offset, length)`
   * gets the payload as `window[offset, offset + length)`, a view of the
   * received bytes valid while they are. The session is synchronous: a
   * promise it returns is not awaited. If it throws, the session closes
   * with that error.
   * @returns The next event, or `null`.
   *
   * @example Counting payload bytes through a sink
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream(["ab", "cde"]), 0);
   * let bytes = 0;
   * const sink = (_w: Uint8Array, _o: number, length: number) => void (bytes += length);
   * while (session.next(sink) !== null);
   * assert.equal(bytes, 5);
   * ```
   */
  next(
    onData?: DataCallback,
  ): ReaderSessionEvent | null {
    return this.#phase.next(onData ?? null, null);
  }

  /**
   * Use this to store or forward the stream's data frames as they came, a
   * run at a time, length words included. As
   * {@linkcode ReaderSession.prototype.next}, handing the data frames to
   * `onRun` still encoded: `onRun(window, start, end, frames)` gets `frames`
   * consecutive whole data frames as `window[start, end)`, a view of the
   * received bytes valid while they are. A run ends at a control frame and
   * at the end of a received chunk. A promise it returns is not awaited. If
   * it throws, the session closes with that error.
   *
   * @param onRun Called for each run, in order.
   * @returns The next event (never `"data"`), or `null`.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, ReaderSession } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * const session = new ReaderSession({ now: 0 });
   * session.receive(encodeFrameStream(["ab", "cde"]), 0);
   * const runs: number[] = [];
   * while (session.nextRun((_w, start, end, frames) => void runs.push(end - start, frames)) !== null);
   * assert.deepEqual(runs, [13, 2]);
   * ```
   */
  nextRun(
    onRun: RunCallback,
  ): ReaderSessionEvent | null {
    if (typeof onRun !== "function") {
      throw new TypeError("Cannot take runs: onRun must be a function");
    }
    return this.#phase.next(null, onRun);
  }
}
