// FrameWriter into collectors of other implementations: fstrm_capture
// (libfstrm) and the Go dnstap tool.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import {
  ControlType,
  decodeFrames,
  DNSTAP_CONTENT_TYPE,
  encodeDataFrame,
  type Frame,
  FrameDecoder,
  TruncatedFrameError,
} from "../mod.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { concat } from "./_util.ts";
import { interopTest } from "./_peers.ts";
import {
  burstOfKibFrames,
  dec,
  DNSTAP,
  dnstapLike,
  enc,
  freePort,
  GROWN_BURST,
  kibFrame,
  sleep,
  socketExists,
  spawnCollector,
} from "./_frame_writer.ts";

// ---------------------------------------------------------------------------
// Interop: fstrm_capture (libfstrm) and the Go dnstap tool as collectors

for (
  const [transport, how] of [
    ["unix", "write"],
    ["tcp", "write"],
    ["unix", "writeRun"],
    ["tcp", "writeRun"],
    ["unix", "grown batches"],
    ["tcp", "grown batches"],
  ] as const
) {
  interopTest(
    `FrameWriter → fstrm_capture over ${transport} (${how}): the file holds exactly our frames`,
    ["fstrm_capture"],
    async () => {
      await withTempDir(async (dir) => {
        const sock = `${dir}/capture.sock`;
        const out = `${dir}/out.fstrm`;
        const port = freePort();
        const where = transport === "unix"
          ? ["-u", sock]
          : ["-a", "127.0.0.1", "-p", `${port}`];
        const capture = await spawnCollector(
          "fstrm_capture",
          ["-t", DNSTAP_CONTENT_TYPE, ...where, "-w", out, "-b", "1048576"],
          () =>
            transport === "unix" ? socketExists(sock) : Promise.resolve(true),
        );
        const payloads = dnstapLike(20_000);
        payloads.push(new Uint8Array(70_000).fill(0xab)); // a large TCP answer
        const writer = await FrameWriter.connect( // waits for the collector to listen
          transport === "unix"
            ? { transport: "unix", path: sock }
            : { transport: "tcp", port },
        );
        if (how === "grown batches") {
          // Socket writes of 256 KiB, 512 KiB, 1 MiB and 1 MiB, then the rest.
          burstOfKibFrames(writer);
          await writer.flush();
          assert.equal(writer.stats.batches, 4);
          payloads.unshift(
            ...Array.from(
              { length: GROWN_BURST },
              (_, i) => enc.encode(kibFrame(i)),
            ),
          );
          for (const p of payloads.slice(GROWN_BURST)) await writer.write(p);
        } else if (how === "write") {
          for (const p of payloads) await writer.write(p);
        } else {
          // Runs of 1 to 500 encoded frames, as a capture file holds them.
          for (let i = 0; i < payloads.length;) {
            const n = 1 + (i * 7) % 500;
            const run = concat(
              ...payloads.slice(i, i + n).map((p) => encodeDataFrame(p)),
            );
            await writer.writeRun(run);
            i += n;
          }
        }
        await writer.close(); // waits for fstrm_capture's FINISH
        // SIGTERM: fstrm_capture writes STOP, closes the file, exits 0.
        capture.kill("SIGTERM");
        const { code, stderr } = await capture.output();
        assert.equal(code, 0, dec.decode(stderr));
        assert.match(
          dec.decode(stderr),
          new RegExp(`wrote ${payloads.length + 2} frames`),
        );
        const frames = decodeFrames(await Deno.readFile(out));
        const start = frames[0]!, stop = frames.at(-1)!;
        assert.ok(start.kind === "control" && start.type === ControlType.START);
        assert.deepEqual(start.contentTypes, [DNSTAP]);
        assert.ok(stop.kind === "control" && stop.type === ControlType.STOP);
        const data = frames.slice(1, -1);
        assert.equal(data.length, payloads.length);
        data.forEach((f, i) => {
          assert.ok(f.kind === "data");
          assert.deepEqual(f.data, payloads[i], `frame ${i}`);
        });
      });
    },
  );
}

interopTest(
  "FrameWriter → the Go dnstap tool (dnstap -u SOCK -w OUT): what it writes is a prefix of our frames",
  ["dnstap", "timeout"],
  async () => {
    await withTempDir(async (dir) => {
      const sock = `${dir}/dnstap.sock`;
      const out = `${dir}/out.fstrm`;
      // Found by experiment (golang-dnstap 0.4.0): it answers READY and STOP
      // (close() gets FINISH at once), writes the file through a buffer, and
      // dies on SIGTERM without flushing it: the tail of the frames and the
      // STOP frame are lost, and the last frame in the file may be cut.
      const tool = await spawnCollector(
        "timeout",
        ["30", "dnstap", "-u", sock, "-w", out],
        () => socketExists(sock),
      );
      const payloads = dnstapLike(5000); // about 1.2 MB, many buffer flushes
      const writer = await FrameWriter.connect(
        { transport: "unix", path: sock },
        { finishTimeout: 10_000 },
      );
      for (const p of payloads) await writer.write(p);
      await writer.close();
      assert.equal(writer.stats.frames, payloads.length);
      await sleep(200);
      tool.kill("SIGTERM");
      await tool.output();
      const decoder = new FrameDecoder();
      decoder.push(await Deno.readFile(out));
      decoder.end();
      const frames: Frame[] = [];
      try {
        for (let f = decoder.next(); f !== null; f = decoder.next()) {
          frames.push(f);
        }
      } catch (error) {
        assert.ok(error instanceof TruncatedFrameError, String(error));
      }
      const start = frames[0];
      assert.ok(start?.kind === "control" && start.type === ControlType.START);
      assert.deepEqual(start.contentTypes, [DNSTAP]);
      const data = frames.filter((f) => f.kind === "data");
      assert.ok(data.length >= 1000, `only ${data.length} frames written`);
      data.forEach((f, i) =>
        assert.deepEqual(f.data, payloads[i], `frame ${i}`)
      );
    });
  },
);
