// `fstrm dnstap` on the real-server captures of tests/data/dnstap (BIND,
// dnsdist, Knot, unbound): -q, -y and -j print, byte for byte, what the Go
// tool prints, and the filters keep exactly the records the Go tool's own
// text says match (its JSON output's status, its quiet output's question).
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { interopTest } from "./_peers.ts";
import { goDnstapFile } from "./_go_dnstap.ts";
import { summaryOf } from "./_cli_dnstap.ts";

const DIR = new URL("./data/dnstap/", import.meta.url).pathname;

const FILES = ["bind.fstrm", "dnsdist.fstrm", "knot.fstrm", "unbound.fstrm"];

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
  for (const flag of ["-q", "-y", "-j"] as const) {
    interopTest(
      `fstrm dnstap ${flag} on ${name} prints what dnstap ${flag} prints`,
      ["dnstap"],
      async () => {
        const run = await fstrm(["dnstap", "-r", path, flag]);
        assert.equal(run.code, 0, run.stderr);
        const go = await goDnstapFile(path, flag);
        assert.ok(go.length > 10_000, `dnstap ${flag} printed ${go.length}`);
        assert.equal(run.stdout, go);
        const s = summaryOf(run.stderr);
        const records = flag === "-y"
          ? go.split("\n---\n").length - 1
          : go.split("\n").length - 1;
        assert.equal(s.output, records);
        assert.equal(s.malformed, 0);
      },
    );
  }

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
