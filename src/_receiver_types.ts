// Private: the public types of FrameReceiver (re-exported by
// src/frame_receiver.ts): its options, callbacks, connections and counters.
import type { DataCallback, RunCallback } from "./callbacks.ts";
import type { ReaderSessionOptions } from "./_reader_session_types.ts";

/**
 * Options of {@linkcode FrameReceiver.listen}.
 *
 * @example
 * ```ts
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import { type FrameReceiverOptions } from "@fstrm/fstrm/frame-receiver";
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
export interface FrameReceiverOptions
  extends Omit<ReaderSessionOptions, "now"> {
  /**
   * Connections served at once; a connection beyond it is closed at once
   * and counted in `connectionsRejected`.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * Who may connect over TCP or TLS: IPv4 and IPv6 networks
   * (`"10.0.0.0/8"`, `"2001:db8::/32"`) and single addresses
   * (`"127.0.0.1"`, `"::1"`). A connection from elsewhere is closed as soon
   * as it is accepted, before a byte is read (on TLS, before the TLS
   * handshake), counted in `connectionsRefused` and reported to
   * `onRefused`. A peer at an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`,
   * as a listener on `::` sees IPv4 peers) is matched as its IPv4 address.
   * An empty list refuses everyone. Not for a Unix socket (its file mode,
   * owner and group say who may connect): a TypeError there.
   *
   * @default {undefined} (everyone who can reach the port)
   */
  allow?: readonly string[];
  /**
   * Connections served at once from one source address (an IPv4-mapped
   * IPv6 address counts as its IPv4 address); one beyond it is closed at
   * once, counted in `connectionsRejected` and reported to `onRefused`. Not
   * for a Unix socket (every peer there has the same empty address).
   *
   * @default {undefined} (only `maxConnections`)
   */
  maxConnectionsPerSource?: number;
  /**
   * Called when connections are closed unserved (not on the allow-list, or
   * over `maxConnectionsPerSource` or `maxConnections`), at most once per
   * source every `refusalInterval` ms: the first refusal at once, the next
   * ones counted in the next report's `count`. If it throws, the receiver
   * fails as for `onData`.
   */
  onRefused?: (refusal: Refusal) => void;
  /**
   * Milliseconds between two calls of `onRefused` for one source.
   *
   * @default {60000}
   */
  refusalInterval?: number;
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
   * Use this to handle each payload where it lies, with no copy and no
   * allocation per frame (the fastest way). Called for each data frame
   * straight from its connection's read loop, with the payload as
   * `window[offset, offset + length)`, a view of the connection's read
   * buffer valid only during the call (copy what you keep), and the
   * connection. Frames of one connection come in order; those of different
   * connections interleave. If it returns a promise, the connection's next
   * frame waits until it settles, and the connection reads nothing more
   * meanwhile: flow control per connection. If it throws (or rejects), the
   * receiver closes its connections at once and `close()` rejects with that
   * error. Async iteration and `onRun` are refused with it.
   */
  onData?: DataCallback<ConnectionInfo>;
  /**
   * Use this to store or forward frames as they came, in one copy per run
   * (to a file, or to {@linkcode FrameWriter.prototype.writeRun}). Called
   * from a connection's read loop with `window[start, end)` holding `frames`
   * consecutive whole data frames (length words included), a view of the
   * read buffer valid during the call (and, if it returns a promise, until
   * that settles: the connection reads nothing more meanwhile), and the
   * connection. A run ends
   * at a control frame and at the end of a read; a frame that spans reads
   * comes as a run of one. Flow control and failures as for `onData`; async
   * iteration and `onData` are refused with it.
   */
  onRun?: RunCallback<ConnectionInfo>;
  /**
   * Use this to have each run scanned where it was read: the memory a
   * started connection reads its socket into, given by the application
   * (for instance slots of a WebAssembly engine's memory, so that the
   * engine scans the `window` of `onData` and `onRun` in place instead of
   * copying it in). See {@linkcode ReadBufferPool}. Only with `onData` or
   * `onRun` (async iteration hands frames out as copies): a TypeError
   * otherwise.
   *
   * @default {undefined} (every connection reads into buffers of its own)
   */
  readBuffers?: ReadBufferPool;
  /**
   * Called when a connection opens, starts its stream, and closes. If it
   * throws, the receiver fails as for `onData`.
   */
  onConnection?: (event: ConnectionEvent) => void;
}

/**
 * Read buffers that the application lends to a {@linkcode FrameReceiver}'s
 * connections ({@linkcode FrameReceiverOptions.readBuffers}), so that the
 * windows of `onData` and `onRun` lie in memory of its choosing.
 *
 * A started connection (after START) asks `acquire` for a buffer of its
 * read size before its first read of data, and again when its read size
 * grows (64 KiB, doubling while reads come back full, up to `readSize`).
 * It gives the old buffer back to `release` first, and its last one when
 * it closes, each time after every `onData` or `onRun` call on its bytes
 * (and the promises they returned) has settled. The handshake's reads, and
 * a frame that spans reads (it is assembled in a buffer of the
 * receiver's), never lie in a lent buffer.
 *
 * A pool must not lend one buffer (or overlapping ones) to two
 * connections at once, nor change the bytes of a buffer it has lent, nor
 * detach its memory while it is lent (a WebAssembly memory must not grow:
 * a connection is reading into its buffer whenever it is not in a
 * callback). If `acquire` or `release` throws, if `acquire` returns
 * something other than `null` or a `Uint8Array` of exactly `size` bytes
 * (a TypeError), or if a lent buffer is found detached after a read or
 * after an `onData` or `onRun` call (or its promise) on its bytes (a
 * TypeError: the frames after it are not decoded), the receiver fails as
 * for `onData`: it closes its connections and `close()` rejects with that
 * error.
 *
 * @example Four slots of one memory, then buffers of the receiver's own
 * ```ts
 * import type { ConnectionInfo, ReadBufferPool } from "@fstrm/fstrm/frame-receiver";
 * import assert from "node:assert/strict";
 *
 * const SLOT = 262_144; // FrameReceiver's default readSize
 * const memory = new Uint8Array(4 * SLOT);
 * const free = [0, 1, 2, 3];
 * const pool: ReadBufferPool = {
 *   acquire(size: number, _connection: ConnectionInfo): Uint8Array | null {
 *     if (size > SLOT) return null; // the receiver's own (before taking a slot)
 *     const slot = free.pop();
 *     if (slot === undefined) return null; // none free: the receiver's own
 *     return memory.subarray(slot * SLOT, slot * SLOT + size);
 *   },
 *   release(buffer: Uint8Array): void {
 *     free.push((buffer.byteOffset - memory.byteOffset) / SLOT);
 *   },
 * };
 * const buffer = pool.acquire(65_536, {} as ConnectionInfo)!;
 * assert.equal(buffer.buffer, memory.buffer);
 * pool.release(buffer, {} as ConnectionInfo);
 * assert.equal(pool.acquire(2 * SLOT, {} as ConnectionInfo), null); // too big
 * assert.equal(free.length, 4); // no slot lost
 * ```
 */
export interface ReadBufferPool {
  /**
   * A buffer of exactly `size` bytes for `connection` to read into, or
   * `null`: the connection reads into a buffer of its own until its read
   * size next grows.
   *
   * @param size The bytes wanted: from 65,536 up to the receiver's
   *   `readSize`.
   * @param connection The (started) connection.
   * @returns The buffer, lent until `release` gets it back, or `null`.
   */
  acquire(size: number, connection: ConnectionInfo): Uint8Array | null;
  /**
   * Takes back a buffer `acquire` lent: the connection reads into it no
   * more, and no callback will see its bytes again.
   *
   * @param buffer The buffer, as `acquire` returned it (or detached).
   * @param connection The connection it was lent to.
   */
  release(buffer: Uint8Array, connection: ConnectionInfo): void;
}

/**
 * A connection, as frames and events describe it. The object of a started
 * connection does not change: every frame of a connection shares one.
 *
 * @example
 * ```ts
 * import type { ConnectionInfo } from "@fstrm/fstrm/frame-receiver";
 *
 * const info: ConnectionInfo = {
 *   id: 1,
 *   remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 40000 },
 *   mode: "bidirectional",
 *   contentType: "protobuf:dnstap.Dnstap",
 *   contentTypeBytes: new TextEncoder().encode("protobuf:dnstap.Dnstap"),
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
  /**
   * The content type START named, as UTF-8 text (an invalid byte reads as
   * U+FFFD), or `null` (before START, or if it named none).
   */
  readonly contentType: string | null;
  /** The exact bytes of `contentType` (compare these), or `null`. */
  readonly contentTypeBytes: Uint8Array | null;
}

/**
 * Connections closed unserved, as {@linkcode FrameReceiverOptions.onRefused}
 * reports them.
 *
 * @example
 * ```ts
 * import type { Refusal } from "@fstrm/fstrm/frame-receiver";
 *
 * const line = (r: Refusal): string =>
 *   `${r.count} connections from ${r.source} refused (${r.reason})`;
 * console.log(typeof line);
 * ```
 */
export interface Refusal {
  /**
   * The source address (an IPv4-mapped IPv6 address written as IPv4);
   * `""` for a Unix socket's peers, which have none.
   */
  readonly source: string;
  /** The last refused peer's address. */
  readonly remoteAddr: Deno.Addr;
  /**
   * Why: `"not-allowed"` (not on `allow`), `"per-source-limit"`
   * (`maxConnectionsPerSource` open from it) or `"max-connections"`.
   */
  readonly reason: "not-allowed" | "per-source-limit" | "max-connections";
  /**
   * Connections refused from this source since the last report, this one
   * included (more than 1 when the rate limit held some back).
   */
  readonly count: number;
}

/**
 * A data frame received, with its connection.
 *
 * @example
 * ```ts
 * import type { ReceivedFrame } from "@fstrm/fstrm/frame-receiver";
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
 *   timeout is a {@linkcode SessionTimeoutError} (reason `"handshake"` or
 *   `"idle"`), input ending after READY before START a
 *   {@linkcode HandshakeError} with reason `"closed"`, a close by
 *   {@linkcode FrameReceiver.prototype.close} after the grace period a
 *   `Deno.errors.Interrupted`; other protocol errors are the codec's errors
 *   and {@linkcode HandshakeError}s, as {@linkcode ReaderSession} decides.
 *
 * @example
 * ```ts
 * import type { ConnectionEvent } from "@fstrm/fstrm/frame-receiver";
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
 * import type { ReceiverStats } from "@fstrm/fstrm/frame-receiver";
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
  /**
   * Connections closed at once because `maxConnections` were open, or
   * `maxConnectionsPerSource` from their source.
   */
  connectionsRejected: number;
  /** Connections closed at once because `allow` did not list their source. */
  connectionsRefused: number;
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
   * a frame), `"frame-too-large"`, `"handshake-timeout"` and `"idle-timeout"`
   * ({@linkcode SessionTimeoutError} reasons `"handshake"` and `"idle"`),
   * `"handshake-eof"` (input ended after READY, before START: a
   * {@linkcode HandshakeError} with reason `"closed"`), `"not-frame-streams"`
   * ({@linkcode NotFrameStreamsError}).
   */
  protocolErrors: Record<string, number>;
  /** Connections closed for an I/O error (reset, TLS failure, …). */
  ioErrors: number;
  /** Well-formed control frames skipped by the decoders (unknown or out of place). */
  skippedFrames: number;
  /** Data frames over `maxFrameLength` skipped under `oversize: "skip"`. */
  oversizedFrames: number;
}
