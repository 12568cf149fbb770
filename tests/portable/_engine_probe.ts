// The probe of the engine-fallback tests (tests/engine_test.ts, and
// tests/portable/engine_fallback_test.ts on every runtime): JavaScript run in
// a child process, with the root module as `m`, that records in `out` what
// the engine option decides, each result as { ok } or { error, message }.

/** Everything the engine option decides, recorded in the child. */
export const ENGINE_PROBE: string = `
const probe = (f) => {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: e?.constructor?.name, message: String(e?.message) };
  }
};
const source = { read: () => Promise.resolve(null) };
const stream = m.encodeFrameStream(["a", "b"], { contentType: "t" });
out.available = m.isWasmAvailable();
out.decoderDefault = probe(() => new m.FrameDecoder().engine);
out.decoderAuto = probe(() => new m.FrameDecoder({ engine: "auto" }).engine);
out.decoderTs = probe(() => new m.FrameDecoder({ engine: "ts" }).engine);
out.decoderWasm = probe(() => new m.FrameDecoder({ engine: "wasm" }).engine);
out.streamAuto = probe(() => new m.FrameDecoderStream().engine);
out.streamWasm = probe(() => new m.FrameDecoderStream({ engine: "wasm" }).engine);
out.decodeAuto = probe(() => m.decodeFrames(stream).length);
out.decodeTs = probe(() => m.decodeFrames(stream, { engine: "ts" }).length);
out.readerAuto = probe(() => new m.FrameReader(source).engine);
out.readerTs = probe(() => new m.FrameReader(source, { engine: "ts" }).engine);
out.readerWasm = probe(() => new m.FrameReader(source, { engine: "wasm" }).engine);
out.availableAgain = m.isWasmAvailable();
`;
