// Whole-process time of `fstrm top -r FILE` (each engine) against the Go
// tool's `dnstap -r FILE -q > /dev/null`, interleaved in rounds so that the
// machine's load hits all alike. Prints each round (wall seconds, CPU
// seconds user+sys, peak RSS from /usr/bin/time) and, over the rounds, the
// median and min–max of each time and of the per-round ratios Go / top and
// ts / wasm (ratios from one round, then summarized).
//
//   deno run -A bench/top_measure.ts [FILE] [ROUNDS]
//
// FILE defaults to bench/data/dnstap_real.fstrm (`deno task
// bench:dnstap-data` makes it); ROUNDS to 5.
const path = Deno.args[0] ??
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  );
const rounds = Number(Deno.args[1] ?? "5");
const cli = decodeURIComponent(new URL("../cli.ts", import.meta.url).pathname);
const TIME = "/usr/bin/time";

/** One run: wall and CPU seconds, peak RSS in MiB (null without time(1)). */
interface Run {
  wall: number;
  cpu: number | null;
  rss: number | null;
}

let haveTime = true;
try {
  Deno.statSync(TIME);
} catch {
  haveTime = false;
}

/** Runs a command with stdout to /dev/null. */
async function run(cmd: string, args: string[]): Promise<Run> {
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command(
    haveTime ? TIME : cmd,
    {
      args: haveTime ? ["-f", "@@ %U %S %M", cmd, ...args] : args,
      stdout: "null",
      stderr: "piped",
    },
  ).output();
  const wall = (performance.now() - t0) / 1000;
  const text = new TextDecoder().decode(stderr);
  if (code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")}: exit ${code}: ${text}`);
  }
  const m = /@@ ([\d.]+) ([\d.]+) (\d+)/.exec(text);
  return m === null
    ? { wall, cpu: null, rss: null }
    : { wall, cpu: Number(m[1]) + Number(m[2]), rss: Number(m[3]) / 1024 };
}

const top = (engine: string): [string, string[]] => [
  Deno.execPath(),
  ["run", "-A", cli, "top", "-r", path, "--engine", engine],
];
const commands: [string, [string, string[]]][] = [
  ["go dnstap -q", ["dnstap", ["-r", path, "-q"]]],
  ["top wasm", top("wasm")],
  ["top ts", top("ts")],
];

const runs = new Map<string, Run[]>(commands.map(([n]) => [n, []]));
const goWasm: number[] = [];
const goTs: number[] = [];
const tsWasm: number[] = [];
const cpuGoWasm: number[] = [];

const f = (x: number | null, d = 2): string => x === null ? "-" : x.toFixed(d);
console.log(`${path}, ${rounds} rounds (wall s / cpu s / RSS MiB)`);
console.log(
  "round  go -q               top wasm            top ts              go/wasm  go/ts  ts/wasm",
);
for (let r = 1; r <= rounds; r++) {
  const got: Run[] = [];
  for (const [name, [cmd, args]] of commands) {
    const x = await run(cmd, args);
    runs.get(name)!.push(x);
    got.push(x);
  }
  const [g, w, t] = got as [Run, Run, Run];
  goWasm.push(g.wall / w.wall);
  goTs.push(g.wall / t.wall);
  tsWasm.push(t.wall / w.wall);
  if (g.cpu !== null && w.cpu !== null) cpuGoWasm.push(g.cpu / w.cpu);
  const cell = (x: Run): string =>
    `${f(x.wall)} / ${f(x.cpu)} / ${f(x.rss, 0)}`.padEnd(20);
  console.log(
    `${String(r).padEnd(7)}${cell(g)}${cell(w)}${cell(t)}${
      f(g.wall / w.wall, 1).padEnd(9)
    }${f(g.wall / t.wall, 1).padEnd(7)}${f(t.wall / w.wall)}`,
  );
}

/** Median (the lower middle) with min and max. */
function spread(xs: number[], digits = 2): string {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[(s.length - 1) >> 1]!.toFixed(digits)} (${
    s[0]!.toFixed(digits)
  }–${s[s.length - 1]!.toFixed(digits)})`;
}

console.log("\nmedian (min–max) over the rounds:");
for (const [name] of commands) {
  const xs = runs.get(name)!;
  const cpu = xs.map((x) => x.cpu).filter((x) => x !== null);
  const rss = xs.map((x) => x.rss).filter((x) => x !== null);
  console.log(
    `  ${name.padEnd(14)} wall ${spread(xs.map((x) => x.wall))} s` +
      (cpu.length > 0 ? `, cpu ${spread(cpu)} s` : "") +
      (rss.length > 0 ? `, RSS ${spread(rss, 0)} MiB` : ""),
  );
}
console.log(`  go / top wasm  ${spread(goWasm, 1)}`);
console.log(`  go / top ts    ${spread(goTs, 1)}`);
console.log(`  ts / wasm      ${spread(tsWasm)}`);
if (cpuGoWasm.length > 0) {
  console.log(`  go / top wasm, CPU time  ${spread(cpuGoWasm, 1)}`);
}
