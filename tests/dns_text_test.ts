import assert from "node:assert/strict";
import { dnsMessageText } from "../src/_dns_text.ts";
import { DnsMessageError } from "../src/_dns_wire.ts";
import { goDnsText } from "./_go_dnstap.ts";
import { interopTest } from "./_peers.ts";
import { CASES } from "./_dns_messages.ts";

/** Our text, or "parse failed: " and miekg's error, as the Go tool prints. */
export function ourText(m: Uint8Array): string {
  try {
    return dnsMessageText(m);
  } catch (e) {
    if (e instanceof DnsMessageError) return "parse failed: " + e.goError;
    throw e;
  }
}

interopTest(
  "dnsMessageText equals miekg/dns on the table of hand-built messages",
  [
    "dnstap",
  ],
  async () => {
    const names = Object.keys(CASES);
    const go = await goDnsText(names.map((n) => CASES[n]!));
    for (let i = 0; i < names.length; i++) {
      assert.equal(ourText(CASES[names[i]!]!), go[i], names[i]);
    }
  },
);
