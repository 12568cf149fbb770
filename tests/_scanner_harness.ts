// Helpers of the scanner tests: one scan as plain data, both engines scanning
// the same window in lockstep, raw frame builders.
import assert from "node:assert/strict";
import { type ScanEngine, TsScanEngine } from "../src/_engine.ts";
import { ENTRY_WORDS, STATUS_TABLE_FULL } from "../src/_scan.ts";
import { WasmScanEngine } from "../src/_wasm_engine.ts";
import { concat, hex } from "./_util.ts";

// ---------------------------------------------------------------------------
// Helpers

/** What one scan gave: the count, the entries filled, every out word. */
export interface Result {
  n: number;
  entries: number[];
  out: number[];
}

export function scanOnce(
  engine: ScanEngine,
  buf: Uint8Array,
  start: number,
  end: number,
  max: number,
): Result {
  const n = engine.scan(buf, start, end, max);
  return {
    n,
    entries: Array.from(engine.table.subarray(0, n * ENTRY_WORDS)),
    out: Array.from(engine.out),
  };
}

/**
 * Scans `buf[start, end)` with both engines, resuming while the table is
 * full as a decoder does, and asserts that every scan agrees. Returns the TS
 * engine's results.
 */
export function assertSame(
  ts: ScanEngine,
  wasm: ScanEngine,
  buf: Uint8Array,
  start: number,
  end: number,
  max: number,
  label = "",
): Result[] {
  const results: Result[] = [];
  let at = start;
  for (;;) {
    const a = scanOnce(ts, buf, at, end, max);
    const b = scanOnce(wasm, buf, at, end, max);
    assert.deepEqual(b, a, `${label} window [${at}, ${end}) max ${max}`);
    results.push(a);
    if (a.out[0] !== STATUS_TABLE_FULL || a.out[1] === at) return results;
    at = a.out[1]!;
  }
}

/** Fresh engines of both kinds. */
export function engines(): [TsScanEngine, WasmScanEngine] {
  return [new TsScanEngine(), new WasmScanEngine()];
}

export function u32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** A data frame of `length` bytes of `fill`. */
export function data(length: number, fill = 0xab): Uint8Array {
  const bytes = new Uint8Array(4 + length).fill(fill);
  new DataView(bytes.buffer).setUint32(0, length);
  return bytes;
}

/** A control frame of `type` with content-type fields of the given lengths. */
export function control(type: number, ...fields: number[]): Uint8Array {
  const parts = [hex(u32(type))];
  for (const flen of fields) {
    parts.push(hex(`00000001 ${u32(flen)}`), new Uint8Array(flen).fill(0x61));
  }
  const body = concat(...parts);
  return concat(hex(`00000000 ${u32(body.length)}`), body);
}
