// Private: the options of FrameWriter, their documentation and their
// checks, resolved once into the settings the writer and its batch queue
// use.
import { DNSTAP_CONTENT_TYPE } from "./constants.ts";
import type { ContentTypeInput } from "./frame.ts";
import { WriterSession, type WriterSessionOptions } from "./writer_session.ts";

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
export interface FrameWriterOptions extends WriterSessionOptions {
  /**
   * Milliseconds {@linkcode FrameWriter.connect} keeps trying to reach the
   * collector, as later reconnections do (with the `reconnect` backoff),
   * before it rejects with the last attempt's error: a collector that is
   * starting up, or restarting, can be waited for. Only failures to connect
   * are retried (no socket there yet, connection refused, …): a collector
   * that answers and breaks the handshake fails `connect()` at once, and so
   * does a connection Deno's permissions refuse (`NotCapable`). `0`
   * (or `reconnect: false`) makes one attempt. Each attempt that is retried
   * goes to `onError`.
   *
   * @default {10000}
   */
  connectTimeout?: number;
  /**
   * Bytes of encoded frames gathered before a socket write, at most
   * (libfstrm's buffer hint). Batches start at 256 KiB (or this, if
   * smaller) and double each time one fills up, to this size: a busy writer
   * makes few large socket writes, a quiet one holds less memory. The
   * writers of a process share 16 MiB of growth: a thousand busy writers
   * keep 256 KiB batches rather than take 1 MiB each. A batch that
   * `flushInterval` had to write starts them at 256 KiB again. A frame
   * larger than the batch is written alone, and so is a run given to
   * {@linkcode FrameWriter.prototype.writeRun} that does not fit in the
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
   * {@linkcode WriterStats.resent}). `0`: off, as in libfstrm.
   *
   * @default {0}
   */
  resendWindow?: number;
  /**
   * How to reconnect after a failure, or `false` to give up at the first
   * one: the writer then fails, and `write()` and `flush()` reject with the
   * error (and {@linkcode FrameWriter.connect} makes a single attempt,
   * whatever `connectTimeout` says).
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
   * (re)connection attempt (also those `connect()` retries within
   * `connectTimeout`), a broken handshake, a collector that did not answer
   * STOP with FINISH in time ({@linkcode SessionTimeoutError}, reason
   * `"finish"`) or closed the connection first ({@linkcode HandshakeError},
   * reason `"closed"`). The writer reconnects on its own; this is for
   * logging.
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
  /**
   * Data frames written whole to sockets, each time one is: those of every
   * batch whose socket write completed, and those that a write cut by a
   * connection failure had passed on whole (counted once the failure is
   * seen). Written to the socket is not received: a collector that closes
   * loses what sat unread in the socket buffers, so it may have read fewer.
   */
  readonly frames: number;
  /** Payload bytes of those data frames (4-byte length words not included). */
  readonly bytes: number;
  /** Socket writes of data frames (batches) that completed: far fewer than frames. */
  readonly batches: number;
  /** Frames `write()` refused because the queue was full (drop mode only). */
  readonly dropped: number;
  /** Frames thrown away unwritten because the writer was aborted or gave up. */
  readonly discarded: number;
  /**
   * Frames put back to be written again after a reconnection: the batches
   * of the `resendWindow`, and the whole frames that a write cut by a
   * failure had passed on (its batch is written again whole). Counted in
   * `frames` and `bytes` each time they are written, so
   * `frames - resent + discarded + queued` counts each frame given to the
   * writer and not dropped once (those still waiting for room aside).
   */
  readonly resent: number;
  /** Successful connections after the first one. */
  readonly reconnects: number;
  /** Whether a connection is in its data phase now. */
  readonly connected: boolean;
  /** Frames queued, not yet written. */
  readonly queued: number;
}

/** FrameWriterOptions with every default applied, checked. */
export interface WriterSettings {
  contentTypes: readonly ContentTypeInput[];
  bidirectional: boolean;
  handshakeTimeout: number;
  finishTimeout: number;
  connectTimeout: number;
  bufferSize: number;
  flushInterval: number;
  queueSize: number;
  drop: boolean;
  resendWindow: number;
  reconnect: { initialDelay: number; maxDelay: number } | null;
  signal: AbortSignal | undefined;
  onError: ((error: Error) => void) | undefined;
}

const DEFAULT_CONTENT_TYPES: readonly ContentTypeInput[] = [
  DNSTAP_CONTENT_TYPE,
];
/** The longest a platform timer waits. */
const MAX_TIMER = 0x7fff_ffff;

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

function checkReconnect(
  reconnect: unknown,
): { initialDelay: number; maxDelay: number } | null {
  if (reconnect === false) return null;
  if (typeof reconnect !== "object" || reconnect === null) {
    throw new TypeError(
      "Cannot create frame writer: reconnect must be an object or false",
    );
  }
  const r = reconnect as ReconnectOptions;
  const initialDelay = checkMs("reconnect.initialDelay", r.initialDelay ?? 100);
  const maxDelay = checkMs("reconnect.maxDelay", r.maxDelay ?? 5000);
  if (maxDelay < initialDelay) {
    throw new RangeError(
      `Cannot create frame writer: reconnect.maxDelay (${maxDelay}) is less than reconnect.initialDelay (${initialDelay})`,
    );
  }
  return { initialDelay, maxDelay };
}

/** Checks `options` and applies the defaults. */
export function resolveWriterOptions(
  options: FrameWriterOptions,
): WriterSettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      "Cannot create frame writer: options must be an object",
    );
  }
  const {
    contentTypes = DEFAULT_CONTENT_TYPES,
    bidirectional = true,
    handshakeTimeout = 5000,
    finishTimeout = 5000,
    connectTimeout = 10_000,
    bufferSize = 1_048_576,
    flushInterval = 1000,
    queueSize = 10000,
    queueMode = "block",
    resendWindow = 0,
    reconnect = {},
    signal,
    onError,
  } = options;
  // Checks the content types, the mode and READY's size.
  new WriterSession({ contentTypes, bidirectional });
  if (queueMode !== "block" && queueMode !== "drop") {
    throw new TypeError(
      `Cannot create frame writer: queueMode must be "block" or "drop", got ${
        String(queueMode)
      }`,
    );
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
  return {
    contentTypes,
    bidirectional,
    handshakeTimeout: checkMs("handshakeTimeout", handshakeTimeout),
    finishTimeout: checkMs("finishTimeout", finishTimeout),
    connectTimeout: checkMs("connectTimeout", connectTimeout),
    bufferSize: checkInt("bufferSize", bufferSize, 16),
    flushInterval: checkMs("flushInterval", flushInterval),
    queueSize: checkInt("queueSize", queueSize, 1),
    drop: queueMode === "drop",
    resendWindow: checkInt("resendWindow", resendWindow, 0),
    reconnect: checkReconnect(reconnect),
    signal,
    onError,
  };
}
