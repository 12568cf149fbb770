// `fstrm capture` killed with SIGKILL mid-stream (several kill points, with
// and without --max-size rotation), run as a subprocess of cli.ts and fed by
// FrameWriters sending loadPayload frames (each names its writer and
// sequence number, and is checked byte for byte by a LoadLedger): every
// file it leaves is read by `fstrm stats` up to its last complete frame,
// reported as "no-stop" or "truncated" (never an error), and holds intact
// frames that are, file after file, a contiguous prefix of what each writer
// sent; `fstrm dump` says where a file ends.
// Fault tests run as root (as CI does): permissions stop nothing, so the
// faults are made of things that fail for root too. Waits are for
// conditions, never for a time.
import assert from "node:assert/strict";
import { waitFor } from "./_support.ts";
import { Capture, fstrm } from "./_cli.ts";
import {
  assertPrefix,
  assertStats,
  decode,
  type Decoded,
  Feed,
  rotated,
  START_LENGTH,
  withDir,
} from "./_cli_fault.ts";

// ---------------------------------------------------------------------------
// SIGKILL mid-stream

const KILL_WRITERS = 2;
/** Frames each writer would send: more than any kill point lets through. */
const KILL_FRAMES = 200_000;

/** When to kill: all of these. */
interface KillPoint {
  /** Frames the writers have put on the wire. */
  frames: number;
  /** Bytes in the first file (`dir/cap.fstrm`). */
  fileBytes?: number;
  /** Files closed (rotated), by the capture's lines. */
  closed?: number;
}

/**
 * Starts capture with `args` into `dir`, two writers, and kills it with
 * SIGKILL at `when` (the writers still writing, frames in the capture's
 * buffers and in its writes). The files it left, in order, read and
 * checked.
 */
async function killMidStream(
  dir: string,
  args: string[],
  when: KillPoint,
): Promise<Decoded[]> {
  const { capture, path } = await Capture.unix(dir, args);
  const feed = new Feed(path, KILL_WRITERS, KILL_FRAMES);
  const size = (f: string) => {
    try {
      return Deno.statSync(f).size;
    } catch {
      return 0;
    }
  };
  await waitFor(
    () =>
      feed.writers.length === KILL_WRITERS && feed.written >= when.frames &&
      size(`${dir}/cap.fstrm`) >= (when.fileBytes ?? 0) &&
      capture.matching(/closed output file/).length >= (when.closed ?? 0),
    `the kill point ${JSON.stringify(when)}`,
  );
  capture.signal("SIGKILL");
  const status = await capture.status();
  assert.equal(status.signal, "SIGKILL");
  await feed.done; // the writers see the connection go, and stop
  assert.ok(feed.written < KILL_WRITERS * KILL_FRAMES, "killed mid-stream");
  capture.assertNoCrash();
  const files: Decoded[] = [];
  for (const f of rotated(dir)) files.push(await decode(f));
  assert.ok(files.length >= 1);
  // Every file is a valid prefix of the stream it was being written: what
  // a reader gets is exactly the complete frames, all intact, and all
  // files in order hold a contiguous prefix of each writer's frames.
  assertPrefix(files, KILL_FRAMES);
  // Files are written one after another: once one lacks STOP (the one
  // being written when the kill came), the later ones hold no frame; a
  // file the capture said it closed is whole.
  const open = files.findIndex((f) => !f.stopped);
  for (const f of files.slice(open === -1 ? files.length : open + 1)) {
    assert.equal(f.frames.length, 0, `${f.path} holds frames after a cut`);
    assert.equal(f.cutAt, null);
  }
  for (const m of capture.matching(/closed output file (.*) \((\d+) frames/)) {
    const f = files.find((f) => f.path === m[1])!;
    assert.ok(f.stopped, `${f.path} said closed, without STOP`);
    assert.equal(f.frames.length, Number(m[2]));
  }
  // Each file's START is in it (a rotated file is named only once START
  // is written): a file is never empty. At most one START being staged
  // under a temporary name is left.
  for (const f of files) assert.ok(f.size >= START_LENGTH, f.path);
  const staged = [...Deno.readDirSync(dir)].filter((e) =>
    /^\.fstrm-[0-9a-f]+\.tmp$/.test(e.name)
  );
  assert.ok(staged.length <= 1, `${staged.length} staged files left`);
  await assertStats(files);
  return files;
}

Deno.test("capture killed (SIGKILL) mid-stream leaves a file stats reads to its last complete frame: intact frames, a prefix of what was sent", async () => {
  const lengths: number[] = [];
  const points: KillPoint[] = [
    { frames: 0 }, // both writers connected
    { frames: 2_000 }, // about 0.5 MB sent: in memory (1 MiB buffers)
    { frames: 15_000, fileBytes: 1 << 20 }, // a first buffer written
    { frames: 40_000, fileBytes: 3 << 20 }, // more, more in flight
  ];
  for (const when of points) {
    await withDir(async (dir) => {
      const [file, ...more] = await killMidStream(
        dir,
        ["-w", `${dir}/cap.fstrm`],
        when,
      );
      assert.equal(more.length, 0);
      assert.ok(!file!.stopped, "no STOP after SIGKILL");
      lengths.push(file!.frames.length);
    });
  }
  // The last kill finds frames written (1 MiB buffers).
  assert.ok(lengths.at(-1)! > 10_000, `frames kept: ${lengths}`);
});

Deno.test("capture killed (SIGKILL) while rotating with --max-size: whole files, then one without STOP, together a prefix of what was sent", async () => {
  const points: KillPoint[] = [
    { frames: 1_000, closed: 1 },
    { frames: 30_000, closed: 20 },
  ];
  for (const when of points) {
    await withDir(async (dir) => {
      const files = await killMidStream(
        dir,
        ["-w", `${dir}/cap.fstrm`, "--max-size", "100000"],
        when,
      );
      // Rotated files before the last ones are whole and within the size.
      const whole = files.filter((f) => f.stopped);
      assert.ok(whole.length >= 1, `${files.length} files, none whole`);
      for (const f of whole) assert.ok(f.size <= 100_000, f.path);
      assert.ok(files.some((f) => !f.stopped), "one without STOP");
    });
  }
});

Deno.test("a capture file cut inside a frame (a write cut by the kill): stats and dump say where, after every complete frame", async () => {
  await withDir(async (dir) => {
    const [file] = await killMidStream(dir, ["-w", `${dir}/cap.fstrm`], {
      frames: 10_000,
      fileBytes: 1 << 20,
    });
    const killed = file!;
    assert.ok(killed.frames.length >= 1000, `${killed.frames.length} frames`);
    // A kill during the write of a buffer can leave a part of it (Linux
    // stops a write at a page when a fatal signal is pending): the file
    // then ends inside a frame. Make one: the first 500 frames of the
    // killed file and 10 bytes of the 501st.
    const bytes = await Deno.readFile(killed.path);
    const last = killed.frames[500]!;
    const cutAt = last.byteOffset - 4;
    const cutPath = `${dir}/cut.fstrm`;
    await Deno.writeFile(cutPath, bytes.subarray(0, cutAt + 10));
    const cut = await decode(cutPath);
    assert.equal(cut.cutAt, cutAt);
    assert.equal(cut.frames.length, 500);
    assertPrefix([cut], KILL_FRAMES);
    await assertStats([cut]);
    const message =
      `cannot decode frame: input ended inside the frame at byte ${cutAt} after 10 of ${
        last.length + 4
      } bytes`;
    // stats as text: the end line, and the error on stderr, exit 1.
    const text = await fstrm(["stats", cutPath]);
    assert.equal(text.code, 1);
    assert.ok(text.stdout.includes("  data frames     500\n"));
    assert.ok(
      text.stdout.includes(`  end             truncated: ${message}\n`),
    );
    assert.equal(text.stderr, `fstrm stats: ${cutPath}: ${message}\n`);
    // dump: every complete frame as fstrm_dump prints it, then the error in
    // place of the STOP line, exit 1.
    const dump = await fstrm(["dump", cutPath]);
    assert.equal(dump.code, 1);
    const err = dump.stderr.split("\n");
    assert.equal(err.pop(), "");
    assert.equal(err[0], "FSTRM_CONTROL_START.");
    assert.equal(err.filter((l) => l.startsWith("Data frame (")).length, 500);
    assert.equal(err.at(-1), `fstrm dump: ${cutPath}: ${message}`);
    assert.ok(!dump.stderr.includes("FSTRM_CONTROL_STOP."));
    assert.equal(dump.stdout.split("\n").length - 1, 500);
    // dump on the killed file itself: every frame, then the no-STOP line in
    // place of the STOP line, exit 0 (or, if the kill did cut a write,
    // the cut's line, exit 1); --json gives each frame's offset.
    const whole = await fstrm(["dump", "--json", killed.path]);
    if (killed.cutAt === null) {
      assert.equal(whole.code, 0);
      assert.equal(
        whole.stderr,
        `fstrm dump: ${killed.path}: no STOP frame: the input ended at byte ${killed.size}, after a complete frame\n`,
      );
    } else {
      assert.equal(whole.code, 1);
      assert.match(
        whole.stderr,
        new RegExp(
          `^fstrm dump: ${killed.path}: cannot decode frame: input ended inside the frame at byte ${killed.cutAt} after \\d+ of \\d+ bytes\n$`,
        ),
      );
    }
    const objects = whole.stdout.trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(objects.length, killed.frames.length);
    for (const [i, o] of objects.entries()) {
      const p = killed.frames[i]!;
      assert.equal(o.offset, p.byteOffset - 4);
      assert.equal(o.length, p.length);
    }
  });
});
