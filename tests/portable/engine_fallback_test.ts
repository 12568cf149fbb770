// Portable: where WebAssembly is missing or broken, "auto" falls back to the
// TypeScript engine and "wasm" throws, never a silent fallback, on this
// runtime. Each case runs in a child process of the same runtime, which
// imports the root first (Node strips types with WebAssembly) and then takes
// WebAssembly away before the first use, when the engine is decided.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { promisify } from "node:util";
import { ENGINE_PROBE } from "./_engine_probe.ts";
import { test } from "./_harness.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

/** The arguments that make this runtime evaluate `code` as a module. */
function evalArgs(code: string): string[] {
  const g = globalThis as Record<string, unknown>;
  if (g["Bun"] !== undefined) return ["-e", code];
  if (g["Deno"] !== undefined) return ["eval", "--ext=js", code];
  return ["--input-type=module", "-e", code];
}

/** Imports the root in a child, runs `breakIt`, then ENGINE_PROBE; returns `out`. */
async function isolated(breakIt: string): Promise<Record<string, unknown>> {
  const code = `const m = await import(${JSON.stringify(MOD)});
${breakIt}
const out = {};
${ENGINE_PROBE}
console.log("RESULT " + JSON.stringify(out));`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    evalArgs(code),
    { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line !== undefined, stdout);
  return JSON.parse(line.slice("RESULT ".length));
}

/** What every case without a working WebAssembly must give. */
function assertFallback(out: Record<string, unknown>, wasmError: RegExp): void {
  assert.equal(out["available"], false);
  // "auto" and "ts" work, on the TS engine.
  assert.deepEqual(out["decoderDefault"], { ok: "ts" });
  assert.deepEqual(out["decoderAuto"], { ok: "ts" });
  assert.deepEqual(out["streamAuto"], { ok: "ts" });
  assert.deepEqual(out["decodeAuto"], { ok: 4 });
  assert.deepEqual(out["readerAuto"], { ok: "ts" });
  assert.deepEqual(out["readerTs"], { ok: "ts" });
  // "wasm" insists: an Error that says why.
  for (const key of ["decoderWasm", "streamWasm", "readerWasm"]) {
    const got = out[key] as { error?: string; message?: string };
    assert.equal(got.error, "Error", `${key}: ${JSON.stringify(got)}`);
    assert.match(String(got.message), wasmError, key);
  }
}

test('engine option without WebAssembly: "wasm" throws, "auto" falls back to TS', async () => {
  assertFallback(
    await isolated("delete globalThis.WebAssembly;"),
    /^Cannot load the WebAssembly scanner: WebAssembly is not available/,
  );
});

test('engine option where WebAssembly cannot instantiate: "wasm" throws, "auto" falls back to TS', async () => {
  assertFallback(
    await isolated(`WebAssembly.Instance = function Instance() {
      throw new RangeError("Out of memory: Cannot allocate Wasm memory for new instance");
    };`),
    /^Cannot instantiate the WebAssembly scanner: .*Out of memory/,
  );
});

test('engine option where WebAssembly cannot compile: "wasm" throws, "auto" falls back to TS', async () => {
  assertFallback(
    await isolated(`WebAssembly.Module = function Module() {
      throw new WebAssembly.CompileError("Wasm code generation disallowed by embedder");
    };`),
    /^Cannot load the WebAssembly scanner: Wasm code generation disallowed/,
  );
});

test("the same child with WebAssembly intact loads the WebAssembly engine", async () => {
  // The control case: the harness above is not what makes "wasm" fail.
  const out = await isolated("");
  assert.equal(out["available"], true);
  assert.deepEqual(out["decoderWasm"], { ok: "wasm" });
  assert.deepEqual(out["readerAuto"], { ok: "wasm" });
});
