// Private: the public types of ReaderSession (re-exported by
// src/reader_session.ts): its options, its events and its states.
import type { ContentTypeOptions, DecodeOptions } from "./options.ts";

/**
 * Options of {@linkcode ReaderSession}.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE, ReaderSession, type ReaderSessionOptions } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const options: ReaderSessionOptions = {
 *   contentTypes: [DNSTAP_CONTENT_TYPE],
 *   handshakeTimeout: 2_000,
 *   now: 0,
 * };
 * assert.equal(new ReaderSession(options).deadline, 2_000);
 * ```
 */
export interface ReaderSessionOptions
  extends DecodeOptions, ContentTypeOptions {
  /**
   * Milliseconds the peer has to send READY or START from `now`, and then
   * (after our ACCEPT) START. `0` disables the limit. (`FrameReceiver`
   * closes such a connection and counts it in `handshakeFailures`.)
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds a started stream may stay silent (no byte received, and no
   * {@linkcode ReaderSession.prototype.resume}) before it is closed. `0`: no
   * limit (DNS servers can be quiet for hours). (`FrameReceiver` resumes
   * its sessions after waiting for the application: flow control does not
   * count.)
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * When the connection opened, on the clock the caller passes to
   * `receive`, `end`, `resume` and `expire` (milliseconds, monotonic): the
   * handshake deadline counts from it.
   *
   * @default {performance.now()}
   */
  now?: number;
}

/**
 * What {@linkcode ReaderSession.prototype.next} returns, in order:
 *
 * - `"send"`: write `bytes` to the peer (ACCEPT, or FINISH after STOP),
 *   before acting on what follows.
 * - `"started"`: START came; the stream begins, in `mode`, with the content
 *   type START named (`null` if it named none).
 * - `"data"`: one data frame's payload, a view of the bytes given to
 *   `receive` (not a copy). Only when `next` is called without a sink.
 * - `"stopped"`: STOP came (and a FINISH to send has come just before, in
 *   bidirectional mode).
 * - `"closed"`: the last event: the connection must close now. `error` says
 *   why (`null` for a clean end: after STOP, or the input ended at a frame
 *   boundary); `stopped` whether STOP came.
 *
 * @example
 * ```ts
 * import type { ReaderSessionEvent } from "@fstrm/fstrm";
 *
 * const describe = (event: ReaderSessionEvent): string =>
 *   event.type === "closed" ? `closed: ${event.error?.message ?? "clean"}` : event.type;
 * console.log(describe({ type: "stopped" }));
 * ```
 */
export type ReaderSessionEvent =
  | {
    /** Always `"send"`. */
    readonly type: "send";
    /** The bytes to write to the peer (a new buffer). */
    readonly bytes: Uint8Array;
  }
  | {
    /** Always `"started"`. */
    readonly type: "started";
    /** How the stream began: READY first, or START first. */
    readonly mode: "bidirectional" | "unidirectional";
    /**
     * The content type START named, as UTF-8 text (an invalid byte reads as
     * U+FFFD), or `null` if it named none.
     */
    readonly contentType: string | null;
    /** The exact bytes of `contentType` (a copy; compare these), or `null`. */
    readonly contentTypeBytes: Uint8Array | null;
  }
  | {
    /** Always `"data"`. */
    readonly type: "data";
    /** The payload, a view of the received bytes (not a copy). */
    readonly data: Uint8Array;
  }
  | {
    /** Always `"stopped"`. */
    readonly type: "stopped";
  }
  | {
    /** Always `"closed"`. */
    readonly type: "closed";
    /** Why the connection ends, or `null` for a clean end. */
    readonly error: Error | null;
    /** Whether the peer sent STOP. */
    readonly stopped: boolean;
  };

/**
 * Where a {@linkcode ReaderSession} stands:
 *
 * - `"waiting"`: no READY or START yet.
 * - `"accepted"`: READY came and ACCEPT is sent; waiting for START.
 * - `"data"`: START came; data frames flow until STOP.
 * - `"closed"`: the session is over (see `error` and `stopped`); its last
 *   events may still be waiting in `next()`.
 *
 * @example
 * ```ts
 * import { ReaderSession, type ReaderSessionState } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const state: ReaderSessionState = new ReaderSession({ now: 0 }).state;
 * assert.equal(state, "waiting");
 * ```
 */
export type ReaderSessionState = "waiting" | "accepted" | "data" | "closed";
