// FrameWriter's queue over real sockets: batching and batch growth,
// flushing, block and drop modes, tryWrite, writeRun.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import fc from "fast-check";
import {
  ControlType,
  decodeFrames,
  encodeControlFrame,
  encodeDataFrame,
  FrameDecoder,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";
import { concat } from "./_util.ts";
import {
  acceptStarted,
  assertRun,
  burstOfKibFrames,
  dec,
  disconnectedWriter,
  enc,
  encodedRun,
  FAST_RECONNECT,
  frame,
  indexOf,
  kibFrame,
  listenUnix,
  serveOnce,
  sleep,
  until,
} from "./_frame_writer.ts";

// ---------------------------------------------------------------------------
// Batching, flushing, closing

Deno.test("FrameWriter batches many small writes into few socket writes", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(listener);
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { bufferSize: 65536, flushInterval: 60_000 },
  );
  const n = 20_000;
  for (let i = 0; i < n; i++) await writer.write(frame(i));
  await writer.close();
  const got = await served;
  assert.equal(got.payloads.length, n);
  assertRun(got.payloads, "collector");
  // Payload bytes: the length words are not counted.
  assert.equal(writer.stats.bytes, n * 12);
  // One socket write per full 64 KiB batch (4096 frames of 16 bytes), plus
  // the last partial one.
  assert.equal(writer.stats.batches, Math.ceil(n / 4096));
  assert.ok(got.reads < n / 100, `${got.reads} reads for ${n} frames`);
});

Deno.test("FrameWriter batches grow from 256 KiB to bufferSize while they fill, and start again after a quiet spell", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(listener);
  // Default bufferSize (1 MiB): GROWN_BURST frames in 4 writes.
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { flushInterval: 50 },
  );
  burstOfKibFrames(writer);
  await writer.flush();
  assert.equal(writer.stats.batches, 4);
  // A few frames that only flushInterval writes: the writer went quiet...
  for (let i = 2816; i < 2826; i++) await writer.write(kibFrame(i));
  while (writer.stats.batches < 5) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(writer.stats.batches, 5);
  // ...so the next burst starts again from 256 KiB (without the reset, its
  // batches would stay at 1 MiB: 3 writes).
  burstOfKibFrames(writer, 2826);
  await writer.close();
  assert.equal(writer.stats.batches, 9);
  assert.equal(writer.stats.bytes, (2 * 2816 + 10) * 1020); // payloads
  const got = await served;
  assert.equal(got.payloads.length, 2 * 2816 + 10);
  got.payloads.forEach((p, i) => assert.equal(p, kibFrame(i)));
});

Deno.test("FrameWriter batches of all writers grow within one shared budget, given back on close", async () => {
  // A collector that drains every connection (unidirectional writers).
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const drains: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      drains.push(conn.readable.pipeTo(new WritableStream()));
    }
  })();
  const open = () =>
    FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      { bidirectional: false, flushInterval: 3_600_000 },
    );
  // GROWN_BURST frames: 4 batches growing to 1 MiB, if the budget allows.
  const burst = async (writer: FrameWriter): Promise<number> => {
    burstOfKibFrames(writer);
    await writer.flush();
    return writer.stats.batches;
  };
  // Growing to 1 MiB takes 768 KiB of the 16 MiB budget: 21 writers grow
  // fully, the 22nd to 512 KiB (6 batches), the rest stay at 256 KiB (11).
  const writers: FrameWriter[] = [];
  const batches: number[] = [];
  for (let k = 0; k < 24; k++) {
    const writer = await open();
    writers.push(writer);
    batches.push(await burst(writer));
  }
  assert.deepEqual(batches, [...Array(21).fill(4), 6, 11, 11]);
  for (const writer of writers) await writer.close();
  // Closed writers gave their growth back.
  const again = await open();
  assert.equal(await burst(again), 4);
  await again.close();
  listener.close();
  await accepting;
  await Promise.all(drains);
});

Deno.test("FrameWriter.flush writes a partial batch at once; flushInterval writes it later", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = acceptStarted(listener);
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { flushInterval: 50 },
  );
  const collector = await accepted;
  await writer.write("one");
  await writer.flush();
  assert.equal(writer.stats.frames, 1);
  await collector.run((r) => r.payloads.length >= 1);
  await writer.write("two"); // written by the flush timer, no flush() call
  await collector.run((r) => r.payloads.length >= 2);
  assert.equal(writer.stats.frames, 2);
  const rest = collector.run(); // answers STOP with FINISH
  await writer.close();
  const got = await rest;
  collector.conn.close();
  assert.deepEqual(got.payloads, ["one", "two"]);
});

Deno.test("FrameWriter in block mode makes write() wait for room and keeps every frame", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = acceptStarted(listener);
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { queueSize: 50, bufferSize: 1024 },
  );
  const collector = await accepted;
  // The collector answers the handshake, then reads nothing for a while.
  const big = "y".repeat(2000);
  const n = 5000; // 10 MB: more than the socket buffers hold
  let maxQueued = 0;
  const writing = (async () => {
    for (let i = 0; i < n; i++) {
      await writer.write(`${frame(i)} ${big}`);
      maxQueued = Math.max(maxQueued, writer.stats.queued);
    }
  })();
  await sleep(200);
  assert.ok(writer.stats.queued <= 50);
  const reading = collector.run();
  await writing;
  await writer.close();
  const got = await reading;
  collector.conn.close();
  assert.equal(got.payloads.length, n);
  got.payloads.forEach((p, i) => assert.equal(p.slice(0, 12), frame(i)));
  assert.ok(maxQueued <= 50, `queued reached ${maxQueued}`);
  assert.equal(writer.stats.dropped, 0);
});

Deno.test("FrameWriter.tryWrite queues while there is room and returns false, counting nothing, when full", async (t) => {
  for (const queueMode of ["block", "drop"] as const) {
    await t.step(queueMode, async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/c.sock`;
        const writer = await disconnectedWriter(path, queueMode);
        const results: boolean[] = [];
        for (let i = 0; i < 15; i++) results.push(writer.tryWrite(frame(i)));
        assert.deepEqual(results, [
          ...Array<boolean>(10).fill(true),
          ...Array<boolean>(5).fill(false),
        ]);
        assert.equal(writer.stats.queued, 10);
        assert.equal(writer.stats.dropped, 0);
        // A write() waiting for room (block) keeps tryWrite out: order holds.
        const waiting = queueMode === "block" ? writer.write(frame(10)) : null;
        if (waiting !== null) assert.equal(writer.tryWrite(frame(99)), false);
        using second = listenUnix(path);
        const b = serveOnce(second);
        await waiting;
        await writer.close();
        const got = await b;
        const expected = queueMode === "block" ? 11 : 10;
        assert.deepEqual(
          got.payloads,
          Array.from({ length: expected }, (_, i) => frame(i)),
        );
      });
    });
  }
  await t.step("bad payloads and a closed writer throw at once", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const received = listener.accept()
      .then((conn) => new Response(conn.readable).bytes());
    const writer = await FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      { bidirectional: false },
    );
    assert.throws(() => writer.tryWrite(""), RangeError);
    assert.throws(() => writer.tryWrite(new Uint8Array(0)), RangeError);
    assert.throws(
      () => writer.tryWrite(42 as unknown as Uint8Array),
      TypeError,
    );
    // The payload is copied: changing it afterwards changes nothing.
    const payload = enc.encode("before");
    assert.equal(writer.tryWrite(payload), true);
    payload.set(enc.encode("AFTER!"));
    await writer.close();
    const data = decodeFrames(await received).flatMap((f) =>
      f.kind === "data" ? [dec.decode(f.data)] : []
    );
    assert.deepEqual(data, ["before"]);
    assert.throws(() => writer.tryWrite("late"), TypeError);
    assert.equal(writer.stats.frames, 1);
  });
});

Deno.test("FrameWriter.writeRun sends encoded frames as frames, a run in one piece", async () => {
  // 100 frames of 12 bytes (16 encoded) into 72-byte batches: one by one,
  // four frames a batch (25 batches); as runs, a run goes into the open
  // batch if it fits, else into a batch of its own, written in one go.
  const batchesOf = async (
    put: (writer: FrameWriter) => Promise<void>,
  ): Promise<{ payloads: string[]; batches: number; bytes: number }> => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const served = serveOnce(listener);
    const writer = await FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      { bufferSize: 72, flushInterval: 3_600_000 },
    );
    await put(writer);
    await writer.close();
    const got = await served;
    assert.equal(writer.stats.frames, got.payloads.length);
    return {
      payloads: got.payloads,
      batches: writer.stats.batches,
      bytes: writer.stats.bytes,
    };
  };
  const one = await batchesOf(async (w) => {
    for (let i = 0; i < 100; i++) await w.write(frame(i));
  });
  const runs = await batchesOf(async (w) => {
    // Runs of 1, 7, 30 and 62 frames: the first opens a batch that the
    // second does not fit in; each of the others is a batch of its own.
    assert.equal(w.tryWriteRun(encodedRun(0, 1)), true);
    await w.writeRun(encodedRun(1, 8));
    assert.equal(w.tryWriteRun(encodedRun(8, 38)), true);
    await w.writeRun(encodedRun(38, 100));
  });
  const expected = Array.from({ length: 100 }, (_, i) => frame(i));
  assert.deepEqual(one.payloads, expected);
  assert.deepEqual(runs.payloads, expected);
  assert.equal(one.batches, 25);
  assert.equal(runs.batches, 4);
  assert.equal(runs.bytes, 1200); // payloads: 100 × 12
  // A run with a frame larger than bufferSize in it: one batch, in order;
  // then a frame alone in the next.
  const big = "b".repeat(500);
  const mixed = await batchesOf(async (w) => {
    await w.writeRun(
      concat(encodedRun(0, 2), encodeDataFrame(big), encodedRun(2, 4)),
    );
    await w.write(frame(4));
  });
  assert.deepEqual(mixed.payloads, [
    frame(0),
    frame(1),
    big,
    frame(2),
    frame(3),
    frame(4),
  ]);
  assert.equal(mixed.batches, 2);
});

Deno.test("FrameWriter.writeRun refuses what is not whole data frames, with the decoder's errors, queueing nothing", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received = listener.accept()
    .then((conn) => new Response(conn.readable).bytes());
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { bidirectional: false },
  );
  const two = encodedRun(0, 2); // 16 bytes each
  const cases: [string, unknown, (e: unknown) => boolean][] = [
    ["not bytes", "frames", (e) => e instanceof TypeError],
    ["empty", new Uint8Array(0), (e) => e instanceof RangeError],
    [
      "cut inside the second payload",
      two.subarray(0, 30),
      (e) =>
        e instanceof TruncatedFrameError && e.offset === 16 &&
        e.received === 14 && e.expected === 16,
    ],
    [
      "cut inside the second length word",
      two.subarray(0, 18),
      (e) =>
        e instanceof TruncatedFrameError && e.offset === 16 &&
        e.received === 2 && e.expected === null,
    ],
    [
      "a STOP frame among them",
      concat(two, encodeControlFrame(ControlType.STOP), two),
      (e) =>
        e instanceof UnexpectedFrameError && e.offset === 32 &&
        e.frameType === ControlType.STOP,
    ],
    [
      "an escape cut short",
      concat(two, new Uint8Array(6)),
      (e) => e instanceof UnexpectedFrameError && e.offset === 32,
    ],
  ];
  for (const [what, bytes, check] of cases) {
    await assert.rejects(
      writer.writeRun(bytes as Uint8Array),
      check,
      `writeRun: ${what}`,
    );
    assert.throws(
      () => writer.tryWriteRun(bytes as Uint8Array),
      check,
      `tryWriteRun: ${what}`,
    );
  }
  assert.equal(writer.stats.queued, 0);
  // The frames are copied: changing them afterwards changes nothing.
  const run = encodedRun(0, 2);
  assert.equal(writer.tryWriteRun(run), true);
  run.fill(0x41, 4, 16);
  await writer.close();
  const data = decodeFrames(await received).flatMap((f) =>
    f.kind === "data" ? [dec.decode(f.data)] : []
  );
  assert.deepEqual(data, [frame(0), frame(1)]);
  assert.throws(() => writer.tryWriteRun(two), TypeError);
  await assert.rejects(writer.writeRun(two), TypeError);
});

Deno.test("FrameWriter.writeRun queues a run whole, when all of it fits (or the queue is empty)", async (t) => {
  for (const queueMode of ["block", "drop"] as const) {
    await t.step(queueMode, async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/c.sock`;
        const writer = await disconnectedWriter(path, queueMode);
        assert.equal(writer.tryWriteRun(encodedRun(0, 8)), true);
        assert.equal(writer.tryWriteRun(encodedRun(8, 11)), false);
        assert.equal(writer.stats.queued, 8);
        assert.equal(writer.tryWriteRun(encodedRun(8, 10)), true);
        assert.equal(writer.stats.queued, 10);
        // Full: a run waits (block) or is dropped whole (drop).
        const waiting = writer.writeRun(encodedRun(10, 13));
        assert.equal(writer.stats.dropped, queueMode === "drop" ? 3 : 0);
        // More than queueSize frames at once: into an empty queue only.
        const large = writer.writeRun(encodedRun(13, 38));
        assert.equal(writer.stats.dropped, queueMode === "drop" ? 28 : 0);
        using second = listenUnix(path);
        const b = serveOnce(second);
        await waiting;
        await large;
        await writer.close();
        const got = await b;
        const expected = queueMode === "block" ? 38 : 10;
        assert.deepEqual(
          got.payloads,
          Array.from({ length: expected }, (_, i) => frame(i)),
        );
        assert.equal(writer.stats.frames, expected);
      });
    });
  }
});

Deno.test("FrameWriter writes the open batch as soon as the queue is full, not after flushInterval", async (t) => {
  // A batch as large as the whole queue and a flushInterval of an hour:
  // only a full queue gets the frames out. (Before the fix each queue-full
  // of frames waited for flushInterval.)
  const options: FrameWriterOptions = {
    queueSize: 10,
    bufferSize: 1 << 20,
    flushInterval: 3_600_000,
  };
  await t.step("block: write() waiting for room", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const served = serveOnce(listener);
    const writer = await FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      options,
    );
    // Not awaited one by one, so that a hang shows as a failure of until().
    const writes = Array.from(
      { length: 100 },
      (_, i) => writer.write(frame(i)),
    );
    writes.push(writer.writeRun(encodedRun(100, 125))); // > queueSize
    writes.push(writer.writeRun(encodedRun(125, 130)));
    await until(
      () => writer.stats.frames >= 125,
      "full queues to be written",
    );
    await Promise.all(writes);
    await writer.close();
    const got = await served;
    assert.deepEqual(
      got.payloads,
      Array.from({ length: 130 }, (_, i) => frame(i)),
    );
  });
  await t.step("drop: a full queue drops, and goes out", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const served = serveOnce(listener);
    const writer = await FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      { ...options, queueMode: "drop" },
    );
    // All in one go: the writer's loop cannot write in between.
    const writes = Array.from({ length: 15 }, (_, i) => writer.write(frame(i)));
    assert.equal(writer.stats.dropped, 5);
    await Promise.all(writes);
    await until(() => writer.stats.frames === 10, "the queue written");
    await writer.close();
    const got = await served;
    assert.deepEqual(
      got.payloads,
      Array.from({ length: 10 }, (_, i) => frame(i)),
    );
  });
});

Deno.test("FrameWriter in drop mode counts exactly what it drops", async (t) => {
  await t.step("while nobody listens", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/c.sock`;
      const first = listenUnix(path);
      const accepted = acceptStarted(first);
      const writer = await FrameWriter.connect(
        { transport: "unix", path },
        { queueMode: "drop", queueSize: 10, reconnect: FAST_RECONNECT },
      );
      first.close();
      (await accepted).conn.close();
      await until(() => !writer.stats.connected, "the writer to see the loss");
      for (let i = 0; i < 100; i++) await writer.write(frame(i));
      assert.equal(writer.stats.dropped, 90);
      assert.equal(writer.stats.queued, 10);
      using second = listenUnix(path);
      const b = serveOnce(second);
      await writer.close();
      const got = await b;
      assert.deepEqual(
        got.payloads,
        Array.from({ length: 10 }, (_, i) => frame(i)),
      );
      assert.equal(writer.stats.frames, 10);
    });
  });
  await t.step("while the collector does not read", async () => {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = acceptStarted(listener);
    const writer = await FrameWriter.connect(
      { transport: "tcp", port: listener.addr.port },
      { queueMode: "drop", queueSize: 100, bufferSize: 4096 },
    );
    const collector = await accepted;
    const big = "z".repeat(1000);
    const n = 20_000; // 20 MB against a collector that reads nothing yet
    for (let i = 0; i < n; i++) {
      await writer.write(`${frame(i)} ${big}`);
      if (i % 1000 === 0) await sleep(0); // let the socket writes run
    }
    const reading = collector.run();
    await writer.close();
    const got = await reading;
    collector.conn.close();
    const { dropped, frames } = writer.stats;
    assert.ok(dropped > 0, "the queue overflowed");
    assert.equal(got.payloads.length, frames);
    assert.equal(dropped, n - got.payloads.length);
    // What arrived is in order.
    let last = -1;
    for (const p of got.payloads) {
      const i = indexOf(p);
      assert.ok(i > last, `frame ${i} after ${last}`);
      last = i;
    }
  });
});

Deno.test("FrameWriter.tryWriteRun takes exactly what FrameDecoder reads as data frames only, and refuses the rest where it goes wrong", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const drained = listener.accept()
    .then((conn) => conn.readable.pipeTo(new WritableStream()));
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { bidirectional: false, queueSize: 1_000_000, flushInterval: 1 },
  );
  // Runs of data frames (lengths 1..300), sometimes with a control frame,
  // then bytes changed and cut anywhere.
  const inputArb = fc.record({
    lengths: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 20 }),
    control: fc.option(fc.nat(), { nil: null }),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), {
      maxLength: 2,
    }),
    cut: fc.oneof(fc.constant(0), fc.nat()),
  }).map(({ lengths, control, flips, cut }) => {
    const parts = lengths.map((n, i) =>
      encodeDataFrame(new Uint8Array(n).fill(i + 1))
    );
    if (control !== null) {
      parts.splice(
        control % (parts.length + 1),
        0,
        encodeControlFrame(ControlType.STOP),
      );
    }
    const bytes = concat(...parts);
    for (const { at, value } of flips) {
      if (bytes.length > 0) bytes[at % bytes.length] = value;
    }
    return bytes.subarray(0, bytes.length - cut % (bytes.length + 1));
  });
  let taken = 0;
  let whole = 0; // inputs that were whole data frames only
  await fc.assert(
    fc.asyncProperty(inputArb, async (bytes) => {
      // The reference: the decoder, any length allowed.
      const decoder = new FrameDecoder({ maxFrameLength: 0xffff_ffff });
      decoder.push(bytes);
      decoder.end();
      // The data frames it reads back to back from the start, up to `at`:
      // whatever comes after (a control frame, skipped or not, a fault) is
      // where the writer must refuse.
      let frames = 0;
      let at = 0;
      try {
        for (let f = decoder.next(); f !== null; f = decoder.next()) {
          if (f.kind !== "data" || f.offset !== at) break;
          frames++;
          at = f.offset + 4 + f.data.length;
        }
      } catch {
        // refused at `at` too
      }
      const wrongAt = at === bytes.length && bytes.length > 0 ? -1 : at;
      const before = writer.stats.queued + writer.stats.frames;
      let error: unknown = null;
      try {
        assert.equal(writer.tryWriteRun(bytes), true);
      } catch (e) {
        error = e;
      }
      if (wrongAt < 0) {
        assert.equal(error, null);
        assert.equal(at, bytes.length);
        const after = writer.stats.queued + writer.stats.frames;
        assert.equal(after - before, frames);
        taken += frames;
        whole++;
      } else {
        assert.ok(
          error instanceof UnexpectedFrameError ||
            error instanceof TruncatedFrameError ||
            (error instanceof RangeError && bytes.length === 0),
          `${error}`,
        );
        if (bytes.length > 0) {
          assert.equal((error as { offset: number }).offset, wrongAt);
        }
      }
      await Promise.resolve();
    }),
    { numRuns: 3_000 },
  );
  await writer.close();
  await drained;
  assert.equal(writer.stats.frames, taken);
  // Both sides of the property were exercised.
  assert.ok(whole > 100 && whole < 2_900, `${whole} whole inputs`);
});
