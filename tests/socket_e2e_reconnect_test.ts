// Socket end-to-end: the writer reconnects when the receiver restarts.
//
// Our FrameWriter against our FrameReceiver over real sockets; the payloads,
// the tally of what arrives and the other helpers are in _socket_e2e.ts.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertStoppedCleanly,
  closeBoth,
  closedEvents,
  collect,
  consume,
  FAST_RECONNECT,
  hashAll,
  listen,
  makePayloads,
  sameBytes,
  Tally,
  writeAllFrames,
} from "./_socket_e2e.ts";

// ---------------------------------------------------------------------------
// Reconnection after the receiver restarts

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
        const b = await collect({ transport: "unix", path });
        const tallyB = b.tally;
        await writing;
        await closeBoth(writer, b, "B's close");

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
          w.frames >= n && w.frames <= n + maxRepeated,
          `frames: ${w.frames}`,
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
        const a = await collect({ transport: "unix", path }, {
          gracePeriod: 0,
        });
        const tallyA = a.tally;
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
        await a.consuming;
        // The writer keeps writing while nobody listens (block mode: the
        // queue fills, then write() waits), and B starts on the same path.
        const writing = writeAllFrames(writer, payloads.slice(half));
        const b = await collect({ transport: "unix", path });
        const tallyB = b.tally;
        await writing;
        await closeBoth(writer, b, "B's close");

        tallyA.assertRun(0, half, "A");
        assert.equal(tallyA.hash, hashAll(payloads.slice(0, half)));
        tallyB.assertRun(half, n, "B");
        assert.equal(tallyB.hash, hashAll(payloads.slice(half)));
        assertStoppedCleanly(closedEvents(b.events)[0], "B");
        const w = writer.stats;
        assert.equal(w.reconnects, 1);
        assert.equal(w.frames, n);
        assert.equal(w.dropped + w.discarded + w.queued, 0);
        assert.ok(errors.length >= 1, "onError heard of the loss");
      });
    },
  );
});
