// The Go value printers behind the dnstap formats (src/_go_text.ts): the
// printable-rune table checked against the Go tool, and vectors worked out
// from Go's strconv, encoding/json, net and time sources.
import assert from "node:assert/strict";
import { GO_PRINTABLE } from "../src/_go_isprint.ts";
import {
  goIPString,
  goQuote,
  goQuoteAscii,
  jsonString,
  jsonStringOfBytes,
} from "../src/_go_text.ts";
import { goTimeUTC } from "../src/_go_time.ts";
import { goTrimSpace } from "../src/_dnstap_yaml.ts";
import { interopTest } from "./_peers.ts";
import { goPrintableRanges } from "./_go_isprint.ts";

const b = (...x: number[]): Uint8Array => new Uint8Array(x);

interopTest("GO_PRINTABLE is the Go tool's strconv.IsPrint above U+007F", [
  "dnstap",
], async () => {
  assert.deepEqual(GO_PRINTABLE, (await goPrintableRanges()).flat());
});

Deno.test("goQuote escapes as strconv.Quote", () => {
  const cases: [Uint8Array, string][] = [
    [b(), '""'],
    [b(0x22, 0x5c, 0x41), '"\\"\\\\A"'], // quote, backslash
    [b(7, 8, 9, 10, 11, 12, 13), '"\\a\\b\\t\\n\\v\\f\\r"'],
    [b(0, 0x1b, 0x7f), '"\\x00\\x1b\\x7f"'],
    [b(0xff, 0xc3), '"\\xff\\xc3"'], // invalid, cut
    [b(0xed, 0xa0, 0x80), '"\\xed\\xa0\\x80"'], // a surrogate's bytes
    [b(0xc0, 0x80), '"\\xc0\\x80"'], // overlong
    [b(0xc3, 0xa9), '"\u00e9"'], // é is printable
    [b(0xc2, 0xa0), '"\\u00a0"'], // NBSP is not
    [b(0xf4, 0x8f, 0xbf, 0xbf), '"\\U0010ffff"'],
    [b(0xef, 0xbf, 0xbd), '"\ufffd"'], // a real U+FFFD prints
  ];
  for (const [input, want] of cases) assert.equal(goQuote(input), want);
  assert.equal(goQuoteAscii('a\\"b.'), '"a\\\\\\"b."');
});

Deno.test("jsonString escapes as encoding/json with HTML escaping", () => {
  assert.equal(
    jsonStringOfBytes(b(0x3c, 0x3e, 0x26, 8, 12, 0x7f, 0xff, 0x22)),
    '"\\u003c\\u003e\\u0026\\u0008\\u000c\x7f\\ufffd\\""',
  );
  assert.equal(jsonString("<\b\f&>"), '"\\u003c\\u0008\\u000c\\u0026\\u003e"');
  assert.equal(jsonString('\x1b"\\'), '"\\u001b\\"\\\\"'); // the native path
  assert.equal(
    jsonString("a\u2028b\u2029\n\t\r"),
    '"a\\u2028b\\u2029\\n\\t\\r"',
  );
  assert.equal(
    jsonString("\ud800x\u{1f600}"),
    '"\\ufffd\\ufffd\\ufffdx\u{1f600}"',
  );
});

Deno.test("goIPString prints as net.IP.String", () => {
  const z = (n: number): number[] => new Array(n).fill(0);
  const cases: [Uint8Array, string][] = [
    [b(), "<nil>"],
    [b(1, 2, 3), "?010203"],
    [b(10, 0, 0, 1), "10.0.0.1"],
    [b(...z(16)), "::"],
    [b(...z(10), 255, 255, 1, 2, 3, 4), "1.2.3.4"],
    [b(0, 1, ...z(12), 0, 1), "1::1"],
    [b(0, 1, 0, 0, 0, 1, ...z(10)), "1:0:1::"],
    [b(0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0), "1:0:1:0:1:0:1:0"],
  ];
  for (const [input, want] of cases) assert.equal(goIPString(input), want);
});

Deno.test("goTimeUTC formats as time.Unix(...).UTC().Format", () => {
  assert.equal(goTimeUTC(0, 0, " "), "1970-01-01 00:00:00");
  assert.equal(goTimeUTC(0, 120_000_000, "T"), "1970-01-01T00:00:00.12");
  assert.equal(
    goTimeUTC(59, 2_000_000_001, " "),
    "1970-01-01 00:01:01.000000001",
  );
  // int64 wrap-around: 2^64 - 1 is -1 second.
  assert.equal(goTimeUTC(2n ** 64n - 1n, 0, " "), "1969-12-31 23:59:59");
  assert.equal(goTimeUTC(253_402_300_800, 0, "T"), "10000-01-01T00:00:00");
  assert.equal(
    goTimeUTC(2n ** 64n - 62_135_596_801n, 0, " "),
    "0000-12-31 23:59:59",
  );
});

Deno.test("goTrimSpace trims as strings.TrimSpace", () => {
  assert.equal(goTrimSpace(" \t\n\v\f\r\u0085\u00a0x y\u3000\n"), "x y");
  assert.equal(goTrimSpace("\n\n"), "");
});
