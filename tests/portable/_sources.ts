// Sources for FrameReader in the portable set: the FrameSource read()
// contract over bytes (short, random reads), and adapters from a
// ReadableStream and an AsyncIterable to that contract.
import type { FrameSource } from "../../mod.ts";
import type { Random } from "./_gen.ts";

/** Counts of the calls a source received. */
export interface Calls {
  read: number;
  readSync: number;
}

/**
 * A source handing out `bytes` in reads of random length (1 byte up to the
 * buffer's size), as sockets and pipes do; with `sync`, a `readSync` too.
 */
export function bytesSource(
  bytes: Uint8Array,
  r: Random,
  sync = false,
): FrameSource & { calls: Calls } {
  let at = 0;
  const calls: Calls = { read: 0, readSync: 0 };
  const readSync = (buffer: Uint8Array): number | null => {
    if (at >= bytes.length) return null;
    const n = Math.min(buffer.length, bytes.length - at, 1 + r.int(100_000));
    buffer.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
  const source: FrameSource & { calls: Calls } = {
    calls,
    read: (buffer) => {
      calls.read++;
      return Promise.resolve(readSync(buffer));
    },
  };
  if (sync) {
    source.readSync = (buffer) => {
      calls.readSync++;
      return readSync(buffer);
    };
  }
  return source;
}

/**
 * The FrameSource contract over an `AsyncIterable` of chunks (which a
 * `ReadableStream`, a Node `Readable` and a Bun file stream all are): the
 * part of a chunk that does not fit is kept for the next read.
 */
export function iterableSource(
  chunks: AsyncIterable<Uint8Array>,
): FrameSource {
  const it = chunks[Symbol.asyncIterator]();
  let rest: Uint8Array = new Uint8Array(0);
  return {
    async read(buffer) {
      while (rest.length === 0) {
        const next = await it.next();
        if (next.done) return null;
        rest = next.value;
      }
      const n = Math.min(buffer.length, rest.length);
      buffer.set(rest.subarray(0, n));
      rest = rest.subarray(n);
      return n;
    },
  };
}

/** `bytes` as a ReadableStream of chunks cut at random. */
export function readableOf(
  bytes: Uint8Array,
  r: Random,
): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const n = Math.min(bytes.length - at, 1 + r.int(5_000));
      // A copy, as a stream's chunks are its own.
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}
