// End-to-end socket benchmark: fstrm_replay (libfstrm, one sendmsg per frame)
// into fstrm_capture (the C pair) and into our FrameReceiver, over a Unix
// socket and TCP, on the same file, in one run. Prints a table: wall time
// from fstrm_replay's start to its exit (it exits after FINISH, so after the
// receiver has read every frame), frames/s, MB/s of file, the peak RSS of
// this process (the receiver's side), and the ratio to the C pair as the
// median of each round's ratio (the pairs run alternately, round by round,
// so a machine whose speed drifts moves both sides of a ratio alike); then
// each round's seconds. Our FrameWriter (in a child Deno
// process, fed by a FrameReader over the same file) → our FrameReceiver is
// timed from the child's start to its exit (it exits after close(), i.e.
// after FINISH), in two ways: frame by frame (forEachFrame → tryWrite) and
// in runs of frames as the file holds them (forEachRun → tryWriteRun),
// both with FrameWriter's defaults.
//
// Two more pairs give the ceiling: the file's bytes with no framing at all,
// read and written 1 MiB at a time by a Deno child into a Deno reader that
// discards them, and the same in C (bench/pump.c, when a C compiler is
// found): nothing that frames can beat them.
//
//   deno run -A bench/socket_bench.ts [--file PATH] [--frames N] [--runs N]
//       [--transport unix|tcp|both] [--consumer iterate|data|run]
//
// --consumer: how the receiver hands frames over: async iteration of frame
// objects (the default), the zero-copy onData callback, or onRun (runs of
// frames still encoded). (The onFrame callback is gone.)
//
// Without --file it writes a dnstap-like file (the first N frames of
// bench/data/dnstap.fstrm, by bench/make_data.ts) to a temp dir.
import { FrameDecoder } from "../mod.ts";
import { openFrameReader } from "../src/file.ts";
import { FrameReceiver } from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { BENCH_DATA, writeDataFile } from "./make_data.ts";
import {
  arg,
  freePort,
  startCapture,
  stopCapture,
  timeChild,
} from "./_util.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";

/** Deno.connect to "unix:PATH" or "tcp:PORT" (on 127.0.0.1). */
function dial(spec: string): Promise<Deno.Conn> {
  const target = connectTarget(spec);
  return target.transport === "unix"
    ? Deno.connect(target)
    : Deno.connect({ hostname: target.hostname, port: target.port });
}

function connectTarget(
  spec: string,
): { transport: "unix"; path: string } | {
  transport: "tcp";
  hostname: string;
  port: number;
} {
  const [transport, where] = spec.split(/:(.*)/s);
  return transport === "unix"
    ? { transport: "unix", path: where! }
    : { transport: "tcp", hostname: "127.0.0.1", port: Number(where) };
}

// Child mode: write the file's frames with FrameWriter, then exit.
if (Deno.args.includes("--write-to")) {
  const runs = arg("sender", "frames") === "runs";
  const writer = await FrameWriter.connect(
    connectTarget(arg("write-to", "")),
    { contentTypes: [DNSTAP], reconnect: false },
  );
  await using reader = await openFrameReader(arg("file", ""));
  if (runs) {
    // Runs of frames as the file holds them: one copy per run.
    await reader.forEachRun((window, start, end) => {
      const run = window.subarray(start, end);
      return writer.tryWriteRun(run) ? undefined : writer.writeRun(run);
    });
  } else {
    // tryWrite queues (copies) the frame at once; when the queue is full,
    // the returned write() promise pauses the reader, the window intact.
    await reader.forEachFrame((window, offset, length) => {
      const payload = window.subarray(offset, offset + length);
      return writer.tryWrite(payload) ? undefined : writer.write(payload);
    });
  }
  await writer.close();
  Deno.exit(0);
}

// Child mode: the file's bytes, no framing, 1 MiB at a time.
if (Deno.args.includes("--pump-to")) {
  const conn = await dial(arg("pump-to", ""));
  using file = await Deno.open(arg("file", ""));
  const buffer = new Uint8Array(1 << 20);
  for (let n; (n = file.readSync(buffer)) !== null;) {
    for (let o = 0; o < n;) o += await conn.write(buffer.subarray(o, n));
  }
  conn.close();
  Deno.exit(0);
}

const runs = Number(arg("runs", "3"));
const transports = arg("transport", "both") === "both"
  ? ["unix", "tcp"] as const
  : [arg("transport", "unix") as "unix" | "tcp"];
const consumer = arg("consumer", "iterate");
const dir = await Deno.makeTempDir({ prefix: "fstrm-socket-bench-" });

/**
 * A dnstap-shaped file: START, `n` frames of 80..400 bytes, STOP; the first
 * `n` frames of bench/data/dnstap.fstrm (bench/make_data.ts, seed 1).
 */
async function makeFile(n: number): Promise<string> {
  const path = `${dir}/dnstap.fstrm`;
  await writeDataFile(path, { ...BENCH_DATA.dnstap, frames: n });
  return path;
}

/** Frames and payload bytes of a file, counted with our decoder. */
async function countFile(
  path: string,
): Promise<{ frames: number; bytes: number }> {
  using file = await Deno.open(path);
  const decoder = new FrameDecoder();
  let frames = 0;
  let bytes = 0;
  for await (const chunk of file.readable) {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      if (f.kind === "data") {
        frames++;
        bytes += f.data.length;
      }
    }
  }
  decoder.end();
  while (decoder.next() !== null);
  return { frames, bytes };
}

function where(transport: "unix" | "tcp", port: number): string[] {
  return transport === "unix"
    ? ["-u", `${dir}/bench.sock`]
    : ["-a", "127.0.0.1", "-p", `${port}`];
}

/** A child of ours (FrameWriter or pump) into `target`: seconds to its exit. */
function writerChild(
  file: string,
  target: string,
  sender: "frames" | "runs" | "pump",
): Promise<number> {
  return timeChild("writer", Deno.execPath(), [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    sender === "pump" ? "--pump-to" : "--write-to",
    target,
    "--file",
    file,
    "--sender",
    sender,
  ]);
}

function replay(file: string, target: string[]): Promise<number> {
  return timeChild("fstrm_replay", "fstrm_replay", [
    "-t",
    DNSTAP,
    ...target,
    "-r",
    file,
  ]);
}

/** fstrm_replay → fstrm_capture: seconds. */
async function cPair(file: string, transport: "unix" | "tcp"): Promise<number> {
  const port = freePort();
  const path = `${dir}/bench.sock`;
  const capture = await startCapture(DNSTAP, transport, path, port);
  const seconds = await replay(file, where(transport, port));
  await stopCapture(capture, path);
  return seconds;
}

/** The Deno pump into a Deno reader that discards: seconds, and bytes. */
async function denoPump(
  file: string,
  transport: "unix" | "tcp",
): Promise<{ seconds: number; bytes: number; cpu: number }> {
  const listener = transport === "unix"
    ? Deno.listen({ transport, path: `${dir}/bench.sock` })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const where = transport === "unix"
    ? `unix:${dir}/bench.sock`
    : `tcp:${(listener.addr as Deno.NetAddr).port}`;
  const cpu0 = cpuSeconds();
  const reading = (async () => {
    const conn = await listener.accept();
    const buffer = new Uint8Array(262_144);
    let bytes = 0;
    for (let n; (n = await conn.read(buffer)) !== null;) bytes += n;
    conn.close();
    return bytes;
  })();
  const seconds = await writerChild(file, where, "pump");
  const bytes = await reading;
  listener.close();
  await Deno.remove(`${dir}/bench.sock`).catch(() => {});
  return { seconds, bytes, cpu: cpuSeconds() - cpu0 };
}

/** bench/pump.c, built into the temp dir; null without a C compiler. */
async function buildCPump(): Promise<string | null> {
  const out = `${dir}/pump`;
  try {
    const { code } = await new Deno.Command("cc", {
      args: ["-O2", "-o", out, new URL("pump.c", import.meta.url).pathname],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0 ? out : null;
  } catch {
    return null;
  }
}

/** The C pump into the C reader: seconds from the sender's start to exit. */
async function cPump(
  pump: string,
  file: string,
  transport: "unix" | "tcp",
): Promise<number> {
  const where = transport === "unix"
    ? `unix:${dir}/pump.sock`
    : `tcp:${freePort()}`;
  const reader = new Deno.Command(pump, {
    args: ["recv", where, "262144"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // Wait until it listens.
  for (;;) {
    try {
      const c = await dial(where);
      c.close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  // (That probe was its first connection; the next is the real one.)
  const t0 = performance.now();
  const { code } = await new Deno.Command(pump, {
    args: ["send", where, file, "1048576"],
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const { stdout } = await reader.output();
  const bytes = Number(new TextDecoder().decode(stdout).trim());
  if (code !== 0 || bytes !== size) {
    throw new Error(`the C pump moved ${bytes} bytes, expected ${size}`);
  }
  await Deno.remove(`${dir}/pump.sock`).catch(() => {});
  return seconds;
}

/** fstrm_replay → FrameReceiver: seconds, and frames received. */
async function ours(
  file: string,
  transport: "unix" | "tcp",
  sender: "replay" | "frames" | "runs" = "replay",
): Promise<{ seconds: number; frames: number; bytes: number; cpu: number }> {
  let frames = 0;
  let bytes = 0;
  const receiver = await FrameReceiver.listen(
    transport === "unix"
      ? { transport, path: `${dir}/bench.sock` }
      : { transport, port: 0 },
    {
      contentTypes: [DNSTAP],
      ...(consumer === "data"
        ? {
          onData: (_w, _o, length) => {
            frames++;
            bytes += length;
          },
        }
        : consumer === "run"
        ? {
          onRun: (_w, start, end, n) => {
            frames += n;
            bytes += end - start - 4 * n;
          },
        }
        : {}),
    },
  );
  const port = transport === "tcp" ? (receiver.addr as Deno.NetAddr).port : 0;
  const loop = consumer !== "iterate" ? Promise.resolve() : (async () => {
    for await (const f of receiver) {
      frames++;
      bytes += f.data.length;
    }
  })();
  const cpu0 = cpuSeconds();
  const seconds = sender === "replay"
    ? await replay(file, where(transport, port))
    : await writerChild(
      file,
      transport === "unix" ? `unix:${dir}/bench.sock` : `tcp:${port}`,
      sender,
    );
  await receiver.close();
  await loop;
  return { seconds, frames, bytes, cpu: cpuSeconds() - cpu0 };
}

/** User + system CPU seconds of this process (not its children). */
function cpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const file = arg("file", "") ||
  await makeFile(Number(arg("frames", "1000000")));
const size = (await Deno.stat(file)).size;
const expected = await countFile(file);
console.log(
  `file ${file}: ${expected.frames} frames, ${
    (size / 1e6).toFixed(1)
  } MB; ${runs} runs each, median; consumer: ${consumer}`,
);
console.log(
  "| pair | transport | wall s (min–max) | frames/s | MB/s | receiver cpu s | peak RSS MB | × the C pair (median of rounds) |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const pump = await buildCPump();
for (const transport of transports) {
  type Row = { name: string; seconds: number[]; cpu: number[] | null };
  const rows: Row[] = [
    {
      name: "fstrm_replay → fstrm_capture (the C pair)",
      seconds: [],
      cpu: null,
    },
    { name: "fstrm_replay → FrameReceiver", seconds: [], cpu: [] },
    { name: "FrameWriter.tryWrite → FrameReceiver", seconds: [], cpu: [] },
    {
      name: "FrameWriter.tryWriteRun → FrameReceiver",
      seconds: [],
      cpu: [],
    },
    { name: "bytes only, no framing: Deno → Deno", seconds: [], cpu: [] },
    ...(pump === null
      ? []
      : [{ name: "bytes only, no framing: C → C", seconds: [], cpu: null }]),
  ];
  const check = (r: { frames: number; bytes: number }) => {
    if (r.frames !== expected.frames || r.bytes !== expected.bytes) {
      throw new Error(
        `received ${r.frames} frames / ${r.bytes} bytes, expected ${expected.frames} / ${expected.bytes}`,
      );
    }
  };
  // Alternate the pairs, run by run.
  for (let i = 0; i < runs; i++) {
    rows[0]!.seconds.push(await cPair(file, transport));
    for (
      const [k, sender] of [[1, "replay"], [2, "frames"], [3, "runs"]] as const
    ) {
      const r = await ours(file, transport, sender);
      check(r);
      rows[k]!.seconds.push(r.seconds);
      rows[k]!.cpu!.push(r.cpu);
    }
    const p = await denoPump(file, transport);
    if (p.bytes !== size) {
      throw new Error(`the Deno pump moved ${p.bytes} bytes, expected ${size}`);
    }
    rows[4]!.seconds.push(p.seconds);
    rows[4]!.cpu!.push(p.cpu);
    if (pump !== null) {
      rows[5]!.seconds.push(await cPump(pump, file, transport));
    }
  }
  const rss = peakRssMB().toFixed(0);
  const cSeconds = rows[0]!.seconds;
  for (const { name, seconds, cpu } of rows) {
    const m = median(seconds);
    const ours = name.includes("FrameReceiver") && cpu !== null;
    // Each pair against the C pair of the same round: a machine whose speed
    // drifts over the run moves both alike.
    const paired = median(seconds.map((x, i) => cSeconds[i]! / x));
    console.log(
      `| ${name} | ${transport} | ${m.toFixed(2)} (${
        Math.min(...seconds).toFixed(2)
      }–${Math.max(...seconds).toFixed(2)}) | ${
        (expected.frames / m / 1e6).toFixed(2)
      } M | ${(size / m / 1e6).toFixed(0)} | ${
        cpu === null ? "-" : median(cpu).toFixed(2)
      } | ${ours ? rss : "-"} | ${paired.toFixed(2)} |`,
    );
  }
  for (const { name, seconds } of rows) {
    console.log(
      `  ${transport}, ${name}, each round: ${
        seconds.map((x) => x.toFixed(2)).join(" ")
      }`,
    );
  }
}
await Deno.remove(dir, { recursive: true });
