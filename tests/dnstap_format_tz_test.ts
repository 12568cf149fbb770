// formatDnstapQuiet's clock is local time, as the Go tool's: under several
// TZ settings, our output (in a child process with that TZ) must equal the
// tool's (with the same TZ), across DST changes, historic offsets with
// seconds (LMT), far-future rules and wrapped 64-bit seconds.
import assert from "node:assert/strict";
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import { type Dnstap, encodeDnstap } from "../src/dnstap.ts";
import { interopTest } from "./_peers.ts";
import { firstDiff } from "./_go_format.ts";
import { loadGoLocalZone } from "../src/cli/_go_local_zone.ts";
import { GoZone } from "../src/_go_zone.ts";
import { goYearDay } from "../src/_go_time.ts";

const CHILD = new URL("./_dnstap_format_child.ts", import.meta.url);

/** Seconds to print: a spread over 1883..2100, transitions, extremes. */
function seconds(): (number | bigint)[] {
  const out: (number | bigint)[] = [];
  // Every 9 days and 7 hours and some from 2^64 - 2.7e9 (1884) to 2100.
  for (let s = -2_700_000_000; s < 4_102_444_800; s += 9 * 86400 + 25_213) {
    out.push(s < 0 ? 2n ** 64n + BigInt(s) : s);
  }
  // Around the 2025 US and EU changes, second by second.
  for (
    const t of [1_741_503_600, 1_762_063_200, 1_743_296_400, 1_761_440_400]
  ) {
    for (let d = -2; d <= 2; d++) out.push(t + d);
  }
  // Far future (rules extended from the zone's TZ string) and wrap-around.
  out.push(
    33_000_000_000,
    2 ** 40,
    2 ** 45 + 12_345,
    Number.MAX_SAFE_INTEGER,
    2n ** 62n,
    2n ** 63n - 1n,
    2n ** 63n,
    2n ** 63n + 86_400n * 180n,
    2n ** 64n - 1n,
    2n ** 64n - 10n ** 12n,
  );
  return out;
}

/**
 * Zones, and whether the JavaScript engine's clock matches the tool's for
 * them before 1970 too: "all", "1970" (compare from 1970 only) or "none"
 * (not compared). The engine uses its own time zone data (ICU's), the tool
 * the system's (/usr/share/zoneinfo): they differ before 1970 for zones
 * tzdata 2022b merged (Europe/Amsterdam's LMT is +0:19:32 in Debian's
 * backzone data, +0:17:30 (Brussels's) in ICU's), and V8 takes a TZ that is
 * a file path as a fixed offset. With the zone read as Go reads it
 * (useGoLocalZone), every zone matches on every record.
 */
const ZONES: [string, "all" | "1970" | "none"][] = [
  ["UTC", "all"],
  ["America/New_York", "all"],
  ["Asia/Kolkata", "all"],
  ["Europe/Amsterdam", "1970"],
  ["Australia/Lord_Howe", "all"],
  ["Pacific/Chatham", "all"],
  ["America/St_Johns", "all"],
  ["Nowhere/Nope", "all"],
  ["", "all"],
  [":Asia/Kolkata", "all"],
  ["EST5EDT", "1970"], // a link to America/New_York in newer tzdata
  ["/usr/share/zoneinfo/Asia/Tokyo", "none"],
  [":/usr/share/zoneinfo/America/New_York", "none"],
  ["Europe/London", "all"],
];

/** Whether a record's time is before 1970 (a wrapped, negative int64). */
function before1970(d: Dnstap): boolean {
  return typeof d.message?.queryTimeSec === "bigint" &&
    d.message.queryTimeSec >= 2n ** 63n;
}

const RECORDS: Dnstap[] = seconds().map((s, i) => ({
  type: "MESSAGE",
  message: {
    type: i % 2 ? "CLIENT_QUERY" : "AUTH_RESPONSE",
    queryTimeSec: s,
    queryTimeNsec: i * 1000,
    responseTimeSec: s,
    responseTimeNsec: 999_999_999,
  },
}));

/** Our quiet output (child process) and the tool's, under one TZ. */
async function both(
  records: Dnstap[],
  tz: string | undefined,
  goZone: boolean,
): Promise<[string, string]> {
  const path = await Deno.makeTempFile({ suffix: ".dnstap" });
  try {
    await Deno.writeFile(
      path,
      encodeFrameStream(records.map(encodeDnstap), {
        contentType: DNSTAP_CONTENT_TYPE,
      }),
    );
    // TZ undefined: the variable unset (the children get PATH, HOME and
    // DENO_DIR only), so both read /etc/localtime.
    const keep = ["PATH", "HOME", "DENO_DIR"].filter((k) => Deno.env.has(k));
    const env: Record<string, string> = tz === undefined
      ? Object.fromEntries(keep.map((k) => [k, Deno.env.get(k)!]))
      : { TZ: tz };
    const clearEnv = tz === undefined;
    const [go, ours] = await Promise.all([
      new Deno.Command("dnstap", {
        args: ["-r", path, "-q"],
        env,
        clearEnv,
        stdout: "piped",
        stderr: "null",
      }).output(),
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          CHILD.href,
          path,
          "-q",
          ...goZone ? ["go-zone"] : [],
        ],
        env,
        clearEnv,
        stdout: "piped",
      }).output(),
    ]);
    assert.equal(go.code, 0);
    assert.equal(ours.code, 0);
    const dec = new TextDecoder();
    return [dec.decode(ours.stdout), dec.decode(go.stdout)];
  } finally {
    await Deno.remove(path);
  }
}

interopTest("format -q equals dnstap -q under other time zones", [
  "dnstap",
], async () => {
  for (const [tz, early] of ZONES) {
    if (early === "none") continue;
    const recs = early === "all"
      ? RECORDS
      : RECORDS.filter((d) => !before1970(d));
    const [o, g] = await both(recs, tz, false);
    assert.equal(g.split("\n").length, recs.length + 1, tz);
    assert.ok(o === g, `TZ=${tz}: ${firstDiff(o, g)}`);
  }
});

interopTest("format -q with the zone read as Go reads it equals dnstap -q", [
  "dnstap",
], async () => {
  for (const tz of [...ZONES.map(([z]) => z), undefined]) {
    const [o, g] = await both(RECORDS, tz, true);
    assert.equal(g.split("\n").length, RECORDS.length + 1, tz);
    assert.ok(o === g, `TZ=${tz}: ${firstDiff(o, g)}`);
  }
});

Deno.test("loadGoLocalZone picks the file as Go's initLocal does", () => {
  assert.equal(loadGoLocalZone(""), null); // empty TZ: UTC
  assert.equal(loadGoLocalZone("UTC"), null); // not even read
  assert.equal(loadGoLocalZone(":"), null);
  assert.equal(loadGoLocalZone("Nowhere/Nope"), null); // unreadable: UTC
  assert.equal(loadGoLocalZone("/etc/passwd"), null); // not TZif: UTC
  const tokyo = Deno.readFileSync("/usr/share/zoneinfo/Asia/Tokyo");
  assert.deepEqual(loadGoLocalZone("Asia/Tokyo"), tokyo);
  assert.deepEqual(loadGoLocalZone(":Asia/Tokyo"), tokyo);
  assert.deepEqual(loadGoLocalZone("/usr/share/zoneinfo/Asia/Tokyo"), tokyo);
});

Deno.test("GoZone refuses what Go's LoadLocationFromTZData refuses", () => {
  const tokyo = Deno.readFileSync("/usr/share/zoneinfo/Asia/Tokyo");
  const yd = goYearDay;
  assert.equal(new GoZone(tokyo, yd).offset(1_700_000_000n), 9 * 3600);
  assert.equal(new GoZone(null, yd).offset(1_700_000_000n), 0);
  assert.throws(() => new GoZone(tokyo.subarray(0, 30), yd), SyntaxError);
  const v4 = tokyo.slice();
  v4[4] = 0x34; // version 4: Go 1.19 knows up to 3
  assert.throws(() => new GoZone(v4, yd), SyntaxError);
});
