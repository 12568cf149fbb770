// File readers side by side: the C readers of peers/ (c-tight-read, the
// upper bound; c-libfstrm, the reference library) and ours through
// bench/read_fstrm.ts in each of its ways to take frames, on the benchmark
// files of bench/make_data.ts (written first when missing). Each reader is a
// whole process, timed from spawn to exit.
//
//   deno task bench:read [--runs N] [--files dnstap,small,large]
//     [--only REGEX] [--reader "NAME=COMMAND ARGS..."] [--verify-only]
//     [--json PATH]
//
//   --runs N       timed rounds (default 5), after a warm-up round
//   --files LIST   which bench/data/NAME.fstrm (default dnstap)
//   --only REGEX   only the readers whose name matches (the C readers the
//                  ratios need are kept)
//   --reader       one more reader, repeatable; the file path is appended
//   --verify-only  only the cross-check
//   --json PATH    also write every run's times there (bench/results/ is
//                  git-ignored)
//
// First every reader runs once on each file, as a cross-check: its first
// stdout line must be the file's summary line (bench/data/NAME.expected:
// frame count, payload bytes and a checksum of both ends of every payload,
// see peers/README.md), or nothing is timed. Then, per file: the file is
// dropped from the page cache (dd iflag=nocache, that file only) and read
// back whole, so that every run starts from the same warm cache; a warm-up
// round; the timed rounds. Each round runs every reader once, in an order
// rotated from round to round, and checks the line again.
//
// The table gives, per reader: the median wall time and its min–max, frames/s
// and MB/s (10^6 bytes of file) from the median, the reader's own time from
// open to the last frame (its `elapsed_s`, median), and the ratio to
// c-libfstrm and to c-tight-read: the median, over the rounds, of this
// reader's time divided by the reference's time in the same round (min–max
// in brackets). Compare readers through these ratios: the machine's speed
// drifts between runs, and a round moves both sides of its ratio alike.
import { parseArgs } from "node:util";
import { compilePeer } from "../tests/_peers.ts";
import { BENCH_DATA, benchData, type BenchDataName } from "./make_data.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    files: { type: "string", default: "dnstap" },
    only: { type: "string" },
    reader: { type: "string", multiple: true, default: [] },
    "verify-only": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  const text = await Deno.readTextFile(new URL(import.meta.url));
  console.log(text.split("\n").slice(0, 18).join("\n"));
  Deno.exit(0);
}

/** A reader: a command the file path is appended to. */
interface Reader {
  name: string;
  cmd: string;
  args: string[];
}

/** One run of a reader. */
interface Run {
  wall: number;
  inner: number;
}

const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`read_bench: --runs must be a positive integer`);
  Deno.exit(2);
}
const files = values.files.split(/[,\s]+/).filter((f) => f !== "");
for (const f of files) {
  if (!(f in BENCH_DATA)) {
    console.error(
      `read_bench: unknown file ${f} (${Object.keys(BENCH_DATA).join(", ")})`,
    );
    Deno.exit(2);
  }
}

const REFERENCES = ["c-libfstrm", "c-tight-read"];
const tight = await compilePeer("read_tight");
const libfstrm = await compilePeer("read_libfstrm");
const deno = Deno.execPath();
const ours = decodeURIComponent(
  new URL("read_fstrm.ts", import.meta.url).pathname,
);
const our = (name: string, ...args: string[]): Reader => ({
  name,
  cmd: deno,
  args: ["run", "--allow-read", ours, ...args],
});
let readers: Reader[] = [
  { name: "c-tight-read", cmd: tight, args: ["-m", "read"] },
  { name: "c-tight-mmap", cmd: tight, args: ["-m", "mmap"] },
  { name: "c-libfstrm", cmd: libfstrm, args: [] },
  our("deno forEachFrame ts", "--engine", "ts", "--api", "callback"),
  our("deno forEachFrame wasm", "--engine", "wasm", "--api", "callback"),
  our("deno forEachRun", "--api", "run"),
  our("deno batches()", "--api", "batches", "--copy"),
  our("deno batches() reuseWindow:true", "--api", "batches"),
  our("deno for await", "--api", "iterator", "--copy"),
  our("deno for await reuseWindow:true", "--api", "iterator"),
  our("deno for await (no options)", "--api", "default"),
];
for (const spec of values.reader) {
  const at = spec.indexOf("=");
  const [cmd, ...args] = spec.slice(at + 1).trim().split(/\s+/);
  if (at <= 0 || cmd === undefined || cmd === "") {
    console.error(`read_bench: --reader wants NAME=COMMAND, got ${spec}`);
    Deno.exit(2);
  }
  readers.push({ name: spec.slice(0, at), cmd, args });
}
if (values.only !== undefined) {
  const only = new RegExp(values.only);
  readers = readers.filter((r) =>
    only.test(r.name) || REFERENCES.includes(r.name)
  );
}

const text = new TextDecoder();

/** Runs `reader` on `path`: its times, or an error naming what it printed. */
async function runOnce(
  reader: Reader,
  path: string,
  expected: string,
): Promise<Run> {
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(reader.cmd, {
    args: [...reader.args, path],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const wall = (performance.now() - t0) / 1000;
  const lines = text.decode(stdout).split("\n");
  if (code !== 0 || lines[0] !== expected) {
    throw new Error(
      `${reader.name} on ${path}: exit ${code}, printed "${lines[0]}", ` +
        `expected "${expected}"; stderr: ${text.decode(stderr).trim()}`,
    );
  }
  const inner = Number(/elapsed_s=([\d.]+)/.exec(lines[1] ?? "")?.[1] ?? NaN);
  return { wall, inner };
}

/** Drops `path` from the page cache (if dd can) and reads it back whole. */
async function recache(path: string): Promise<void> {
  try {
    await new Deno.Command("dd", {
      args: [`if=${path}`, "iflag=nocache", "count=0", "status=none"],
      stdout: "null",
      stderr: "null",
    }).output();
  } catch {
    // No dd: the file stays as cached as it is.
  }
  using file = await Deno.open(path);
  const buffer = new Uint8Array(1 << 20);
  while (file.readSync(buffer) !== null);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const rate = (x: number): string =>
  x >= 1e6
    ? `${(x / 1e6).toFixed(2)} M`
    : x >= 1e3
    ? `${(x / 1e3).toFixed(1)} k`
    : x.toFixed(0);

const version = Deno.version.deno;
console.error(
  `# read_bench ${
    new Date().toISOString().slice(0, 16)
  }Z, ${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.osRelease()}, deno ${version}`,
);

// Data and cross-check (the warm-up round).
const data = new Map<
  string,
  { path: string; expected: string; size: number }
>();
let mismatches = 0;
console.error("cross-check against bench/data/NAME.expected:");
for (const f of files) {
  const file = await benchData(f as BenchDataName);
  data.set(f, file);
  await recache(file.path);
  for (const reader of readers) {
    try {
      await runOnce(reader, file.path, file.expected);
      console.error(`  OK        ${f} ${reader.name}`);
    } catch (error) {
      console.error(`  MISMATCH  ${(error as Error).message}`);
      mismatches++;
    }
  }
}
if (mismatches > 0) {
  console.error(`read_bench: ${mismatches} mismatches, nothing timed`);
  Deno.exit(1);
}
if (values["verify-only"]) Deno.exit(0);

console.log(
  "| file | reader | wall median s (min–max) | frames/s | MB/s | in-process median s | ×c-libfstrm (min–max) | ×c-tight-read (min–max) |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
const raw: Record<string, Record<string, Run[]>> = {};
for (const f of files) {
  const { path, expected, size } = data.get(f)!;
  const frames = Number(/frames=(\d+)/.exec(expected)![1]);
  await recache(path);
  // One warm-up run of each on the re-read file, not counted.
  for (const reader of readers) await runOnce(reader, path, expected);
  const results = new Map<string, Run[]>(readers.map((r) => [r.name, []]));
  for (let round = 0; round < runs; round++) {
    console.error(`timing ${f}: round ${round + 1} of ${runs}`);
    for (let i = 0; i < readers.length; i++) {
      const reader = readers[(i + round) % readers.length]!;
      results.get(reader.name)!.push(await runOnce(reader, path, expected));
    }
  }
  raw[f] = Object.fromEntries(results);
  const rows = readers.map((reader) => {
    const own = results.get(reader.name)!;
    const walls = own.map((r) => r.wall);
    const ratios = REFERENCES.map((ref) => {
      const theirs = results.get(ref);
      if (theirs === undefined) return "–";
      const each = own.map((r, i) => r.wall / theirs[i]!.wall);
      return `${median(each).toFixed(2)} (${Math.min(...each).toFixed(2)}–${
        Math.max(...each).toFixed(2)
      })`;
    });
    return { reader, walls, inner: own.map((r) => r.inner), ratios };
  }).sort((a, b) => median(a.walls) - median(b.walls));
  for (const { reader, walls, inner, ratios } of rows) {
    const m = median(walls);
    const innerMedian = median(inner);
    console.log(
      `| ${f} | ${reader.name} | ${m.toFixed(3)} (${
        Math.min(...walls).toFixed(3)
      }–${Math.max(...walls).toFixed(3)}) | ${rate(frames / m)} | ${
        (size / m / 1e6).toFixed(0)
      } | ${Number.isNaN(innerMedian) ? "–" : innerMedian.toFixed(3)} | ${
        ratios.join(" | ")
      } |`,
    );
  }
}
if (values.json !== undefined) {
  const meta = { date: new Date().toISOString(), deno: version, runs };
  const dir = values.json.slice(0, values.json.lastIndexOf("/") + 1);
  if (dir !== "") await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ ...meta, results: raw }, null, 1) + "\n",
  );
}
console.log(
  `\n(${runs} rounds after a warm-up, each reader a whole process; wall includes start-up; ×REF = median over rounds of this reader's time / REF's time in the same round)`,
);
