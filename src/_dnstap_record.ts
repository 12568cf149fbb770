/**
 * {@linkcode toDnstapRecord}: a decoded dnstap record as structured,
 * JSON-ready data of our own design (the NDJSON of `fstrm dnstap --json`),
 * the DNS messages parsed into header, question, sections and EDNS.
 *
 * @module
 */
import type { Dnstap, DnstapMessage, DnstapPolicy } from "./_dnstap_types.ts";
import type {
  DnsEdnsOptionRecord,
  DnsFlag,
  DnsMessageRecord,
  DnsResourceRecord,
  DnstapPolicyRecord,
  DnstapRecord,
} from "./_dnstap_record_types.ts";
import { DnsMessage, type DnsRecord } from "./_dns_message.ts";
import { opcodeName, rcodeName } from "./_dns_names.ts";
import { base64 } from "./_dns_rdata_format.ts";
import { formatDnstapAddress, formatDnstapTime } from "./_dnstap_text.ts";
import { unpackZone } from "./_dnstap_yaml.ts";

const UTF8 = new TextDecoder();

/** Bytes as base64 (RFC 4648, padded). */
function b64(bytes: Uint8Array): string {
  return base64(bytes, 0, bytes.length);
}

/**
 * Text that may hold a byte miekg/dns printed raw (U+DC00 + byte, see
 * `goUtf8`): each such lone surrogate as U+FFFD, so that the record is
 * well-formed Unicode (and `JSON.stringify` writes no `\udcXX`).
 */
function wellFormed(s: string): string {
  return s.isWellFormed() ? s : s.toWellFormed();
}

/** Last identity and version bytes and their text (senders repeat them). */
class TextCache {
  #bytes: Uint8Array = new Uint8Array(0);
  #text = "";

  get(b: Uint8Array): string {
    const last = this.#bytes;
    if (b.length === last.length && b.length <= 64) {
      let i = 0;
      while (i < b.length && b[i] === last[i]) i++;
      if (i === b.length) return this.#text;
    }
    this.#bytes = b.slice();
    this.#text = UTF8.decode(b);
    return this.#text;
  }
}
const IDENTITY = new TextCache();
const VERSION = new TextCache();

const NS = 1_000_000_000;

/** A time's seconds and nanoseconds, nanoseconds past a second carried. */
function normalTime(
  sec: number | bigint,
  nsec: number | undefined,
): [number | bigint, number] {
  const n = nsec ?? 0;
  if (n < NS) return [sec, n];
  const carry = Math.floor(n / NS);
  const s = typeof sec === "bigint" || sec + carry > Number.MAX_SAFE_INTEGER
    ? BigInt(sec) + BigInt(carry)
    : sec + carry;
  return [s, n % NS];
}

/** The last day's `YYYY-MM-DDT` (records come in time order). */
let dayNumber = -1;
let dayText = "";

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** formatDnstapTime, with the date of safe-integer seconds cached. */
function timeText(sec: number | bigint, nsec: number): string {
  if (typeof sec !== "number") return formatDnstapTime(sec, nsec);
  const day = Math.floor(sec / 86400);
  if (day !== dayNumber) {
    const t = formatDnstapTime(day * 86400, 0);
    dayText = t.slice(0, t.indexOf("T") + 1);
    dayNumber = day;
  }
  const rem = sec - day * 86400;
  const ns = String(nsec);
  return dayText + two(Math.floor(rem / 3600)) + ":" +
    two(Math.floor(rem / 60) % 60) + ":" + two(rem % 60) + "." +
    "000000000".slice(ns.length) + ns + "Z";
}

/** formatDnstapAddress, with IPv4 spelled out. */
function addressText(a: Uint8Array): string {
  return a.length === 4
    ? a[0] + "." + a[1] + "." + a[2] + "." + a[3]
    : formatDnstapAddress(a);
}

/** `b - a` in nanoseconds, or -1 when negative or not a safe integer. */
function latency(
  a: [number | bigint, number],
  b: [number | bigint, number],
): number {
  const [as, an] = a;
  const [bs, bn] = b;
  if (typeof as === "number" && typeof bs === "number") {
    const d = bs - as;
    if (d >= 0 && d < 9_000_000) {
      const ns = d * NS + (bn - an);
      return ns >= 0 ? ns : -1;
    }
    if (d < 0) return -1;
  }
  const ns = (BigInt(bs) - BigInt(as)) * BigInt(NS) + BigInt(bn - an);
  return ns >= 0n && ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : -1;
}

/** 1 for a *_QUERY type, 2 for a *_RESPONSE, 0 for an unnamed number. */
function side(type: DnstapMessage["type"]): number {
  if (typeof type === "number") return 0;
  return type.endsWith("_QUERY") ? 1 : 2;
}

function resourceRecords(rrs: readonly DnsRecord[]): DnsResourceRecord[] {
  const out: DnsResourceRecord[] = [];
  for (let i = 0; i < rrs.length; i++) {
    const r = rrs[i]!;
    // OPT records: miekg/dns prints none in its sections (`edns` is one).
    if (r.type === 41) continue;
    out.push({
      name: r.name,
      ttl: r.ttl,
      class: r.className,
      type: r.typeName,
      rdata: wellFormed(r.data),
    });
  }
  return out;
}

function flagsOf(b2: number, b3: number): DnsFlag[] {
  const f: DnsFlag[] = [];
  if (b2 & 0x80) f.push("qr");
  if (b2 & 0x04) f.push("aa");
  if (b2 & 0x02) f.push("tc");
  if (b2 & 0x01) f.push("rd");
  if (b3 & 0x80) f.push("ra");
  if (b3 & 0x40) f.push("z");
  if (b3 & 0x20) f.push("ad");
  if (b3 & 0x10) f.push("cd");
  return f;
}

/**
 * A DNS message as a {@linkcode DnsMessageRecord}: what miekg/dns unpacks,
 * and its error where it fails. Never throws for malformed bytes.
 *
 * @param bytes The message in wire format.
 * @returns The record.
 */
export function toDnsMessageRecord(bytes: Uint8Array): DnsMessageRecord {
  const dns = new DnsMessage(bytes);
  if (bytes.length < 12) {
    return { size: bytes.length, error: dns.error?.goError ?? "" };
  }
  // Parse every section first: edns and error then come from what parsed.
  const additionals = dns.additionals;
  const rcode = dns.rcode;
  const out: DnsMessageRecord = {
    size: bytes.length,
    id: dns.id,
    opcode: opcodeName(dns.opcode) || dns.opcode,
    rcode: rcodeName(rcode) || rcode,
    flags: flagsOf(bytes[2]!, bytes[3]!),
    question: dns.questions.map((q) => ({
      name: q.name,
      type: q.typeName,
      class: q.className,
    })),
    answer: resourceRecords(dns.answers),
    authority: resourceRecords(dns.authorities),
    additional: resourceRecords(additionals),
  };
  const edns = dns.edns;
  if (edns !== null) {
    const options: DnsEdnsOptionRecord[] = [];
    for (const o of edns.options) {
      options.push({
        code: o.code,
        name: o.name,
        data: b64(o.data),
        text: wellFormed(o.text),
      });
    }
    out.edns = {
      version: edns.version,
      udp_size: edns.udpSize,
      do: edns.dnssecOk,
      flags: edns.flags,
      extended_rcode: edns.extendedRcode,
      options,
    };
  }
  const error = dns.error;
  if (error !== null) out.error = error.goError;
  return out;
}

function policyRecord(p: DnstapPolicy): DnstapPolicyRecord {
  const out: DnstapPolicyRecord = {};
  if (p.type !== undefined) out.type = wellFormed(p.type);
  if (p.rule !== undefined) {
    const [name, err] = unpackZone(p.rule);
    if (err === null) out.rule = name;
    else out.rule_error = err;
  }
  if (p.action !== undefined) out.action = p.action;
  if (p.match !== undefined) out.match = p.match;
  if (p.value !== undefined) out.value = b64(p.value);
  return out;
}

/**
 * A decoded dnstap record as structured, JSON-ready data of our own design:
 * `JSON.stringify(toDnstapRecord(d))` is one line of `fstrm dnstap --json`.
 * No bigint, no bytes, no `undefined`: an absent field is absent.
 *
 * - Enum values are names, numbers the schema does not name stay numbers;
 *   times are RFC 3339 UTC with all nine digits (nanoseconds of a second or
 *   more carry into the seconds, as Go's `time.Unix` does; a time with
 *   nanoseconds but no seconds is left out); `time` is the event's time
 *   (the query's for `*_QUERY`, the response's for `*_RESPONSE`);
 *   `latency_ns` is the response time minus the query time on a
 *   `*_RESPONSE` carrying both (left out when negative).
 * - Identity and version are UTF-8 text (invalid bytes as U+FFFD), `extra`
 *   and other raw bytes base64, addresses text, `query_zone` a name.
 * - `query` and `response` are the DNS messages parsed as miekg/dns 1.1.50
 *   parses them: header, flags, question, sections with rdata as miekg/dns
 *   prints it, EDNS. A malformed message keeps what parsed before the
 *   failure and gets `error`, miekg/dns's error text; this never throws for
 *   malformed DNS.
 * - A `Dnstap` that is not a message (another type, or MESSAGE without
 *   one) gives `dnstap_type` and the identity fields only.
 *
 * @example
 * ```ts
 * import { toDnstapRecord } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const response = new Uint8Array([
 *   0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
 *   2, 0x6e, 0x73, 0, 0x00, 0x01, 0x00, 0x01, // ns. IN A
 *   0xc0, 12, 0x00, 0x01, 0x00, 0x01, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
 * ]);
 * const record = toDnstapRecord({
 *   type: "MESSAGE",
 *   identity: new TextEncoder().encode("ns1"),
 *   message: {
 *     type: "CLIENT_RESPONSE",
 *     socketProtocol: "UDP",
 *     queryAddress: new Uint8Array([192, 0, 2, 7]),
 *     queryPort: 40000,
 *     queryTimeSec: 1_796_290_396,
 *     queryTimeNsec: 100_000_000,
 *     responseTimeSec: 1_796_290_396,
 *     responseTimeNsec: 101_234_567,
 *     responseMessage: response,
 *   },
 * });
 * assert.deepEqual(record, {
 *   type: "CLIENT_RESPONSE",
 *   time: "2026-12-03T09:33:16.101234567Z",
 *   identity: "ns1",
 *   socket_protocol: "UDP",
 *   query_address: "192.0.2.7",
 *   query_port: 40000,
 *   query_time: "2026-12-03T09:33:16.100000000Z",
 *   response_time: "2026-12-03T09:33:16.101234567Z",
 *   latency_ns: 1_234_567,
 *   response: {
 *     size: 36, id: 7, opcode: "QUERY", rcode: "NOERROR",
 *     flags: ["qr", "rd", "ra"],
 *     question: [{ name: "ns.", type: "A", class: "IN" }],
 *     answer: [
 *       { name: "ns.", ttl: 3600, class: "IN", type: "A", rdata: "192.0.2.1" },
 *     ],
 *     authority: [],
 *     additional: [],
 *   },
 * });
 * assert.equal(JSON.stringify(toDnstapRecord({ type: 2 })), '{"dnstap_type":2}');
 * ```
 *
 * @param dnstap A decoded record ({@linkcode decodeDnstap}).
 * @returns Its structured record.
 * @throws {RangeError} A time field is not a non-negative integer (never for
 * a decoded record).
 */
export function toDnstapRecord(dnstap: Dnstap): DnstapRecord {
  const m = dnstap.message;
  const out: DnstapRecord = {};
  if (m === undefined || dnstap.type !== "MESSAGE") {
    out.dnstap_type = dnstap.type;
  }
  if (m !== undefined) out.type = m.type;
  const times = m === undefined ? null : messageTimes(m);
  if (times !== null && times.time !== undefined) out.time = times.time;
  if (dnstap.identity !== undefined) {
    out.identity = IDENTITY.get(dnstap.identity);
  }
  if (dnstap.version !== undefined) out.version = VERSION.get(dnstap.version);
  if (dnstap.extra !== undefined) out.extra = b64(dnstap.extra);
  if (m === undefined || times === null) return out;
  if (m.socketFamily !== undefined) out.socket_family = m.socketFamily;
  if (m.socketProtocol !== undefined) out.socket_protocol = m.socketProtocol;
  if (m.queryAddress !== undefined) {
    out.query_address = addressText(m.queryAddress);
  }
  if (m.queryPort !== undefined) out.query_port = m.queryPort;
  if (m.responseAddress !== undefined) {
    out.response_address = addressText(m.responseAddress);
  }
  if (m.responsePort !== undefined) out.response_port = m.responsePort;
  if (times.query !== undefined) out.query_time = times.query;
  if (times.response !== undefined) out.response_time = times.response;
  if (times.latency >= 0) out.latency_ns = times.latency;
  if (m.queryZone !== undefined) {
    const [name, err] = unpackZone(m.queryZone);
    if (err === null) out.query_zone = name;
    else out.query_zone_error = err;
  }
  if (m.httpProtocol !== undefined) out.http_protocol = m.httpProtocol;
  if (m.policy !== undefined) out.policy = policyRecord(m.policy);
  if (m.queryMessage !== undefined) {
    out.query = toDnsMessageRecord(m.queryMessage);
  }
  if (m.responseMessage !== undefined) {
    out.response = toDnsMessageRecord(m.responseMessage);
  }
  return out;
}

/** A message's times as text, its event time and its latency (-1: none). */
function messageTimes(m: DnstapMessage): {
  query: string | undefined;
  response: string | undefined;
  time: string | undefined;
  latency: number;
} {
  const q = m.queryTimeSec === undefined
    ? null
    : normalTime(m.queryTimeSec, m.queryTimeNsec);
  const r = m.responseTimeSec === undefined
    ? null
    : normalTime(m.responseTimeSec, m.responseTimeNsec);
  const query = q === null ? undefined : timeText(q[0], q[1]);
  const response = r === null ? undefined : timeText(r[0], r[1]);
  const kind = side(m.type);
  return {
    query,
    response,
    time: kind === 1 ? query : kind === 2 ? response : response ?? query,
    latency: kind === 2 && q !== null && r !== null ? latency(q, r) : -1,
  };
}
