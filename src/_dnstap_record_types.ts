/**
 * The types of {@linkcode toDnstapRecord}'s records: plain objects ready for
 * `JSON.stringify`, one NDJSON line each. docs/dnstap_records.md and
 * docs/dnstap_record.schema.json describe the same shape.
 *
 * @module
 */
import type {
  DnstapHttpProtocol,
  DnstapMessageType,
  DnstapPolicyAction,
  DnstapPolicyMatch,
  DnstapSocketFamily,
  DnstapSocketProtocol,
  DnstapType,
} from "./_dnstap_types.ts";

/**
 * A question of a DNS message in a {@linkcode DnsMessageRecord}.
 *
 * @example
 * ```ts
 * import type { DnsQuestionRecord } from "@fstrm/fstrm/dnstap";
 * const q: DnsQuestionRecord = { name: "example.com.", type: "A", class: "IN" };
 * ```
 */
export interface DnsQuestionRecord {
  /** The name as miekg/dns prints it (`"www.example.com."`, `\DDD` escapes). */
  name: string;
  /** QTYPE as miekg/dns names it (`"AAAA"`, `"TYPE65280"`). */
  type: string;
  /** QCLASS as miekg/dns names it (`"IN"`, `"CLASS255"`). */
  class: string;
}

/**
 * A resource record of the answer, authority or additional section.
 *
 * @example
 * ```ts
 * import type { DnsResourceRecord } from "@fstrm/fstrm/dnstap";
 * const rr: DnsResourceRecord = {
 *   name: "example.com.", ttl: 3600, class: "IN", type: "MX",
 *   rdata: "10 mail.example.com.",
 * };
 * ```
 */
export interface DnsResourceRecord {
  /** The owner name as miekg/dns prints it. */
  name: string;
  /** TTL in seconds, 0 to 2^32 - 1. */
  ttl: number;
  /** CLASS as miekg/dns names it (`"IN"`, `"CLASS4096"`). */
  class: string;
  /** TYPE as miekg/dns names it (`"A"`, `"TYPE65280"`). */
  type: string;
  /**
   * The rdata as miekg/dns 1.1.50 prints it after the record's header, as
   * the Go `dnstap` tool's YAML and JSON show it (`"192.0.2.1"`,
   * `"10 mail.example.com."`, `"\\# 4 0a000001"` for a type miekg/dns does
   * not know); bytes that are not UTF-8 (in NULL rdata) as U+FFFD.
   */
  rdata: string;
}

/**
 * One EDNS option.
 *
 * @example
 * ```ts
 * import type { DnsEdnsOptionRecord } from "@fstrm/fstrm/dnstap";
 * const o: DnsEdnsOptionRecord = {
 *   code: 10, name: "COOKIE", data: "AQIDBAUGBwg=", text: "0102030405060708",
 * };
 * ```
 */
export interface DnsEdnsOptionRecord {
  /** The option code. */
  code: number;
  /** IANA's mnemonic (`"COOKIE"`, `"ECS"`, `"EDE"`), or `"OPT"` and the code. */
  name: string;
  /** The option data, base64 (RFC 4648, padded). */
  data: string;
  /**
   * The option as miekg/dns prints it (`"192.0.2.0/24/0"` for a client
   * subnet, `"18 (Prohibited): ()"` for an EDE), bytes that are not UTF-8
   * as U+FFFD.
   */
  text: string;
}

/**
 * The EDNS OPT pseudo-record of a message.
 *
 * @example
 * ```ts
 * import type { DnsEdnsRecord } from "@fstrm/fstrm/dnstap";
 * const e: DnsEdnsRecord = {
 *   version: 0, udp_size: 1232, do: true, flags: 0x8000, extended_rcode: 0,
 *   options: [],
 * };
 * ```
 */
export interface DnsEdnsRecord {
  /** EDNS version. */
  version: number;
  /** The sender's UDP payload size (the OPT record's class). */
  udp_size: number;
  /** The DO bit. */
  do: boolean;
  /** The 16 flag bits, DO (0x8000) included. */
  flags: number;
  /** The upper 8 bits of the 12-bit rcode (already in the message's `rcode`). */
  extended_rcode: number;
  /** The options, in wire order. */
  options: DnsEdnsOptionRecord[];
}

/** A DNS header flag, in the order miekg/dns prints them. */
export type DnsFlag = "qr" | "aa" | "tc" | "rd" | "ra" | "z" | "ad" | "cd";

/**
 * A DNS message (dnstap's `query_message` or `response_message`), parsed as
 * miekg/dns 1.1.50 `Msg.Unpack` parses it. Shorter than its 12-byte header,
 * it has `size` and `error` only; otherwise every field but `edns` and
 * `error`. Where unpacking fails, the sections hold what was read before the
 * failure and `error` says why.
 *
 * @example
 * ```ts
 * import type { DnsMessageRecord } from "@fstrm/fstrm/dnstap";
 * const m: DnsMessageRecord = {
 *   size: 29, id: 4660, opcode: "QUERY", rcode: "NOERROR", flags: ["rd"],
 *   question: [{ name: "example.com.", type: "A", class: "IN" }],
 *   answer: [], authority: [], additional: [],
 * };
 * ```
 */
export interface DnsMessageRecord {
  /** The message's length in bytes. */
  size: number;
  /** The message ID. */
  id?: number;
  /** The opcode as miekg/dns names it (`"QUERY"`, `"NOTIFY"`), else its number. */
  opcode?: string | number;
  /**
   * The rcode with the EDNS extended bits, as miekg/dns names it
   * (`"NXDOMAIN"`, `"BADCOOKIE"`), else its number.
   */
  rcode?: string | number;
  /** The header flags that are set, in miekg/dns's order. */
  flags?: DnsFlag[];
  /** The questions. */
  question?: DnsQuestionRecord[];
  /** The answer section. */
  answer?: DnsResourceRecord[];
  /** The authority section. */
  authority?: DnsResourceRecord[];
  /**
   * The additional section without OPT records (`edns` is the last one; a
   * second is malformed, and miekg/dns prints none of them in a section).
   */
  additional?: DnsResourceRecord[];
  /** The EDNS OPT record (the last one, as miekg/dns takes it). */
  edns?: DnsEdnsRecord;
  /** miekg/dns's error text where it cannot unpack the message. */
  error?: string;
}

/**
 * The policy (RPZ, say) that acted on a message.
 *
 * @example
 * ```ts
 * import type { DnstapPolicyRecord } from "@fstrm/fstrm/dnstap";
 * const p: DnstapPolicyRecord = { type: "RPZ", rule: "bad.rpz.", action: "NXDOMAIN" };
 * ```
 */
export interface DnstapPolicyRecord {
  /** The policy's kind (`"RPZ"`). */
  type?: string;
  /** The rule, a domain name as miekg/dns prints it. */
  rule?: string;
  /** Where the rule's bytes are no domain name: miekg/dns's error text. */
  rule_error?: string;
  /** What the policy did: a name, else its number. */
  action?: DnstapPolicyAction;
  /** What matched: a name, else its number. */
  match?: DnstapPolicyMatch;
  /** The value that matched, base64. */
  value?: string;
}

/**
 * One dnstap record as plain JSON-ready data: no bigint, no bytes, no
 * `undefined` (an absent field is an absent property). A record with a
 * message has `type`; one without (a `Dnstap` of another type, or a
 * MESSAGE without its message) has `dnstap_type` and the identity fields
 * only. `dnstap_type` also appears beside a message when the `Dnstap`'s
 * type is a number the schema does not name.
 *
 * @example
 * ```ts
 * import type { DnstapRecord } from "@fstrm/fstrm/dnstap";
 * const r: DnstapRecord = {
 *   type: "CLIENT_QUERY",
 *   time: "2026-12-03T09:33:16.123456789Z",
 *   identity: "ns1",
 *   query_address: "127.0.0.1",
 * };
 * ```
 */
export interface DnstapRecord {
  /** The `Dnstap`'s type, when it is not MESSAGE or there is no message. */
  dnstap_type?: DnstapType;
  /** The message's type: a name, else its number. */
  type?: DnstapMessageType;
  /**
   * The event's time, RFC 3339 UTC with nine digits: the query's for
   * `*_QUERY` types, the response's for `*_RESPONSE`; for an unnamed type,
   * the response's when present, else the query's.
   */
  time?: string;
  /** The sender's identity, UTF-8 (invalid bytes as U+FFFD). */
  identity?: string;
  /** The sender's version, UTF-8 (invalid bytes as U+FFFD). */
  version?: string;
  /** `Dnstap.extra`, base64. */
  extra?: string;
  /** The socket family: a name, else its number. */
  socket_family?: DnstapSocketFamily;
  /** The transport: a name, else its number. */
  socket_protocol?: DnstapSocketProtocol;
  /** The initiator's address as text (`"192.0.2.1"`, `"2001:db8::1"`). */
  query_address?: string;
  /** The initiator's port. */
  query_port?: number;
  /** The responder's address as text. */
  response_address?: string;
  /** The responder's port. */
  response_port?: number;
  /** The query's time, RFC 3339 UTC with nine digits. */
  query_time?: string;
  /** The response's time, RFC 3339 UTC with nine digits. */
  response_time?: string;
  /**
   * On a `*_RESPONSE` with both times: response time minus query time, in
   * nanoseconds (absent when negative or past 2^53 - 1).
   */
  latency_ns?: number;
  /** The zone a resolver's query was for, as miekg/dns prints the name. */
  query_zone?: string;
  /** Where `query_zone`'s bytes are no domain name: miekg/dns's error. */
  query_zone_error?: string;
  /** The HTTP version, for DoH: a name, else its number. */
  http_protocol?: DnstapHttpProtocol;
  /** The policy that acted on the message. */
  policy?: DnstapPolicyRecord;
  /** The query message, parsed. */
  query?: DnsMessageRecord;
  /** The response message, parsed. */
  response?: DnsMessageRecord;
}
