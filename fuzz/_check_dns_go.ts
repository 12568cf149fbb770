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
// miekg prints NULL rdata and EDE text as raw bytes; our text holds each byte
// that is not UTF-8 as U+DC00 + byte, which the Go tool's JSON shows as
// U+FFFD: asGoJsonText maps ours the same way before comparing.
import fc from "fast-check";
import { parseArgs } from "node:util";
import { DnsMessageError } from "../src/dns.ts";
import { dnsMessageText, quietQuestion } from "../src/_dns_text.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import {
  asGoJsonText,
  goDnstapOutput,
  goDnsText,
} from "../tests/_go_dnstap.ts";
import { toHex } from "./_case.ts";
import { dnsBytesArb } from "./_check_dns_message_arbs.ts";

/** What we print for a message where the Go tool prints its JSON text. */
function ours(m: Uint8Array): string {
  try {
    return asGoJsonText(dnsMessageText(m));
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
