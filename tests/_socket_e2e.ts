// Helpers of the socket end-to-end tests (tests/socket_e2e_*_test.ts): our
// FrameWriter against our FrameReceiver over real sockets. Payloads are
// dnstap-sized (80 to 400 bytes) pseudo-random bytes whose first four bytes
// are the frame's index, so that order, loss and duplication can be read off
// what arrives (a Tally). No assertion is about timing: every wait is for a
// condition, and the few sleeps only slow a consumer down.
import assert from "node:assert/strict";
import { rng, waitFor } from "./_support.ts";
import { DNSTAP_CONTENT_TYPE } from "../mod.ts";
import type {
  ConnectionEvent,
  ConnectionInfo,
  FrameReceiver,
  FrameReceiverOptions,
  ListenTarget,
  ReceivedFrame,
} from "../src/frame_receiver.ts";
import type { FrameWriter, FrameWriterOptions } from "../src/frame_writer.ts";
import { type Closed, closedEvents, listen } from "./_receiver.ts";

export { type Closed, closedEvents, listen };

/** The dnstap content type as bytes. */
export const DNSTAP_BYTES: Uint8Array = new TextEncoder().encode(
  DNSTAP_CONTENT_TYPE,
);

/** Reconnection delays short enough for a test. */
export const FAST_RECONNECT: { initialDelay: number; maxDelay: number } = {
  initialDelay: 10,
  maxDelay: 50,
} satisfies FrameWriterOptions["reconnect"];

/**
 * `count` dnstap-sized payloads, 80 to 400 bytes: the index (big-endian
 * 32 bits), then pseudo-random bytes from `seed`.
 */
export function makePayloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(80 + (r() % 321));
    new DataView(p.buffer).setUint32(0, i);
    for (let j = 4; j < p.length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  return out;
}

/** The index a payload of {@linkcode makePayloads} carries. */
function indexOf(data: Uint8Array): number {
  return new DataView(data.buffer, data.byteOffset, data.byteLength)
    .getUint32(0);
}

/** FNV-1a over the frame's length (32 bits) and bytes, continuing from `h`. */
export function hashFrame(h: number, data: Uint8Array): number {
  const n = data.length;
  for (const b of [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]) {
    h = Math.imul(h ^ b, 0x01000193);
  }
  for (let i = 0; i < n; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

/** FNV-1a's offset basis: the hash of no frames. */
export const FNV_OFFSET = 0x811c9dc5;

/** The running hash of a whole list of frames. */
export function hashAll(frames: readonly Uint8Array[]): number {
  let h = FNV_OFFSET;
  for (const f of frames) h = hashFrame(h, f);
  return h;
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What arrived on one receiver: count, running hash, the indices in arrival
 * order, the connections seen, and a few payloads kept for spot checks.
 */
export class Tally {
  count = 0;
  hash = FNV_OFFSET;
  indices: number[] = [];
  connections = new Map<number, ConnectionInfo>();
  /** Payloads kept (every 997th, and the last) by arrival position. */
  kept = new Map<number, Uint8Array>();
  last: Uint8Array | null = null;

  add(frame: ReceivedFrame): void {
    this.hash = hashFrame(this.hash, frame.data);
    this.indices.push(indexOf(frame.data));
    this.connections.set(frame.connection.id, frame.connection);
    if (this.count % 997 === 0) this.kept.set(this.count, frame.data);
    this.last = frame.data;
    this.count++;
  }

  /** Asserts the frames were exactly `payloads`, in order. */
  assertExactly(payloads: readonly Uint8Array[], what: string): void {
    assert.equal(this.count, payloads.length, `${what}: frame count`);
    this.assertRun(0, payloads.length, what);
    assert.equal(this.hash, hashAll(payloads), `${what}: running hash`);
    for (const [at, data] of this.kept) {
      assert.ok(sameBytes(data, payloads[at]!), `${what}: frame ${at} bytes`);
    }
    if (this.last !== null) {
      assert.ok(sameBytes(this.last, payloads.at(-1)!), `${what}: last frame`);
    }
  }

  /** Asserts the indices are from, from + 1, …, to - 1. */
  assertRun(from: number, to: number, what: string): void {
    assert.equal(this.indices.length, to - from, `${what}: run length`);
    this.indices.forEach((index, k) => {
      if (index !== from + k) {
        assert.fail(`${what}: frame ${k} is #${index}, expected #${from + k}`);
      }
    });
  }
}

/**
 * Reads every frame of `receiver` into a tally until the iteration ends
 * (the receiver closed and drained). `pace`, if given, is awaited after each
 * frame: a slow application.
 */
export async function consume(
  receiver: FrameReceiver,
  tally: Tally,
  pace?: (count: number) => Promise<void> | void,
): Promise<void> {
  const it = receiver[Symbol.asyncIterator]();
  for (let r = await it.next(); !r.done; r = await it.next()) {
    tally.add(r.value);
    await pace?.(tally.count);
  }
}

/** A receiver whose frames a consumer tallies from the start. */
export interface Collector {
  receiver: FrameReceiver;
  /** Its connection events. */
  events: ConnectionEvent[];
  tally: Tally;
  /** The consumer: settles once the receiver is closed and drained. */
  consuming: Promise<void>;
}

/**
 * Listens on `target` and consumes every frame into a tally (`pace`, if
 * given, is awaited after each frame: see {@linkcode consume}).
 */
export async function collect(
  target: ListenTarget,
  options: FrameReceiverOptions = {},
  pace?: (count: number) => Promise<void> | void,
): Promise<Collector> {
  const { receiver, events } = await listen(target, options);
  const tally = new Tally();
  return { receiver, events, tally, consuming: consume(receiver, tally, pace) };
}

/**
 * Ends a transfer: closes the writer (which returns after FINISH, or after
 * STOP when unidirectional), waits for the connection's "closed" event
 * (`what` names the wait), closes the receiver and lets the consumer drain.
 */
export async function closeBoth(
  writer: FrameWriter,
  c: Collector,
  what = "the close",
): Promise<void> {
  await writer.close();
  await waitFor(() => closedEvents(c.events).length === 1, what);
  await c.receiver.close();
  await c.consuming;
}

/**
 * Asserts a collector got exactly `payloads` in one stream of `mode` and
 * `contentType` that ended with STOP, and its receiver saw no error.
 */
export function assertOneStream(
  c: Collector,
  payloads: readonly Uint8Array[],
  what: string,
  expected: { mode: ConnectionInfo["mode"]; contentType: Uint8Array },
): void {
  c.tally.assertExactly(payloads, what);
  const [info] = c.tally.connections.values();
  assert.equal(info!.mode, expected.mode);
  assert.deepEqual(info!.contentTypeBytes, expected.contentType);
  assert.equal(
    info!.contentType,
    new TextDecoder().decode(expected.contentType),
  );
  assertStoppedCleanly(closedEvents(c.events)[0], what);
  assertNoErrors(c.receiver);
}

/** Writes every payload in order, awaiting each write (block mode waits). */
export async function writeAllFrames(
  writer: FrameWriter,
  payloads: readonly Uint8Array[],
): Promise<void> {
  for (const p of payloads) await writer.write(p);
}

/** The writer's target for a receiver's address. */
export function targetOf(receiver: FrameReceiver): {
  transport: "unix";
  path: string;
} | { transport: "tcp"; port: number } {
  const addr = receiver.addr;
  return addr.transport === "unix"
    ? { transport: "unix", path: addr.path }
    : { transport: "tcp", port: (addr as Deno.NetAddr).port };
}

/** Asserts a connection ended with STOP and no error. */
export function assertStoppedCleanly(
  closed: Closed | undefined,
  what: string,
): void {
  assert.ok(closed !== undefined, `${what}: no closed event`);
  assert.equal(closed.error, null, `${what}: ${closed.error?.message}`);
  assert.equal(closed.stopped, true, `${what}: STOP came`);
}

/** Asserts a receiver saw no protocol or I/O error and no failed handshake. */
export function assertNoErrors(receiver: FrameReceiver): void {
  const stats = receiver.stats;
  assert.deepEqual(stats.protocolErrors, {});
  assert.equal(stats.ioErrors, 0);
  assert.equal(stats.handshakeFailures, 0);
  assert.equal(stats.connectionsOpen, 0);
}
