// Portable: the Go tool's three formats and the structured record on this
// runtime, for one typical record. The expected texts were printed by the Go
// `dnstap` tool 0.4 (TZ=UTC for the quiet line's clock, which is local time;
// here only the part after the clock is compared).
import assert from "node:assert/strict";
import {
  decodeDnstap,
  type Dnstap,
  encodeDnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
  parseDnstapAddress,
  toDnstapRecord,
} from "../../src/dnstap.ts";
import { TYPICAL } from "../_dns_messages.ts";
import { test } from "./_harness.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function record(): Dnstap {
  return decodeDnstap(encodeDnstap({
    type: "MESSAGE",
    identity: utf8("ns1 <a&b>"),
    version: utf8("unbound 1.17.1"),
    message: {
      type: "CLIENT_RESPONSE",
      socketFamily: "INET",
      socketProtocol: "UDP",
      queryAddress: parseDnstapAddress("192.0.2.7"),
      responseAddress: parseDnstapAddress("2001:db8::53"),
      queryPort: 40000,
      responsePort: 53,
      queryTimeSec: 1764094866,
      queryTimeNsec: 240151000,
      responseTimeSec: 1764094866,
      responseTimeNsec: 241000500,
      responseMessage: TYPICAL,
    },
  }));
}

test("dnstap: formatDnstapYaml prints what dnstap -y prints", () => {
  assert.equal(
    formatDnstapYaml(record()),
    "type: MESSAGE\n" +
      'identity: "ns1 <a&b>"\n' +
      'version: "unbound 1.17.1"\n' +
      "message:\n" +
      "  type: CLIENT_RESPONSE\n" +
      "  query_time: !!timestamp 2025-11-25 18:21:06.240151\n" +
      "  response_time: !!timestamp 2025-11-25 18:21:06.2410005\n" +
      "  socket_family: INET\n" +
      "  socket_protocol: UDP\n" +
      "  query_address: 192.0.2.7\n" +
      "  response_address: 2001:db8::53\n" +
      "  query_port: 40000\n" +
      "  response_port: 53\n" +
      "  response_message: |\n" +
      "    ;; opcode: QUERY, status: NOERROR, id: 48879\n" +
      "    ;; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 2\n" +
      "    \n" +
      "    ;; OPT PSEUDOSECTION:\n" +
      "    ; EDNS: version 0; flags: do; udp: 1232\n" +
      "    ; COOKIE: 0102030405060708\n" +
      "    \n" +
      "    ;; QUESTION SECTION:\n" +
      "    ;www.example.com.\tIN\t A\n" +
      "    \n" +
      "    ;; ANSWER SECTION:\n" +
      "    www.example.com.\t300\tIN\tCNAME\tweb.example.com.\n" +
      "    www.example.com.\t60\tIN\tA\t192.0.2.1\n" +
      "    \n" +
      "    ;; AUTHORITY SECTION:\n" +
      "    example.com.\t86400\tIN\tNS\tns.example.com.\n" +
      "    \n" +
      "    ;; ADDITIONAL SECTION:\n" +
      "    ns.example.com.\t86400\tIN\tAAAA\t2001:db8::1\n" +
      "---\n",
  );
});

test("dnstap: formatDnstapJson prints what dnstap -j prints", () => {
  assert.equal(
    formatDnstapJson(record()),
    '{"type":"MESSAGE","identity":"ns1 \\u003ca\\u0026b\\u003e","version":"unbound 1.17.1","message":{"type":"CLIENT_RESPONSE","query_time":"2025-11-25T18:21:06.240151Z","response_time":"2025-11-25T18:21:06.2410005Z","socket_family":"INET","socket_protocol":"UDP","query_address":"192.0.2.7","response_address":"2001:db8::53","query_port":40000,"response_port":53,"response_message":";; opcode: QUERY, status: NOERROR, id: 48879\\n;; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 2\\n\\n;; OPT PSEUDOSECTION:\\n; EDNS: version 0; flags: do; udp: 1232\\n; COOKIE: 0102030405060708\\n\\n;; QUESTION SECTION:\\n;www.example.com.\\tIN\\t A\\n\\n;; ANSWER SECTION:\\nwww.example.com.\\t300\\tIN\\tCNAME\\tweb.example.com.\\nwww.example.com.\\t60\\tIN\\tA\\t192.0.2.1\\n\\n;; AUTHORITY SECTION:\\nexample.com.\\t86400\\tIN\\tNS\\tns.example.com.\\n\\n;; ADDITIONAL SECTION:\\nns.example.com.\\t86400\\tIN\\tAAAA\\t2001:db8::1\\n"}}\n',
  );
});

test("dnstap: formatDnstapQuiet prints what dnstap -q prints", () => {
  const line = formatDnstapQuiet(record());
  assert.match(line ?? "", /^\d\d:\d\d:\d\d\.241000 /);
  assert.equal(
    line?.slice(16),
    'CR 192.0.2.7 UDP 135b "www.example.com." IN A\n',
  );
});

test("dnstap: toDnstapRecord gives the structured record", () => {
  const r = toDnstapRecord(record());
  assert.equal(r.type, "CLIENT_RESPONSE");
  assert.equal(r.identity, "ns1 <a&b>");
  assert.equal(r.latency_ns, 849500);
  assert.equal(r.response?.rcode, "NOERROR");
  assert.deepEqual(r.response?.question, [
    { name: "www.example.com.", type: "A", class: "IN" },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
});
