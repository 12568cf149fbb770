/**
 * The writer's side of the Frame Streams handshake, sans I/O: the client
 * that connects to a collector and sends it data frames, as a DNS server
 * does.
 *
 * Call `start()` once connected, feed it the frames a
 * {@linkcode FrameDecoder} decodes from the connection, and call `stop()` to
 * end the stream; each call returns events: bytes to send, the start of the
 * data phase, its end, or a failure after which the caller closes the
 * connection. It has no timers: waiting for ACCEPT or FINISH with a timeout is
 * the socket layer's job. Data frames themselves are the caller's to encode
 * and send while the state is `"data"`.
 *
 * This subpath, `@fstrm/fstrm/writer-handshake`, is the bare handshake, for
 * a caller that decodes frames itself (its content types stay bytes, as on
 * the wire). Most callers want {@linkcode WriterSession} from the root: the
 * handshake with the control frame reader and the deadlines.
 *
 * @example A bidirectional session
 * ```ts
 * import { ControlType, DNSTAP_CONTENT_TYPE, encodeControlFrame, FrameDecoder } from "@fstrm/fstrm";
 * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
 * import assert from "node:assert/strict";
 *
 * const handshake = new WriterHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
 * assert.equal(handshake.start()[0]?.type, "send"); // READY
 *
 * const decoder = new FrameDecoder();
 * decoder.push(encodeControlFrame(ControlType.ACCEPT, [DNSTAP_CONTENT_TYPE]));
 * const events = handshake.receive(decoder.next()!);
 * assert.deepEqual(events.map((e) => e.type), ["send", "started"]); // START
 * assert.equal(handshake.state, "data");
 *
 * assert.equal(handshake.stop()[0]?.type, "send"); // STOP
 * decoder.push(encodeControlFrame(ControlType.FINISH));
 * assert.deepEqual(handshake.receive(decoder.next()!), [{ type: "finished" }]);
 * ```
 *
 * @module
 */
import { ControlType, MAX_WRITTEN_CONTROL_FRAME_LENGTH } from "./constants.ts";
import type { Frame } from "./frame.ts";
import { HandshakeError, type HandshakeErrorReason } from "./errors.ts";
import { encodeControlFrame } from "./encode.ts";
import { includesBytes, toContentTypeBytes } from "./_bytes.ts";
import { checkFrame, describeContentTypes as describe } from "./_handshake.ts";
import { CONTROL_NAMES } from "./_control.ts";
import type { ContentTypeOptions } from "./options.ts";

/**
 * Options of {@linkcode WriterHandshake}.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import { WriterHandshake, type WriterHandshakeOptions } from "@fstrm/fstrm/writer-handshake";
 * import assert from "node:assert/strict";
 *
 * const options: WriterHandshakeOptions = {
 *   contentTypes: [DNSTAP_CONTENT_TYPE],
 *   bidirectional: false,
 * };
 * const handshake = new WriterHandshake(options);
 * assert.deepEqual(handshake.start().map((e) => e.type), ["send", "started"]);
 * ```
 */
export interface WriterHandshakeOptions extends ContentTypeOptions {
  /**
   * Whether to run the bidirectional handshake (READY, ACCEPT, START; STOP,
   * FINISH), as on sockets, or only send START and STOP, as in files and as
   * Unbound does with `dnstap-bidirectional: no`.
   *
   * @default {true}
   */
  bidirectional?: boolean;
}

/**
 * What a {@linkcode WriterHandshake} asks the caller to do or tells it:
 *
 * - `"send"`: write `bytes` to the peer (READY, START or STOP).
 * - `"started"`: the data phase begins: the caller may now send data frames
 *   of `contentType` (`null` if START named none).
 * - `"finished"`: the stream is over (FINISH came, or STOP was sent in
 *   unidirectional mode); the caller closes the connection.
 * - `"failed"`: the peer broke the protocol; the caller closes the
 *   connection (and may reconnect and start over with a new handshake).
 *
 * @example
 * ```ts
 * import { WriterHandshake, type WriterEvent } from "@fstrm/fstrm/writer-handshake";
 * import assert from "node:assert/strict";
 *
 * const events: WriterEvent[] = new WriterHandshake().start();
 * assert.equal(events[0]?.type, "send");
 * ```
 */
export type WriterEvent =
  | {
    /** Always `"send"`. */
    readonly type: "send";
    /** The bytes to write to the peer (a new buffer). */
    readonly bytes: Uint8Array;
  }
  | {
    /** Always `"started"`. */
    readonly type: "started";
    /** The content type START named (a copy), or `null` if it named none. */
    readonly contentType: Uint8Array | null;
  }
  | {
    /** Always `"finished"`. */
    readonly type: "finished";
  }
  | {
    /** Always `"failed"`. */
    readonly type: "failed";
    /** What went wrong. */
    readonly error: HandshakeError;
  };

/**
 * Where a {@linkcode WriterHandshake} stands.
 *
 * - `"idle"`: `start()` not called yet.
 * - `"ready-sent"`: READY was sent; waiting for ACCEPT.
 * - `"data"`: START was sent; data frames may flow.
 * - `"stopping"`: STOP was sent; waiting for FINISH (bidirectional only).
 * - `"finished"`: the stream is over.
 * - `"failed"`: the peer broke the protocol.
 *
 * @example
 * ```ts
 * import { WriterHandshake, type WriterHandshakeState } from "@fstrm/fstrm/writer-handshake";
 * import assert from "node:assert/strict";
 *
 * const handshake = new WriterHandshake();
 * handshake.start();
 * const state: WriterHandshakeState = handshake.state;
 * assert.equal(state, "ready-sent");
 * ```
 */
export type WriterHandshakeState =
  | "idle"
  | "ready-sent"
  | "data"
  | "stopping"
  | "finished"
  | "failed";

/**
 * The writer's handshake state machine, for both modes:
 *
 * - bidirectional (sockets): we send READY → ACCEPT → we send START →
 *   data* → we send STOP → FINISH;
 * - unidirectional: we send START → data* → we send STOP, and expect
 *   nothing from the peer.
 *
 * Among several content types it picks its first that ACCEPT lists, even
 * when that is not its first overall (libfstrm 0.6.1 fails there; we do
 * not). Any frame out of place fails the handshake with a
 * {@linkcode HandshakeError}, after which `receive()` returns no events.
 * Once finished, `receive()` ignores frames and returns no events: the
 * stream is over and the caller is closing the connection. Control frames of
 * unknown type are ignored in every state, for forward compatibility.
 *
 * @example Picking the second content type
 * ```ts
 * import { ControlType } from "@fstrm/fstrm";
 * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
 * import assert from "node:assert/strict";
 *
 * const handshake = new WriterHandshake({ contentTypes: ["v2", "v1"] });
 * handshake.start();
 * const events = handshake.receive({
 *   kind: "control",
 *   type: ControlType.ACCEPT,
 *   contentTypes: [new TextEncoder().encode("v1")],
 *   offset: 0,
 * });
 * assert.deepEqual(events[1], {
 *   type: "started",
 *   contentType: new TextEncoder().encode("v1"),
 * });
 * ```
 */
export class WriterHandshake {
  #ours: Uint8Array[];
  #bidirectional: boolean;
  #state: WriterHandshakeState = "idle";
  #contentType: Uint8Array | null = null;

  /**
   * Makes a handshake; call {@linkcode WriterHandshake.prototype.start} once
   * connected.
   *
   * @param options Content types and mode; see
   * {@linkcode WriterHandshakeOptions}.
   * @throws {TypeError} If `options` is not an object, `contentTypes` not an
   * array, a content type neither a string nor a `Uint8Array`, or
   * `bidirectional` not a boolean.
   * @throws {RangeError} If a content type is over 256 bytes, or (in
   * bidirectional mode) a READY listing them all would be over 503 bytes of
   * payload.
   */
  constructor(options: WriterHandshakeOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create writer handshake: options must be an object, got ${
          options === null ? "null" : typeof options
        }`,
      );
    }
    const { contentTypes = [], bidirectional = true } = options;
    if (!Array.isArray(contentTypes)) {
      throw new TypeError(
        `Cannot create writer handshake: contentTypes must be an array, got ${typeof contentTypes}`,
      );
    }
    if (typeof bidirectional !== "boolean") {
      throw new TypeError(
        `Cannot create writer handshake: bidirectional must be a boolean, got ${typeof bidirectional}`,
      );
    }
    const ours: Uint8Array[] = [];
    for (const input of contentTypes) {
      const bytes = toContentTypeBytes(input);
      if (!includesBytes(ours, bytes)) ours.push(bytes.slice());
    }
    if (bidirectional) {
      let clen = 4;
      for (const t of ours) clen += 8 + t.length;
      if (clen > MAX_WRITTEN_CONTROL_FRAME_LENGTH) {
        throw new RangeError(
          `Cannot create writer handshake: a READY listing these ${ours.length} content types would be ${clen} bytes, limit ${MAX_WRITTEN_CONTROL_FRAME_LENGTH}`,
        );
      }
    }
    // START carries one content type of at most 256 bytes: 268 bytes at most.
    this.#ours = ours;
    this.#bidirectional = bidirectional;
  }

  /**
   * Where the handshake stands; see {@linkcode WriterHandshakeState}.
   *
   * @example
   * ```ts
   * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new WriterHandshake({ bidirectional: false });
   * assert.equal(handshake.state, "idle");
   * handshake.start();
   * assert.equal(handshake.state, "data");
   * ```
   */
  get state(): WriterHandshakeState {
    return this.#state;
  }

  /**
   * The content type START named (a copy), or `null` before START or if it
   * named none.
   *
   * @example
   * ```ts
   * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new WriterHandshake({ contentTypes: ["a", "b"], bidirectional: false });
   * assert.equal(handshake.contentType, null);
   * handshake.start();
   * assert.deepEqual(handshake.contentType, new TextEncoder().encode("a"));
   * ```
   */
  get contentType(): Uint8Array | null {
    return this.#contentType === null ? null : this.#contentType.slice();
  }

  /**
   * Opens the stream: bidirectional, sends READY listing all our content
   * types and waits for ACCEPT; unidirectional, sends START naming our first
   * content type (or none) and starts the data phase at once.
   *
   * @returns `[send READY]`, or `[send START, started]`.
   * @throws {TypeError} If called more than once.
   *
   * @example
   * ```ts
   * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new WriterHandshake();
   * const [ready] = handshake.start();
   * // READY with no content type: escape, length 4, type 4
   * assert.ok(ready?.type === "send");
   * assert.deepEqual([...ready.bytes], [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4]);
   * assert.throws(() => handshake.start(), TypeError);
   * ```
   */
  start(): WriterEvent[] {
    if (this.#state !== "idle") {
      throw new TypeError(
        `Cannot start handshake: start() was already called (state "${this.#state}")`,
      );
    }
    if (this.#bidirectional) {
      this.#state = "ready-sent";
      return [{
        type: "send",
        bytes: encodeControlFrame(ControlType.READY, this.#ours),
      }];
    }
    return this.#sendStart(this.#ours[0] ?? null);
  }

  /**
   * Handles one frame from the peer, in the order decoded. Only ACCEPT
   * (after READY) and FINISH (after STOP, bidirectional) belong here; any
   * other frame fails the handshake.
   *
   * @param frame A frame, as a {@linkcode FrameDecoder} delivers it.
   * @returns The events, in order: send the `"send"` bytes before acting on
   * what follows. Empty once failed or finished, and for control frames of
   * unknown type.
   * @throws {TypeError} If `frame` is not a {@linkcode Frame}.
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new WriterHandshake({ contentTypes: ["protobuf:dnstap.Dnstap"] });
   * handshake.start();
   * const [event] = handshake.receive({
   *   kind: "control",
   *   type: ControlType.ACCEPT,
   *   contentTypes: [new TextEncoder().encode("other")],
   *   offset: 0,
   * });
   * assert.ok(event?.type === "failed");
   * assert.equal(event.error.reason, "no-common-content-type");
   * assert.equal(handshake.state, "failed");
   * ```
   */
  receive(frame: Frame): WriterEvent[] {
    checkFrame(frame);
    const state = this.#state;
    if (state === "failed" || state === "finished") return [];
    if (frame.kind === "data") {
      return this.#fail(
        "unexpected-frame",
        "data frame received: a writer never receives data frames",
      );
    }
    const name = CONTROL_NAMES[frame.type];
    if (name === undefined) return [];
    switch (frame.type) {
      case ControlType.ACCEPT:
        if (state === "ready-sent") return this.#accept(frame.contentTypes);
        return this.#fail(
          "unexpected-frame",
          !this.#bidirectional
            ? "ACCEPT frame in a unidirectional stream"
            : state === "idle"
            ? "ACCEPT frame before READY was sent"
            : "ACCEPT frame received twice",
        );
      case ControlType.FINISH:
        if (state === "stopping") {
          this.#state = "finished";
          return [{ type: "finished" }];
        }
        return this.#fail("unexpected-frame", "FINISH frame before STOP");
      default:
        return this.#fail(
          "unexpected-frame",
          `${name} frame received: a writer never receives ${name}, only a reader does`,
        );
    }
  }

  /**
   * Ends the stream: sends STOP. Bidirectional, then waits for FINISH
   * (state `"stopping"`); unidirectional, the stream is finished at once.
   * Send every data frame before the STOP bytes.
   *
   * @returns `[send STOP]`, or `[send STOP, finished]`.
   * @throws {TypeError} Unless the state is `"data"`.
   *
   * @example
   * ```ts
   * import { WriterHandshake } from "@fstrm/fstrm/writer-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new WriterHandshake({ bidirectional: false });
   * handshake.start();
   * const events = handshake.stop();
   * assert.deepEqual(events.map((e) => e.type), ["send", "finished"]);
   * assert.throws(() => handshake.stop(), TypeError);
   * ```
   */
  stop(): WriterEvent[] {
    if (this.#state !== "data") {
      throw new TypeError(
        `Cannot stop handshake: stop() needs state "data", the state is "${this.#state}"`,
      );
    }
    const send: WriterEvent = {
      type: "send",
      bytes: encodeControlFrame(ControlType.STOP),
    };
    if (this.#bidirectional) {
      this.#state = "stopping";
      return [send];
    }
    this.#state = "finished";
    return [send, { type: "finished" }];
  }

  #accept(listed: readonly Uint8Array[]): WriterEvent[] {
    const ours = this.#ours;
    let chosen: Uint8Array | null;
    if (listed.length === 0) {
      chosen = ours[0] ?? null;
    } else if (ours.length === 0) {
      chosen = null;
    } else {
      chosen = ours.find((t) => includesBytes(listed, t)) ?? null;
      if (chosen === null) {
        return this.#fail(
          "no-common-content-type",
          `ACCEPT lists ${
            describe(listed)
          }, none of the content types we offered (${describe(ours)})`,
        );
      }
    }
    return this.#sendStart(chosen);
  }

  #sendStart(contentType: Uint8Array | null): WriterEvent[] {
    this.#contentType = contentType;
    this.#state = "data";
    return [
      {
        type: "send",
        bytes: encodeControlFrame(
          ControlType.START,
          contentType === null ? [] : [contentType],
        ),
      },
      {
        type: "started",
        contentType: contentType === null ? null : contentType.slice(),
      },
    ];
  }

  #fail(reason: HandshakeErrorReason, detail: string): WriterEvent[] {
    this.#state = "failed";
    return [{ type: "failed", error: new HandshakeError(reason, detail) }];
  }
}
