// Private: the engine of `fstrm capture`, without argument parsing or
// signals: a FrameReceiver whose frames go, from every connection, into
// one current output file, rotated by time, size or request, each file a
// whole Frame Streams file (START … STOP). The demo runs it in-process.
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
import { describeAddr, hostPort, plainError } from "./_targets.ts";
import { CliError } from "./_cli_error.ts";

/** Where the frames go. */
export type CaptureOutput =
  | {
    /** Standard output (`-w -`): one stream, never rotated. */
    kind: "stdout";
  }
  | {
    /** Files. */
    kind: "file";
    /** The file name, or a strftime pattern when `timeZone` is set. */
    pattern: string;
    /** Expand `pattern` with strftime in this time, or use it as it is (`null`). */
    timeZone: TimeZoneMode | null;
  };

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
const ROTATION_NAME_TRIES = 10_000;

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
  #sizeLimit: number;
  #final = false;
  #failed = false;
  #stopping: Promise<void> | null = null;
  #done = Promise.withResolvers<number>();
  #splitTimer: ReturnType<typeof setTimeout> | undefined;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #lastStats = { at: 0, frames: 0, bytes: 0 };
  #perConnection = new Map<number, number>();

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

  /** Resolves with the exit code once the capture has stopped: 0, or 1 after a write error. */
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
   * Stops at once (a second signal): frames still arriving are dropped,
   * what was received is written and the file closed with STOP.
   */
  async abort(): Promise<void> {
    void this.#receiver.close().catch(() => {});
    await this.#finish();
    const listen = this.#config.listen;
    if (listen.transport === "unix") {
      // The receiver removes it too, unless the process exits first.
      try {
        if ((await Deno.lstat(listen.path)).isSocket === true) {
          await Deno.remove(listen.path);
        }
      } catch {
        // gone already
      }
    }
  }

  async #stop(): Promise<void> {
    try {
      await this.#receiver.close();
    } catch (error) {
      this.#log(0, `receiver failed: ${plainError(error)}`);
      this.#failed = true;
    }
    await this.#finish();
  }

  /** Closes the output (STOP), waits for every file, resolves `done`. */
  async #finish(): Promise<void> {
    if (this.#final) return await this.#done.promise.then(() => {});
    this.#final = true;
    clearTimeout(this.#splitTimer);
    clearInterval(this.#flushTimer);
    clearInterval(this.#statsTimer);
    if (this.#config.statsInterval > 0) this.#logStats();
    this.#close(this.#file);
    while (this.#closing.size > 0) await Promise.all(this.#closing);
    this.#done.resolve(this.#failed ? 1 : 0);
  }

  // -------------------------------------------------------------------------

  async #listen(): Promise<void> {
    const config = this.#config;
    const verbose = config.verbosity >= 1;
    const perConnection = this.#perConnection;
    const onData = verbose
      ? (w: Uint8Array, o: number, l: number, c: { id: number }) => {
        perConnection.set(c.id, (perConnection.get(c.id) ?? 0) + 1);
        return this.#onData(w, o, l);
      }
      : (w: Uint8Array, o: number, l: number) => this.#onData(w, o, l);
    try {
      this.#receiver = await FrameReceiver.listen(config.listen, {
        contentTypes: [config.contentType],
        maxFrameLength: config.maxFrameLength,
        oversize: "skip",
        maxConnections: config.maxConnections,
        gracePeriod: config.gracePeriod,
        onData,
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

  #onData(
    window: Uint8Array,
    offset: number,
    length: number,
  ): void | Promise<void> {
    let file = this.#file;
    // No file yet cannot happen (the first opens before any I/O), nor
    // frames after the last closed: a guard, not a path.
    if (this.#final || file === undefined) return;
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
  }

  #onConnection(event: ConnectionEvent): void {
    const v = this.#config.verbosity;
    if (v < 1) return;
    const c = event.connection;
    const name = `connection ${c.id}`;
    switch (event.type) {
      case "opened":
        if (v >= 2) {
          this.#log(2, `${name} opened from ${describeAddr(c.remoteAddr)}`);
        }
        break;
      case "started":
        this.#log(
          1,
          `${name} started: ${c.mode}, content type ${
            c.contentType === null
              ? "(none)"
              : JSON.stringify(new TextDecoder().decode(c.contentType))
          }`,
        );
        break;
      case "closed": {
        const frames = this.#perConnection.get(c.id) ?? 0;
        this.#perConnection.delete(c.id);
        const why = event.error !== null
          ? event.error.message
          : event.stopped
          ? "after STOP"
          : "at end of input, without STOP";
        this.#log(1, `${name} closed (${frames} frames): ${why}`);
        break;
      }
    }
  }

  #openFirst(): FrameFileOutput {
    const output = this.#config.output;
    if (output.kind === "stdout") {
      return this.#output("-", Deno.stdout, false);
    }
    const path = this.#expand(output.pattern, output.timeZone);
    let file: Deno.FsFile;
    try {
      // As fstrm_capture: an existing file of that name is truncated.
      file = Deno.openSync(path, { write: true, create: true, truncate: true });
    } catch (error) {
      throw new CliError(
        `cannot open output file ${path}: ${plainError(error)}`,
      );
    }
    return this.#output(path, file, true);
  }

  /**
   * Opens the next file. A rotation never truncates: a name that exists
   * (the file just closed, when the pattern gives the same name again)
   * gets a counter before its extension: `cap.fstrm`, `cap.1.fstrm`, …
   */
  #openNext(): FrameFileOutput {
    const output = this.#config.output as Extract<
      CaptureOutput,
      { kind: "file" }
    >;
    const name = this.#expand(output.pattern, output.timeZone);
    for (let k = 0; k < ROTATION_NAME_TRIES; k++) {
      const path = k === 0 ? name : withCounter(name, k);
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(path, { write: true, createNew: true });
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue;
        throw new Error(
          `cannot open output file ${path}: ${plainError(error)}`,
        );
      }
      return this.#output(path, file, true);
    }
    throw new Error(
      `cannot open output file ${name}: it and ${ROTATION_NAME_TRIES} numbered names exist`,
    );
  }

  #output(path: string, sink: OutputSink, owns: boolean): FrameFileOutput {
    const file = new FrameFileOutput(path, sink, {
      ownsSink: owns,
      contentType: this.#contentType,
      pool: this.#pool,
      maxQueued: QUEUED_BUFFERS * this.#pool.size,
      onError: (f, error) => this.#onWriteError(f, error),
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
      if (file.error === null) {
        this.#log(
          0,
          `closed output file ${file.path} (${file.frames} frames, ${file.size} bytes)`,
        );
      }
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

  #onWriteError(file: FrameFileOutput, error: Error): void {
    this.#log(0, `cannot write output file ${file.path}: ${plainError(error)}`);
    if (this.#failed) return;
    this.#failed = true;
    void this.abort();
  }

  #logStats(): void {
    const s = this.#receiver.stats;
    const now = performance.now();
    const dt = Math.max(1e-3, (now - this.#lastStats.at) / 1000);
    const fps = (s.frames - this.#lastStats.frames) / dt;
    const mbps = (s.bytes - this.#lastStats.bytes) / dt / 1e6;
    this.#lastStats = { at: now, frames: s.frames, bytes: s.bytes };
    const errors = s.ioErrors +
      Object.values(s.protocolErrors).reduce((a, b) => a + b, 0);
    this.#log(
      0,
      `stats: ${s.connectionsOpen} connections open, ${s.connectionsTotal} total; ${
        Math.round(fps)
      } frames/s, ${
        mbps.toFixed(2)
      } MB/s; ${s.frames} frames in all; ${s.oversizedFrames} oversized frames dropped, ${s.connectionsRejected} connections rejected, ${errors} connection errors`,
    );
  }

  #log(level: number, line: string): void {
    if (level <= this.#config.verbosity) this.#config.log(line);
  }
}

/** `cap.fstrm` with counter 2 is `cap.2.fstrm`; `cap` is `cap.2`. */
export function withCounter(path: string, k: number): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot > slash + 1) return `${path.slice(0, dot)}.${k}${path.slice(dot)}`;
  return `${path}.${k}`;
}

function describeListen(target: ListenTarget): string {
  switch (target.transport) {
    case "unix":
      return `unix socket ${target.path}`;
    case "tcp":
    case "tls":
      return `${target.transport} ${
        hostPort(target.hostname ?? "127.0.0.1", target.port)
      }`;
  }
}

function describeListenAddr(addr: Deno.Addr, target: ListenTarget): string {
  if (target.transport === "unix") return `unix socket ${target.path}`;
  const { hostname, port } = addr as Deno.NetAddr;
  return `${target.transport} ${hostPort(hostname, port)}`;
}

/** Why listening failed, in a few words. */
function listenProblem(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return /another process/.test(String((error as Error).message))
      ? "another process is listening on it"
      : "the address is in use";
  }
  if (error instanceof Deno.errors.AlreadyExists) {
    return "it exists and is not a socket";
  }
  return plainError(error);
}
