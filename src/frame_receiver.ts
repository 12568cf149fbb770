/**
 * A Frame Streams collector: DNS servers (and any Frame Streams writer)
 * connect to it over a Unix socket, TCP or TLS and stream frames to it.
 *
 * A thin I/O shell over a {@linkcode ReaderSession} per connection, which
 * makes every protocol decision (the mode from the first frame, ACCEPT and
 * FINISH, the frames out of place, the timeouts): the receiver accepts
 * connections, moves their bytes, runs their deadlines on timers, and hands
 * data frames to the application with their connection, as an async
 * iterable or through a callback. When the application is slower than the
 * writers it stops reading from their sockets (flow control) instead of
 * buffering without bound.
 *
 * Permissions: on a Unix socket SOCK,
 * `--allow-read=SOCK --allow-write=SOCK --allow-net=unix:SOCK` (Deno asks
 * all three; a stale socket file is looked at and removed under the first
 * two); on TCP or TLS, `--allow-net=127.0.0.1:PORT` (the default hostname),
 * `--allow-net=HOST:PORT` with a `hostname`, `--allow-net=HOST` with port
 * 0 (Deno cannot scope an unknown port). Certificates and keys are PEM
 * strings: reading them from files takes `--allow-read` on those files.
 *
 * @example Receiving a unidirectional stream over TCP
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
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
import type { DataCallback, RunCallback } from "./callbacks.ts";
import type {
  ConnectionEvent,
  ConnectionInfo,
  FrameReceiverOptions,
  ReadBufferPool,
  ReceivedFrame,
  ReceiverStats,
  Refusal,
} from "./_receiver_types.ts";
import { RefusalLog, sourceOf } from "./_allow_list.ts";
import { type ListenTarget, openListener, removeSocket } from "./_listen.ts";
import {
  READ_BUFFER_SIZE,
  READ_GROWTH_BUDGET,
  type ResolvedOptions,
  resolveOptions,
} from "./_receiver_options.ts";
import {
  classify,
  type Outcome,
  ReceiverCounters,
} from "./_receiver_outcome.ts";
import { FrameQueue } from "./_frame_queue.ts";
import {
  type ConnectionHost,
  ReceiverConnection,
} from "./_receiver_connection.ts";
import { closeQuietly } from "./_io.ts";

export type {
  ConnectionEvent,
  ConnectionInfo,
  FrameReceiverOptions,
  ReadBufferPool,
  ReceivedFrame,
  ReceiverStats,
  Refusal,
} from "./_receiver_types.ts";
export type { ListenTarget } from "./_listen.ts";

/**
 * A Frame Streams collector listening on a Unix socket, TCP or TLS.
 *
 * Each connection runs its own {@linkcode ReaderSession} (handshake, phase
 * rules, timeouts); one bad peer never affects the others. Data frames reach the application in order per
 * connection, each with a copy of its payload and its connection, through
 * async iteration or, without a copy, {@linkcode FrameReceiverOptions.onData}
 * and {@linkcode FrameReceiverOptions.onRun}. Memory per connection is
 * bounded by its read buffer (4 KiB until START, then 64 KiB) plus one frame
 * being assembled (its buffer grows with the bytes that arrive, never ahead
 * of them), and the frames buffered for the application by `highWaterMark`
 * (plus one read's worth per connection). A data frame before START is
 * refused as soon as its length word arrives. With `engine: "auto"` each
 * session decodes with the TypeScript engine, as {@linkcode FrameDecoder}
 * does.
 *
 * On TLS, a peer that never completes the TLS handshake is counted and
 * reported closed at `handshakeTimeout`, but Deno (2.9) keeps its socket
 * open until the peer goes (denoland/deno#14547): many such peers can use up
 * file descriptors. When descriptors run out, the receiver pauses accepting
 * (5 ms, doubling to 1 s) instead of spinning.
 *
 * Who may connect: over TCP and TLS, `allow` (IPv4/IPv6 networks) and
 * `maxConnectionsPerSource` close other peers before a byte is read,
 * counted and reported to `onRefused` (rate-limited per source); on a Unix
 * socket, its `mode`, `owner` and `group`. Client certificates cannot be
 * required: Deno 2.9's TLS listener cannot ask for one (docs/sockets.md).
 *
 * A peer ending its input at a frame boundary without STOP is a normal end
 * (dnsdist never sends STOP). Input ending inside a frame is a protocol
 * error (`"truncated"`); every complete frame before it is delivered.
 * FINISH is sent as soon as STOP arrives; a peer that has already gone
 * (unbound closes right after STOP) is not an error.
 *
 * @example Collecting from `fstrm_replay`-style writers, with a callback
 * ```ts
 * import { type DataCallback, DNSTAP_CONTENT_TYPE, encodeFrameStream } from "@fstrm/fstrm";
 * import { type ConnectionInfo, FrameReceiver } from "@fstrm/fstrm/frame-receiver";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const sizes: number[] = [];
 * const onData: DataCallback<ConnectionInfo> = (_window, _offset, length) => {
 *   sizes.push(length);
 * };
 * const receiver = await FrameReceiver.listen(
 *   { transport: "unix", path: `${dir}/dnstap.sock` },
 *   {
 *     contentTypes: [DNSTAP_CONTENT_TYPE],
 *     onData,
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
  #onData: DataCallback<ConnectionInfo> | null;
  #onRun: RunCallback<ConnectionInfo> | null;
  #readBuffers: ReadBufferPool | null;
  #onConnection: ((event: ConnectionEvent) => void) | null;
  #onRefused: ((refusal: Refusal) => void) | null;
  #refusals: RefusalLog;
  /** Open connections per source, when maxConnectionsPerSource is set. */
  #perSource = new Map<string, number>();
  #signal: AbortSignal | null;
  #onAbort: () => void;
  #host: ConnectionHost;

  #connections = new Set<ReceiverConnection>();
  /** Bytes of read buffers beyond 64 KiB each, over all connections. */
  #readGrowth = 0;
  #tasks = new Set<Promise<void>>();
  #acceptTask: Promise<void>;
  #wakeAccept: (() => void) | null = null;
  #nextId = 1;
  #counters = new ReceiverCounters();
  /** Frames waiting for the application. */
  #queue: FrameQueue;
  #iterating = false;

  #closing = false;
  #closePromise: Promise<void> | null = null;
  #failure: { error: unknown } | null = null;
  /** Read by every connection's per-frame path. */
  #status = { failed: false };

  private constructor(
    listener: Deno.Listener,
    unixPath: string | null,
    options: FrameReceiverOptions,
    resolved: ResolvedOptions,
  ) {
    this.#listener = listener;
    this.#unixPath = unixPath;
    this.#options = resolved;
    this.#onData = options.onData ?? null;
    this.#onRun = options.onRun ?? null;
    this.#readBuffers = options.readBuffers ?? null;
    this.#onConnection = options.onConnection ?? null;
    this.#onRefused = options.onRefused ?? null;
    this.#refusals = new RefusalLog(resolved.refusalInterval);
    this.#signal = options.signal ?? null;
    this.#queue = new FrameQueue(resolved.highWaterMark, this.#counters);
    this.#host = this.#makeHost(options.contentTypes ?? []);
    this.#onAbort = () => void this.close().catch(() => {});
    this.#acceptTask = this.#acceptLoop();
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
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * console.log(receiver.addr.transport); // "tcp"
   * ```
   */
  static async listen(
    target: ListenTarget,
    options: FrameReceiverOptions = {},
  ): Promise<FrameReceiver> {
    const resolved = resolveOptions(options);
    if (
      (target as { transport?: unknown })?.transport === "unix" &&
      (resolved.allow !== null || resolved.maxConnectionsPerSource > 0)
    ) {
      throw new TypeError(
        "Cannot listen: allow and maxConnectionsPerSource are for tcp and tls; a unix socket's mode, owner and group say who may connect",
      );
    }
    const { listener, unixPath } = await openListener(target);
    return new FrameReceiver(listener, unixPath, options, resolved);
  }

  /**
   * The address listened on (with the real port when `port: 0` was asked).
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
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
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
   *
   * await using receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 });
   * console.log(receiver.stats.connectionsOpen); // 0
   * ```
   */
  get stats(): ReceiverStats {
    return this.#counters.snapshot(
      this.#connections,
      this.#connections.size,
      this.#queue.length,
    );
  }

  /**
   * Stops accepting connections, gives open streams `gracePeriod` to reach
   * STOP (or end), then closes those left. Frames already buffered can still
   * be iterated. Calling it again returns the same promise.
   *
   * @returns A promise that resolves when every connection is closed.
   * @throws The error of a failed `onData`, `onRun` or `onConnection`
   * callback.
   *
   * @example
   * ```ts
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
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
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
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
   * Use this to take frame objects whose payloads are copies, safe to keep,
   * and to await work per frame while every connection waits for it (flow
   * control by `highWaterMark`). Iterates over the data frames of all
   * connections, in order per connection, until the receiver is closed and its buffer drained. Only
   * one iteration at a time, and none with `onData` or `onRun`. Leaving the loop early
   * (`break`) closes the receiver and discards the frames that still come.
   *
   * @returns An async iterator of frames.
   * @throws {TypeError} If an iteration is already running, or `onData` or
   * `onRun` was given.
   *
   * @example
   * ```ts
   * import { encodeFrameStream } from "@fstrm/fstrm";
   * import { FrameReceiver } from "@fstrm/fstrm/frame-receiver";
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
    if (this.#onData !== null || this.#onRun !== null) {
      throw new TypeError(
        `Cannot iterate over a FrameReceiver: it delivers frames to ${
          this.#onData !== null ? "onData" : "onRun"
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
      next: () => this.#queue.next(),
      return: async () => {
        this.#queue.discard = true;
        this.#queue.clear();
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** What connections need of the receiver. */
  #makeHost(contentTypes: readonly ContentTypeInput[]): ConnectionHost {
    return {
      options: this.#options,
      contentTypes,
      queue: this.#queue,
      onData: this.#onData,
      onRun: this.#onRun,
      readBuffers: this.#readBuffers,
      status: this.#status,
      fail: (error) => this.#fail(error),
      emit: (event) => this.#emit(event),
      grow: (bytes) => {
        if (this.#readGrowth + bytes > READ_GROWTH_BUDGET) return false;
        this.#readGrowth += bytes;
        return true;
      },
    };
  }

  /** A callback failed: close everything at once; close() rejects. */
  #fail(error: unknown): void {
    if (this.#failure !== null) return;
    this.#failure = { error };
    this.#status.failed = true;
    this.#queue.discard = true;
    this.#queue.clear();
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
      const refused = this.#admit(conn.remoteAddr);
      if (refused !== null) {
        closeQuietly(conn);
        if (refused === "not-allowed") this.#counters.connectionsRefused++;
        else this.#counters.connectionsRejected++;
        this.#report(conn.remoteAddr, refused);
        continue;
      }
      this.#counters.connectionsTotal++;
      const task = this.#serve(conn);
      this.#tasks.add(task);
      void task.finally(() => this.#tasks.delete(task));
    }
  }

  /**
   * Whether a peer may be served: `null`, or why not. Counts it in its
   * source when it may (see #release).
   */
  #admit(addr: Deno.Addr): Refusal["reason"] | null {
    const options = this.#options;
    const hostname = (addr as Deno.NetAddr).hostname;
    if (options.allow !== null && !options.allow.allows(hostname ?? "")) {
      return "not-allowed";
    }
    if (this.#connections.size >= options.maxConnections) {
      return "max-connections";
    }
    if (options.maxConnectionsPerSource > 0) {
      const source = sourceOf(hostname ?? "");
      const open = this.#perSource.get(source) ?? 0;
      if (open >= options.maxConnectionsPerSource) return "per-source-limit";
      this.#perSource.set(source, open + 1);
    }
    return null;
  }

  /** A connection admitted by #admit has closed. */
  #release(addr: Deno.Addr): void {
    if (this.#options.maxConnectionsPerSource === 0) return;
    const source = sourceOf((addr as Deno.NetAddr).hostname ?? "");
    const open = (this.#perSource.get(source) ?? 1) - 1;
    if (open > 0) this.#perSource.set(source, open);
    else this.#perSource.delete(source);
  }

  /** Reports a refusal to onRefused, within its rate limit. */
  #report(addr: Deno.Addr, reason: Refusal["reason"]): void {
    const fn = this.#onRefused;
    if (fn === null) return;
    const source = sourceOf((addr as Deno.NetAddr).hostname ?? "");
    const count = this.#refusals.refused(source, performance.now());
    if (count === 0) return;
    try {
      fn({ source, remoteAddr: addr, reason, count });
    } catch (error) {
      this.#fail(error);
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
    const c = new ReceiverConnection(conn, this.#nextId++, this.#host);
    this.#connections.add(c);
    this.#emit({ type: "opened", connection: c.info });
    let outcome: Outcome;
    try {
      outcome = await c.run();
    } catch (error) {
      outcome = classify(error);
    }
    if (c.closedBy !== null) outcome = c.closedBy;
    c.close(null);
    c.releaseBuffer();
    this.#connections.delete(c);
    this.#release(conn.remoteAddr);
    this.#readGrowth -= c.readSize - READ_BUFFER_SIZE;
    const session = c.session;
    this.#counters.closed(outcome, session.started, c);
    this.#emit({
      type: "closed",
      connection: c.info,
      stopped: session.stopped,
      error: outcome.error,
    });
  }

  async #close(): Promise<void> {
    this.#closing = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    closeQuietly(this.#listener);
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
    this.#queue.wakeProducers();
    await Promise.all(this.#tasks);
    this.#queue.finish();
    if (this.#failure !== null) throw this.#failure.error;
  }
}
