// Socket end-to-end: the writer's queue modes (drop and block) against a stalled or slow receiver.
//
// Our FrameWriter against our FrameReceiver over real sockets; the payloads,
// the tally of what arrives and the other helpers are in _socket_e2e.ts.
import assert from "node:assert/strict";
import { delay as sleep, waitFor, withTempDir } from "./_support.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertNoErrors,
  assertOneStream,
  assertStoppedCleanly,
  closeBoth,
  closedEvents,
  consume,
  DNSTAP_BYTES,
  FNV_OFFSET,
  hashFrame,
  listen,
  makePayloads,
  Tally,
  targetOf,
} from "./_socket_e2e.ts";

// ---------------------------------------------------------------------------
// Drop mode

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
    await closeBoth(writer, { receiver, events, tally, consuming });

    const { dropped, frames, queued, discarded } = writer.stats;
    assert.ok(droppedWhileStalled > 0, "the queue overflowed");
    assert.equal(dropped, droppedWhileStalled, "nothing dropped after");
    assert.equal(tally.count + dropped, attempted);
    assert.equal(tally.count, frames);
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
// Block mode under backpressure

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
    const c = { receiver, events, tally, consuming };
    await closeBoth(writer, c);
    assertOneStream(c, payloads, "block", {
      mode: "bidirectional",
      contentType: DNSTAP_BYTES,
    });
    assert.ok(blocked, "the queue filled");
    assert.ok(maxQueued <= queueSize, `queued reached ${maxQueued}`);
    const w = writer.stats;
    assert.equal(w.dropped + w.discarded + w.queued, 0);
    assert.equal(w.frames, payloads.length);
  });
});
