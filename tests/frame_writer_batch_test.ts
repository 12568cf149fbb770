// FrameWriter's batches over real sockets: many writes into few socket
// writes, batch growth within the shared budget, flush and flushInterval,
// and a full queue written at once.
import assert from "node:assert/strict";
import type { FrameWriter, FrameWriterOptions } from "../src/frame_writer.ts";
import {
  acceptStarted,
  assertRun,
  burstOfKibFrames,
  connectTcp,
  encodedRun,
  frame,
  frames,
  kibFrame,
  listenTcp,
  serveOnce,
  until,
} from "./_frame_writer.ts";

Deno.test("FrameWriter batches many small writes into few socket writes", async () => {
  using listener = listenTcp();
  const served = serveOnce(listener);
  const writer = await connectTcp(listener, {
    bufferSize: 65536,
    flushInterval: 60_000,
  });
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
  using listener = listenTcp();
  const served = serveOnce(listener);
  // Default bufferSize (1 MiB): GROWN_BURST frames in 4 writes.
  const writer = await connectTcp(listener, { flushInterval: 50 });
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
  using listener = listenTcp();
  const drains: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      drains.push(conn.readable.pipeTo(new WritableStream()));
    }
  })();
  const open = () =>
    connectTcp(listener, { bidirectional: false, flushInterval: 3_600_000 });
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
  using listener = listenTcp();
  const accepted = acceptStarted(listener);
  const writer = await connectTcp(listener, { flushInterval: 50 });
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
    using listener = listenTcp();
    const served = serveOnce(listener);
    const writer = await connectTcp(listener, options);
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
    assert.deepEqual(got.payloads, frames(0, 130));
  });
  await t.step("drop: a full queue drops, and goes out", async () => {
    using listener = listenTcp();
    const served = serveOnce(listener);
    const writer = await connectTcp(listener, {
      ...options,
      queueMode: "drop",
    });
    // All in one go: the writer's loop cannot write in between.
    const writes = Array.from({ length: 15 }, (_, i) => writer.write(frame(i)));
    assert.equal(writer.stats.dropped, 5);
    await Promise.all(writes);
    await until(() => writer.stats.frames === 10, "the queue written");
    await writer.close();
    const got = await served;
    assert.deepEqual(got.payloads, frames(0, 10));
  });
});
