/**
 * The frames a decoder delivers.
 *
 * @example
 * ```ts
 * import type { Frame } from "@fstrm/fstrm/frame";
 * import { decodeFrames, encodeDataFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const frames: Frame[] = decodeFrames(encodeDataFrame("hi"));
 * assert.equal(frames[0]?.kind, "data");
 * ```
 *
 * @module
 */

/**
 * A data frame: one opaque payload (for dnstap, one protobuf message).
 *
 * @example
 * ```ts
 * import type { DataFrame } from "@fstrm/fstrm";
 *
 * const frame: DataFrame = {
 *   kind: "data",
 *   data: new TextEncoder().encode("hello"),
 *   offset: 0,
 * };
 * console.log(frame.data.length);
 * ```
 */
export interface DataFrame {
  /** Always `"data"`. */
  readonly kind: "data";
  /**
   * The payload. A decoder hands out a view of the caller's chunk when the
   * frame lies inside one chunk, and a fresh buffer when it spans chunks.
   */
  readonly data: Uint8Array;
  /** Byte offset of the frame (its length word) in the stream. */
  readonly offset: number;
}

/**
 * A control frame: one of READY, ACCEPT, START, STOP, FINISH, with its
 * content types (copies, never views of the input).
 *
 * @example
 * ```ts
 * import { ControlType, type ControlFrame } from "@fstrm/fstrm";
 *
 * const frame: ControlFrame = {
 *   kind: "control",
 *   type: ControlType.STOP,
 *   contentTypes: [],
 *   offset: 0,
 * };
 * console.log(frame.type);
 * ```
 */
export interface ControlFrame {
  /** Always `"control"`. */
  readonly kind: "control";
  /** The control type, one of {@linkcode ControlType}'s values. */
  readonly type: number;
  /** The content type fields, in wire order. Opaque bytes. */
  readonly contentTypes: Uint8Array[];
  /** Byte offset of the frame (its escape word) in the stream. */
  readonly offset: number;
}

/**
 * Any frame a decoder delivers.
 *
 * @example
 * ```ts
 * import type { Frame } from "@fstrm/fstrm";
 *
 * function describe(frame: Frame): string {
 *   return frame.kind === "data"
 *     ? `data, ${frame.data.length} bytes`
 *     : `control ${frame.type}`;
 * }
 * console.log(describe({ kind: "control", type: 3, contentTypes: [], offset: 0 }));
 * ```
 */
export type Frame = DataFrame | ControlFrame;

/**
 * What a content type may be given as: a string (encoded as UTF-8) or bytes.
 *
 * @example
 * ```ts
 * import type { ContentTypeInput } from "@fstrm/fstrm";
 *
 * const types: ContentTypeInput[] = ["protobuf:dnstap.Dnstap", new Uint8Array([0])];
 * console.log(types.length);
 * ```
 */
export type ContentTypeInput = string | Uint8Array;

// An ES module syntax node: type stripping (Node) leaves a file of types
// alone empty, and Node would load it as CommonJS, leaking "module.exports"
// into the root namespace.
export {};
