// Socket end-to-end: bulk transfer over Unix sockets (in temporary directories) and TCP on 127.0.0.1, bidirectional and unidirectional.
//
// Our FrameWriter against our FrameReceiver over real sockets; the payloads,
// the tally of what arrives and the other helpers are in _socket_e2e.ts.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { DNSTAP_CONTENT_TYPE } from "../mod.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertOneStream,
  closeBoth,
  collect,
  DNSTAP_BYTES,
  makePayloads,
  targetOf,
  writeAllFrames,
} from "./_socket_e2e.ts";

// ---------------------------------------------------------------------------
// Bulk transfer over Unix and TCP

for (const transport of ["unix", "tcp"] as const) {
  Deno.test(`writer → receiver over ${transport}: 50,000 dnstap-sized frames arrive whole and in order, ending with STOP/FINISH`, async () => {
    await withTempDir(async (dir) => {
      const payloads = makePayloads(50_000, transport === "unix" ? 1 : 2);
      const c = await collect(
        transport === "unix"
          ? { transport, path: `${dir}/dnstap.sock` }
          : { transport, port: 0 },
        { contentTypes: [DNSTAP_CONTENT_TYPE] },
      );
      const { receiver, events, tally } = c;
      const errors: Error[] = [];
      const writer = await FrameWriter.connect(targetOf(receiver), {
        // A FINISH that never came would hang close() this long: the test's
        // own limit would show it, not a timer of ours.
        finishTimeout: 60_000,
        onError: (e) => errors.push(e),
      });
      assert.deepEqual(writer.contentTypeBytes, DNSTAP_BYTES);
      assert.equal(writer.contentType, "protobuf:dnstap.Dnstap");
      await writeAllFrames(writer, payloads);
      await closeBoth(writer, c);
      // close() returned after FINISH: the collector saw STOP, answered,
      // and the writer met no error (no EOF before FINISH).
      assert.deepEqual(errors.map((e) => e.message), []);

      assertOneStream(c, payloads, transport, {
        mode: "bidirectional",
        contentType: DNSTAP_BYTES,
      });
      assert.equal(tally.connections.size, 1);
      assert.deepEqual(events.map((e) => e.type), [
        "opened",
        "started",
        "closed",
      ]);
      const stats = receiver.stats;
      assert.equal(stats.frames, payloads.length);
      assert.equal(stats.bytes, payloads.reduce((n, p) => n + p.length, 0));
      assert.equal(stats.connectionsTotal, 1);
      const w = writer.stats;
      assert.equal(w.frames, payloads.length);
      assert.equal(
        w.bytes,
        payloads.reduce((n, p) => n + p.length, 0),
      );
      assert.ok(
        w.batches < payloads.length / 10,
        `batched: ${w.batches} socket writes`,
      );
      assert.equal(w.reconnects, 0);
      assert.equal(w.dropped, 0);
      assert.equal(w.queued, 0);
      assert.equal(w.connected, false);
    });
  });
}

// ---------------------------------------------------------------------------
// Unidirectional

Deno.test("unidirectional writer → receiver: START … STOP, every frame, no FINISH needed", async () => {
  await withTempDir(async (dir) => {
    const c = await collect(
      { transport: "unix", path: `${dir}/dnstap.sock` },
      { contentTypes: [DNSTAP_CONTENT_TYPE] },
    );
    const errors: Error[] = [];
    const writer = await FrameWriter.connect(targetOf(c.receiver), {
      bidirectional: false,
      onError: (e) => errors.push(e),
    });
    assert.deepEqual(writer.contentTypeBytes, DNSTAP_BYTES);
    assert.equal(writer.contentType, "protobuf:dnstap.Dnstap");
    const payloads = makePayloads(10_000, 5);
    await writeAllFrames(writer, payloads);
    await closeBoth(writer, c);
    assert.deepEqual(errors.map((e) => e.message), []);
    assertOneStream(c, payloads, "unidirectional", {
      mode: "unidirectional",
      contentType: DNSTAP_BYTES,
    });
    assert.equal(writer.stats.frames, payloads.length);
  });
});
