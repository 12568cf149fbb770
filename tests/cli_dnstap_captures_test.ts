// `fstrm dnstap` on the real-server captures of tests/data/dnstap (BIND,
// dnsdist, Knot, unbound): -q prints what the Go tool prints, and the
// filters keep exactly the records the Go tool's own text says match
// (its JSON output's status, its quiet output's question). Ignored, visibly,
// on a tree without the captures.
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { interopTest } from "./_peers.ts";
import { goDnstapFile } from "./_go_dnstap.ts";
import { summaryOf } from "./_cli_dnstap.ts";

const DIR = new URL("./data/dnstap/", import.meta.url).pathname;

/** The captures present: `*.fstrm` in tests/data/dnstap. */
function captures(): string[] {
  try {
    return [...Deno.readDirSync(DIR)]
      .filter((e) => e.isFile && e.name.endsWith(".fstrm"))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

const FILES = captures();
if (FILES.length === 0) {
  Deno.test({
    name: "fstrm dnstap on the real-server captures (none in this tree)",
    ignore: true,
    fn: () => {},
  });
}

/** The lines of the Go tool's -j output whose response has `rcode`. */
function goRcodeCount(json: string, rcode: string): number {
  const status = `"response_message":";; opcode: `;
  return json.split("\n").filter((line) => {
    const at = line.indexOf(status);
    if (at < 0) return false;
    const rest = line.slice(at + status.length);
    return rest.replace(/^[A-Z]*, /, "").startsWith(`status: ${rcode},`);
  }).length;
}

for (const name of FILES) {
  const path = DIR + name;
  interopTest(
    `fstrm dnstap -q on ${name} prints what dnstap -q prints`,
    ["dnstap"],
    async () => {
      const run = await fstrm(["dnstap", "-r", path, "-q"]);
      assert.equal(run.code, 0, run.stderr);
      const go = await goDnstapFile(path, "-q");
      assert.equal(run.stdout, go);
      const s = summaryOf(run.stderr);
      assert.equal(s.output, go.split("\n").length - 1);
      assert.equal(s.malformed, 0);
    },
  );

  interopTest(
    `fstrm dnstap --rcode and --qname-suffix on ${name} keep what the Go tool's text says`,
    ["dnstap"],
    async () => {
      const json = await goDnstapFile(path, "-j");
      for (const rcode of ["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]) {
        const run = await fstrm(["dnstap", "-r", path, "--rcode", rcode]);
        assert.equal(run.code, 0, run.stderr);
        assert.equal(
          run.stdout.split("\n").length - 1,
          goRcodeCount(json, rcode),
          rcode,
        );
      }
      // The quiet lines whose question ends in .test. (label-wise).
      const quiet = (await goDnstapFile(path, "-q")).split("\n");
      const want = quiet.filter((l) => /"(?:[^"]*\.)?test\." /i.test(l));
      const run = await fstrm(["dnstap", "-r", path, "--qname-suffix", "TEST"]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.split("\n").slice(0, -1), want);
    },
  );
}
