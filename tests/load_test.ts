// Many writers at once into one receiver, over a Unix socket and TCP: every
// frame accounted for, byte for byte and in order per writer (CI-sized; the
// 1,000 × 10,000 run is bench/load_bench.ts).
import assert from "node:assert/strict";
import { FrameReceiver, type ListenTarget } from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { LoadLedger, loadPayload } from "./_load.ts";
import { withTempDir } from "./_support.ts";

const WRITERS = 200;
const FRAMES = 500;

async function load(target: ListenTarget): Promise<void> {
  const ledger = new LoadLedger(FRAMES);
  const closed: (Error | null)[] = [];
  const receiver = await FrameReceiver.listen(target, {
    onData: ledger.onData,
    onConnection: (e) => {
      if (e.type === "closed") closed.push(e.error);
    },
  });
  const addr = receiver.addr;
  const connectTo = addr.transport === "unix"
    ? { transport: "unix" as const, path: (addr as Deno.UnixAddr).path }
    : { transport: "tcp" as const, port: (addr as Deno.NetAddr).port };
  // Every writer connects first, then all write at once.
  const writers = await Promise.all(
    Array.from(
      { length: WRITERS },
      () => FrameWriter.connect(connectTo, { reconnect: false }),
    ),
  );
  await Promise.all(writers.map(async (writer, w) => {
    for (let seq = 0; seq < FRAMES; seq++) {
      const payload = loadPayload(w, seq);
      if (!writer.tryWrite(payload)) await writer.write(payload);
      // Let the others interleave.
      if (seq % 50 === 49) await new Promise((r) => setTimeout(r, 0));
    }
    await writer.close(); // returns after FINISH: all handled
  }));
  await receiver.close();
  assert.deepEqual(ledger.problems, []);
  assert.deepEqual(ledger.missing(WRITERS), []);
  assert.equal(ledger.lost(WRITERS), 0);
  assert.deepEqual(
    [
      ledger.frames,
      ledger.duplicates,
      ledger.gaps,
      ledger.rewinds,
      ledger.corrupt,
    ],
    [WRITERS * FRAMES, 0, 0, 0, 0],
  );
  const stats = receiver.stats;
  assert.equal(stats.frames, WRITERS * FRAMES);
  assert.equal(stats.connectionsTotal, WRITERS);
  assert.equal(stats.handshakeFailures, 0);
  assert.equal(stats.ioErrors, 0);
  assert.deepEqual(stats.protocolErrors, {});
  assert.equal(closed.length, WRITERS);
  assert.ok(closed.every((e) => e === null), "every stream ended cleanly");
  for (const w of writers) {
    assert.equal(w.stats.frames, FRAMES);
    assert.equal(w.stats.dropped, 0);
  }
}

Deno.test(`FrameReceiver takes ${WRITERS} writers × ${FRAMES} frames at once over a Unix socket, losing nothing`, async () => {
  await withTempDir((dir) =>
    load({ transport: "unix", path: `${dir}/load.sock` })
  );
});

Deno.test(`FrameReceiver takes ${WRITERS} writers × ${FRAMES} frames at once over TCP, losing nothing`, async () => {
  await load({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
});

Deno.test("LoadLedger sees a lost, a repeated, a reordered and a corrupted frame", () => {
  const ledger = new LoadLedger(4);
  const give = (p: Uint8Array) => ledger.onData(p, 0, p.length);
  give(loadPayload(0, 0));
  give(loadPayload(0, 2)); // a gap: 1 is missing
  give(loadPayload(0, 2)); // a rewind and a duplicate
  const bad = loadPayload(0, 3);
  bad[20]! ^= 1;
  give(bad); // corrupt
  give(loadPayload(1, 0));
  assert.deepEqual(
    [
      ledger.frames,
      ledger.duplicates,
      ledger.gaps,
      ledger.rewinds,
      ledger.corrupt,
    ],
    [4, 1, 1, 1, 1],
  );
  assert.deepEqual(ledger.missing(2), ["0: 2/4", "1: 1/4"]);
  assert.equal(ledger.lost(2), 5);
});
