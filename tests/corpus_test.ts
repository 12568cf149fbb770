// Regression tests from the fuzzer (fuzz/fuzz.ts): every file of
// tests/corpus/ is a case (input bytes, chunk cuts, options, or a handshake
// script) that goes through the very checks the fuzzer runs (fuzz/_check.ts,
// one module per target: fuzz/_check_<target>.ts):
// both engines, next() and next(onData), FrameReader, the reference model,
// the handshake oracles, the time and memory bounds. A file the fuzzer saved
// is a failure it found, which must pass once fixed; the hand-written
// `seed-*` files cover known hard inputs and keep the suite from being empty.
//
// Each case runs in a worker of its own, so that one that never returns
// fails its test instead of hanging the suite.
import assert from "node:assert/strict";
import fc from "fast-check";
import { type CorpusFile, parseCorpusFile } from "../fuzz/_case.ts";
import { FuzzFailure } from "../fuzz/_assert.ts";
import { type Bounds, checkCase, checkCaseSync } from "../fuzz/_check.ts";
import { replay } from "../fuzz/_replay.ts";
import { TARGET_NAMES, TARGETS } from "../fuzz/_targets.ts";

const DIR = new URL("./corpus/", import.meta.url);

// Looser than the fuzzer's 2 s: a regression test must catch a hang, not a
// busy CI machine.
const BOUNDS: Bounds = { caseTimeoutMs: 10_000, rssLimit: 512 << 20 };
const WATCHDOG_MS = 60_000;

const files: { name: string; file: CorpusFile }[] = [...Deno.readDirSync(DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".json"))
  .map((e) => e.name)
  .sort()
  .map((name) => ({
    name,
    file: parseCorpusFile(
      Deno.readTextFileSync(new URL(name, DIR)),
      name,
      TARGET_NAMES,
    ),
  }));

Deno.test("fuzz corpus holds the hand-written seed files", () => {
  const seeds = files.filter((f) => f.file.kind === "seed");
  assert.ok(seeds.length >= 3, `${seeds.length} seed files in tests/corpus/`);
  for (const target of ["decoder", "reader", "handshake"]) {
    assert.ok(
      seeds.some((f) => f.file.target === target),
      `a seed file for the ${target} target`,
    );
  }
});

Deno.test("fuzz targets have distinct names, and generate cases that name them and pass their checks", async () => {
  assert.equal(new Set(TARGET_NAMES).size, TARGETS.length);
  for (const target of TARGETS) {
    for (const c of fc.sample(target.arb, { seed: 1, numRuns: 8 })) {
      assert.equal(c.target, target.name);
      await checkCase(c, BOUNDS);
    }
  }
});

Deno.test("fuzz harness counts a promise from a synchronous target's check as a crash", () => {
  const target = {
    name: "late",
    about: "a check that is not synchronous after all",
    arb: fc.constant({ target: "late" }),
    sync: true as const,
    // Typed `void`, as TypeScript lets a function returning a promise be.
    check: (() => Promise.resolve()) as () => void,
  };
  assert.throws(
    () => checkCaseSync(target, { target: "late" }, BOUNDS),
    (e) =>
      e instanceof FuzzFailure && e.kind === "crash" &&
      /returned a promise/.test(e.message),
  );
});

for (const { name, file } of files) {
  Deno.test(
    `fuzz corpus ${name} (${file.target}, ${file.kind}) passes every check`,
    async () => {
      const result = await replay(file, BOUNDS, WATCHDOG_MS);
      if (!result.ok) {
        assert.fail(
          `${result.kind}: ${result.message}\n(${file.kind} case: ${file.failure})`,
        );
      }
    },
  );
}
