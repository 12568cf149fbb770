// Runs the portable test set (every tests/portable/*_test.ts) on the runtime
// that runs this file:
//
//   node tests/portable/run.ts
//   bun run tests/portable/run.ts
//   deno task test:portable
//
// An argument keeps only the tests whose name contains it. Prints one line
// per test and "N passed, N failed"; exits 1 on a failure, and also when no
// test file or no test was found (a set that silently shrank to nothing).
import { readdirSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { collect, exit, runAll, runtime } from "./_harness.ts";

const dir = new URL("./", import.meta.url);
const files = readdirSync(fileURLToPath(dir))
  .filter((name) => name.endsWith("_test.ts"))
  .sort();
console.log(`portable set on ${runtime()}: ${files.length} files`);
if (files.length === 0) {
  console.log("no test files found");
  process.exit(1);
}

collect();
for (const file of files) await import(new URL(file, dir).href);
const filter = process.argv[2];
const result = await runAll(filter);
if (result.passed + result.failed === 0) {
  console.log("no tests ran");
  process.exit(1);
}
exit(result);
