// Portable: the WebAssembly engine really loads on this runtime (no silent
// fallback to TypeScript), and both engines give identical frames, errors
// and offsets on the same inputs, valid and damaged, however chunked.
import assert from "node:assert/strict";
import {
  FrameDecoder,
  type FrameDecoderOptions,
  FrameDecoderStream,
  FrameReader,
  isWasmAvailable,
} from "../../mod.ts";
import { SCANNER_WASM } from "../../src/_wasm_scanner_bytes.ts";
import { HELLO } from "../_vectors.ts";
import { decodeSplit, plain, plainError, type PlainFrame } from "../_util.ts";
import { runtime, test } from "./_harness.ts";
import { cuts, mutate, random, validStream } from "./_gen.ts";
import { bytesSource } from "./_sources.ts";

const EMPTY = { read: () => Promise.resolve(null) };

test("isWasmAvailable() is true on this runtime", () => {
  assert.equal(typeof WebAssembly, "object", `no WebAssembly on ${runtime()}`);
  assert.equal(
    isWasmAvailable(),
    true,
    `WebAssembly engine fails on ${runtime()}`,
  );
});

test("the scanner module compiles here and imports nothing", () => {
  const module = new WebAssembly.Module(SCANNER_WASM);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
});

test('engine: "wasm" runs the WebAssembly engine everywhere it is asked for', async () => {
  assert.equal(new FrameDecoder({ engine: "wasm" }).engine, "wasm");
  assert.equal(new FrameDecoderStream({ engine: "wasm" }).engine, "wasm");
  assert.equal(new FrameReader(EMPTY, { engine: "wasm" }).engine, "wasm");
  // "auto" picks WebAssembly for the reader, TypeScript for the decoder.
  assert.equal(new FrameReader(EMPTY).engine, "wasm");
  assert.equal(new FrameDecoder().engine, "ts");
  // And it decodes.
  const reader = new FrameReader(bytesSource(HELLO, random(5)), {
    engine: "wasm",
  });
  const summary = await reader.forEachFrame(() => {});
  assert.equal(summary.engine, "wasm");
  assert.equal(summary.frames, 1);
});

/** The decoder options a parity case runs with. */
function optionsFor(run: number): FrameDecoderOptions {
  switch (run % 4) {
    case 0:
      return {};
    case 1:
      return { strict: true };
    case 2:
      return { maxFrameLength: 1_000 };
    default:
      return { maxFrameLength: 1_000, oversize: "skip" };
  }
}

test("FrameDecoder gives the same frames, errors and offsets on both engines", () => {
  const r = random(0x9a41);
  const seen = new Map<string, number>();
  for (let run = 0; run < 400; run++) {
    const valid = validStream(r, run % 5 === 0);
    const bytes = run % 3 === 0 ? valid : mutate(r, valid);
    const options = optionsFor(run);
    const at = cuts(r, bytes.length, 8);
    const ts = decodeSplit(bytes, at, { ...options, engine: "ts" });
    const wasm = decodeSplit(bytes, at, { ...options, engine: "wasm" });
    assert.deepEqual(wasm, ts, `run ${run}`);
    tally(seen, ts.error);
  }
  checkMix(seen);
});

/** Counts outcomes by error class, so that a parity run is seen to cover errors. */
function tally(
  seen: Map<string, number>,
  error: Record<string, unknown> | null,
): void {
  const key = error === null ? "none" : String(error["name"]);
  seen.set(key, (seen.get(key) ?? 0) + 1);
}

/** Clean runs and at least three error classes, or the inputs went wrong. */
function checkMix(seen: Map<string, number>): void {
  const summary = JSON.stringify([...seen]);
  assert.ok((seen.get("none") ?? 0) >= 20, summary);
  assert.ok(seen.size >= 4, summary);
}

/** What a FrameReader gave: frames, then the error if any. */
async function readAll(
  bytes: Uint8Array,
  seed: number,
  options: FrameDecoderOptions,
): Promise<{ frames: PlainFrame[]; error: Record<string, unknown> | null }> {
  const frames: PlainFrame[] = [];
  let error: Record<string, unknown> | null = null;
  const reader = new FrameReader(bytesSource(bytes, random(seed)), {
    ...options,
    windowSize: 65_536,
  });
  assert.equal(reader.engine, options.engine);
  try {
    for await (const frame of reader) frames.push(plain(frame));
  } catch (e) {
    error = plainError(e);
  }
  return { frames, error };
}

test("FrameReader gives the same frames, errors and offsets on both engines", async () => {
  const r = random(0x7ead);
  const seen = new Map<string, number>();
  for (let run = 0; run < 120; run++) {
    const valid = validStream(r, run % 4 === 0);
    const bytes = run % 3 === 0 ? valid : mutate(r, valid);
    const options = optionsFor(run);
    const ts = await readAll(bytes, run, { ...options, engine: "ts" });
    const wasm = await readAll(bytes, run, { ...options, engine: "wasm" });
    assert.deepEqual(wasm, ts, `run ${run}`);
    tally(seen, ts.error);
  }
  checkMix(seen);
});
