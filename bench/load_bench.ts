// Load: many writers at once into one FrameReceiver, every frame checked
// byte for byte and in order per writer (tests/_load.ts). The writers run in
// child processes (FrameWriter, `--procs` of them, the writers split evenly),
// the receiver in this one. Prints a Markdown table: frames/s, MB/s, peak
// RSS of the receiver's process, frames lost.
//
//   deno run -A bench/load_bench.ts [--writers 1000] [--frames 10000]
//       [--procs 4] [--transport unix|tcp|both] [--read-size BYTES]
import { FrameReceiver } from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { LoadLedger, loadPayload } from "../tests/_load.ts";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    writers: { type: "string", default: "1000" },
    frames: { type: "string", default: "10000" },
    procs: { type: "string", default: "4" },
    transport: { type: "string", default: "both" },
    "read-size": { type: "string" }, // FrameReceiver's readSize
    child: { type: "string" }, // "FROM:TO:TARGET", internal
  },
});
const frames = Number(values.frames);

if (values.child !== undefined) {
  // Child: writers FROM..TO-1 against TARGET ("unix:PATH" or "tcp:PORT").
  const [from, to, transport, where] = values.child.split(/:(?=.)/) as [
    string,
    string,
    string,
    string,
  ];
  const target = transport === "unix"
    ? { transport: "unix" as const, path: where }
    : { transport: "tcp" as const, port: Number(where) };
  const ids = Array.from(
    { length: Number(to) - Number(from) },
    (_, i) => Number(from) + i,
  );
  const writers = await Promise.all(
    ids.map(() => FrameWriter.connect(target, { reconnect: false })),
  );
  await Promise.all(writers.map(async (writer, i) => {
    const id = ids[i]!;
    for (let seq = 0; seq < frames; seq++) {
      const payload = loadPayload(id, seq);
      if (!writer.tryWrite(payload)) await writer.write(payload);
      if (seq % 64 === 63) await new Promise((r) => setTimeout(r, 0));
    }
    await writer.close();
  }));
  Deno.exit(0);
}

const writerCount = Number(values.writers);
const procs = Math.min(Number(values.procs), writerCount);
const transports = values.transport === "both"
  ? ["unix", "tcp"] as const
  : [values.transport as "unix" | "tcp"];

function peakRssMB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

console.log(
  `${writerCount} writers × ${frames} frames in ${procs} writer processes; ${
    new Date().toISOString().slice(0, 10)
  }, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}`,
);
console.log(
  "| transport | writers × frames | wall s | frames/s | MB/s | receiver peak RSS MB | lost | duplicated, reordered or corrupt |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
const dir = await Deno.makeTempDir({ prefix: "fstrm-load-" });
for (const transport of transports) {
  const ledger = new LoadLedger(frames);
  const receiver = await FrameReceiver.listen(
    transport === "unix"
      ? { transport, path: `${dir}/load.sock` }
      : { transport, hostname: "127.0.0.1", port: 0 },
    {
      onData: ledger.onData,
      maxConnections: writerCount + 16,
      ...(values["read-size"] === undefined
        ? {}
        : { readSize: Number(values["read-size"]) }),
    },
  );
  const where = transport === "unix"
    ? `unix:${dir}/load.sock`
    : `tcp:${(receiver.addr as Deno.NetAddr).port}`;
  const t0 = performance.now();
  const children = Array.from({ length: procs }, (_, p) => {
    const from = Math.floor((p * writerCount) / procs);
    const to = Math.floor(((p + 1) * writerCount) / procs);
    return new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL(import.meta.url).pathname,
        "--frames",
        String(frames),
        "--child",
        `${from}:${to}:${where}`,
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
  });
  const codes = (await Promise.all(children)).map((o) => o.code);
  const seconds = (performance.now() - t0) / 1000;
  await receiver.close();
  if (codes.some((c) => c !== 0)) {
    throw new Error(`a writer process failed: exit codes ${codes}`);
  }
  const lost = ledger.lost(writerCount);
  console.log(
    `| ${transport} | ${writerCount} × ${frames} | ${seconds.toFixed(2)} | ${
      (ledger.frames / seconds / 1e6).toFixed(2)
    } M | ${(ledger.bytes / seconds / 1e6).toFixed(0)} | ${
      peakRssMB().toFixed(0)
    } | ${lost} | ${
      ledger.duplicates + ledger.gaps + ledger.rewinds + ledger.corrupt
    } |`,
  );
  if (ledger.problems.length > 0) console.error(ledger.problems.join("\n"));
}
await Deno.remove(dir, { recursive: true });
