// The frame scanner engines on a 4 MiB window, per frame-size shape: the TS
// scanner (baseline) against the WebAssembly one, each called as a decoder
// calls it (resuming after every full table of TABLE_CAPACITY entries).
import { type ScanEngine, TsScanEngine } from "../src/_engine.ts";
import { STATUS_TABLE_FULL } from "../src/_scan.ts";
import { WasmScanEngine } from "../src/_wasm_engine.ts";

const WINDOW = 4 * 1024 * 1024;
const MAX_FRAME_LENGTH = 0xffff_ffff;

/** A window of data frames whose payload lengths come from `size`. */
function frames(size: (i: number) => number): Uint8Array {
  const buf = new Uint8Array(WINDOW);
  const view = new DataView(buf.buffer);
  let at = 0;
  for (let i = 0;; i++) {
    const len = size(i);
    if (at + 4 + len > WINDOW) break;
    view.setUint32(at, len);
    buf.fill(i & 0xff, at + 4, at + 4 + len);
    at += 4 + len;
  }
  return buf.subarray(0, at);
}

/** Scans the whole window; returns the frame count. */
function scanAll(engine: ScanEngine, buf: Uint8Array): number {
  let at = 0;
  let total = 0;
  for (;;) {
    total += engine.scan(buf, at, buf.length, MAX_FRAME_LENGTH);
    if (engine.out[0] !== STATUS_TABLE_FULL) return total;
    at = engine.out[1]!;
  }
}

// A small deterministic generator, so that runs compare.
let seed = 1;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) >>> 0;
  return seed / 2 ** 32;
}

const shapes: [string, Uint8Array][] = [
  ["16 B frames", frames(() => 16)],
  ["80-400 B frames", frames(() => 80 + Math.floor(random() * 321))],
  ["256 KiB frames", frames(() => 256 * 1024)],
];
const engines: [string, ScanEngine][] = [
  ["ts", new TsScanEngine()],
  ["wasm", new WasmScanEngine()],
];

for (const [shape, buf] of shapes) {
  const expected = scanAll(engines[0]![1], buf);
  for (const [name, engine] of engines) {
    if (scanAll(engine, buf) !== expected) {
      throw new Error(`${name} disagrees on ${shape}`);
    }
    Deno.bench({
      name: `${name}: scan 4 MiB of ${shape} (${expected} frames)`,
      group: shape,
      baseline: name === "ts",
      fn() {
        scanAll(engine, buf);
      },
    });
  }
}
