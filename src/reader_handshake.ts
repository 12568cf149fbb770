/**
 * The reader's side of the Frame Streams handshake, sans I/O: the collector
 * that listens, and a DNS server (the writer) that connects to it.
 *
 * Feed it the frames a {@linkcode FrameDecoder} decodes from the connection;
 * it answers with events: bytes to send back, the start of the stream, data
 * frames, its end, or a failure after which the caller closes the connection.
 * It has no timers: timeouts are the socket layer's job.
 *
 * This subpath, `@fstrm/fstrm/reader-handshake`, is the bare handshake, for
 * a caller that decodes frames itself (its content types stay bytes, as on
 * the wire). Most callers want {@linkcode ReaderSession} from the root: the
 * handshake with the decoder, the phase rules and the deadlines.
 *
 * @example A bidirectional session
 * ```ts
 * import { ControlType, DNSTAP_CONTENT_TYPE, encodeControlFrame, encodeDataFrame, FrameDecoder } from "@fstrm/fstrm";
 * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
 * import assert from "node:assert/strict";
 *
 * const handshake = new ReaderHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
 * const decoder = new FrameDecoder();
 * decoder.push(encodeControlFrame(ControlType.READY, [DNSTAP_CONTENT_TYPE]));
 * decoder.push(encodeControlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]));
 * decoder.push(encodeDataFrame("hello"));
 * decoder.push(encodeControlFrame(ControlType.STOP));
 * const types: string[] = [];
 * for (let f = decoder.next(); f !== null; f = decoder.next()) {
 *   for (const event of handshake.receive(f)) types.push(event.type);
 * }
 * // ACCEPT, the stream starts, one data frame, FINISH, the stream ends
 * assert.deepEqual(types, ["send", "started", "data", "send", "stopped"]);
 * ```
 *
 * @module
 */
import {
  ControlType,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_WRITTEN_CONTROL_FRAME_LENGTH,
} from "./constants.ts";
import type { Frame } from "./frame.ts";
import { HandshakeError, type HandshakeErrorReason } from "./errors.ts";
import { encodeControlFrame } from "./encode.ts";
import { includesBytes, printable, toContentTypeBytes } from "./_bytes.ts";
import { checkFrame, describeContentTypes as describe } from "./_handshake.ts";
import { CONTROL_NAMES } from "./_control.ts";
import type { ContentTypeOptions } from "./options.ts";

/**
 * Options of {@linkcode ReaderHandshake}.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import { ReaderHandshake, type ReaderHandshakeOptions } from "@fstrm/fstrm/reader-handshake";
 * import assert from "node:assert/strict";
 *
 * const options: ReaderHandshakeOptions = { contentTypes: [DNSTAP_CONTENT_TYPE] };
 * const handshake = new ReaderHandshake(options);
 * assert.equal(handshake.state, "waiting");
 * ```
 */
export interface ReaderHandshakeOptions extends ContentTypeOptions {
}

/**
 * What {@linkcode ReaderHandshake.prototype.receive} asks the caller to do or
 * tells it:
 *
 * - `"send"`: write `bytes` to the peer (ACCEPT or FINISH).
 * - `"started"`: the stream of data frames begins, in `mode`, with the
 *   content type START named (`null` if it named none).
 * - `"data"`: one data frame's payload (the decoder's buffer, not a copy).
 * - `"stopped"`: the peer sent STOP; any FINISH has been asked for just
 *   before. The caller closes the connection.
 * - `"failed"`: the peer broke the protocol; the caller closes the
 *   connection. Nothing was sent for the offending frame.
 *
 * @example
 * ```ts
 * import { ReaderHandshake, type ReaderEvent } from "@fstrm/fstrm/reader-handshake";
 * import assert from "node:assert/strict";
 *
 * const events: ReaderEvent[] = new ReaderHandshake().receive({
 *   kind: "data",
 *   data: new Uint8Array([1]),
 *   offset: 0,
 * });
 * assert.equal(events[0]?.type, "failed");
 * ```
 */
export type ReaderEvent =
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
    /** The content type START named, or `null` if it named none. */
    readonly contentType: Uint8Array | null;
  }
  | {
    /** Always `"data"`. */
    readonly type: "data";
    /** The data frame's payload, as the frame holds it (not a copy). */
    readonly data: Uint8Array;
  }
  | {
    /** Always `"stopped"`. */
    readonly type: "stopped";
  }
  | {
    /** Always `"failed"`. */
    readonly type: "failed";
    /** What went wrong. */
    readonly error: HandshakeError;
  };

/**
 * Where a {@linkcode ReaderHandshake} stands.
 *
 * - `"waiting"`: no frame yet.
 * - `"accepted"`: READY came and ACCEPT was sent; waiting for START.
 * - `"data"`: START came; data frames flow until STOP.
 * - `"stopped"`: STOP came (and FINISH was sent if bidirectional).
 * - `"failed"`: the peer broke the protocol.
 *
 * @example
 * ```ts
 * import { ReaderHandshake, type ReaderHandshakeState } from "@fstrm/fstrm/reader-handshake";
 * import assert from "node:assert/strict";
 *
 * const state: ReaderHandshakeState = new ReaderHandshake().state;
 * assert.equal(state, "waiting");
 * ```
 */
export type ReaderHandshakeState =
  | "waiting"
  | "accepted"
  | "data"
  | "stopped"
  | "failed";

/**
 * The reader's handshake state machine, for both modes:
 *
 * - bidirectional (sockets): READY → we send ACCEPT → START → data* → STOP →
 *   we send FINISH;
 * - unidirectional (files, or writers configured so): START → data* → STOP,
 *   and we send nothing.
 *
 * The first frame decides the mode. Content types are compared as bytes.
 * Any frame out of place fails the handshake with a
 * {@linkcode HandshakeError}, after which `receive()` returns no events.
 * Control frames of unknown type are ignored in every state, for forward
 * compatibility (a {@linkcode FrameDecoder} already skips them).
 *
 * @example A unidirectional stream: no ACCEPT, no FINISH
 * ```ts
 * import { ControlType } from "@fstrm/fstrm";
 * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
 * import assert from "node:assert/strict";
 *
 * const handshake = new ReaderHandshake({ contentTypes: ["test"] });
 * const start = handshake.receive({
 *   kind: "control",
 *   type: ControlType.START,
 *   contentTypes: [new TextEncoder().encode("test")],
 *   offset: 0,
 * });
 * assert.equal(start[0]?.type, "started");
 * assert.equal(handshake.mode, "unidirectional");
 * const stop = handshake.receive({
 *   kind: "control",
 *   type: ControlType.STOP,
 *   contentTypes: [],
 *   offset: 30,
 * });
 * assert.deepEqual(stop, [{ type: "stopped" }]);
 * ```
 */
export class ReaderHandshake {
  #ours: Uint8Array[];
  #state: ReaderHandshakeState = "waiting";
  #mode: "bidirectional" | "unidirectional" | null = null;
  #accepted: Uint8Array[] = [];
  #contentType: Uint8Array | null = null;

  /**
   * Makes a handshake waiting for the peer's first frame.
   *
   * @param options The content types we accept; see
   * {@linkcode ReaderHandshakeOptions}.
   * @throws {TypeError} If `options` is not an object, `contentTypes` not an
   * array, or a content type neither a string nor a `Uint8Array`.
   * @throws {RangeError} If a content type is over 256 bytes, or an ACCEPT
   * listing them all would be over 503 bytes of payload.
   */
  constructor(options: ReaderHandshakeOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create reader handshake: options must be an object, got ${
          options === null ? "null" : typeof options
        }`,
      );
    }
    const { contentTypes = [] } = options;
    if (!Array.isArray(contentTypes)) {
      throw new TypeError(
        `Cannot create reader handshake: contentTypes must be an array, got ${typeof contentTypes}`,
      );
    }
    const ours: Uint8Array[] = [];
    for (const input of contentTypes) {
      const bytes = toContentTypeBytes(input);
      if (!includesBytes(ours, bytes)) ours.push(bytes.slice());
    }
    const clen = controlLength(ours);
    if (clen > MAX_WRITTEN_CONTROL_FRAME_LENGTH) {
      throw new RangeError(
        `Cannot create reader handshake: an ACCEPT listing these ${ours.length} content types would be ${clen} bytes, limit ${MAX_WRITTEN_CONTROL_FRAME_LENGTH}`,
      );
    }
    this.#ours = ours;
  }

  /**
   * Where the handshake stands; see {@linkcode ReaderHandshakeState}.
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new ReaderHandshake();
   * handshake.receive({ kind: "control", type: ControlType.READY, contentTypes: [], offset: 0 });
   * assert.equal(handshake.state, "accepted");
   * ```
   */
  get state(): ReaderHandshakeState {
    return this.#state;
  }

  /**
   * The mode the first frame chose: `"bidirectional"` after READY,
   * `"unidirectional"` after START, `null` before (or after a data frame
   * came first).
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new ReaderHandshake();
   * assert.equal(handshake.mode, null);
   * handshake.receive({ kind: "control", type: ControlType.READY, contentTypes: [], offset: 0 });
   * assert.equal(handshake.mode, "bidirectional");
   * ```
   */
  get mode(): "bidirectional" | "unidirectional" | null {
    return this.#mode;
  }

  /**
   * The content type START named (a copy), or `null` before START or if it
   * named none. With no content type on START, the stream's content type is
   * whatever the peers agreed outside the handshake (in bidirectional mode,
   * one of {@linkcode ReaderHandshake.prototype.acceptedContentTypes}).
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new ReaderHandshake();
   * const dnstap = new TextEncoder().encode("protobuf:dnstap.Dnstap");
   * handshake.receive({ kind: "control", type: ControlType.START, contentTypes: [dnstap], offset: 0 });
   * assert.deepEqual(handshake.contentType, dnstap);
   * ```
   */
  get contentType(): Uint8Array | null {
    return this.#contentType === null ? null : this.#contentType.slice();
  }

  /**
   * The content types our ACCEPT listed (copies, in the order sent): empty
   * before READY, in unidirectional mode, or if ACCEPT listed none (both
   * sides take any content type).
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
   * import assert from "node:assert/strict";
   *
   * const bytes = (s: string) => new TextEncoder().encode(s);
   * const handshake = new ReaderHandshake({ contentTypes: ["a", "b", "c"] });
   * handshake.receive({
   *   kind: "control",
   *   type: ControlType.READY,
   *   contentTypes: [bytes("c"), bytes("x"), bytes("a")],
   *   offset: 0,
   * });
   * // ours that READY offers, in our order
   * assert.deepEqual(handshake.acceptedContentTypes, [bytes("a"), bytes("c")]);
   * ```
   */
  get acceptedContentTypes(): Uint8Array[] {
    return this.#accepted.map((t) => t.slice());
  }

  /**
   * Handles one frame from the peer, in the order decoded.
   *
   * @param frame A frame, as a {@linkcode FrameDecoder} delivers it.
   * @returns The events, in order: send the `"send"` bytes to the peer before
   * acting on what follows. Empty once failed, and for control frames of
   * unknown type.
   * @throws {TypeError} If `frame` is not a {@linkcode Frame}.
   *
   * @example
   * ```ts
   * import { ControlType } from "@fstrm/fstrm";
   * import { ReaderHandshake } from "@fstrm/fstrm/reader-handshake";
   * import assert from "node:assert/strict";
   *
   * const handshake = new ReaderHandshake({ contentTypes: ["protobuf:dnstap.Dnstap"] });
   * const events = handshake.receive({
   *   kind: "control",
   *   type: ControlType.READY,
   *   contentTypes: [new TextEncoder().encode("other")],
   *   offset: 0,
   * });
   * assert.equal(events.length, 1); // no ACCEPT is sent
   * const [event] = events;
   * assert.ok(event?.type === "failed");
   * assert.equal(event.error.reason, "no-common-content-type");
   * ```
   */
  receive(frame: Frame): ReaderEvent[] {
    checkFrame(frame);
    if (this.#state === "failed") return [];
    if (frame.kind === "data") {
      if (this.#state === "data") return [{ type: "data", data: frame.data }];
      return this.#fail(
        "unexpected-frame",
        this.#state === "stopped"
          ? "data frame after STOP"
          : "data frame before START",
      );
    }
    const name = CONTROL_NAMES[frame.type];
    if (name === undefined) return [];
    if (this.#state === "stopped") {
      return this.#fail("unexpected-frame", `${name} frame after STOP`);
    }
    switch (frame.type) {
      case ControlType.READY:
        if (this.#state === "waiting") return this.#ready(frame.contentTypes);
        return this.#fail(
          "unexpected-frame",
          this.#state === "accepted"
            ? "READY frame received twice"
            : "READY frame after START",
        );
      case ControlType.START:
        if (this.#state === "data") {
          return this.#fail("unexpected-frame", "START frame received twice");
        }
        return this.#start(frame.contentTypes);
      case ControlType.STOP:
        if (this.#state !== "data") {
          return this.#fail("unexpected-frame", "STOP frame before START");
        }
        return this.#stop();
      default:
        return this.#fail(
          "unexpected-frame",
          `${name} frame received: a reader never receives ${name}, only a writer does`,
        );
    }
  }

  #ready(offered: readonly Uint8Array[]): ReaderEvent[] {
    this.#mode = "bidirectional";
    const ours = this.#ours;
    let matched: Uint8Array[];
    if (ours.length === 0) {
      matched = echo(offered);
    } else if (offered.length === 0) {
      matched = ours;
    } else {
      matched = ours.filter((t) => includesBytes(offered, t));
      if (matched.length === 0) {
        return this.#fail(
          "no-common-content-type",
          `READY offers ${describe(offered)}, none of which we accept (${
            describe(ours)
          })`,
        );
      }
    }
    this.#accepted = matched;
    this.#state = "accepted";
    return [{
      type: "send",
      bytes: encodeControlFrame(ControlType.ACCEPT, matched),
    }];
  }

  #start(named: readonly Uint8Array[]): ReaderEvent[] {
    const bidirectional = this.#state === "accepted";
    if (!bidirectional) this.#mode = "unidirectional";
    if (named.length > 1) {
      return this.#fail(
        "unexpected-frame",
        `START frame carries ${named.length} content types, at most 1 is allowed`,
      );
    }
    const contentType = named[0] ?? null;
    const allowed = bidirectional ? this.#accepted : this.#ours;
    if (
      contentType !== null && allowed.length > 0 &&
      !includesBytes(allowed, contentType)
    ) {
      return this.#fail(
        "content-type-mismatch",
        `START names content type ${printable(contentType)}, which ${
          bidirectional ? "our ACCEPT did not list" : "we do not accept"
        } (${describe(allowed)})`,
      );
    }
    this.#contentType = contentType === null ? null : contentType.slice();
    this.#state = "data";
    return [{
      type: "started",
      mode: bidirectional ? "bidirectional" : "unidirectional",
      contentType: this.#contentType === null
        ? null
        : this.#contentType.slice(),
    }];
  }

  #stop(): ReaderEvent[] {
    this.#state = "stopped";
    if (this.#mode === "bidirectional") {
      return [
        { type: "send", bytes: encodeControlFrame(ControlType.FINISH) },
        { type: "stopped" },
      ];
    }
    return [{ type: "stopped" }];
  }

  #fail(reason: HandshakeErrorReason, detail: string): ReaderEvent[] {
    this.#state = "failed";
    return [{ type: "failed", error: new HandshakeError(reason, detail) }];
  }
}

/** Payload length (`clen`) of a control frame listing `types`. */
function controlLength(types: readonly Uint8Array[]): number {
  let clen = 4;
  for (const t of types) clen += 8 + t.length;
  return clen;
}

/**
 * The ACCEPT list when we take any content type: READY's types, without
 * duplicates, in READY's order (the writer's preference), as many as fit in
 * a frame we may write.
 */
function echo(offered: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let clen = 4;
  for (const t of offered) {
    if (t.length > MAX_CONTENT_TYPE_LENGTH || includesBytes(out, t)) continue;
    if (clen + 8 + t.length > MAX_WRITTEN_CONTROL_FRAME_LENGTH) break;
    clen += 8 + t.length;
    out.push(t.slice());
  }
  return out;
}
