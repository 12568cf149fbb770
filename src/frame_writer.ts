/**
 * A Frame Streams writer over sockets: the client a DNS server runs to send
 * dnstap (or any other content type) to a collector, over a Unix socket, TCP
 * or TLS.
 *
 * A shell over {@linkcode WriterSession}, which makes every protocol
 * decision: the writer connects, runs the session's READY / ACCEPT / START
 * handshake (or only START, unidirectionally) and its deadlines, batches data
 * frames into few socket writes, reconnects with exponential backoff after
 * any failure, and ends with STOP / FINISH.
 *
 * Permissions: on a Unix socket SOCK,
 * `--allow-read=SOCK --allow-write=SOCK --allow-net=unix:SOCK` (Deno asks
 * all three); on TCP or TLS, `--allow-net=HOST:PORT`, HOST as connected to
 * (`hostname`, 127.0.0.1 by default; not `serverName`). Certificates and
 * keys are PEM strings: reading them from files takes `--allow-read` on
 * those files. A connection the permissions refuse fails at once
 * (`Deno.errors.NotCapable`), without retries.
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
 * assert.equal(writer.stats.frames, 2);
 * // READY (42) + START (42) + "hello" (9) + 3 bytes (7) + STOP (12)
 * assert.equal(await collected, 42 + 42 + 9 + 7 + 12);
 * ```
 *
 * @module
 */
import { countDataFrames } from "./_wire.ts";
import { BatchQueue, checkPayload } from "./_batch_queue.ts";
import { checkTarget, type ConnectTarget } from "./_connect_target.ts";
import {
  type FrameWriterOptions,
  resolveWriterOptions,
  type WriterStats,
} from "./_writer_options.ts";
import { WriterLoop } from "./_writer_loop.ts";
import { contentTypeText } from "./_bytes.ts";

export type { ConnectTarget } from "./_connect_target.ts";
export type {
  FrameWriterOptions,
  ReconnectOptions,
  WriterStats,
} from "./_writer_options.ts";

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
 *   end of the old connection and again at the start of the next (counted
 *   in {@linkcode WriterStats.frames} both times, and in
 *   {@linkcode WriterStats.resent});
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
  #queue: BatchQueue;
  #loop: WriterLoop;
  #closed: Promise<void> | null = null;

  private constructor(target: ConnectTarget, options: FrameWriterOptions) {
    checkTarget(target);
    const settings = resolveWriterOptions(options);
    this.#queue = new BatchQueue(settings, () => this.#loop.wake());
    this.#loop = new WriterLoop(target, settings, this.#queue);
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
   * types, breaks the handshake, or closes the connection before ACCEPT
   * (reason `"closed"`).
   * @throws {SessionTimeoutError} If no ACCEPT came within
   * `handshakeTimeout` (reason `"handshake"`).
   * @throws The error of the last connection attempt once `connectTimeout`
   * has passed (`Deno.errors.NotFound`, `Deno.errors.ConnectionRefused`, a
   * TLS error, …: the same class, its message naming the target, as
   * "Cannot connect to unix:/run/dnstap.sock: …", the original as `cause`),
   * or the signal's reason if it was aborted.
   *
   * @example A collector that is not there: one attempt, or wait for it
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * const path = "/nonexistent/dnstap.sock";
   * await assert.rejects(
   *   FrameWriter.connect({ transport: "unix", path }, { connectTimeout: 0 }),
   *   (e) => e instanceof Deno.errors.NotFound && e.message.includes(`unix:${path}`),
   * );
   *
   * // By default connect() waits up to 10 s for a collector starting up.
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const port = listener.addr.port;
   * listener.close(); // down for now…
   * const failures: Error[] = [];
   * const connecting = FrameWriter.connect(
   *   { transport: "tcp", port },
   *   { bidirectional: false, onError: (e) => failures.push(e) },
   * );
   * await new Promise((r) => setTimeout(r, 300));
   * using again = Deno.listen({ hostname: "127.0.0.1", port }); // …up now
   * const drained = again.accept()
   *   .then((conn) => conn.readable.pipeTo(new WritableStream()));
   * const writer = await connecting;
   * await writer.close();
   * await drained;
   * assert.ok(failures.length > 0); // the refused attempts, reported
   * ```
   */
  static async connect(
    target: ConnectTarget,
    options: FrameWriterOptions = {},
  ): Promise<FrameWriter> {
    const writer = new FrameWriter(target, options);
    await writer.#loop.open();
    return writer;
  }

  /**
   * Use this to send one payload and wait, in block mode, for room in the
   * queue: the simple way, with a promise per frame. Queues one data frame.
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
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * await writer.write(new Uint8Array([0x0a, 0x01, 0x00])); // bytes as they are
   * await writer.write("a string is sent as UTF-8");
   * await assert.rejects(writer.write(""), RangeError); // empty: never
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 2);
   * ```
   */
  write(payload: Uint8Array | string): Promise<void> {
    const invalid = checkPayload(payload);
    if (invalid !== null) return Promise.reject(invalid);
    const refused = this.#loop.refusal();
    if (refused !== null) return Promise.reject(refused);
    return this.#queue.write(payload);
  }

  /**
   * Use this to send many payloads without a promise each, falling back to
   * `write()` when the queue is full. Queues a data frame if the queue has
   * room now, without a promise: the fast path for a producer with many
   * frames at hand. It returns `false`,
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
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false, queueSize: 100 });
   * const payload = new Uint8Array(200).fill(7);
   * for (let i = 0; i < 1000; i++) {
   *   if (!writer.tryWrite(payload)) await writer.write(payload); // full: wait
   * }
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 1000);
   * ```
   */
  tryWrite(payload: Uint8Array | string): boolean {
    const invalid = checkPayload(payload);
    if (invalid !== null) throw invalid;
    const refused = this.#loop.refusal();
    if (refused !== null) throw refused;
    return this.#queue.tryWrite(payload);
  }

  /**
   * Use this to forward frames already encoded (a run from
   * {@linkcode FrameReader.prototype.forEachRun}, a receiver's `onRun`, or
   * a capture file's bytes) with one copy per run and no frame parsed into
   * objects. Queues data frames that are already encoded, each a 4-byte big-endian
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
   * import { encodeFrameStream } from "@fstrm/fstrm";
   * import { openFrameReader } from "@fstrm/fstrm/file";
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * const path = await Deno.makeTempFile();
   * await Deno.writeFile(path, encodeFrameStream(["a", "b", "c"]));
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * await using reader = await openFrameReader(path);
   * await reader.forEachRun((window, start, end) => {
   *   const run = window.subarray(start, end);
   *   // Queued (copied) now, or wait: the window stays intact meanwhile.
   *   return writer.tryWriteRun(run) ? undefined : writer.writeRun(run);
   * });
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 3);
   * await Deno.remove(path);
   * ```
   */
  writeRun(frames: Uint8Array): Promise<void> {
    let count: number;
    try {
      count = countDataFrames(frames);
    } catch (error) {
      return Promise.reject(error);
    }
    const refused = this.#loop.refusal();
    if (refused !== null) return Promise.reject(refused);
    return this.#queue.writeRun(frames, count);
  }

  /**
   * Use this to forward many runs without a promise each, falling back to
   * `writeRun()` when the queue is full. As
   * {@linkcode FrameWriter.prototype.writeRun}, without a promise:
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
   * import { encodeDataFrame } from "@fstrm/fstrm";
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * const two = new Uint8Array([...encodeDataFrame("a"), ...encodeDataFrame("b")]);
   * assert.equal(writer.tryWriteRun(two), true);
   * assert.throws(() => writer.tryWriteRun(two.subarray(0, 6)), RangeError);
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 2);
   * ```
   */
  tryWriteRun(frames: Uint8Array): boolean {
    const count = countDataFrames(frames);
    const refused = this.#loop.refusal();
    if (refused !== null) throw refused;
    return this.#queue.tryWriteRun(frames, count);
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
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * await writer.write("urgent");
   * await writer.flush(); // on the wire now, not in up to flushInterval ms
   * assert.equal(writer.stats.frames, 1);
   * await writer.close();
   * await drained;
   * ```
   */
  async flush(): Promise<void> {
    const queue = this.#queue;
    const target = queue.admitted;
    queue.sealTail();
    for (;;) {
      const stopped = this.#loop.stopped();
      if (stopped !== null) throw stopped.error;
      if (queue.admitted - queue.queued >= target) return;
      await this.#loop.progress.wait();
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
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * await writer.write("last words");
   * await writer.close(); // flushes, sends STOP, closes
   * await drained;
   * assert.equal(writer.stats.frames, 1);
   * await assert.rejects(writer.write("too late"), TypeError);
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    await this.#loop.close();
    // A writer that gave up leaves nothing behind.
    if (!this.#queue.empty) {
      this.#queue.discardAll(null);
      this.#loop.progress.notify();
    }
  }

  /**
   * Calls {@linkcode FrameWriter.prototype.close}, for `await using` (see
   * the unidirectional example of {@linkcode FrameWriter}).
   *
   * @returns The promise of `close()`.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * assert.equal(typeof FrameWriter.prototype[Symbol.asyncDispose], "function");
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
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * await writer.write("hello");
   * const { frames, queued, connected } = writer.stats;
   * assert.deepEqual([frames, queued, connected], [0, 1, true]);
   * await writer.close();
   * await drained;
   * assert.equal(writer.stats.frames, 1);
   * ```
   */
  get stats(): WriterStats {
    const q = this.#queue;
    return {
      frames: q.frames,
      bytes: q.bytes,
      batches: q.batches,
      dropped: q.dropped,
      discarded: q.discarded,
      reconnects: this.#loop.reconnects,
      resent: q.resent,
      connected: this.#loop.connected,
      queued: q.queued,
    };
  }

  /**
   * The content type the last START named, as UTF-8 text (an invalid byte
   * reads as U+FFFD), or `null` if it named none. Each reconnection may
   * choose anew.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // reads, says nothing
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, { bidirectional: false });
   * // unidirectional: START names our first content type
   * assert.equal(writer.contentType, "protobuf:dnstap.Dnstap");
   * assert.equal(writer.contentTypeBytes?.length, 22);
   * await writer.close();
   * await drained;
   * ```
   */
  get contentType(): string | null {
    return contentTypeText(this.#loop.contentType);
  }

  /**
   * The exact bytes of {@linkcode FrameWriter.prototype.contentType} (a
   * copy; compare these), or `null`.
   *
   * @example
   * ```ts
   * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const drained = listener.accept().then((c) => c.readable.pipeTo(new WritableStream()));
   * const target = { transport: "tcp", port: listener.addr.port } as const;
   * const writer = await FrameWriter.connect(target, {
   *   bidirectional: false,
   *   contentTypes: [new Uint8Array([0xff])],
   * });
   * assert.deepEqual(writer.contentTypeBytes, new Uint8Array([0xff]));
   * assert.equal(writer.contentType, "\uFFFD");
   * await writer.close();
   * await drained;
   * ```
   */
  get contentTypeBytes(): Uint8Array | null {
    const type = this.#loop.contentType;
    return type === null ? null : type.slice();
  }
}
