// The benchmark harness keeps its promises: bench/make_data.ts writes the
// same file for the same seed (and what it says it wrote), and
// bench/read_fstrm.ts, in every way bench/read_bench.ts runs it, prints the
// reader contract's summary line (peers/README.md) and refuses damaged files.
// (That make_data.ts writes libfstrm's bytes is checked against the C
// generator in interop_fstrm_bin_test.ts.)
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { type DataShape, writeDataFile } from "../bench/make_data.ts";

const READ_FSTRM = decodeURIComponent(
  new URL("../bench/read_fstrm.ts", import.meta.url).pathname,
);

/** The summary line of the reader contract, from the payloads themselves. */
function summary(payloads: readonly Uint8Array[]): string {
  let bytes = 0;
  let h = 0x811c9dc5;
  for (const p of payloads) {
    bytes += p.length;
    h = Math.imul(h ^ p[0]!, 16777619) >>> 0;
    h = Math.imul(h ^ p[p.length - 1]!, 16777619) >>> 0;
  }
  return `frames=${payloads.length} bytes=${bytes} check=0x${
    h.toString(16).padStart(8, "0")
  }`;
}

/** The data payloads of a file's bytes. */
function payloads(bytes: Uint8Array): Uint8Array[] {
  return decodeFrames(bytes).flatMap((f) => f.kind === "data" ? [f.data] : []);
}

Deno.test("writeDataFile writes the same file for the same seed, the shape it is given, and says so", async () => {
  await withTempDir(async (dir) => {
    const shape: DataShape = { seed: 1, frames: 2_000, min: 80, max: 400 };
    const a = await writeDataFile(`${dir}/a.fstrm`, shape);
    const b = await writeDataFile(`${dir}/b.fstrm`, shape);
    const c = await writeDataFile(`${dir}/c.fstrm`, { ...shape, seed: 2 });
    const bytesA = await Deno.readFile(`${dir}/a.fstrm`);
    const bytesC = await Deno.readFile(`${dir}/c.fstrm`);
    assert.equal(a, b);
    assert.deepEqual(await Deno.readFile(`${dir}/b.fstrm`), bytesA);
    assert.notEqual(a, c);
    // The first frames of bench/data/dnstap.fstrm (seed 1, as fstrm_gen).
    assert.equal(a, "frames=2000 bytes=481287 check=0x1eacebe2");
    for (const [line, bytes] of [[a, bytesA], [c, bytesC]] as const) {
      const data = payloads(bytes);
      assert.equal(summary(data), line);
      assert.ok(data.every((p) => p.length >= 80 && p.length <= 400));
      // Lengths spread over the whole range, not stuck at one end.
      assert.ok(data.some((p) => p.length < 100));
      assert.ok(data.some((p) => p.length > 380));
    }
    // START names dnstap's content type; the file ends in STOP.
    const frames = decodeFrames(bytesA);
    assert.equal(frames[0]!.kind, "control");
    assert.equal(frames.at(-1)!.kind, "control");
  });
});

Deno.test("writeDataFile refuses shapes it cannot write", async () => {
  const bad: DataShape[] = [
    { seed: 1, frames: 1, min: 0, max: 4 }, // an empty payload
    { seed: 1, frames: 1, min: 5, max: 4 }, // min over max
    { seed: -1, frames: 1, min: 1, max: 4 }, // a negative seed
    { seed: 1, frames: 1.5, min: 1, max: 4 }, // a fraction of a frame
    { seed: 1, frames: 1, min: 1, max: 2 ** 32 }, // over 32 bits
  ];
  for (const shape of bad) {
    await assert.rejects(
      writeDataFile("/nonexistent/never-written.fstrm", shape),
      RangeError,
      JSON.stringify(shape),
    );
  }
});

/** The ways bench/read_bench.ts runs read_fstrm.ts, and one more. */
const MODES = [
  ["--engine", "ts", "--api", "callback"],
  ["--engine", "wasm", "--api", "callback"],
  ["--api", "run"],
  ["--api", "batches"],
  ["--api", "batches", "--copy"],
  ["--api", "iterator"],
  ["--api", "iterator", "--copy"],
  ["--api", "stream"],
];

/** Runs read_fstrm.ts; exit code, stdout and stderr. */
async function readFstrm(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", READ_FSTRM, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("bench/read_fstrm.ts prints the summary line in every mode, over several windows", async (t) => {
  await withTempDir(async (dir) => {
    const shapes: [string, DataShape][] = [
      ["dnstap-like", { seed: 1, frames: 10_000, min: 80, max: 400 }],
      ["large", { seed: 3, frames: 12, min: 262_144, max: 262_144 }],
    ];
    for (const [name, shape] of shapes) {
      const path = `${dir}/${name}.fstrm`;
      const expected = await writeDataFile(path, shape);
      // More than one 1 MiB window.
      assert.ok((await Deno.stat(path)).size > 2 << 20);
      for (const mode of MODES) {
        await t.step(`${name}: ${mode.join(" ")}`, async () => {
          const { code, stdout, stderr } = await readFstrm([...mode, path]);
          assert.equal(code, 0, stderr);
          const [line, timing] = stdout.split("\n");
          assert.equal(line, expected);
          assert.match(timing!, /^reader=deno-\S+ elapsed_s=[\d.]+ /);
        });
      }
    }
  });
});

Deno.test("bench/read_fstrm.ts exits 1 on a truncated file, a missing STOP or another content type", async (t) => {
  await withTempDir(async (dir) => {
    const good = `${dir}/good.fstrm`;
    await writeDataFile(good, { seed: 5, frames: 300, min: 80, max: 400 });
    const bytes = await Deno.readFile(good);
    const frames = decodeFrames(bytes);
    const stop = frames.at(-1)!;
    const middle = frames[150]!;
    const cases: [string, Uint8Array][] = [
      ["no STOP", bytes.subarray(0, stop.offset)],
      ["cut inside a data frame", bytes.subarray(0, middle.offset + 9)],
      ["cut inside STOP", bytes.subarray(0, stop.offset + 6)],
      [
        "another content type",
        encodeFrameStream(payloads(bytes), { contentType: "text/plain" }),
      ],
    ];
    const bad = `${dir}/bad.fstrm`;
    for (const [what, file] of cases) {
      await Deno.writeFile(bad, file);
      for (const mode of [MODES[1]!, MODES[6]!, MODES[7]!]) {
        await t.step(`${what}: ${mode.join(" ")}`, async () => {
          const { code, stderr } = await readFstrm([...mode, bad]);
          assert.equal(code, 1, stderr);
          assert.match(stderr, /^read_fstrm: /);
        });
      }
    }
  });
});
