// Helpers of the FrameReceiver socket tests (frame_receiver*_test.ts):
// frames, a receiver that records its events, hand-written peers' I/O.
import assert from "node:assert/strict";
import { rng } from "./_support.ts";
import {
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
} from "../mod.ts";
import {
  type ConnectionEvent,
  FrameReceiver,
  type FrameReceiverOptions,
  type ListenTarget,
  type ReceivedFrame,
} from "../src/frame_receiver.ts";
import { concat } from "./_util.ts";

export const DNSTAP = DNSTAP_CONTENT_TYPE;
export const DNSTAP_BYTES = new TextEncoder().encode(DNSTAP);
export const READY = encodeControlFrame(ControlType.READY, [DNSTAP]);
export const START = encodeControlFrame(ControlType.START, [DNSTAP]);
export const ACCEPT = encodeControlFrame(ControlType.ACCEPT, [DNSTAP]);
export const STOP = encodeControlFrame(ControlType.STOP);
export const FINISH = encodeControlFrame(ControlType.FINISH);

// ---------------------------------------------------------------------------
// Helpers

/** `count` payloads: mostly dnstap-sized, some up to 60 KB, random bytes. */
export function makePayloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const pick = r() % 20;
    const length = pick < 16
      ? 80 + (r() % 320)
      : pick < 19
      ? 400 + (r() % 4_600)
      : 5_000 + (r() % 55_001);
    const p = new Uint8Array(length);
    for (let j = 0; j < length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  out.push(new Uint8Array(60_000).fill(7), Uint8Array.of(1));
  return out;
}

/** A receiver that records its connection events. */
export async function listen(
  target: ListenTarget,
  options: FrameReceiverOptions = {},
): Promise<{ receiver: FrameReceiver; events: ConnectionEvent[] }> {
  const events: ConnectionEvent[] = [];
  const receiver = await FrameReceiver.listen(target, {
    ...options,
    onConnection: (event) => events.push(event),
  });
  return { receiver, events };
}

export const TCP: ListenTarget = { transport: "tcp", port: 0 };

/** Connects a client to the receiver's address (TCP or Unix). */
export function connect(receiver: FrameReceiver): Promise<Deno.Conn> {
  const addr = receiver.addr;
  return addr.transport === "unix"
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ port: (addr as Deno.NetAddr).port });
}

/** Writes all of `bytes`. */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let p = 0;
  while (p < bytes.length) p += await conn.write(bytes.subarray(p));
}

/** A hand-written writer's half of the handshake: sends READY, asserts ACCEPT. */
export async function sendReady(conn: Deno.Conn): Promise<void> {
  await writeAll(conn, READY);
  assert.deepEqual(await readExactly(conn, ACCEPT.length), ACCEPT);
}

/** Reads exactly `n` bytes (fails on EOF before). */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let p = 0;
  while (p < n) {
    const got = await conn.read(out.subarray(p));
    if (got === null) assert.fail(`EOF after ${p} of ${n} bytes`);
    p += got;
  }
  return out;
}

/** Whether an error means the peer hung up (what a hostile peer expects). */
export function isHangUp(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.UnexpectedEof;
}

/** Reads until the peer closes (a hang-up counts as closing); the bytes read. */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (error) {
      if (isHangUp(error)) break;
      throw error;
    }
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(...parts);
}

/** Takes `n` frames from the receiver's iterator (without ending it). */
export async function take(
  iterator: AsyncIterator<ReceivedFrame>,
  n: number,
): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  while (out.length < n) {
    const r = await iterator.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** A connection's "closed" event. */
export type Closed = Extract<ConnectionEvent, { type: "closed" }>;

/** The "closed" events among `events`. */
export function closedEvents(events: readonly ConnectionEvent[]): Closed[] {
  return events.flatMap((e) => e.type === "closed" ? [e] : []);
}

/** Asserts two payload lists are byte-identical, naming the first difference. */
export function assertSamePayloads(
  got: Uint8Array[],
  want: Uint8Array[],
): void {
  assert.equal(got.length, want.length, "frame count");
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (a.length !== b.length || !a.every((x, j) => x === b[j])) {
      assert.fail(`frame ${i} differs (${a.length} vs ${b.length} bytes)`);
    }
  }
}

/** Runs a command to completion; exit code and stderr. */
export async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

/** The payloads of a run of encoded frames; fails unless it is whole. */
export function takeRun(
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
): Uint8Array[] {
  const view = new DataView(window.buffer, window.byteOffset, window.length);
  const out: Uint8Array[] = [];
  let at = start;
  for (let k = 0; k < frames; k++) {
    assert.ok(at + 4 <= end, "a run cut inside a length word");
    const length = view.getUint32(at);
    assert.ok(length > 0 && at + 4 + length <= end, "a run cut inside a frame");
    out.push(window.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  assert.equal(at, end, "a run longer than its frames");
  return out;
}
