// Private: the machinery of ReaderSession, whose public file keeps the API
// and its docs: the option checks, and the phase rules: which decoder method
// the phase calls for (the data phase's fast path hands data frames to a
// sink), where the session stands, its deadline, the events waiting to be
// taken, and how the handshake's verdicts, the timeouts and the end of input
// move it on.
import { type ReaderEvent, ReaderHandshake } from "./reader_handshake.ts";
import type { Frame } from "./frame.ts";
import type { FrameDecoder } from "./frame_decoder.ts";
import type { DataCallback, RunCallback } from "./callbacks.ts";
import { HandshakeError, SessionTimeoutError } from "./errors.ts";
import { checkDuration } from "./_duration.ts";
import { contentTypeText } from "./_bytes.ts";
import type {
  ReaderSessionEvent,
  ReaderSessionOptions,
  ReaderSessionState,
} from "./_reader_session_types.ts";

const DEFAULT_HANDSHAKE_TIMEOUT = 5_000;
const EMPTY = new Uint8Array(0);
const CONTEXT = "Cannot create reader session";

/** The checked options of a reader session's phase rules. */
export interface ReaderPhaseOptions {
  handshakeTimeout: number;
  idleTimeout: number;
  now: number;
  contentTypes: NonNullable<ReaderSessionOptions["contentTypes"]>;
}

/**
 * Checks a reader session's options: what the phase rules take, the
 * decoder's options left to the decoder to check.
 *
 * @throws {TypeError} If an option has the wrong type.
 * @throws {RangeError} If an option is out of range.
 */
export function checkReaderSessionOptions(
  options: ReaderSessionOptions,
): ReaderPhaseOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${CONTEXT}: options must be an object, got ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const handshakeTimeout = checkDuration(
    options.handshakeTimeout,
    DEFAULT_HANDSHAKE_TIMEOUT,
    "handshakeTimeout",
    CONTEXT,
  );
  const idleTimeout = checkDuration(
    options.idleTimeout,
    0,
    "idleTimeout",
    CONTEXT,
  );
  const now = options.now ?? performance.now();
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new TypeError(`${CONTEXT}: now must be a finite number, got ${now}`);
  }
  return {
    handshakeTimeout,
    idleTimeout,
    now,
    contentTypes: options.contentTypes ?? [],
  };
}

/**
 * The phase rules and the event queue of one reader session: it takes the
 * frames from the decoder (by the method the phase calls for: the data
 * phase's fast path hands data frames to a sink), asks the handshake about
 * every other frame (and about a data frame refused before it is whole),
 * queues the session's events, keeps the deadline and closes.
 */
export class ReaderPhase {
  readonly #decoder: FrameDecoder;
  readonly #handshake: ReaderHandshake;
  readonly #handshakeTimeout: number;
  readonly #idleTimeout: number;
  #state: ReaderSessionState = "waiting";
  #deadline: number | null;
  #started = false;
  #stopped = false;
  #error: Error | null = null;
  #events: ReaderSessionEvent[] = [];
  #head = 0;
  #ended = false;
  /** The latest time the caller gave. */
  #now: number;

  constructor(options: ReaderPhaseOptions, decoder: FrameDecoder) {
    this.#decoder = decoder;
    this.#handshake = new ReaderHandshake({
      contentTypes: options.contentTypes,
    });
    this.#handshakeTimeout = options.handshakeTimeout;
    this.#idleTimeout = options.idleTimeout;
    this.#now = options.now;
    this.#deadline = this.#handshakeTimeout > 0
      ? options.now + this.#handshakeTimeout
      : null;
  }

  get state(): ReaderSessionState {
    return this.#state;
  }

  get deadline(): number | null {
    return this.#deadline;
  }

  get handshake(): ReaderHandshake {
    return this.#handshake;
  }

  get started(): boolean {
    return this.#started;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get error(): Error | null {
    return this.#error;
  }

  /**
   * The caller's time moved on, with bytes (or a resume): a started stream
   * is not idle.
   */
  touch(now: number): void {
    this.#now = now;
    if (this.#state === "data" && this.#idleTimeout > 0) {
      this.#deadline = now + this.#idleTimeout;
    }
  }

  /** Whether the input ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The input ended (EOF), at `now`. */
  end(now: number): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#now = now;
    this.#decoder.end();
  }

  /** Closes with a {@linkcode SessionTimeoutError} if the deadline passed. */
  expire(now: number): void {
    const deadline = this.#deadline;
    if (deadline === null || now < deadline || this.#state === "closed") {
      return;
    }
    if (this.#state === "data") {
      const timeout = this.#idleTimeout;
      this.#close(
        new SessionTimeoutError(
          "idle",
          timeout,
          `connection idle for ${timeout} ms`,
        ),
      );
      return;
    }
    const timeout = this.#handshakeTimeout;
    this.#close(
      new SessionTimeoutError(
        "handshake",
        timeout,
        this.#state === "accepted"
          ? `no START within ${timeout} ms after ACCEPT`
          : `no READY or START within ${timeout} ms`,
      ),
    );
  }

  /**
   * The next event, or `null` if more input is needed (or closed and every
   * event taken); in the data phase, data frames go to `onRun`, or else
   * `onData`, if given.
   */
  next(
    onData: DataCallback | null,
    onRun: RunCallback | null,
  ): ReaderSessionEvent | null {
    const decoder = this.#decoder;
    for (;;) {
      if (this.#head < this.#events.length) return this.#shift();
      if (this.#state === "closed") return null;
      let frame: Frame | null;
      try {
        frame = this.#state !== "data"
          ? decoder.next()
          : onRun !== null
          ? decoder.nextRun(onRun)
          : onData !== null
          ? decoder.next(onData)
          : decoder.next();
      } catch (error) {
        frame = null;
        if (this.#state === "data" || decoder.oversizedFrames === 0) {
          this.#close(
            error instanceof Error ? error : new Error(String(error)),
          );
          continue;
        }
      }
      if (this.#state !== "data" && decoder.oversizedFrames !== 0) {
        // An oversized data frame skipped (oversize: "skip") before START,
        // and so before `frame` or the fault: a data frame before START
        // all the same, refused first.
        this.#refuseData(0);
        continue;
      }
      if (frame === null) {
        this.#needInput();
        if (this.#head < this.#events.length) continue;
        return null;
      }
      // The data phase's fast path.
      if (frame.kind === "data" && this.#state === "data") {
        return { type: "data", data: frame.data };
      }
      this.#handle(this.#handshake.receive(frame));
    }
  }

  /** The decoder needs more input: end of input, or a data frame too early. */
  #needInput(): void {
    if (this.#state !== "data") {
      // A data frame before START is refused as soon as its length word is
      // in: the handshake judges a data frame by its place alone.
      const partial = this.#decoder.partialFrame;
      if (partial !== null && partial.kind === "data") {
        this.#refuseData(partial.offset);
        return;
      }
    }
    if (!this.#ended) return;
    this.#close(
      this.#state === "accepted"
        ? new HandshakeError(
          "closed",
          "the connection ended after READY, before START",
        )
        : null,
    );
  }

  /**
   * A data frame out of place whose payload has not (all) come: the
   * handshake judges a data frame by its place alone, so it is judged with
   * an empty payload.
   */
  #refuseData(offset: number): void {
    this.#handle(
      this.#handshake.receive({ kind: "data", data: EMPTY, offset }),
    );
  }

  #close(error: Error | null): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#deadline = null;
    this.#error = error;
    this.#events.push({ type: "closed", error, stopped: this.#stopped });
  }

  #shift(): ReaderSessionEvent {
    const event = this.#events[this.#head]!;
    this.#events[this.#head++] = undefined as unknown as ReaderSessionEvent;
    if (this.#head === this.#events.length) {
      this.#events.length = 0;
      this.#head = 0;
    }
    return event;
  }

  /** Turns the handshake's events into the session's. */
  #handle(events: ReaderEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "send":
          this.#events.push(event);
          if (this.#handshake.state === "accepted") {
            this.#state = "accepted";
            // START is due within the timeout from the bytes that
            // brought READY.
            this.#deadline = this.#handshakeTimeout > 0
              ? this.#now + this.#handshakeTimeout
              : null;
          }
          break;
        case "started":
          this.#state = "data";
          this.#started = true;
          this.#deadline = this.#idleTimeout > 0
            ? this.#now + this.#idleTimeout
            : null;
          this.#events.push({
            type: "started",
            mode: event.mode,
            contentType: contentTypeText(event.contentType),
            contentTypeBytes: event.contentType,
          });
          break;
        case "data":
          // Only through next() in the data phase, handled before.
          this.#events.push(event);
          break;
        case "stopped":
          this.#stopped = true;
          this.#events.push(event);
          this.#close(null);
          break;
        case "failed":
          this.#close(event.error);
          break;
      }
    }
  }
}
