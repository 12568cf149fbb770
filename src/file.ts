/**
 * Reading Frame Streams files by path, in Deno: {@linkcode openFrameReader}
 * opens a file and gives a {@linkcode FrameReader} that closes it. The
 * reader itself is portable (`@fstrm/fstrm`); only opening a file by path
 * needs Deno.
 *
 * Permissions: `--allow-read=FILE` for the file opened, nothing else.
 *
 * @example Counting the frames of a capture file
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { openFrameReader } from "@fstrm/fstrm/file";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["a", "bb", "ccc"], { contentType: "t" }));
 *
 * await using reader = await openFrameReader(path);
 * let bytes = 0;
 * const summary = await reader.forEachFrame((_window, _offset, length) => {
 *   bytes += length;
 * });
 * assert.equal(summary.frames, 3);
 * assert.equal(bytes, 6);
 * assert.ok(summary.stopped);
 * await Deno.remove(path);
 * ```
 *
 * @module
 */
import { FrameReader, type FrameReaderOptions } from "./frame_reader.ts";
import {
  CLOSE_SOURCE,
  DEFAULT_WINDOW,
  MIN_WINDOW,
  type OwnedSource,
} from "./_reader_source.ts";

/**
 * Opens a file for reading frames; the reader closes it on
 * {@linkcode FrameReader.prototype.close} (or `await using`). Without a
 * `windowSize`, a file smaller than the default window gets a smaller one
 * (from 64 KiB up, by powers of two). Reads are synchronous (`readSync`)
 * unless `readSync: false`: from the page cache they cost far less.
 *
 * Requires `--allow-read`.
 *
 * @param path The file.
 * @param options See {@linkcode FrameReaderOptions}.
 * @returns The reader.
 * @throws {Deno.errors.NotFound} If the file does not exist (and the other
 * errors of `Deno.open`).
 *
 * @example
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { openFrameReader } from "@fstrm/fstrm/file";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["x"]));
 * await using reader = await openFrameReader(path, { engine: "ts" });
 * console.log((await reader.forEachFrame(() => {})).frames); // 1
 * await Deno.remove(path);
 * ```
 */
export async function openFrameReader(
  path: string | URL,
  options: FrameReaderOptions = {},
): Promise<FrameReader> {
  const file = await Deno.open(path, { read: true });
  try {
    if (options.windowSize === undefined) {
      // A small file needs no 1 MiB window: fresh memory is not free.
      const { size } = await file.stat();
      let windowSize = MIN_WINDOW;
      while (windowSize < DEFAULT_WINDOW && windowSize <= size) {
        windowSize *= 2;
      }
      options = { ...options, windowSize };
    }
    const source: OwnedSource = {
      read: (buffer) => file.read(buffer),
      readSync: (buffer) => file.readSync(buffer),
      [CLOSE_SOURCE]: () => file.close(),
    };
    return new FrameReader(source, options);
  } catch (error) {
    file.close();
    throw error;
  }
}
