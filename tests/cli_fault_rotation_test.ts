// `fstrm capture` when the next file cannot be opened at a rotation (its
// directory replaced by a regular file, a name too long): one line each
// time, the frames go on into the current file, the writer is served
// throughout.
// Fault tests run as root (as CI does): permissions stop nothing, so the
// faults are made of things that fail for root too. Waits are for
// conditions, never for a time.
import assert from "node:assert/strict";
import { Capture } from "./_cli.ts";
import {
  assertPrefix,
  assertStats,
  decode,
  type Decoded,
  Feed,
  Trickle,
  withDir,
} from "./_cli_fault.ts";

// ---------------------------------------------------------------------------
// Rotation into an output that cannot be opened

Deno.test("capture -s 1: the next file's directory replaced by a regular file: one line per try, the frames go on into the current file, then it rotates again", async () => {
  await withDir(async (dir) => {
    const sub = `${dir}/sub`;
    await Deno.mkdir(sub);
    const pattern = `${sub}/cap-%Y%m%d%H%M%S.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      pattern,
      "-s",
      "1",
      "--gmtime",
      "-d",
    ]);
    const trickle = await Trickle.start(path);
    await trickle.until(() => trickle.sent >= 100, "100 frames");
    const first = capture.opened[0]!;
    // The directory moves away (the open file with it) and a regular file
    // takes its name: opening sub/cap-….fstrm fails with ENOTDIR, for root
    // too.
    await Deno.rename(sub, `${dir}/moved`);
    await Deno.writeTextFile(sub, "not a directory");
    const failed =
      /^fstrm capture: cannot open output file (.*): not a directory; still writing to (.*)$/;
    await trickle.until(
      () => capture.matching(failed).length >= 2,
      "two failed rotations",
    );
    assert.equal(capture.opened.length, 1, "no file opened meanwhile");
    for (const m of capture.matching(failed)) {
      assert.match(m[1]!, /^.*\/sub\/cap-\d{14}\.fstrm$/);
      assert.equal(m[2], first);
    }
    // The writer was served all along.
    assert.equal(trickle.writer.stats.connected, true);
    assert.equal(trickle.writer.stats.reconnects, 0);
    // The directory is back: the next try opens a file there.
    await Deno.remove(sub);
    await Deno.mkdir(sub);
    await trickle.until(() => capture.opened.length >= 2, "a rotation");
    await trickle.until(() => trickle.sent >= 100 + 200, "more frames");
    await trickle.close();
    await capture.line(/connection \d+ closed \(\d+ frames\): after STOP$/);
    capture.signal("SIGTERM");
    const status = await capture.status();
    assert.equal(status.code, 0);
    capture.assertNoCrash();
    assert.equal(trickle.error, null);
    assert.equal(trickle.writer.stats.frames, trickle.sent);
    // Every file whole, holding together every frame sent, in order.
    const files = capture.opened.map((f, i) =>
      i === 0 ? f.replace(`${dir}/sub/`, `${dir}/moved/`) : f
    );
    const decoded: Decoded[] = [];
    for (const f of files) decoded.push(await decode(f));
    for (const f of decoded) assert.ok(f.stopped, `${f.path} ends with STOP`);
    const ledger = assertPrefix(decoded, trickle.sent);
    assert.deepEqual(ledger.missing(1), []);
    assert.equal(ledger.frames, trickle.sent);
    await assertStats(decoded);
    // The first file kept the frames of the failed rotations.
    assert.ok(decoded[0]!.frames.length >= 100);
  });
});

Deno.test("capture --max-size: a next name too long (ENAMETOOLONG) keeps the frames in the current file, tried again every --max-size bytes", async () => {
  await withDir(async (dir) => {
    // A 255-byte name: fine; with a counter (cap….1.fstrm) 257: too long.
    const out = `${dir}/${"c".repeat(249)}.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      out,
      "--max-size",
      "20000",
    ]);
    const feed = new Feed(path, 1, 2_000);
    await feed.done;
    assert.deepEqual(feed.errors, []);
    capture.signal("SIGTERM");
    assert.equal((await capture.status()).code, 0);
    capture.assertNoCrash();
    const next = out.replace(/\.fstrm$/, ".1.fstrm");
    const failures = capture.matching(
      /^fstrm capture: cannot open output file (.*): (.*); still writing to (.*)$/,
    );
    assert.ok(failures.length >= 10, `${failures.length} failed rotations`);
    for (const m of failures) {
      assert.deepEqual(m.slice(1), [next, "file name too long", out]);
    }
    assert.deepEqual(capture.opened, [out]);
    const file = await decode(out);
    assert.ok(file.stopped);
    assert.ok(file.size > 20 * 20_000, "past --max-size");
    const ledger = assertPrefix([file], 2_000);
    assert.deepEqual(ledger.missing(1), []);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      out.slice(dir.length + 1),
    ]);
  });
});
