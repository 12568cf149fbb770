// `fstrm stats FILE` as a whole process against the hand-written C loop
// (peers/read_tight.c, `-m read`, 1 MiB reads) and against the bulk API's
// own time, a bare forEachFrame loop (bench/read_fstrm.ts --api callback),
// on the same file: each a subprocess, run in rounds, the order rotating
// from round to round so that none always follows another. Prints each
// round, then per reader the median and min–max of its wall time and of
// its ratio to read_tight in the same round. The target (issue 14): stats
// within 1.5 times read_tight's time.
//
//   deno run -A \
//     bench/cli_stats_bench.ts [--runs N] [--engine auto|wasm|ts]
//       [--tree DIR]... [FILE]
//
// --tree DIR adds `fstrm stats` of another checkout (its cli.ts), say the
// tree before a change, to the same rounds.
//
// FILE defaults to bench/data/dnstap.fstrm (5,000,000 frames of 80 to 400
// bytes, 1.22 GB), written by bench/make_data.ts first when missing. Three
// times are taken per run: wall clock around the whole subprocess (Deno's
// start-up included); its CPU time, user + system, every thread (bash's
// `times` after it: less sensitive than wall clock to a machine shared with
// other work); and the reading time each one reports itself (read_tight's
// and read_fstrm's elapsed_s, stats' "bytes in S s", each from open to the
// end of the reading). A warm-up round (which brings the file
// into the page cache) is not counted. Every reader must report the same
// frame count.
import { parseArgs } from "node:util";
import { benchData } from "./make_data.ts";
import { compilePeer } from "../tests/_peers.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    engine: { type: "string", default: "auto" },
    tree: { type: "string", multiple: true, default: [] },
  },
  allowPositionals: true,
});
const file = positionals[0] ?? (await benchData("dnstap")).path;
const runs = Number(values.runs);
const engine = values.engine;
const root = new URL("..", import.meta.url).pathname;
const tight = await compilePeer("read_tight");

interface Timing {
  wall: number;
  cpu: number;
  inner: number;
  frames: number;
}

interface Reader {
  name: string;
  cmd: string;
  args: string[];
  /** The reading time and frame count from its stdout. */
  parse(out: string): { inner: number; frames: number };
}

const decoder = new TextDecoder();

/** `frames=N ... elapsed_s=S`, the peers' reader contract. */
function contract(out: string): { inner: number; frames: number } {
  return {
    inner: Number(/elapsed_s=([\d.]+)/.exec(out)?.[1] ?? NaN),
    frames: Number(/frames=(\d+)/.exec(out)?.[1] ?? NaN),
  };
}

/** `fstrm stats` of the checkout at `dir`, named `name`. */
function statsOf(name: string, dir: string): Reader {
  return {
    name,
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-read",
      `${dir}/cli.ts`,
      "stats",
      "--engine",
      engine,
      file,
    ],
    parse: (out) => ({
      inner: Number(/bytes in ([\d.]+) s/.exec(out)?.[1] ?? NaN),
      frames: Number(
        (/data frames +([\d,]+)/.exec(out)?.[1] ?? "NaN").replaceAll(",", ""),
      ),
    }),
  };
}

const READERS: Reader[] = [
  {
    name: "c-tight-read (peers/read_tight.c)",
    cmd: tight,
    args: ["-m", "read", "-t", "", file],
    parse: contract,
  },
  {
    name: `forEachFrame (read_fstrm.ts), ${engine}`,
    cmd: Deno.execPath(),
    args: [
      "run",
      "--allow-read",
      "bench/read_fstrm.ts",
      "--engine",
      engine,
      "--api",
      "callback",
      file,
    ],
    parse: contract,
  },
  statsOf(`fstrm stats, ${engine}`, "."),
  ...values.tree.map((dir) => statsOf(`fstrm stats of ${dir}, ${engine}`, dir)),
];

async function time(reader: Reader): Promise<Timing> {
  const t0 = performance.now();
  // bash's `times`: its own user and system time, then its children's.
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: ["-c", '"$@"; status=$?; times >&2; exit $status', "_", reader.cmd]
      .concat(reader.args),
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) {
    throw new Error(
      `${reader.name} exited ${code}: ${decoder.decode(stderr)}`,
    );
  }
  const times = decoder.decode(stderr).trimEnd().split("\n").at(-1) ?? "";
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(times);
  if (m === null) throw new Error(`${reader.name}: no times in ${times}`);
  const cpu = 60 * Number(m[1]) + Number(m[2]) + 60 * Number(m[3]) +
    Number(m[4]);
  return { wall, cpu, ...reader.parse(decoder.decode(stdout)) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const spread = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${
    Math.max(...xs).toFixed(digits)
  })`;

console.log(
  `file ${file}, engine ${engine}, ${runs} rounds (order rotating), ` +
    `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
for (const reader of READERS) await time(reader); // warm-up
const results: Timing[][] = READERS.map(() => []);
for (let round = 0; round < runs; round++) {
  for (let k = 0; k < READERS.length; k++) {
    const i = (round + k) % READERS.length;
    results[i]!.push(await time(READERS[i]!));
  }
  const frames = new Set(results.map((r) => r[round]!.frames));
  if (frames.size !== 1 || frames.has(NaN)) {
    throw new Error(`round ${round + 1}: frame counts differ: ${[...frames]}`);
  }
  console.log(
    `round ${round + 1}: ` +
      READERS.map((r, i) =>
        `${r.name.split(/,| \(/)[0]} ${results[i]![round]!.wall.toFixed(3)} s`
      ).join(", "),
  );
}
const ref = results[0]!;
console.log("");
console.log(
  "| reader | wall s, median (min–max) | ×c-tight-read, wall | CPU s (user + sys) | ×c-tight-read, CPU | reading s, median |",
);
console.log("|---|---:|---:|---:|---:|---:|");
READERS.forEach((reader, i) => {
  const r = results[i]!;
  const wall = r.map((t, round) => t.wall / ref[round]!.wall);
  const cpu = r.map((t, round) => t.cpu / ref[round]!.cpu);
  console.log(
    `| ${reader.name} | ${spread(r.map((t) => t.wall), 3)} | ${
      spread(wall, 2)
    } | ${spread(r.map((t) => t.cpu), 3)} | ${spread(cpu, 2)} | ${
      median(r.map((t) => t.inner)).toFixed(3)
    } |`,
  );
});
console.log(
  `\nload average after: ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
