// Helpers of the FrameWriter tests: hand-written collectors (Deno.listen
// and a FrameDecoder) that control exactly what the peer does, payloads
// whose order is easy to check, and the collectors of the interop tests.
import assert from "node:assert/strict";
import {
  ControlType,
  decodeFrames,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  type Frame,
  FrameDecoder,
} from "../mod.ts";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";
import { concat } from "./_util.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Helpers

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every 5 ms until it holds (the test's own timeout bounds it). */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** What a hand-written collector does. */
export interface CollectOptions {
  /**
   * What ACCEPT lists, given READY's content types; `null` closes the
   * connection without ACCEPT. Default: echo READY's list.
   */
  accept?: (offered: Uint8Array[]) => Uint8Array[] | null;
  /** Answer STOP with FINISH. Default true. */
  finish?: boolean;
}

/** What a collector saw. */
export interface Collected {
  /** Every frame, control frames included, in order. */
  frames: Frame[];
  /** The data frames' payloads as text. */
  payloads: string[];
  /** Socket reads that returned bytes. */
  reads: number;
  /** Whether a START came, and a STOP. */
  started: boolean;
  stopped: boolean;
  /** Whether the connection ended (EOF or reset) while reading. */
  ended: boolean;
}

/**
 * A hand-written collector on one connection: a FrameDecoder, answering
 * READY and STOP as `options` says. `run()` reads until EOF, or until its
 * `until` holds after a read; it may be called again to go on reading.
 */
export class Collector {
  readonly conn: Deno.Conn;
  readonly result: Collected = {
    frames: [],
    payloads: [],
    reads: 0,
    started: false,
    stopped: false,
    ended: false,
  };
  #options: CollectOptions;
  #decoder = new FrameDecoder();

  constructor(conn: Deno.Conn, options: CollectOptions = {}) {
    this.conn = conn;
    this.#options = options;
  }

  async run(until?: (r: Collected) => boolean): Promise<Collected> {
    const { finish = true, accept } = this.#options;
    const result = this.result;
    const conn = this.conn;
    try {
      while (!result.ended) {
        const buf = new Uint8Array(65536);
        const n = await conn.read(buf);
        if (n === null) break;
        result.reads++;
        this.#decoder.push(buf.subarray(0, n));
        for (
          let f = this.#decoder.next();
          f !== null;
          f = this.#decoder.next()
        ) {
          result.frames.push(f);
          if (f.kind === "data") {
            result.payloads.push(dec.decode(f.data));
            continue;
          }
          if (f.type === ControlType.READY) {
            const listed = accept ? accept(f.contentTypes) : f.contentTypes;
            if (listed === null) {
              result.ended = true;
              return result;
            }
            await conn.write(encodeControlFrame(ControlType.ACCEPT, listed));
          } else if (f.type === ControlType.START) {
            result.started = true;
          } else if (f.type === ControlType.STOP) {
            result.stopped = true;
            if (finish) {
              await conn.write(encodeControlFrame(ControlType.FINISH));
            }
          }
        }
        if (until?.(result)) return result;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
    }
    result.ended = true;
    return result;
  }
}

/** Accepts one connection and answers its handshake; the collector. */
export async function acceptStarted(
  listener: Deno.Listener,
  options: CollectOptions = {},
): Promise<Collector> {
  const collector = new Collector(await listener.accept(), options);
  await collector.run((r) => r.started);
  return collector;
}

/** Accepts one connection, collects it to the end, closes it. */
export async function serveOnce(
  listener: Deno.Listener,
  options: CollectOptions = {},
): Promise<Collected> {
  const collector = new Collector(await listener.accept(), options);
  try {
    return await collector.run();
  } finally {
    collector.conn.close();
  }
}

/** A Unix listener at `path`, removing a stale socket file first. */
export function listenUnix(path: string): Deno.UnixListener {
  try {
    Deno.removeSync(path);
  } catch {
    // no stale file
  }
  return Deno.listen({ transport: "unix", path });
}

/** "frame 000042": payloads whose order is easy to check. */
export function frame(i: number): string {
  return `frame ${String(i).padStart(6, "0")}`;
}

/** frame(i) padded to 1020 bytes: a frame of 1 KiB encoded. */
export function kibFrame(i: number): string {
  return frame(i).padEnd(1020, ".");
}

/**
 * The number of 1 KiB frames that fill a default writer's growing batches
 * exactly: 256 + 512 + 1024 + 1024 KiB, four socket writes (fixed 256 KiB
 * batches would take 11, fixed 1 MiB ones 3).
 */
export const GROWN_BURST = 2816;

/** Queues GROWN_BURST frames at once (no timer can fire in between). */
export function burstOfKibFrames(writer: FrameWriter, from = 0): void {
  for (let i = from; i < from + GROWN_BURST; i++) {
    assert.equal(writer.tryWrite(kibFrame(i)), true, `frame ${i} refused`);
  }
}

export function indexOf(payload: string): number {
  return Number(payload.slice(6, 12));
}

/** Asserts `payloads` are frame(from), frame(from + 1), …; returns `from`. */
export function assertRun(payloads: readonly string[], what: string): number {
  if (payloads.length === 0) return -1;
  const from = indexOf(payloads[0]!);
  payloads.forEach((p, k) =>
    assert.equal(p, frame(from + k), `${what}: frame ${k} out of order`)
  );
  return from;
}

export const DNSTAP = enc.encode(DNSTAP_CONTENT_TYPE);
export const FAST_RECONNECT = {
  initialDelay: 10,
  maxDelay: 50,
};

/**
 * A writer on `path` (queueSize 10) whose collector accepted it and went
 * away: nobody to write to, so its queue fills and stays full until a new
 * collector listens at `path`.
 */
export async function disconnectedWriter(
  path: string,
  queueMode: "block" | "drop",
): Promise<FrameWriter> {
  const first = listenUnix(path);
  const accepted = acceptStarted(first);
  const writer = await FrameWriter.connect(
    { transport: "unix", path },
    { queueMode, queueSize: 10, reconnect: FAST_RECONNECT },
  );
  first.close();
  (await accepted).conn.close();
  await until(() => !writer.stats.connected, "the writer to see the loss");
  return writer;
}

/** Frames from..to-1 (see frame()), encoded back to back. */
export function encodedRun(from: number, to: number): Uint8Array {
  return concat(
    ...Array.from(
      { length: to - from },
      (_, k) => encodeDataFrame(frame(from + k)),
    ),
  );
}

/** Payloads shaped like dnstap: 80 to 400 bytes, every byte value. */
export function dnstapLike(count: number): Uint8Array[] {
  let s = 12345;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const p = new Uint8Array(80 + (s % 321));
    for (let k = 0; k < p.length; k++) {
      p[k] = (i * 31 + k * 7 + (s >>> 8)) & 0xff;
    }
    out.push(p);
  }
  return out;
}

/** Spawns a collector; waits for its Unix socket or TCP port. */
export async function spawnCollector(
  cmd: string,
  args: string[],
  ready: () => Promise<boolean>,
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  for (let i = 0; i < 1000 && !(await ready()); i++) await sleep(5);
  return child;
}

export async function socketExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isSocket === true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (free a moment ago). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** A TCP listener on a free loopback port. */
export function listenTcp(): Deno.TcpListener {
  return Deno.listen({ hostname: "127.0.0.1", port: 0 });
}

/** A FrameWriter connected over TCP to `listener`. */
export function connectTcp(
  listener: Deno.TcpListener,
  options: FrameWriterOptions = {},
): Promise<FrameWriter> {
  return FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    options,
  );
}

/** frame(from), …, frame(to - 1). */
export function frames(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, k) => frame(from + k));
}

/**
 * Accepts one connection and reads it to the end without answering (for a
 * unidirectional writer); the payloads of its data frames, as text.
 */
export async function receivePayloads(
  listener: Deno.TcpListener,
): Promise<string[]> {
  const conn = await listener.accept();
  const bytes = await new Response(conn.readable).bytes();
  return decodeFrames(bytes).flatMap((f) =>
    f.kind === "data" ? [dec.decode(f.data)] : []
  );
}
