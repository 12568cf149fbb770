// FrameWriter.writeRun and tryWriteRun over real sockets: encoded frames as
// frames, a run queued whole, and refused where FrameDecoder goes wrong.
import assert from "node:assert/strict";
import type { FrameWriter } from "../src/frame_writer.ts";
import {
  connectTcp,
  disconnectedWriter,
  encodedRun,
  frame,
  frames,
  listenTcp,
  listenUnix,
  receivePayloads,
  serveOnce,
} from "./_frame_writer.ts";
import { withTempDir } from "./_support.ts";
import fc from "fast-check";
import {
  ControlType,
  encodeControlFrame,
  encodeDataFrame,
  FrameDecoder,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { concat } from "./_util.ts";

Deno.test("FrameWriter.writeRun sends encoded frames as frames, a run in one piece", async () => {
  // 100 frames of 12 bytes (16 encoded) into 72-byte batches: one by one,
  // four frames a batch (25 batches); as runs, a run goes into the open
  // batch if it fits, else into a batch of its own, written in one go.
  const batchesOf = async (
    put: (writer: FrameWriter) => Promise<void>,
  ): Promise<{ payloads: string[]; batches: number; bytes: number }> => {
    using listener = listenTcp();
    const served = serveOnce(listener);
    const writer = await connectTcp(listener, {
      bufferSize: 72,
      flushInterval: 3_600_000,
    });
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
  const expected = frames(0, 100);
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
  using listener = listenTcp();
  const received = receivePayloads(listener);
  const writer = await connectTcp(listener, { bidirectional: false });
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
  assert.deepEqual(await received, [frame(0), frame(1)]);
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
        assert.deepEqual(got.payloads, frames(0, expected));
        assert.equal(writer.stats.frames, expected);
      });
    });
  }
});

Deno.test("FrameWriter.tryWriteRun takes exactly what FrameDecoder reads as data frames only, and refuses the rest where it goes wrong", async () => {
  using listener = listenTcp();
  const drained = listener.accept()
    .then((conn) => conn.readable.pipeTo(new WritableStream()));
  const writer = await connectTcp(listener, {
    bidirectional: false,
    queueSize: 1_000_000,
    flushInterval: 1,
  });
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
