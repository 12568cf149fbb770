// Private: the public types of FrameReceiver (re-exported by
// src/frame_receiver.ts): its options, callbacks, connections and counters.
import type { ContentTypeInput } from "./frame.ts";
import type { EngineOption } from "./engine.ts";
import type { OversizePolicy } from "./frame_decoder.ts";

/**
 * Called by a {@linkcode FrameReceiver} for each data frame, given
 * {@linkcode FrameReceiverOptions.onData}: the payload is
 * `window[offset, offset + length)`, valid only during the call.
 *
 * @example
 * ```ts
 * import type { DataCallback } from "@fstrm/fstrm/frame-receiver";
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
 * import type { RunCallback } from "@fstrm/fstrm/frame-receiver";
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
   * (see {@linkcode FrameWriter.prototype.writeRun}) in one copy per
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
 * import type { ConnectionInfo } from "@fstrm/fstrm/frame-receiver";
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
