// Portable: what the root (mod.ts) exports, that it loads on this runtime as
// an ES module, and that neither it nor this test set leans on Deno.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as root from "../../mod.ts";
import { test } from "./_harness.ts";

/**
 * Every name the root exports, values and types: the root's API is a
 * decision, so a name added to it fails this test until it is listed here.
 * Each `type` entry is a type only (erased at run time).
 */
const EXPORTS = [
  "ContentTypeInput type",
  "ContentTypeOptions type",
  "ControlFrame type",
  "ControlFrameError",
  "ControlType",
  "DNSTAP_CONTENT_TYPE",
  "DataCallback type",
  "DataFrame type",
  "DecodeOptions type",
  "EncodeOptions type",
  "Engine type",
  "EngineOption type",
  "Frame type",
  "FrameDecoder",
  "FrameDecoderOptions type",
  "FrameDecoderStream",
  "FrameEncoderStream",
  "FrameReader",
  "FrameReaderOptions type",
  "FrameReaderSummary type",
  "FrameSource type",
  "FrameTooLargeError",
  "HandshakeError",
  "NotFrameStreamsError",
  "OversizePolicy type",
  "PartialFrame type",
  "ReaderSession",
  "ReaderSessionEvent type",
  "ReaderSessionOptions type",
  "ReaderSessionState type",
  "RunCallback type",
  "SessionTimeoutError",
  "TruncatedFrameError",
  "UnexpectedFrameError",
  "WriterSession",
  "WriterSessionEvent type",
  "WriterSessionOptions type",
  "WriterSessionState type",
  "decodeControlFrame",
  "decodeFrames",
  "encodeControlFrame",
  "encodeDataFrame",
  "encodeFrameStream",
  "isWasmAvailable",
];

/** The most names the root may export (issue 12: at most 45). */
const MAX_EXPORTS = 45;

/** The names mod.ts exports, as "name" or "name type", from its source. */
function declaredExports(): string[] {
  const text = readFileSync(new URL("../../mod.ts", import.meta.url), "utf8");
  assert.doesNotMatch(text, /^export \*/m, "no export * in mod.ts");
  const names: string[] = [];
  for (const m of text.matchAll(/^export (type )?\{([^}]*)\}/gm)) {
    for (const part of m[2]!.split(",")) {
      const entry = part.trim();
      if (entry === "") continue;
      const isType = m[1] !== undefined || entry.startsWith("type ");
      const name = entry.replace(/^type /, "");
      names.push(isType ? `${name} type` : name);
    }
  }
  return names.sort();
}

test("the root exports exactly the listed names, at most MAX_EXPORTS", () => {
  const declared = declaredExports();
  assert.deepEqual(declared, [...EXPORTS].sort());
  assert.ok(
    declared.length <= MAX_EXPORTS,
    `${declared.length} > ${MAX_EXPORTS}`,
  );
  // The values are there at run time, and nothing else is.
  const values = EXPORTS.filter((e) => !e.endsWith(" type")).sort();
  assert.deepEqual(Object.keys(root).sort(), values);
});

test("the root exports the portable API and nothing Deno-only", () => {
  const names = Object.keys(root);
  // Deno sockets: subpath exports ./frame-receiver and ./frame-writer.
  assert.ok(!names.includes("FrameReceiver"));
  assert.ok(!names.includes("FrameWriter"));
  // Subpaths only: the protocol's limits, the bare handshakes.
  assert.ok(!names.includes("MAX_FRAME_LENGTH"));
  assert.ok(!names.includes("ReaderHandshake"));
  assert.ok(!names.includes("WriterHandshake"));
  // A module Node took for CommonJS (a file of types alone, which type
  // stripping leaves empty) leaks "module.exports" into the namespace.
  assert.deepEqual(names.filter((n) => !/^[A-Za-z_]\w*$/.test(n)), []);
  assert.ok(!names.includes("default"));
});

const REPO = new URL("../../", import.meta.url);

/** Lines of `text` that are code: JSDoc, comments and blank lines dropped. */
function codeLines(text: string): string[] {
  return text.split("\n").filter((line) => {
    const t = line.trim();
    return t !== "" && !t.startsWith("*") && !t.startsWith("/*") &&
      !t.startsWith("//");
  });
}

/** The repository-relative files the root's module graph holds. */
function rootGraph(): string[] {
  const seen = new Set<string>();
  const visit = (url: URL): void => {
    const path = fileURLToPath(url);
    if (seen.has(path)) return;
    seen.add(path);
    const text = readFileSync(path, "utf8");
    for (const line of codeLines(text)) {
      for (const m of line.matchAll(/from "(\.\.?\/[^"]+)"/g)) {
        visit(new URL(m[1]!, url));
      }
    }
  };
  visit(new URL("mod.ts", REPO));
  const base = fileURLToPath(REPO);
  return [...seen].map((p) => p.slice(base.length)).sort();
}

/**
 * Deno API uses still in the root's graph, as "file api": none (opening a
 * file by path is `openFrameReader` in the Deno-only src/file.ts).
 */
const KNOWN_DENO: string[] = [];

test("the root's modules use no Deno API outside their doc examples", () => {
  const files = rootGraph();
  assert.ok(files.includes("src/frame_decoder.ts"), files.join(", "));
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(new URL(file, REPO), "utf8");
    for (const line of codeLines(text)) {
      for (const m of line.matchAll(/\bDeno\.(\w+)/g)) {
        found.push(`${file} ${m[1]}`);
      }
    }
  }
  assert.deepEqual(found, KNOWN_DENO);
});

test("the portable set itself names no Deno API and no npm: specifier", () => {
  const dir = new URL("./", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 5, files.join(", "));
  for (const file of files) {
    const code = codeLines(readFileSync(new URL(file, dir), "utf8")).join("\n");
    assert.doesNotMatch(code, /\bDeno\.[a-z]/, file);
    assert.doesNotMatch(code, /["']npm:/, file);
  }
});
