// Portable: what the root (mod.ts) exports, that it loads on this runtime as
// an ES module, and that neither it nor this test set leans on Deno.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as root from "../../mod.ts";
import { test } from "./_harness.ts";

/** Every value the root exports (types are erased, so not listed). */
const VALUES = [
  "ControlFrameError",
  "ControlType",
  "DEFAULT_MAX_FRAME_LENGTH",
  "DNSTAP_CONTENT_TYPE",
  "FieldType",
  "FrameDecoder",
  "FrameDecoderStream",
  "FrameEncoderStream",
  "FrameReader",
  "FrameTooLargeError",
  "HandshakeError",
  "MAX_CONTENT_TYPE_LENGTH",
  "MAX_CONTROL_FRAME_LENGTH",
  "MAX_FRAME_LENGTH",
  "MAX_WRITTEN_CONTROL_FRAME_LENGTH",
  "MIN_CONTROL_FRAME_LENGTH",
  "NotFrameStreamsError",
  "ReaderHandshake",
  "SessionTimeoutError",
  "TruncatedFrameError",
  "UnexpectedFrameError",
  "WriterHandshake",
  "decodeControlFrame",
  "decodeFrames",
  "encodeControlFrame",
  "encodeDataFrame",
  "encodeFrameStream",
  "isWasmAvailable",
];

test("the root exports the portable API and nothing Deno-only", () => {
  const names = Object.keys(root);
  for (const name of VALUES) assert.ok(names.includes(name), `missing ${name}`);
  // Deno sockets: subpath exports ./frame-receiver and ./frame-writer.
  assert.ok(!names.includes("FrameReceiver"));
  assert.ok(!names.includes("FrameWriter"));
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
