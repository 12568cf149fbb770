// Private: a Frame Streams file being written by `fstrm capture`: START with
// the content type, data frames, STOP. Frames are gathered in large
// buffers and written a buffer at a time (never a write per frame), by one
// write loop per file, in order; a frame is copied whole into one buffer,
// so the file only ever grows by whole frames.
import { ControlType } from "../constants.ts";
import { encodeControlFrame } from "../encode.ts";

/** What a buffer pool and the write loop need of an output: `Deno.FsFile` or stdout. */
export interface OutputSink {
  /** Writes some of `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes it (not called for stdout). */
  close(): void;
}

/** The STOP frame that ends every file. */
const STOP = encodeControlFrame(ControlType.STOP);
/** Its length: what closing adds to a file. */
export const STOP_LENGTH: number = STOP.length;

/**
 * Buffers shared by the files of one capture, so that a rotation does not
 * allocate (fresh memory is slow here: about 1 ms per MiB).
 */
export class BufferPool {
  /** The size of each buffer. */
  readonly size: number;
  #spare: Uint8Array[] = [];
  #keep: number;

  /**
   * @param size Bytes per buffer.
   * @param keep How many spare buffers to hold at most.
   */
  constructor(size: number, keep: number) {
    this.size = size;
    this.#keep = keep;
  }

  /** A buffer of `size` bytes: a spare one, or a fresh one. */
  take(): Uint8Array {
    return this.#spare.pop() ?? new Uint8Array(this.size);
  }

  /** Gives a buffer back (one of another size is dropped). */
  give(buffer: Uint8Array): void {
    if (buffer.length === this.size && this.#spare.length < this.#keep) {
      this.#spare.push(buffer);
    }
  }
}

/** A buffer waiting for the write loop: `bytes[0, length)`. */
interface Pending {
  bytes: Uint8Array;
  length: number;
}

/** Options of {@linkcode FrameFileOutput}. */
export interface FrameFileOutputOptions {
  /** Whether `close` closes the sink (not for stdout). */
  ownsSink: boolean;
  /** START's content type. */
  contentType: Uint8Array;
  /** The buffers, shared by the files of a capture. */
  pool: BufferPool;
  /** Bytes waiting for the write loop past which `append` asks its caller to wait. */
  maxQueued: number;
  /** Called once with the first write error. */
  onError: (output: FrameFileOutput, error: Error) => void;
}

/**
 * One output file (or stdout) of a capture. `append` copies a data frame
 * in; full buffers go to the write loop; `flush` writes what is gathered;
 * `close` adds STOP, writes everything and closes the file.
 */
export class FrameFileOutput {
  /** The file's path, or `-` for stdout. */
  readonly path: string;
  /** When it was opened (ms since the epoch). */
  readonly openedAt: number;
  /** Data frames appended. */
  frames = 0;
  /** Bytes the file holds once everything appended is written (STOP too, once closed). */
  size = 0;
  /** The first write error, after which everything appended is dropped. */
  error: Error | null = null;

  #sink: OutputSink;
  #ownsSink: boolean;
  #pool: BufferPool;
  #buffer: Uint8Array;
  #view: DataView;
  #used = 0;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #maxQueued: number;
  #loop: Promise<void> | null = null;
  #drained: PromiseWithResolvers<void> | null = null;
  #closed: Promise<void> | null = null;
  #onError: (output: FrameFileOutput, error: Error) => void;

  /**
   * Starts a file: START with `contentType` is the first frame, and is
   * written at once (as fstrm_capture does), so that a file just opened is
   * already a valid prefix.
   *
   * @param path The path, for messages (`-` for stdout).
   * @param sink Where the bytes go.
   * @param options The rest; see {@linkcode FrameFileOutputOptions}.
   */
  constructor(path: string, sink: OutputSink, options: FrameFileOutputOptions) {
    this.path = path;
    this.openedAt = Date.now();
    this.#sink = sink;
    this.#ownsSink = options.ownsSink;
    this.#pool = options.pool;
    this.#maxQueued = options.maxQueued;
    this.#onError = options.onError;
    this.#buffer = this.#pool.take();
    this.#view = new DataView(this.#buffer.buffer);
    const start = encodeControlFrame(ControlType.START, [options.contentType]);
    this.#buffer.set(start);
    this.#used = start.length;
    this.size = start.length;
    this.#seal();
  }

  /** Bytes gathered or queued, not yet written. */
  get unwritten(): number {
    return this.#used + this.#queuedBytes;
  }

  /**
   * Appends one data frame, its payload `window[offset, offset + length)`
   * (copied before this returns).
   *
   * @returns `true` when the caller should wait for
   * {@linkcode FrameFileOutput.prototype.drained} before the next frame.
   */
  append(window: Uint8Array, offset: number, length: number): boolean {
    const need = length + 4;
    if (this.#used + need > this.#buffer.length) {
      this.#seal();
      if (need > this.#buffer.length) {
        // Larger than a pool buffer: a buffer of its own.
        const big = new Uint8Array(need);
        new DataView(big.buffer).setUint32(0, length);
        big.set(window.subarray(offset, offset + length), 4);
        this.#push({ bytes: big, length: need });
        this.frames++;
        this.size += need;
        return this.#queuedBytes >= this.#maxQueued;
      }
    }
    const at = this.#used;
    this.#view.setUint32(at, length);
    const buffer = this.#buffer;
    if (length <= 32) {
      // A view per tiny frame costs more than the copy itself.
      for (let i = 0; i < length; i++) buffer[at + 4 + i] = window[offset + i]!;
    } else {
      buffer.set(window.subarray(offset, offset + length), at + 4);
    }
    this.#used = at + need;
    this.frames++;
    this.size += need;
    return this.#queuedBytes >= this.#maxQueued;
  }

  /** Resolves once the write loop has fewer than `maxQueued` bytes queued. */
  drained(): Promise<void> {
    if (this.#queuedBytes < this.#maxQueued || this.error !== null) {
      return Promise.resolve();
    }
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /**
   * Writes everything appended so far.
   *
   * @returns A promise that resolves once it is written (or the file has
   * failed: see `error`).
   */
  async flush(): Promise<void> {
    this.#seal();
    while (this.#loop !== null) await this.#loop;
  }

  /**
   * Appends STOP, writes everything and closes the file. Calling it again
   * returns the same promise.
   *
   * @returns A promise that resolves once the file is closed; write errors
   * are in `error`, not thrown.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (this.#used + STOP_LENGTH > this.#buffer.length) this.#seal();
    this.#buffer.set(STOP, this.#used);
    this.#used += STOP_LENGTH;
    this.size += STOP_LENGTH;
    await this.flush();
    this.#pool.give(this.#buffer);
    if (this.#ownsSink) {
      try {
        this.#sink.close();
      } catch (error) {
        this.#fail(error);
      }
    }
  }

  /** Hands the current buffer to the write loop and takes a fresh one. */
  #seal(): void {
    if (this.#used === 0) return;
    this.#push({ bytes: this.#buffer, length: this.#used });
    this.#buffer = this.#pool.take();
    this.#view = new DataView(this.#buffer.buffer);
    this.#used = 0;
  }

  #push(pending: Pending): void {
    if (this.error !== null) {
      this.#pool.give(pending.bytes);
      return;
    }
    this.#queue.push(pending);
    this.#queuedBytes += pending.length;
    this.#loop ??= this.#writeLoop();
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const { bytes, length } = this.#queue[0]!;
        if (this.error === null) {
          try {
            let at = 0;
            while (at < length) {
              at += await this.#sink.write(bytes.subarray(at, length));
            }
          } catch (error) {
            this.#fail(error);
          }
        }
        this.#queue.shift();
        this.#queuedBytes -= length;
        this.#pool.give(bytes);
        if (
          this.#drained !== null &&
          (this.#queuedBytes < this.#maxQueued || this.error !== null)
        ) {
          this.#drained.resolve();
          this.#drained = null;
        }
      }
    } finally {
      this.#loop = null;
    }
  }

  #fail(error: unknown): void {
    if (this.error !== null) return;
    this.error = error instanceof Error ? error : new Error(String(error));
    this.#onError(this, this.error);
  }
}
