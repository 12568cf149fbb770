// End-to-end benchmark of `fstrm capture` against fstrm_capture, each as the
// receiver of fstrm_replay (libfstrm, one sendmsg per frame), over a Unix
// socket and TCP on 127.0.0.1, on the same file, the two receivers run
// alternately. For each run: the wall time of fstrm_replay (it exits after
// FINISH, so after the receiver has read every frame), the receiver's CPU
// time and peak RSS (from /proc, read just before it is stopped), and a
// check that the file it wrote holds every frame (byte for byte the input,
// when the input's START names the same content type).
//
//   deno run -A bench/cli_capture_bench.ts [--file PATH] [--frames N]
//       [--runs N] [--transport unix|tcp|both] [--out DIR]
//
// --file defaults to bench/data/dnstap.fstrm (bench/make_data.ts, written
// first when missing). --frames N replays only the first N frames of the
// file (copied to a temp file). --out is where the receivers write (default:
// a temp dir); each output is removed after its run.
import { ControlType, encodeControlFrame } from "../mod.ts";
import { openFrameReader } from "../src/file.ts";
import { benchData } from "./make_data.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";
const CLI = new URL("../cli.ts", import.meta.url).pathname;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : fallback;
}

const runs = Number(arg("runs", "3"));
const transports = arg("transport", "both") === "both"
  ? ["unix", "tcp"] as const
  : [arg("transport", "unix") as "unix" | "tcp"];
const dir = await Deno.makeTempDir({ prefix: "fstrm-capture-bench-" });
const outDir = arg("out", dir);

/** The first `n` data frames of `path`, as a file of their own. */
async function subset(path: string, n: number): Promise<string> {
  const out = `${dir}/subset.fstrm`;
  using file = await Deno.open(out, {
    write: true,
    create: true,
    truncate: true,
  });
  const chunks: Uint8Array[] = [
    encodeControlFrame(ControlType.START, [DNSTAP]),
  ];
  let size = chunks[0]!.length;
  let count = 0;
  await using reader = await openFrameReader(path);
  await reader.forEachFrame((window, offset, length) => {
    if (count >= n) return;
    count++;
    const frame = new Uint8Array(length + 4);
    new DataView(frame.buffer).setUint32(0, length);
    frame.set(window.subarray(offset, offset + length), 4);
    chunks.push(frame);
    size += frame.length;
    if (size > 8 << 20) {
      file.writeSync(concat(chunks));
      chunks.length = 0;
      size = 0;
    }
  });
  chunks.push(encodeControlFrame(ControlType.STOP));
  const bytes = concat(chunks);
  for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Data frames and payload bytes of a file, and whether it ends with STOP. */
async function countFile(
  path: string,
): Promise<{ frames: number; bytes: number; stopped: boolean }> {
  await using reader = await openFrameReader(path);
  const s = await reader.forEachFrame(() => {});
  return { frames: s.frames, bytes: s.bytes, stopped: s.stopped };
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** CPU seconds and peak RSS (MB) of a live process, from /proc. */
function procUsage(pid: number): { cpu: number; rssMB: number } {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpu, rssMB: kb / 1024 };
}

async function waitListening(
  transport: "unix" | "tcp",
  sock: string,
  port: number,
): Promise<void> {
  for (let i = 0; i < 500; i++) {
    try {
      const c = transport === "unix"
        ? await Deno.connect({ transport: "unix", path: sock })
        : await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error("the receiver never listened");
}

interface Run {
  seconds: number;
  cpu: number;
  rssMB: number;
}

async function once(
  receiver: "fstrm_capture" | "fstrm capture",
  transport: "unix" | "tcp",
  file: string,
  expected: { frames: number; bytes: number },
): Promise<Run> {
  const sock = `${dir}/bench.sock`;
  const port = freePort();
  const out = `${outDir}/bench-out.fstrm`;
  const where = transport === "unix"
    ? ["-u", sock]
    : ["-a", "127.0.0.1", "-p", `${port}`];
  const args = ["-t", DNSTAP, ...where, "-w", out];
  const child = receiver === "fstrm_capture"
    ? new Deno.Command("fstrm_capture", {
      args,
      stdout: "null",
      stderr: "null",
    }).spawn()
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "capture", ...args],
      stdout: "null",
      stderr: "null",
    }).spawn();
  try {
    await waitListening(transport, sock, port);
    const cpu0 = procUsage(child.pid).cpu;
    const t0 = performance.now();
    const { code, stderr } = await new Deno.Command("fstrm_replay", {
      args: ["-t", DNSTAP, ...where, "-r", file],
      stdout: "null",
      stderr: "piped",
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) {
      throw new Error(`fstrm_replay: ${new TextDecoder().decode(stderr)}`);
    }
    const usage = procUsage(child.pid);
    child.kill("SIGTERM");
    const status = await child.status;
    if (!status.success) {
      throw new Error(`${receiver} exited ${status.code}`);
    }
    const got = await countFile(out);
    if (
      got.frames !== expected.frames || got.bytes !== expected.bytes ||
      !got.stopped
    ) {
      throw new Error(
        `${receiver} wrote ${got.frames} frames / ${got.bytes} bytes (STOP ${got.stopped}), expected ${expected.frames} / ${expected.bytes}`,
      );
    }
    return { seconds, cpu: usage.cpu - cpu0, rssMB: usage.rssMB };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await Deno.remove(out).catch(() => {});
    await Deno.remove(sock).catch(() => {});
  }
}

const source = arg("file", "") || (await benchData("dnstap")).path;
const frames = Number(arg("frames", "0"));
const file = frames > 0 ? await subset(source, frames) : source;
const size = (await Deno.stat(file)).size;
const expected = await countFile(file);
console.log(
  `file ${source}${
    frames > 0 ? ` (first ${frames} frames)` : ""
  }: ${expected.frames} frames, ${
    (size / 1e6).toFixed(1)
  } MB; sender fstrm_replay; ${runs} runs each, alternating; median (min–max)`,
);
console.log(
  "| receiver | transport | wall s | frames/s | MB/s | receiver CPU s | peak RSS MB |",
);
console.log("|---|---|---:|---:|---:|---:|---:|");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
try {
  for (const transport of transports) {
    const results = new Map<string, Run[]>([
      ["fstrm_capture", []],
      ["fstrm capture", []],
    ]);
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first, so that neither always runs on a
      // warmer page cache.
      const order = i % 2 === 0
        ? ["fstrm_capture", "fstrm capture"] as const
        : ["fstrm capture", "fstrm_capture"] as const;
      for (const receiver of order) {
        results.get(receiver)!.push(
          await once(receiver, transport, file, expected),
        );
      }
    }
    for (const [receiver, rs] of results) {
      const wall = rs.map((r) => r.seconds);
      const m = median(wall);
      console.log(
        `| ${receiver} | ${transport} | ${m.toFixed(2)} (${
          Math.min(...wall).toFixed(2)
        }–${Math.max(...wall).toFixed(2)}) | ${
          (expected.frames / m / 1e6).toFixed(2)
        } M | ${(size / m / 1e6).toFixed(0)} | ${
          median(rs.map((r) => r.cpu)).toFixed(2)
        } | ${median(rs.map((r) => r.rssMB)).toFixed(0)} |`,
      );
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
