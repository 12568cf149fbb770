// A quick in-process measure of the columnar dnstap scan: messages per second
// of each engine on bench/data/dnstap_real.fstrm (make it with `deno task
// bench:dnstap-data`), and the ratio wasm/ts from the same round, three
// rounds. The file is read whole and its frame tables made once, untimed;
// each round times one scan of every table per engine (the WASM engine's
// copy of the bytes into its memory included) plus a tiny aggregation over
// the columns (a count per rcode and the sum of QTYPEs), so that the columns
// are read.
//
//   deno run --allow-read bench/dnstap_scan_measure.ts [FILE] [ROUNDS]
import {
  type DnstapScanner,
  TsDnstapScanner,
  WasmDnstapScanner,
} from "../src/_dnstap_scan_engine.ts";
import { SCAN_OK } from "../src/_dnstap_scan_layout.ts";
import { frameTables } from "../tests/dnstap_scan_support.ts";

const path = Deno.args[0] ??
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  );
const rounds = Number(Deno.args[1] ?? "3");
const buf = await Deno.readFile(path);
const tables = frameTables(buf);

/** Scans every table; returns [seconds, messages ok, checksum]. */
function run(scanner: DnstapScanner): [number, number, number] {
  const rcodes = new Float64Array(16);
  let ok = 0;
  let sum = 0;
  const t0 = performance.now();
  for (const table of tables) {
    const n = table.length / 3;
    scanner.scan(buf, table, n);
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
run(engines[0]!); // warm both up once
run(engines[1]!);
console.log(
  `${path}: ${buf.length} bytes, ${tables.length} windows`,
);
console.log("round  ts msg/s    wasm msg/s  wasm/ts  copy share of wasm");
for (let r = 1; r <= rounds; r++) {
  const [ts, okTs, sumTs] = run(engines[0]!);
  const [wasm, okWasm, sumWasm] = run(engines[1]!);
  const copy = copyOnly();
  if (okTs !== okWasm || sumTs !== sumWasm) {
    throw new Error(
      `engines disagree: ${okTs}/${sumTs} vs ${okWasm}/${sumWasm}`,
    );
  }
  console.log(
    `${r}      ${(okTs / ts / 1e6).toFixed(2)} M     ${
      (okWasm / wasm / 1e6).toFixed(2)
    } M      ${(ts / wasm).toFixed(2)}     ${
      (100 * copy / wasm).toFixed(0)
    } %  (${okTs} messages)`,
  );
}
