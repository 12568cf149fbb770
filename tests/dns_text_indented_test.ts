// dnsMessageTextIndented (the YAML block of the Go dnstap tool, made in one
// pass) against what it replaces: strings.TrimSpace of dnsMessageText, then
// each newline followed by the indentation. dnsMessageText itself is held to
// miekg/dns in dns_text_test.ts; here the two must agree on every message,
// good or bad, errors included.
import assert from "node:assert/strict";
import {
  dnsMessageText,
  dnsMessageTextIndented,
  goTrimSpace,
} from "../src/_dns_text.ts";
import { DnsMessageError } from "../src/_dns_wire.ts";
import {
  CASES,
  header,
  msg,
  opt,
  option,
  question,
  rr,
  TYPICAL,
  wname,
} from "./_dns_messages.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";

/** The text or the error, by either path. */
function outcome(f: () => string): string {
  try {
    return "text " + f();
  } catch (e) {
    if (e instanceof DnsMessageError) return "error " + e.goError;
    throw e;
  }
}

function check(m: Uint8Array, what: string): void {
  for (const indent of ["    ", "", "\t"]) {
    assert.equal(
      outcome(() => dnsMessageTextIndented(m, indent)),
      outcome(() =>
        goTrimSpace(dnsMessageText(m)).replaceAll("\n", "\n" + indent)
      ),
      `${what}, indent ${JSON.stringify(indent)}`,
    );
  }
}

const EX = wname("example.");
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];

// Messages whose text has newlines or white space of its own: NULL rdata
// (printed raw), EDE text in the OPT section, an empty rdata printed with a
// trailing space as the last line, Unicode white space at the end, two OPT
// records (the ADDITIONAL header with no line under it), a TSIG record.
const SPECIAL: Record<string, Uint8Array> = {
  "NULL rdata with newlines, last": msg(
    header({ id: 1, flags: 0x8180, qd: 1, an: 1 }),
    question(EX, 10),
    rr(EX, 10, 1, 60, utf8("a\nb\n\n")),
  ),
  "NULL rdata ending in U+0085 and U+3000": msg(
    header({ id: 2, flags: 0x8180, qd: 1, an: 1 }),
    question(EX, 10),
    rr(EX, 10, 1, 60, utf8("x \u0085\u3000 \n")),
  ),
  "NULL rdata with newlines, then more records": msg(
    header({ id: 3, flags: 0x8180, qd: 1, an: 2, ar: 1 }),
    question(EX, 10),
    rr(EX, 10, 1, 60, utf8("\n\nz\n")),
    rr(EX, 1, 1, 60, [192, 0, 2, 1]),
    opt(option(15, [0, 6, ...utf8("line1\nline2\n")])),
  ),
  "empty rdata with a trailing space, last": msg(
    header({ id: 4, flags: 0x8180, qd: 1, an: 1 }),
    question(EX, 15),
    rr(EX, 15, 1, 60, []),
  ),
  "unknown type with empty rdata, last": msg(
    header({ id: 5, flags: 0x8180, qd: 1, ns: 1 }),
    question(EX, 1),
    rr(EX, 4660, 1, 60, []),
  ),
  "two OPT records": msg(
    header({ id: 6, flags: 0x8180, qd: 1, ar: 2 }),
    question(EX, 1),
    opt(),
    opt([], { udp: 4096 }),
  ),
  "OPT only, EDE text ending in a newline": msg(
    header({ id: 7, flags: 0x8180, ar: 1 }),
    opt(option(15, [0, 1, ...utf8("bad\n")])),
  ),
  "header only": msg(header({ id: 8, flags: 0x8180 })),
  "TSIG as the last record": msg(
    header({ id: 9, flags: 0x8180, qd: 1, ar: 1 }),
    question(EX, 1),
    rr(EX, 250, 255, 0, [
      ...wname("hmac-sha256."),
      ...[0, 0, 0x60, 0, 0, 0, 1, 44, 0, 0, 0, 9, 0, 0, 0, 0],
    ]),
  ),
};

Deno.test("dnsMessageTextIndented equals TrimSpace and indenting on the table of messages", () => {
  const all = { ...CASES, ...SPECIAL };
  for (const [name, m] of Object.entries(all)) check(m, name);
  // The special cases print what they are meant to print.
  assert.match(
    dnsMessageTextIndented(SPECIAL["NULL rdata with newlines, last"]!, "  "),
    /\tNULL\ta\n {2}b$/,
  );
  assert.match(
    dnsMessageText(SPECIAL["empty rdata with a trailing space, last"]!),
    /\tMX\t0 \n$/,
  );
  assert.match(
    dnsMessageTextIndented(SPECIAL["two OPT records"]!, "    "),
    /;; ADDITIONAL SECTION:$/,
  );
});

Deno.test("dnsMessageTextIndented equals TrimSpace and indenting on every cut of a response", () => {
  for (let n = 0; n <= TYPICAL.length; n++) {
    check(TYPICAL.subarray(0, n), `cut at ${n}`);
  }
});

Deno.test("dnsMessageTextIndented equals TrimSpace and indenting on random and mutated messages", () => {
  const rand = prng(0x7e47);
  const bases = [TYPICAL, ...Object.values(SPECIAL)];
  for (let i = 0; i < 3000; i++) {
    check(randomMessage(rand), `random ${i}`);
    const base = bases[i % bases.length]!;
    check(mutate(base, rand), `mutation ${i} of base ${i % bases.length}`);
  }
});

Deno.test("dnsMessageTextIndented equals TrimSpace and indenting for every type's rdata with newlines, quotes and high bytes", () => {
  // Only NULL rdata and the OPT pseudo-section print bytes raw; this holds
  // every type to it, whatever its rdata holds.
  const rand = prng(0x0a0a);
  const types = [];
  for (let t = 0; t <= 300; t++) types.push(t);
  types.push(32768, 32769, 65280, 65535);
  for (const type of types) {
    for (let k = 0; k < 20; k++) {
      const len = Math.floor(rand() * 40);
      const rdata: number[] = [];
      for (let i = 0; i < len; i++) {
        const r = rand();
        rdata.push(
          r < 0.3
            ? 0x0a
            : r < 0.4
            ? 0x20
            : r < 0.5
            ? 0x85
            : r < 0.6
            ? len - i
            : Math.floor(rand() * 256),
        );
      }
      for (const section of ["an", "ns", "ar"] as const) {
        check(
          msg(
            header({ id: k, flags: 0x8180, qd: 1, [section]: 1 }),
            question(EX, type),
            rr(EX, type, 1, 60, rdata),
          ),
          `type ${type}, rdata ${rdata.join(",")}, in ${section}`,
        );
      }
    }
  }
});
