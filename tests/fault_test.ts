// Faults: the collector killed (SIGKILL) and restarted while a FrameWriter
// keeps writing. With a resend window, nothing is lost in block mode, and in
// drop mode exactly the frames counted as dropped are missing.
import assert from "node:assert/strict";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";
import { LoadLedger, loadPayload } from "./_load.ts";
import { delay, waitFor, withTempDir } from "./_support.ts";

const CHILD = new URL("./_receiver_child.ts", import.meta.url).pathname;

/** Starts the collector process; resolves once it listens. */
async function startCollector(
  path: string,
  out: string,
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      CHILD,
      path,
      out,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  assert.equal(new TextDecoder().decode(value).trim(), "ready");
  // Keep draining stdout so the child never blocks on it.
  void child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return child;
}

/** Feeds the length-prefixed frames of `file` to the ledger. */
async function account(ledger: LoadLedger, file: string, id: number) {
  const bytes = await Deno.readFile(file);
  const view = new DataView(bytes.buffer);
  const info = {
    id,
    remoteAddr: { transport: "unix", path: "" },
    mode: null,
    contentType: null,
    contentTypeBytes: null,
  } as const;
  let p = 0;
  while (p + 4 <= bytes.length) {
    const n = view.getUint32(p);
    assert.ok(p + 4 + n <= bytes.length, `a cut frame in ${file} at ${p}`);
    ledger.onData(bytes, p + 4, n, info);
    p += 4 + n;
  }
  assert.equal(p, bytes.length);
}

async function killAndRestart(
  options: FrameWriterOptions,
): Promise<{ ledger: LoadLedger; dropped: number; resent: number }> {
  const FRAMES = 30_000;
  return await withTempDir(async (dir) => {
    const path = `${dir}/c.sock`;
    const first = await startCollector(path, `${dir}/a.out`);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      reconnect: { initialDelay: 10, maxDelay: 50 },
      ...options,
    });
    const writing = (async () => {
      for (let seq = 0; seq < FRAMES; seq++) {
        const payload = loadPayload(0, seq);
        if (!writer.tryWrite(payload)) await writer.write(payload);
        if (seq % 200 === 199) await delay(1);
      }
    })();
    // Kill it mid-stream, with frames in flight.
    await waitFor(() => writer.stats.frames >= 8_000, "8,000 frames");
    first.kill("SIGKILL");
    await first.status;
    const second = await startCollector(path, `${dir}/b.out`);
    await writing;
    await writer.close(); // after FINISH: the second one has them all
    second.kill("SIGKILL");
    await second.status;
    const ledger = new LoadLedger(FRAMES);
    await account(ledger, `${dir}/a.out`, 1);
    await account(ledger, `${dir}/b.out`, 2);
    const { dropped, resent, reconnects } = writer.stats;
    assert.ok(reconnects >= 1, "the writer reconnected");
    return { ledger, dropped, resent };
  });
}

Deno.test("FrameWriter with a resend window loses no frame (block mode) when the collector is killed and restarted", async () => {
  const { ledger, dropped, resent } = await killAndRestart({
    resendWindow: 1 << 20,
  });
  assert.equal(dropped, 0);
  assert.deepEqual(ledger.missing(1), []);
  assert.equal(ledger.corrupt, 0);
  assert.equal(ledger.gaps, 0);
  // Duplicates are resent frames the first collector had saved, at most.
  assert.ok(resent > 0, "the window was resent");
  assert.ok(ledger.duplicates <= resent, `${ledger.duplicates} > ${resent}`);
  assert.equal(ledger.frames, 30_000 + ledger.duplicates);
});

Deno.test("FrameWriter in drop mode with a resend window misses exactly what it counts as dropped", async () => {
  const { ledger, dropped } = await killAndRestart({
    resendWindow: 1 << 20,
    queueMode: "drop",
    queueSize: 500,
  });
  assert.ok(dropped > 0, "the queue overflowed while the collector was down");
  assert.equal(ledger.corrupt, 0);
  assert.equal(ledger.lost(1), dropped);
});
