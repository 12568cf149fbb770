// `fstrm dnstap` against the Go `dnstap` tool (golang-dnstap 0.4), whole
// processes, and the dnstap and DNS paths in process.
//
//   deno task bench:dnstap [--runs N] [--flags -q,-y,-j] [--files real,unbound]
//     [--threads default,1] [--in-process yes|no|only] [--baseline DIR]
//
// Files (written first if missing, see bench/make_dnstap_data.ts):
//   real     bench/data/dnstap_real.fstrm: the four real-server captures
//            (knot, bind, unbound, dnsdist) repeated, 1,000,262 messages
//   unbound  bench/data/dnstap_unbound.fstrm: the unbound capture repeated,
//            1,000,005 messages (what issue 13 measured the Go tool on)
//
// For each file and flag, N rounds (default 3), each running the Go tool
// then ours once per --threads setting (default: ours with its default
// threads, then with --threads 1), one after the other, all with stdout to
// /dev/null the same way (`dnstap -r FILE FLAG` and `deno run --allow-read
// --allow-write --allow-net --allow-env --allow-run cli.ts dnstap -r FILE
// FLAG [--threads N]`, the command `deno task fstrm` runs; `deno run` does
// not type-check). The ratio of a round is the Go time over ours in that
// round; the table gives, per setting, the median time of each, the median
// ratio with its min and max over the rounds, the median CPU time (user +
// sys) and the peak RSS of each (`/usr/bin/time -v`, max over the rounds).
//
// --baseline DIR: also runs DIR/cli.ts (another checkout, say main's as
// `git archive main | tar -x -C DIR`) in each round, after the Go tool and
// before ours, as a setting of its own ("baseline", its default threads).
//
// In process (one run over the whole real file, loaded in memory first):
// decodeDnstap of every frame (objects built), parseDnsMessage(...).question
// of every record's DNS message, the quiet line from the bytes (the CLI's -q
// path), and decode + formatDnstapQuiet / Yaml / Json.
//
// Default run (3 rounds, both files, all flags, in process): about 10
// minutes on the 2-core machine of docs/benchmarks.md, nearly all of it the
// Go tool's -y and -j (35 to 55 s a run on these files). `--runs 1` takes
// about 4 minutes.
import { arg } from "./_util.ts";
import {
  DNSTAP_REAL_PATH,
  DNSTAP_UNBOUND_PATH,
  makeDnstapRealData,
  makeDnstapUnboundData,
} from "./make_dnstap_data.ts";
import { decodeFrames } from "../mod.ts";
import {
  decodeDnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
} from "../src/dnstap.ts";
import { parseDnsMessage } from "../src/dns.ts";
import { QUIET_LINE_MAX, quietLineInto } from "../src/_dnstap_quiet_fast.ts";

const GO = "/usr/bin/dnstap";
const CLI = decodeURIComponent(new URL("../cli.ts", import.meta.url).pathname);
const DENO_ARGS = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  CLI,
  "dnstap",
];

const runs = Number(arg("runs", "3"));
const flags = arg("flags", "-q,-y,-j").split(",");
const files = arg("files", "real,unbound").split(",");
const inProcess = arg("in-process", "yes");
const baseline = arg("baseline", "");
const threads = arg("threads", "default,1").split(",");
// Each setting: a label, the cli.ts to run, the --threads to give.
const settings: [string, string, string][] = [
  ...(baseline === "" ? [] : [[
    "baseline",
    `${baseline.replace(/\/$/, "")}/cli.ts`,
    "default",
  ] as [string, string, string]]),
  ...threads.map((t): [string, string, string] => [t, CLI, t]),
];

/** One timed child: wall and CPU seconds, peak RSS in KiB (-1 if unknown). */
interface Timed {
  seconds: number;
  cpu: number;
  rssKiB: number;
}

let haveTime: boolean | null = null;

/** Runs `cmd args` with stdout to /dev/null; its wall time and peak RSS. */
async function run(cmd: string, args: string[]): Promise<Timed> {
  if (haveTime === null) {
    haveTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
  }
  const [c, a] = haveTime ? ["/usr/bin/time", ["-v", cmd, ...args]] : [
    cmd,
    args,
  ];
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command(c, {
    args: a,
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const err = new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${err}`);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  const user = /User time \(seconds\): ([\d.]+)/.exec(err);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(err);
  return {
    seconds,
    cpu: user === null || sys === null ? NaN : Number(user[1]) + Number(sys[1]),
    rssKiB: m === null ? -1 : Number(m[1]),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const mib = (kib: number): string =>
  kib < 0 ? "n/a" : `${Math.round(kib / 1024)} MiB`;

const PATHS: Record<string, () => Promise<string>> = {
  real: async () => (await makeDnstapRealData(), DNSTAP_REAL_PATH),
  unbound: async () => (await makeDnstapUnboundData(), DNSTAP_UNBOUND_PATH),
};

const rows: string[] = [];
if (inProcess !== "only") {
  for (const name of files) {
    const make = PATHS[name];
    if (make === undefined) throw new Error(`unknown file ${name}`);
    const path = await make();
    for (const flag of flags) {
      const go: Timed[] = [];
      const ours: Timed[][] = settings.map(() => []);
      for (let i = 0; i < runs; i++) {
        go.push(await run(GO, ["-r", path, flag]));
        let line = `${name} ${flag} round ${i + 1}: Go ${
          go[i]!.seconds.toFixed(2)
        } s`;
        for (const [k, [label, cli, t]] of settings.entries()) {
          const extra = t === "default" ? [] : ["--threads", t];
          ours[k]!.push(
            await run(Deno.execPath(), [
              ...DENO_ARGS.slice(0, -2),
              cli,
              "dnstap",
              "-r",
              path,
              flag,
              ...extra,
            ]),
          );
          line += `, ${
            label === "baseline" ? "baseline" : "ours"
          } (threads ${t}) ${ours[k]![i]!.seconds.toFixed(2)} s`;
        }
        console.error(line);
      }
      for (const [k, [label]] of settings.entries()) {
        const mine = ours[k]!;
        const ratios = go.map((g, i) => g.seconds / mine[i]!.seconds);
        rows.push(
          `| ${flag} | ${name} | ${label} | ${
            median(go.map((t) => t.seconds)).toFixed(2)
          } | ${median(mine.map((t) => t.seconds)).toFixed(2)} | ${
            median(ratios).toFixed(1)
          }x [${Math.min(...ratios).toFixed(1)}–${
            Math.max(...ratios).toFixed(1)
          }] | ${median(go.map((t) => t.cpu)).toFixed(2)} | ${
            median(mine.map((t) => t.cpu)).toFixed(2)
          } | ${mib(Math.max(...go.map((t) => t.rssKiB)))} | ${
            mib(Math.max(...mine.map((t) => t.rssKiB)))
          } |`,
        );
      }
    }
  }
  console.log(
    `\nWhole processes, ${runs} round(s), stdout to /dev/null:\n\n` +
      "| flag | file | our threads | Go s (median) | ours s (median) | Go/ours median [min–max] | Go CPU s | ours CPU s | Go peak RSS | ours peak RSS |\n" +
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" +
      rows.join("\n"),
  );
}

if (inProcess !== "no") {
  const path = await PATHS.real!();
  const file = await Deno.readFile(path);
  const frames: Uint8Array[] = [];
  for (const f of decodeFrames(file)) {
    if (f.kind === "data") frames.push(f.data);
  }
  const n = frames.length;
  const rate = (what: string, count: number, ms: number): void => {
    console.log(
      `| ${what} | ${count.toLocaleString("en-US")} | ${
        (ms / 1000).toFixed(2)
      } | ${Math.round(count / ms * 1000).toLocaleString("en-US")} | ${
        (ms * 1e6 / count).toFixed(0)
      } |`,
    );
  };
  console.log(
    `\nIn process, ${path.split("/").pop()} in memory (${
      n.toLocaleString("en-US")
    } records):\n\n` +
      "| what | items | s | per second | ns each |\n| --- | --- | --- | --- | --- |",
  );
  let sink = 0;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) {
    sink += decodeDnstap(frames[i]!).type === "MESSAGE" ? 1 : 0;
  }
  rate("decodeDnstap (objects built)", n, performance.now() - t0);

  const messages: Uint8Array[] = [];
  for (const f of frames) {
    const m = decodeDnstap(f).message;
    const dns = m?.responseMessage ?? m?.queryMessage;
    if (dns !== undefined) messages.push(dns);
  }
  t0 = performance.now();
  for (const m of messages) {
    sink += parseDnsMessage(m).question?.type ?? 0;
  }
  rate(
    "parseDnsMessage(...).question",
    messages.length,
    performance.now() - t0,
  );

  const out = new Uint8Array(1 << 20);
  let pos = 0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (pos > out.length - QUIET_LINE_MAX) pos = 0;
    const f = frames[i]!;
    const end = quietLineInto(f, 0, f.length, out, pos);
    pos = end >= 0 ? end : pos;
  }
  rate("quiet line from the bytes (CLI -q path)", n, performance.now() - t0);

  for (
    const [what, format] of [
      ["decodeDnstap + formatDnstapQuiet", formatDnstapQuiet],
      ["decodeDnstap + formatDnstapYaml", formatDnstapYaml],
      ["decodeDnstap + formatDnstapJson", formatDnstapJson],
    ] as const
  ) {
    t0 = performance.now();
    for (let i = 0; i < n; i++) {
      sink += format(decodeDnstap(frames[i]!))?.length ?? 0;
    }
    rate(what, n, performance.now() - t0);
  }
  if (sink === 0.5) console.log(sink);
}
