// Private: the public types of WriterSession (re-exported by
// src/writer_session.ts): its options, its events and its states.
import type { WriterHandshakeOptions } from "./writer_handshake.ts";

/**
 * Options of {@linkcode WriterSession}: those of
 * {@linkcode WriterHandshakeOptions} (content types and mode), and the
 * deadlines. There is no idle timeout on this side: a collector says
 * nothing in the data phase, by design.
 *
 * @example
 * ```ts
 * import { WriterSession, type WriterSessionOptions } from "@fstrm/fstrm";
 *
 * const options: WriterSessionOptions = {
 *   contentTypes: ["protobuf:dnstap.Dnstap"],
 *   handshakeTimeout: 2_000,
 *   finishTimeout: 1_000,
 * };
 * const session = new WriterSession(options);
 * console.log(session.state); // "idle"
 * ```
 */
export interface WriterSessionOptions extends WriterHandshakeOptions {
  /**
   * Milliseconds from `start()` (READY sent) within which ACCEPT must come,
   * bidirectional only; then `expire()` fails the session with a
   * {@linkcode SessionTimeoutError} of reason `"handshake"` (a
   * `FrameWriter`'s connection attempt fails with it).
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds from `stop()` (STOP sent) within which FINISH must come,
   * bidirectional only; then `expire()` fails the session with a
   * {@linkcode SessionTimeoutError} of reason `"finish"` (`FrameWriter`'s
   * `close()` then closes the connection regardless and reports the error
   * to `onError`). libfstrm 0.6.1 waits forever here; we do not.
   *
   * @default {5000}
   */
  finishTimeout?: number;
}

/**
 * Where a {@linkcode WriterSession} stands.
 *
 * - `"idle"`: `start()` not called yet.
 * - `"handshake"`: READY was sent; waiting for ACCEPT (bidirectional).
 * - `"data"`: START was sent: data frames may be written.
 * - `"stopping"`: STOP was sent; waiting for FINISH (bidirectional).
 * - `"closed"`: over, cleanly or not; the last event was `"closed"`.
 *
 * @example
 * ```ts
 * import { WriterSession, type WriterSessionState } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const session = new WriterSession({ bidirectional: false });
 * session.start(0);
 * const state: WriterSessionState = session.state;
 * assert.equal(state, "data");
 * ```
 */
export type WriterSessionState =
  | "idle"
  | "handshake"
  | "data"
  | "stopping"
  | "closed";

/**
 * What a {@linkcode WriterSession} tells its shell, in order:
 *
 * - `"send"`: write `bytes` to the peer (READY, START or STOP), before
 *   acting on the events after it.
 * - `"started"`: START is out; data frames of `contentType` (`null`: START
 *   named none) may follow.
 * - `"finished"`: FINISH came in answer to our STOP: the collector read
 *   everything (bidirectional only).
 * - `"closed"`: the connection must close now; `error` says why, `null`
 *   for a clean end (FINISH came, or STOP was sent unidirectionally). The
 *   last event of a session.
 *
 * @example
 * ```ts
 * import { WriterSession, type WriterSessionEvent } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const session = new WriterSession({ bidirectional: false });
 * session.start(0);
 * const events: WriterSessionEvent[] = [];
 * for (let e = session.next(); e !== null; e = session.next()) events.push(e);
 * assert.deepEqual(events.map((e) => e.type), ["send", "started"]);
 * ```
 */
export type WriterSessionEvent =
  | {
    /** Always `"send"`. */
    readonly type: "send";
    /** The bytes to write to the peer (a new buffer). */
    readonly bytes: Uint8Array;
  }
  | {
    /** Always `"started"`. */
    readonly type: "started";
    /** The handshake that ran. */
    readonly mode: "bidirectional" | "unidirectional";
    /**
     * The content type START named, as UTF-8 text (an invalid byte reads as
     * U+FFFD), or `null` if none.
     */
    readonly contentType: string | null;
    /** The exact bytes of `contentType` (a copy; compare these), or `null`. */
    readonly contentTypeBytes: Uint8Array | null;
  }
  | {
    /** Always `"finished"`. */
    readonly type: "finished";
  }
  | {
    /** Always `"closed"`. */
    readonly type: "closed";
    /**
     * Why, or `null` for a clean end: a {@linkcode HandshakeError} (the
     * peer broke the protocol, or ended its input early: reason
     * `"closed"`), a {@linkcode SessionTimeoutError}, or a
     * {@linkcode ControlFrameError} (malformed bytes from the peer).
     */
    readonly error: Error | null;
  };
