// A test harness that runs unchanged on Deno, Node and Bun.
//
// Test files call `test(name, fn)`. Under `deno test` each call becomes a
// Deno test, so the set runs in `deno task test` with the rest. Elsewhere
// (and under `deno run tests/portable/run.ts`) the tests are collected and
// `runAll()` runs them one after another, printing one line per test and a
// final "N passed, N failed" line; the process exits non-zero on a failure.
// A test file run directly (`node tests/portable/engines_test.ts`) runs its
// own tests.
//
// Only what all three runtimes have: no Deno namespace, no npm: specifiers.
import process from "node:process";

/** A test body. */
export type TestFn = () => void | Promise<void>;

interface Entry {
  readonly name: string;
  readonly fn: TestFn;
}

/** How long one test may take before it counts as hung and fails. */
const TEST_TIMEOUT_MS = 60_000;

const entries: Entry[] = [];
let collecting = false;
let autorun = false;

/** `Deno.test` when running under `deno test` (or `deno run`), else null. */
function denoTest(): ((name: string, fn: TestFn) => void) | null {
  const deno = (globalThis as Record<string, unknown>)["Deno"] as
    | { test?: (name: string, fn: TestFn) => void }
    | undefined;
  return typeof deno?.test === "function" ? deno.test.bind(deno) : null;
}

/**
 * Registers a test: with `Deno.test` under `deno test`, else for
 * {@linkcode runAll}.
 */
export function test(name: string, fn: TestFn): void {
  const register = collecting ? null : denoTest();
  if (register !== null) {
    register(name, fn);
    return;
  }
  entries.push({ name, fn });
  if (!collecting && !autorun) {
    // A test file run on its own: run its tests once it has loaded.
    autorun = true;
    setTimeout(() => void runAll().then(exit), 0);
  }
}

/**
 * Collects tests from now on instead of handing them to `Deno.test`: the
 * runner calls this before it imports the test files.
 */
export function collect(): void {
  collecting = true;
}

/** The runtime, as "node 26.10.0", "bun 1.4.4" or "deno 2.9.6". */
export function runtime(): string {
  const g = globalThis as Record<string, unknown>;
  const bun = g["Bun"] as { version?: string } | undefined;
  if (bun?.version !== undefined) return `bun ${bun.version}`;
  const deno = g["Deno"] as { version?: { deno?: string } } | undefined;
  if (deno?.version?.deno !== undefined) return `deno ${deno.version.deno}`;
  return `node ${process.versions.node}`;
}

/** Counts of a run. */
export interface RunResult {
  /** Tests that passed. */
  passed: number;
  /** Tests that failed (or hung past the timeout). */
  failed: number;
}

/** Runs every collected test in order; prints a line each and a summary. */
export async function runAll(filter?: string): Promise<RunResult> {
  const chosen = filter === undefined
    ? entries
    : entries.filter((e) => e.name.includes(filter));
  let passed = 0;
  let failed = 0;
  const t0 = performance.now();
  for (const { name, fn } of chosen) {
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(fn),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)),
            TEST_TIMEOUT_MS,
          );
        }),
      ]);
      passed++;
      console.log(`ok      ${name} (${ms(start)})`);
    } catch (error) {
      failed++;
      console.log(`FAILED  ${name} (${ms(start)})`);
      console.log(
        indent(
          error instanceof Error ? error.stack ?? String(error) : String(error),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(
    `${passed} passed, ${failed} failed (${ms(t0)}, ${runtime()})`,
  );
  return { passed, failed };
}

/** Exits with 1 if anything failed (0 if nothing ran wrong, however few). */
export function exit(result: RunResult): void {
  process.exit(result.failed > 0 ? 1 : 0);
}

function ms(since: number): string {
  return `${Math.round(performance.now() - since)} ms`;
}

function indent(text: string): string {
  return text.split("\n").map((line) => `        ${line}`).join("\n");
}
