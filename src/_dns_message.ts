/**
 * The lazy view of a DNS message: the header read straight from the bytes,
 * the question and each section parsed the first time they are asked for,
 * as miekg/dns 1.1.50 `Msg.Unpack` parses them.
 *
 * @module
 */

import {
  ednsOptionName,
  ednsOptionText,
  forEachEdnsOption,
} from "./_dns_edns.ts";
import { className, typeName } from "./_dns_names.ts";
import {
  QuestionScratch,
  RecordScratch,
  unpackQuestion,
  unpackRecord,
} from "./_dns_record.ts";
import { checkHeader, dnsMessageText } from "./_dns_text.ts";
import { DnsMessageError, WireCursor } from "./_dns_wire.ts";

/** A question: what a query asks for. */
export interface DnsQuestion {
  /** The name, in presentation form with a trailing dot (`"example.com."`). */
  readonly name: string;
  /** QTYPE as a number (`1`). */
  readonly type: number;
  /** QTYPE as miekg/dns names it (`"A"`, `"TYPE65280"`). */
  readonly typeName: string;
  /** QCLASS as a number (`1`). */
  readonly class: number;
  /** QCLASS as miekg/dns names it (`"IN"`, `"CLASS255"`). */
  readonly className: string;
}

/** A resource record of the answer, authority or additional section. */
export interface DnsRecord {
  /** The owner name, in presentation form (`"www.example.com."`). */
  readonly name: string;
  /** TYPE as a number (`28`). */
  readonly type: number;
  /** TYPE as miekg/dns names it (`"AAAA"`, `"TYPE65280"`). */
  readonly typeName: string;
  /** CLASS as a number (for OPT, the UDP payload size). */
  readonly class: number;
  /** CLASS as miekg/dns names it (`"IN"`, `"CLASS1232"`). */
  readonly className: string;
  /** TTL in seconds, 0 to 2^32 - 1 (for OPT, the EDNS flags word). */
  readonly ttl: number;
  /**
   * The rdata as on the wire: a view of the message bytes, not a copy (names
   * in it may be compression pointers into the message).
   */
  readonly rdata: Uint8Array;
  /**
   * The rdata as miekg/dns prints it after the record's header
   * (`"192.0.2.1"`, `"10 mail.example."`, `"\\# 4 0a000001"` for a type it
   * does not know). For OPT, which miekg/dns prints without a header, its
   * whole pseudo-section text.
   */
  readonly data: string;
}

/** One EDNS option of the OPT record. */
export interface DnsEdnsOption {
  /** The option code (`10`). */
  readonly code: number;
  /** IANA's mnemonic (`"COOKIE"`, `"ECS"`, `"EDE"`), or `"OPT"` and the code. */
  readonly name: string;
  /** The option data: a view of the message bytes. */
  readonly data: Uint8Array;
  /**
   * The option as miekg/dns prints it (`"0102030405060708"` for a cookie,
   * `"192.0.2.0/24/0"` for a client subnet, `"18 (Prohibited): ()"`).
   */
  readonly text: string;
}

/** The EDNS OPT pseudo-record (RFC 6891) of a message. */
export interface DnsEdns {
  /** EDNS version (0). */
  readonly version: number;
  /** The sender's UDP payload size (the OPT record's class). */
  readonly udpSize: number;
  /** The DO bit: the sender wants DNSSEC records. */
  readonly dnssecOk: boolean;
  /** The 16 flag bits, DO (0x8000) included. */
  readonly flags: number;
  /** The upper 8 bits of the 12-bit rcode, as in the OPT record. */
  readonly extendedRcode: number;
  /** The options, in wire order. */
  readonly options: readonly DnsEdnsOption[];
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * A DNS message read lazily from its wire-format bytes; made by
 * {@linkcode parseDnsMessage}. Nothing here throws for malformed bytes.
 *
 * - The header fields (`id`, `opcode`, flags, counts) read the bytes and
 *   cost nothing more; they are 0 when the message is shorter than its
 *   12-byte header.
 * - `question` parses the first question only; `questions`, `answers`,
 *   `authorities`, `additionals`, `edns`, `rcode` and `error` parse as far
 *   as they need, once, and keep the result. A caller who wants only the
 *   question pays only for the question.
 * - Parsing follows miekg/dns 1.1.50 `Msg.Unpack`. Where it fails, `error`
 *   says why and where; what was read before the failure is kept (so a
 *   message cut in its answer section still has its question), and the
 *   sections after the failing one are empty.
 *
 * @example A response cut in its answer section
 * ```ts
 * import { parseDnsMessage } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([
 *   0xab, 0xcd, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
 *   2, 0x6e, 0x73, 0, 0x00, 0x01, 0x00, 0x01, // ns. IN A
 *   0xc0, 12, 0x00, 0x01, 0x00, 0x01, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, // cut
 * ]);
 * const dns = parseDnsMessage(bytes);
 * assert.equal(dns.qr, true);
 * assert.equal(dns.question?.name, "ns."); // parses the question only
 * assert.deepEqual(dns.answers, []);
 * assert.equal(dns.error?.goError, "dns: overflowing header size");
 * assert.equal(String(dns), "parse failed: dns: overflowing header size");
 * ```
 */
export class DnsMessage {
  #bytes: Uint8Array;
  // How far parsing got: 0 nothing, 1 questions, 2 answers, 3 authorities,
  // 4 additionals (or stopped by an error).
  #stage = 0;
  #end = 12;
  #error: DnsMessageError | null = null;
  #questions: DnsQuestion[] = [];
  #sections: DnsRecord[][] = [[], [], []];
  #edns: DnsEdns | null | undefined = undefined;

  /**
   * Wraps the bytes; parses nothing yet.
   *
   * @param bytes A DNS message in wire format; kept, not copied.
   */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        "Cannot parse DNS message: bytes is not a Uint8Array",
      );
    }
    this.#bytes = bytes;
  }

  /** The message bytes (the caller's own, not a copy). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  #u16(off: number): number {
    const b = this.#bytes;
    return b.length < 12 ? 0 : (b[off]! << 8) | b[off + 1]!;
  }

  /** The message ID. */
  get id(): number {
    return this.#u16(0);
  }

  /** The opcode, 0 to 15 (0 QUERY, 4 NOTIFY, 5 UPDATE). */
  get opcode(): number {
    return (this.#u16(2) >> 11) & 0xf;
  }

  /** QR: this is a response. */
  get qr(): boolean {
    return (this.#u16(2) & 0x8000) !== 0;
  }

  /** AA: authoritative answer. */
  get aa(): boolean {
    return (this.#u16(2) & 0x0400) !== 0;
  }

  /** TC: truncated. */
  get tc(): boolean {
    return (this.#u16(2) & 0x0200) !== 0;
  }

  /** RD: recursion desired. */
  get rd(): boolean {
    return (this.#u16(2) & 0x0100) !== 0;
  }

  /** RA: recursion available. */
  get ra(): boolean {
    return (this.#u16(2) & 0x0080) !== 0;
  }

  /** Z: the reserved bit. */
  get z(): boolean {
    return (this.#u16(2) & 0x0040) !== 0;
  }

  /** AD: authentic data. */
  get ad(): boolean {
    return (this.#u16(2) & 0x0020) !== 0;
  }

  /** CD: checking disabled. */
  get cd(): boolean {
    return (this.#u16(2) & 0x0010) !== 0;
  }

  /**
   * The response code with the EDNS extended bits (0 to 4095): the header's
   * 4 bits, and the OPT record's upper 8 when there is one. Parses the whole
   * message (the OPT record comes last); {@linkcode DnsMessage.headerRcode}
   * does not.
   */
  get rcode(): number {
    const edns = this.edns;
    return this.headerRcode | (edns === null ? 0 : edns.extendedRcode << 4);
  }

  /** The 4 rcode bits of the header alone. */
  get headerRcode(): number {
    return this.#u16(2) & 0xf;
  }

  /** QDCOUNT as in the header (the message may hold fewer). */
  get questionCount(): number {
    return this.#u16(4);
  }

  /** ANCOUNT as in the header. */
  get answerCount(): number {
    return this.#u16(6);
  }

  /** NSCOUNT as in the header. */
  get authorityCount(): number {
    return this.#u16(8);
  }

  /** ARCOUNT as in the header (the OPT record included). */
  get additionalCount(): number {
    return this.#u16(10);
  }

  /**
   * The first question, or `null` when there is none or it does not parse.
   * Parses that question only.
   */
  get question(): DnsQuestion | null {
    if (this.#stage > 0) return this.#questions[0] ?? null;
    const b = this.#bytes;
    if (b.length <= 12 || this.#u16(4) === 0) return null;
    const cur = new WireCursor();
    cur.off = 12;
    cur.end = b.length;
    try {
      return this.#readQuestion(cur);
    } catch (e) {
      if (e instanceof DnsMessageError) return null;
      throw e;
    }
  }

  /** The questions that parse, in order (usually one). */
  get questions(): readonly DnsQuestion[] {
    this.#parse(1);
    return this.#questions;
  }

  /** The answer section's records that parse. */
  get answers(): readonly DnsRecord[] {
    this.#parse(2);
    return this.#sections[0]!;
  }

  /** The authority section's records that parse. */
  get authorities(): readonly DnsRecord[] {
    this.#parse(3);
    return this.#sections[1]!;
  }

  /**
   * The additional section's records that parse, the OPT pseudo-record
   * included (see {@linkcode DnsMessage.edns} for it).
   */
  get additionals(): readonly DnsRecord[] {
    this.#parse(4);
    return this.#sections[2]!;
  }

  /**
   * The EDNS OPT record of the additional section (the last one, as
   * miekg/dns takes it), or `null` without one.
   */
  get edns(): DnsEdns | null {
    if (this.#edns !== undefined) return this.#edns;
    const extra = this.additionals;
    let found: DnsRecord | undefined;
    for (let i = extra.length - 1; i >= 0 && found === undefined; i--) {
      if (extra[i]!.type === 41) found = extra[i];
    }
    return this.#edns = found === undefined ? null : readEdns(found);
  }

  /**
   * Why miekg/dns `Msg.Unpack` fails on these bytes, or `null` when it
   * succeeds. Parses the whole message.
   */
  get error(): DnsMessageError | null {
    this.#parse(4);
    return this.#error;
  }

  /**
   * The message as miekg/dns 1.1.50 prints it (`Msg.String()`, the text of
   * the Go `dnstap` tool's YAML and JSON), or `"parse failed: "` and the
   * error, as the Go tool prints a message it cannot unpack.
   *
   * @returns The text.
   */
  toString(): string {
    try {
      return dnsMessageText(this.#bytes);
    } catch (e) {
      if (e instanceof DnsMessageError) return "parse failed: " + e.goError;
      throw e;
    }
  }

  #readQuestion(cur: WireCursor): DnsQuestion {
    const q = new QuestionScratch();
    unpackQuestion(this.#bytes, cur, q);
    return {
      name: q.name,
      type: q.type,
      typeName: typeName(q.type),
      class: q.cls,
      className: className(q.cls),
    };
  }

  #parse(stage: number): void {
    if (this.#stage >= stage) return;
    const b = this.#bytes;
    if (this.#stage === 0) {
      try {
        checkHeader(b);
      } catch (e) {
        this.#fail(e);
        return;
      }
      if (b.length === 12) { // miekg/dns: header only
        this.#stage = 4;
        return;
      }
    }
    const cur = new WireCursor();
    cur.off = this.#end;
    cur.end = b.length;
    try {
      while (this.#stage < stage) {
        if (this.#stage === 0) {
          const qdcount = this.#u16(4);
          for (let i = 0; i < qdcount; i++) {
            this.#questions.push(this.#readQuestion(cur));
          }
        } else {
          const count = this.#u16(4 + 2 * this.#stage);
          const out = this.#sections[this.#stage - 1]!;
          const r = new RecordScratch();
          for (let i = 0; i < count && unpackRecord(b, cur, r); i++) {
            out.push({
              name: r.name,
              type: r.type,
              typeName: typeName(r.type),
              class: r.cls,
              className: className(r.cls),
              ttl: r.ttl,
              rdata: b.subarray(r.rdStart, r.rdEnd),
              data: r.data,
            });
          }
        }
        this.#stage++;
        this.#end = cur.off;
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  #fail(e: unknown): void {
    if (!(e instanceof DnsMessageError)) throw e;
    this.#error = e;
    this.#stage = 4;
  }
}

function readEdns(r: DnsRecord): DnsEdns {
  const options: DnsEdnsOption[] = [];
  const rd = r.rdata;
  forEachEdnsOption(rd, 0, rd.length, (code, start, end) => {
    options.push({
      code,
      name: ednsOptionName(code),
      data: rd.subarray(start, end),
      text: ednsOptionText(rd, code, start, end),
    });
  });
  return {
    version: (r.ttl >>> 16) & 0xff,
    udpSize: r.class,
    dnssecOk: (r.ttl & 0x8000) !== 0,
    flags: r.ttl & 0xffff,
    extendedRcode: r.ttl >>> 24,
    options: options.length === 0 ? EMPTY : options,
  };
}

/**
 * Reads a DNS message lazily (see {@linkcode DnsMessage}). Never throws for
 * malformed bytes: they show in `error`.
 *
 * @example
 * ```ts
 * import { parseDnsMessage } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * const response = new Uint8Array([
 *   0x00, 0x07, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
 *   2, 0x6e, 0x73, 0, 0x00, 0x01, 0x00, 0x01, // ns. IN A
 *   0, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0, // OPT: udp 1232, DO
 * ]);
 * const dns = parseDnsMessage(response);
 * assert.equal(dns.rcode, 3); // NXDOMAIN
 * assert.equal(dns.edns?.udpSize, 1232);
 * assert.equal(dns.edns?.dnssecOk, true);
 * assert.equal(dns.additionals[0]?.typeName, "OPT");
 * ```
 *
 * @param bytes A DNS message in wire format; kept, not copied.
 * @returns The message.
 */
export function parseDnsMessage(bytes: Uint8Array): DnsMessage {
  return new DnsMessage(bytes);
}
