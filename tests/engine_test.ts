// The engine option: what "auto", "wasm" and "ts" resolve to, what an
// unknown engine gives, and what happens where WebAssembly cannot load (in a
// subprocess whose WebAssembly is removed or broken before the module loads).
import assert from "node:assert/strict";
import {
  decodeFrames,
  encodeFrameStream,
  type EngineOption,
  FrameDecoder,
  FrameDecoderStream,
  FrameReader,
  isWasmAvailable,
} from "../mod.ts";
import { ENGINE_PROBE } from "./portable/_engine_probe.ts";

const STREAM = encodeFrameStream(["a"], { contentType: "t" });
const EMPTY_SOURCE = { read: () => Promise.resolve(null) };

/** The frame kinds a decoder built with `options` gives for STREAM. */
function kinds(decoder: FrameDecoder): string[] {
  decoder.push(STREAM);
  decoder.end();
  const out: string[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f.kind);
  return out;
}

/**
 * Counts WebAssembly instantiations while `fn` runs. Both engines look up
 * `WebAssembly.Instance` when they instantiate, so this sees every one.
 */
function countInstances(fn: () => void): number {
  const original = WebAssembly.Instance;
  let count = 0;
  const counting = new Proxy(original, {
    construct(target, args) {
      count++;
      return Reflect.construct(target, args);
    },
  });
  Object.defineProperty(WebAssembly, "Instance", {
    value: counting,
    writable: true,
    configurable: true,
  });
  try {
    fn();
  } finally {
    Object.defineProperty(WebAssembly, "Instance", {
      value: original,
      writable: true,
      configurable: true,
    });
  }
  return count;
}

Deno.test('FrameDecoder engine "auto" resolves to the TS engine', () => {
  // The documented choice (AUTO_DECODER_ENGINE in src/frame_decoder.ts): the
  // WebAssembly engine must copy each chunk into its memory, and measured
  // slower for the decoder.
  for (
    const decoder of [new FrameDecoder(), new FrameDecoder({ engine: "auto" })]
  ) {
    assert.equal(decoder.engine, "ts");
    assert.deepEqual(kinds(decoder), ["control", "data", "control"]);
  }
  assert.equal(new FrameDecoderStream().engine, "ts");
  assert.equal(new FrameDecoderStream({ engine: "auto" }).engine, "ts");
});

Deno.test('FrameDecoder engine "wasm" runs WebAssembly, one instance per decoder', () => {
  let decoder: FrameDecoder | null = null;
  const instances = countInstances(() => {
    decoder = new FrameDecoder({ engine: "wasm" });
  });
  assert.ok(decoder !== null);
  const wasm: FrameDecoder = decoder;
  assert.equal(wasm.engine, "wasm");
  assert.equal(instances, 1, "instantiated, not a fallback");
  assert.deepEqual(kinds(wasm), ["control", "data", "control"]);
  assert.equal(new FrameDecoderStream({ engine: "wasm" }).engine, "wasm");
  // Each decoder has its own instance: decoders stay independent.
  assert.equal(
    countInstances(() => {
      new FrameDecoder({ engine: "wasm" });
      new FrameDecoder({ engine: "wasm" });
    }),
    2,
  );
});

Deno.test('FrameDecoder engine "ts" never instantiates WebAssembly', () => {
  let decoder: FrameDecoder | null = null;
  assert.equal(
    countInstances(() => {
      decoder = new FrameDecoder({ engine: "ts" });
      kinds(decoder);
    }),
    0,
  );
  assert.equal((decoder as FrameDecoder | null)?.engine, "ts");
});

Deno.test("FrameDecoder rejects an unknown engine with a TypeError", () => {
  const bad = ["WASM", "Ts", "js", "typescript", "", " wasm", "auto ", 0, {}];
  for (const engine of bad) {
    const options = { engine: engine as EngineOption };
    const message = /engine must be "auto", "wasm" or "ts"/;
    assert.throws(() => new FrameDecoder(options), (e) => {
      assert.ok(e instanceof TypeError, `${String(engine)}: a TypeError`);
      assert.match(e.message, message);
      return true;
    });
    assert.throws(() => new FrameDecoderStream(options), TypeError);
    assert.throws(() => decodeFrames(STREAM, options), TypeError);
    assert.throws(() => new FrameReader(EMPTY_SOURCE, options), TypeError);
  }
});

Deno.test("isWasmAvailable is true here, and the wasm engine loads", () => {
  assert.equal(isWasmAvailable(), true);
  assert.equal(isWasmAvailable(), true, "the same answer again");
  assert.equal(new FrameDecoder({ engine: "wasm" }).engine, "wasm");
});

Deno.test('FrameReader engine "auto" resolves to WebAssembly where it loads', () => {
  assert.equal(new FrameReader(EMPTY_SOURCE).engine, "wasm");
  assert.equal(
    new FrameReader(EMPTY_SOURCE, { engine: "auto" }).engine,
    "wasm",
  );
  assert.equal(
    new FrameReader(EMPTY_SOURCE, { engine: "wasm" }).engine,
    "wasm",
  );
  assert.equal(new FrameReader(EMPTY_SOURCE, { engine: "ts" }).engine, "ts");
});

// ---------------------------------------------------------------------------
// Where WebAssembly cannot load: a fresh process, WebAssembly removed or
// broken before the module is imported.

const MOD = new URL("../mod.ts", import.meta.url).href;

/**
 * Runs `before`, imports the module, runs `after` (which fills `out`, with
 * `m` the module), in a fresh Deno process; returns `out`.
 */
async function isolated(
  before: string,
  after: string,
): Promise<Record<string, unknown>> {
  const code = `${before}
const m = await import(${JSON.stringify(MOD)});
const out = {};
${after}
console.log("RESULT " + JSON.stringify(out));`;
  const { code: status, stdout, stderr } = await new Deno.Command(
    Deno.execPath(),
    {
      args: ["eval", "--ext=js", "--no-lock", code],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    },
  ).output();
  const text = new TextDecoder();
  assert.equal(status, 0, text.decode(stderr));
  const line = text.decode(stdout).split("\n").find((l) =>
    l.startsWith("RESULT ")
  );
  assert.ok(line !== undefined, text.decode(stdout) + text.decode(stderr));
  return JSON.parse(line.slice("RESULT ".length));
}

/** What every case without a working WebAssembly must give. */
function assertFallback(
  out: Record<string, unknown>,
  wasmError: RegExp,
): void {
  assert.equal(out.available, false);
  assert.equal(out.availableAgain, false);
  // "auto" and "ts" work, on the TS engine.
  assert.deepEqual(out.decoderDefault, { ok: "ts" });
  assert.deepEqual(out.decoderAuto, { ok: "ts" });
  assert.deepEqual(out.decoderTs, { ok: "ts" });
  assert.deepEqual(out.streamAuto, { ok: "ts" });
  assert.deepEqual(out.decodeAuto, { ok: 4 });
  assert.deepEqual(out.decodeTs, { ok: 4 });
  assert.deepEqual(out.readerAuto, { ok: "ts" });
  assert.deepEqual(out.readerTs, { ok: "ts" });
  // "wasm" insists: a plain Error that says why, never a silent fallback.
  for (const key of ["decoderWasm", "streamWasm", "readerWasm"]) {
    const got = out[key] as { error?: string; message?: string };
    assert.equal(got.error, "Error", `${key}: ${JSON.stringify(got)}`);
    assert.match(String(got.message), wasmError, key);
  }
}

Deno.test('engine option without WebAssembly: "wasm" throws, "auto" falls back to TS', async () => {
  const out = await isolated("delete globalThis.WebAssembly;", ENGINE_PROBE);
  assertFallback(
    out,
    /^Cannot load the WebAssembly scanner: WebAssembly is not available/,
  );
});

Deno.test('engine option where WebAssembly cannot instantiate: "wasm" throws, "auto" falls back to TS', async () => {
  // As when the runtime cannot give an instance its memory.
  const out = await isolated(
    `WebAssembly.Instance = function Instance() {
      throw new RangeError("WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance");
    };`,
    ENGINE_PROBE,
  );
  assertFallback(
    out,
    /^Cannot instantiate the WebAssembly scanner: .*Out of memory/,
  );
});

Deno.test('engine option where WebAssembly cannot compile: "wasm" throws, "auto" falls back to TS', async () => {
  // As under a policy that forbids WebAssembly code generation.
  const out = await isolated(
    `WebAssembly.Module = function Module() {
      throw new WebAssembly.CompileError("Wasm code generation disallowed by embedder");
    };`,
    ENGINE_PROBE,
  );
  assertFallback(
    out,
    /^Cannot load the WebAssembly scanner: Wasm code generation disallowed/,
  );
});

Deno.test("isWasmAvailable decides on first use, not at import, then remembers", async () => {
  // Imported with WebAssembly present, which goes before the first use: the
  // module has not decided at import time, so the TS fallback applies.
  const gone = await isolated(
    "",
    `const saved = globalThis.WebAssembly;
    delete globalThis.WebAssembly;
    out.first = m.isWasmAvailable();
    globalThis.WebAssembly = saved;
    // Remembered, even though WebAssembly is back.
    out.afterRestore = m.isWasmAvailable();
    out.decoderAuto = new m.FrameDecoder().engine;
    try {
      new m.FrameDecoder({ engine: "wasm" });
      out.wasm = "loaded";
    } catch (e) {
      out.wasm = e.constructor.name + ": " + e.message;
    }`,
  );
  assert.deepEqual(gone, {
    first: false,
    afterRestore: false,
    decoderAuto: "ts",
    wasm:
      "Error: Cannot load the WebAssembly scanner: WebAssembly is not available in this runtime",
  });
  // Once found available, it stays available; "wasm" then reports the
  // failure of its own instance.
  const later = await isolated(
    "",
    `out.first = m.isWasmAvailable();
    delete globalThis.WebAssembly;
    out.afterDelete = m.isWasmAvailable();
    out.decoderAuto = new m.FrameDecoder().engine;
    try {
      new m.FrameDecoder({ engine: "wasm" });
      out.wasm = "loaded";
    } catch (e) {
      out.wasm = e.constructor.name + ": " + e.message;
    }`,
  );
  assert.equal(later.first, true);
  assert.equal(later.afterDelete, true);
  assert.equal(later.decoderAuto, "ts");
  assert.match(
    String(later.wasm),
    /^Error: Cannot instantiate the WebAssembly scanner: /,
  );
});
