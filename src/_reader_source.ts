// Private: what FrameReader reads from. Anything with Deno's `read(buffer)`
// contract is read straight into the reader's window; a ReadableStream or an
// AsyncIterable of Uint8Array chunks (a Node `fs.createReadStream`, a Bun
// file stream, a `fetch` body) is copied into it once, chunk by chunk, which
// is the one copy a scan of the window needs.

/** The `read` contract the reader drives (see FrameSource). */
export interface ByteSource {
  read(buffer: Uint8Array): Promise<number | null>;
  readSync?(buffer: Uint8Array): number | null;
}

/**
 * A source whose owner hands it to the reader: the reader calls this when it
 * is closed. Set by `openFrameReader` (src/file.ts) only.
 */
export const CLOSE_SOURCE: unique symbol = Symbol("fstrm.closeSource");

/** A byte source the reader closes. */
export interface OwnedSource extends ByteSource {
  [CLOSE_SOURCE](): void;
}

// 1 MiB: the scan then finds the bytes the read just wrote still in the CPU
// caches; 4 MiB windows were 5–10 % slower on dnstap-sized frames.
export const DEFAULT_WINDOW = 1 << 20;
export const MIN_WINDOW = 65_536;
export const MAX_WINDOW = 1 << 30;

/** Whether the reader owns `source` (and how to close it). */
export function closerOf(source: ByteSource): (() => void) | null {
  const close = (source as Partial<OwnedSource>)[CLOSE_SOURCE];
  return typeof close === "function" ? () => close.call(source) : null;
}

/**
 * Turns what a FrameReader was given into a byte source, or throws a
 * TypeError naming what it expected.
 */
export function toByteSource(input: unknown): ByteSource {
  if (typeof input === "object" && input !== null) {
    const stream = input as ReadableStream<Uint8Array>;
    if (typeof stream.getReader === "function") {
      const reader = stream.getReader();
      return new ChunkSource(() => reader.read());
    }
    // Before read(): a Node Readable has a read() of another contract.
    const iterable = input as AsyncIterable<Uint8Array>;
    if (typeof iterable[Symbol.asyncIterator] === "function") {
      const iterator = iterable[Symbol.asyncIterator]();
      return new ChunkSource(() => iterator.next());
    }
    if (typeof (input as ByteSource).read === "function") {
      return input as ByteSource;
    }
  }
  throw new TypeError(
    "Cannot create FrameReader: the source must have a read(buffer) method, or be a ReadableStream or an AsyncIterable of Uint8Array",
  );
}

/** What a stream reader or an async iterator gives. */
interface Chunk {
  readonly done?: boolean | undefined;
  readonly value?: unknown;
}

/**
 * A byte source over chunks: each `read` copies what it can of the current
 * chunk, and takes the next chunk only when that one is used up (so a live
 * stream's frames are not held back waiting for more).
 */
class ChunkSource implements ByteSource {
  #next: () => Promise<Chunk>;
  #chunk: Uint8Array | null = null;
  #pos = 0;
  #done = false;

  constructor(next: () => Promise<Chunk>) {
    this.#next = next;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    let chunk = this.#chunk;
    while (chunk === null) {
      if (this.#done) return null;
      const result = await this.#next();
      if (result.done) {
        this.#done = true;
        return null;
      }
      const value = result.value;
      if (!(value instanceof Uint8Array)) {
        throw new TypeError(
          `Cannot read frames: a chunk must be a Uint8Array, got ${
            value === null ? "null" : typeof value
          }`,
        );
      }
      if (value.length > 0) {
        chunk = this.#chunk = value;
        this.#pos = 0;
      }
    }
    const n = Math.min(buffer.length, chunk.length - this.#pos);
    buffer.set(chunk.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    if (this.#pos === chunk.length) this.#chunk = null;
    return n;
  }
}
