/**
 * Numeric constants of the Frame Streams protocol and the limits of the C
 * reference implementation (fstrm 0.6.1). Import this subpath,
 * `@fstrm/fstrm/constants`, for the limits and field types, to size buffers
 * or check frames yourself; the root re-exports only `ControlType` and
 * `DNSTAP_CONTENT_TYPE`, the two that everyday code names.
 *
 * @example Checking a control frame's type
 * ```ts
 * import { ControlType } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ControlType.START, 2);
 * assert.equal(ControlType.FINISH, 5);
 * ```
 *
 * @module
 */

/**
 * Control frame types (the `ctype` word of a control frame).
 *
 * @example
 * ```ts
 * import { ControlType, encodeControlFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const stop = encodeControlFrame(ControlType.STOP);
 * assert.deepEqual([...stop], [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3]);
 * ```
 */
export const ControlType = {
  /** Sent by a reader in answer to READY, listing the content types it takes. */
  ACCEPT: 1,
  /** Opens a stream of data frames, with at most one content type. */
  START: 2,
  /** Ends a stream of data frames. */
  STOP: 3,
  /** Sent by a writer to open a bidirectional stream, listing its content types. */
  READY: 4,
  /** Sent by a reader in answer to STOP in a bidirectional stream. */
  FINISH: 5,
} as const;

/**
 * A known control frame type: one of the values of {@linkcode ControlType}.
 *
 * @example
 * ```ts
 * import { ControlType } from "@fstrm/fstrm";
 * import { type ControlTypeValue } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * const type: ControlTypeValue = ControlType.READY;
 * assert.equal(type, 4);
 * ```
 */
export type ControlTypeValue = typeof ControlType[keyof typeof ControlType];

/**
 * Field types of control frames. CONTENT_TYPE is the only one defined.
 *
 * @example
 * ```ts
 * import { FieldType } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(FieldType.CONTENT_TYPE, 1);
 * ```
 */
export const FieldType = {
  /** A content type, an opaque byte string of at most 256 bytes. */
  CONTENT_TYPE: 1,
} as const;

/**
 * The largest control frame payload (`clen`: the control type plus its
 * fields) a decoder accepts, as in the C reference.
 *
 * @example
 * ```ts
 * import { MAX_CONTROL_FRAME_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_CONTROL_FRAME_LENGTH, 512);
 * ```
 */
export const MAX_CONTROL_FRAME_LENGTH = 512;

/**
 * The smallest control frame payload: the control type word alone.
 *
 * @example
 * ```ts
 * import { MIN_CONTROL_FRAME_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MIN_CONTROL_FRAME_LENGTH, 4);
 * ```
 */
export const MIN_CONTROL_FRAME_LENGTH = 4;

/**
 * The largest control frame payload this library ever writes, so that
 * `fstrm_capture` (which accepts at most 503) takes every frame we send.
 *
 * @example
 * ```ts
 * import { MAX_WRITTEN_CONTROL_FRAME_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_WRITTEN_CONTROL_FRAME_LENGTH, 503);
 * ```
 */
export const MAX_WRITTEN_CONTROL_FRAME_LENGTH = 503;

/**
 * The longest content type, in bytes. An empty content type is legal.
 *
 * @example
 * ```ts
 * import { MAX_CONTENT_TYPE_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_CONTENT_TYPE_LENGTH, 256);
 * ```
 */
export const MAX_CONTENT_TYPE_LENGTH = 256;

/**
 * The default largest data frame payload a decoder accepts: 1 MiB, as the
 * libfstrm reader's default.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_FRAME_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_MAX_FRAME_LENGTH, 1_048_576);
 * ```
 */
export const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;

/**
 * The largest data frame length that can appear on the wire: 2^32 - 1.
 *
 * @example
 * ```ts
 * import { MAX_FRAME_LENGTH } from "@fstrm/fstrm/constants";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_FRAME_LENGTH, 0xffff_ffff);
 * ```
 */
export const MAX_FRAME_LENGTH = 0xffff_ffff;

/**
 * The content type of dnstap: `protobuf:dnstap.Dnstap`.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DNSTAP_CONTENT_TYPE.length, 22);
 * ```
 */
export const DNSTAP_CONTENT_TYPE = "protobuf:dnstap.Dnstap";
