// `fstrm dnstap -q` prints the clock in the local zone as the Go tool reads
// it (TZ as a name, as a path, /etc/localtime): the same bytes as `dnstap
// -r FILE -q` run with the same TZ, on records from 1960 to 2040 across
// daylight-saving changes. A TZ naming a file by path is where the
// JavaScript engine's own zone differs (it keeps one fixed offset), so these
// fail unless the command reads the zone as Go does.
import assert from "node:assert/strict";
import { CLI, PERMISSIONS } from "./_cli.ts";
import { interopTest } from "./_peers.ts";
import { withTempDir } from "./_support.ts";
import { dnstapFile } from "./_cli_dnstap.ts";
import { encodeDnstap } from "../src/dnstap.ts";

// Seconds: winter and summer 2026 (New York: EST, EDT; Dublin: GMT, IST),
// the hour of a change, 1960 (a uint64 that Go reads as a negative int64),
// 2040.
const TIMES: (number | bigint)[] = [
  1_764_094_866,
  1_782_000_000,
  1_772_953_200,
  1_772_956_800,
  2n ** 64n - 315_619_200n,
  2_216_000_000,
];

const RECORDS = TIMES.map((sec, i) =>
  encodeDnstap({
    type: "MESSAGE",
    message: {
      type: i % 2 === 0 ? "CLIENT_QUERY" : "AUTH_RESPONSE",
      socketProtocol: "UDP",
      queryAddress: new Uint8Array([192, 0, 2, i]),
      responseAddress: new Uint8Array([198, 51, 100, i]),
      queryTimeSec: sec,
      queryTimeNsec: 123_456_789,
      responseTimeSec: typeof sec === "bigint" ? sec + 1n : sec + 1,
      responseTimeNsec: 1000,
    },
  })
);

async function run(cmd: string, args: string[], tz: string | undefined) {
  const env: Record<string, string> = {};
  if (tz !== undefined) env.TZ = tz;
  const out = await new Deno.Command(cmd, {
    args,
    env,
    clearEnv: tz === undefined,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

for (
  const tz of [
    "America/New_York",
    "/usr/share/zoneinfo/America/New_York",
    ":/usr/share/zoneinfo/Europe/Dublin",
    "Asia/Kolkata",
    undefined,
  ]
) {
  interopTest(
    `fstrm dnstap -q under TZ=${tz ?? "(unset)"} prints the Go tool's clock`,
    ["dnstap"],
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/tz.fstrm`;
        await Deno.writeFile(path, dnstapFile(RECORDS));
        const ours = await run(
          Deno.execPath(),
          ["run", ...PERMISSIONS, CLI, "dnstap", "-r", path, "-q"],
          tz,
        );
        const go = await run("dnstap", ["-r", path, "-q"], tz);
        assert.equal(ours.split("\n").length, RECORDS.length + 1);
        assert.equal(ours, go);
      });
    },
  );
}
