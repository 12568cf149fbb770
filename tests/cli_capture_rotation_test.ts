// `fstrm capture` rotation (-s, --max-size, SIGUSR1, strftime names, name
// counters): every file whole, their union every frame sent, in order. The
// command runs as a subprocess of cli.ts, fed by our FrameWriter.
import assert from "node:assert/strict";
import { openFrameReader } from "../src/file.ts";
import { waitFor, withTempDir } from "./_support.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { withCounter } from "../src/cli/_capture_files.ts";
import {
  assertFrames,
  Capture,
  DNSTAP,
  indexOf,
  makePayloads,
  readFile,
  sendAll,
} from "./_cli.ts";

Deno.test("withCounter puts the counter before the extension", () => {
  assert.equal(withCounter("/a/cap.fstrm", 1), "/a/cap.1.fstrm");
  assert.equal(withCounter("/a.d/cap", 2), "/a.d/cap.2");
  assert.equal(withCounter("/a/.hidden", 3), "/a/.hidden.3");
  assert.equal(withCounter("cap.x.fstrm", 12), "cap.x.12.fstrm");
});

// ---------------------------------------------------------------------------
// Rotation: every file whole, their union every frame in order

/** Reads the files in the order opened; asserts each is whole. */
async function readAll(files: string[]): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for (const f of files) {
    const file = await readFile(f);
    assert.equal(file.contentType, DNSTAP, f);
    assert.ok(file.stopped, `${f} ends with STOP`);
    all.push(...file.frames);
  }
  return all;
}

Deno.test("capture -s 1 --gmtime rotates every second into strftime-named files", async () => {
  await withTempDir(async (dir) => {
    const pattern = `${dir}/cap-%Y%m%d-%H%M%S.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      pattern,
      "-s",
      "1",
      "--gmtime",
    ]);
    const payloads = makePayloads(6_000, 7);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    // 20 frames every 20 ms or so, until two rotations have happened.
    let i = 0;
    while (i < payloads.length && capture.opened.length < 3) {
      for (const end = i + 20; i < end; i++) await writer.write(payloads[i]!);
      await writer.flush();
      await new Promise((r) => setTimeout(r, 20));
    }
    // And some more into the third file.
    for (const end = i + 20; i < end; i++) await writer.write(payloads[i]!);
    const sent = payloads.slice(0, i);
    await writer.close();
    assert.equal(await capture.stop(), 0);
    const files = capture.opened;
    assert.ok(files.length >= 3, `${files.length} files`);
    for (const f of files) {
      assert.match(f, /\/cap-\d{8}-\d{6}(\.\d+)?\.fstrm$/);
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("cap-"))
        .length,
      files.length,
    );
    assertFrames(await readAll(files), sent);
  });
});

Deno.test("capture --max-size rotates before a frame would pass the size", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      out,
      "--max-size",
      "20000",
    ]);
    const payloads = makePayloads(1_000, 8);
    await sendAll({ transport: "unix", path }, payloads);
    assert.equal(await capture.stop(), 0);
    const files = capture.opened;
    assert.ok(files.length >= 12, `${files.length} files`);
    assert.deepEqual(
      files.slice(0, 3),
      [out, `${dir}/cap.1.fstrm`, `${dir}/cap.2.fstrm`],
    );
    for (const f of files) {
      assert.ok((await Deno.stat(f)).size <= 20_000, `${f} size`);
    }
    assertFrames(await readAll(files), payloads);
  });
});

Deno.test("capture rotates on SIGUSR1 and writes out on SIGHUP", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await Capture.unix(dir, ["-w", out]);
    const payloads = makePayloads(400, 9);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    for (const p of payloads.slice(0, 200)) await writer.write(p);
    await writer.flush();
    // SIGHUP until the file holds the first 200 (they are in memory until
    // then: the capture writes in large buffers, or once a second).
    const frameCount = async () => {
      await using reader = await openFrameReader(out);
      return (await reader.forEachFrame(() => {})).frames;
    };
    let n = 0;
    for (let tries = 0; n < 200 && tries < 400; tries++) {
      capture.signal("SIGHUP");
      await new Promise((r) => setTimeout(r, 50));
      n = await frameCount();
    }
    assert.equal(n, 200);
    capture.signal("SIGUSR1");
    await waitFor(() => capture.opened.length === 2, "the second file");
    for (const p of payloads.slice(200)) await writer.write(p);
    await writer.close();
    assert.equal(await capture.stop(), 0);
    // -w has no pattern and the first file is still there: a counter.
    assert.deepEqual(capture.opened, [out, `${dir}/cap.1.fstrm`]);
    assertFrames((await readFile(out)).frames, payloads.slice(0, 200));
    assertFrames(
      (await readFile(`${dir}/cap.1.fstrm`)).frames,
      payloads.slice(200),
    );
  });
});

Deno.test("capture reopens the same name on SIGUSR2 (as on SIGUSR1) once the file was moved away (logrotate)", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await Capture.unix(dir, ["-w", out]);
    const payloads = makePayloads(100, 10);
    await sendAll({ transport: "unix", path }, payloads.slice(0, 50));
    await Deno.rename(out, `${dir}/cap.fstrm.old`);
    capture.signal("SIGUSR2");
    await waitFor(() => capture.opened.length === 2, "the second file");
    await sendAll({ transport: "unix", path }, payloads.slice(50));
    assert.equal(await capture.stop(), 0);
    assert.deepEqual(capture.opened, [out, out]);
    assertFrames(
      await readAll([`${dir}/cap.fstrm.old`, out]),
      payloads,
    );
  });
});

Deno.test("capture survives SIGTERM mid-stream: a whole file holding a prefix of the frames", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      out,
      "--grace",
      "0.2",
    ]);
    const payloads = makePayloads(50_000, 11);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    const sending = (async () => {
      for (const p of payloads) {
        if (!writer.tryWrite(p)) await writer.write(p);
      }
    })().catch(() => {}); // the capture goes away under it
    await waitFor(
      () => writer.stats.frames >= 5_000,
      "frames on the wire",
    );
    assert.equal(await capture.stop(), 0);
    await sending;
    await writer.close();
    const file = await readFile(out);
    assert.ok(file.stopped);
    assert.ok(file.frames.length >= 1_000, `${file.frames.length} frames`);
    assertFrames(file.frames, payloads.slice(0, file.frames.length));
    assert.equal(indexOf(file.frames.at(-1)!), file.frames.length - 1);
  });
});
