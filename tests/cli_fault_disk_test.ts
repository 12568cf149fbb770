// `fstrm capture` when the output cannot be written (/dev/full, a full
// tmpfs): one line, the connections closed, every file cut back to its last
// whole frame and closed with STOP, exit 1.
// Fault tests run as root (as CI does): permissions stop nothing, so the
// faults are made of things that fail for root too. Waits are for
// conditions, never for a time.
import assert from "node:assert/strict";
import { delay } from "./_support.ts";
import { Capture, DNSTAP, fstrm, killCaptures } from "./_cli.ts";
import {
  assertPrefix,
  assertStats,
  decode,
  type Decoded,
  Feed,
  rotated,
  START_LENGTH,
  Trickle,
  withDir,
} from "./_cli_fault.ts";
const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// A full disk

Deno.test("capture -w /dev/full: one line, exit 1, nothing left behind", async () => {
  await withDir(async (dir) => {
    const args = ["capture", "-t", DNSTAP, "-u", `${dir}/dnstap.sock`];
    // Installed (deno install -gA): START cannot be written, ENOSPC.
    const all = await fstrm([...args, "-w", "/dev/full"], {
      permissions: ["-A"],
    });
    assert.equal(
      all.stderr,
      "fstrm capture: cannot write output file /dev/full: no space left on device\n",
    );
    assert.equal(all.code, 1);
    // With the permissions of `deno task fstrm`, Deno refuses to open a
    // device at all: one line too.
    const task = await fstrm([...args, "-w", "/dev/full"]);
    assert.equal(
      task.stderr,
      'fstrm capture: cannot open output file /dev/full: requires all access to "/dev/full", run again with the --allow-all flag\n',
    );
    assert.equal(task.code, 1);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

/** Whether a tmpfs can be mounted here (root, and allowed to mount). */
async function canMountTmpfs(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-mount-probe-" });
  try {
    const { success } = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) await umount(dir);
    return success;
  } catch {
    return false;
  } finally {
    await Deno.remove(dir);
  }
}

/** Unmounts `dir` (lazily if it is still busy: a test failed). */
async function umount(dir: string): Promise<void> {
  const { success } = await new Deno.Command("umount", {
    args: [dir],
    stderr: "null",
  }).output();
  if (!success) {
    await new Deno.Command("umount", { args: ["-l", dir] }).output();
  }
}

/** Runs `fn` with a 1 MiB tmpfs mounted at `dir/mnt`. */
async function withTmpfs(
  fn: (mnt: string, dir: string) => Promise<void>,
): Promise<void> {
  await withDir(async (dir) => {
    const mnt = `${dir}/mnt`;
    await Deno.mkdir(mnt);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
    }).output();
    assert.ok(mounted.success, dec.decode(mounted.stderr));
    try {
      await fn(mnt, dir);
    } finally {
      await killCaptures();
      await umount(mnt);
    }
  });
}

const TMPFS = await canMountTmpfs();
if (!TMPFS) {
  console.warn(
    "cli_fault_test.ts: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): the disk-full tests are skipped",
  );
}

/**
 * Writes 2 × `frames` frames into a capture writing `args` on a full-to-be
 * tmpfs, until the disk fills and it stops. Checks what a write error
 * must do, and returns the files left and the frames they hold.
 */
async function fillUp(
  mnt: string,
  dir: string,
  args: string[],
  frames: number,
): Promise<{ capture: Capture; files: Decoded[] }> {
  const { capture, path } = await Capture.unix(dir, args);
  const feed = new Feed(path, 2, frames);
  // The capture stops by itself: exit 1, and the writers see their
  // connections closed (without FINISH), never a hang.
  const status = await capture.status();
  assert.equal(status.code, 1);
  await feed.done;
  capture.assertNoCrash();
  // One line for the write error; before it maybe one for a rotation
  // whose new file could not take START (the disk full already).
  const errors = capture.matching(
    /^fstrm capture: cannot write output file (.*): (.*); closing the connections and stopping$/,
  );
  assert.equal(errors.length, 1, capture.lines.join("\n"));
  assert.equal(errors[0]![2], "no space left on device");
  for (const m of capture.matching(/cannot write (.*)$/)) {
    assert.match(
      m[1]!,
      /: no space left on device; (closing the connections and stopping|still writing to .*)$/,
    );
  }
  const last = capture.lines.at(-1)!.match(
    /^fstrm capture: stopped after a write error: (\d+) of (\d+) frames received were not written$/,
  );
  assert.ok(last !== null, capture.lines.at(-1));
  // The socket is gone.
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  // Every file: a whole Frame Streams file (cut back to its last whole
  // frame, STOP appended), together a contiguous prefix of each writer. The
  // failed file lacks STOP only when its last whole frame ends less than
  // STOP's 12 bytes before the end of the disk: then it says so.
  const files: Decoded[] = [];
  for (const f of rotated(mnt)) files.push(await decode(f));
  assert.deepEqual(files.map((f) => f.path), capture.opened);
  const failed = errors[0]![1]!;
  for (const f of files) {
    assert.equal(f.cutAt, null, `${f.path} cut inside a frame`);
    if (f.stopped) continue;
    assert.equal(f.path, failed, `${f.path} ends without STOP`);
    await capture.line(
      new RegExp(
        `^fstrm capture: closed output file ${
          escape(f.path)
        } \\(\\d+ frames, ${f.size} bytes\\): cut back to its last whole frame after the write error, no room for STOP$`,
      ),
    );
    // tmpfs gives whole 4 KiB pages: the file's last one had less than 12
    // bytes left, and there was no other.
    assert.ok((4096 - f.size % 4096) % 4096 < 12, `${f.size} bytes`);
  }
  assertPrefix(files, frames);
  await assertStats(files);
  // The counts said: frames received, and not written, match the files.
  const kept = files.reduce((n, f) => n + f.frames.length, 0);
  assert.equal(Number(last[2]) - Number(last[1]), kept);
  // The writers lost what the disk did not take (their writes failed,
  // close() threw their queue away, or the frames were in the socket
  // buffers, which they cannot see: no FINISH came for those). Compared
  // with what they meant to send: their `stats.frames` counts whole batches
  // written, so a batch the failure cut reached the capture uncounted (seen
  // once: 4,240 kept of 2,148 counted).
  assert.ok(kept < 2 * frames, `${kept} of ${2 * frames} frames kept`);
  assert.ok(feed.written <= 2 * frames);
  // Each closed line gives the file's frames and bytes.
  for (const f of files) {
    const closed = capture.matching(
      new RegExp(
        `^fstrm capture: closed output file ${
          escape(f.path)
        } \\((\\d+) frames, (\\d+) bytes\\)`,
      ),
    );
    assert.equal(closed.length, 1, f.path);
    assert.deepEqual(
      [Number(closed[0]![1]), Number(closed[0]![2])],
      [f.frames.length, f.size],
      f.path,
    );
  }
  return { capture, files };
}

Deno.test({
  name:
    "capture on a disk that fills up (1 MiB tmpfs): one line, connections closed, each file cut back to its last whole frame with STOP, exit 1",
  ignore: !TMPFS,
  fn: async () => {
    // One file.
    await withTmpfs(async (mnt, dir) => {
      const { files, capture } = await fillUp(
        mnt,
        dir,
        ["-w", `${mnt}/cap.fstrm`],
        20_000,
      );
      assert.equal(files.length, 1);
      // About 1 MiB of frames: the disk, but for the cut frame.
      assert.ok(files[0]!.size > (1 << 20) - 4096, `${files[0]!.size} bytes`);
      assert.equal(
        capture.matching(/cut back to its last whole frame/).length,
        1,
      );
    });
    // Rotating: the files before the failed one are whole, untouched.
    await withTmpfs(async (mnt, dir) => {
      const { files } = await fillUp(
        mnt,
        dir,
        ["-w", `${mnt}/cap.fstrm`, "--max-size", "300000"],
        10_000,
      );
      assert.ok(files.length >= 3, `${files.length} files`);
      for (const f of files.slice(0, 3)) {
        assert.ok(f.size > 290_000 && f.size <= 300_000, f.path);
      }
    });
  },
});

Deno.test({
  name:
    "capture rotating (SIGUSR1) onto a full disk: the next file cannot take START, one line, the current file goes on until it cannot be written",
  ignore: !TMPFS,
  fn: async () => {
    await withTmpfs(async (mnt, dir) => {
      const out = `${mnt}/cap.fstrm`;
      const { capture, path } = await Capture.unix(dir, ["-w", out]);
      const trickle = await Trickle.start(path);
      await trickle.until(() => trickle.sent >= 100, "100 frames");
      // Everything sent so far on disk (SIGHUP writes it out), so that
      // nothing is left to write when the disk fills up.
      await trickle.pause();
      const expected = START_LENGTH + 4 * trickle.sent + trickle.bytes;
      for (let tries = 0; Deno.statSync(out).size < expected; tries++) {
        assert.ok(tries < 400, "the frames sent reach the file");
        capture.signal("SIGHUP");
        await delay(50);
      }
      assert.equal(Deno.statSync(out).size, expected);
      // Fill the disk.
      const filler = await Deno.open(`${mnt}/filler`, {
        write: true,
        createNew: true,
      });
      await assert.rejects(async () => {
        for (;;) await filler.write(new Uint8Array(65_536));
      }, (e) => /no space left on device/i.test(String(e)));
      filler.close();
      capture.signal("SIGUSR1");
      await capture.line(
        new RegExp(
          `^fstrm capture: cannot write output file ${
            escape(mnt)
          }/cap\\.1\\.fstrm: no space left on device; still writing to ${
            escape(out)
          }$`,
        ),
      );
      // The new file is not left behind; the writer is still served.
      await assert.rejects(Deno.lstat(`${mnt}/cap.1.fstrm`));
      assert.equal(trickle.writer.stats.connected, true);
      // The next frames cannot be written (at the latest at the flush a
      // second later): the capture stops.
      trickle.resume();
      const status = await capture.status();
      await trickle.close(); // the connection is gone: no hang
      assert.equal(status.code, 1);
      capture.assertNoCrash();
      await capture.line(
        new RegExp(
          `^fstrm capture: cannot write output file ${
            escape(out)
          }: no space left on device; closing the connections and stopping$`,
        ),
      );
      // The file holds every frame written before the disk filled, whole.
      const file = await decode(out);
      assert.equal(file.cutAt, null);
      const ledger = assertPrefix([file], trickle.sent);
      assert.ok(ledger.frames >= 100);
      await assertStats([file]);
    });
  },
});

/** `s` as a regular expression that matches it literally. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
