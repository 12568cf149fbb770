/**
 * A Web Streams encoder: payloads in, Frame Streams bytes out.
 *
 * @example Writing a dnstap file
 * ```ts
 * import { DNSTAP_CONTENT_TYPE, FrameEncoderStream } from "@fstrm/fstrm";
 *
 * const path = await Deno.makeTempFile();
 * using file = await Deno.open(path, { write: true });
 * await ReadableStream.from(["one", "two"])
 *   .pipeThrough(new FrameEncoderStream({ contentType: DNSTAP_CONTENT_TYPE }))
 *   .pipeTo(file.writable);
 * console.log((await Deno.stat(path)).size); // 42 + 7 + 7 + 12 = 68
 * await Deno.remove(path);
 * ```
 *
 * @module
 */
import { ControlType } from "./constants.ts";
import { encodeControlFrame, encodeDataFrame } from "./encode.ts";
import type { EncodeOptions } from "./options.ts";

/**
 * Frames each payload (string as UTF-8, or bytes) as a data frame; with a
 * `contentType`, wraps them in START and STOP so the output is a valid Frame
 * Streams file. Each output chunk is a new buffer. An empty payload errors
 * the stream with a `RangeError` (a zero length is the control escape).
 *
 * @example
 * ```ts
 * import { FrameEncoderStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const chunks = await Array.fromAsync(
 *   ReadableStream.from(["hi"]).pipeThrough(new FrameEncoderStream()),
 * );
 * assert.deepEqual([...chunks[0]!], [0, 0, 0, 2, 0x68, 0x69]);
 * ```
 */
export class FrameEncoderStream
  extends TransformStream<string | Uint8Array, Uint8Array> {
  /**
   * Makes the stream.
   *
   * @param options Whether to write START and STOP, and the content type.
   */
  constructor(options: EncodeOptions = {}) {
    const withControl = options.contentType !== undefined;
    const start = withControl
      ? encodeControlFrame(
        ControlType.START,
        options.contentType == null ? [] : [options.contentType],
      )
      : null;
    super({
      start(controller) {
        if (start !== null) controller.enqueue(start);
      },
      transform(payload, controller) {
        controller.enqueue(encodeDataFrame(payload));
      },
      flush(controller) {
        if (withControl) {
          controller.enqueue(encodeControlFrame(ControlType.STOP));
        }
      },
    });
  }
}
