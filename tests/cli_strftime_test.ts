// strftime as `fstrm capture -w PATTERN` expands it: as glibc's (checked
// against GNU date, which shares its conversions).
import assert from "node:assert/strict";
import { strftime, strftimeProblem } from "../src/cli/_strftime.ts";

const dec = new TextDecoder();

Deno.test("strftime matches GNU date in UTC on every conversion", async () => {
  const formats = [
    "%a %A %b %B %h",
    "%c",
    "%C %d %D %e %F",
    "%g %G %V",
    "%H %I %j %k %l",
    "%m %M %p %P %r %R",
    "%s %S %T %u %U %w %W",
    "%x %X %y %Y %z %%",
    "%-d %-m %_H %05Y %^a %^B %10A %-j %_3d %EY %Od",
  ];
  const times = [
    0, // 1970-01-01, a Thursday
    951_782_400, // 2000-02-29, leap day of a century leap year
    978_307_199, // 2000-12-31 23:59:59: day 366
    1_104_537_600, // 2005-01-01: ISO week 53 of 2004
    1_230_768_000, // 2009-01-01: ISO week 1 of 2009
    1_262_217_600, // 2009-12-31: ISO week 53
    1_609_459_200, // 2021-01-01: a Friday, ISO week 53 of 2020
    1_703_980_800, // 2023-12-31: a Sunday, %U 53
    1_735_603_200, // 2024-12-31: ISO week 1 of 2025
    1_798_761_600, // 2027-01-01
    4_102_444_799, // 2099-12-31 23:59:59
  ];
  const script = formats.map((f) =>
    times.map((t) => `date -u -d @${t} '+${f}'`).join("\n")
  ).join("\n");
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { LC_ALL: "C" },
    stdout: "piped",
  }).output();
  const lines = dec.decode(out.stdout).split("\n");
  let i = 0;
  for (const f of formats) {
    for (const t of times) {
      assert.equal(
        strftime(f, new Date(t * 1000), "utc"),
        lines[i++],
        `${f} at ${t}`,
      );
    }
  }
});

Deno.test("strftime in local time follows the process's time zone", () => {
  const d = new Date(2026, 11, 2, 3, 4, 5); // local
  assert.equal(strftime("%Y%m%d-%H%M%S", d, "local"), "20261202-030405");
  assert.equal(strftime("%s", d, "local"), String(d.getTime() / 1000));
  // GMT time names its zone as glibc's gmtime_r does.
  assert.equal(strftime("%Z %z", new Date(0), "utc"), "GMT +0000");
});

Deno.test("strftimeProblem refuses unknown conversions and a trailing %", () => {
  // Each case: pattern, problem (null: fine).
  const cases: [string, string | null][] = [
    ["dnstap-%F-%T.fstrm", null],
    ["%%Y", null],
    ["no conversion at all", null],
    ["x-%Q.fstrm", 'unknown conversion "%Q"'],
    ["x-%#Y", 'unknown conversion "%#"'],
    ["x-%", "a lone % at the end"],
  ];
  for (const [pattern, problem] of cases) {
    assert.equal(strftimeProblem(pattern), problem, pattern);
  }
});
