// The repository stands on its own: nothing that runs (tests, benches, the
// fuzzer, the sources, CI, the C programs of peers/) reads outside it, such
// as a harness beside the clone or a path of one machine. And the C programs
// tests/_peers.ts builds are exactly those under peers/.
import assert from "node:assert/strict";
import { PEER_PROGRAMS, PEERS_DIR, peerSource } from "./_peers.ts";

const ROOT = new URL("../", import.meta.url);

/** What no file may mention (spelled in parts, so this file does not). */
const OUTSIDE = [
  ["..", "shared"].join("/"), // a harness beside the repository
  ["shared", "peers"].join("/"),
  ["", "work", ""].join("/"), // this machine's checkout
  ["", "tmp", "fstrm-peers"].join("/"), // a copy of that harness
];

/** The trees and files that run, relative to the repository root. */
const SCANNED = [
  "tests",
  "bench",
  "fuzz",
  "src",
  ".ci",
  "peers",
  "wasm",
  "mod.ts",
  "cli.ts",
  "demo.ts",
  "deno.json",
];

/** Generated or bulky directories: data, results, builds. */
const SKIPPED = new Set([
  "bench/data",
  "bench/results",
  "wasm/build",
  "node_modules",
]);

/** Text files by extension; files without one (.ci/run) count as text. */
const TEXT = /\.(ts|js|mjs|cjs|sh|c|h|json|jsonc|md|txt|ya?ml|toml)$|^[^.]+$/;

/** Every text file under `path` (a file or a directory), relative paths. */
async function* textFiles(path: string): AsyncGenerator<string> {
  if (SKIPPED.has(path)) return;
  const info = await Deno.stat(new URL(path, ROOT));
  if (info.isFile) {
    if (TEXT.test(path.split("/").pop()!)) yield path;
    return;
  }
  for await (const entry of Deno.readDir(new URL(path, ROOT))) {
    yield* textFiles(`${path}/${entry.name}`);
  }
}

Deno.test("the repository reads nothing outside itself", async () => {
  const found: string[] = [];
  let scanned = 0;
  for (const top of SCANNED) {
    for await (const path of textFiles(top)) {
      scanned++;
      const lines = (await Deno.readTextFile(new URL(path, ROOT))).split("\n");
      lines.forEach((line, i) => {
        if (OUTSIDE.some((needle) => line.includes(needle))) {
          found.push(`${path}:${i + 1}: ${line}`);
        }
      });
    }
  }
  // The scan saw the files it is meant to see.
  assert.ok(scanned > 50, `only ${scanned} files scanned`);
  assert.deepEqual(
    found,
    [],
    `paths outside the repository:\n${found.join("\n")}`,
  );
});

Deno.test("tests/_peers.ts knows every C program under peers/, and only those", async () => {
  const sources: string[] = [];
  for await (const entry of Deno.readDir(PEERS_DIR)) {
    if (entry.name.endsWith(".c")) sources.push(entry.name.slice(0, -2));
  }
  assert.deepEqual(sources.sort(), Object.keys(PEER_PROGRAMS).sort());
  for (
    const name of Object.keys(PEER_PROGRAMS) as (keyof typeof PEER_PROGRAMS)[]
  ) {
    // Each starts with the comment saying what it is for.
    const text = await Deno.readTextFile(peerSource(name));
    assert.match(text, new RegExp(`^/\\*\\n \\* ${name}: `), name);
  }
});
