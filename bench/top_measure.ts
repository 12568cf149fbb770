// Whole-process time of `fstrm top -r FILE` (each engine, on one thread and
// on two) against the Go tool's `dnstap -r FILE -q > /dev/null`,
// interleaved in rounds so that the machine's load hits all alike. Prints
// each round (wall seconds, CPU seconds user+sys, peak RSS from
// /usr/bin/time) and, over the rounds, the median and min–max of each time
// and of the per-round ratios Go / top, one thread / two, ts / wasm (ratios
// from one round, then summarized).
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

const top = (engine: string, threads: number): [string, string[]] => [
  Deno.execPath(),
  [
    "run",
    "-A",
    cli,
    "top",
    "-r",
    path,
    "--engine",
    engine,
    "--threads",
    String(threads),
  ],
];
const commands: [string, [string, string[]]][] = [
  ["go dnstap -q", ["dnstap", ["-r", path, "-q"]]],
  ["top wasm 1t", top("wasm", 1)],
  ["top wasm 2t", top("wasm", 2)],
  ["top ts 1t", top("ts", 1)],
  ["top ts 2t", top("ts", 2)],
];

const runs = new Map<string, Run[]>(commands.map(([n]) => [n, []]));
/** Per-round ratios, by name. */
const ratios = new Map<string, number[]>();
const ratio = (name: string, x: number | null, y: number | null): void => {
  if (x === null || y === null) return;
  const xs = ratios.get(name) ?? [];
  xs.push(x / y);
  ratios.set(name, xs);
};

const f = (x: number | null, d = 2): string => x === null ? "-" : x.toFixed(d);
console.log(`${path}, ${rounds} rounds (wall s / cpu s / RSS MiB)`);
console.log(
  "round  " + commands.map(([n]) => n.padEnd(20)).join("") +
    "go/w1  go/w2  w1/w2",
);
for (let r = 1; r <= rounds; r++) {
  const got: Run[] = [];
  for (const [name, [cmd, args]] of commands) {
    const x = await run(cmd, args);
    runs.get(name)!.push(x);
    got.push(x);
  }
  const [g, w1, w2, t1, t2] = got as [Run, Run, Run, Run, Run];
  ratio("go / top wasm 1t", g.wall, w1.wall);
  ratio("go / top wasm 2t", g.wall, w2.wall);
  ratio("go / top ts 1t", g.wall, t1.wall);
  ratio("go / top ts 2t", g.wall, t2.wall);
  ratio("wasm 1t / 2t", w1.wall, w2.wall);
  ratio("ts 1t / 2t", t1.wall, t2.wall);
  ratio("ts / wasm, 1t", t1.wall, w1.wall);
  ratio("go / top wasm 1t, CPU", g.cpu, w1.cpu);
  ratio("go / top wasm 2t, CPU", g.cpu, w2.cpu);
  ratio("wasm 2t / 1t, CPU", w2.cpu, w1.cpu);
  const cell = (x: Run): string =>
    `${f(x.wall)} / ${f(x.cpu)} / ${f(x.rss, 0)}`.padEnd(20);
  console.log(
    `${String(r).padEnd(7)}${got.map(cell).join("")}${
      f(g.wall / w1.wall, 1).padEnd(7)
    }${f(g.wall / w2.wall, 1).padEnd(7)}${f(w1.wall / w2.wall)}`,
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
console.log("per-round ratios, median (min–max):");
for (const [name, xs] of ratios) {
  console.log(
    `  ${name.padEnd(24)} ${spread(xs, name.startsWith("go") ? 1 : 2)}`,
  );
}
