// Private: the engine of `fstrm capture`, without argument parsing or
// signals: a FrameReceiver whose frames go, from every connection, into
// one current output file, rotated by time, size or request, each file a
// whole Frame Streams file (START … STOP). The demo runs it in-process.
//
// Faults (tests/cli_fault_test.ts):
// - The next file cannot be opened at a rotation (its directory gone, a
//   path component that is a file, a name too long; or START cannot be
//   written because the disk is full): one line, `cannot open output file
//   X: REASON; still writing to Y` (`cannot write …` for START; X is not
//   left behind), and the frames keep going to the current file; the
//   rotation is tried again after another `-s` interval or another
//   `--max-size` bytes, or at the next SIGUSR1. Connections are not
//   touched.
// - The output cannot be written (disk full, I/O error, stdout's reader
//   gone): one line, `cannot write output file X: REASON; closing the
//   connections and stopping`, then every connection is closed at once
//   (no FINISH, nothing more read), each file is closed (the failed one
//   cut back to its last whole frame, with STOP when there is room for
//   it; files opened after it hold START and STOP only), a last line says
//   how many frames received were not written, and `done` resolves 1.
//   FINISH acknowledges a stream received, not written (as fstrm_capture):
//   frames of a stream that ended before the error, still in memory, are
//   among those counted as not written.
// - Killed (SIGKILL): the files are written one after another, whole
//   frames per buffer, so each holds a prefix of its frames (START at
//   least: a rotated file gets its name only once START is in it), the
//   last ones without STOP, and together a contiguous run of what was
//   received. A write cut by the kill can end a file inside a frame;
//   `fstrm stats` reports it as truncated, with the frame's offset. Left
//   over at worst: a `.fstrm-*.tmp` file (a START being staged), or an
//   empty first file when killed at startup before its START.
import {
  type ConnectionEvent,
  FrameReceiver,
  type ListenTarget,
} from "../frame_receiver.ts";
import { strftime, type TimeZoneMode } from "./_strftime.ts";
import {
  BufferPool,
  FrameFileOutput,
  type OutputSink,
  STOP_LENGTH,
} from "./_output_file.ts";
import {
  describeListen,
  describeListenAddr,
  listenProblem,
  plainError,
  removeUnixSocket,
} from "./_targets.ts";
import {
  closedFileLine,
  ConnectionLog,
  refusalLine,
  statsLine,
  type StatsMark,
} from "./_capture_log.ts";
import {
  type CaptureOutput,
  openFirstOutput,
  openNextOutput,
} from "./_capture_files.ts";
import { CliError } from "./_cli_error.ts";
import { forEachDataFrame } from "../_wire.ts";

/** Everything a capture needs, parsed and checked. */
export interface CaptureConfig {
  /** Where to listen. */
  listen: ListenTarget;
  /** The content type accepted and written to each START. */
  contentType: string;
  /** Where the frames go. */
  output: CaptureOutput;
  /** Seconds after which a file holding frames is rotated; 0: never. */
  splitSeconds: number;
  /** Bytes past which a file is rotated before the next frame; 0: never. */
  maxSize: number;
  /** The longest payload kept; longer frames are skipped and counted. */
  maxFrameLength: number;
  /** Connections served at once. */
  maxConnections: number;
  /** Networks allowed to connect over TCP or TLS; absent: everyone. */
  allow?: readonly string[];
  /** Connections served at once per source address; absent: no limit. */
  maxConnectionsPerSource?: number;
  /** Milliseconds open streams get to reach STOP when the capture stops. */
  gracePeriod: number;
  /** Milliseconds between two stats lines; 0: none. */
  statsInterval: number;
  /** How much to say: 0 files only, 1 connections started and closed, 2 opened too. */
  verbosity: number;
  /** Writes one line of log (no line ending) to stderr. */
  log: (line: string) => void;
  /** Milliseconds a frame may wait in memory before it is written. @default {1000} */
  flushInterval?: number;
  /** Bytes per write buffer. @default {1048576} */
  writeBufferSize?: number;
}

/** Totals of a capture. */
export interface CaptureTotals {
  /** Data frames written (to all files). */
  frames: number;
  /** Their payload bytes. */
  payloadBytes: number;
  /** Files opened, in order. */
  files: string[];
}

const DEFAULT_WRITE_BUFFER = 1 << 20;
/** Write buffers queued per file before connections are made to wait. */
const QUEUED_BUFFERS = 4;
/**
 * Rotated files still being written (they are written one after another)
 * before connections are made to wait: a disk slower than the frames
 * coming in, with a small --max-size, does not pile files up in memory.
 */
const CLOSING_FILES = 4;

/**
 * A running capture. {@linkcode CaptureSession.start} listens and opens the
 * first file; {@linkcode CaptureSession.prototype.stop} ends it cleanly.
 */
export class CaptureSession {
  #config: CaptureConfig;
  #receiver!: FrameReceiver;
  #pool: BufferPool;
  #contentType: Uint8Array;
  #file: FrameFileOutput = undefined as unknown as FrameFileOutput;
  #closing = new Set<Promise<void>>();
  #files: string[] = [];
  #frames = 0;
  #payloadBytes = 0;
  /** Frames that came after the output was closed (a write error). */
  #dropped = 0;
  /** Data frames in the files closed so far. */
  #framesKept = 0;
  #sizeLimit: number;
  #final = false;
  #failed = false;
  /** The write error that stopped the capture. */
  #writeError: Error | null = null;
  #stopping: Promise<void> | null = null;
  #done = Promise.withResolvers<number>();
  #splitTimer: ReturnType<typeof setTimeout> | undefined;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #lastStats: StatsMark = { at: 0, frames: 0, bytes: 0 };
  #connections = new ConnectionLog();

  private constructor(config: CaptureConfig) {
    this.#config = config;
    this.#pool = new BufferPool(
      config.writeBufferSize ?? DEFAULT_WRITE_BUFFER,
      QUEUED_BUFFERS + 2,
    );
    this.#contentType = new TextEncoder().encode(config.contentType);
    this.#sizeLimit = config.maxSize;
  }

  /**
   * Listens, then opens the first output (so that a busy socket never
   * clobbers an earlier capture's file).
   *
   * @throws {CliError} If it cannot listen or open the output.
   */
  static async start(config: CaptureConfig): Promise<CaptureSession> {
    const session = new CaptureSession(config);
    await session.#listen();
    try {
      session.#file = session.#openFirst();
    } catch (error) {
      await session.#receiver.close().catch(() => {});
      throw error;
    }
    session.#log(
      0,
      `listening on ${describeListenAddr(session.addr, config.listen)}`,
    );
    session.#log(0, `opened output file ${session.#file.path}`);
    session.#armSplit();
    const flushInterval = config.flushInterval ?? 1000;
    session.#flushTimer = setInterval(() => {
      if (!session.#final && session.#file.unwritten > 0) {
        void session.#file.flush();
      }
    }, flushInterval);
    if (config.statsInterval > 0) {
      session.#lastStats = { at: performance.now(), frames: 0, bytes: 0 };
      session.#statsTimer = setInterval(
        () => session.#logStats(),
        config.statsInterval,
      );
    }
    return session;
  }

  /** The address listened on (with the real port when port 0 was asked). */
  get addr(): Deno.Addr {
    return this.#receiver.addr;
  }

  /** The current output file's path (`-` for stdout). */
  get currentFile(): string {
    return this.#file.path;
  }

  /** Frames and files so far. */
  get totals(): CaptureTotals {
    return {
      frames: this.#frames,
      payloadBytes: this.#payloadBytes,
      files: [...this.#files],
    };
  }

  /**
   * Resolves with the exit code once the capture has stopped: 0, or 1
   * after a write error (which stops the capture: see the module's notes).
   */
  get done(): Promise<number> {
    return this.#done.promise;
  }

  /**
   * Closes the current file (STOP) and opens the next one (SIGUSR1). Not
   * for stdout.
   */
  rotate(reason: string): void {
    if (this.#final) return;
    if (this.#config.output.kind === "stdout") {
      this.#log(0, `${reason}: not rotating stdout`);
      return;
    }
    this.#log(1, `${reason}: rotating output file`);
    this.#rotate();
  }

  /** Writes what is gathered in memory to the current file (SIGHUP). */
  flush(): Promise<void> {
    if (this.#final) return Promise.resolve();
    return this.#file.flush();
  }

  /**
   * Stops cleanly: no new connections, open streams get the grace period
   * to reach STOP, then every frame received is written and the file
   * closed with STOP. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Stops at once (a second signal, or a write error): frames still
   * arriving are dropped, what was received is written and the file closed
   * with STOP.
   */
  async abort(): Promise<void> {
    void this.#receiver.close().catch(() => {});
    await this.#finish(true);
  }

  async #stop(): Promise<void> {
    try {
      await this.#receiver.close();
    } catch (error) {
      // After a write error, the receiver fails on purpose (see #onData).
      if (error !== this.#writeError) {
        this.#log(0, `receiver failed: ${plainError(error)}`);
      }
      this.#failed = true;
    }
    await this.#finish();
  }

  /**
   * Closes the output (STOP), waits for every file, resolves `done`. When
   * `aborting` (the receiver still closing), removes the socket file first:
   * the process may exit as soon as `done` resolves.
   */
  async #finish(aborting = false): Promise<void> {
    if (this.#final) return await this.#done.promise.then(() => {});
    this.#final = true;
    clearTimeout(this.#splitTimer);
    clearInterval(this.#flushTimer);
    clearInterval(this.#statsTimer);
    if (this.#config.statsInterval > 0) this.#logStats();
    this.#close(this.#file);
    while (this.#closing.size > 0) await Promise.all(this.#closing);
    if (this.#writeError !== null) {
      const received = this.#frames + this.#dropped;
      this.#log(
        0,
        `stopped after a write error: ${
          received - this.#framesKept
        } of ${received} frames received were not written`,
      );
    }
    if (aborting) await removeUnixSocket(this.#config.listen);
    this.#done.resolve(this.#failed ? 1 : 0);
  }

  // -------------------------------------------------------------------------

  async #listen(): Promise<void> {
    const config = this.#config;
    const verbose = config.verbosity >= 1;
    const connections = this.#connections;
    // Frames come in runs, as they were read, and go to the file in one
    // copy per run.
    const onRun = verbose
      ? (w: Uint8Array, s: number, e: number, n: number, c: { id: number }) => {
        connections.count(c.id, n);
        return this.#onRun(w, s, e, n);
      }
      : (w: Uint8Array, s: number, e: number, n: number) =>
        this.#onRun(w, s, e, n);
    try {
      this.#receiver = await FrameReceiver.listen(config.listen, {
        contentTypes: [config.contentType],
        maxFrameLength: config.maxFrameLength,
        oversize: "skip",
        maxConnections: config.maxConnections,
        ...(config.allow === undefined ? {} : { allow: config.allow }),
        ...(config.maxConnectionsPerSource === undefined
          ? {}
          : { maxConnectionsPerSource: config.maxConnectionsPerSource }),
        // At most one line per source a minute (the receiver's limit).
        onRefused: (r) => this.#log(0, refusalLine(r)),
        gracePeriod: config.gracePeriod,
        onRun,
        onConnection: (event) => this.#onConnection(event),
      });
    } catch (error) {
      throw new CliError(
        `cannot listen on ${describeListen(config.listen)}: ${
          listenProblem(error)
        }`,
      );
    }
  }

  #onRun(
    window: Uint8Array,
    start: number,
    end: number,
    frames: number,
  ): void | Promise<void> {
    const file = this.#file;
    if (
      this.#final || file === undefined ||
      (this.#sizeLimit > 0 &&
        file.size + (end - start) + STOP_LENGTH > this.#sizeLimit)
    ) {
      // Frame by frame: what #onData does for each (the size limit may
      // rotate the file inside the run). Its promise, if any, comes last:
      // a run is taken whole.
      return forEachDataFrame(
        window,
        start,
        frames,
        (offset, length) => this.#onData(window, offset, length),
      );
    }
    this.#frames += frames;
    this.#payloadBytes += end - start - 4 * frames;
    if (file.appendRun(window, start, end, frames)) return file.drained();
    if (this.#closing.size >= CLOSING_FILES) {
      return Promise.race(this.#closing);
    }
  }

  #onData(
    window: Uint8Array,
    offset: number,
    length: number,
  ): void | Promise<void> {
    let file = this.#file;
    // No file yet cannot happen (the first opens before any I/O); frames
    // after the last file closed come only after a write error.
    if (this.#final || file === undefined) {
      this.#dropped++;
      // After a write error: the receiver fails, closing every connection
      // at once (no FINISH for frames that cannot be written).
      if (this.#writeError !== null) throw this.#writeError;
      return;
    }
    if (
      this.#sizeLimit > 0 && file.frames > 0 &&
      file.size + length + 4 + STOP_LENGTH > this.#sizeLimit
    ) {
      this.#rotate();
      file = this.#file;
    }
    this.#frames++;
    this.#payloadBytes += length;
    if (file.append(window, offset, length)) return file.drained();
    if (this.#closing.size >= CLOSING_FILES) {
      return Promise.race(this.#closing);
    }
  }

  #onConnection(event: ConnectionEvent): void {
    if (this.#config.verbosity < 1) return;
    const { level, text } = this.#connections.line(event);
    this.#log(level, text);
  }

  #openFirst(): FrameFileOutput {
    const output = this.#config.output;
    const path = output.kind === "stdout"
      ? "-"
      : this.#expand(output.pattern, output.timeZone);
    return openFirstOutput(
      output,
      path,
      (path, sink, owns) => this.#output(path, sink, owns),
    );
  }

  /** Opens the next file, after the current one (see `openNextOutput`). */
  #openNext(): FrameFileOutput {
    const output = this.#config.output as Extract<
      CaptureOutput,
      { kind: "file" }
    >;
    const after = this.#file.complete;
    return openNextOutput(
      this.#expand(output.pattern, output.timeZone),
      this.#contentType,
      (path, sink, owns, start) => this.#output(path, sink, owns, after, start),
    );
  }

  /**
   * A file's output, START written.
   *
   * @throws The error of writing START.
   */
  #output(
    path: string,
    sink: OutputSink,
    owns: boolean,
    after?: Promise<boolean>,
    startWritten?: number,
  ): FrameFileOutput {
    const file = new FrameFileOutput(path, sink, {
      ownsSink: owns,
      contentType: this.#contentType,
      pool: this.#pool,
      maxQueued: QUEUED_BUFFERS * this.#pool.size,
      onError: (f, error) => this.#onWriteError(f, error),
      after,
      startWritten,
    });
    this.#files.push(path);
    return file;
  }

  #expand(pattern: string, timeZone: TimeZoneMode | null): string {
    return timeZone === null
      ? pattern
      : strftime(pattern, new Date(), timeZone);
  }

  #rotate(): void {
    let next: FrameFileOutput;
    try {
      next = this.#openNext();
    } catch (error) {
      // Keep the frames coming into the current file; try again after
      // another interval, or another max-size bytes.
      this.#log(
        0,
        `${plainError(error)}; still writing to ${this.#file.path}`,
      );
      if (this.#config.maxSize > 0) {
        this.#sizeLimit = this.#file.size + this.#config.maxSize;
      }
      this.#armSplit(Date.now());
      return;
    }
    const old = this.#file;
    this.#file = next;
    this.#sizeLimit = this.#config.maxSize;
    this.#log(0, `opened output file ${next.path}`);
    this.#close(old);
    this.#armSplit();
  }

  #close(file: FrameFileOutput): void {
    const closing = file.close().then(() => {
      this.#framesKept += file.framesWritten;
      const line = closedFileLine(file);
      if (line !== null) this.#log(0, line);
    });
    this.#closing.add(closing);
    void closing.finally(() => this.#closing.delete(closing));
  }

  /** Sets the split timer: due `splitSeconds` after `from` (the file's opening). */
  #armSplit(from: number = this.#file.openedAt): void {
    clearTimeout(this.#splitTimer);
    const split = this.#config.splitSeconds;
    if (split <= 0 || this.#final) return;
    const delay = Math.max(0, from + split * 1000 - Date.now());
    this.#splitTimer = setTimeout(() => {
      if (this.#final) return;
      // A file with no frame yet stays open: rotating it would only make
      // empty files. It is rotated at the next deadline that finds frames.
      if (this.#file.frames > 0) this.#rotate();
      else this.#armSplit(Date.now());
    }, delay);
  }

  /**
   * A write error: one line, then the capture stops (connections closed,
   * files closed and repaired, exit code 1). The files of a capture are
   * written one after another, so this is the first and only one.
   */
  #onWriteError(file: FrameFileOutput, error: Error): void {
    const what = file.path === "-" ? "stdout" : `output file ${file.path}`;
    if (this.#failed) {
      this.#log(0, `cannot write ${what}: ${plainError(error)}`);
      return;
    }
    this.#failed = true;
    this.#writeError = error;
    this.#log(
      0,
      `cannot write ${what}: ${
        plainError(error)
      }; closing the connections and stopping`,
    );
    void this.abort();
  }

  #logStats(): void {
    const { text, mark } = statsLine(
      this.#receiver.stats,
      this.#lastStats,
      performance.now(),
    );
    this.#lastStats = mark;
    this.#log(0, text);
  }

  #log(level: number, line: string): void {
    if (level <= this.#config.verbosity) this.#config.log(line);
  }
}
