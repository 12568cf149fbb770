/**
 * A DNS message as the Go `dnstap` tool prints it: miekg/dns 1.1.50's
 * `Msg.Unpack` followed by `Msg.String()`, in one pass over the bytes, and
 * the question its quiet format shows.
 *
 * @module
 */

import { className, opcodeName, rcodeName, typeName } from "./_dns_names.ts";
import {
  questionLine,
  QuestionScratch,
  recordLine,
  RecordScratch,
  unpackQuestion,
  unpackRecord,
} from "./_dns_record.ts";
import { DnsMessageError, WireCursor } from "./_dns_wire.ts";

/** The error miekg/dns gives for a message shorter than its header. */
const ERR_HEADER = "dns: overflow unpacking uint16";

/**
 * Throws miekg/dns's error when the message is shorter than the 12-byte
 * header.
 *
 * @param msg The DNS message.
 */
export function checkHeader(msg: Uint8Array): void {
  if (msg.length < 12) {
    throw new DnsMessageError(msg.length & ~1, ERR_HEADER);
  }
}

/**
 * miekg/dns `MsgHdr.String()`: opcode, status, id and flags.
 *
 * @param msg The DNS message (at least 12 bytes).
 * @param rcode The rcode, extended bits included.
 * @returns `;; opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr rd;`
 */
export function headerText(msg: Uint8Array, rcode: number): string {
  const b2 = msg[2]!;
  const b3 = msg[3]!;
  let s = ";; opcode: " + opcodeName((b2 >> 3) & 0xf) + ", status: " +
    rcodeName(rcode) + ", id: " + ((msg[0]! << 8) | msg[1]!) + "\n;; flags:";
  if (b2 & 0x80) s += " qr";
  if (b2 & 0x04) s += " aa";
  if (b2 & 0x02) s += " tc";
  if (b2 & 0x01) s += " rd";
  if (b3 & 0x80) s += " ra";
  if (b3 & 0x40) s += " z";
  if (b3 & 0x20) s += " ad";
  if (b3 & 0x10) s += " cd";
  return s + ";";
}

const scratchQ = new QuestionScratch();
const scratchR = new RecordScratch();

/**
 * A DNS message as miekg/dns 1.1.50 prints it after unpacking it:
 * `Msg.Unpack` then `Msg.String()`, exactly (dig-like sections, the OPT
 * pseudo-section, the extended rcode, miekg's counts of what it read).
 * Bytes after the last record read are ignored, as miekg/dns ignores them.
 *
 * @param msg The DNS message in wire format.
 * @returns The text the Go `dnstap` tool embeds in its YAML and JSON.
 * @throws {DnsMessageError} Where `Msg.Unpack` fails; its `goError` is
 *   miekg/dns's `err.Error()`.
 */
export function dnsMessageText(msg: Uint8Array): string {
  checkHeader(msg);
  const n = msg.length;
  const b3 = msg[3]!;
  if (n === 12) {
    return headerText(msg, b3 & 0xf) +
      " QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0\n";
  }
  const cur = new WireCursor();
  cur.off = 12;
  cur.end = n;
  const q = scratchQ;
  const r = scratchR;
  let qText = "";
  const qdcount = (msg[4]! << 8) | msg[5]!;
  for (let i = 0; i < qdcount; i++) {
    unpackQuestion(msg, cur, q);
    qText += questionLine(q) + "\n";
  }
  let anText = "";
  let an = 0;
  const ancount = (msg[6]! << 8) | msg[7]!;
  while (an < ancount && unpackRecord(msg, cur, r)) {
    anText += recordLine(r) + "\n";
    an++;
  }
  let nsText = "";
  let ns = 0;
  const nscount = (msg[8]! << 8) | msg[9]!;
  while (ns < nscount && unpackRecord(msg, cur, r)) {
    nsText += recordLine(r) + "\n";
    ns++;
  }
  let arText = "";
  let ar = 0;
  let opt = "";
  let optTtl = -1;
  const arcount = (msg[10]! << 8) | msg[11]!;
  while (ar < arcount && unpackRecord(msg, cur, r)) {
    if (r.type === 41) {
      opt = r.data;
      optTtl = r.ttl;
    } else {
      arText += recordLine(r) + "\n";
    }
    ar++;
  }
  const rcode = (b3 & 0xf) | (optTtl < 0 ? 0 : (optTtl >>> 24) << 4);
  let s = headerText(msg, rcode) + " QUERY: " + qdcount + ", ANSWER: " + an +
    ", AUTHORITY: " + ns + ", ADDITIONAL: " + ar + "\n";
  if (optTtl >= 0) s += opt + "\n";
  if (qdcount > 0) s += "\n;; QUESTION SECTION:\n" + qText;
  if (an > 0) s += "\n;; ANSWER SECTION:\n" + anText;
  if (ns > 0) s += "\n;; AUTHORITY SECTION:\n" + nsText;
  if (ar > 0 && (optTtl < 0 || ar > 1)) {
    s += "\n;; ADDITIONAL SECTION:\n" + arText;
  }
  return s;
}

/**
 * What the Go `dnstap` tool's quiet format shows for a DNS message: when
 * miekg/dns unpacks the whole message and it has a question,
 * `"name." IN A` (the name quoted, then class and type as miekg/dns names
 * them); `null` otherwise (the tool prints `X`).
 *
 * @param msg The DNS message in wire format.
 * @returns The question's text, or `null`.
 */
export function quietQuestion(msg: Uint8Array): string | null {
  const n = msg.length;
  if (n <= 12) return null;
  const qdcount = (msg[4]! << 8) | msg[5]!;
  if (qdcount === 0) return null;
  const cur = new WireCursor();
  cur.off = 12;
  cur.end = n;
  const q = scratchQ;
  const r = scratchR;
  let first = "";
  try {
    for (let i = 0; i < qdcount; i++) {
      unpackQuestion(msg, cur, q);
      if (i === 0) {
        first = '"' + q.name + '" ' + className(q.cls) + " " + typeName(q.type);
      }
    }
    for (let k = 6; k < 12; k += 2) {
      const count = (msg[k]! << 8) | msg[k + 1]!;
      for (let i = 0; i < count && unpackRecord(msg, cur, r); i++);
    }
  } catch (e) {
    if (e instanceof DnsMessageError) return null;
    throw e;
  }
  return first;
}
