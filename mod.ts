/**
 * Frame Streams, the binary framing protocol under dnstap: a portable core
 * for Deno, Node (22 and later) and Bun.
 *
 * Encode and decode data and control frames, decode streams incrementally
 * (sans I/O) or as Web Streams, read frames from any source with
 * `FrameReader`, and run the READY / ACCEPT / START / STOP / FINISH handshake
 * for either role. Nothing exported here needs a Deno API, so the same code
 * runs on all three runtimes, with the WebAssembly scan engine wherever
 * WebAssembly is there.
 *
 * What needs Deno's sockets and files lives behind its own subpath export:
 * `@fstrm/fstrm/frame-receiver` (`FrameReceiver`, a collector that listens),
 * `@fstrm/fstrm/frame-writer` (`FrameWriter`, a client that connects) and
 * `@fstrm/fstrm/cli` (the `fstrm` command).
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
export * from "./src/constants.ts";
export * from "./src/frame.ts";
export * from "./src/errors.ts";
export * from "./src/encode.ts";
export * from "./src/frame_decoder.ts";
export * from "./src/decode_control_frame.ts";
export * from "./src/frame_decoder_stream.ts";
export * from "./src/frame_encoder_stream.ts";
export * from "./src/reader_handshake.ts";
export * from "./src/reader_session.ts";
export * from "./src/writer_handshake.ts";
export * from "./src/writer_session.ts";
export * from "./src/engine.ts";
export * from "./src/frame_reader.ts";
