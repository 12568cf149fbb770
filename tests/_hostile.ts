// Test harness for the hostile-input suite (tests/hostile_input_test.ts): one
// live FrameReceiver per case, a good FrameWriter streaming on its own
// connection for the whole case, hand-written hostile peers, and the checks
// every case shares (the good stream whole, in order, byte-identical; only
// the hostile connections closed; memory sampled).
import assert from "node:assert/strict";
import {
  FrameReceiver,
  type FrameReceiverOptions,
  type ListenTarget,
  type ReceiverStats,
} from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { delay, waitFor } from "./_support.ts";
import { concat } from "./_util.ts";
import { rawControl, words } from "./_vectors.ts";
import { type Closed as ClosedEvent, DNSTAP, isHangUp } from "./_receiver.ts";
import {
  GoodChecker,
  GoodWriter,
  MEMORY_BOUND_MIB,
  type MemoryReport,
  MemorySampler,
} from "./_hostile_good.ts";

export { MEMORY_BOUND_MIB, type MemoryReport, MemorySampler };

// The control frames and the readers every receiver test shares.
export {
  ACCEPT,
  DNSTAP,
  FINISH,
  isHangUp,
  readExactly,
  readToEnd,
  READY,
  START,
  STOP,
} from "./_receiver.ts";

export type { Closed as ClosedEvent } from "./_receiver.ts";

// Frames built by hand, so that they can be wrong.
export { concat, rawControl, words };

// ---------------------------------------------------------------------------
// Hostile peers' I/O: nothing here may throw because the receiver hung up.

/** Writes all of `bytes`; false if the receiver hung up first. */
export async function send(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<boolean> {
  let p = 0;
  try {
    while (p < bytes.length) p += await conn.write(bytes.subarray(p));
  } catch (error) {
    if (isHangUp(error)) return false;
    throw error;
  }
  return true;
}

/**
 * Writes `bytes` one at a time, `interval` ms apart, until done or the
 * receiver hangs up; how many bytes were written.
 */
export async function drip(
  conn: Deno.Conn,
  bytes: Uint8Array,
  interval: number,
): Promise<number> {
  for (let i = 0; i < bytes.length; i++) {
    if (!await send(conn, bytes.subarray(i, i + 1))) return i;
    await delay(interval);
  }
  return bytes.length;
}

/** Closes a connection that may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

// ---------------------------------------------------------------------------
// The case

export type Transport = "tcp" | "unix" | "tls";

/** How a case is set up. */
export interface CaseOptions {
  transport?: Transport;
  /** For "tls": the certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Receiver options (onData and onConnection are the harness's). */
  receiver?: Omit<FrameReceiverOptions, "onData" | "onConnection" | "onFrame">;
  /** How the good frames reach the test: onData (default) or iteration. */
  delivery?: "onData" | "iterate";
}

/** A live receiver with a good writer streaming into it. */
export class Case {
  readonly receiver: FrameReceiver;
  readonly events: ClosedEvent[];
  readonly transport: Transport;
  readonly memory: MemorySampler;
  /** Replaced by startGood(), for its seed. */
  checker: GoodChecker;
  readonly startedAt: number;
  /** "started" events so far (every connection's). */
  started = 0;
  /** The hostile connections' "closed" events, in order. */
  readonly #hostileClosed: ClosedEvent[] = [];
  /** For each hostile "closed" event: whether the good stream was live then. */
  readonly goodLiveAtHostileClose: boolean[] = [];
  #dir: string | null;
  #good: GoodWriter | null = null;
  #goodStopping = false;
  goodClosedEarly = false;
  #iterating: Promise<void> | null = null;
  #finished = false;
  writerErrors: Error[] = [];

  private constructor(
    receiver: FrameReceiver,
    events: ClosedEvent[],
    transport: Transport,
    memory: MemorySampler,
    checker: GoodChecker,
    dir: string | null,
  ) {
    this.receiver = receiver;
    this.events = events;
    this.transport = transport;
    this.memory = memory;
    this.checker = checker;
    this.#dir = dir;
    this.startedAt = performance.now();
  }

  /** Opens the receiver; the good writer is started by {@linkcode startGood}. */
  static async open(options: CaseOptions = {}): Promise<Case> {
    const transport = options.transport ?? "tcp";
    const memory = new MemorySampler();
    const events: ClosedEvent[] = [];
    let dir: string | null = null;
    let target: ListenTarget;
    if (transport === "unix") {
      dir = await Deno.makeTempDir({ prefix: "fstrm-hostile-" });
      target = { transport, path: `${dir}/r.sock` };
    } else if (transport === "tls") {
      assert.ok(options.tls, "a TLS case needs a certificate");
      target = { transport, port: 0, ...options.tls };
    } else {
      target = { transport, port: 0 };
    }
    let self: Case | null = null;
    // Frames that come before `self` is set can only be hostile: the good
    // writer starts later.
    const checker = new GoodChecker(0);
    const check = (w: Uint8Array, o: number, n: number, id: number) =>
      (self?.checker ?? checker).check(w, o, n, id);
    const delivery = options.delivery ?? "onData";
    const receiver = await FrameReceiver.listen(target, {
      contentTypes: [DNSTAP],
      handshakeTimeout: 400,
      gracePeriod: 1_000,
      ...options.receiver,
      ...(delivery === "onData"
        ? {
          onData: (window, offset, length, connection) =>
            check(window, offset, length, connection.id),
        }
        : {}),
      onConnection: (event) => {
        if (event.type === "started" && self !== null) self.started++;
        // Only "closed" events are kept: the suite makes 10,000 connections.
        if (event.type !== "closed") return;
        events.push(event);
        if (self === null) return;
        const goodId = self.checker.goodId;
        if (event.connection.id === goodId) {
          if (!self.#goodStopping) self.goodClosedEarly = true;
        } else {
          self.#hostileClosed.push(event);
          self.goodLiveAtHostileClose.push(
            goodId !== null && !self.#goodStopping,
          );
        }
      },
    });
    self = new Case(receiver, events, transport, memory, checker, dir);
    if (delivery === "iterate") {
      self.#iterating = (async () => {
        for await (const { data, connection } of receiver) {
          check(data, 0, data.length, connection.id);
        }
      })();
    }
    return self;
  }

  /** After a failure: closes what is open, so that the next case starts clean. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#goodStopping = true;
    await this.#good?.stop().catch(() => {});
    await this.receiver.close().catch(() => {});
    await this.#iterating?.catch(() => {});
    this.memory.stop();
    if (this.#dir !== null) {
      await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
    }
  }

  /** The receiver's port (TCP, TLS). */
  get port(): number {
    return (this.receiver.addr as Deno.NetAddr).port;
  }

  /**
   * Connects the good writer (bidirectional, READY / ACCEPT / START) and
   * starts it streaming; resolves once its first frame has arrived, so
   * that its connection is known and live.
   */
  async startGood(
    options: { seed?: number; minFrames?: number; caCert?: string } = {},
  ): Promise<void> {
    const seed = options.seed ?? 1;
    this.checker = new GoodChecker(seed);
    const addr = this.receiver.addr;
    const writer = await FrameWriter.connect(
      this.transport === "unix"
        ? { transport: "unix", path: (addr as Deno.UnixAddr).path }
        : this.transport === "tls"
        ? {
          transport: "tls",
          hostname: "localhost",
          port: this.port,
          caCerts: [options.caCert!],
        }
        : { transport: "tcp", port: this.port },
      {
        contentTypes: [DNSTAP],
        reconnect: false,
        flushInterval: 5,
        onError: (e) => void this.writerErrors.push(e),
      },
    );
    this.#good = new GoodWriter(writer, seed, options.minFrames ?? 20_000);
    await waitFor(() => this.checker.goodId !== null, "the good stream");
  }

  /** A raw connection to the receiver (plain TCP on a TLS port). */
  connect(): Promise<Deno.Conn> {
    const addr = this.receiver.addr;
    return addr.transport === "unix"
      ? Deno.connect({ transport: "unix", path: addr.path })
      : Deno.connect({ hostname: "127.0.0.1", port: this.port });
  }

  /** The "closed" events so far. */
  closed(): ClosedEvent[] {
    return [...this.events];
  }

  /** The "closed" events of connections other than the good one. */
  hostileClosed(): ClosedEvent[] {
    return [...this.#hostileClosed];
  }

  /** Waits until `n` hostile connections have closed; their events. */
  async waitHostileClosed(n: number): Promise<ClosedEvent[]> {
    await waitFor(() => this.#hostileClosed.length >= n, `${n} hostile closes`);
    return this.hostileClosed();
  }

  /**
   * Ends the case: stops the good writer (STOP, FINISH), closes the
   * receiver, and checks what every case must hold. Returns what the case
   * asserts on further.
   */
  async finish(
    bound: { rss: number; external: number } = MEMORY_BOUND_MIB,
  ): Promise<CaseResult> {
    assert.ok(this.#good !== null, "startGood() was not called");
    this.#finished = true;
    this.#goodStopping = true;
    const written = await this.#good.stop();
    const goodStats = this.#good.writer.stats;
    await waitFor(
      () => this.checker.received >= written || this.checker.mismatch !== null,
      "the good frames",
    );
    const statsBeforeClose = this.receiver.stats;
    const closeStart = performance.now();
    await this.receiver.close();
    const closeMs = performance.now() - closeStart;
    await this.#iterating;
    const memory = this.memory.stop();
    if (this.#dir !== null) await Deno.remove(this.#dir, { recursive: true });
    const elapsedMs = performance.now() - this.startedAt;

    // The good stream: whole, in order, byte-identical, closed normally.
    assert.equal(this.checker.mismatch, null);
    assert.equal(this.checker.received, written, "good frames received");
    assert.equal(goodStats.frames, written, "good frames written");
    assert.equal(goodStats.reconnects, 0, "the good writer never reconnected");
    assert.deepEqual(this.writerErrors, [], "the good writer saw no error");
    assert.ok(!this.goodClosedEarly, "the good connection closed early");
    const good = this.closed().filter((e) =>
      e.connection.id === this.checker.goodId
    );
    assert.equal(good.length, 1);
    assert.equal(good[0]!.error, null, "the good connection ended cleanly");
    assert.equal(good[0]!.stopped, true);
    // Memory stayed bounded.
    assert.ok(
      memory.externalDeltaMiB < bound.external,
      `external memory grew ${memory.externalDeltaMiB} MiB`,
    );
    assert.ok(
      memory.rssDeltaMiB < bound.rss,
      `RSS grew ${memory.rssDeltaMiB} MiB`,
    );
    return {
      stats: this.receiver.stats,
      statsBeforeClose,
      written,
      hostileClosed: this.hostileClosed(),
      hostileFrames: [...this.checker.others.values()].reduce(
        (a, b) => a + b,
        0,
      ),
      memory,
      closeMs,
      elapsedMs,
    };
  }
}

/** What a finished case gives its test to check. */
export interface CaseResult {
  /** The receiver's counters after its close. */
  stats: ReceiverStats;
  /** The counters just before `close()` (after the good writer's close). */
  statsBeforeClose: ReceiverStats;
  /** Good frames written (and, checked, received). */
  written: number;
  /** The "closed" events of every connection but the good one. */
  hostileClosed: ClosedEvent[];
  /** Data frames the receiver delivered from hostile connections. */
  hostileFrames: number;
  memory: MemoryReport;
  /** How long `receiver.close()` took, in ms. */
  closeMs: number;
  /** The whole case, in ms. */
  elapsedMs: number;
}

/** The counters a case checks, all of them: what is not given must be 0 / {}. */
export interface ExpectedCounters {
  handshakeFailures?: number;
  protocolErrors?: Record<string, number>;
  ioErrors?: number;
  connectionsRejected?: number;
  skippedFrames?: number;
  oversizedFrames?: number;
  /** Hostile connections accepted (the good one is added). */
  hostileConnections: number;
}

/** Asserts the receiver's counters exactly, and the frame count. */
export function assertCounters(
  result: CaseResult,
  expected: ExpectedCounters,
  hostileFrames = 0,
): void {
  const s = result.stats;
  assert.deepEqual(
    {
      connectionsTotal: s.connectionsTotal,
      connectionsOpen: s.connectionsOpen,
      handshakeFailures: s.handshakeFailures,
      protocolErrors: s.protocolErrors,
      ioErrors: s.ioErrors,
      connectionsRejected: s.connectionsRejected,
      skippedFrames: s.skippedFrames,
      oversizedFrames: s.oversizedFrames,
      frames: s.frames,
      hostileFrames: result.hostileFrames,
    },
    {
      connectionsTotal: expected.hostileConnections + 1,
      connectionsOpen: 0,
      handshakeFailures: expected.handshakeFailures ?? 0,
      protocolErrors: expected.protocolErrors ?? {},
      ioErrors: expected.ioErrors ?? 0,
      connectionsRejected: expected.connectionsRejected ?? 0,
      skippedFrames: expected.skippedFrames ?? 0,
      oversizedFrames: expected.oversizedFrames ?? 0,
      frames: result.written + hostileFrames,
      hostileFrames,
    },
  );
}

// ---------------------------------------------------------------------------
// What the hostile-input tests share besides the case.

/** With HOSTILE_REPORT=path, appends a line of numbers per case (for the README). */
export async function report(
  name: string,
  result: CaseResult,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const path = Deno.env.get("HOSTILE_REPORT");
  if (path === undefined) return;
  const line = {
    name,
    goodFrames: result.written,
    ...result.memory,
    closeMs: Math.round(result.closeMs),
    elapsedMs: Math.round(result.elapsedMs),
    ...extra,
  };
  await Deno.writeTextFile(path, JSON.stringify(line) + "\n", { append: true });
}

/**
 * Open file descriptors of this process (Linux), counted by `ls` (reading
 * /proc/self directly needs --allow-all, `deno task test` has --allow-run).
 */
export async function openFds(): Promise<number> {
  const { code, stdout } = await new Deno.Command("sh", {
    args: ["-c", `ls /proc/${Deno.pid}/fd | wc -l`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(code, 0, "ls /proc/PID/fd");
  return Number(new TextDecoder().decode(stdout).trim());
}

/** The closed event of one hostile connection, checked to be alone. */
export function only(closed: ClosedEvent[]): ClosedEvent {
  assert.equal(closed.length, 1, "one hostile connection closed");
  return closed[0]!;
}

/** Asserts every hostile close happened while the good stream was live. */
export function assertGoodLive(c: Case): void {
  assert.ok(
    c.goodLiveAtHostileClose.every((x) => x),
    "every hostile connection closed while the good stream was live",
  );
}
