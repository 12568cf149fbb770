/**
 * A Web Streams decoder: bytes in, frames out.
 *
 * @example Decoding a file
 * ```ts
 * import { encodeFrameStream, FrameDecoderStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["a", "b"], { contentType: "t" }));
 * using file = await Deno.open(path);
 * let data = 0;
 * for await (const frame of file.readable.pipeThrough(new FrameDecoderStream())) {
 *   if (frame.kind === "data") data++;
 * }
 * assert.equal(data, 2);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */
import type { Frame } from "./frame.ts";
import type { Engine } from "./engine.ts";
import { FrameDecoder, type FrameDecoderOptions } from "./frame_decoder.ts";

/**
 * Decodes a byte stream into {@linkcode Frame}s, as a transform stream built
 * on {@linkcode FrameDecoder} (and with its engine under `"auto"`:
 * TypeScript).
 *
 * Use this to decode frames inside a Web Streams pipeline (`pipeThrough`).
 *
 * Unlike a plain `TransformStream`, which throws away the frames still queued
 * when it errors, this one delivers every complete frame before it reports an
 * error: the readable side errors only once the frames decoded before the
 * fault have been read. It decodes a chunk only when the reader asks for
 * frames, so a slow reader slows the writer (at most two chunks are held).
 *
 * Data frames are views of the input chunks when they lie inside one chunk.
 * Counters and the content type are readable while and after it runs.
 *
 * @example
 * ```ts
 * import { encodeFrameStream, FrameDecoderStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream(["hello"], { contentType: "protobuf:dnstap.Dnstap" });
 * const decoder = new FrameDecoderStream();
 * const frames = await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(decoder));
 * assert.equal(frames.length, 3);
 * assert.ok(decoder.stopped);
 * ```
 */
export class FrameDecoderStream implements TransformStream<Uint8Array, Frame> {
  #decoder: FrameDecoder;
  #readable: ReadableStream<Frame>;
  #writable: WritableStream<Uint8Array>;

  /**
   * Makes the stream.
   *
   * @param options Limits and policies; see {@linkcode FrameDecoderOptions}.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const decoder = new FrameDecoder(options);
    this.#decoder = decoder;
    // The write whose chunk the decoder holds, released once it is consumed.
    let pendingWrite: { resolve(): void; reject(e: unknown): void } | null =
      null;
    // The pull waiting for input.
    let inputArrived: (() => void) | null = null;
    let failure: { error: unknown } | null = null;
    let ended = false;
    let readController!: ReadableStreamDefaultController<Frame>;

    const releaseWrite = (error?: { error: unknown }): void => {
      const write = pendingWrite;
      pendingWrite = null;
      if (write === null) return;
      if (error) write.reject(error.error);
      else write.resolve();
    };
    const wakeReader = (): void => {
      const wake = inputArrived;
      inputArrived = null;
      wake?.();
    };
    const fail = (error: unknown): void => {
      if (failure !== null) return;
      failure = { error };
      releaseWrite(failure);
      wakeReader();
    };

    this.#readable = new ReadableStream<Frame>({
      start(controller) {
        readController = controller;
      },
      async pull(controller) {
        for (;;) {
          if (failure !== null) return;
          let delivered = false;
          try {
            for (let f = decoder.next(); f !== null; f = decoder.next()) {
              controller.enqueue(f);
              delivered = true;
            }
          } catch (error) {
            // Frames enqueued in this pull are read first; the decoder
            // throws the same error again on the next pull.
            if (delivered) return;
            controller.error(error);
            fail(error);
            return;
          }
          if (ended) {
            controller.close();
            return;
          }
          // The decoder has consumed its input: let the writer go on.
          releaseWrite();
          if (delivered) return;
          await new Promise<void>((resolve) => inputArrived = resolve);
        }
      },
      cancel(reason) {
        fail(
          reason ??
            new TypeError("Cannot decode: the readable side was cancelled"),
        );
      },
    }, { highWaterMark: 0 });

    this.#writable = new WritableStream<Uint8Array>({
      write(chunk) {
        if (failure !== null) throw failure.error;
        try {
          decoder.push(chunk);
        } catch (error) {
          readController.error(error);
          fail(error);
          throw error;
        }
        return new Promise<void>((resolve, reject) => {
          pendingWrite = { resolve, reject };
          wakeReader();
        });
      },
      close() {
        if (failure !== null) throw failure.error;
        decoder.end();
        ended = true;
        wakeReader();
      },
      abort(reason) {
        if (failure === null) readController.error(reason);
        fail(reason);
      },
    });
  }

  /**
   * The readable side: frames.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * const stream = new FrameDecoderStream();
   * console.log(stream.readable instanceof ReadableStream); // true
   * ```
   */
  get readable(): ReadableStream<Frame> {
    return this.#readable;
  }

  /**
   * The writable side: bytes.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * const stream = new FrameDecoderStream();
   * console.log(stream.writable instanceof WritableStream); // true
   * ```
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable;
  }

  /**
   * The content type of the last START frame, or `null`.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().contentType); // null
   * ```
   */
  get contentType(): Uint8Array | null {
    return this.#decoder.contentType;
  }

  /**
   * Whether the stream's STOP frame has been seen.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().stopped); // false
   * ```
   */
  get stopped(): boolean {
    return this.#decoder.stopped;
  }

  /**
   * Data frames decoded so far.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().frames); // 0
   * ```
   */
  get frames(): number {
    return this.#decoder.frames;
  }

  /**
   * The payload bytes of the data frames decoded so far (length words not
   * included).
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().bytes); // 0
   * ```
   */
  get bytes(): number {
    return this.#decoder.bytes;
  }

  /**
   * Well-formed control frames skipped (unknown or out of place).
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().skippedFrames); // 0
   * ```
   */
  get skippedFrames(): number {
    return this.#decoder.skippedFrames;
  }

  /**
   * Oversized data frames skipped under `oversize: "skip"`.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().oversizedFrames); // 0
   * ```
   */
  get oversizedFrames(): number {
    return this.#decoder.oversizedFrames;
  }

  /**
   * The scan engine in use.
   *
   * @example
   * ```ts
   * import { FrameDecoderStream } from "@fstrm/fstrm";
   *
   * console.log(new FrameDecoderStream().engine); // "ts"
   * ```
   */
  get engine(): Engine {
    return this.#decoder.engine;
  }
}
