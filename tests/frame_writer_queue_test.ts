// FrameWriter's queue over real sockets: block and drop modes, tryWrite.
import assert from "node:assert/strict";
import {
  acceptStarted,
  connectTcp,
  disconnectedWriter,
  enc,
  frame,
  frames,
  indexOf,
  listenTcp,
  listenUnix,
  receivePayloads,
  serveOnce,
  sleep,
} from "./_frame_writer.ts";
import { withTempDir } from "./_support.ts";

Deno.test("FrameWriter in block mode makes write() wait for room and keeps every frame", async () => {
  using listener = listenTcp();
  const accepted = acceptStarted(listener);
  const writer = await connectTcp(listener, {
    queueSize: 50,
    bufferSize: 1024,
  });
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
        assert.deepEqual(got.payloads, frames(0, expected));
      });
    });
  }
  await t.step("bad payloads and a closed writer throw at once", async () => {
    using listener = listenTcp();
    const received = receivePayloads(listener);
    const writer = await connectTcp(listener, { bidirectional: false });
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
    assert.deepEqual(await received, ["before"]);
    assert.throws(() => writer.tryWrite("late"), TypeError);
    assert.equal(writer.stats.frames, 1);
  });
});

Deno.test("FrameWriter in drop mode counts exactly what it drops", async (t) => {
  await t.step("while nobody listens", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/c.sock`;
      const writer = await disconnectedWriter(path, "drop");
      for (let i = 0; i < 100; i++) await writer.write(frame(i));
      assert.equal(writer.stats.dropped, 90);
      assert.equal(writer.stats.queued, 10);
      using second = listenUnix(path);
      const b = serveOnce(second);
      await writer.close();
      const got = await b;
      assert.deepEqual(got.payloads, frames(0, 10));
      assert.equal(writer.stats.frames, 10);
    });
  });
  await t.step("while the collector does not read", async () => {
    using listener = listenTcp();
    const accepted = acceptStarted(listener);
    const writer = await connectTcp(listener, {
      queueMode: "drop",
      queueSize: 100,
      bufferSize: 4096,
    });
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
