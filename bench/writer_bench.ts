// FrameWriter before and after a change, in one run: the writer of this
// tree and the writer of another checkout (--base DIR, e.g. a `git archive`
// of the commit before), each in a child Deno process (bench/socket_bench.ts's
// --write-to mode of its own tree, fed by a FrameReader over the same file),
// into our FrameReceiver frame by frame (forEachFrame → tryWrite) and in
// runs (forEachRun → tryWriteRun), and into fstrm_capture (frame by
// frame). Seconds from the child's start to its exit (after FINISH). The two
// writers run alternately, round by round, which one goes first alternating
// too; the table gives each round's ratio base / this tree (above 1: this
// tree is faster) and their median and spread.
//
//   deno run -A bench/writer_bench.ts --base DIR [--file PATH]
//       [--frames N] [--runs N] [--transport unix|tcp] [--only WORD]
import { FrameReceiver } from "../src/frame_receiver.ts";
import {
  arg,
  freePort,
  startCapture,
  stopCapture,
  timeChild,
} from "./_util.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";

const base = arg("base", "");
if (base === "") {
  console.error("usage: writer_bench.ts --base DIR [--file PATH] [--runs N]");
  Deno.exit(2);
}
const runs = Number(arg("runs", "5"));
const transport = arg("transport", "unix") as "unix" | "tcp";
const dir = await Deno.makeTempDir({ prefix: "fstrm-writer-bench-" });

/** A dnstap-like file: N frames of 80..400 random bytes. */
async function makeFile(frames: number): Promise<string> {
  const path = `${dir}/data.fstrm`;
  const { encodeControlFrame, ControlType } = await import("../mod.ts");
  const file = await Deno.open(path, { write: true, create: true });
  await file.write(encodeControlFrame(ControlType.START, [DNSTAP]));
  let s = 1;
  const chunk = new Uint8Array(1 << 20);
  let at = 0;
  const view = new DataView(chunk.buffer);
  for (let i = 0; i < frames; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const length = 80 + (s % 321);
    if (at + 4 + length > chunk.length) {
      await file.write(chunk.subarray(0, at));
      at = 0;
    }
    view.setUint32(at, length);
    for (let k = 0; k < length; k++) {
      chunk[at + 4 + k] = (s >>> (k & 15)) & 0xff;
    }
    at += 4 + length;
  }
  await file.write(chunk.subarray(0, at));
  await file.write(encodeControlFrame(ControlType.STOP));
  file.close();
  return path;
}

const file = arg("file", "") || await makeFile(Number(arg("frames", "500000")));

/** The writer of `tree` writing `file` to `target`: seconds. */
function writerChild(
  tree: string,
  target: string,
  sender: "frames" | "runs",
): Promise<number> {
  return timeChild("writer", Deno.execPath(), [
    "run",
    "-A",
    `${tree}/bench/socket_bench.ts`,
    "--write-to",
    target,
    "--file",
    file,
    "--sender",
    sender,
  ]);
}

let expected = -1;

/** Into our FrameReceiver (onRun, counting frames): seconds. */
async function intoReceiver(
  tree: string,
  sender: "frames" | "runs",
): Promise<number> {
  let frames = 0;
  const receiver = await FrameReceiver.listen(
    transport === "unix"
      ? { transport, path: `${dir}/bench.sock` }
      : { transport, port: 0 },
    {
      contentTypes: [DNSTAP],
      onRun: (_w, _s, _e, n) => {
        frames += n;
      },
    },
  );
  const target = transport === "unix"
    ? `unix:${dir}/bench.sock`
    : `tcp:${(receiver.addr as Deno.NetAddr).port}`;
  const seconds = await writerChild(tree, target, sender);
  await receiver.close();
  if (expected < 0) expected = frames;
  if (frames !== expected) {
    throw new Error(`received ${frames} frames, expected ${expected}`);
  }
  return seconds;
}

/** Into fstrm_capture (writing /dev/null): seconds. */
async function intoCapture(tree: string): Promise<number> {
  const port = freePort();
  const path = `${dir}/capture.sock`;
  const capture = await startCapture(DNSTAP, transport, path, port);
  const target = transport === "unix"
    ? `unix:${dir}/capture.sock`
    : `tcp:${port}`;
  const seconds = await writerChild(tree, target, "frames");
  await stopCapture(capture, path);
  return seconds;
}

const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const pairs: [string, (tree: string) => Promise<number>][] = [
  ["FrameWriter.tryWrite → FrameReceiver", (t) => intoReceiver(t, "frames")],
  [
    "FrameWriter.tryWriteRun → FrameReceiver",
    (t) => intoReceiver(t, "runs"),
  ],
  ["FrameWriter.tryWrite → fstrm_capture", intoCapture],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `file ${file}, ${
    (await Deno.stat(file)).size / 1e6
  } MB, ${transport}; ${runs} rounds; base ${base}`,
);
console.log(
  "| pair | base s (median) | this tree s (median) | base / this, per round | median (min–max) |",
);
console.log("|---|---:|---:|---|---:|");
const only = arg("only", ""); // a word of the pair's name, to run only it
for (const [name, run] of pairs) {
  if (only !== "" && !name.includes(only)) continue;
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      before.push(await run(base));
      after.push(await run(here));
    } else {
      after.push(await run(here));
      before.push(await run(base));
    }
  }
  const ratios = before.map((b, i) => b / after[i]!);
  console.log(
    `| ${name} | ${median(before).toFixed(2)} | ${median(after).toFixed(2)} | ${
      ratios.map((r) => r.toFixed(2)).join(" ")
    } | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${
      Math.max(...ratios).toFixed(2)
    }) |`,
  );
}
await Deno.remove(dir, { recursive: true });
