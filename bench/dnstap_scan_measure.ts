// A quick in-process measure of the columnar dnstap scan: messages per second
// of each engine on bench/data/dnstap_real.fstrm (make it with `deno task
// bench:dnstap-data`), and the ratio wasm/ts from the same round, three
// rounds. The file is read whole and its frame tables made once, untimed;
// each round times one scan of every table per engine (the WASM engine's
// copy of the bytes into its memory included) plus a tiny aggregation over
// the columns (a count per rcode and the sum of QTYPEs), so that the columns
// are read. A third engine, "wasm in place", is the WASM engine scanning the
// file from its own memory (copied in once, untimed; a reader would read it
// there): the scan without the copy. "copy share" is the time of the same
// copies alone over the WASM engine's time; the copy is not that share of
// its cost, since it also brings each window into cache for the scan (on
// 2026-12-03 the in-place scan of the cold file was no faster).
//
// A second table measures the one-pass engines of `fstrm top` (see there).
//
//   deno run --allow-read bench/dnstap_scan_measure.ts [FILE] [ROUNDS]
import {
  type DnstapScanner,
  TsDnstapScanner,
  WasmDnstapScanner,
} from "../src/_dnstap_scan_engine.ts";
import { SCAN_OK } from "../src/_dnstap_scan_layout.ts";
import { frameTables } from "../tests/_dnstap_scan.ts";
import { frameWindows } from "./_util.ts";
import {
  type DnstapWindowEngine,
  makeDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";

const path = Deno.args[0] ??
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  );
const rounds = Number(Deno.args[1] ?? "3");
const buf = await Deno.readFile(path);
const tables = frameTables(buf);

/** Scans every table; returns [seconds, messages ok, checksum]. */
function run(
  scanner: DnstapScanner,
  inPlace = false,
): [number, number, number] {
  const rcodes = new Float64Array(16);
  let ok = 0;
  let sum = 0;
  const t0 = performance.now();
  for (const table of tables) {
    const n = table.length / 3;
    if (inPlace) (scanner as WasmDnstapScanner).scanInput(table, n);
    else scanner.scan(buf, table, n);
    const c = scanner.columns;
    const status = c.status;
    const rcode = c.rcode;
    const qtype = c.qtype;
    for (let i = 0; i < n; i++) {
      if (status[i] !== SCAN_OK) continue;
      ok++;
      rcodes[rcode[i]!]!++;
      sum += qtype[i]!;
    }
  }
  const s = (performance.now() - t0) / 1000;
  return [s, ok, sum + rcodes[3]!];
}

/** Seconds to copy each window's data span once (what the WASM engine
 * copies into its memory), for the share of the copy in its time. */
function copyOnly(): number {
  let max = 0;
  const spans = tables.map((t): [number, number] => {
    const lo = t[0]! + (t[2] === 0 ? 0 : 8 + t[1]!);
    const last = t.length - 3;
    const hi = t[last]! + (t[last + 2] === 0 ? 4 + t[last + 1]! : 0);
    max = Math.max(max, hi - lo);
    return [lo, hi];
  });
  const into = new Uint8Array(max);
  const t0 = performance.now();
  for (const [lo, hi] of spans) into.set(buf.subarray(lo, hi));
  return (performance.now() - t0) / 1000;
}

const engines = [new TsDnstapScanner(), new WasmDnstapScanner()];
const inPlace = new WasmDnstapScanner();
inPlace.input(buf.length).set(buf);
run(engines[0]!); // warm all up once
run(engines[1]!);
run(inPlace, true);
console.log(
  `${path}: ${buf.length} bytes, ${tables.length} windows`,
);
console.log(
  "round  ts msg/s  wasm msg/s  wasm/ts  copy share of wasm  in place msg/s  in place/ts",
);
for (let r = 1; r <= rounds; r++) {
  const [ts, okTs, sumTs] = run(engines[0]!);
  const [wasm, okWasm, sumWasm] = run(engines[1]!);
  const copy = copyOnly();
  const [place, okPlace, sumPlace] = run(inPlace, true);
  if (okPlace !== okTs || sumPlace !== sumTs) {
    throw new Error(`in place disagrees: ${okPlace}/${sumPlace}`);
  }
  if (okTs !== okWasm || sumTs !== sumWasm) {
    throw new Error(
      `engines disagree: ${okTs}/${sumTs} vs ${okWasm}/${sumWasm}`,
    );
  }
  const m = (ok: number, sec: number) => (ok / sec / 1e6).toFixed(2) + " M";
  console.log(
    [
      String(r).padEnd(5),
      m(okTs, ts).padEnd(8),
      m(okWasm, wasm).padEnd(10),
      (ts / wasm).toFixed(2).padEnd(7),
      `${(100 * copy / wasm).toFixed(0)} %`.padEnd(18),
      m(okPlace, place).padEnd(14),
      (ts / place).toFixed(2),
      ` (${okTs} messages)`,
    ].join("  "),
  );
}

// The one-pass engines of `fstrm top` (src/_dnstap_window_engine.ts): frame
// scan, dnstap scan and key lists in one call per window. The file is cut
// into windows of whole frames of at most 1 MiB (untimed); each is copied
// into the engine's window (untimed: a reader reads it there), then scanned
// (timed) as the reader does, call after call.
const WINDOW = 1 << 20;
const windows = frameWindows(buf, WINDOW);
const onePass = [
  makeDnstapWindowEngine("ts", WINDOW),
  makeDnstapWindowEngine("wasm", WINDOW),
];
for (const e of onePass) e.keyOptions = { depth: 2, fold: true };

/** Scans every window with `e`; returns [seconds, rows, distinct names]. */
function runOnePass(e: DnstapWindowEngine): [number, number, number] {
  let seconds = 0;
  let rows = 0;
  let names = 0;
  for (const w of windows) {
    e.window.set(w);
    const t0 = performance.now();
    for (let pos = 0; pos < w.length; pos = e.out[1]!) {
      e.scan(pos, w.length, 0xffff_ffff);
      rows += e.rows;
      if (e.keys.full) {
        names += e.keys.counts[0]!;
        e.keys.clear();
      }
    }
    seconds += (performance.now() - t0) / 1000;
  }
  names += e.keys.counts[0]!;
  e.keys.clear();
  return [seconds, rows, names];
}
runOnePass(onePass[0]!);
runOnePass(onePass[1]!);
console.log(
  `\none pass (frame scan + dnstap scan + key lists), ${windows.length} windows of at most 1 MiB`,
);
console.log("round  ts msg/s  wasm msg/s  wasm/ts");
for (let r = 1; r <= rounds; r++) {
  const [ts, rowsTs, namesTs] = runOnePass(onePass[0]!);
  const [wasm, rowsWasm, namesWasm] = runOnePass(onePass[1]!);
  if (rowsTs !== rowsWasm || namesTs !== namesWasm) {
    throw new Error(
      `one pass disagrees: ${rowsTs}/${namesTs} vs ${rowsWasm}/${namesWasm}`,
    );
  }
  const m = (n: number, sec: number) => (n / sec / 1e6).toFixed(2) + " M";
  console.log(
    [
      String(r).padEnd(5),
      m(rowsTs, ts).padEnd(8),
      m(rowsWasm, wasm).padEnd(10),
      (ts / wasm).toFixed(2),
      ` (${rowsTs} messages)`,
    ].join("  "),
  );
}
