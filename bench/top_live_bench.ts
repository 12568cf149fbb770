// Does `fstrm top -u` keep up with our own writer at full speed? Per round:
// a FrameWriter (a child Deno process, runs of the file's frames as they lie,
// tryWriteRun/writeRun, FrameWriter's defaults) sends a dnstap file over a
// Unix socket, first into a null receiver (a FrameReceiver whose onRun only
// counts: the writer's ceiling), then into `fstrm top -u SOCK --json` (a
// subprocess, as a user runs it). Each writer's time runs from its connect
// to close() resolving (FINISH: the receiver has read every frame).
//
// On a machine whose cores are busy with other work the wall times (and so
// the ratio) are noise; the CPU seconds are not, and their ratio (writer /
// top) says whether top, given a core of its own, would outrun the writer.
//
// "Keeps up" means both: every frame sent is counted by top (messages =
// frames sent, no oversized drop, no connection error), and the writer's
// rate into top is at least 90 % of its rate into the null receiver in the
// same round (top never makes the writer wait much). Also printed: CPU
// seconds (user+sys) of each process and the receivers' peak RSS, from
// /proc (read just before the receiver is stopped), the writer's from its
// own process.
//
//   deno run -A bench/top_live_bench.ts [--file PATH] [--rounds N]
//       [--engine auto|wasm|ts] [--breakdown]
//
// --breakdown: where a receiving process's time goes instead, in this
// process (a receiver per round and way, the writer a child as above): a
// null receiver, then top's live scan (LiveWindowScanner with top's key
// lists, no counting) fed runs copied into its window, then read into its
// slots (readBuffers) and scanned in place. Per way: this process's CPU
// seconds (user, sys) while the writer sends, the seconds inside the scan,
// and the writer's seconds.
//
// FILE defaults to bench/data/dnstap_real.fstrm (1,000,262 real-server
// messages, 712 MB).
import { openFrameReader } from "../src/file.ts";
import { FrameReceiver } from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { arg } from "./_util.ts";
import { LiveWindowScanner } from "../src/cli/_top_live_scan.ts";
import process from "node:process";

const DNSTAP = "protobuf:dnstap.Dnstap";
const SELF = decodeURIComponent(new URL(import.meta.url).pathname);
const CLI = decodeURIComponent(new URL("../cli.ts", import.meta.url).pathname);
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Peak RSS of a process in MB (VmHWM), or NaN. */
function peakRss(pid: number | "self"): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(
      Deno.readTextFileSync(`/proc/${pid}/status`),
    );
    return m === null ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + sys) of a process so far, from /proc (100 Hz). */
function cpuSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

// Child: a null receiver; counts frames until SIGINT, then prints them.
if (Deno.args.includes("--null-receiver")) {
  let frames = 0;
  const receiver = await FrameReceiver.listen(
    { transport: "unix", path: arg("null-receiver", "") },
    {
      contentTypes: [DNSTAP],
      onRun: (_w, _s, _e, n) => {
        frames += n;
      },
    },
  );
  Deno.stderr.writeSync(enc.encode("listening\n"));
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", () => resolve());
  });
  await receiver.close();
  const s = receiver.stats;
  console.log(JSON.stringify({ frames, oversized: s.oversizedFrames }));
  Deno.exit(0);
}

// Child: the writer; sends the file's frames, prints what it did.
if (Deno.args.includes("--send")) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const writer = await FrameWriter.connect(
    { transport: "unix", path: arg("send", "") },
    { contentTypes: [DNSTAP], reconnect: false },
  );
  await using reader = await openFrameReader(arg("file", ""));
  // Time spent waiting for room in the writer's queue: the socket, and so
  // the receiver, not taking the bytes as fast as they come.
  let waited = 0;
  await reader.forEachRun((window, start, end) => {
    const run = window.subarray(start, end);
    if (writer.tryWriteRun(run)) return undefined;
    const t = performance.now();
    return writer.writeRun(run).then(() => {
      waited += performance.now() - t;
    });
  });
  await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({
    frames: writer.stats.frames,
    seconds,
    waited: waited / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    rss: peakRss("self"),
  }));
  Deno.exit(0);
}

const file = arg(
  "file",
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  ),
);
const rounds = Number(arg("rounds", "3"));
const engine = arg("engine", "auto");

/** The --breakdown measure (see the header). */
async function breakdown(): Promise<void> {
  const ways = ["null", "copy", "in place"] as const;
  const got = new Map<string, number[][]>(ways.map((w) => [w, []]));
  const dir = await Deno.makeTempDir();
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const way of ways) {
        let frames = 0;
        let inScan = 0;
        const scanner = new LiveWindowScanner(
          (_c, n) => void (frames += n),
          {
            engine: engine as "auto",
            keyOptions: { depth: 2, fold: true },
          },
        );
        const path = `${dir}/${round}.sock`;
        const receiver = await FrameReceiver.listen(
          { transport: "unix", path },
          {
            contentTypes: [DNSTAP],
            onRun: way === "null"
              ? (_w, _s, _e, n) => void (frames += n)
              : (w, s, e, n) => {
                const t = performance.now();
                scanner.onRun(w, s, e, n);
                inScan += performance.now() - t;
              },
            ...(way === "in place" ? { readBuffers: scanner.readBuffers } : {}),
          },
        );
        const cpu0 = process.cpuUsage();
        const w = await send(path);
        const cpu = process.cpuUsage(cpu0);
        await receiver.close();
        if (frames !== w.frames) {
          throw new Error(`${way}: ${frames} of ${w.frames} frames`);
        }
        const perM = 1e6 / w.frames;
        got.get(way)!.push([
          (cpu.user + cpu.system) / 1e6 * perM,
          cpu.user / 1e6 * perM,
          cpu.system / 1e6 * perM,
          inScan / 1e3 * perM,
          w.seconds * perM,
          scanner.inPlace / Math.max(1, scanner.messages),
        ]);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log(
    `${file}, ${rounds} rounds, engine ${engine}; seconds per 1 M messages, median (min–max)`,
  );
  console.log(
    "| receiving | CPU s | user s | sys s | in the scan s | writer s | rows in place |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const [way, rows] of got) {
    const cells = [0, 1, 2, 3, 4].map((k) => {
      const xs = rows.map((r) => r[k]!);
      return `${median(xs).toFixed(3)} (${spread(xs, 3)})`;
    });
    const share = median(rows.map((r) => r[5]!));
    console.log(
      `| ${way} | ${cells.join(" | ")} | ${(100 * share).toFixed(1)} % |`,
    );
  }
}

/** A receiver child running until stopped. */
interface Receiver {
  child: Deno.ChildProcess;
  stdout: Promise<Uint8Array>;
  stderr: () => string;
}

async function startReceiver(args: string[]): Promise<Receiver> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).bytes();
  let err = "";
  void (async () => {
    for await (const c of child.stderr) err += dec.decode(c, { stream: true });
  })();
  for (let i = 0; !/listening/.test(err); i++) {
    if (i > 1000) throw new Error(`the receiver did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, stdout, stderr: () => err };
}

interface WriterRun {
  frames: number;
  seconds: number;
  waited: number;
  cpu: number;
  rss: number;
}

async function send(path: string): Promise<WriterRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SELF, "--send", path, "--file", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(dec.decode(out.stderr));
  return JSON.parse(dec.decode(out.stdout));
}

/** Stops a receiver (SIGINT) after reading its CPU and RSS. */
async function stop(
  r: Receiver,
): Promise<{ cpu: number; rss: number; out: string }> {
  const pid = r.child.pid;
  const cpu = cpuSeconds(pid);
  const rss = peakRss(pid);
  r.child.kill("SIGINT");
  const status = await r.child.status;
  const out = dec.decode(await r.stdout);
  if (status.code !== 0) throw new Error(`exit ${status.code}: ${r.stderr()}`);
  return { cpu, rss, out };
}

interface Round {
  nullRate: number;
  topRate: number;
  ratio: number;
  nullWaited: number;
  topWaited: number;
  counted: boolean;
  topCpu: number;
  topRss: number;
  nullCpu: number;
  writerCpu: number;
  writerRss: number;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const spread = (xs: number[], digits: number): string =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

if (Deno.args.includes("--breakdown")) {
  await breakdown();
  Deno.exit(0);
}

const dir = await Deno.makeTempDir();
const results: Round[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    // The writer into the null receiver.
    const nullPath = `${dir}/null.sock`;
    const nul = await startReceiver([
      "run",
      "-A",
      SELF,
      "--null-receiver",
      nullPath,
    ]);
    const w0 = await send(nullPath);
    const n = await stop(nul);
    const nullOut = JSON.parse(n.out) as { frames: number };
    if (nullOut.frames !== w0.frames) {
      throw new Error(`null receiver: ${nullOut.frames} of ${w0.frames}`);
    }
    // The writer into fstrm top.
    const topPath = `${dir}/top.sock`;
    const top = await startReceiver([
      "run",
      "-A",
      CLI,
      "top",
      "-u",
      topPath,
      "--json",
      "--engine",
      engine,
    ]);
    const w1 = await send(topPath);
    const t = await stop(top);
    const report = JSON.parse(t.out) as {
      messages: number;
      dropped: number;
      engine: string;
      live: {
        frames: number;
        connections: { protocolErrors: number; ioErrors: number };
      };
    };
    const counted = report.messages === w1.frames &&
      report.live.frames === w1.frames && report.dropped === 0 &&
      report.live.connections.protocolErrors === 0 &&
      report.live.connections.ioErrors === 0;
    const r: Round = {
      nullRate: w0.frames / w0.seconds,
      topRate: w1.frames / w1.seconds,
      ratio: (w1.frames / w1.seconds) / (w0.frames / w0.seconds),
      nullWaited: w0.waited / w0.seconds,
      topWaited: w1.waited / w1.seconds,
      counted,
      topCpu: t.cpu,
      topRss: t.rss,
      nullCpu: n.cpu,
      writerCpu: w1.cpu,
      writerRss: w1.rss,
    };
    results.push(r);
    console.log(
      `round ${round}: ${w1.frames} frames; writer -> null ${
        (r.nullRate / 1e3).toFixed(0)
      } k/s (${w0.seconds.toFixed(2)} s), -> top ${
        (r.topRate / 1e3).toFixed(0)
      } k/s (${w1.seconds.toFixed(2)} s), ratio ${
        r.ratio.toFixed(2)
      }; writer waiting ${(100 * r.nullWaited).toFixed(0)} % / ${
        (100 * r.topWaited).toFixed(0)
      } % of its time; top ${
        counted ? "counted all" : `counted ${report.messages}`
      } (engine ${report.engine}), CPU ${t.cpu.toFixed(2)} s, RSS ${
        t.rss.toFixed(0)
      } MB; null receiver CPU ${n.cpu.toFixed(2)} s; writer CPU ${
        w1.cpu.toFixed(2)
      } s, RSS ${w1.rss.toFixed(0)} MB`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}

const col = (f: (r: Round) => number) => results.map(f);
const rows: [string, number[], number][] = [
  ["writer -> null receiver, k messages/s", col((r) => r.nullRate / 1e3), 0],
  ["writer -> fstrm top -u, k messages/s", col((r) => r.topRate / 1e3), 0],
  ["ratio (top / null, per round)", col((r) => r.ratio), 2],
  [
    "writer share of time waiting for queue room, into null",
    col((r) => r.nullWaited),
    2,
  ],
  [
    "writer share of time waiting for queue room, into top",
    col((r) => r.topWaited),
    2,
  ],
  ["fstrm top CPU s (user+sys)", col((r) => r.topCpu), 2],
  [
    "CPU ratio (writer / top, per round; >= 1: top keeps up on a core of its own)",
    col((r) => r.writerCpu / r.topCpu),
    2,
  ],
  ["fstrm top peak RSS MB", col((r) => r.topRss), 0],
  ["null receiver CPU s", col((r) => r.nullCpu), 2],
  ["writer CPU s (into top)", col((r) => r.writerCpu), 2],
  ["writer peak RSS MB", col((r) => r.writerRss), 0],
];
console.log(`\n${file}, ${rounds} rounds, engine ${engine}`);
console.log("| measure | median | min–max |");
console.log("| --- | ---: | ---: |");
for (const [name, xs, d] of rows) {
  console.log(`| ${name} | ${median(xs).toFixed(d)} | ${spread(xs, d)} |`);
}
const keeps = results.every((r) => r.counted) &&
  median(col((r) => r.ratio)) >= 0.9;
console.log(
  `\nkeeps up: ${keeps ? "yes" : "no"} (every frame counted in ${
    results.filter((r) => r.counted).length
  }/${results.length} rounds; median rate ratio ${
    median(col((r) => r.ratio)).toFixed(2)
  }, 0.9 needed)`,
);
