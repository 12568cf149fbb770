/**
 * A Frame Streams collector: DNS servers (and any Frame Streams writer)
 * connect to it over a Unix socket, TCP or TLS and stream frames to it.
 *
 * A thin I/O shell over a {@linkcode FrameDecoder} and a
 * {@linkcode ReaderHandshake} per connection: it detects the mode from the
 * first frame (READY: bidirectional, START: unidirectional), answers READY
 * with ACCEPT and STOP with FINISH, times out handshakes, and hands data
 * frames to the application with their connection, as an async iterable or
 * through a callback. When the application is slower than the writers it
 * stops reading from their sockets (flow control) instead of buffering
 * without bound.
 *
 * @example Receiving a unidirectional stream over TCP
 * ```ts
 * import { encodeFrameStream, FrameReceiver } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
 * const { port } = receiver.addr as Deno.NetAddr;
 *
 * const conn = await Deno.connect({ port });
 * await conn.write(encodeFrameStream(["hello", "world"], { contentType: "test" }));
 * conn.close();
 *
 * const payloads: string[] = [];
 * for await (const frame of receiver) {
 *   payloads.push(new TextDecoder().decode(frame.data));
 *   if (payloads.length === 2) break;
 * }
 * assert.deepEqual(payloads, ["hello", "world"]);
 * ```
 *
 * @module
 */
import type { ContentTypeInput } from "./frame.ts";
import type { EngineOption } from "./engine.ts";
import { FrameDecoder, type OversizePolicy } from "./frame_decoder.ts";
import { ReaderHandshake } from "./reader_handshake.ts";
import {
  ControlFrameError,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "./errors.ts";

/**
 * Where a {@linkcode FrameReceiver} listens.
 *
 * - `"unix"`: a Unix stream socket at `path`. A stale socket file (no live
 *   listener behind it) is replaced; a path held by a live listener, or one
 *   that is not a socket, is refused. `mode` (for instance `0o660`) is
 *   applied to the socket file once it exists. The file is removed on close.
 * - `"tcp"`: `hostname` (default `"127.0.0.1"`) and `port` (`0`: any free
 *   port; see {@linkcode FrameReceiver.prototype.addr}).
 * - `"tls"`: as `"tcp"`, with a PEM certificate chain and private key.
 *
 * @example
 * ```ts
 * import type { ListenTarget } from "@fstrm/fstrm";
 *
 * const target: ListenTarget = { transport: "unix", path: "/run/dnstap.sock", mode: 0o660 };
 * console.log(target.transport);
 * ```
 */
export type ListenTarget =
  | {
    /** Always `"unix"`. */
    transport: "unix";
    /** The socket file's path. */
    path: string;
    /** Permission bits for the socket file, applied after it is created. */
    mode?: number;
  }
  | {
    /** Always `"tcp"`. */
    transport: "tcp";
    /** The address to bind. @default {"127.0.0.1"} */
    hostname?: string;
    /** The port; `0` picks a free one. */
    port: number;
  }
  | {
    /** Always `"tls"`. */
    transport: "tls";
    /** The address to bind. @default {"127.0.0.1"} */
    hostname?: string;
    /** The port; `0` picks a free one. */
    port: number;
    /** The certificate chain, PEM. */
    cert: string;
    /** The private key, PEM. */
    key: string;
  };

/**
 * Called by a {@linkcode FrameReceiver} for each data frame, given
 * {@linkcode FrameReceiverOptions.onData}: the payload is
 * `window[offset, offset + length)`, valid only during the call.
 *
 * @example
 * ```ts
 * import type { DataCallback } from "@fstrm/fstrm";
 *
 * let bytes = 0;
 * const count: DataCallback = (_window, _offset, length, connection) => {
 *   bytes += length;
 *   if (connection.id < 0) throw new Error("never");
 * };
 * console.log(typeof count);
 * ```
 */
export type DataCallback = (
  window: Uint8Array,
  offset: number,
  length: number,
  connection: ConnectionInfo,
) => void | PromiseLike<void>;

/**
 * Called by a {@linkcode FrameReceiver} for each run of data frames, given
 * {@linkcode FrameReceiverOptions.onRun}: `window[start, end)` holds
 * `frames` whole data frames still encoded (each a 4-byte big-endian length
 * and its payload), as they came, valid only during the call.
 *
 * @example
 * ```ts
 * import type { RunCallback } from "@fstrm/fstrm";
 *
 * let frames = 0;
 * const count: RunCallback = (_window, _start, _end, n) => {
 *   frames += n;
 * };
 * console.log(typeof count);
 * ```
 */
export type RunCallback = (
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
  connection: ConnectionInfo,
) => void | PromiseLike<void>;

/**
 * Options of {@linkcode FrameReceiver.listen}.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE, type FrameReceiverOptions } from "@fstrm/fstrm";
 *
 * const options: FrameReceiverOptions = {
 *   contentTypes: [DNSTAP_CONTENT_TYPE],
 *   handshakeTimeout: 2_000,
 *   maxFrameLength: 131_072,
 *   oversize: "skip",
 * };
 * console.log(options.contentTypes);
 * ```
 */
export interface FrameReceiverOptions {
  /**
   * The content types accepted, as strings (UTF-8) or bytes, compared as
   * opaque bytes. Empty: any content type. A READY offering none of them is
   * refused (no ACCEPT, the connection is closed), as is a START naming
   * another one.
   *
   * @default {[]}
   */
  contentTypes?: readonly ContentTypeInput[];
  /**
   * Milliseconds a new connection has to send READY or START, and then
   * (after our ACCEPT) START; past it the connection is closed and counted
   * in `handshakeFailures`. `0` disables the limit.
   *
   * @default {5000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds a started stream may stay silent before it is closed. `0`:
   * no limit (DNS servers can be quiet for hours). Time spent waiting for
   * the application (flow control) does not count.
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * The longest data frame payload accepted, in bytes. Real dnstap frames
   * reach about 56 KB.
   *
   * @default {1048576}
   */
  maxFrameLength?: number;
  /**
   * What to do with a longer data frame: `"error"` closes the connection
   * (counted as a protocol error), `"skip"` discards the frame (counted in
   * `oversizedFrames`) and goes on.
   *
   * @default {"error"}
   */
  oversize?: OversizePolicy;
  /**
   * The decoder's scan engine; see {@linkcode FrameDecoderOptions}.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /**
   * Connections served at once; a connection beyond it is closed at once
   * and counted in `connectionsRejected`.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Frames buffered for the application before the receiver stops reading
   * from sockets. Each connection finishes the read it is handling, so the
   * buffer holds at most `highWaterMark` plus one read's worth of frames
   * per connection.
   *
   * @default {1024}
   */
  highWaterMark?: number;
  /**
   * The most bytes a connection reads from its socket at once (and so the
   * size of its read buffer): a started stream reads 64 KiB at a time, and
   * twice as much after each read that filled its buffer, up to this (at
   * least 64 KiB). Larger reads cost fewer system calls on a busy stream;
   * a quiet one never grows. Memory per connection is about this plus one
   * frame; the growth of all connections together stays within 8 MiB (so
   * with a thousand busy writers most read 64 KiB at a time).
   *
   * @default {262144}
   */
  readSize?: number;
  /**
   * Milliseconds that {@linkcode FrameReceiver.prototype.close} gives open
   * streams to reach STOP (or end) before it closes them.
   *
   * @default {5000}
   */
  gracePeriod?: number;
  /** Aborting it closes the receiver, as {@linkcode FrameReceiver.prototype.close} does. */
  signal?: AbortSignal;
  /**
   * Called for each data frame, in order, one at a time, instead of async
   * iteration (which is then refused). A returned promise is awaited before
   * the next frame, so a slow handler slows the writers down through flow
   * control. If it throws (or rejects), the receiver closes its connections
   * at once and `close()` rejects with that error.
   */
  onFrame?: (frame: ReceivedFrame) => void | Promise<void>;
  /**
   * The fastest way to take frames, instead of `onFrame` or async
   * iteration (both are then refused): called for each data frame straight
   * from its connection's read loop, with the payload as
   * `window[offset, offset + length)`, a view of the connection's read
   * buffer valid only during the call (copy what you keep). Nothing is
   * allocated or copied per frame. Frames of one connection come in order;
   * those of different connections interleave. If it returns a promise,
   * the connection's next frame waits until it settles, and the connection
   * reads nothing more meanwhile: flow control per connection. If it throws
   * (or rejects), the receiver fails as for `onFrame`.
   */
  onData?: DataCallback;
  /**
   * Frames still encoded, in runs, instead of `onFrame`, `onData` or async
   * iteration (all refused then): called from a connection's read loop with
   * `window[start, end)` holding `frames` consecutive whole data frames as
   * they came (length words included), a view of the read buffer valid only
   * during the call. The way to write frames to a file or forward them
   * (see {@linkcode FrameWriter.prototype.writeEncoded}) in one copy per
   * run. A run ends at a control frame and at the end of a read; a frame
   * that spans reads comes as a run of one. Flow control and failures as
   * for `onData`.
   */
  onRun?: RunCallback;
  /**
   * Called when a connection opens, starts its stream, and closes. If it
   * throws, the receiver fails as for `onFrame`.
   */
  onConnection?: (event: ConnectionEvent) => void;
}

/**
 * A connection, as frames and events describe it. The object of a started
 * connection does not change: every frame of a connection shares one.
 *
 * @example
 * ```ts
 * import type { ConnectionInfo } from "@fstrm/fstrm";
 *
 * const info: ConnectionInfo = {
 *   id: 1,
 *   remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
 *   mode: "bidirectional",
 *   contentType: new TextEncoder().encode("protobuf:dnstap.Dnstap"),
 * };
 * console.log(info.id);
 * ```
 */
export interface ConnectionInfo {
  /** A number unique within the receiver, counting from 1. */
  readonly id: number;
  /** The peer's address (for a Unix socket, usually an empty path). */
  readonly remoteAddr: Deno.Addr;
  /** READY first (`"bidirectional"`), START first, or `null` before either. */
  readonly mode: "bidirectional" | "unidirectional" | null;
  /** The content type START named, or `null` (before START, or if it named none). */
  readonly contentType: Uint8Array | null;
}

/**
 * A data frame received, with its connection.
 *
 * @example
 * ```ts
 * import type { ReceivedFrame } from "@fstrm/fstrm";
 *
 * function show(frame: ReceivedFrame): string {
 *   return `${frame.connection.id}: ${frame.data.length} bytes`;
 * }
 * console.log(typeof show);
 * ```
 */
export interface ReceivedFrame {
  /**
   * The payload: a copy, safe to keep and to modify. The frames of one
   * socket read are views of one buffer (its `buffer` also holds its
   * neighbours' bytes, and a payload kept alive keeps that buffer, at most
   * 64 KiB, alive: `slice()` the few you keep long).
   */
  readonly data: Uint8Array;
  /** The connection it came from. */
  readonly connection: ConnectionInfo;
}

/**
 * A connection's life, as {@linkcode FrameReceiverOptions.onConnection}
 * sees it:
 *
 * - `"opened"`: accepted (before any frame).
 * - `"started"`: START came; `connection` now has its mode and content type.
 * - `"closed"`: the connection is closed. `stopped` says whether STOP came;
 *   `error` is why it was closed otherwise (`null` for a plain end of input
 *   at a frame boundary, as dnsdist does). A handshake timeout or an idle
 *   timeout is a `Deno.errors.TimedOut`, a close by
 *   {@linkcode FrameReceiver.prototype.close} after the grace period a
 *   `Deno.errors.Interrupted`; protocol errors are the codec's errors.
 *
 * @example
 * ```ts
 * import type { ConnectionEvent } from "@fstrm/fstrm";
 *
 * const log = (event: ConnectionEvent): void => {
 *   if (event.type === "closed" && event.error !== null) console.log(event.error.message);
 * };
 * console.log(typeof log);
 * ```
 */
export type ConnectionEvent =
  | {
    /** `"opened"` or `"started"`. */
    readonly type: "opened" | "started";
    /** The connection. */
    readonly connection: ConnectionInfo;
  }
  | {
    /** Always `"closed"`. */
    readonly type: "closed";
    /** The connection. */
    readonly connection: ConnectionInfo;
    /** Whether the peer sent STOP. */
    readonly stopped: boolean;
    /** Why the connection was closed, if not a normal end. */
    readonly error: Error | null;
  };

/**
 * Counters of a {@linkcode FrameReceiver} (a snapshot).
 *
 * @example
 * ```ts
 * import type { ReceiverStats } from "@fstrm/fstrm";
 *
 * const errors = (s: ReceiverStats): number =>
 *   Object.values(s.protocolErrors).reduce((a, b) => a + b, 0);
 * console.log(typeof errors);
 * ```
 */
export interface ReceiverStats {
  /** Connections being served. */
  connectionsOpen: number;
  /** Connections accepted and served, since listening. */
  connectionsTotal: number;
  /** Connections closed at once because `maxConnections` were open. */
  connectionsRejected: number;
  /** Data frames received (delivered or buffered for delivery). */
  frames: number;
  /** Payload bytes of those frames. */
  bytes: number;
  /** Frames buffered, waiting for the application. */
  bufferedFrames: number;
  /** Connections closed before their stream started, for any failure. */
  handshakeFailures: number;
  /**
   * Connections closed for a protocol error, by kind: `"handshake:REASON"`
   * ({@linkcode HandshakeError} reasons), `"control-frame:REASON"`
   * ({@linkcode ControlFrameError} reasons), `"truncated"` (input ended inside
   * a frame), `"frame-too-large"`, `"handshake-timeout"`, `"idle-timeout"`,
   * `"handshake-eof"` (input ended after READY, before START).
   */
  protocolErrors: Record<string, number>;
  /** Connections closed for an I/O error (reset, TLS failure, …). */
  ioErrors: number;
  /** Well-formed control frames skipped by the decoders (unknown or out of place). */
  skippedFrames: number;
  /** Data frames over `maxFrameLength` skipped under `oversize: "skip"`. */
  oversizedFrames: number;
}

/**
 * A started stream's first reads take this much; a read that fills its
 * buffer doubles the next one's, up to `readSize`.
 */
const READ_BUFFER_SIZE = 65_536;
const DEFAULT_READ_SIZE = 262_144;
/**
 * Read buffers beyond 64 KiB, all connections together: a few busy streams
 * read in large pieces, a thousand do not take a thousand times as much.
 */
const READ_GROWTH_BUDGET = 8 << 20;
const MAX_READ_SIZE = 1 << 26;
/**
 * A connection reads into this much until START: one that never gets there
 * (a port scan, a flood of connect-and-close) costs little.
 */
const HANDSHAKE_READ_SIZE = 4_096;
const EMPTY = new Uint8Array(0);
const DEFAULT_HANDSHAKE_TIMEOUT = 5_000;
const DEFAULT_MAX_CONNECTIONS = 1_024;
const DEFAULT_HIGH_WATER_MARK = 1_024;
const DEFAULT_GRACE_PERIOD = 5_000;

/** The options every connection uses, defaults applied. */
type ResolvedOptions = Required<
  Pick<
    FrameReceiverOptions,
    | "handshakeTimeout"
    | "idleTimeout"
    | "maxFrameLength"
    | "oversize"
    | "engine"
    | "maxConnections"
    | "highWaterMark"
    | "readSize"
    | "gracePeriod"
  >
>;

/** Why a connection's task ended, inside the receiver. */
interface Outcome {
  error: Error | null;
  kind: string | null;
  io: boolean;
}

/** One connection's state. */
class Connection {
  readonly conn: Deno.Conn;
  info: ConnectionInfo;
  readonly decoder: FrameDecoder;
  readonly handshake: ReaderHandshake;
  /**
   * What the socket is read into. Once frames have been handed out as views
   * of it, it is theirs, and the next read takes a fresh one.
   */
  buffer = new Uint8Array(HANDSHAKE_READ_SIZE);
  bufferTaken = false;
  /** How much the next read buffer of the data phase holds. */
  readSize = READ_BUFFER_SIZE;
  /** With onData: the promise it returned, that the next frame waits for. */
  waiting: PromiseLike<unknown> | null = null;
  /**
   * With onData: frames decoded while `waiting`, held (as places in the read
   * buffer, intact until the next read, or in an assembled frame) until it
   * settles.
   */
  heldWindows: Uint8Array[] = [];
  heldOffsets: number[] = [];
  heldLengths: number[] = [];
  /** With onRun: the frames of each held run. */
  heldFrames: number[] = [];
  /** With onRun: the decoder's run sink, calling it. */
  runSink:
    | ((window: Uint8Array, start: number, end: number, frames: number) => void)
    | null = null;
  /** With onData: the decoder's sink, calling it. */
  sink: ((window: Uint8Array, offset: number, length: number) => void) | null =
    null;
  /** Set when we close the socket ourselves: why. */
  closedBy: Outcome | null = null;
  closed = false;
  readonly #onClose: () => void;

  constructor(
    conn: Deno.Conn,
    info: ConnectionInfo,
    decoder: FrameDecoder,
    handshake: ReaderHandshake,
    onClose: () => void,
  ) {
    this.conn = conn;
    this.info = info;
    this.decoder = decoder;
    this.handshake = handshake;
    this.#onClose = onClose;
  }

  /** Closes the socket once (a pending read then fails), recording why. */
  close(outcome: Outcome | null): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closedBy === null) this.closedBy = outcome;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.#onClose();
  }
}

/**
 * A Frame Streams collector listening on a Unix socket, TCP or TLS.
 *
 * Each connection runs its own handshake, with a timeout; one bad peer never
 * affects the others. Data frames reach the application in order per
 * connection, each with a copy of its payload and its connection, through
 * async iteration, {@linkcode FrameReceiverOptions.onFrame} or, without a
 * copy, {@linkcode FrameReceiverOptions.onData}. Memory per connection is
 * bounded by its read buffer (4 KiB until START, then 64 KiB) plus one frame
 * being assembled (its buffer grows with the bytes that arrive, never ahead
 * of them), and the frames buffered for the application by `highWaterMark`
 * (plus one read's worth per connection). A data frame before START is
 * refused as soon as its length word arrives.
 *
 * On TLS, a peer that never completes the TLS handshake is counted and
 * reported closed at `handshakeTimeout`, but Deno (2.9) keeps its socket
 * open until the peer goes (denoland/deno#14547): many such peers can use up
 * file descriptors. When descriptors run out, the receiver pauses accepting
 * (5 ms, doubling to 1 s) instead of spinning.
 *
 * A peer ending its input at a frame boundary without STOP is a normal end
 * (dnsdist never sends STOP). Input ending inside a frame is a protocol
 * error (`"truncated"`); every complete frame before it is delivered.
 * FINISH is sent as soon as STOP arrives; a peer that has already gone
 * (unbound closes right after STOP) is not an error.
 *
 * @example Collecting from `fstrm_replay`-style writers, with a callback
 * ```ts
 * import { DNSTAP_CONTENT_TYPE, encodeFrameStream, FrameReceiver } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const sizes: number[] = [];
 * const receiver = await FrameReceiver.listen(
 *   { transport: "unix", path: `${dir}/dnstap.sock` },
 *   {
 *     contentTypes: [DNSTAP_CONTENT_TYPE],
 *     onFrame: (frame) => void sizes.push(frame.data.length),
 *   },
 * );
 * const conn = await Deno.connect({ transport: "unix", path: `${dir}/dnstap.sock` });
 * await conn.write(encodeFrameStream(["a", "bb"], { contentType: DNSTAP_CONTENT_TYPE }));
 * conn.close();
 * while (receiver.stats.connectionsTotal === 0 || receiver.stats.connectionsOpen > 0) {
 *   await new Promise((resolve) => setTimeout(resolve, 10));
 * }
 * await receiver.close();
 * assert.deepEqual(sizes, [1, 2]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FrameReceiver
  implements AsyncIterable<ReceivedFrame>, AsyncDisposable {
  #listener: Deno.Listener;
  #unixPath: string | null;
  #options: ResolvedOptions;
  #contentTypes: readonly ContentTypeInput[];
  #onFrame: ((frame: ReceivedFrame) => void | Promise<void>) | null;
  #onData: DataCallback | null;
  #onRun: RunCallback | null;
  #onConnection: ((event: ConnectionEvent) => void) | null;
  #signal: AbortSignal | null;
  #onAbort: () => void;

  #connections = new Set<Connection>();
  /** Bytes of read buffers beyond 64 KiB each, over all connections. */
  #readGrowth = 0;
  #tasks = new Set<Promise<void>>();
  #acceptTask: Promise<void>;
  #wakeAccept: (() => void) | null = null;
  #pumpTask: Promise<void> | null = null;
  #nextId = 1;

  // Frames waiting for the application.
  #queue: ReceivedFrame[] = [];
  #head = 0;
  #reader: ((result: IteratorResult<ReceivedFrame>) => void) | null = null;
  // Scratch for #drain (which never yields while it holds views).
  #views: Uint8Array[] = [];
  #roomWaiters: (() => void)[] = [];
  #iterating = false;
  #discard = false;

  #closing = false;
  #closePromise: Promise<void> | null = null;
  #done = false;
  #failure: { error: unknown } | null = null;

  // Counters.
  #connectionsTotal = 0;
  #connectionsRejected = 0;
  #frames = 0;
  #bytes = 0;
  #handshakeFailures = 0;
  #protocolErrors: Record<string, number> = {};
  #ioErrors = 0;
  #skippedClosed = 0;
  #oversizedClosed = 0;

  private constructor(
    listener: Deno.Listener,
    unixPath: string | null,
    options: FrameReceiverOptions,
    resolved: ResolvedOptions,
  ) {
    this.#listener = listener;
    this.#unixPath = unixPath;
    this.#options = resolved;
    this.#contentTypes = options.contentTypes ?? [];
    this.#onFrame = options.onFrame ?? null;
    this.#onData = options.onData ?? null;
    this.#onRun = options.onRun ?? null;
    this.#onConnection = options.onConnection ?? null;
    this.#signal = options.signal ?? null;
    this.#onAbort = () => void this.close().catch(() => {});
    this.#acceptTask = this.#acceptLoop();
    if (this.#onFrame !== null) this.#pumpTask = this.#pump(this.#onFrame);
    if (this.#signal !== null) {
      if (this.#signal.aborted) this.#onAbort();
      else this.#signal.addEventListener("abort", this.#onAbort);
    }
  }

  /**
   * Starts listening.
   *
   * @param target Where to listen; see {@linkcode ListenTarget}.
   * @param options See {@linkcode FrameReceiverOptions}.
   * @returns The receiver, accepting connections.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If an option is out of range.
   * @throws {Deno.errors.AddrInUse} If a live listener holds the Unix socket
   * path, or the TCP port is taken.
   * @throws {Deno.errors.AlreadyExists} If the Unix socket path exists and is
   * not a socket.
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * console.log(receiver.addr.transport); // "tcp"
   * ```
   */
  static async listen(
    target: ListenTarget,
    options: FrameReceiverOptions = {},
  ): Promise<FrameReceiver> {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot listen: options must be an object, got ${
          options === null ? "null" : typeof options
        }`,
      );
    }
    const resolved: ResolvedOptions = {
      handshakeTimeout: duration(
        options.handshakeTimeout,
        DEFAULT_HANDSHAKE_TIMEOUT,
        "handshakeTimeout",
      ),
      idleTimeout: duration(options.idleTimeout, 0, "idleTimeout"),
      gracePeriod: duration(
        options.gracePeriod,
        DEFAULT_GRACE_PERIOD,
        "gracePeriod",
      ),
      maxConnections: count(
        options.maxConnections,
        DEFAULT_MAX_CONNECTIONS,
        "maxConnections",
      ),
      highWaterMark: count(
        options.highWaterMark,
        DEFAULT_HIGH_WATER_MARK,
        "highWaterMark",
      ),
      readSize: count(options.readSize, DEFAULT_READ_SIZE, "readSize"),
      maxFrameLength: options.maxFrameLength ?? 1_048_576,
      oversize: options.oversize ?? "error",
      engine: options.engine ?? "auto",
    };
    if (
      resolved.readSize < READ_BUFFER_SIZE || resolved.readSize > MAX_READ_SIZE
    ) {
      throw new RangeError(
        `Cannot listen: readSize must be from ${READ_BUFFER_SIZE} to ${MAX_READ_SIZE}, got ${resolved.readSize}`,
      );
    }
    for (
      const name of ["onFrame", "onData", "onRun", "onConnection"] as const
    ) {
      const fn = options[name];
      if (fn !== undefined && typeof fn !== "function") {
        throw new TypeError(
          `Cannot listen: ${name} must be a function, got ${typeof fn}`,
        );
      }
    }
    const takers = (["onFrame", "onData", "onRun"] as const)
      .filter((name) => options[name] !== undefined);
    if (takers.length > 1) {
      throw new TypeError(
        `Cannot listen: give one of onFrame, onData and onRun, not ${
          takers.join(" and ")
        }`,
      );
    }
    if (
      options.signal !== undefined && !(options.signal instanceof AbortSignal)
    ) {
      throw new TypeError("Cannot listen: signal must be an AbortSignal");
    }
    // Validate the per-connection options before taking any resource.
    new ReaderHandshake({ contentTypes: options.contentTypes ?? [] });
    new FrameDecoder({
      maxFrameLength: resolved.maxFrameLength,
      oversize: resolved.oversize,
      engine: resolved.engine,
    });
    const { listener, unixPath } = await openListener(target);
    return new FrameReceiver(listener, unixPath, options, resolved);
  }

  /**
   * The address listened on (with the real port when `port: 0` was asked).
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * console.log((receiver.addr as Deno.NetAddr).port > 0); // true
   * ```
   */
  get addr(): Deno.Addr {
    return this.#listener.addr;
  }

  /**
   * A snapshot of the counters; see {@linkcode ReceiverStats}.
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * console.log(receiver.stats.connectionsOpen); // 0
   * ```
   */
  get stats(): ReceiverStats {
    let skipped = this.#skippedClosed;
    let oversized = this.#oversizedClosed;
    for (const c of this.#connections) {
      skipped += c.decoder.skippedFrames;
      oversized += c.decoder.oversizedFrames;
    }
    return {
      connectionsOpen: this.#connections.size,
      connectionsTotal: this.#connectionsTotal,
      connectionsRejected: this.#connectionsRejected,
      frames: this.#frames,
      bytes: this.#bytes,
      bufferedFrames: this.#queue.length - this.#head,
      handshakeFailures: this.#handshakeFailures,
      protocolErrors: { ...this.#protocolErrors },
      ioErrors: this.#ioErrors,
      skippedFrames: skipped,
      oversizedFrames: oversized,
    };
  }

  /**
   * Stops accepting connections, gives open streams `gracePeriod` to reach
   * STOP (or end), then closes those left. Frames already buffered can still
   * be iterated. Calling it again returns the same promise.
   *
   * @returns A promise that resolves when every connection is closed (and,
   * with `onFrame`, every frame handled).
   * @throws The error of a failed `onFrame` or `onConnection` callback.
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm";
   *
   * const receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 }, { gracePeriod: 100 });
   * await receiver.close();
   * ```
   */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  /**
   * Closes the receiver, as {@linkcode FrameReceiver.prototype.close} does.
   *
   * @returns A promise that resolves once it is closed.
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm";
   *
   * {
   *   await using _receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Iterates over the data frames of all connections, in order per
   * connection, until the receiver is closed and its buffer drained. Only
   * one iteration at a time, and none with `onFrame`. Leaving the loop early
   * (`break`) closes the receiver and discards the frames that still come.
   *
   * @returns An async iterator of frames.
   * @throws {TypeError} If an iteration is already running, or `onFrame` was
   * given.
   *
   * @example
   * ```ts
   * import { encodeFrameStream, FrameReceiver } from "@fstrm/fstrm";
   * import assert from "node:assert/strict";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * const conn = await Deno.connect({ port: (receiver.addr as Deno.NetAddr).port });
   * await conn.write(encodeFrameStream(["x"]));
   * conn.close();
   * for await (const frame of receiver) {
   *   assert.equal(frame.connection.mode, "unidirectional");
   *   break;
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<ReceivedFrame> {
    if (
      this.#onFrame !== null || this.#onData !== null || this.#onRun !== null
    ) {
      throw new TypeError(
        `Cannot iterate over a FrameReceiver: it delivers frames to ${
          this.#onFrame !== null
            ? "onFrame"
            : this.#onData !== null
            ? "onData"
            : "onRun"
        }`,
      );
    }
    if (this.#iterating) {
      throw new TypeError(
        "Cannot iterate over a FrameReceiver: an iteration is already running",
      );
    }
    this.#iterating = true;
    return {
      next: () => this.#nextFrame(),
      return: async () => {
        this.#discard = true;
        this.#clearQueue();
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  // -------------------------------------------------------------------------
  // The buffer between connections and the application.

  #nextFrame(): Promise<IteratorResult<ReceivedFrame>> {
    if (this.#head < this.#queue.length) {
      return Promise.resolve({ done: false, value: this.#take() });
    }
    if (this.#done) return Promise.resolve({ done: true, value: undefined });
    if (this.#reader !== null) {
      return Promise.reject(
        new TypeError("Cannot read a FrameReceiver: a read is pending"),
      );
    }
    return new Promise((resolve) => this.#reader = resolve);
  }

  #take(): ReceivedFrame {
    const frame = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined as unknown as ReceivedFrame;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head >= 4096 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (
      this.#roomWaiters.length > 0 &&
      this.#queue.length - this.#head < this.#options.highWaterMark
    ) {
      this.#wakeProducers();
    }
    return frame;
  }

  #put(frame: ReceivedFrame): void {
    this.#frames++;
    this.#bytes += frame.data.length;
    if (this.#discard) return;
    const reader = this.#reader;
    if (reader !== null) {
      this.#reader = null;
      reader({ done: false, value: frame });
      return;
    }
    this.#queue.push(frame);
  }

  /**
   * Queues data frames given as views of a connection's input (its read
   * buffer, or a frame the decoder assembled across reads), so that each
   * payload is memory no one else writes: one fresh buffer for each run of
   * views lying in order in one buffer, which is what a read holds.
   * Allocating a buffer per frame costs several times more than copying
   * the bytes. When the frames fill at least half of the read buffer, the
   * read buffer itself is handed over, without a copy, and the connection
   * reads into a fresh one next. Either way each frame is a view of its
   * own bytes, safe to keep and to modify; its `buffer` also holds its
   * neighbours' bytes. Empties `views`.
   */
  #putViews(views: Uint8Array[], c: Connection): void {
    const n = views.length;
    if (n === 0) return;
    if (this.#discard) {
      // Nobody will see them: count them, copy nothing.
      for (const v of views) this.#put({ data: v, connection: c.info });
      views.length = 0;
      return;
    }
    const connection = c.info;
    const readBuffer = c.buffer.buffer;
    let i = 0;
    while (i < n) {
      const first = views[i]!;
      const buffer = first.buffer;
      const low = first.byteOffset;
      let high = low + first.length;
      let j = i + 1;
      for (; j < n; j++) {
        const v = views[j]!;
        if (v.buffer !== buffer || v.byteOffset < high) break;
        high = v.byteOffset + v.length;
      }
      if (buffer === readBuffer && 2 * (high - low) >= readBuffer.byteLength) {
        c.bufferTaken = true;
        for (; i < j; i++) this.#put({ data: views[i]!, connection });
        continue;
      }
      const copy = new Uint8Array(buffer, low, high - low).slice();
      for (; i < j; i++) {
        const v = views[i]!;
        const at = v.byteOffset - low;
        this.#put({ data: copy.subarray(at, at + v.length), connection });
      }
    }
    views.length = 0;
  }

  #clearQueue(): void {
    this.#queue = [];
    this.#head = 0;
    this.#wakeProducers();
  }

  /** Whether producers must wait before reading more. */
  #full(): boolean {
    return !this.#discard && !this.#done &&
      this.#queue.length - this.#head >= this.#options.highWaterMark;
  }

  #room(): Promise<void> {
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #wakeProducers(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /** No more frames will come: end the iteration once the buffer drains. */
  #finish(): void {
    this.#done = true;
    this.#wakeProducers();
    const reader = this.#reader;
    if (reader !== null && this.#head === this.#queue.length) {
      this.#reader = null;
      reader({ done: true, value: undefined });
    }
  }

  async #pump(
    onFrame: (frame: ReceivedFrame) => void | Promise<void>,
  ): Promise<void> {
    for (;;) {
      // Frames already buffered are handed over without a promise hop each;
      // only a handler's own promise is awaited.
      let frame: ReceivedFrame;
      if (this.#head < this.#queue.length) {
        frame = this.#take();
      } else {
        const result = await this.#nextFrame();
        if (result.done) return;
        frame = result.value;
      }
      try {
        const returned = onFrame(frame);
        if (returned instanceof Promise) await returned;
        else if (
          returned !== undefined && returned !== null &&
          typeof (returned as { then?: unknown }).then === "function"
        ) await returned;
      } catch (error) {
        this.#fail(error);
        return;
      }
    }
  }

  /** Hands a frame to onData; a promise it returns becomes `waiting`. */
  #callOnData(
    c: Connection,
    window: Uint8Array,
    offset: number,
    length: number,
  ): void {
    if (this.#failure !== null) return;
    this.#frames++;
    this.#bytes += length;
    let returned;
    try {
      returned = this.#onData!(window, offset, length, c.info);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (returned !== undefined && isThenable(returned)) c.waiting = returned;
  }

  /** Hands a run to onRun; a promise it returns becomes `waiting`. */
  #callOnRun(
    c: Connection,
    window: Uint8Array,
    start: number,
    end: number,
    frames: number,
  ): void {
    if (this.#failure !== null) return;
    this.#frames += frames;
    this.#bytes += end - start - 4 * frames;
    let returned;
    try {
      returned = this.#onRun!(window, start, end, frames, c.info);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (returned !== undefined && isThenable(returned)) c.waiting = returned;
  }

  /**
   * Waits for onData's promise, then hands it the frames held meanwhile, one
   * at a time, waiting again for each promise it returns.
   */
  async #settle(c: Connection): Promise<void> {
    let i = 0;
    while (c.waiting !== null) {
      const waiting = c.waiting;
      c.waiting = null;
      try {
        await waiting;
      } catch (error) {
        this.#fail(error);
      }
      while (c.waiting === null && i < c.heldWindows.length) {
        if (c.runSink !== null) {
          this.#callOnRun(
            c,
            c.heldWindows[i]!,
            c.heldOffsets[i]!,
            c.heldOffsets[i]! + c.heldLengths[i]!,
            c.heldFrames[i]!,
          );
        } else {
          this.#callOnData(
            c,
            c.heldWindows[i]!,
            c.heldOffsets[i]!,
            c.heldLengths[i]!,
          );
        }
        i++;
      }
    }
    c.heldWindows.length =
      c.heldOffsets.length =
      c.heldLengths.length =
      c.heldFrames.length =
        0;
  }

  /** A callback failed: close everything at once; close() rejects. */
  #fail(error: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = { error };
    this.#discard = true;
    this.#clearQueue();
    for (const c of this.#connections) {
      c.close({
        error: new Deno.errors.Interrupted(
          "Connection closed: the receiver failed",
        ),
        kind: null,
        io: false,
      });
    }
    void this.close().catch(() => {});
  }

  #emit(event: ConnectionEvent): void {
    const fn = this.#onConnection;
    if (fn === null) return;
    try {
      fn(event);
    } catch (error) {
      this.#fail(error);
    }
  }

  // -------------------------------------------------------------------------
  // Connections.

  async #acceptLoop(): Promise<void> {
    let backoff = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        if (
          error instanceof Deno.errors.BadResource ||
          error instanceof Deno.errors.Interrupted
        ) {
          return;
        }
        // Transient (out of descriptors, aborted connection): go on, after
        // a pause that doubles while it lasts (5 ms to 1 s), rather than
        // spin while the process has no descriptor left.
        backoff = Math.min(1_000, backoff === 0 ? 5 : backoff * 2);
        await this.#acceptPause(backoff);
        continue;
      }
      backoff = 0;
      if (this.#closing || this.#failure !== null) {
        closeQuietly(conn);
        continue;
      }
      if (this.#connections.size >= this.#options.maxConnections) {
        this.#connectionsRejected++;
        closeQuietly(conn);
        continue;
      }
      this.#connectionsTotal++;
      const task = this.#serve(conn);
      this.#tasks.add(task);
      void task.finally(() => this.#tasks.delete(task));
    }
  }

  /** Waits `ms`, or less if the receiver closes meanwhile. */
  #acceptPause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeAccept = null;
        resolve();
      }, ms);
      this.#wakeAccept = () => {
        clearTimeout(timer);
        this.#wakeAccept = null;
        resolve();
      };
    });
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const c = new Connection(
      conn,
      {
        id: this.#nextId++,
        remoteAddr: conn.remoteAddr,
        mode: null,
        contentType: null,
      },
      new FrameDecoder({
        maxFrameLength: this.#options.maxFrameLength,
        oversize: this.#options.oversize,
        engine: this.#options.engine,
      }),
      new ReaderHandshake({ contentTypes: this.#contentTypes }),
      () => this.#wakeProducers(),
    );
    if (this.#onRun !== null) {
      c.runSink = (window, start, end, frames) => {
        if (c.waiting !== null) {
          c.heldWindows.push(window);
          c.heldOffsets.push(start);
          c.heldLengths.push(end - start);
          c.heldFrames.push(frames);
        } else this.#callOnRun(c, window, start, end, frames);
      };
    }
    if (this.#onData !== null) {
      c.sink = (window, offset, length) => {
        if (c.waiting !== null) {
          c.heldWindows.push(window);
          c.heldOffsets.push(offset);
          c.heldLengths.push(length);
        } else this.#callOnData(c, window, offset, length);
      };
    }
    this.#connections.add(c);
    this.#emit({ type: "opened", connection: c.info });
    let outcome: Outcome;
    try {
      outcome = await this.#run(c);
    } catch (error) {
      outcome = classify(error);
    }
    if (c.closedBy !== null) outcome = c.closedBy;
    c.close(null);
    this.#connections.delete(c);
    this.#readGrowth -= c.readSize - READ_BUFFER_SIZE;

    this.#skippedClosed += c.decoder.skippedFrames;
    this.#oversizedClosed += c.decoder.oversizedFrames;
    const started = c.handshake.state === "data" ||
      c.handshake.state === "stopped";
    if (!started && (outcome.kind !== null || outcome.io)) {
      this.#handshakeFailures++;
    }
    if (outcome.kind !== null) {
      this.#protocolErrors[outcome.kind] =
        (this.#protocolErrors[outcome.kind] ?? 0) + 1;
    }
    if (outcome.io) this.#ioErrors++;
    this.#emit({
      type: "closed",
      connection: c.info,
      stopped: c.handshake.state === "stopped",
      error: outcome.error,
    });
  }

  /** Reads and handles one connection until it ends; why it ended. */
  async #run(c: Connection): Promise<Outcome> {
    const { handshakeTimeout, idleTimeout, readSize: maxReadSize } =
      this.#options;
    const decoder = c.decoder;
    const handshake = c.handshake;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number, kind: string, message: string): void => {
      if (ms <= 0) return;
      timer = setTimeout(() => {
        timer = undefined;
        c.close({
          error: new Deno.errors.TimedOut(message),
          kind,
          io: false,
        });
      }, ms);
    };
    const disarm = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    arm(
      handshakeTimeout,
      "handshake-timeout",
      `Handshake timed out: no READY or START within ${handshakeTimeout} ms`,
    );
    try {
      for (;;) {
        // Flow control: a started stream waits while the application's
        // buffer is full. A handshake goes on (its first read may add data
        // frames: one read's worth at most).
        while (handshake.state === "data" && this.#full()) {
          await this.#room();
          if (c.closed) return c.closedBy ?? closedOutcome();
        }
        const idle = handshake.state === "data" && idleTimeout > 0;
        if (idle) {
          arm(
            idleTimeout,
            "idle-timeout",
            `Connection idle for ${idleTimeout} ms`,
          );
        }
        if (
          c.bufferTaken ||
          (c.buffer.length < c.readSize && handshake.state === "data")
        ) {
          c.buffer = new Uint8Array(c.readSize);
          c.bufferTaken = false;
        }
        const buffer = c.buffer;
        let n: number | null;
        try {
          n = await c.conn.read(buffer);
        } catch (error) {
          if (c.closedBy !== null) return c.closedBy;
          return classify(error);
        } finally {
          if (idle) disarm();
        }
        if (c.closed) return c.closedBy ?? closedOutcome();
        if (n === null) {
          decoder.end();
        } else {
          decoder.push(buffer.subarray(0, n));
          // A busy stream: read more at a time.
          if (
            n === buffer.length && buffer.length >= READ_BUFFER_SIZE &&
            c.readSize < maxReadSize
          ) {
            const next = Math.min(2 * c.readSize, maxReadSize);
            if (this.#readGrowth + next - c.readSize <= READ_GROWTH_BUDGET) {
              this.#readGrowth += next - c.readSize;
              c.readSize = next;
            }
          }
        }
        const before = handshake.state;
        const result = await this.#drain(c);
        if (result !== null) return result;
        // A data frame before START is refused as soon as its length word
        // is in, not once its (perhaps huge) payload has come.
        if (handshake.state === "waiting" || handshake.state === "accepted") {
          const partial = decoder.partialFrame;
          if (partial !== null && partial.kind === "data") {
            for (
              const event of handshake.receive({
                kind: "data",
                data: EMPTY,
                offset: partial.offset,
              })
            ) {
              if (event.type === "failed") return classify(event.error);
            }
          }
        }
        const after = handshake.state;
        if (after !== before) {
          disarm();
          if (after === "accepted") {
            arm(
              handshakeTimeout,
              "handshake-timeout",
              `Handshake timed out: no START within ${handshakeTimeout} ms after ACCEPT`,
            );
          }
        }
        if (n === null) {
          if (after === "accepted") {
            return {
              error: new Deno.errors.UnexpectedEof(
                "Handshake failed: the connection ended after READY, before START",
              ),
              kind: "handshake-eof",
              io: false,
            };
          }
          return { error: null, kind: null, io: false };
        }
      }
    } finally {
      disarm();
    }
  }

  /**
   * Handles every frame the decoder has: null to go on reading, or the
   * outcome that ends the connection.
   */
  async #drain(c: Connection): Promise<Outcome | null> {
    const decoder = c.decoder;
    const handshake = c.handshake;
    // Data frames of the data phase, as views of the decoder's input, until
    // they are copied out together (before anything else happens, and
    // before the read buffer is read into again).
    const views = this.#views;
    const sink = c.sink;
    const runSink = c.runSink;
    for (;;) {
      let frame;
      try {
        // With onData or onRun, the data phase's frames go straight to it.
        frame = handshake.state !== "data"
          ? decoder.next()
          : runSink !== null
          ? decoder.nextRun(runSink)
          : sink !== null
          ? decoder.nextControl(sink)
          : decoder.next();
      } catch (error) {
        this.#putViews(views, c);
        await this.#settle(c);
        return classify(error);
      }
      if (c.waiting !== null) {
        await this.#settle(c);
        if (c.closed) return c.closedBy ?? closedOutcome();
      }
      if (frame === null) {
        this.#putViews(views, c);
        return null;
      }
      // The data phase's fast path: what receive() would say.
      if (frame.kind === "data" && handshake.state === "data") {
        views.push(frame.data);
        continue;
      }
      this.#putViews(views, c);
      for (const event of handshake.receive(frame)) {
        switch (event.type) {
          case "send":
            try {
              await writeAll(c.conn, event.bytes);
            } catch (error) {
              // FINISH to a peer already gone (unbound) is normal.
              if (handshake.state === "stopped" && isGone(error)) break;
              if (c.closedBy !== null) return c.closedBy;
              return classify(error);
            }
            if (c.closed) return c.closedBy ?? closedOutcome();
            break;
          case "started":
            c.info = {
              ...c.info,
              mode: event.mode,
              contentType: event.contentType,
            };
            this.#emit({ type: "started", connection: c.info });
            break;
          case "data":
            if (runSink !== null) {
              // A frame that came with the handshake: encoded anew.
              const run = new Uint8Array(4 + event.data.length);
              new DataView(run.buffer).setUint32(0, event.data.length);
              run.set(event.data, 4);
              runSink(run, 0, run.length, 1);
              await this.#settle(c);
            } else if (sink !== null) {
              sink(event.data, 0, event.data.length);
              await this.#settle(c);
            } else {
              this.#put({ data: event.data.slice(), connection: c.info });
            }
            break;
          case "stopped":
            return { error: null, kind: null, io: false };
          case "failed":
            return classify(event.error);
        }
      }
    }
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    try {
      this.#listener.close();
    } catch {
      // already closed
    }
    this.#wakeAccept?.();
    await this.#acceptTask;
    if (this.#unixPath !== null) await removeSocket(this.#unixPath);
    if (this.#tasks.size > 0 && this.#failure === null) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.gracePeriod);
      });
      await Promise.race([Promise.all(this.#tasks), grace]);
      clearTimeout(timer);
    }
    for (const c of this.#connections) {
      c.close({
        error: new Deno.errors.Interrupted(
          `Connection closed: the receiver closed and the stream did not end within the grace period (${this.#options.gracePeriod} ms)`,
        ),
        kind: null,
        io: false,
      });
    }
    this.#wakeProducers();
    await Promise.all(this.#tasks);
    this.#finish();
    if (this.#pumpTask !== null) await this.#pumpTask;
    if (this.#failure !== null) throw this.#failure.error;
  }
}

/** The outcome of an error that ends a connection. */
function classify(error: unknown): Outcome {
  const e = error instanceof Error ? error : new Error(String(error));
  if (error instanceof HandshakeError) {
    return { error: e, kind: `handshake:${error.reason}`, io: false };
  }
  if (error instanceof ControlFrameError) {
    return { error: e, kind: `control-frame:${error.reason}`, io: false };
  }
  if (error instanceof TruncatedFrameError) {
    return { error: e, kind: "truncated", io: false };
  }
  if (error instanceof FrameTooLargeError) {
    return { error: e, kind: "frame-too-large", io: false };
  }
  if (error instanceof NotFrameStreamsError) {
    return { error: e, kind: "not-frame-streams", io: false };
  }
  if (error instanceof UnexpectedFrameError) {
    return { error: e, kind: "unexpected-frame", io: false };
  }
  return { error: e, kind: null, io: true };
}

/** The connection was closed under us with no reason recorded. */
function closedOutcome(): Outcome {
  return { error: null, kind: null, io: false };
}

/** Whether a write failed because the peer has gone. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise ||
    (typeof value === "object" && value !== null &&
      typeof (value as { then?: unknown }).then === "function");
}

function isGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let p = 0;
  while (p < bytes.length) p += await conn.write(bytes.subarray(p));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

function duration(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot listen: ${name} must be a number of milliseconds, got ${value}`,
    );
  }
  if (value < 0 || value > 2_147_483_647) {
    throw new RangeError(
      `Cannot listen: ${name} must be from 0 to 2147483647 ms, got ${value}`,
    );
  }
  return value;
}

function count(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot listen: ${name} must be an integer, got ${value}`,
    );
  }
  if (value < 1) {
    throw new RangeError(
      `Cannot listen: ${name} must be at least 1, got ${value}`,
    );
  }
  return value;
}

/** Opens the listener; for a Unix socket, deals with what is at the path. */
async function openListener(
  target: ListenTarget,
): Promise<{ listener: Deno.Listener; unixPath: string | null }> {
  if (typeof target !== "object" || target === null) {
    throw new TypeError("Cannot listen: target must be an object");
  }
  switch (target.transport) {
    case "unix": {
      const { path, mode } = target;
      if (typeof path !== "string" || path === "") {
        throw new TypeError("Cannot listen: a Unix socket path is required");
      }
      if (
        mode !== undefined &&
        (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
      ) {
        throw new RangeError(
          `Cannot listen: mode must be file permission bits (0 to 0o7777), got ${mode}`,
        );
      }
      await clearStaleSocket(path);
      const listener = Deno.listen({ transport: "unix", path });
      if (mode !== undefined) {
        try {
          await Deno.chmod(path, mode);
        } catch (error) {
          listener.close();
          throw error;
        }
      }
      return { listener, unixPath: path };
    }
    case "tcp":
      return {
        listener: Deno.listen({
          transport: "tcp",
          hostname: target.hostname ?? "127.0.0.1",
          port: target.port,
        }),
        unixPath: null,
      };
    case "tls":
      return {
        listener: Deno.listenTls({
          transport: "tcp",
          hostname: target.hostname ?? "127.0.0.1",
          port: target.port,
          cert: target.cert,
          key: target.key,
        }),
        unixPath: null,
      };
    default:
      throw new TypeError(
        `Cannot listen: transport must be "unix", "tcp" or "tls", got ${
          String((target as { transport: unknown }).transport)
        }`,
      );
  }
}

/**
 * Makes way for a Unix socket at `path`: nothing there is fine; a socket
 * nobody listens on is removed; a live socket or another kind of file is
 * refused.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSocket !== true) {
    throw new Deno.errors.AlreadyExists(
      `Cannot listen on ${path}: it exists and is not a socket`,
    );
  }
  if (await isLive(path)) {
    throw new Deno.errors.AddrInUse(
      `Cannot listen on ${path}: another process is listening on it`,
    );
  }
  await Deno.remove(path);
}

/**
 * Whether something accepts connections on the Unix socket at `path`:
 * connecting is the only sure test (a crashed server leaves its file behind).
 */
async function isLive(path: string): Promise<boolean> {
  let probe: Deno.Conn;
  try {
    probe = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
  probe.close();
  return true;
}

/** Removes the socket file at `path` if it is still a socket. */
async function removeSocket(path: string): Promise<void> {
  try {
    const info = await Deno.lstat(path);
    if (info.isSocket === true) await Deno.remove(path);
  } catch {
    // gone already
  }
}
