/**
 * A Frame Streams writer over sockets: the client a DNS server runs to send
 * dnstap (or any other content type) to a collector, over a Unix socket, TCP
 * or TLS.
 *
 * A thin shell over {@linkcode WriterHandshake} and
 * {@linkcode FrameDecoder}: it connects, runs the READY / ACCEPT / START
 * handshake (or only START, unidirectionally), batches data frames into few
 * socket writes, reconnects with exponential backoff after any failure, and
 * ends with STOP / FINISH.
 *
 * @example Sending two frames to a collector
 * ```ts
 * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
 * import { ControlType, encodeControlFrame } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * // A tiny collector: answers READY with ACCEPT and STOP with FINISH.
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const collected = (async () => {
 *   using conn = await listener.accept();
 *   const bytes: number[] = [];
 *   const buf = new Uint8Array(4096);
 *   for (let n; (n = await conn.read(buf)) !== null;) {
 *     if (bytes.length === 0) {
 *       await conn.write(encodeControlFrame(ControlType.ACCEPT, ["protobuf:dnstap.Dnstap"]));
 *     }
 *     bytes.push(...buf.subarray(0, n));
 *     const tail = bytes.slice(-12).join();
 *     if (tail === "0,0,0,0,0,0,0,4,0,0,0,3") { // STOP
 *       await conn.write(encodeControlFrame(ControlType.FINISH));
 *     }
 *   }
 *   return bytes.length;
 * })();
 *
 * const writer = await FrameWriter.connect({ transport: "tcp", port: listener.addr.port });
 * await writer.write("hello");
 * await writer.write(new Uint8Array([1, 2, 3]));
 * await writer.close();
 * assert.equal(writer.stats.framesWritten, 2);
 * // READY (42) + START (42) + "hello" (9) + 3 bytes (7) + STOP (12)
 * assert.equal(await collected, 42 + 42 + 9 + 7 + 12);
 * ```
 *
 * @module
 */
import { DNSTAP_CONTENT_TYPE, MAX_FRAME_LENGTH } from "./constants.ts";
import type { ContentTypeInput } from "./frame.ts";
import { FrameDecoder } from "./frame_decoder.ts";
import { TruncatedFrameError, UnexpectedFrameError } from "./errors.ts";
import { type WriterEvent, WriterHandshake } from "./writer_handshake.ts";

/**
 * Where a {@linkcode FrameWriter} connects: a Unix socket path, a TCP
 * address, or a TLS server.
 *
 * For TLS, the server's certificate is checked against `caCerts` (PEM), or
 * the system's roots if none are given, and against `hostname` (which may be
 * an IP address the certificate names).
 *
 * @example
 * ```ts
 * import type { ConnectTarget } from "@fstrm/fstrm/frame-writer";
 *
 * const targets: ConnectTarget[] = [
 *   { transport: "unix", path: "/run/dnstap.sock" },
 *   { transport: "tcp", hostname: "127.0.0.1", port: 6000 },
 *   { transport: "tls", hostname: "collector.example", port: 6001 },
 * ];
 * console.log(targets.length);
 * ```
 */
export type ConnectTarget =
  | {
    /** A Unix stream socket. */
    transport: "unix";
    /** The socket's path. */
    path: string;
  }
  | {
    /** Plain TCP. */
    transport: "tcp";
    /**
     * The host to connect to.
     *
     * @default {"127.0.0.1"}
     */
    hostname?: string;
    /** The port, 1 to 65535. */
    port: number;
  }
  | {
    /** TCP with TLS. */
    transport: "tls";
    /**
     * The host to connect to, also the name checked in its certificate.
     *
     * @default {"127.0.0.1"}
     */
    hostname?: string;
    /** The port, 1 to 65535. */
    port: number;
    /**
     * Certificate authorities to trust, PEM; the system's roots if absent.
     *
     * @default {undefined}
     */
    caCerts?: string[];
  };

/**
 * How a {@linkcode FrameWriter} reconnects after a failure: exponential
 * backoff, doubling from `initialDelay` up to `maxDelay` after each failed
 * attempt, back to `initialDelay` after a success.
 *
 * @example
 * ```ts
 * import type { ReconnectOptions } from "@fstrm/fstrm/frame-writer";
 *
 * // libfstrm's writers retry every 5 s
 * const reconnect: ReconnectOptions = { initialDelay: 5000, maxDelay: 5000 };
 * console.log(reconnect);
 * ```
 */
export interface ReconnectOptions {
  /**
   * Milliseconds to wait before the first retry after a failure.
   *
   * @default {100}
   */
  initialDelay?: number;
  /**
   * The longest wait between two retries, in milliseconds.
   *
   * @default {5000}
   */
  maxDelay?: number;
}

/**
 * Options of {@linkcode FrameWriter.connect}.
 *
 * @example
 * ```ts
 * import type { FrameWriterOptions } from "@fstrm/fstrm/frame-writer";
 *
 * const options: FrameWriterOptions = {
 *   queueSize: 100_000,
 *   queueMode: "drop", // never make the DNS server wait, as libfstrm does
 *   flushInterval: 100,
 * };
 * console.log(options.queueMode);
 * ```
 */
export interface FrameWriterOptions {
  /**
   * The content types we can write, most preferred first, as strings
   * (UTF-8) or bytes: READY offers them all, START names the first one that
   * ACCEPT lists (unidirectionally: the first one). An empty list sends
   * READY and START without a content type. See
   * {@linkcode WriterHandshakeOptions}.
   *
   * @default {["protobuf:dnstap.Dnstap"]}
   */
  contentTypes?: readonly ContentTypeInput[];
  /**
   * Run the bidirectional handshake (READY, ACCEPT, START … STOP, FINISH),
   * or send only START … STOP and expect nothing from the peer, as Unbound
   * does with `dnstap-bidirectional: no`.
   *
   * @default {true}
   */
  bidirectional?: boolean;
  /**
   * Milliseconds to wait for ACCEPT after READY before the attempt fails.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds {@linkcode FrameWriter.prototype.close} waits for FINISH
   * after STOP before it closes the connection regardless.
   *
   * @default {5000}
   */
  finishTimeout?: number;
  /**
   * Bytes of encoded frames gathered before a socket write, at most
   * (libfstrm's buffer hint). Batches start at 256 KiB (or this, if
   * smaller) and double each time one fills up, to this size: a busy writer
   * makes few large socket writes, a quiet one holds less memory. The
   * writers of a process share 16 MiB of growth: a thousand busy writers
   * keep 256 KiB batches rather than take 1 MiB each. A batch that
   * `flushInterval` had to write starts them at 256 KiB again. A frame
   * larger than the batch is written alone, and so is a run given to
   * {@linkcode FrameWriter.prototype.writeEncoded} that does not fit in the
   * open batch. Memory: the queued frames (see `queueSize`) in batches of
   * up to this size, and up to four spare batch buffers for reuse.
   *
   * @default {1048576}
   */
  bufferSize?: number;
  /**
   * Milliseconds a queued frame may wait for more frames to fill its batch
   * before the batch is written anyway (libfstrm's flush timeout).
   *
   * @default {1000}
   */
  flushInterval?: number;
  /**
   * The most frames held in memory, not yet written: while connecting or
   * reconnecting, or while the socket is slower than the writes.
   *
   * @default {10000}
   */
  queueSize?: number;
  /**
   * What {@linkcode FrameWriter.prototype.write} does when the queue is
   * full: `"block"` waits for room (backpressure; no frame is dropped);
   * `"drop"` discards the frame at once and counts it in
   * {@linkcode WriterStats.dropped}, as libfstrm does.
   *
   * @default {"block"}
   */
  queueMode?: "block" | "drop";
  /**
   * Bytes of the last batches written on a connection that are written
   * again, first thing, on the next connection after a failure: at-least-once
   * delivery across a collector that dies or restarts. A completed socket
   * write is not a delivery (the frames may still sit unread in the socket
   * buffers when the collector dies); with a window at least as large as
   * those buffers (a Unix socket holds about 200 KiB, TCP on loopback several
   * MiB) plus what the collector holds unsaved, no frame is lost, and the
   * collector may see up to this many bytes of frames twice (counted in
   * {@linkcode WriterStats.framesResent}). `0`: off, as in libfstrm.
   *
   * @default {0}
   */
  resendWindow?: number;
  /**
   * How to reconnect after a failure, or `false` to give up at the first
   * one: the writer then fails, and `write()` and `flush()` reject with the
   * error.
   *
   * @default {{ initialDelay: 100, maxDelay: 5000 }}
   */
  reconnect?: ReconnectOptions | false;
  /**
   * Aborting it stops the writer at once: the connection is closed without
   * STOP, queued frames are discarded (counted in
   * {@linkcode WriterStats.discarded}), and pending and later `write()` and
   * `flush()` calls reject with the abort reason. `close()` still resolves.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * Called with each connection failure: a lost connection, a failed
   * (re)connection attempt, a broken handshake. The writer reconnects on its
   * own; this is for logging.
   *
   * @default {undefined}
   */
  onError?: (error: Error) => void;
}

/**
 * Counters of a {@linkcode FrameWriter}, a snapshot.
 *
 * @example
 * ```ts
 * import type { WriterStats } from "@fstrm/fstrm/frame-writer";
 *
 * function lost(stats: WriterStats): number {
 *   return stats.dropped + stats.discarded;
 * }
 * console.log(typeof lost);
 * ```
 */
export interface WriterStats {
  /** Data frames written to sockets: counted once each, when the socket write carrying them completed. */
  readonly framesWritten: number;
  /** Bytes of those data frames, 4-byte length words included. */
  readonly bytesWritten: number;
  /** Socket writes of data frames (batches): far fewer than frames. */
  readonly batchesWritten: number;
  /** Frames `write()` refused because the queue was full (drop mode only). */
  readonly dropped: number;
  /** Frames thrown away unwritten because the writer was aborted or gave up. */
  readonly discarded: number;
  /**
   * Frames written again after a reconnection, from the `resendWindow`
   * (also counted in `framesWritten` each time).
   */
  readonly framesResent: number;
  /** Successful connections after the first one. */
  readonly reconnects: number;
  /** Whether a connection is in its data phase now. */
  readonly connected: boolean;
  /** Frames queued, not yet written. */
  readonly queued: number;
}

const DEFAULT_CONTENT_TYPES: readonly ContentTypeInput[] = [
  DNSTAP_CONTENT_TYPE,
];
/** The read buffer for what a collector sends us (ACCEPT, FINISH). */
const READ_SIZE = 4096;
/** A collector sends us control frames only; a data frame is an error. */
const MAX_INCOMING_FRAME = 512;
/** Batches kept for reuse. */
const SPARE_BATCHES = 4;
/** Batch buffers up to this size are kept for reuse (see SPARE_BATCHES). */
const SPARE_LIMIT = 1 << 20;
/** The first batch's size (at most bufferSize); it doubles while batches fill. */
const FIRST_BATCH = 262_144;
/**
 * How far all the writers of this process together may grow their batches
 * past FIRST_BATCH: a few busy writers get large batches, a thousand share
 * the budget (most keep FIRST_BATCH) rather than take a MiB each.
 */
const BATCH_GROWTH_BUDGET = 16 << 20;
/** Bytes of BATCH_GROWTH_BUDGET in use. */
let batchGrowth = 0;
const MAX_TIMER = 0x7fff_ffff;

const encoder = new TextEncoder();

/** Encoded data frames, written to a socket in one write. */
interface Batch {
  bytes: Uint8Array;
  view: DataView;
  length: number;
  frames: number;
  sealed: boolean;
  /** When its first frame came (performance.now()). */
  openedAt: number;
  /** The bytes at which it is full, and written. */
  target: number;
}

/** One connection and its handshake. */
interface Session {
  conn: Deno.Conn;
  handshake: WriterHandshake;
  decoder: FrameDecoder;
  alive: boolean;
  started: PromiseWithResolvers<void>;
  ended: PromiseWithResolvers<void>;
  reading: Promise<void>;
}

/** A write() waiting for room in block mode. */
interface Waiter {
  payload: Uint8Array;
  /** 0 for one payload; else the frames in `payload`, already encoded. */
  frames: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

/** A one-shot wake-up, renewed after each notification. */
class Wakeup {
  #p = Promise.withResolvers<void>();
  wait(): Promise<void> {
    return this.#p.promise;
  }
  notify(): void {
    this.#p.resolve();
    this.#p = Promise.withResolvers<void>();
  }
}

/** Writes all of `bytes` to `conn` (a write may take only part of it). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function checkMs(name: string, value: unknown, min = 0): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot create frame writer: ${name} must be a number of milliseconds, got ${
        String(value)
      }`,
    );
  }
  if (value < min || value > MAX_TIMER) {
    throw new RangeError(
      `Cannot create frame writer: ${name} must be from ${min} to ${MAX_TIMER} ms, got ${value}`,
    );
  }
  return value;
}

function checkInt(name: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot create frame writer: ${name} must be an integer, got ${
        String(value)
      }`,
    );
  }
  if (value < min || value > 0x7fff_ffff) {
    throw new RangeError(
      `Cannot create frame writer: ${name} must be from ${min} to ${0x7fff_ffff}, got ${value}`,
    );
  }
  return value;
}

function checkTarget(target: ConnectTarget): ConnectTarget {
  const t = target as unknown as Record<string, unknown> | null;
  if (typeof t !== "object" || t === null) {
    throw new TypeError("Cannot connect: the target must be an object");
  }
  if (t.transport === "unix") {
    if (typeof t.path !== "string" || t.path === "") {
      throw new TypeError(
        "Cannot connect: a unix target needs a non-empty path",
      );
    }
    return target;
  }
  if (t.transport !== "tcp" && t.transport !== "tls") {
    throw new TypeError(
      `Cannot connect: transport must be "unix", "tcp" or "tls", got ${
        String(t.transport)
      }`,
    );
  }
  if (t.hostname !== undefined && typeof t.hostname !== "string") {
    throw new TypeError("Cannot connect: hostname must be a string");
  }
  if (typeof t.port !== "number" || !Number.isInteger(t.port)) {
    throw new TypeError(
      `Cannot connect: port must be an integer, got ${String(t.port)}`,
    );
  }
  if (t.port < 1 || t.port > 65535) {
    throw new RangeError(
      `Cannot connect: port must be from 1 to 65535, got ${t.port}`,
    );
  }
  if (
    t.caCerts !== undefined &&
    (!Array.isArray(t.caCerts) ||
      !t.caCerts.every((c: unknown) => typeof c === "string"))
  ) {
    throw new TypeError("Cannot connect: caCerts must be an array of strings");
  }
  return target;
}

async function dial(target: ConnectTarget): Promise<Deno.Conn> {
  switch (target.transport) {
    case "unix":
      return await Deno.connect({ transport: "unix", path: target.path });
    case "tcp": {
      const conn = await Deno.connect({
        transport: "tcp",
        hostname: target.hostname ?? "127.0.0.1",
        port: target.port,
      });
      // We batch ourselves; Nagle would only delay a flush.
      conn.setNoDelay(true);
      return conn;
    }
    case "tls":
      return await Deno.connectTls({
        hostname: target.hostname ?? "127.0.0.1",
        port: target.port,
        ...(target.caCerts === undefined ? {} : { caCerts: target.caCerts }),
      });
  }
}

/** Settled, shared: what `write()` returns for a frame queued at once. */
const RESOLVED: Promise<void> = Promise.resolve();

/** Why `payload` cannot be a data frame, or `null` if it can. */
function checkPayload(payload: unknown): Error | null {
  if (typeof payload === "string") {
    return payload.length === 0 ? emptyPayload() : null;
  }
  if (!(payload instanceof Uint8Array)) {
    return new TypeError(
      `Cannot write frame: expected a string or a Uint8Array, got ${typeof payload}`,
    );
  }
  if (payload.length === 0) return emptyPayload();
  if (payload.length > MAX_FRAME_LENGTH) {
    return new RangeError(
      `Cannot write frame: the payload is ${payload.length} bytes, limit ${MAX_FRAME_LENGTH}`,
    );
  }
  return null;
}

/**
 * The number of data frames in `bytes`, which must hold whole encoded data
 * frames and nothing else; else the error the decoder would give, with
 * offsets in `bytes`.
 */
function countEncoded(bytes: unknown): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot write frames: expected a Uint8Array, got ${typeof bytes}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const end = bytes.length;
  let at = 0;
  let frames = 0;
  while (end - at >= 4) {
    const length = view.getUint32(at);
    if (length === 0) {
      throw new UnexpectedFrameError(
        at,
        end - at >= 12 ? view.getUint32(at + 8) : 0,
        "a control frame among the data frames to write",
      );
    }
    if (end - at - 4 < length) {
      throw new TruncatedFrameError(at, end - at, 4 + length);
    }
    at += 4 + length;
    frames++;
  }
  if (at < end) throw new TruncatedFrameError(at, end - at, null);
  if (frames === 0) {
    throw new RangeError("Cannot write frames: no frame in empty bytes");
  }
  return frames;
}

/**
 * A Frame Streams writer on a socket: the client that sends data frames to a
 * collector, as a DNS server sends dnstap.
 *
 * Make one with {@linkcode FrameWriter.connect}, which resolves once the
 * first handshake is done. {@linkcode FrameWriter.prototype.write} encodes
 * each frame straight into a batch buffer; a batch is written in one socket
 * write when it is full (batches grow from 256 KiB to `bufferSize` bytes
 * while the writer is busy), when `flushInterval` ms have
 * passed since its first frame, or on {@linkcode FrameWriter.prototype.flush}
 * or {@linkcode FrameWriter.prototype.close}. After any failure (the
 * connection lost, the collector closing it, a broken handshake) the writer
 * reconnects in the background with exponential backoff, redoing the whole
 * handshake, while `write()` keeps queueing.
 *
 * **Delivery guarantee.** Frames go out in the order `write()` was called.
 * In block mode, a frame whose `write()` resolved is never dropped by the
 * writer: it stays queued until the socket write holding it completed, and a
 * batch whose socket write failed is written again, whole, on the next
 * connection; `close()` resolves only after every queued frame was written
 * (it keeps reconnecting if it must; abort the `signal` to give up). So each
 * frame is handed in full to the kernel of at least one connection that
 * completed its handshake, and each connection carries a contiguous run of
 * the frames, in order. Two limits remain, as in every Frame Streams writer
 * (the protocol has no acknowledgement but FINISH at the very end):
 *
 * - a frame of a batch whose write failed part-way may arrive twice: at the
 *   end of the old connection and again at the start of the next;
 * - a completed socket write is not a delivery: if the collector dies before
 *   reading them, the frames in flight in the socket buffers are lost. Only a
 *   FINISH in answer to STOP (on `close()`) proves that the collector read
 *   everything. With {@linkcode FrameWriterOptions.resendWindow} the writer
 *   keeps the last batches it wrote and writes them again on the next
 *   connection: then nothing is lost (if the window covers what was in
 *   flight), and the collector may see those frames twice.
 *
 * In drop mode, a frame that finds the queue full is dropped and counted in
 * {@linkcode WriterStats.dropped}; queued frames have the same guarantee as
 * in block mode.
 *
 * @example Unidirectional, over a Unix socket
 * ```ts
 * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
 * import { decodeFrames } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/collector.sock`;
 * const listener = Deno.listen({ transport: "unix", path });
 * const received = (async () => {
 *   const conn = await listener.accept();
 *   const bytes: number[] = [];
 *   for await (const chunk of conn.readable) bytes.push(...chunk);
 *   return decodeFrames(new Uint8Array(bytes));
 * })();
 *
 * {
 *   await using writer = await FrameWriter.connect(
 *     { transport: "unix", path },
 *     { bidirectional: false },
 *   );
 *   for (let i = 0; i < 1000; i++) await writer.write(`frame ${i}`);
 * } // await using: close() sends STOP and closes
 *
 * const frames = await received;
 * assert.equal(frames.length, 1 + 1000 + 1); // START, data, STOP
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FrameWriter implements AsyncDisposable {
  #target: ConnectTarget;
  #contentTypes: readonly ContentTypeInput[];
  #bidirectional: boolean;
  #handshakeTimeout: number;
  #finishTimeout: number;
  #bufferSize: number;
  /** The next batch's size: grows to bufferSize while batches fill. */
  #batchSize: number;
  #flushInterval: number;
  #queueSize: number;
  #drop: boolean;
  #resendWindow: number;
  /** Batches written on this connection, kept for resendWindow. */
  #sent: Batch[] = [];
  #sentBytes = 0;
  #resent = 0;
  #reconnect: { initialDelay: number; maxDelay: number } | null;
  #signal: AbortSignal | undefined;
  #onError: ((error: Error) => void) | undefined;

  #batches: Batch[] = [];
  #spare: Uint8Array[] = [];
  #queued = 0;
  #admitted = 0;
  #waiters: Waiter[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  #session: Session | null = null;
  #pending: Session | null = null;
  #readers = new Set<Promise<void>>();
  #contentType: Uint8Array | null = null;
  #wake = new Wakeup();
  #interrupt = new Wakeup();
  #progress = new Wakeup();
  #running: Promise<void> = Promise.resolve();
  #closing = false;
  #closed: Promise<void> | null = null;
  #aborted = false;
  #failure: Error | null = null;

  #framesWritten = 0;
  #bytesWritten = 0;
  #batchesWritten = 0;
  #dropped = 0;
  #discarded = 0;
  #reconnects = 0;

  private constructor(target: ConnectTarget, options: FrameWriterOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        "Cannot create frame writer: options must be an object",
      );
    }
    this.#target = checkTarget(target);
    const {
      contentTypes = DEFAULT_CONTENT_TYPES,
      bidirectional = true,
      handshakeTimeout = 5000,
      finishTimeout = 5000,
      bufferSize = 1_048_576,
      flushInterval = 1000,
      queueSize = 10000,
      queueMode = "block",
      resendWindow = 0,
      reconnect = {},
      signal,
      onError,
    } = options;
    // Validates the content types and mode, and READY's size.
    new WriterHandshake({ contentTypes, bidirectional });
    this.#contentTypes = contentTypes;
    this.#bidirectional = bidirectional;
    this.#handshakeTimeout = checkMs("handshakeTimeout", handshakeTimeout);
    this.#finishTimeout = checkMs("finishTimeout", finishTimeout);
    this.#bufferSize = checkInt("bufferSize", bufferSize, 16);
    this.#batchSize = Math.min(FIRST_BATCH, this.#bufferSize);
    this.#flushInterval = checkMs("flushInterval", flushInterval);
    this.#queueSize = checkInt("queueSize", queueSize, 1);
    if (queueMode !== "block" && queueMode !== "drop") {
      throw new TypeError(
        `Cannot create frame writer: queueMode must be "block" or "drop", got ${
          String(queueMode)
        }`,
      );
    }
    this.#drop = queueMode === "drop";
    this.#resendWindow = checkInt("resendWindow", resendWindow, 0);
    if (reconnect === false) {
      this.#reconnect = null;
    } else if (typeof reconnect !== "object" || reconnect === null) {
      throw new TypeError(
        "Cannot create frame writer: reconnect must be an object or false",
      );
    } else {
      const initialDelay = checkMs(
        "reconnect.initialDelay",
        reconnect.initialDelay ?? 100,
      );
      const maxDelay = checkMs(
        "reconnect.maxDelay",
        reconnect.maxDelay ?? 5000,
      );
      if (maxDelay < initialDelay) {
        throw new RangeError(
          `Cannot create frame writer: reconnect.maxDelay (${maxDelay}) is less than reconnect.initialDelay (${initialDelay})`,
        );
      }
      this.#reconnect = { initialDelay, maxDelay };
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        "Cannot create frame writer: signal must be an AbortSignal",
      );
    }
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError(
        "Cannot create frame writer: onError must be a function",
      );
    }
    this.#signal = signal;
    this.#onError = onError;
  }

  /**
   * Connects to a collector and runs the first handshake.
   *
   * @param target Where to connect; see {@linkcode ConnectTarget}.
   * @param options Content types, mode, batching, queue and reconnection;
   * see {@linkcode FrameWriterOptions}.
   * @returns The writer, in its data phase. Later failures reconnect in the
   * background.
   * @throws {TypeError} If the target or an option has the wrong type.
   * @throws {RangeError} If an option is out of range.
   * @throws {HandshakeError} If the collector accepts none of our content
   * types, or breaks the handshake.
   * @throws {Deno.errors.TimedOut} If no ACCEPT came within
   * `handshakeTimeout`.
   * @throws {Deno.errors.UnexpectedEof} If the collector closed the
   * connection during the handshake.
   * @throws The error of the connection attempt (`Deno.errors.NotFound`,
   * `Deno.errors.ConnectionRefused`, a TLS error, …), or the signal's
   * reason if it was aborted.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // Nothing listens there.
   * await assert.rejects(
   *   FrameWriter.connect({ transport: "unix", path: "/nonexistent/dnstap.sock" }),
   *   Deno.errors.NotFound,
   * );
   * ```
   */
  static async connect(
    target: ConnectTarget,
    options: FrameWriterOptions = {},
  ): Promise<FrameWriter> {
    const writer = new FrameWriter(target, options);
    await writer.#open();
    return writer;
  }

  async #open(): Promise<void> {
    const signal = this.#signal;
    signal?.throwIfAborted();
    signal?.addEventListener("abort", this.#onAbort);
    try {
      await this.#connectOnce();
    } catch (error) {
      this.#closing = true;
      signal?.removeEventListener("abort", this.#onAbort);
      await this.#settleReaders();
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
    this.#running = this.#run();
  }

  /**
   * Queues one data frame.
   *
   * The payload is copied into the queue by the time the promise resolves;
   * do not change it before. In block mode, when the queue is full, the
   * promise resolves once there is room, and frames keep the order of the
   * `write()` calls even when they wait. In drop mode it resolves at once,
   * and a frame that found the queue full is counted in
   * {@linkcode WriterStats.dropped}.
   *
   * @param payload The frame's payload, bytes or a string (UTF-8); not
   * empty.
   * @returns A promise that resolves once the frame is queued (or dropped).
   * @throws {RangeError} If the payload is empty or over 2^32 - 1 bytes.
   * @throws {TypeError} If the payload is neither a string nor a
   * `Uint8Array`, or the writer is closing or closed.
   * @throws The failure that stopped the writer (with `reconnect: false`),
   * or the signal's reason once aborted.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * await writer.write(new Uint8Array([0x0a, 0x01, 0x00])); // bytes as they are
   * await writer.write("a string is sent as UTF-8");
   * await assert.rejects(writer.write(""), RangeError); // empty: never
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 2);
   * ```
   */
  write(payload: Uint8Array | string): Promise<void> {
    const invalid = checkPayload(payload);
    if (invalid !== null) return Promise.reject(invalid);
    const refused = this.#refusal();
    if (refused !== null) return Promise.reject(refused);
    const bytes = typeof payload === "string" ? null : payload;
    if (this.#queued < this.#queueSize && this.#waiters.length === 0) {
      if (bytes === null) this.#admitString(payload as string);
      else this.#admit(bytes);
      return RESOLVED;
    }
    // No room: what is queued goes now, not after flushInterval.
    this.#sealTail();
    if (this.#drop) {
      this.#dropped++;
      return RESOLVED;
    }
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push({
      payload: bytes ?? encoder.encode(payload as string),
      frames: 0,
      resolve: waiter.resolve,
      reject: waiter.reject,
    });
    return waiter.promise;
  }

  /**
   * Queues a data frame if the queue has room now, without a promise: the
   * fast path for a producer with many frames at hand. It returns `false`,
   * and queues and counts nothing, when the queue is full (or `write()`
   * calls are already waiting for room), whatever the `queueFull` policy:
   * the caller then waits with `await write(payload)` (or drops the frame
   * itself). The payload is copied before it returns.
   *
   * @param payload The frame's bytes, or a string sent as UTF-8; not empty.
   * @returns Whether the frame was queued.
   * @throws {TypeError} If the payload is neither a string nor a
   * `Uint8Array`, or the writer is closed.
   * @throws {RangeError} If the payload is empty or longer than
   * {@linkcode MAX_FRAME_LENGTH}.
   * @throws The failure that stopped the writer (with `reconnect: false`),
   * or the signal's reason once aborted.
   *
   * @example Writing as fast as the queue takes frames, waiting only when full
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false, queueSize: 100 },
   * );
   * const payload = new Uint8Array(200).fill(7);
   * for (let i = 0; i < 1000; i++) {
   *   if (!writer.tryWrite(payload)) await writer.write(payload); // full: wait
   * }
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 1000);
   * ```
   */
  tryWrite(payload: Uint8Array | string): boolean {
    const invalid = checkPayload(payload);
    if (invalid !== null) throw invalid;
    const refused = this.#refusal();
    if (refused !== null) throw refused;
    if (this.#queued >= this.#queueSize || this.#waiters.length > 0) {
      this.#sealTail();
      return false;
    }
    if (typeof payload === "string") this.#admitString(payload);
    else this.#admit(payload);
    return true;
  }

  /**
   * Queues data frames that are already encoded, each a 4-byte big-endian
   * length and its payload, back to back: a run of a capture file (see
   * {@linkcode FrameReader.prototype.forEachRun}) or of another stream,
   * forwarded without taking it apart. The frames are checked, counted and
   * copied in one piece (split between frames across batches), and then
   * are frames like any other: counted, batched, resent, dropped.
   *
   * They are queued together, when the queue has room for all of them (or
   * is empty: a call with more than `queueSize` frames waits for an empty
   * queue). In `"drop"` mode a full queue drops them all, counted.
   *
   * @param frames Whole encoded data frames, at least one; keep them as
   * they are until the promise resolves.
   * @returns A promise that resolves once the frames are queued (at once
   * when the queue has room).
   * @throws {TypeError} If `frames` is not a `Uint8Array`, or the writer is
   * closed.
   * @throws {RangeError} If `frames` is empty.
   * @throws {TruncatedFrameError} If the bytes end inside a frame.
   * @throws {UnexpectedFrameError} If they hold a control frame.
   * @throws The failure that stopped the writer (with `reconnect: false`),
   * or the signal's reason once aborted.
   *
   * @example Forwarding a capture file's frames, a run at a time
   * ```ts
   * import { encodeFrameStream, FrameWriter } from "@fstrm/fstrm";
   * import { openFrameReader } from "@fstrm/fstrm/file";
   * import assert from "node:assert/strict";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a", "b", "c"]));
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * await using reader = await openFrameReader(path);
   * await reader.forEachRun((window, start, end) => {
   *   const run = window.subarray(start, end);
   *   // Queued (copied) now, or wait: the window stays intact meanwhile.
   *   return writer.tryWriteEncoded(run) ? undefined : writer.writeEncoded(run);
   * });
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 3);
   * await Deno.remove(path);
   * ```
   */
  writeEncoded(frames: Uint8Array): Promise<void> {
    let count: number;
    try {
      count = countEncoded(frames);
    } catch (error) {
      return Promise.reject(error);
    }
    const refused = this.#refusal();
    if (refused !== null) return Promise.reject(refused);
    if (this.#waiters.length === 0 && this.#roomFor(count)) {
      this.#admitEncoded(frames, count);
      return RESOLVED;
    }
    this.#sealTail();
    if (this.#drop) {
      this.#dropped += count;
      return RESOLVED;
    }
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push({
      payload: frames,
      frames: count,
      resolve: waiter.resolve,
      reject: waiter.reject,
    });
    return waiter.promise;
  }

  /**
   * As {@linkcode FrameWriter.prototype.writeEncoded}, without a promise:
   * queues the frames (copied before it returns) if the queue has room for
   * them now, else returns `false` and queues and counts nothing, whatever
   * the `queueFull` policy.
   *
   * @param frames Whole encoded data frames, at least one.
   * @returns Whether the frames were queued.
   * @throws {TypeError} If `frames` is not a `Uint8Array`, or the writer is
   * closed.
   * @throws {RangeError} If `frames` is empty.
   * @throws {TruncatedFrameError} If the bytes end inside a frame.
   * @throws {UnexpectedFrameError} If they hold a control frame.
   * @throws The failure that stopped the writer (with `reconnect: false`),
   * or the signal's reason once aborted.
   *
   * @example
   * ```ts
   * import { encodeDataFrame, FrameWriter } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * const two = new Uint8Array([...encodeDataFrame("a"), ...encodeDataFrame("b")]);
   * assert.equal(writer.tryWriteEncoded(two), true);
   * assert.throws(() => writer.tryWriteEncoded(two.subarray(0, 6)), RangeError);
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 2);
   * ```
   */
  tryWriteEncoded(frames: Uint8Array): boolean {
    const count = countEncoded(frames);
    const refused = this.#refusal();
    if (refused !== null) throw refused;
    if (this.#waiters.length > 0 || !this.#roomFor(count)) {
      this.#sealTail();
      return false;
    }
    this.#admitEncoded(frames, count);
    return true;
  }

  /**
   * Writes every frame queued so far (every `write()` that resolved) to the
   * socket, without waiting for the batch to fill or for `flushInterval`.
   * While disconnected it waits for the reconnection.
   *
   * @returns A promise that resolves once those frames are written.
   * @throws The failure that stopped the writer (with `reconnect: false`),
   * or the signal's reason once aborted.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * await writer.write("urgent");
   * await writer.flush(); // on the wire now, not in up to flushInterval ms
   * assert.equal(writer.stats.framesWritten, 1);
   * await writer.close();
   * await drained;
   * ```
   */
  async flush(): Promise<void> {
    const target = this.#admitted;
    this.#sealTail();
    for (;;) {
      if (this.#aborted) throw this.#signal?.reason;
      if (this.#failure !== null) throw this.#failure;
      if (this.#admitted - this.#queued >= target) return;
      await this.#progress.wait();
    }
  }

  /**
   * Ends the stream: writes every queued frame (also those of `write()`
   * calls still waiting for room), sends STOP, waits for FINISH up to
   * `finishTimeout` (unidirectional: not at all), and closes the connection
   * regardless. If the connection is down, it keeps reconnecting until the
   * queue is written; with nothing queued, it just stops. Calling it again
   * returns the same promise.
   *
   * @returns A promise that resolves once the connection is closed; it does
   * not reject (abort the `signal` to cut it short).
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * await writer.write("last words");
   * await writer.close(); // flushes, sends STOP, closes
   * await drained;
   * assert.equal(writer.stats.framesWritten, 1);
   * await assert.rejects(writer.write("too late"), TypeError);
   * ```
   */
  close(): Promise<void> {
    if (this.#closed === null) this.#closed = this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#sealTail();
    this.#interrupt.notify();
    this.#wake.notify();
    await this.#running;
    await this.#settleReaders();
    this.#clearFlushTimer();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    // A writer that gave up leaves nothing behind.
    if (this.#queued > 0 || this.#waiters.length > 0) this.#discardAll(null);
  }

  /**
   * Calls {@linkcode FrameWriter.prototype.close}, for `await using`.
   *
   * @returns The promise of `close()`.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * {
   *   await using w = writer;
   *   await w.write("hello");
   * } // closed here
   * await drained;
   * assert.equal(writer.stats.framesWritten, 1);
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The writer's counters, a snapshot; see {@linkcode WriterStats}.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * await writer.write("hello");
   * const { framesWritten, queued, connected } = writer.stats;
   * assert.deepEqual([framesWritten, queued, connected], [0, 1, true]);
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.framesWritten, 1);
   * ```
   */
  get stats(): WriterStats {
    return {
      framesWritten: this.#framesWritten,
      bytesWritten: this.#bytesWritten,
      batchesWritten: this.#batchesWritten,
      dropped: this.#dropped,
      discarded: this.#discarded,
      reconnects: this.#reconnects,
      framesResent: this.#resent,
      connected: this.#session !== null,
      queued: this.#queued,
    };
  }

  /**
   * The content type the last START named (a copy), or `null` if it named
   * none. Each reconnection may choose anew.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * // A unidirectional collector that just reads.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await FrameWriter.connect(
   *   { transport: "tcp", port: listener.addr.port },
   *   { bidirectional: false },
   * );
   * // unidirectional: START names our first content type
   * assert.equal(new TextDecoder().decode(writer.contentType!), "protobuf:dnstap.Dnstap");
   * await writer.close();
   * await drained;
   * ```
   */
  get contentType(): Uint8Array | null {
    return this.#contentType === null ? null : this.#contentType.slice();
  }

  // -------------------------------------------------------------------------
  // The queue

  #refusal(): Error | null {
    if (this.#aborted) return asError(this.#signal?.reason);
    if (this.#failure !== null) return this.#failure;
    if (this.#closing) {
      return new TypeError("Cannot write frame: the writer is closed");
    }
    return null;
  }

  /** The open batch, with room for `need` more bytes. */
  #tailFor(need: number): Batch {
    const last = this.#batches[this.#batches.length - 1];
    if (last !== undefined && !last.sealed) {
      if (last.length + need <= last.bytes.length) return last;
      this.#sealFull(last);
    }
    const size = Math.max(this.#batchSize, need);
    const spare = this.#spare;
    let bytes: Uint8Array | undefined;
    for (let i = spare.length - 1; i >= 0; i--) {
      if (spare[i]!.length >= size) {
        bytes = spare[i]!;
        spare.splice(i, 1);
        break;
      }
    }
    bytes ??= new Uint8Array(size);
    const batch: Batch = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      length: 0,
      frames: 0,
      sealed: false,
      openedAt: 0,
      target: this.#batchSize,
    };
    this.#batches.push(batch);
    return batch;
  }

  #admit(payload: Uint8Array): void {
    const need = 4 + payload.length;
    const batch = this.#tailFor(need);
    batch.view.setUint32(batch.length, payload.length);
    batch.bytes.set(payload, batch.length + 4);
    this.#added(batch, need);
  }

  #admitString(payload: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: encode in place when that
    // fits in the open batch, else encode first.
    const most = 4 + 3 * payload.length;
    const last = this.#batches[this.#batches.length - 1];
    if (
      last !== undefined && !last.sealed &&
      last.length + most <= last.bytes.length
    ) {
      const { written } = encoder.encodeInto(
        payload,
        last.bytes.subarray(last.length + 4),
      );
      last.view.setUint32(last.length, written);
      this.#added(last, 4 + written);
    } else {
      this.#admit(encoder.encode(payload));
    }
  }

  /** Whether `frames` more frames may be queued: all fit, or none wait. */
  #roomFor(frames: number): boolean {
    return this.#queued === 0 ||
      this.#queued + frames <= this.#queueSize;
  }

  /**
   * Queues `frames` encoded data frames (checked by countEncoded), copied in
   * one piece: into the open batch if they fit in it, else into a batch of
   * their own (a run larger than bufferSize is written in one go, as a
   * frame larger than it is).
   */
  #admitEncoded(bytes: Uint8Array, frames: number): void {
    const batch = this.#tailFor(bytes.length);
    batch.bytes.set(bytes, batch.length);
    this.#added(batch, bytes.length, frames);
  }

  #added(batch: Batch, bytes: number, frames = 1): void {
    const opened = batch.frames === 0;
    batch.length += bytes;
    batch.frames += frames;
    this.#queued += frames;
    this.#admitted += frames;
    // A full queue takes no more frames until a batch is written: the open
    // batch goes now, not after flushInterval.
    if (batch.length >= batch.target) {
      this.#sealFull(batch);
    } else if (this.#queued >= this.#queueSize) {
      this.#seal(batch);
    } else if (opened) {
      batch.openedAt = performance.now();
      if (this.#flushTimer === undefined) this.#armFlush(this.#flushInterval);
    }
  }

  /**
   * One timer for the open batch's flushInterval, not one per batch: when it
   * fires, it seals the open batch if that is old enough, else waits for the
   * rest of its time (batches filled up meanwhile were written without it).
   */
  #armFlush(ms: number): void {
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      const last = this.#batches[this.#batches.length - 1];
      if (last === undefined || last.sealed || last.frames === 0) return;
      const left = last.openedAt + this.#flushInterval - performance.now();
      if (left > 1) this.#armFlush(left);
      else {
        // Not full in flushInterval: the writer is not busy (now).
        this.#resizeBatches(Math.min(FIRST_BATCH, this.#bufferSize));
        this.#seal(last);
      }
    }, ms);
  }

  #seal(batch: Batch): void {
    if (batch.sealed) return;
    batch.sealed = true;
    this.#wake.notify();
  }

  /** Seals a batch that is full: the next one may be larger. */
  #sealFull(batch: Batch): void {
    this.#resizeBatches(Math.min(2 * batch.target, this.#bufferSize));
    this.#seal(batch);
  }

  /** Sets the next batches' size, growing only within the shared budget. */
  #resizeBatches(size: number): void {
    const more = size - this.#batchSize;
    if (more > 0 && batchGrowth + more > BATCH_GROWTH_BUDGET) return;
    batchGrowth += more;
    this.#batchSize = size;
  }

  #sealTail(): void {
    const last = this.#batches[this.#batches.length - 1];
    if (last !== undefined && last.frames > 0) this.#seal(last);
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
  }

  /** Moves waiting writes into the queue while there is room. */
  #admitWaiters(): void {
    const waiters = this.#waiters;
    let i = 0;
    while (i < waiters.length) {
      const w = waiters[i]!;
      if (w.frames === 0) {
        if (this.#queued >= this.#queueSize) break;
        this.#admit(w.payload);
      } else {
        if (!this.#roomFor(w.frames)) break;
        this.#admitEncoded(w.payload, w.frames);
      }
      i++;
      w.resolve();
    }
    if (i > 0) waiters.splice(0, i);
    // Frames of writes that waited until close() go out now.
    if (this.#closing) this.#sealTail();
  }

  /** Throws the queue away, counting it; rejects waiting writes. */
  #discardAll(reason: unknown): void {
    this.#discarded += this.#queued;
    for (const w of this.#waiters) this.#discarded += Math.max(w.frames, 1);
    this.#queued = 0;
    this.#batches = [];
    this.#sent = [];
    this.#sentBytes = 0;
    this.#clearFlushTimer();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      w.reject(
        reason ?? new TypeError("Cannot write frame: the writer was closed"),
      );
    }
    this.#progress.notify();
  }

  // -------------------------------------------------------------------------
  // Connections

  #onAbort = (): void => {
    this.#aborted = true;
    this.#closing = true;
    this.#discardAll(this.#signal?.reason);
    if (this.#session !== null) this.#lose(this.#session, null);
    if (this.#pending !== null) this.#lose(this.#pending, null);
    this.#interrupt.notify();
    this.#wake.notify();
    this.#progress.notify();
  };

  #report(error: Error): void {
    try {
      this.#onError?.(error);
    } catch {
      // A logging callback must not break the writer.
    }
  }

  /** Dials and runs one handshake; on success, the session is current. */
  async #connectOnce(): Promise<void> {
    const conn = await dial(this.#target);
    if (this.#aborted) {
      conn.close();
      throw this.#signal?.reason;
    }
    const session: Session = {
      conn,
      handshake: new WriterHandshake({
        contentTypes: this.#contentTypes,
        bidirectional: this.#bidirectional,
      }),
      decoder: new FrameDecoder({ maxFrameLength: MAX_INCOMING_FRAME }),
      alive: true,
      started: Promise.withResolvers<void>(),
      ended: Promise.withResolvers<void>(),
      reading: Promise.resolve(),
    };
    session.started.promise.catch(() => {});
    this.#pending = session;
    const reading = this.#read(session);
    session.reading = reading;
    this.#readers.add(reading);
    reading.finally(() => this.#readers.delete(reading));
    const timer = setTimeout(() => {
      this.#lose(
        session,
        new Deno.errors.TimedOut(
          `Cannot connect: no ACCEPT within ${this.#handshakeTimeout} ms after READY`,
        ),
      );
    }, this.#handshakeTimeout);
    try {
      await this.#handle(session, session.handshake.start());
      await session.started.promise;
    } catch (error) {
      this.#lose(session, null);
      throw error;
    } finally {
      clearTimeout(timer);
      this.#pending = null;
    }
    this.#contentType = session.handshake.contentType;
    this.#session = session;
    this.#progress.notify();
  }

  /** Acts on handshake events: sends, and settles the session's promises. */
  async #handle(
    session: Session,
    events: WriterEvent[],
  ): Promise<void> {
    for (const event of events) {
      switch (event.type) {
        case "send":
          await writeAll(session.conn, event.bytes);
          break;
        case "started":
          session.started.resolve();
          break;
        case "finished":
          session.ended.resolve();
          break;
        case "failed":
          throw event.error;
      }
    }
  }

  /** Reads what the collector sends (ACCEPT, FINISH) until the end. */
  async #read(session: Session): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    let error: Error | null = null;
    try {
      for (;;) {
        const n = await session.conn.read(buf);
        if (n === null) break;
        session.decoder.push(buf.slice(0, n));
        for (let f = session.decoder.next(); f !== null;) {
          await this.#handle(session, session.handshake.receive(f));
          if (session.handshake.state === "finished") return;
          f = session.decoder.next();
        }
      }
      if (session.alive) {
        const state = session.handshake.state;
        error = new Deno.errors.UnexpectedEof(
          state === "ready-sent"
            ? "Handshake failed: the collector closed the connection before ACCEPT"
            : state === "stopping"
            ? "The collector closed the connection before FINISH"
            : "The collector closed the connection",
        );
      }
    } catch (e) {
      if (session.alive) error = asError(e);
    } finally {
      this.#lose(session, error);
    }
  }

  /** Keeps a written batch's buffer for the next batches, if worth it. */
  #recycle(batch: Batch): void {
    // Batches up to bufferSize, and those of runs up to a FrameReader's
    // window: kept for the next batches, a few at most, the largest (as
    // batches grow, the small ones would never serve again).
    const bytes = batch.bytes;
    if (bytes.length > Math.max(this.#bufferSize, SPARE_LIMIT)) return;
    const spare = this.#spare;
    if (spare.length < SPARE_BATCHES) {
      spare.push(bytes);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < spare.length; i++) {
      if (spare[i]!.length < spare[smallest]!.length) smallest = i;
    }
    if (spare[smallest]!.length < bytes.length) spare[smallest] = bytes;
  }

  /** Keeps a written batch for the resend window, dropping the oldest. */
  #keepSent(batch: Batch): void {
    const sent = this.#sent;
    sent.push(batch);
    this.#sentBytes += batch.length;
    while (
      sent.length > 1 && this.#sentBytes - sent[0]!.length >= this.#resendWindow
    ) {
      const old = sent.shift()!;
      this.#sentBytes -= old.length;
      this.#recycle(old);
    }
  }

  /** Puts the kept batches back at the head of the queue, in order. */
  #requeueSent(): void {
    const sent = this.#sent;
    if (sent.length === 0) return;
    let frames = 0;
    for (const b of sent) frames += b.frames;
    this.#batches.unshift(...sent);
    this.#queued += frames;
    this.#resent += frames;
    this.#sent = [];
    this.#sentBytes = 0;
  }

  /** Ends a session: closes its connection, once; reports `error`. */
  #lose(session: Session, error: Error | null): void {
    if (!session.alive) return;
    session.alive = false;
    try {
      session.conn.close();
    } catch {
      // already closed
    }
    session.started.reject(
      error ?? new Deno.errors.Interrupted("Cannot connect: interrupted"),
    );
    session.ended.resolve();
    if (this.#session === session) {
      this.#session = null;
      if (error !== null) this.#report(error);
      this.#wake.notify();
    }
  }

  async #settleReaders(): Promise<void> {
    while (this.#readers.size > 0) await Promise.all(this.#readers);
  }

  /** Waits `ms`, or less if close() or an abort interrupts. */
  async #sleep(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
      this.#interrupt.wait(),
    ]);
    clearTimeout(timer);
  }

  /** The background loop: writes batches, reconnects, stops at the end. */
  async #run(): Promise<void> {
    let delay = this.#reconnect?.initialDelay ?? 0;
    try {
      for (;;) {
        if (this.#aborted || this.#failure !== null) return;
        const session = this.#session;
        if (session === null) {
          // What may not have reached the collector goes first again.
          this.#requeueSent();
          if (
            this.#closing && this.#queued === 0 && this.#waiters.length === 0
          ) {
            return;
          }
          if (this.#reconnect === null) {
            this.#failure = new Deno.errors.NotConnected(
              "Cannot write frame: the connection was lost and reconnect is false",
            );
            this.#discardAll(this.#failure);
            return;
          }
          // Back off before every attempt; only a connection that carried
          // a batch resets the delay, so a collector that accepts and then
          // drops us at once is not hammered.
          await this.#sleep(delay);
          delay = Math.min(delay * 2, this.#reconnect.maxDelay);
          if (this.#aborted) return;
          try {
            await this.#connectOnce();
          } catch (error) {
            if (!this.#aborted) this.#report(asError(error));
            continue;
          }
          this.#reconnects++;
          continue;
        }
        const batch = this.#batches[0];
        if (batch === undefined || !batch.sealed) {
          if (
            this.#closing && this.#queued === 0 && this.#waiters.length === 0
          ) {
            await this.#stop(session);
            return;
          }
          await this.#wake.wait();
          continue;
        }
        try {
          await writeAll(session.conn, batch.bytes.subarray(0, batch.length));
        } catch (error) {
          if (!this.#aborted) this.#lose(session, asError(error));
          continue;
        }
        if (this.#aborted) return;
        this.#batches.shift();
        this.#queued -= batch.frames;
        this.#framesWritten += batch.frames;
        this.#bytesWritten += batch.length;
        this.#batchesWritten++;
        delay = this.#reconnect?.initialDelay ?? 0;
        if (this.#resendWindow > 0) this.#keepSent(batch);
        else this.#recycle(batch);
        this.#admitWaiters();
        this.#progress.notify();
      }
    } catch (error) {
      // A bug: fail loudly to callers rather than hang them.
      this.#failure = asError(error);
      this.#discardAll(this.#failure);
    } finally {
      if (this.#session !== null) this.#lose(this.#session, null);
      // Done: the growth goes back to the shared budget.
      this.#resizeBatches(Math.min(FIRST_BATCH, this.#bufferSize));
      this.#progress.notify();
    }
  }

  /** Sends STOP, waits for FINISH (bidirectional) or the timeout, closes. */
  async #stop(session: Session): Promise<void> {
    try {
      await this.#handle(session, session.handshake.stop());
    } catch {
      this.#lose(session, null);
      return;
    }
    if (this.#bidirectional) {
      const timer = setTimeout(
        () => this.#lose(session, null),
        this.#finishTimeout,
      );
      await session.ended.promise;
      clearTimeout(timer);
    }
    this.#lose(session, null);
  }
}

function emptyPayload(): RangeError {
  return new RangeError(
    "Cannot write frame: the payload is empty, and a zero length is the control frame escape",
  );
}
