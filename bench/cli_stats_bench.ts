// `fstrm stats` against the bulk API's own time: a bare forEachFrame loop
// (bench/read_fstrm.ts --api callback) on the same file, both run as
// subprocesses, alternately, N times; prints each run, the medians and the
// ratio. The target is a ratio of at most 1.2.
//
//   deno run --allow-read --allow-write --allow-run bench/cli_stats_bench.ts \
//     [--runs N] [--engine auto|wasm|ts] [FILE]
//
// FILE defaults to bench/data/dnstap.fstrm (5,000,000 frames of 80 to 400
// bytes, 1.22 GB), written by bench/make_data.ts first when missing. Two
// times are taken per run: wall clock around the whole subprocess (Deno's
// start-up included, the same for both), and the reading time each one
// reports itself (read_fstrm's elapsed_s, stats' --json "seconds", both from
// open to the end of the reading). The first run of each is a warm-up (it
// brings the file into the page cache) and is not counted.
import { parseArgs } from "node:util";
import { benchData } from "./make_data.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    engine: { type: "string", default: "wasm" },
  },
  allowPositionals: true,
});
const file = positionals[0] ?? (await benchData("dnstap")).path;
const runs = Number(values.runs);
const engine = values.engine;
const root = new URL("..", import.meta.url).pathname;

interface Timing {
  wall: number;
  inner: number;
}

const decoder = new TextDecoder();

async function time(
  args: string[],
  inner: (out: string) => number,
): Promise<Timing> {
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  const out = decoder.decode(stdout);
  if (code !== 0) {
    throw new Error(
      `${args.join(" ")} exited ${code}: ${decoder.decode(stderr)}`,
    );
  }
  return { wall, inner: inner(out) };
}

const bulk = () =>
  time(
    [
      "run",
      "--allow-read",
      "bench/read_fstrm.ts",
      "--engine",
      engine,
      "--api",
      "callback",
      file,
    ],
    (out) => Number(/elapsed_s=([\d.]+)/.exec(out)?.[1] ?? NaN),
  );
const stats = () =>
  time(
    [
      "run",
      "--allow-read",
      "cli.ts",
      "stats",
      "--json",
      "--engine",
      engine,
      file,
    ],
    (out) => Number(JSON.parse(out).seconds),
  );

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(`file ${file}, engine ${engine}, ${runs} runs each (alternating)`);
await bulk();
await stats();
const a: Timing[] = [];
const b: Timing[] = [];
for (let i = 0; i < runs; i++) {
  // Alternate which goes first, so that neither always follows the other.
  if (i % 2 === 0) {
    a.push(await bulk());
    b.push(await stats());
  } else {
    b.push(await stats());
    a.push(await bulk());
  }
  console.log(
    `run ${i + 1}: forEachFrame ${a[i]!.wall.toFixed(3)} s (reading ${
      a[i]!.inner.toFixed(3)
    } s), stats ${b[i]!.wall.toFixed(3)} s (reading ${
      b[i]!.inner.toFixed(3)
    } s)`,
  );
}
const aw = median(a.map((t) => t.wall));
const bw = median(b.map((t) => t.wall));
const ai = median(a.map((t) => t.inner));
const bi = median(b.map((t) => t.inner));
console.log("");
console.log("| | forEachFrame (read_fstrm.ts) | fstrm stats | ratio |");
console.log("|---|---:|---:|---:|");
console.log(
  `| wall clock, median | ${aw.toFixed(3)} s | ${bw.toFixed(3)} s | ${
    (bw / aw).toFixed(2)
  } |`,
);
console.log(
  `| reading, median | ${ai.toFixed(3)} s | ${bi.toFixed(3)} s | ${
    (bi / ai).toFixed(2)
  } |`,
);
