// End-to-end socket benchmark: fstrm_replay (libfstrm, one sendmsg per frame)
// into fstrm_capture (the C pair) and into our FrameReceiver, over a Unix
// socket and TCP, on the same file, in one run. Prints a table: wall time
// from fstrm_replay's start to its exit (it exits after FINISH, so after the
// receiver has read every frame), frames/s, MB/s of file, and the peak RSS
// of this process (the receiver's side). A third pair, our FrameWriter (in
// a child Deno process, fed by a FrameReader over the same file) → our
// FrameReceiver, is timed from the child's start to its exit (it exits after
// close(), i.e. after FINISH).
//
//   deno run -A bench/socket_bench.ts [--file PATH] [--frames N] [--runs N]
//       [--transport unix|tcp|both] [--consumer iterate|callback|data]
//
// --consumer: how the receiver hands frames over: async iteration of frame
// objects (the default), an onFrame callback, or the zero-copy onData
// callback.
//
// Without --file it writes a dnstap-like file (N frames of 80..400 random
// bytes, as ../shared/peers/make-data.sh's dnstap.fstrm) to a temp dir.
import {
  ControlType,
  encodeControlFrame,
  encodeDataFrame,
  FrameDecoder,
  FrameReader,
  FrameReceiver,
  FrameWriter,
} from "../mod.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : fallback;
}

// Child mode: write the file's frames with FrameWriter, then exit.
if (Deno.args.includes("--write-to")) {
  const [transport, where] = arg("write-to", "").split(/:(.*)/s);
  const writer = await FrameWriter.connect(
    transport === "unix"
      ? { transport: "unix", path: where! }
      : { transport: "tcp", hostname: "127.0.0.1", port: Number(where) },
    { contentTypes: [DNSTAP], reconnect: false },
  );
  await using reader = await FrameReader.open(arg("file", ""));
  // tryWrite queues (copies) the frame at once; when the queue is full, the
  // returned write() promise pauses the reader, the window intact.
  await reader.forEachFrame((window, offset, length) => {
    const payload = window.subarray(offset, offset + length);
    return writer.tryWrite(payload) ? undefined : writer.write(payload);
  });
  await writer.close();
  Deno.exit(0);
}

const runs = Number(arg("runs", "3"));
const transports = arg("transport", "both") === "both"
  ? ["unix", "tcp"] as const
  : [arg("transport", "unix") as "unix" | "tcp"];
const consumer = arg("consumer", "iterate");
const dir = await Deno.makeTempDir({ prefix: "fstrm-socket-bench-" });

/** A dnstap-shaped file: START, `n` frames of 80..400 bytes, STOP. */
async function makeFile(n: number): Promise<string> {
  let s = 1;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  const pool = new Uint8Array(1 << 20).map(() => rand() >>> 24);
  const path = `${dir}/dnstap.fstrm`;
  using file = await Deno.open(path, { write: true, create: true });
  const write = async (b: Uint8Array) => {
    for (let p = 0; p < b.length;) p += await file.write(b.subarray(p));
  };
  await write(encodeControlFrame(ControlType.START, [DNSTAP]));
  for (let i = 0; i < n; i += 10_000) {
    const batch: Uint8Array[] = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      const len = 80 + (rand() % 321);
      const at = rand() % (pool.length - len);
      batch.push(encodeDataFrame(pool.subarray(at, at + len)));
    }
    const out = new Uint8Array(batch.reduce((t, b) => t + b.length, 0));
    let o = 0;
    for (const b of batch) {
      out.set(b, o);
      o += b.length;
    }
    await write(out);
  }
  await write(encodeControlFrame(ControlType.STOP));
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

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function where(transport: "unix" | "tcp", port: number): string[] {
  return transport === "unix"
    ? ["-u", `${dir}/bench.sock`]
    : ["-a", "127.0.0.1", "-p", `${port}`];
}

/** FrameWriter (child process) into `target`: seconds to its exit. */
async function writerChild(file: string, target: string): Promise<number> {
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--write-to",
      target,
      "--file",
      file,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`writer failed: ${new TextDecoder().decode(stderr)}`);
  }
  return (performance.now() - t0) / 1000;
}

async function replay(file: string, target: string[]): Promise<number> {
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command("fstrm_replay", {
    args: ["-t", DNSTAP, ...target, "-r", file],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`fstrm_replay failed: ${new TextDecoder().decode(stderr)}`);
  }
  return (performance.now() - t0) / 1000;
}

/** fstrm_replay → fstrm_capture: seconds. */
async function cPair(file: string, transport: "unix" | "tcp"): Promise<number> {
  const port = freePort();
  const capture = new Deno.Command("fstrm_capture", {
    args: [
      "-t",
      DNSTAP,
      ...where(transport, port),
      "-b",
      "1048576",
      "-w",
      "/dev/null",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Wait until it listens.
  for (;;) {
    try {
      const c = transport === "unix"
        ? await Deno.connect({ transport: "unix", path: `${dir}/bench.sock` })
        : await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const seconds = await replay(file, where(transport, port));
  capture.kill("SIGTERM");
  await capture.status;
  await Deno.remove(`${dir}/bench.sock`).catch(() => {});
  return seconds;
}

/** fstrm_replay → FrameReceiver: seconds, and frames received. */
async function ours(
  file: string,
  transport: "unix" | "tcp",
  sender: "replay" | "writer" = "replay",
): Promise<{ seconds: number; frames: number; bytes: number; cpu: number }> {
  let frames = 0;
  let bytes = 0;
  const receiver = await FrameReceiver.listen(
    transport === "unix"
      ? { transport, path: `${dir}/bench.sock` }
      : { transport, port: 0 },
    {
      contentTypes: [DNSTAP],
      ...(consumer === "callback"
        ? {
          onFrame: (f) => {
            frames++;
            bytes += f.data.length;
          },
        }
        : consumer === "data"
        ? {
          onData: (_w, _o, length) => {
            frames++;
            bytes += length;
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
  "| pair | transport | wall s (min–max) | frames/s | MB/s | receiver cpu s | peak RSS MB |",
);
console.log("|---|---|---:|---:|---:|---:|---:|");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const transport of transports) {
  const c: number[] = [];
  const d: number[] = [];
  const w: number[] = [];
  const cpu: number[] = [];
  const wcpu: number[] = [];
  const check = (r: { frames: number; bytes: number }) => {
    if (r.frames !== expected.frames || r.bytes !== expected.bytes) {
      throw new Error(
        `received ${r.frames} frames / ${r.bytes} bytes, expected ${expected.frames} / ${expected.bytes}`,
      );
    }
  };
  // Alternate the pairs, run by run.
  for (let i = 0; i < runs; i++) {
    c.push(await cPair(file, transport));
    const r = await ours(file, transport);
    check(r);
    d.push(r.seconds);
    cpu.push(r.cpu);
    const rw = await ours(file, transport, "writer");
    check(rw);
    w.push(rw.seconds);
    wcpu.push(rw.cpu);
  }
  const rss = peakRssMB().toFixed(0);
  for (
    const [name, xs, cpus, peak] of [
      ["fstrm_replay → fstrm_capture", c, "-", "-"],
      ["fstrm_replay → FrameReceiver", d, median(cpu).toFixed(2), rss],
      ["FrameWriter → FrameReceiver", w, median(wcpu).toFixed(2), rss],
    ] as const
  ) {
    const m = median(xs);
    console.log(
      `| ${name} | ${transport} | ${m.toFixed(2)} (${
        Math.min(...xs).toFixed(2)
      }–${Math.max(...xs).toFixed(2)}) | ${
        (expected.frames / m / 1e6).toFixed(2)
      } M | ${(size / m / 1e6).toFixed(0)} | ${cpus} | ${peak} |`,
    );
  }
}
await Deno.remove(dir, { recursive: true });
