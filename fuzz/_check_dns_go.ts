// Private: the dns-message fuzz target's inputs against the real miekg/dns,
// through the Go `dnstap` tool (golang-dnstap 0.4, miekg/dns 1.1.50): one
// run of `dnstap -j` and one of `dnstap -q` on all the messages, then
// dnsMessageText and quietQuestion compared with what it printed, message by
// message. The fuzzer itself cannot run the Go tool (no --allow-run, and a
// process per case would be slow); this is the oracle it lacks, run by hand
// or from a test:
//
// ```sh
// deno run -A fuzz/_check_dns_go.ts [--seed N] [--messages N]
// ```
//
// It prints the agreement and the first mismatches (input hex, the first
// line that differs) and exits with status 1 on any mismatch.
//
// One thing is not compared as is: miekg prints NULL rdata as its raw bytes,
// which our text holds one character per byte; the Go tool's JSON turns each
// byte that is not valid UTF-8 into U+FFFD, so the NULL records' data goes
// through the same rule first (goJsonText). Elsewhere a character over 0x7f
// in our text is a code point, as in miekg's NSID text `(¾)`, which Go
// prints as UTF-8: the text alone cannot tell the two apart (see the
// report of the dnsprops branch).
import fc from "fast-check";
import { parseArgs } from "node:util";
import { DnsMessageError, parseDnsMessage } from "../src/dns.ts";
import { dnsMessageText, quietQuestion } from "../src/_dns_text.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { goDnstapOutput, goDnsText } from "../tests/_go_dnstap.ts";
import { toHex } from "./_case.ts";
import { dnsBytesArb } from "./_check_dns_message_arbs.ts";

/**
 * A text whose characters are bytes (0 to 255) as Go's encoding/json prints
 * the string of those bytes: valid UTF-8 kept, each other byte U+FFFD.
 */
export function goJsonText(s: string): string {
  const b = Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  let out = "";
  for (let i = 0; i < b.length;) {
    const x = b[i]!;
    const n = x < 0x80
      ? 1
      : x >= 0xc2 && x < 0xe0
      ? 2
      : x >= 0xe0 && x < 0xf0
      ? 3
      : x >= 0xf0 && x < 0xf5
      ? 4
      : 0;
    let ok = n > 0 && i + n <= b.length;
    for (let k = 1; ok && k < n; k++) {
      const y = b[i + k]!;
      // The second byte's range rules out overlong forms, surrogates and
      // code points past U+10FFFF (as Go's utf8 does).
      const lo = k > 1 ? 0x80 : x === 0xe0 ? 0xa0 : x === 0xf0 ? 0x90 : 0x80;
      const hi = k > 1 ? 0xbf : x === 0xed ? 0x9f : x === 0xf4 ? 0x8f : 0xbf;
      ok = y >= lo && y <= hi;
    }
    if (!ok) {
      out += "\ufffd";
      i++;
      continue;
    }
    out += new TextDecoder().decode(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** What we print for a message where the Go tool prints its JSON text. */
function ours(m: Uint8Array): string {
  try {
    let text = dnsMessageText(m);
    const dns = parseDnsMessage(m);
    for (const r of [...dns.answers, ...dns.authorities, ...dns.additionals]) {
      if (r.type === 10) text = text.replace(r.data, goJsonText(r.data));
    }
    return text;
  } catch (e) {
    if (e instanceof DnsMessageError) return `parse failed: ${e.goError}`;
    return `threw ${e}`;
  }
}

/** The first line where two texts differ, both sides. */
function firstDifference(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `line ${i + 1}:\n  ours: ${JSON.stringify(x[i])}\n  go:   ${
    JSON.stringify(y[i])
  }`;
}

/** Compares `count` generated messages of `seed`; returns the mismatches. */
export async function compareWithGo(
  seed: number,
  count: number,
  log: (line: string) => void = console.log,
): Promise<number> {
  // Empty bytes are no message for the Go tool's JSON (omitted field).
  const messages = fc.sample(dnsBytesArb, { seed, numRuns: count })
    .filter((m) => m.length > 0);
  const text = await goDnsText(messages);
  const frames = messages.map((m) =>
    encodeDnstap({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryMessage: m },
    })
  );
  const quiet = (await goDnstapOutput(frames, "-q")).split("\n");
  let bad = 0;
  messages.forEach((m, i) => {
    const mine = ours(m);
    if (mine !== text[i]) {
      if (bad++ < 5) {
        log(
          `text differs, input ${toHex(m)}\n${firstDifference(mine, text[i]!)}`,
        );
      }
    }
    // The quiet line ends with "<n>b " and the question or "X ".
    const line = quiet[i]!;
    const goQuestion = line.slice(line.indexOf("b ") + 2).trimEnd();
    const q = quietQuestion(m) ?? "X";
    if (q !== goQuestion) {
      if (bad++ < 5) {
        log(
          `quiet question differs, input ${
            toHex(m)
          }: ours ${q}, go ${goQuestion}`,
        );
      }
    }
  });
  log(
    `dns-message vs miekg/dns: seed ${seed}, ${messages.length} messages, ${bad} mismatch${
      bad === 1 ? "" : "es"
    }`,
  );
  return bad;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seed: { type: "string" }, messages: { type: "string" } },
  });
  const seed = Number(
    values.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1,
  );
  const bad = await compareWithGo(seed, Number(values.messages ?? 5000));
  Deno.exit(bad === 0 ? 0 : 1);
}
