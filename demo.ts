// deno task demo: a real capture over a Unix socket, in a few seconds.
//
// `fstrm capture` (its engine, in this process) listens on a temporary Unix
// socket; a FrameWriter connects as a DNS server would (READY, ACCEPT,
// START) and sends 100,000 dnstap-sized frames (80 to 400 seeded random
// bytes); the writer closes (STOP, FINISH) and the capture stops, ending
// its file with STOP; then `fstrm stats` reads the file back. The file is
// kept, and its path printed.
//
// Permissions: --allow-read --allow-write --allow-net (the temporary
// directory, its socket and the file; Deno asks net access to `unix:PATH`
// for a Unix socket, and cannot scope it to a directory, nor read and write
// to a temporary directory not yet named).
import { DNSTAP_CONTENT_TYPE } from "./mod.ts";
import { openFrameReader } from "./src/file.ts";
import { FrameWriter } from "./src/frame_writer.ts";
import { CaptureSession } from "./src/cli/_capture_session.ts";
import { main } from "./src/cli/main.ts";

const COUNT = 100_000;

// Seeded, so every run sends the same frames.
let seed = 1;
const random = (): number =>
  (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pool = new Uint8Array(1 << 16).map(() => random() * 256);

const dir = await Deno.makeTempDir({ prefix: "fstrm-demo-" });
const socket = `${dir}/dnstap.sock`;
const file = `${dir}/dnstap.fstrm`;

const t0 = performance.now();
const capture = await CaptureSession.start({
  listen: { transport: "unix", path: socket },
  contentType: DNSTAP_CONTENT_TYPE,
  output: { kind: "file", pattern: file, timeZone: null },
  splitSeconds: 0,
  maxSize: 0,
  maxFrameLength: 262_140,
  maxConnections: 1024,
  gracePeriod: 1000,
  statsInterval: 0,
  verbosity: 0,
  log: (line) => console.log(`capture: ${line}`),
});

const writer = await FrameWriter.connect(
  { transport: "unix", path: socket },
  { contentTypes: [DNSTAP_CONTENT_TYPE] },
);
let sent = 0;
let payloadBytes = 0;
for (let i = 0; i < COUNT; i++) {
  const length = 80 + Math.floor(random() * 321);
  const at = Math.floor(random() * (pool.length - length));
  const payload = pool.subarray(at, at + length);
  // Queued (copied) at once, or wait for room when the queue is full.
  if (!writer.tryWrite(payload)) await writer.write(payload);
  sent++;
  payloadBytes += length;
}
await writer.close(); // STOP, then the capture's FINISH
await capture.stop(); // the file ends with STOP
const t1 = performance.now();

console.log(
  `writer:  sent ${sent} frames (${payloadBytes} payload bytes) over ${socket}, ${writer.stats.batches} socket writes`,
);
console.log(
  `capture: ${capture.totals.frames} frames received and written in ${
    (t1 - t0).toFixed(0)
  } ms`,
);
console.log(`\n$ fstrm stats ${file}`);
const code = await main(["stats", file]);

// The demo checks itself: every frame, in a whole file.
await using reader = await openFrameReader(file);
const summary = await reader.forEachFrame(() => {});
const whole = summary.frames === COUNT &&
  summary.bytes === payloadBytes && summary.stopped;
console.log(
  `\nthe file: ${file} (${summary.frames} frames, STOP ${
    summary.stopped ? "seen" : "MISSING"
  }); remove it with: rm -r ${dir}`,
);
if (!whole || code !== 0) {
  console.error(
    whole
      ? `demo: fstrm stats exited ${code}`
      : "demo: the file does not hold every frame sent",
  );
  Deno.exit(1);
}
