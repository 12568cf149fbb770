// Output safety: no byte of output is lost by a buffer too small for what a
// caller writes in place, and no input is destroyed by an output file that
// is that input under another name (a link), whatever permissions the
// command runs with.
import assert from "node:assert/strict";
import { PAYLOADS } from "./_cli_dnstap.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { RecordSink } from "../src/cli/_dnstap_records.ts";
import { formatDnstapQuiet } from "../src/dnstap.ts";

/** An OutputBuffer of `size` bytes that keeps everything written. */
function collect(size?: number): { out: OutputBuffer; text: () => string } {
  const parts: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync: (p) => {
      // A short write now and then, as a pipe may do.
      const n = p.length > 7 ? p.length - 3 : p.length;
      parts.push(p.slice(0, n));
      return n;
    },
  }, size);
  const dec = new TextDecoder("utf-8", { fatal: true });
  return {
    out,
    text: () => {
      out.flush();
      return parts.map((p) => dec.decode(p, { stream: true })).join("") +
        dec.decode();
    },
  };
}

Deno.test("OutputBuffer.reserve grows the buffer when asked more than its size, so nothing written in place is lost", () => {
  const { out, text } = collect(64);
  out.text("head|");
  const want = "x".repeat(1000) + "y".repeat(536);
  const buf = out.reserve(1536);
  const at = out.position;
  assert.ok(buf.length - at >= 1536, `room for ${buf.length - at}`);
  for (let i = 0; i < want.length; i++) buf[at + i] = want.charCodeAt(i);
  out.position = at + want.length;
  out.text("|tail");
  // A second, smaller reserve: the grown buffer serves it.
  const again = out.reserve(10);
  again[out.position] = 0x21;
  out.position++;
  assert.equal(text(), `head|${want}|tail!`);
});

Deno.test("OutputBuffer.text keeps every byte of short non-ASCII text in a 64-byte buffer", () => {
  // 60 UTF-16 units, 180 UTF-8 bytes: more than the buffer holds.
  const cases = ["€".repeat(60), "a" + "é".repeat(62), "x😀".repeat(21)];
  for (const s of cases) {
    const { out, text } = collect(64);
    out.text("<");
    out.text(s);
    out.text(">");
    assert.equal(text(), `<${s}>`);
  }
});

Deno.test("RecordSink prints -q lines through a 64-byte buffer exactly as through a large one", () => {
  const run = (size: number | undefined, engine: "ts" | "wasm") => {
    const { out, text } = collect(size);
    const sink = new RecordSink(out, {
      output: { kind: "text", format: formatDnstapQuiet },
      filter: { types: null, suffixes: null, rcodes: null, clients: null },
      limit: Infinity,
      engine,
    });
    for (let i = 0; i < 200; i++) {
      const p = PAYLOADS[i % PAYLOADS.length]!;
      sink.take(p, 0, p.length);
    }
    sink.finish();
    assert.equal(sink.counts.output, 200);
    return text();
  };
  for (const engine of ["ts", "wasm"] as const) {
    const want = run(undefined, engine);
    assert.equal(want.split("\n").length, 201);
    assert.equal(run(64, engine), want, engine);
  }
});
