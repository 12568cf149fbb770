// Our FrameWriter against our FrameReceiver over real sockets: Unix sockets in
// temporary directories, TCP and TLS on 127.0.0.1. Payloads are dnstap-sized
// (80 to 400 bytes) pseudo-random bytes whose first four bytes are the frame's
// index, so that order, loss and duplication can be read off what arrives.
// No assertion is about timing: every wait is for a condition, and the few
// sleeps only slow a consumer down.
import assert from "node:assert/strict";
import { delay as sleep, rng, waitFor, withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  type ConnectionEvent,
  type ConnectionInfo,
  DNSTAP_CONTENT_TYPE,
  FrameReceiver,
  type FrameReceiverOptions,
  FrameWriter,
  type FrameWriterOptions,
  HandshakeError,
  type ListenTarget,
  type ReceivedFrame,
} from "../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const DNSTAP_BYTES = enc.encode(DNSTAP_CONTENT_TYPE);
const FAST_RECONNECT: FrameWriterOptions["reconnect"] = {
  initialDelay: 10,
  maxDelay: 50,
};

// ---------------------------------------------------------------------------
// Helpers

/**
 * `count` dnstap-sized payloads, 80 to 400 bytes: the index (big-endian
 * 32 bits), then pseudo-random bytes from `seed`.
 */
function makePayloads(count: number, seed: number): Uint8Array[] {
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
function hashFrame(h: number, data: Uint8Array): number {
  const n = data.length;
  for (const b of [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]) {
    h = Math.imul(h ^ b, 0x01000193);
  }
  for (let i = 0; i < n; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

const FNV_OFFSET = 0x811c9dc5;

/** The running hash of a whole list of frames. */
function hashAll(frames: readonly Uint8Array[]): number {
  let h = FNV_OFFSET;
  for (const f of frames) h = hashFrame(h, f);
  return h;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What arrived on one receiver: count, running hash, the indices in arrival
 * order, the connections seen, and a few payloads kept for spot checks.
 */
class Tally {
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

type Closed = Extract<ConnectionEvent, { type: "closed" }>;

/** A receiver that records its connection events. */
async function listen(
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

function closedEvents(events: readonly ConnectionEvent[]): Closed[] {
  return events.flatMap((e) => e.type === "closed" ? [e] : []);
}

/**
 * Reads every frame of `receiver` into a tally until the iteration ends
 * (the receiver closed and drained). `pace`, if given, is awaited after each
 * frame: a slow application.
 */
async function consume(
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

/** Writes every payload in order, awaiting each write (block mode waits). */
async function writeAllFrames(
  writer: FrameWriter,
  payloads: readonly Uint8Array[],
): Promise<void> {
  for (const p of payloads) await writer.write(p);
}

/** The writer's target for a receiver's address. */
function targetOf(receiver: FrameReceiver): {
  transport: "unix";
  path: string;
} | { transport: "tcp"; port: number } {
  const addr = receiver.addr;
  return addr.transport === "unix"
    ? { transport: "unix", path: addr.path }
    : { transport: "tcp", port: (addr as Deno.NetAddr).port };
}

/** Asserts a connection ended with STOP and no error. */
function assertStoppedCleanly(closed: Closed | undefined, what: string): void {
  assert.ok(closed !== undefined, `${what}: no closed event`);
  assert.equal(closed.error, null, `${what}: ${closed.error?.message}`);
  assert.equal(closed.stopped, true, `${what}: STOP came`);
}

/** Asserts a receiver saw no protocol or I/O error and no failed handshake. */
function assertNoErrors(receiver: FrameReceiver): void {
  const stats = receiver.stats;
  assert.deepEqual(stats.protocolErrors, {});
  assert.equal(stats.ioErrors, 0);
  assert.equal(stats.handshakeFailures, 0);
  assert.equal(stats.connectionsOpen, 0);
}

// ---------------------------------------------------------------------------
// 1. Bulk transfer over Unix and TCP

for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`writer → receiver over ${transport}: 50,000 dnstap-sized frames arrive whole and in order, ending with STOP/FINISH`, async () => {
    await withTempDir(async (dir) => {
      const payloads = makePayloads(50_000, transport === "unix" ? 1 : 2);
      const { receiver, events } = await listen(
        transport === "unix"
          ? { transport, path: `${dir}/dnstap.sock` }
          : { transport, port: 0 },
        { contentTypes: [DNSTAP_CONTENT_TYPE] },
      );
      const tally = new Tally();
      const consuming = consume(receiver, tally);
      const errors: Error[] = [];
      const writer = await FrameWriter.connect(targetOf(receiver), {
        // A FINISH that never came would hang close() this long: the test's
        // own limit would show it, not a timer of ours.
        finishTimeout: 60_000,
        onError: (e) => errors.push(e),
      });
      assert.deepEqual(writer.contentType, DNSTAP_BYTES);
      await writeAllFrames(writer, payloads);
      await writer.close();
      // close() returned after FINISH: the collector saw STOP, answered,
      // and the writer met no error (no EOF before FINISH).
      assert.deepEqual(errors.map((e) => e.message), []);
      await waitFor(() => closedEvents(events).length === 1, "the close");
      await receiver.close();
      await consuming;

      tally.assertExactly(payloads, transport);
      assert.equal(tally.connections.size, 1);
      const [info] = tally.connections.values();
      assert.equal(info!.mode, "bidirectional");
      assert.deepEqual(info!.contentType, DNSTAP_BYTES);
      assert.deepEqual(events.map((e) => e.type), [
        "opened",
        "started",
        "closed",
      ]);
      assertStoppedCleanly(closedEvents(events)[0], transport);
      assertNoErrors(receiver);
      const stats = receiver.stats;
      assert.equal(stats.frames, payloads.length);
      assert.equal(stats.bytes, payloads.reduce((n, p) => n + p.length, 0));
      assert.equal(stats.connectionsTotal, 1);
      const w = writer.stats;
      assert.equal(w.framesWritten, payloads.length);
      assert.equal(
        w.bytesWritten,
        payloads.reduce((n, p) => n + 4 + p.length, 0),
      );
      assert.ok(
        w.batchesWritten < payloads.length / 10,
        `batched: ${w.batchesWritten} socket writes`,
      );
      assert.equal(w.reconnects, 0);
      assert.equal(w.dropped, 0);
      assert.equal(w.queued, 0);
      assert.equal(w.connected, false);
    });
  });
}

// ---------------------------------------------------------------------------
// 2. Content type negotiation

Deno.test("writer → receiver: the stream takes the writer's first content type that ACCEPT lists", async () => {
  const { receiver, events } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: ["c", "b"],
  });
  const tally = new Tally();
  const consuming = consume(receiver, tally);
  const writer = await FrameWriter.connect(targetOf(receiver), {
    contentTypes: ["a", "b", "c"],
  });
  assert.equal(dec.decode(writer.contentType!), "b");
  const payloads = makePayloads(100, 3);
  await writeAllFrames(writer, payloads);
  await writer.close();
  await waitFor(() => closedEvents(events).length === 1, "the close");
  await receiver.close();
  await consuming;
  tally.assertExactly(payloads, "content types");
  const [info] = tally.connections.values();
  assert.equal(info!.mode, "bidirectional");
  assert.equal(dec.decode(info!.contentType!), "b");
  assertStoppedCleanly(closedEvents(events)[0], "content types");
  assertNoErrors(receiver);
});

Deno.test("writer → receiver: no common content type fails the handshake on both sides", async () => {
  const { receiver, events } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: ["y"],
  });
  // Our receiver refuses such a READY by closing the connection without
  // ACCEPT (as fstrm_capture does; see FrameReceiverOptions.contentTypes),
  // so the writer never sees an ACCEPT to compare: it meets the end of the
  // connection during the handshake. A HandshakeError
  // "no-common-content-type" on the writer's side needs an ACCEPT that lists
  // other types, which our receiver never sends.
  await assert.rejects(
    FrameWriter.connect(targetOf(receiver), { contentTypes: ["x"] }),
    (e) =>
      e instanceof HandshakeError && e.reason === "closed" &&
      /before ACCEPT/.test(e.message),
  );
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const [closed] = closedEvents(events);
  assert.ok(closed!.error instanceof HandshakeError);
  assert.equal(closed!.error.reason, "no-common-content-type");
  assert.equal(closed!.stopped, false);
  assert.equal(closed!.connection.mode, null);
  const stats = receiver.stats;
  assert.equal(stats.handshakeFailures, 1);
  assert.deepEqual(stats.protocolErrors, {
    "handshake:no-common-content-type": 1,
  });
  assert.equal(stats.frames, 0);
  await receiver.close();
});

// ---------------------------------------------------------------------------
// 3. TLS

Deno.test("writer → receiver over TLS: 5,000 frames arrive intact", async () => {
  await withTempDir(async (dir) => {
    const { cert, key } = await selfSignedCert(dir);
    const { receiver, events } = await listen(
      { transport: "tls", port: 0, cert, key },
      { contentTypes: [DNSTAP_CONTENT_TYPE] },
    );
    const tally = new Tally();
    const consuming = consume(receiver, tally);
    const errors: Error[] = [];
    const writer = await FrameWriter.connect({
      transport: "tls",
      hostname: "127.0.0.1",
      port: (receiver.addr as Deno.NetAddr).port,
      caCerts: [cert],
    }, { onError: (e) => errors.push(e) });
    const payloads = makePayloads(5_000, 4);
    await writeAllFrames(writer, payloads);
    await writer.close();
    assert.deepEqual(errors.map((e) => e.message), []);
    await waitFor(() => closedEvents(events).length === 1, "the close");
    await receiver.close();
    await consuming;
    tally.assertExactly(payloads, "tls");
    const [info] = tally.connections.values();
    assert.equal(info!.mode, "bidirectional");
    assert.deepEqual(info!.contentType, DNSTAP_BYTES);
    assertStoppedCleanly(closedEvents(events)[0], "tls");
    assertNoErrors(receiver);
    assert.equal(writer.stats.framesWritten, payloads.length);
  });
});

// ---------------------------------------------------------------------------
// 4. Unidirectional

Deno.test("unidirectional writer → receiver: START … STOP, every frame, no FINISH needed", async () => {
  await withTempDir(async (dir) => {
    const { receiver, events } = await listen(
      { transport: "unix", path: `${dir}/dnstap.sock` },
      { contentTypes: [DNSTAP_CONTENT_TYPE] },
    );
    const tally = new Tally();
    const consuming = consume(receiver, tally);
    const errors: Error[] = [];
    const writer = await FrameWriter.connect(targetOf(receiver), {
      bidirectional: false,
      onError: (e) => errors.push(e),
    });
    assert.deepEqual(writer.contentType, DNSTAP_BYTES);
    const payloads = makePayloads(10_000, 5);
    await writeAllFrames(writer, payloads);
    await writer.close();
    assert.deepEqual(errors.map((e) => e.message), []);
    await waitFor(() => closedEvents(events).length === 1, "the close");
    await receiver.close();
    await consuming;
    tally.assertExactly(payloads, "unidirectional");
    const [info] = tally.connections.values();
    assert.equal(info!.mode, "unidirectional");
    assert.deepEqual(info!.contentType, DNSTAP_BYTES);
    assertStoppedCleanly(closedEvents(events)[0], "unidirectional");
    assertNoErrors(receiver);
    assert.equal(writer.stats.framesWritten, payloads.length);
  });
});

// ---------------------------------------------------------------------------
// 5. Reconnection after the receiver restarts

Deno.test("writer reconnects to a restarted receiver on the same Unix path", async (t) => {
  await t.step(
    "mid-stream, with the writer blocked: each connection a contiguous run, only the seam differs",
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/dnstap.sock`;
        const n = 30_000;
        const payloads = makePayloads(n, 6);
        const queueSize = 1_000;
        const bufferSize = 16_384;
        // A reads 5,000 frames, then stops reading: flow control backs up
        // into the writer, which is blocked in write() when A closes. What
        // sits in A's socket buffer then is lost with A (documented).
        const stopAt = 5_000;
        const a = await listen({ transport: "unix", path }, {
          highWaterMark: 64,
          gracePeriod: 0,
        });
        const tallyA = new Tally();
        const paused = Promise.withResolvers<void>();
        const resume = Promise.withResolvers<void>();
        const consumingA = consume(a.receiver, tallyA, async (count) => {
          if (count === stopAt) {
            paused.resolve();
            await resume.promise;
          }
        });
        const errors: Error[] = [];
        const writer = await FrameWriter.connect({ transport: "unix", path }, {
          queueSize,
          bufferSize,
          reconnect: FAST_RECONNECT,
          onError: (e) => errors.push(e),
        });
        const writing = writeAllFrames(writer, payloads);
        await paused.promise;
        await waitFor(
          () => writer.stats.queued === queueSize,
          "the writer to block",
        );
        await a.receiver.close();
        resume.resolve();
        await consumingA;
        // B takes over the path; the writer reconnects and goes on.
        const b = await listen({ transport: "unix", path });
        const tallyB = new Tally();
        const consumingB = consume(b.receiver, tallyB);
        await writing;
        await writer.close();
        await waitFor(() => closedEvents(b.events).length === 1, "B's close");
        await b.receiver.close();
        await consumingB;

        // A: frames 0, 1, … in order, and its connection was cut by close().
        const got = tallyA.count;
        assert.ok(got >= stopAt, `A got ${got}`);
        tallyA.assertRun(0, got, "A");
        const [closedA] = closedEvents(a.events);
        assert.ok(closedA!.error instanceof Deno.errors.Interrupted);
        assert.equal(closedA!.stopped, false);
        // B: one connection, a contiguous run up to the last frame, STOP.
        assert.equal(tallyB.connections.size, 1);
        const from = tallyB.indices[0]!;
        tallyB.assertRun(from, n, "B");
        assertStoppedCleanly(closedEvents(b.events)[0], "B");
        for (const [at, data] of tallyB.kept) {
          assert.ok(sameBytes(data, payloads[from + at]!), `B frame ${at}`);
        }
        // The seam, as FrameWriter's delivery guarantee states it: frames
        // of a batch whose write failed part-way may come again (from < got:
        // at most one batch, ≤ bufferSize bytes of frames of ≥ 84 bytes);
        // frames in flight in A's socket buffer when A closed are lost
        // (from > got: the bytes a Unix socket buffers, a few hundred KB).
        const maxRepeated = Math.ceil(bufferSize / 84);
        assert.ok(
          got - from <= maxRepeated,
          `${got - from} frames repeated`,
        );
        const lostBytes = payloads.slice(got, Math.max(got, from))
          .reduce((s, p) => s + 4 + p.length, 0);
        assert.ok(lostBytes <= 4 * 1024 * 1024, `${lostBytes} bytes lost`);
        const w = writer.stats;
        assert.ok(w.reconnects >= 1, `reconnects: ${w.reconnects}`);
        // Each frame counted once per completed socket write holding it.
        assert.ok(
          w.framesWritten >= n && w.framesWritten <= n + maxRepeated,
          `framesWritten: ${w.framesWritten}`,
        );
        assert.equal(w.queued, 0);
        assert.equal(w.dropped, 0);
        assert.equal(w.discarded, 0);
        assert.ok(errors.length >= 1, "onError heard of the loss");
        console.log(
          `    seam: A read ${got} frames, B started at ${from} (${
            from > got
              ? `${from - got} lost in flight, ${lostBytes} bytes`
              : `${got - from} repeated`
          })`,
        );
      });
    },
  );

  await t.step(
    "between bursts, A drained: the union is every frame exactly once",
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/dnstap.sock`;
        const n = 20_000;
        const half = 8_000;
        const payloads = makePayloads(n, 7);
        const a = await listen({ transport: "unix", path }, {
          gracePeriod: 0,
        });
        const tallyA = new Tally();
        const consumingA = consume(a.receiver, tallyA);
        const errors: Error[] = [];
        const writer = await FrameWriter.connect({ transport: "unix", path }, {
          queueSize: 1_000,
          reconnect: FAST_RECONNECT,
          onError: (e) => errors.push(e),
        });
        await writeAllFrames(writer, payloads.slice(0, half));
        await writer.flush();
        await waitFor(() => tallyA.count === half, "A to read the first part");
        await a.receiver.close();
        await consumingA;
        // The writer keeps writing while nobody listens (block mode: the
        // queue fills, then write() waits), and B starts on the same path.
        const writing = writeAllFrames(writer, payloads.slice(half));
        const b = await listen({ transport: "unix", path });
        const tallyB = new Tally();
        const consumingB = consume(b.receiver, tallyB);
        await writing;
        await writer.close();
        await waitFor(() => closedEvents(b.events).length === 1, "B's close");
        await b.receiver.close();
        await consumingB;

        tallyA.assertRun(0, half, "A");
        assert.equal(tallyA.hash, hashAll(payloads.slice(0, half)));
        tallyB.assertRun(half, n, "B");
        assert.equal(tallyB.hash, hashAll(payloads.slice(half)));
        assertStoppedCleanly(closedEvents(b.events)[0], "B");
        const w = writer.stats;
        assert.equal(w.reconnects, 1);
        assert.equal(w.framesWritten, n);
        assert.equal(w.dropped + w.discarded + w.queued, 0);
        assert.ok(errors.length >= 1, "onError heard of the loss");
      });
    },
  );
});

// ---------------------------------------------------------------------------
// 6. Drop mode

Deno.test("writer in drop mode against a stalled receiver: received + dropped === attempted, in order", async () => {
  await withTempDir(async (dir) => {
    const { receiver, events } = await listen(
      { transport: "unix", path: `${dir}/dnstap.sock` },
      { highWaterMark: 4 },
    );
    const tally = new Tally();
    const gate = Promise.withResolvers<void>();
    const consuming = (async () => {
      await gate.promise; // the application reads nothing for a while
      await consume(receiver, tally);
    })();
    const writer = await FrameWriter.connect(targetOf(receiver), {
      queueMode: "drop",
      queueSize: 100,
      bufferSize: 4_096,
    });
    const attempted = 20_000; // ~5 MB: more than the socket buffers hold
    const payloads = makePayloads(attempted, 8);
    for (let i = 0; i < attempted; i++) {
      await writer.write(payloads[i]!);
      if (i % 500 === 0) await sleep(0); // let the socket writes run
    }
    const droppedWhileStalled = writer.stats.dropped;
    gate.resolve();
    await writer.close();
    await waitFor(() => closedEvents(events).length === 1, "the close");
    await receiver.close();
    await consuming;

    const { dropped, framesWritten, queued, discarded } = writer.stats;
    assert.ok(droppedWhileStalled > 0, "the queue overflowed");
    assert.equal(dropped, droppedWhileStalled, "nothing dropped after");
    assert.equal(tally.count + dropped, attempted);
    assert.equal(tally.count, framesWritten);
    assert.equal(queued + discarded, 0);
    assert.equal(receiver.stats.frames, tally.count);
    // What arrived is in order, byte-identical, with gaps only.
    let last = -1;
    let h = FNV_OFFSET;
    for (const i of tally.indices) {
      if (i <= last) assert.fail(`frame #${i} after #${last}`);
      last = i;
      h = hashFrame(h, payloads[i]!);
    }
    assert.equal(tally.hash, h, "running hash of the frames kept");
    assertStoppedCleanly(closedEvents(events)[0], "drop");
    assertNoErrors(receiver);
    console.log(`    dropped ${dropped} of ${attempted}`);
  });
});

// ---------------------------------------------------------------------------
// 7. Block mode under backpressure

Deno.test("writer in block mode against a slow receiver: nothing lost, all in order", async () => {
  await withTempDir(async (dir) => {
    const { receiver, events } = await listen(
      { transport: "unix", path: `${dir}/dnstap.sock` },
      { highWaterMark: 32 },
    );
    const queueSize = 200;
    const writer = await FrameWriter.connect(targetOf(receiver), {
      queueSize,
      bufferSize: 4_096,
    });
    const tally = new Tally();
    let blocked = false;
    // The application reads one frame, waits until the writer is blocked
    // (its queue full), then reads the first 2,000 frames slowly.
    const consuming = consume(receiver, tally, async (count) => {
      if (count === 1) {
        await waitFor(
          () => writer.stats.queued === queueSize,
          "the writer to block",
        );
        blocked = true;
      } else if (count <= 2_000 && count % 50 === 0) {
        await sleep(2);
      }
    });
    const payloads = makePayloads(20_000, 9);
    let maxQueued = 0;
    for (const p of payloads) {
      await writer.write(p);
      maxQueued = Math.max(maxQueued, writer.stats.queued);
    }
    await writer.close();
    await waitFor(() => closedEvents(events).length === 1, "the close");
    await receiver.close();
    await consuming;
    tally.assertExactly(payloads, "block");
    assert.ok(blocked, "the queue filled");
    assert.ok(maxQueued <= queueSize, `queued reached ${maxQueued}`);
    const w = writer.stats;
    assert.equal(w.dropped + w.discarded + w.queued, 0);
    assert.equal(w.framesWritten, payloads.length);
    assertStoppedCleanly(closedEvents(events)[0], "block");
    assertNoErrors(receiver);
  });
});
