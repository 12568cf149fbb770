// formatDnstapTime, formatDnstapAddress and parseDnstapAddress.
import assert from "node:assert/strict";
import {
  formatDnstapAddress,
  formatDnstapTime,
  parseDnstapAddress,
} from "../src/dnstap.ts";
import { hex } from "./_util.ts";

Deno.test("formatDnstapTime gives ISO 8601 with nine digits of nanoseconds", () => {
  const cases: [number | bigint, number | undefined, string][] = [
    [0, undefined, "1970-01-01T00:00:00.000000000Z"],
    [0, 1, "1970-01-01T00:00:00.000000001Z"],
    [951_782_400, 0, "2000-02-29T00:00:00.000000000Z"], // a leap day
    [1_764_094_866, 240_151_000, "2025-11-25T18:21:06.240151000Z"],
    [4_102_444_799, 999_999_999, "2099-12-31T23:59:59.999999999Z"],
    [253_402_300_800, 0, "10000-01-01T00:00:00.000000000Z"],
    [2n ** 53n, 0, "285428751-11-12T07:36:32.000000000Z"],
  ];
  for (const [s, ns, want] of cases) {
    assert.equal(formatDnstapTime(s, ns), want);
  }
  // Within Date's range it agrees with Date, for a spread of seconds.
  for (let s = 0; s < 2 ** 35; s += 86_399_999 * 7 + 12_345) {
    const iso = new Date(s * 1000).toISOString().replace(".000Z", "");
    assert.equal(formatDnstapTime(s, 5), `${iso}.000000005Z`);
  }
});

Deno.test("formatDnstapTime rejects values out of range with a RangeError", () => {
  for (
    const [s, ns] of [[-1, 0], [1.5, 0], [0, 1e9], [0, -1], [0, 0.5], [
      -1n,
      0,
    ]] as const
  ) {
    assert.throws(() => formatDnstapTime(s, ns), RangeError);
  }
});

Deno.test("formatDnstapAddress prints IPv4 dotted and IPv6 per RFC 5952", () => {
  const cases: [string, string][] = [
    ["7f 00 00 01", "127.0.0.1"],
    ["ff ff ff ff", "255.255.255.255"],
    ["20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01", "2001:db8::1"],
    ["00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", "::"],
    ["00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01", "::1"],
    ["20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00", "2001:db8::"],
    // One zero group is not compressed (RFC 5952 4.2.2).
    ["20 01 0d b8 00 00 00 01 00 01 00 01 00 01 00 01", "2001:db8:0:1:1:1:1:1"],
    // The longest run wins; on a tie the first (4.2.3).
    ["20 01 00 00 00 00 00 01 00 00 00 00 00 00 00 01", "2001:0:0:1::1"],
    ["20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01", "2001:db8::1:0:0:1"],
    // Lowercase, no leading zeros (4.1, 4.3).
    ["20 01 0D B8 0A BC 00 FF 00 00 00 00 00 00 00 0A", "2001:db8:abc:ff::a"],
    // IPv4-mapped (5).
    ["00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01", "::ffff:192.0.2.1"],
    // Neither 4 nor 16 bytes: "?" and hex, as Go's net.IP prints it.
    ["01 02 03", "?010203"],
    ["", "?"],
  ];
  for (const [bytes, want] of cases) {
    assert.equal(formatDnstapAddress(hex(bytes)), want);
  }
});

Deno.test("parseDnstapAddress reads IPv4 and IPv6 text", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "c0 00 02 01"],
    ["0.0.0.0", "00 00 00 00"],
    ["::", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
    ["::1", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"],
    ["1::", "00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00"],
    ["2001:DB8::a:1", "20 01 0d b8 00 00 00 00 00 00 00 00 00 0a 00 01"],
    ["1:2:3:4:5:6:7:8", "00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08"],
    ["1:2:3:4:5:6:7::", "00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 00"],
    ["::ffff:192.0.2.1", "00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01"],
    ["1:2:3:4:5:6:1.2.3.4", "00 01 00 02 00 03 00 04 00 05 00 06 01 02 03 04"],
  ];
  for (const [text, want] of cases) {
    assert.deepStrictEqual(parseDnstapAddress(text), hex(want), text);
  }
  const bad = [
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    ":",
    ":::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "12345::",
    "g::",
    ":1::",
    "1:2:3:4:5:6:7:8::",
    "::1.2.3",
    "1:2:3:4:5:6:7:1.2.3.4",
    ":1.2.3.4",
    "fe80::1%eth0",
  ];
  for (const text of bad) {
    assert.throws(() => parseDnstapAddress(text), SyntaxError, text);
  }
  assert.throws(() => parseDnstapAddress(5 as unknown as string), TypeError);
});

Deno.test("parseDnstapAddress and formatDnstapAddress round-trip", () => {
  for (let i = 0; i < 2000; i++) {
    const v6 = new Uint8Array(16);
    // Mostly zero groups, so that runs of zeros of every length occur.
    for (let g = 0; g < 8; g++) {
      if ((i >> g) & 1) v6[2 * g + (g & 1)] = (i * 37 + g) & 0xff;
    }
    assert.deepStrictEqual(parseDnstapAddress(formatDnstapAddress(v6)), v6);
    const v4 = new Uint8Array([i & 0xff, i >> 8, 0, 255]);
    assert.deepStrictEqual(parseDnstapAddress(formatDnstapAddress(v4)), v4);
  }
});
