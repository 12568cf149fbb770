// Portable: the dns subpath on this runtime: a typical response's text byte
// for byte, the lazy API on it, and a malformed message.
import assert from "node:assert/strict";
import {
  DnsMessageError,
  formatDnsMessage,
  parseDnsMessage,
} from "../../src/dns.ts";
import { CASES, TYPICAL } from "../_dns_messages.ts";
import { test } from "./_harness.ts";

test("dns: formatDnsMessage prints a typical response as miekg/dns", () => {
  assert.equal(
    formatDnsMessage(TYPICAL),
    ";; opcode: QUERY, status: NOERROR, id: 48879\n" +
      ";; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 2\n" +
      "\n;; OPT PSEUDOSECTION:\n; EDNS: version 0; flags: do; udp: 1232\n" +
      "; COOKIE: 0102030405060708\n" +
      "\n;; QUESTION SECTION:\n;www.example.com.\tIN\t A\n" +
      "\n;; ANSWER SECTION:\n" +
      "www.example.com.\t300\tIN\tCNAME\tweb.example.com.\n" +
      "www.example.com.\t60\tIN\tA\t192.0.2.1\n" +
      "\n;; AUTHORITY SECTION:\nexample.com.\t86400\tIN\tNS\tns.example.com.\n" +
      "\n;; ADDITIONAL SECTION:\nns.example.com.\t86400\tIN\tAAAA\t2001:db8::1\n",
  );
});

test("dns: parseDnsMessage reads the question, records and EDNS", () => {
  const d = parseDnsMessage(TYPICAL);
  assert.equal(d.question?.name, "www.example.com.");
  assert.deepEqual(d.answers.map((r) => r.data), [
    "web.example.com.",
    "192.0.2.1",
  ]);
  assert.equal(d.edns?.options[0]?.name, "COOKIE");
  assert.equal(d.error, null);
});

test("dns: a malformed message gives DnsMessageError, and the lazy API no throw", () => {
  const bytes = CASES["pointer loop of two"]!;
  assert.throws(() => formatDnsMessage(bytes), DnsMessageError);
  const d = parseDnsMessage(bytes);
  assert.equal(d.error?.goError, "dns: too many compression pointers");
  assert.equal(d.question, null);
});
