/**
 * Frame Streams, the binary framing protocol under dnstap: a portable core
 * for Deno, Node (22 and later) and Bun.
 *
 * Encode and decode data and control frames, decode streams incrementally
 * (sans I/O) or as Web Streams, read frames from any source with
 * `FrameReader`, and run a connection for either role, sans I/O, with
 * `ReaderSession` and `WriterSession` (handshake, phase rules, deadlines).
 * Nothing exported here needs a Deno API, so the same code runs on all three
 * runtimes, with the WebAssembly scan engine wherever WebAssembly is there.
 *
 * Permissions: none. It works on bytes and streams you hand it; opening
 * files and sockets is for the Deno subpaths (`./file`, `./frame-receiver`,
 * `./frame-writer`), whose docs give the exact flags.
 *
 * The root holds what most programs use; the rest has a subpath export of
 * its own: `@fstrm/fstrm/constants` (the protocol's limits and field types),
 * `@fstrm/fstrm/errors` (the error classes and their reason types),
 * `@fstrm/fstrm/reader-handshake` and `@fstrm/fstrm/writer-handshake` (the
 * bare handshakes under the sessions). What needs Deno's sockets and files
 * lives behind its own subpath too: `@fstrm/fstrm/frame-receiver`
 * (`FrameReceiver`, a collector that listens), `@fstrm/fstrm/frame-writer`
 * (`FrameWriter`, a client that connects) and `@fstrm/fstrm/cli` (the `fstrm`
 * command).
 *
 * @example Encoding a dnstap stream and decoding it back
 * ```ts
 * import { decodeFrames, DNSTAP_CONTENT_TYPE, encodeFrameStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["hello", "world"], {
 *   contentType: DNSTAP_CONTENT_TYPE,
 * });
 * const payloads = decodeFrames(bytes)
 *   .flatMap((f) => f.kind === "data" ? [new TextDecoder().decode(f.data)] : []);
 * assert.deepEqual(payloads, ["hello", "world"]);
 * ```
 *
 * @module
 */
// The root's export list is a decision: tests/portable/root_exports_test.ts
// holds it, and a name added to a module reaches the root only when added
// here.
export { ControlType, DNSTAP_CONTENT_TYPE } from "./src/constants.ts";
export type {
  ContentTypeInput,
  ControlFrame,
  DataFrame,
  Frame,
} from "./src/frame.ts";
export {
  ControlFrameError,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  SessionTimeoutError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "./src/errors.ts";
export type {
  ContentTypeOptions,
  DecodeOptions,
  EncodeOptions,
  OversizePolicy,
} from "./src/options.ts";
export type { DataCallback, RunCallback } from "./src/callbacks.ts";
export {
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
} from "./src/encode.ts";
export {
  decodeFrames,
  FrameDecoder,
  type FrameDecoderOptions,
  type PartialFrame,
} from "./src/frame_decoder.ts";
export { decodeControlFrame } from "./src/decode_control_frame.ts";
export { FrameDecoderStream } from "./src/frame_decoder_stream.ts";
export { FrameEncoderStream } from "./src/frame_encoder_stream.ts";
export {
  ReaderSession,
  type ReaderSessionEvent,
  type ReaderSessionOptions,
  type ReaderSessionState,
} from "./src/reader_session.ts";
export {
  WriterSession,
  type WriterSessionEvent,
  type WriterSessionOptions,
  type WriterSessionState,
} from "./src/writer_session.ts";
export {
  type Engine,
  type EngineOption,
  isWasmAvailable,
} from "./src/engine.ts";
export {
  FrameReader,
  type FrameReaderOptions,
  type FrameReaderSummary,
  type FrameSource,
} from "./src/frame_reader.ts";
