// `fstrm dump` against fstrm_dump (fstrm-bin 0.6.1): the same stdout and
// stderr byte for byte, the same copy file, and the deliberate differences
// (truncated files, data after STOP). The CLI runs as a subprocess, as users
// run it.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { concat, hex } from "./_util.ts";
import { HELLO, START, STOP } from "./_vectors.ts";
import { interopTest } from "./_peers.ts";
import { decodeFrames, encodeDataFrame, encodeFrameStream } from "../mod.ts";
import { fstrmDumpText } from "../src/cli/_dump_format.ts";
import { CLI } from "./_cli.ts";
import {
  allButLast,
  assertFails,
  DNSTAP_BYTES as DNSTAP,
  exec,
  fstrmBytes,
  latin1,
  payloads,
  type Run,
  SAME,
} from "./_cli_dump.ts";

// ---------------------------------------------------------------------------
// Against fstrm_dump

/** Our CLI as a shell command. */
const OURS = `'${Deno.execPath()}' run -A '${CLI}'`;

/** Writes `bytes` to `dir`/in.fstrm; its path. */
async function writeInput(dir: string, bytes: Uint8Array): Promise<string> {
  const path = `${dir}/in.fstrm`;
  await Deno.writeFile(path, bytes);
  return path;
}

/**
 * fstrm_dump and ours on a file of `bytes`, each writing a copy: asserts the
 * same stdout and the same copy; returns both runs, the copy and the file's
 * path.
 */
function dumpBoth(
  bytes: Uint8Array,
): Promise<{ ref: Run; ours: Run; copy: Uint8Array; path: string }> {
  return withTempDir(async (dir) => {
    const path = await writeInput(dir, bytes);
    const ref = await exec("fstrm_dump", [path, `${dir}/ref.fstrm`]);
    const ours = await fstrmBytes(["dump", path, `${dir}/ours.fstrm`]);
    assert.deepEqual(ours.stdout, ref.stdout);
    const copy = await Deno.readFile(`${dir}/ours.fstrm`);
    assert.deepEqual(copy, await Deno.readFile(`${dir}/ref.fstrm`));
    return { ref, ours, copy, path };
  });
}

interopTest(
  "fstrm dump prints what fstrm_dump prints, byte for byte, and writes the same copy",
  ["fstrm_dump"],
  async (t) => {
    for (const [name, ct, ps] of SAME) {
      await t.step(name, async () => {
        const { ref, ours } = await dumpBoth(
          encodeFrameStream(ps, { contentType: ct }),
        );
        assert.equal(ref.code, 0);
        assert.equal(ours.code, 0);
        assert.ok(ours.stderr === ref.stderr, "stderr differs");
        // And the reference text says the same.
        const want = fstrmDumpText(ct, ps);
        assert.ok(ours.stderr === want.stderr);
        assert.ok(latin1(ours.stdout) === want.stdout);
      });
    }
  },
);

interopTest(
  "fstrm dump interleaves stdout and stderr as fstrm_dump does when both go to one pipe",
  ["fstrm_dump"],
  async () => {
    await withTempDir(async (dir) => {
      const path = await writeInput(
        dir,
        encodeFrameStream(payloads(300, 5), { contentType: DNSTAP }),
      );
      const merged = (cmd: string) =>
        exec("sh", ["-c", `${cmd} "$1" 2>&1`, "sh", path]);
      const ref = await merged("fstrm_dump");
      const ours = await merged(`${OURS} dump`);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, ref.stdout);
    });
  },
);

interopTest(
  "fstrm dump with OUT '-' writes fstrm_dump's copy alone to stdout, its lines to stderr",
  ["fstrm_dump"],
  async () => {
    await withTempDir(async (dir) => {
      const path = await writeInput(
        dir,
        encodeFrameStream(payloads(50, 6), { contentType: DNSTAP }),
      );
      // fstrm_dump mixes payloads and copy on stdout with '-': ours is the
      // copy fstrm_dump writes to a file, and nothing else.
      const ref = await exec("fstrm_dump", [path, `${dir}/ref.fstrm`]);
      const ours = await fstrmBytes(["dump", path, "-"]);
      assert.equal(ref.code, 0);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, await Deno.readFile(`${dir}/ref.fstrm`));
      assert.ok(ours.stderr === ref.stderr, "stderr differs");
    });
  },
);

Deno.test("fstrm dump with OUT '-' keeps stdout for the copy: with 2>&1, with --limit, and refuses --json", async () => {
  await withTempDir(async (dir) => {
    const ps = payloads(40, 7);
    const path = await writeInput(
      dir,
      encodeFrameStream(ps, { contentType: DNSTAP }),
    );
    const want = (n: number) =>
      encodeFrameStream(ps.slice(0, n), { contentType: DNSTAP });
    // stderr into stdout: the lines would spoil the copy, so they go.
    const merged = await exec("sh", [
      "-c",
      `${OURS} dump "$1" - 2>&1`,
      "sh",
      path,
    ]);
    assert.equal(merged.code, 0);
    assert.deepEqual(merged.stdout, want(ps.length));
    // --limit: the first frames, a whole file.
    const limited = await fstrmBytes(["dump", "--limit", "5", path, "-"]);
    assert.equal(limited.code, 0);
    assert.deepEqual(limited.stdout, want(5));
    assert.equal(limited.stderr.match(/^Data frame/gm)?.length, 5);
    // From stdin to stdout.
    const piped = await fstrmBytes(["dump", "-", "-"], want(ps.length));
    assert.equal(piped.code, 0);
    assert.deepEqual(piped.stdout, want(ps.length));
    // --json prints on stdout: a usage error, nothing written.
    const json = await fstrmBytes(["dump", "--json", path, "-"]);
    assertFails(
      json,
      2,
      "fstrm dump: --json prints on stdout, which OUT - takes for the copy: give OUT a file (see 'fstrm dump --help')",
    );
    assert.equal(json.stdout.length, 0);
  });
});

interopTest(
  "fstrm dump prints every complete frame of a truncated file as fstrm_dump does, then an error instead of a STOP that is not there",
  ["fstrm_dump"],
  async (t) => {
    const ps = payloads(200, 7);
    const whole = encodeFrameStream(ps, { contentType: DNSTAP });
    const frames = decodeFrames(whole);
    const mid = frames[100]!;
    const stop = frames.at(-1)!;
    const cuts: [string, number, string][] = [
      // [case, cut at, our error]
      [
        "inside a payload",
        mid.offset + 7,
        `input ended inside the frame at byte ${mid.offset} after 7 of ${
          4 + (mid.kind === "data" ? mid.data.length : 0)
        } bytes`,
      ],
      [
        "inside a length word",
        mid.offset + 2,
        `input ended inside the frame at byte ${mid.offset} after 2 of at least 3 bytes`,
      ],
      [
        "inside STOP",
        stop.offset + 9,
        `input ended inside the frame at byte ${stop.offset} after 9 of 12 bytes`,
      ],
    ];
    for (const [name, cut, message] of cuts) {
      await t.step(name, async () => {
        // dumpBoth: the same stdout, and both copies hold every complete
        // frame, then STOP.
        const { ref, ours, path } = await dumpBoth(whole.subarray(0, cut));
        // fstrm_dump: exit 0 and "FSTRM_CONTROL_STOP." as if STOP were there.
        assert.equal(ref.code, 0);
        assert.match(ref.stderr, /FSTRM_CONTROL_STOP\.\n$/);
        assert.equal(
          ours.stderr,
          allButLast(ref.stderr) +
            `fstrm dump: ${path}: cannot decode frame: ${message}\n`,
        );
        assert.equal(ours.code, 1);
      });
    }
  },
);

interopTest(
  "fstrm dump stops at the first STOP as fstrm_dump does, and says that more follows",
  ["fstrm_dump"],
  async () => {
    const one = encodeFrameStream(payloads(30, 8), { contentType: DNSTAP });
    const bytes = concat(one, one, encodeDataFrame("after"));
    const { ref, ours, copy, path } = await dumpBoth(bytes);
    assert.equal(ref.code, 0);
    assert.equal(ours.code, 0);
    assert.equal(
      ours.stderr,
      ref.stderr +
        `fstrm dump: ${path}: ${
          one.length + 9
        } more bytes follow the STOP frame at byte ${
          one.length - 12
        }: not read (fstrm_dump stops there too)\n`,
    );
    assert.deepEqual(copy, one);
  },
);

interopTest(
  "fstrm dump says a file ends without STOP where fstrm_dump prints a STOP line",
  ["fstrm_dump"],
  async () => {
    const whole = encodeFrameStream(payloads(30, 9), { contentType: DNSTAP });
    const bytes = whole.subarray(0, whole.length - 12);
    const { ref, ours, path } = await dumpBoth(bytes);
    assert.equal(ref.code, 0);
    assert.equal(ours.code, 0);
    assert.equal(
      ours.stderr,
      allButLast(ref.stderr) +
        `fstrm dump: ${path}: no STOP frame: the input ended at byte ${bytes.length}, after a complete frame\n`,
    );
  },
);

interopTest(
  "fstrm dump fails on a bad control frame where fstrm_dump does, naming it",
  ["fstrm_dump"],
  async () => {
    // escape, clen 3: too short for a control type
    const bad = hex("00000000 00000003 000000");
    const bytes = concat(START, HELLO, HELLO, bad, HELLO, STOP);
    const at = START.length + 2 * HELLO.length;
    const { ref, ours, path } = await dumpBoth(bytes);
    assert.equal(ref.code, 1);
    assert.equal(
      ref.stderr.split("\n").at(-2),
      "Error: fstrm_reader_read() failed.",
    );
    assert.equal(
      ours.stderr,
      allButLast(ref.stderr) +
        `fstrm dump: ${path}: cannot decode control frame at byte ${at}: its length is 3, it must be from 4 to 512 (at byte ${
          at + 4
        })\n`,
    );
    assert.equal(ours.code, 1);
  },
);
