// Private: a Frame Streams file being written by `fstrm capture`: START with
// the content type, data frames, STOP. Frames are gathered in large
// buffers and written a buffer at a time (never a write per frame), by one
// write loop per file, in order; a frame is copied whole into one buffer,
// so the file only ever grows by whole frames (unless the kernel writes a
// buffer only in part: a full disk, or SIGKILL during the write).
//
// Faults: START is written at once, synchronously, when the file is opened
// (so a file that exists holds at least START, and a disk that is already
// full is found out at the opening). The files of one capture are written
// one after another (`after`): a file's frames go out only once the file
// before it is complete, so whatever stops the capture, the files hold a
// contiguous run of what was received. After a write error nothing more is
// written but the repair: the file is cut back to its last whole frame and
// STOP is appended when there is room for it.
import { ControlType } from "../constants.ts";
import { encodeControlFrame } from "../encode.ts";
import { wholeFrames, writeU32 } from "../_wire.ts";

/** What a buffer pool and the write loop need of an output: `Deno.FsFile` or stdout. */
export interface OutputSink {
  /** Writes some of `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Writes some of `p` at once (START, at the opening); the count written. */
  writeSync(p: Uint8Array): number;
  /** Closes it (not called for stdout). */
  close(): void;
  /** Cuts the file to `length` bytes (files only: the repair after a write error). */
  truncate?(length: number): Promise<void>;
  /** Moves the write position (files only: the repair after a write error). */
  seek?(offset: number, whence: Deno.SeekMode): Promise<number>;
}

/** The STOP frame that ends every file. */
const STOP = encodeControlFrame(ControlType.STOP);
/** Its length: what closing adds to a file. */
export const STOP_LENGTH: number = STOP.length;

/**
 * Writes a file's START frame (with `contentType`) to `sink` at once.
 *
 * @returns Its length.
 * @throws The write's error (the disk is full, say).
 */
export function writeStart(sink: OutputSink, contentType: Uint8Array): number {
  const start = encodeControlFrame(ControlType.START, [contentType]);
  let at = 0;
  while (at < start.length) at += sink.writeSync(start.subarray(at));
  return start.length;
}

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

/** A buffer waiting for the write loop: `bytes[0, length)`, holding `frames` data frames. */
interface Pending {
  bytes: Uint8Array;
  length: number;
  frames: number;
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
  /**
   * The length of the START frame already in the sink (written by
   * {@linkcode writeStart}); when absent, the constructor writes it.
   */
  startWritten?: number | undefined;
  /** Called once with the first write error (not when `after` failed). */
  onError: (output: FrameFileOutput, error: Error) => void;
  /**
   * The previous file's {@linkcode FrameFileOutput.prototype.complete}:
   * nothing but START is written before it resolves, and nothing more at
   * all (but STOP) if it resolves `false`.
   */
  after?: Promise<boolean> | undefined;
}

/**
 * One output file (or stdout) of a capture. `append` copies a data frame
 * in; full buffers go to the write loop; `flush` writes what is gathered;
 * `close` adds STOP, writes everything and closes the file.
 *
 * After a write error (or when the file before it failed: `after`)
 * everything appended is dropped, and `close` repairs the file instead: it
 * is cut back to the end of its last whole frame (a write can stop in the
 * middle of a buffer, and so of a frame, when the disk fills up) and STOP
 * is appended if there is room; if there is none, the file ends after its
 * last whole frame. `framesWritten`, `bytesWritten` and `stopWritten` say
 * what it holds in the end. Stdout cannot be cut back or repaired.
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
  /** Whether `error` is the previous file's failure, not this file's own. */
  abandoned = false;
  /** Data frames in the file (whole, on disk as far as writes go). */
  framesWritten = 0;
  /** Bytes in the file, up to the end of its last whole frame (STOP included once written). */
  bytesWritten = 0;
  /** Whether STOP was written: the file is whole. */
  stopWritten = false;

  #sink: OutputSink;
  #ownsSink: boolean;
  #pool: BufferPool;
  #buffer: Uint8Array;
  #used = 0;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #maxQueued: number;
  #loop: Promise<void> | null = null;
  #drained: PromiseWithResolvers<void> | null = null;
  #closed: Promise<void> | null = null;
  #onError: (output: FrameFileOutput, error: Error) => void;
  #after: Promise<boolean> | null;
  #complete = Promise.withResolvers<boolean>();
  /** Data frames in the current buffer. */
  #bufferFrames = 0;
  /** Bytes the sink took, whole frames or not: its write position. */
  #position = 0;

  /**
   * Starts a file: START with `contentType` is the first frame, and is
   * written at once, synchronously (as fstrm_capture does), so that a file
   * just opened is already a valid prefix.
   *
   * @param path The path, for messages (`-` for stdout).
   * @param sink Where the bytes go.
   * @param options The rest; see {@linkcode FrameFileOutputOptions}.
   * @throws The error of writing START (the disk is full, say), unless
   * `startWritten`; the sink is left open.
   */
  constructor(path: string, sink: OutputSink, options: FrameFileOutputOptions) {
    this.path = path;
    this.openedAt = Date.now();
    this.#sink = sink;
    this.#ownsSink = options.ownsSink;
    this.#pool = options.pool;
    this.#maxQueued = options.maxQueued;
    this.#onError = options.onError;
    this.#after = options.after ?? null;
    const start = options.startWritten ??
      writeStart(sink, options.contentType);
    this.#position = this.bytesWritten = this.size = start;
    this.#buffer = this.#pool.take();
  }

  /**
   * Resolves once the file is closed: `true` if everything appended and
   * STOP were written, `false` after a write error.
   */
  get complete(): Promise<boolean> {
    return this.#complete.promise;
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
        writeU32(big, 0, length);
        big.set(window.subarray(offset, offset + length), 4);
        this.#push({ bytes: big, length: need, frames: 1 });
        this.frames++;
        this.size += need;
        return this.#queuedBytes >= this.#maxQueued;
      }
    }
    const at = this.#used;
    const buffer = this.#buffer;
    writeU32(buffer, at, length);
    if (length <= 32) {
      // A view per tiny frame costs more than the copy itself.
      for (let i = 0; i < length; i++) buffer[at + 4 + i] = window[offset + i]!;
    } else {
      buffer.set(window.subarray(offset, offset + length), at + 4);
    }
    this.#used = at + need;
    this.#bufferFrames++;
    this.frames++;
    this.size += need;
    return this.#queuedBytes >= this.#maxQueued;
  }

  /**
   * Appends `frames` whole data frames still encoded, `window[start, end)`
   * (copied before this returns), in one piece: into the current buffer if
   * they fit, else into the next (or, larger than a buffer, one of their
   * own), so that the file still grows by whole frames.
   *
   * @returns `true` when the caller should wait for
   * {@linkcode FrameFileOutput.prototype.drained} before the next frames.
   */
  appendRun(
    window: Uint8Array,
    start: number,
    end: number,
    frames: number,
  ): boolean {
    const need = end - start;
    if (this.#used + need > this.#buffer.length) {
      this.#seal();
      if (need > this.#buffer.length) {
        this.#push({
          bytes: window.slice(start, end),
          length: need,
          frames,
        });
        this.frames += frames;
        this.size += need;
        return this.#queuedBytes >= this.#maxQueued;
      }
    }
    this.#buffer.set(window.subarray(start, end), this.#used);
    this.#used += need;
    this.#bufferFrames += frames;
    this.frames += frames;
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
   * Appends STOP, writes everything and closes the file; after a write
   * error, repairs it instead (see the class). Calling it again returns the
   * same promise.
   *
   * @returns A promise that resolves once the file is closed; write errors
   * are in `error`, not thrown.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    try {
      if (this.#used + STOP_LENGTH > this.#buffer.length) this.#seal();
      this.#buffer.set(STOP, this.#used);
      this.#used += STOP_LENGTH;
      this.size += STOP_LENGTH;
      await this.flush();
      this.#pool.give(this.#buffer);
      if (this.error === null) this.stopWritten = true;
      else await this.#repair();
      if (this.#ownsSink) {
        try {
          this.#sink.close();
        } catch (error) {
          this.#fail(error);
        }
      }
    } finally {
      this.#complete.resolve(this.error === null);
    }
  }

  /**
   * After a write error: cuts the file back to its last whole frame and
   * appends STOP if it fits (a STOP cut short is cut away again). Files
   * only; what fails here leaves the file as it is.
   */
  async #repair(): Promise<void> {
    const sink = this.#sink;
    if (sink.truncate === undefined || sink.seek === undefined) return;
    const end = this.bytesWritten;
    try {
      if (this.#position !== end) {
        await sink.truncate(end);
        await sink.seek(end, Deno.SeekMode.Start);
        this.#position = end;
      }
    } catch {
      return;
    }
    let at = 0;
    try {
      while (at < STOP_LENGTH) at += await sink.write(STOP.subarray(at));
      this.bytesWritten += STOP_LENGTH;
      this.#position = this.bytesWritten;
      this.stopWritten = true;
    } catch {
      if (at > 0) await sink.truncate(end).catch(() => {});
    }
  }

  /** Hands the current buffer to the write loop and takes a fresh one. */
  #seal(): void {
    if (this.#used === 0) return;
    this.#push({
      bytes: this.#buffer,
      length: this.#used,
      frames: this.#bufferFrames,
    });
    this.#buffer = this.#pool.take();
    this.#used = 0;
    this.#bufferFrames = 0;
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
      if (this.#after !== null) {
        // The previous file first: its frames came before ours.
        const ok = await this.#after;
        this.#after = null;
        if (!ok && this.error === null) {
          this.error = new Error("the output file before it failed");
          this.abandoned = true;
        }
      }
      while (this.#queue.length > 0) {
        const { bytes, length, frames } = this.#queue[0]!;
        if (this.error === null) {
          let at = 0;
          try {
            while (at < length) {
              at += await this.#sink.write(bytes.subarray(at, length));
            }
            this.framesWritten += frames;
            this.bytesWritten += length;
            this.#position += length;
          } catch (error) {
            // What was written of this buffer: whole frames, then maybe
            // the beginning of one (the repair cuts it away).
            const whole = wholeFrames(bytes, at);
            this.framesWritten += whole.frames;
            this.bytesWritten += whole.length;
            this.#position += at;
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
