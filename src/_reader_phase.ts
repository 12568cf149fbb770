// Private: the phase rules of ReaderSession, apart from its decoding: where
// the session stands, its deadline, the events waiting to be taken, and how
// the handshake's verdicts, the timeouts and the close move it on.
import { type ReaderEvent, ReaderHandshake } from "./reader_handshake.ts";
import type { Frame } from "./frame.ts";
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
 * The phase rules and the event queue of one reader session: fed the frames
 * the decoder found (and the data frames refused before they are whole), it
 * asks the handshake, queues the session's events, keeps the deadline and
 * closes.
 */
export class ReaderPhase {
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
  /** The latest time the caller gave. */
  #now: number;

  constructor(options: ReaderPhaseOptions) {
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

  /** Whether an event waits to be taken. */
  get pending(): boolean {
    return this.#head < this.#events.length;
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

  /** The caller's time moved on, with the end of input. */
  setNow(now: number): void {
    this.#now = now;
  }

  /** Closes with a {@linkcode SessionTimeoutError} if the deadline passed. */
  expire(now: number): void {
    const deadline = this.#deadline;
    if (deadline === null || now < deadline || this.#state === "closed") {
      return;
    }
    if (this.#state === "data") {
      const timeout = this.#idleTimeout;
      this.close(
        new SessionTimeoutError(
          "idle",
          timeout,
          `connection idle for ${timeout} ms`,
        ),
      );
      return;
    }
    const timeout = this.#handshakeTimeout;
    this.close(
      new SessionTimeoutError(
        "handshake",
        timeout,
        this.#state === "accepted"
          ? `no START within ${timeout} ms after ACCEPT`
          : `no READY or START within ${timeout} ms`,
      ),
    );
  }

  /** A whole frame, but a data frame in the data phase: the handshake judges. */
  receive(frame: Frame): void {
    this.#handle(this.#handshake.receive(frame));
  }

  /**
   * A data frame out of place whose payload has not (all) come: the
   * handshake judges a data frame by its place alone, so it is judged with
   * an empty payload.
   */
  refuseData(offset: number): void {
    this.#handle(
      this.#handshake.receive({ kind: "data", data: EMPTY, offset }),
    );
  }

  /** The input ended at a frame boundary. */
  endOfInput(): void {
    this.close(
      this.#state === "accepted"
        ? new HandshakeError(
          "closed",
          "the connection ended after READY, before START",
        )
        : null,
    );
  }

  close(error: Error | null): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#deadline = null;
    this.#error = error;
    this.#events.push({ type: "closed", error, stopped: this.#stopped });
  }

  /** The next queued event; call only when `pending`. */
  shift(): ReaderSessionEvent {
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
          this.close(null);
          break;
        case "failed":
          this.close(event.error);
          break;
      }
    }
  }
}
