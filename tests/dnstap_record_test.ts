// toDnstapRecord: exact expected records for a table of dnstap values (a
// query, a response with latency, malformed DNS, every optional field,
// non-MESSAGE values), each checked against the JSON Schema in docs/ and
// for a JSON round trip; mutated DNS never throws; and the schema rejects
// records that break its rules. The captures and the Go tool's text:
// dnstap_record_captures_test.ts.
import assert from "node:assert/strict";
import {
  type DnsMessageRecord,
  type Dnstap,
  type DnstapRecord,
  toDnstapRecord,
} from "../src/dnstap.ts";
import { schemaErrors } from "./_dnstap_record_schema.ts";
import {
  CASES,
  header,
  msg,
  opt,
  option,
  ptr,
  question,
  rr,
  TYPICAL,
  wname,
} from "./_dns_messages.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const LOCAL = bytes(127, 0, 0, 1);

/** The record, after checking it against the schema and a JSON round trip. */
function checked(d: Dnstap): DnstapRecord {
  const record = toDnstapRecord(d);
  assert.equal(schemaErrors(record), null);
  const line = JSON.stringify(record);
  assert.ok(!line.includes("\n"), "one line");
  assert.deepEqual(JSON.parse(line), record);
  return record;
}

// A query message: id 0x1234, rd, example.com. IN A.
const QUERY = CASES["query"]!;
const QUERY_RECORD: DnsMessageRecord = {
  size: 29,
  id: 0x1234,
  opcode: "QUERY",
  rcode: "NOERROR",
  flags: ["rd"],
  question: [{ name: "example.com.", type: "A", class: "IN" }],
  answer: [],
  authority: [],
  additional: [],
};

// TYPICAL (tests/_dns_messages.ts): CNAME and A answers through pointers, an
// NS, an AAAA, and an OPT with DO and a cookie.
const TYPICAL_RECORD: DnsMessageRecord = {
  size: TYPICAL.length,
  id: 0xbeef,
  opcode: "QUERY",
  rcode: "NOERROR",
  flags: ["qr", "rd", "ra"],
  question: [{ name: "www.example.com.", type: "A", class: "IN" }],
  answer: [
    {
      name: "www.example.com.",
      ttl: 300,
      class: "IN",
      type: "CNAME",
      rdata: "web.example.com.",
    },
    {
      name: "www.example.com.",
      ttl: 60,
      class: "IN",
      type: "A",
      rdata: "192.0.2.1",
    },
  ],
  authority: [{
    name: "example.com.",
    ttl: 86400,
    class: "IN",
    type: "NS",
    rdata: "ns.example.com.",
  }],
  additional: [{
    name: "ns.example.com.",
    ttl: 86400,
    class: "IN",
    type: "AAAA",
    rdata: "2001:db8::1",
  }],
  edns: {
    version: 0,
    udp_size: 1232,
    do: true,
    flags: 0x8000,
    extended_rcode: 0,
    options: [{
      code: 10,
      name: "COOKIE",
      data: "AQIDBAUGBwg=",
      text: "0102030405060708",
    }],
  },
};

const EX = wname("example.com.");

// Each case: what it shows, the dnstap value, the record expected.
const TABLE: [string, Dnstap, DnstapRecord][] = [
  [
    "a client query: time is the query's, no response fields",
    {
      type: "MESSAGE",
      identity: enc("ns1"),
      version: enc("unbound 1.17.1"),
      message: {
        type: "CLIENT_QUERY",
        socketFamily: "INET",
        socketProtocol: "UDP",
        queryAddress: LOCAL,
        queryPort: 40000,
        responseAddress: LOCAL,
        responsePort: 53,
        queryTimeSec: 1_796_290_396,
        queryTimeNsec: 123_456_789,
        queryMessage: QUERY,
      },
    },
    {
      type: "CLIENT_QUERY",
      time: "2026-12-03T09:33:16.123456789Z",
      identity: "ns1",
      version: "unbound 1.17.1",
      socket_family: "INET",
      socket_protocol: "UDP",
      query_address: "127.0.0.1",
      query_port: 40000,
      response_address: "127.0.0.1",
      response_port: 53,
      query_time: "2026-12-03T09:33:16.123456789Z",
      query: QUERY_RECORD,
    },
  ],
  [
    "a response with both times: latency, time is the response's",
    {
      type: "MESSAGE",
      identity: enc("ns1"),
      message: {
        type: "CLIENT_RESPONSE",
        queryTimeSec: 1_796_290_396,
        queryTimeNsec: 999_000_000,
        responseTimeSec: 1_796_290_397,
        responseTimeNsec: 1_234_567,
        queryMessage: QUERY,
        responseMessage: TYPICAL,
      },
    },
    {
      type: "CLIENT_RESPONSE",
      time: "2026-12-03T09:33:17.001234567Z",
      identity: "ns1",
      query_time: "2026-12-03T09:33:16.999000000Z",
      response_time: "2026-12-03T09:33:17.001234567Z",
      latency_ns: 2_234_567,
      query: QUERY_RECORD,
      response: TYPICAL_RECORD,
    },
  ],
  [
    "a response whose query time is later: no latency_ns",
    {
      type: "MESSAGE",
      message: {
        type: "RESOLVER_RESPONSE",
        queryTimeSec: 10,
        queryTimeNsec: 5,
        responseTimeSec: 10,
        responseTimeNsec: 4,
      },
    },
    {
      type: "RESOLVER_RESPONSE",
      time: "1970-01-01T00:00:10.000000004Z",
      query_time: "1970-01-01T00:00:10.000000005Z",
      response_time: "1970-01-01T00:00:10.000000004Z",
    },
  ],
  [
    "a query with both times: no latency; seconds without nanoseconds",
    {
      type: "MESSAGE",
      message: {
        type: "AUTH_QUERY",
        queryTimeSec: 0,
        responseTimeSec: 1,
        responseTimeNsec: 0,
      },
    },
    {
      type: "AUTH_QUERY",
      time: "1970-01-01T00:00:00.000000000Z",
      query_time: "1970-01-01T00:00:00.000000000Z",
      response_time: "1970-01-01T00:00:01.000000000Z",
    },
  ],
  [
    "nanoseconds past a second carry; nanoseconds alone give no time",
    {
      type: "MESSAGE",
      message: {
        type: "FORWARDER_RESPONSE",
        queryTimeNsec: 7,
        responseTimeSec: 59,
        responseTimeNsec: 4_294_967_295,
      },
    },
    {
      type: "FORWARDER_RESPONSE",
      time: "1970-01-01T00:01:03.294967295Z",
      response_time: "1970-01-01T00:01:03.294967295Z",
    },
  ],
  [
    "seconds past 2^53 (a bigint) and a latency over 2^53 ns left out",
    {
      type: "MESSAGE",
      message: {
        type: "TOOL_RESPONSE",
        queryTimeSec: 0,
        queryTimeNsec: 0,
        responseTimeSec: 2n ** 64n - 1n,
        responseTimeNsec: 999_999_999,
      },
    },
    {
      type: "TOOL_RESPONSE",
      time: "584554051223-11-09T07:00:15.999999999Z",
      query_time: "1970-01-01T00:00:00.000000000Z",
      response_time: "584554051223-11-09T07:00:15.999999999Z",
    },
  ],
  [
    "an unnamed type: the response's time, no latency",
    {
      type: "MESSAGE",
      message: {
        type: 99,
        queryTimeSec: 1,
        responseTimeSec: 2,
      },
    },
    {
      type: 99,
      time: "1970-01-01T00:00:02.000000000Z",
      query_time: "1970-01-01T00:00:01.000000000Z",
      response_time: "1970-01-01T00:00:02.000000000Z",
    },
  ],
  [
    "an unnamed type with the query's time only",
    { type: "MESSAGE", message: { type: -3, queryTimeSec: 1 } },
    {
      type: -3,
      time: "1970-01-01T00:00:01.000000000Z",
      query_time: "1970-01-01T00:00:01.000000000Z",
    },
  ],
  [
    "every optional field: IPv6, DoH, HTTP2, zero ports, zone, policy, extra",
    {
      type: "MESSAGE",
      identity: bytes(0x72, 0xff, 0xe2, 0x82, 0xac), // "r", a bad byte, "€"
      version: new Uint8Array(0),
      extra: bytes(0, 1, 2, 0xfe, 0xff),
      message: {
        type: "STUB_QUERY",
        socketFamily: "INET6",
        socketProtocol: "DOH",
        queryAddress: bytes(0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 1),
        queryPort: 0,
        responseAddress: bytes(1, 2, 3),
        responsePort: 0,
        queryZone: bytes(...wname("zone.test.")),
        httpProtocol: "HTTP2",
        policy: {
          type: "RPZ",
          rule: bytes(...wname("bad.rpz.")),
          action: "NXDOMAIN",
          match: "QNAME",
          value: bytes(...wname("evil.test.")),
        },
      },
    },
    {
      type: "STUB_QUERY",
      identity: "r\ufffd€",
      version: "",
      extra: "AAEC/v8=",
      socket_family: "INET6",
      socket_protocol: "DOH",
      query_address: "2001:db8::1",
      query_port: 0,
      response_address: "?010203",
      response_port: 0,
      query_zone: "zone.test.",
      http_protocol: "HTTP2",
      policy: {
        type: "RPZ",
        rule: "bad.rpz.",
        action: "NXDOMAIN",
        match: "QNAME",
        value: "BGV2aWwEdGVzdAA=",
      },
    },
  ],
  [
    "unnamed enum numbers stay numbers; undecodable zone and rule",
    {
      type: "MESSAGE",
      message: {
        type: "UPDATE_QUERY",
        socketFamily: 3,
        socketProtocol: 8,
        httpProtocol: 0,
        queryZone: bytes(3, 0x61),
        policy: { rule: new Uint8Array(0), action: 7, match: 9 },
      },
    },
    {
      type: "UPDATE_QUERY",
      socket_family: 3,
      socket_protocol: 8,
      query_zone_error: "dns: buffer size too small",
      http_protocol: 0,
      policy: { rule_error: "dns: buffer size too small", action: 7, match: 9 },
    },
  ],
  [
    "a response cut in its answer: the question kept, miekg's error",
    {
      type: "MESSAGE",
      message: {
        type: "AUTH_RESPONSE",
        responseMessage: TYPICAL.subarray(0, 40),
      },
    },
    {
      type: "AUTH_RESPONSE",
      response: {
        size: 40,
        id: 0xbeef,
        opcode: "QUERY",
        rcode: "NOERROR",
        flags: ["qr", "rd", "ra"],
        question: [{ name: "www.example.com.", type: "A", class: "IN" }],
        answer: [],
        authority: [],
        additional: [],
        error: "dns: overflow unpacking uint32", // the A record's TTL
      },
    },
  ],
  [
    "messages shorter than a header: size and error only",
    {
      type: "MESSAGE",
      message: {
        type: "CLIENT_RESPONSE",
        queryMessage: new Uint8Array(0),
        responseMessage: bytes(1, 2, 3, 4, 5),
      },
    },
    {
      type: "CLIENT_RESPONSE",
      query: { size: 0, error: "dns: overflow unpacking uint16" },
      response: { size: 5, error: "dns: overflow unpacking uint16" },
    },
  ],
  [
    "a pointer loop in the question",
    {
      type: "MESSAGE",
      message: {
        type: "CLIENT_QUERY",
        queryMessage: CASES["pointer to itself"]!,
      },
    },
    {
      type: "CLIENT_QUERY",
      query: {
        size: 18,
        id: 0x1234,
        opcode: "QUERY",
        rcode: "NOERROR",
        flags: [],
        question: [],
        answer: [],
        authority: [],
        additional: [],
        error: "dns: too many compression pointers",
      },
    },
  ],
  [
    "every flag, unnamed opcode and rcode as numbers",
    {
      type: "MESSAGE",
      message: {
        type: "CLIENT_QUERY",
        queryMessage: msg(header({ flags: 0x1ff0 | 0x800b, qd: 0 })),
      },
    },
    {
      type: "CLIENT_QUERY",
      query: {
        size: 12,
        id: 0x1234,
        opcode: 3,
        rcode: 11,
        flags: ["qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"],
        question: [],
        answer: [],
        authority: [],
        additional: [],
      },
    },
  ],
  [
    "EDNS: extended rcode, an EDE with a bad byte, NULL rdata, two OPTs",
    {
      type: "MESSAGE",
      message: {
        type: "CLIENT_RESPONSE",
        responseMessage: msg(
          header({ flags: 0x8400, qd: 1, an: 1, ar: 2 }),
          question(EX, 10, 1),
          rr(ptr(12), 10, 1, 0, [0x41, 0xff]),
          opt([], { udp: 512 }),
          opt(option(15, [0, 18, 0x61, 0xfe]), { ext: 1, version: 1, z: 1 }),
        ),
      },
    },
    {
      type: "CLIENT_RESPONSE",
      response: {
        size: 73,
        id: 0x1234,
        opcode: "QUERY",
        rcode: "BADSIG",
        flags: ["qr", "aa"],
        question: [{ name: "example.com.", type: "NULL", class: "IN" }],
        answer: [{
          name: "example.com.",
          ttl: 0,
          class: "IN",
          type: "NULL",
          rdata: "A\ufffd",
        }],
        authority: [],
        additional: [],
        edns: {
          version: 1,
          udp_size: 1232,
          do: false,
          flags: 1,
          extended_rcode: 1,
          options: [{
            code: 15,
            name: "EDE",
            data: "ABJh/g==",
            text: "18 (Prohibited): (a\ufffd)",
          }],
        },
      },
    },
  ],
  [
    "not a message (Dnstap.type 2): dnstap_type and identity fields only",
    {
      type: 2,
      identity: enc("ns1"),
      version: enc("v"),
      extra: bytes(1),
    },
    { dnstap_type: 2, identity: "ns1", version: "v", extra: "AQ==" },
  ],
  [
    "MESSAGE without a message",
    { type: "MESSAGE", identity: enc("ns1") },
    { dnstap_type: "MESSAGE", identity: "ns1" },
  ],
  [
    "an unnamed Dnstap.type carrying a message keeps both",
    { type: 7, message: { type: "CLIENT_QUERY" } },
    { dnstap_type: 7, type: "CLIENT_QUERY" },
  ],
];

for (const [name, dnstap, expected] of TABLE) {
  Deno.test(`toDnstapRecord: ${name}`, () => {
    assert.deepEqual(checked(dnstap), expected);
  });
}

Deno.test("toDnstapRecord writes the fields in the documented order", () => {
  const [, dnstap] = TABLE[0]!;
  assert.deepEqual(Object.keys(toDnstapRecord(dnstap)), [
    "type",
    "time",
    "identity",
    "version",
    "socket_family",
    "socket_protocol",
    "query_address",
    "query_port",
    "response_address",
    "response_port",
    "query_time",
    "query",
  ]);
  assert.equal(
    JSON.stringify(toDnstapRecord({ type: "MESSAGE", message: { type: 1 } })),
    '{"type":1}',
  );
});

Deno.test("toDnstapRecord never throws on mutated DNS messages", () => {
  const rand = prng(13);
  for (let i = 0; i < 2000; i++) {
    const bytes = mutate(i % 2 === 0 ? TYPICAL : randomMessage(rand), rand);
    checked({
      type: "MESSAGE",
      message: { type: "CLIENT_RESPONSE", responseMessage: bytes },
    });
  }
});

// Records that break a documented rule, each one way: the schema must say no
// (so that the validations above can fail).
const BAD: [string, unknown][] = [
  ["an unknown field", { type: "CLIENT_QUERY", qname: "x." }],
  ["a null", { type: "CLIENT_QUERY", identity: null }],
  ["no type and no dnstap_type", { identity: "ns1" }],
  ["message fields without a type", { dnstap_type: 2, query_port: 1 }],
  ["dnstap_type MESSAGE beside a message", {
    type: "CLIENT_QUERY",
    dnstap_type: "MESSAGE",
  }],
  ["an unknown type name", { type: "CLIENT_QUERIES" }],
  ["a time with six digits", {
    type: "CLIENT_QUERY",
    time: "2026-12-03T09:33:16.123456Z",
  }],
  ["latency without the times", { type: "CLIENT_RESPONSE", latency_ns: 5 }],
  ["a negative latency", {
    type: "CLIENT_RESPONSE",
    query_time: "1970-01-01T00:00:00.000000001Z",
    response_time: "1970-01-01T00:00:00.000000000Z",
    latency_ns: -1,
  }],
  ["extra not base64", { type: "CLIENT_QUERY", extra: "a b" }],
  ["both query_zone and its error", {
    type: "RESOLVER_QUERY",
    query_zone: ".",
    query_zone_error: "x",
  }],
  ["a message without size", {
    type: "CLIENT_QUERY",
    query: { error: "dns: x" },
  }],
  ["a short message with a header field", {
    type: "CLIENT_QUERY",
    query: { size: 5, id: 1, error: "dns: x" },
  }],
  ["a message missing its sections", {
    type: "CLIENT_QUERY",
    query: { size: 12, id: 1, opcode: "QUERY", rcode: "NOERROR", flags: [] },
  }],
  ["an unknown flag", {
    type: "CLIENT_QUERY",
    query: { ...QUERY_RECORD, flags: ["xx"] },
  }],
  ["a record without rdata", {
    type: "CLIENT_RESPONSE",
    response: {
      ...TYPICAL_RECORD,
      answer: [{ name: ".", ttl: 1, class: "IN", type: "A" }],
    },
  }],
];

for (const [name, value] of BAD) {
  Deno.test(`the dnstap record schema rejects ${name}`, () => {
    assert.notEqual(schemaErrors(value), null);
  });
}
