// Where the one-pass WebAssembly engine of `fstrm top -r` spends its time, in
// process, on a file already in memory (no read, no JavaScript counting):
// nanoseconds per message of the scan alone (frame scan + dnstap scan,
// columns), with the key lists, and with the key lists and the row counts
// (what `fstrm top` runs), in windows of 256 KiB as top reads them. Each
// window is copied into the engine's window untimed; the scans are timed.
// Rounds interleave the three, median and min–max printed.
//
//   deno run --allow-read bench/top_scan_parts.ts [FILE] [ROUNDS]
//
// FILE defaults to bench/data/dnstap_real.fstrm; ROUNDS to 7.
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";
import { TOP_WINDOW } from "../src/cli/_top_parallel.ts";
import { frameWindows } from "./_util.ts";

const path = Deno.args[0] ??
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  );
const rounds = Number(Deno.args[1] ?? "7");
const buf = await Deno.readFile(path);

const windows = frameWindows(buf, TOP_WINDOW);

function engine(keys: boolean, counts: boolean): DnstapWindowEngine {
  const e = makeDnstapWindowEngine("wasm", TOP_WINDOW);
  e.keyOptions = keys ? { depth: 2, fold: true } : null;
  e.countRows = counts;
  return e;
}

const variants: [string, DnstapWindowEngine][] = [
  ["scan", engine(false, false)],
  ["scan + keys", engine(true, false)],
  ["scan + keys + counts", engine(true, true)],
];

/** Nanoseconds per row of one pass over the windows. */
function run(e: DnstapWindowEngine): number {
  let ms = 0;
  let rows = 0;
  for (const w of windows) {
    e.window.set(w);
    const t0 = performance.now();
    for (let pos = 0; pos < w.length; pos = e.out[1]!) {
      e.scan(pos, w.length, 0xffff_ffff);
      rows += e.rows;
      if (e.keys.full) e.keys.clear();
    }
    ms += performance.now() - t0;
  }
  e.keys.clear();
  return ms * 1e6 / rows;
}

for (const [, e] of variants) run(e); // warm up: compiled, tiered up
const got = new Map(variants.map(([name]) => [name, [] as number[]]));
for (let r = 0; r < rounds; r++) {
  for (const [name, e] of variants) got.get(name)!.push(run(e));
}
console.log(
  `${path}: ${windows.length} windows of at most ${TOP_WINDOW} bytes, ${rounds} rounds`,
);
console.log("| wasm one pass | ns per message, median (min–max) |");
console.log("| --- | ---: |");
for (const [name, xs] of got) {
  xs.sort((a, b) => a - b);
  console.log(
    `| ${name} | ${xs[(xs.length - 1) >> 1]!.toFixed(1)} (${
      xs[0]!.toFixed(1)
    }–${xs[xs.length - 1]!.toFixed(1)}) |`,
  );
}
