// The read-scan loop on a fixed window (the engine's memory) that gets
// detached part-way, as a WebAssembly memory does when it grows: a
// TypeError, not a loop that reads 0 bytes for ever.
import assert from "node:assert/strict";
import { DnstapQuietReader } from "../src/_dnstap_quiet_reader.ts";
import { TsQuietEngine } from "../src/_dnstap_quiet_engine.ts";
import { encodeFrameStream } from "../mod.ts";

Deno.test("a fixed window detached between reads fails with a TypeError instead of spinning", async () => {
  const bytes = encodeFrameStream(
    Array.from({ length: 200 }, (_, i) => new Uint8Array(300).fill(i)),
    { contentType: "protobuf:dnstap.Dnstap" },
  );
  let at = 0;
  let reads = 0;
  const source = {
    read(into: Uint8Array): Promise<number | null> {
      reads++;
      // Without the guard the loop calls again and again with 0 bytes.
      if (reads > 1000) throw new Error("the loop kept reading");
      if (at >= bytes.length) return Promise.resolve(null);
      const n = Math.min(into.length, 4096, bytes.length - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      // After the first read, the window's memory goes away.
      if (reads === 1) (into.buffer as ArrayBuffer).transfer();
      return Promise.resolve(n);
    },
  };
  const reader = new DnstapQuietReader(source, new TsQuietEngine(), {
    maxFrameLength: 1 << 20,
    windowSize: 65_536,
  });
  await assert.rejects(
    reader.forEachRun(() => {}),
    (error: unknown) =>
      error instanceof TypeError && /window was detached/.test(error.message),
  );
  assert.ok(reads <= 2, `reads: ${reads}`);
});
