// Shared by the `fstrm dnstap` tests: DNS messages and dnstap records built
// byte by byte, a file of them, and the summary line read back.
import assert from "node:assert/strict";
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { type DnstapMessageType, encodeDnstap } from "../src/dnstap.ts";

/** What {@linkcode dnsMessage} builds. */
export interface DnsSpec {
  /** The question's name, presentation format ("www.example.com."). */
  name: string;
  /** Whether it is a response (QR). @default {false} */
  response?: boolean;
  /** The rcode's low 4 bits. @default {0} */
  rcode?: number;
  /** EDNS extended rcode bits (the OPT TTL's high byte); none: no OPT. */
  extendedRcode?: number;
  /** The question's type. @default {1} */
  qtype?: number;
}

/** A name in wire format (no compression, no escapes). */
export function wireName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".").filter((l) => l !== "")) {
    out.push(label.length, ...new TextEncoder().encode(label));
  }
  out.push(0);
  return out;
}

/** A DNS message: header, one question, an OPT record if asked. */
export function dnsMessage(spec: DnsSpec): Uint8Array {
  const opt = spec.extendedRcode !== undefined;
  const flags1 = (spec.response ? 0x80 : 0) | 0x01; // QR, RD
  const flags2 = (spec.response ? 0x80 : 0) | ((spec.rcode ?? 0) & 0x0f);
  const qtype = spec.qtype ?? 1;
  const bytes = [
    0x12,
    0x34,
    flags1,
    flags2,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    opt ? 1 : 0,
    ...wireName(spec.name),
    qtype >> 8,
    qtype & 0xff,
    0,
    1,
  ];
  if (opt) {
    // Root name, type OPT, class 1232, TTL ext-rcode/version/flags, rdlen 0.
    bytes.push(0, 0, 41, 0x04, 0xd0, spec.extendedRcode!, 0, 0, 0, 0, 0);
  }
  return new Uint8Array(bytes);
}

/** One test record: its dnstap type, client and DNS message. */
export interface RecordSpec {
  type: DnstapMessageType;
  client: number[];
  dns: DnsSpec | null;
}

/** A dnstap payload for `spec` (query or response by its type's parity). */
export function recordPayload(spec: RecordSpec, i = 0): Uint8Array {
  const n = typeof spec.type === "number" ? spec.type : 0;
  const response = typeof spec.type === "string"
    ? spec.type.endsWith("_RESPONSE")
    : n % 2 === 0;
  const dns = spec.dns === null
    ? undefined
    : dnsMessage({ ...spec.dns, response });
  return encodeDnstap({
    type: "MESSAGE",
    identity: new TextEncoder().encode("ns1"),
    version: new TextEncoder().encode("test 1"),
    message: {
      type: spec.type,
      socketFamily: spec.client.length === 4 ? "INET" : "INET6",
      socketProtocol: i % 2 === 0 ? "UDP" : "TCP",
      queryAddress: new Uint8Array(spec.client),
      responseAddress: new Uint8Array(
        spec.client.length === 4 ? [192, 0, 2, 53] : [
          0x20,
          0x01,
          0x0d,
          0xb8,
          ...new Array(11).fill(0),
          0x53,
        ],
      ),
      queryPort: 40000 + i,
      responsePort: 53,
      queryTimeSec: 1_764_094_866 + i,
      queryTimeNsec: 240_151_000 + i,
      ...(response
        ? {
          responseTimeSec: 1_764_094_866 + i,
          responseTimeNsec: 250_000_000 + i,
          ...(dns === undefined ? {} : { responseMessage: dns }),
        }
        : dns === undefined
        ? {}
        : { queryMessage: dns }),
    },
  });
}

const V4 = (d: number) => [192, 0, 2, d];
const V4B = (d: number) => [198, 51, 100, d];
const V6 = (d: number) => [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), d];

/**
 * The records of the filter tests (index: what it is). Counts the tests
 * rely on: 12 records; CLIENT_QUERY 4, CLIENT_RESPONSE 4, AUTH_QUERY 1,
 * AUTH_RESPONSE 1, RESOLVER_QUERY 1, RESOLVER_RESPONSE 1.
 */
export const RECORDS: readonly RecordSpec[] = [
  // 0: CQ www.example.com. from 192.0.2.1
  { type: "CLIENT_QUERY", client: V4(1), dns: { name: "www.example.com." } },
  // 1: CR www.example.com. NOERROR to 192.0.2.1
  { type: "CLIENT_RESPONSE", client: V4(1), dns: { name: "www.example.com." } },
  // 2: CQ badexample.com. from 198.51.100.7 (not under example.com)
  { type: "CLIENT_QUERY", client: V4B(7), dns: { name: "badexample.com." } },
  // 3: CR badexample.com. NXDOMAIN
  {
    type: "CLIENT_RESPONSE",
    client: V4B(7),
    dns: { name: "badexample.com.", rcode: 3 },
  },
  // 4: CQ WWW.Example.COM. (mixed case) from 2001:db8::5
  { type: "CLIENT_QUERY", client: V6(5), dns: { name: "WWW.Example.COM." } },
  // 5: CR nx.example.com. NXDOMAIN with OPT (extended bits 0) to 2001:db8::5
  {
    type: "CLIENT_RESPONSE",
    client: V6(5),
    dns: { name: "nx.example.com.", rcode: 3, extendedRcode: 0 },
  },
  // 6: AQ example.com. from 192.0.2.200
  { type: "AUTH_QUERY", client: V4(200), dns: { name: "example.com." } },
  // 7: AR example.com. SERVFAIL
  {
    type: "AUTH_RESPONSE",
    client: V4(200),
    dns: { name: "example.com.", rcode: 2 },
  },
  // 8: RQ example.org. from 198.51.100.9
  { type: "RESOLVER_QUERY", client: V4B(9), dns: { name: "example.org." } },
  // 9: RR example.org. BADVERS (header 0, OPT extended 1 = 16)
  {
    type: "RESOLVER_RESPONSE",
    client: V4B(9),
    dns: { name: "example.org.", rcode: 0, extendedRcode: 1 },
  },
  // 10: CQ without a DNS message, from 192.0.2.1
  { type: "CLIENT_QUERY", client: V4(1), dns: null },
  // 11: CR a.example.com.example.net. (example.com not a suffix) REFUSED
  {
    type: "CLIENT_RESPONSE",
    client: V6(0x99),
    dns: { name: "a.example.com.example.net.", rcode: 5 },
  },
];

/** The payloads of {@linkcode RECORDS}. */
export const PAYLOADS: readonly Uint8Array[] = RECORDS.map((r, i) =>
  recordPayload(r, i)
);

/** A dnstap Frame Streams file of `payloads`. */
export function dnstapFile(payloads: readonly Uint8Array[]): Uint8Array {
  return encodeFrameStream(payloads, { contentType: DNSTAP_CONTENT_TYPE });
}

/** The data frames' payloads of a Frame Streams file, and its START's type. */
export function readBack(
  bytes: Uint8Array,
): { contentType: string | null; payloads: Uint8Array[] } {
  const payloads: Uint8Array[] = [];
  let contentType: string | null = null;
  for (const f of decodeFrames(bytes)) {
    if (f.kind === "data") payloads.push(f.data.slice());
    else if (f.type === 2 && f.contentTypes[0] !== undefined) {
      contentType = new TextDecoder().decode(f.contentTypes[0]);
    }
  }
  return { contentType, payloads };
}

/** The summary's counts, read off stderr. */
export interface Summary {
  frames: number;
  output: number;
  filtered: number;
  malformed: number;
  unprintable: number;
}

/** Reads the summary line off `stderr` (it must be there, once). */
export function summaryOf(stderr: string): Summary {
  const m = stderr.match(
    /fstrm dnstap: ([\d,]+) frames read, ([\d,]+) records (?:printed|written), ([\d,]+) filtered out, ([\d,]+) malformed dnstap, ([\d,]+) not printable/g,
  );
  assert.equal(m?.length, 1, `one summary line in: ${stderr}`);
  const n =
    /([\d,]+) frames read, ([\d,]+) records (?:printed|written), ([\d,]+) filtered out, ([\d,]+) malformed dnstap, ([\d,]+) not printable/
      .exec(m![0])!.slice(1).map((s) => Number(s.replaceAll(",", "")));
  return {
    frames: n[0]!,
    output: n[1]!,
    filtered: n[2]!,
    malformed: n[3]!,
    unprintable: n[4]!,
  };
}
