// `fstrm dnstap --json`: one toDnstapRecord line per record, on the four
// real-server captures and on stdin with a non-message and a malformed
// frame; with filters and --limit; to a file with -w (and -a); usage errors.
import assert from "node:assert/strict";
import { decodeDnstap, encodeDnstap, toDnstapRecord } from "../src/dnstap.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { fstrm } from "./_cli.ts";
import { dnstapFile, PAYLOADS, summaryOf } from "./_cli_dnstap.ts";
import { withTempDir } from "./_support.ts";
import { schemaErrors } from "./_dnstap_record_schema.ts";

/** The NDJSON lines of `stdout`, parsed (each one line, none empty). */
function lines(stdout: string): unknown[] {
  assert.ok(stdout === "" || stdout.endsWith("\n"), "ends with a newline");
  return stdout.split("\n").slice(0, -1).map((l) => JSON.parse(l));
}

/** What toDnstapRecord gives for every data frame of a file. */
function expected(file: Uint8Array): unknown[] {
  const out: unknown[] = [];
  for (const f of decodeFrames(file)) {
    if (f.kind === "data") {
      out.push(
        JSON.parse(JSON.stringify(toDnstapRecord(decodeDnstap(f.data)))),
      );
    }
  }
  return out;
}

for (const name of ["knot", "bind", "unbound", "dnsdist"]) {
  Deno.test(`fstrm dnstap --json prints every record of the ${name} capture`, async () => {
    const path = new URL(`./data/dnstap/${name}.fstrm`, import.meta.url)
      .pathname;
    const run = await fstrm(["dnstap", "-r", path, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const got = lines(run.stdout);
    const want = expected(Deno.readFileSync(path));
    assert.ok(want.length > 200);
    assert.deepEqual(got, want);
    for (const r of got) assert.equal(schemaErrors(r), null);
    const s = summaryOf(run.stderr);
    assert.equal(s.frames, want.length);
    assert.equal(s.output, want.length);
    assert.equal(s.unprintable, 0);
  });
}

// stdin: the shared test records, then a Dnstap of type 2 (not printable by
// the Go formats, a record for --json) and a frame that is no dnstap.
const OTHER = encodeDnstap({
  type: 2,
  identity: new TextEncoder().encode("x"),
});
const STDIN = [...PAYLOADS, OTHER, new Uint8Array([0xff])];

Deno.test("fstrm dnstap --json prints non-message records and counts malformed frames", async () => {
  const run = await fstrm(["dnstap", "-r", "-", "--json"], {
    input: dnstapFile(STDIN),
  });
  assert.equal(run.code, 0, run.stderr);
  const got = lines(run.stdout);
  assert.equal(got.length, PAYLOADS.length + 1);
  assert.deepEqual(got.at(-1), { dnstap_type: 2, identity: "x" });
  assert.deepEqual(got, expected(dnstapFile(STDIN.slice(0, -1))));
  const s = summaryOf(run.stderr);
  assert.equal(s.frames, STDIN.length);
  assert.equal(s.malformed, 1);
  assert.equal(s.unprintable, 0);
});

Deno.test("fstrm dnstap --json with a filter and --limit", async () => {
  const run = await fstrm(
    ["dnstap", "-r", "-", "--json", "--type", "CR", "--limit", "2"],
    { input: dnstapFile(PAYLOADS) },
  );
  assert.equal(run.code, 0, run.stderr);
  const got = lines(run.stdout) as { type: string }[];
  assert.deepEqual(got.map((r) => r.type), [
    "CLIENT_RESPONSE",
    "CLIENT_RESPONSE",
  ]);
  assert.equal(summaryOf(run.stderr).output, 2);
});

Deno.test("fstrm dnstap --json -w FILE writes the lines, -a appends", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/records.ndjson`;
    const args = ["dnstap", "-r", "-", "--json", "-w", out];
    const input = dnstapFile(PAYLOADS.slice(0, 3));
    let run = await fstrm(args, { input });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    const once = Deno.readTextFileSync(out);
    assert.deepEqual(lines(once), expected(input));
    run = await fstrm([...args, "-a"], { input });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(Deno.readTextFileSync(out), once + once);
  });
});

Deno.test("fstrm dnstap --json with another format flag is a usage error", async () => {
  for (const flag of ["-q", "-y", "-j"]) {
    const run = await fstrm(["dnstap", "-r", "x", flag, "--json"]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /at most one of -q, -y and -j, or --json/);
  }
});
