/**
 * The options several APIs share, each field documented once:
 * {@linkcode DecodeOptions} (with {@linkcode OversizePolicy}) for whatever
 * decodes data frames,
 * {@linkcode ContentTypeOptions} for whatever runs a handshake, and
 * {@linkcode EncodeOptions} for the encoders. The options of each API extend
 * these.
 *
 * @example
 * ```ts
 * import type { ContentTypeOptions, DecodeOptions } from "@fstrm/fstrm";
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 *
 * // What a dnstap collector decodes, and what it accepts.
 * const decoding: DecodeOptions = { maxFrameLength: 131_072, oversize: "skip" };
 * const accepting: ContentTypeOptions = { contentTypes: [DNSTAP_CONTENT_TYPE] };
 * console.log({ ...decoding, ...accepting });
 * ```
 *
 * @module
 */
import type { EngineOption } from "./engine.ts";
import type { ContentTypeInput } from "./frame.ts";

/**
 * What to do with a data frame longer than `maxFrameLength`:
 *
 * - `"error"`: fail with a {@linkcode FrameTooLargeError} (a session or a
 *   connection closes).
 * - `"skip"`: discard it without buffering it, count it in
 *   `oversizedFrames`, and go on, as `fstrm_capture` does.
 *
 * Either way, input that is not Frame Streams at all (its first word is an
 * absurd length and its first bytes look like text, HTTP, TLS or a 2-byte
 * length and protobuf) is a {@linkcode NotFrameStreamsError}.
 *
 * @example Telling a text file from a stream with a long frame
 * ```ts
 * import { decodeFrames, NotFrameStreamsError, type OversizePolicy } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const policy: OversizePolicy = "skip";
 * const text = new TextEncoder().encode("hello, world\n");
 * assert.throws(
 *   () => decodeFrames(text, { oversize: policy }),
 *   (e) => e instanceof NotFrameStreamsError && e.offset === 0,
 * );
 * ```
 */
export type OversizePolicy = "error" | "skip";

/**
 * How data frames are decoded: their size limit, what a longer one costs,
 * and the scan engine. Extended by the options of `FrameDecoder`,
 * `FrameReader`, `ReaderSession` and `FrameReceiver`.
 *
 * @example
 * ```ts
 * import { type DecodeOptions, ReaderSession } from "@fstrm/fstrm";
 *
 * const decoding: DecodeOptions = { maxFrameLength: 65_536, oversize: "skip" };
 * const session = new ReaderSession({ ...decoding, now: 0 });
 * console.log(session.state); // "waiting"
 * ```
 */
export interface DecodeOptions {
  /**
   * The longest data frame payload accepted, in bytes: an integer from 1 to
   * 4,294,967,295. Real dnstap frames reach about 56 KB, so a limit under
   * about 66 KB loses real traffic.
   *
   * @default {1048576}
   */
  maxFrameLength?: number;
  /**
   * What to do with a longer data frame (see {@linkcode OversizePolicy}):
   * `"error"` fails (a `FrameTooLargeError`; a session or connection
   * closes), `"skip"` discards it without buffering it, counts it in
   * `oversizedFrames`, and goes on, as `fstrm_capture` does.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
  /**
   * The scan engine. `"auto"` takes the one measured faster for the job
   * (each class's doc says which; see docs/benchmarks.md); `"ts"` and
   * `"wasm"` insist on one, and `"wasm"` throws where WebAssembly cannot
   * load.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
}

/**
 * The content types a handshake uses. Extended by the options of the
 * handshakes, the sessions, `FrameReceiver` and `FrameWriter`.
 *
 * @example
 * ```ts
 * import { type ContentTypeOptions, DNSTAP_CONTENT_TYPE, WriterSession } from "@fstrm/fstrm";
 *
 * const types: ContentTypeOptions = { contentTypes: [DNSTAP_CONTENT_TYPE] };
 * console.log(new WriterSession(types).state); // "idle"
 * ```
 */
export interface ContentTypeOptions {
  /**
   * The content types, as strings (UTF-8) or bytes, compared as opaque
   * bytes (a NUL byte is an ordinary byte; the empty content type is a value
   * of its own); duplicates are dropped. A reader accepts these (empty: any
   * content type): a READY offering none of them is refused (no ACCEPT), as
   * is a START naming another one. A writer can write these, most preferred
   * first: READY offers them all and START names the first one ACCEPT lists
   * (unidirectionally: the first one; empty: START names none). A READY or
   * ACCEPT listing them all must stay within 503 bytes of payload, so that
   * `fstrm_capture`-style peers take it.
   *
   * @default {[]} (`FrameWriter`: `["protobuf:dnstap.Dnstap"]`)
   */
  contentTypes?: readonly ContentTypeInput[];
}

/**
 * Options of the encoders, `encodeFrameStream` and `FrameEncoderStream`.
 *
 * @example
 * ```ts
 * import { encodeFrameStream, type EncodeOptions } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const options: EncodeOptions = { contentType: "protobuf:dnstap.Dnstap" };
 * assert.equal(encodeFrameStream(["x"], options).length, 42 + 5 + 12);
 * ```
 */
export interface EncodeOptions {
  /**
   * The content type of the START frame, as a string (UTF-8) or bytes;
   * `null`: a START frame with none. `encodeFrameStream` always writes
   * START and STOP (left out: as `null`); `FrameEncoderStream` writes them
   * only when this is given (left out: data frames only).
   *
   * @default {undefined}
   */
  contentType?: ContentTypeInput | null;
}
