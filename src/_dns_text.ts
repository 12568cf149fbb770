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
  skipQuestion,
  skipRecord,
  unpackQuestion,
  unpackRecord,
} from "./_dns_record.ts";
import {
  beginMessage,
  DnsMessageError,
  endMessage,
  WireCursor,
} from "./_dns_wire.ts";

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
 * @param nl What stands for the newline between its two lines.
 * @returns `;; opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr rd;`
 */
export function headerText(msg: Uint8Array, rcode: number, nl = "\n"): string {
  const layout = layoutOf(nl);
  return statusText((msg[2]! >> 3) & 0xf, rcode) + ((msg[0]! << 8) | msg[1]!) +
    layout.flagsText(msg[2]!, msg[3]!);
}

// ";; opcode: QUERY, status: NOERROR, id: " per opcode and rcode seen.
const STATUS: string[] = [];

function statusText(opcode: number, rcode: number): string {
  const key = opcode * 4096 + rcode;
  return STATUS[key] ??= ";; opcode: " + opcodeName(opcode) + ", status: " +
    rcodeName(rcode) + ", id: ";
}

/**
 * The fixed pieces of a message's text for one newline string, made once
 * each (fewer pieces to join, and to copy when the text is flattened).
 */
class Layout {
  readonly question: string;
  readonly answer: string;
  readonly authority: string;
  readonly additional: string;
  /** The newline string. */
  readonly nl: string;
  // nl + ";; flags: qr rd ra;" per combination of the eight flag bits.
  readonly #flags: string[] = [];

  constructor(nl: string) {
    this.nl = nl;
    this.question = nl + nl + ";; QUESTION SECTION:" + nl;
    this.answer = nl + nl + ";; ANSWER SECTION:" + nl;
    this.authority = nl + nl + ";; AUTHORITY SECTION:" + nl;
    this.additional = nl + nl + ";; ADDITIONAL SECTION:";
  }

  /** The header's second line, nl first, from header bytes 2 and 3. */
  flagsText(b2: number, b3: number): string {
    const key = (b2 & 0x87) | ((b3 & 0xf0) >> 1);
    let t = this.#flags[key];
    if (t === undefined) {
      t = this.nl + ";; flags:";
      if (b2 & 0x80) t += " qr";
      if (b2 & 0x04) t += " aa";
      if (b2 & 0x02) t += " tc";
      if (b2 & 0x01) t += " rd";
      if (b3 & 0x80) t += " ra";
      if (b3 & 0x40) t += " z";
      if (b3 & 0x20) t += " ad";
      if (b3 & 0x10) t += " cd";
      t += ";";
      this.#flags[key] = t;
    }
    return t;
  }
}

const LAYOUTS = new Map<string, Layout>();
let lastLayout = new Layout("\n");

function layoutOf(nl: string): Layout {
  // The same newline string message after message: no lookup.
  if (nl === lastLayout.nl) return lastLayout;
  let l = LAYOUTS.get(nl);
  if (l === undefined) {
    l = new Layout(nl);
    if (LAYOUTS.size < 16) LAYOUTS.set(nl, l);
  }
  lastLayout = l;
  return l;
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
  beginMessage(msg);
  try {
    return messageText(msg, "\n") + "\n";
  } finally {
    endMessage();
  }
}

/**
 * What the Go `dnstap` tool's YAML does with {@linkcode dnsMessageText}:
 * `strings.TrimSpace`, then every newline followed by `indent`; made in one
 * pass (the lines are joined with the indented newline as they are made).
 *
 * @param msg The DNS message in wire format.
 * @param indent What follows each newline (YAML's block indentation).
 * @returns The text, trimmed and indented.
 * @throws {DnsMessageError} As {@linkcode dnsMessageText}.
 */
export function dnsMessageTextIndented(
  msg: Uint8Array,
  indent: string,
): string {
  checkHeader(msg);
  beginMessage(msg);
  let s: string;
  try {
    s = messageText(msg, "\n" + indent);
  } finally {
    endMessage();
  }
  // The text starts with ";;"; only its end can need trimming. Trimming
  // after indenting is the same as before: indenting adds white space
  // after white space only.
  return isSpace(s.charCodeAt(s.length - 1)) ? goTrimSpace(s) : s;
}

/** Whether a UTF-16 code unit is white space to Go's `unicode.IsSpace`. */
function isSpace(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 0x85 || c === 0xa0 ||
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * Go's `strings.TrimSpace`.
 *
 * @param s The text.
 * @returns `s` without white space at either end.
 */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/**
 * A record's line with each newline in it as `nl`. Only NULL rdata (printed
 * raw) and an OPT record (a pseudo-section of several lines, some bytes
 * printed raw; also in the answer or authority section) have newlines of
 * their own, and TSIG's line starts with two; every other type's text
 * escapes control bytes. Looking into other lines would flatten each.
 */
function recordNl(line: string, type: number, nl: string): string {
  return nl === "\n" || (type !== 10 && type !== 41 && type !== 250)
    ? line
    : line.replaceAll("\n", nl);
}

// Msg.String() with `nl` for each newline, less the final one.
function messageText(msg: Uint8Array, nl: string): string {
  const n = msg.length;
  const b3 = msg[3]!;
  if (n === 12) {
    return headerText(msg, b3 & 0xf, nl) +
      " QUERY: 0, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0";
  }
  const cur = new WireCursor();
  cur.off = 12;
  cur.end = n;
  const q = scratchQ;
  const r = scratchR;
  // Each section's lines joined by nl (no separator after the last).
  let qText = "";
  const qdcount = (msg[4]! << 8) | msg[5]!;
  for (let i = 0; i < qdcount; i++) {
    unpackQuestion(msg, cur, q);
    const line = questionLine(q); // no newline: the name is escaped
    qText = i === 0 ? line : qText + nl + line;
  }
  let anText = "";
  let an = 0;
  const ancount = (msg[6]! << 8) | msg[7]!;
  while (an < ancount && unpackRecord(msg, cur, r)) {
    const line = recordNl(recordLine(r), r.type, nl);
    anText = an === 0 ? line : anText + nl + line;
    an++;
  }
  let nsText = "";
  let ns = 0;
  const nscount = (msg[8]! << 8) | msg[9]!;
  while (ns < nscount && unpackRecord(msg, cur, r)) {
    const line = recordNl(recordLine(r), r.type, nl);
    nsText = ns === 0 ? line : nsText + nl + line;
    ns++;
  }
  let arText = "";
  let arLines = 0;
  let ar = 0;
  let opt = "";
  let optTtl = -1;
  const arcount = (msg[10]! << 8) | msg[11]!;
  while (ar < arcount && unpackRecord(msg, cur, r)) {
    if (r.type === 41) {
      opt = r.data;
      optTtl = r.ttl;
    } else {
      const line = recordNl(recordLine(r), r.type, nl);
      arText = arLines === 0 ? line : arText + nl + line;
      arLines++;
    }
    ar++;
  }
  const rcode = (b3 & 0xf) | (optTtl < 0 ? 0 : (optTtl >>> 24) << 4);
  const layout = layoutOf(nl);
  let s = headerText(msg, rcode, nl) + " QUERY: " + qdcount + ", ANSWER: " +
    an + ", AUTHORITY: " + ns + ", ADDITIONAL: " + ar;
  if (optTtl >= 0) {
    s += nl + (nl === "\n" ? opt : opt.replaceAll("\n", nl));
  }
  if (qdcount > 0) s += layout.question + qText;
  if (an > 0) s += layout.answer + anText;
  if (ns > 0) s += layout.authority + nsText;
  if (ar > 0 && (optTtl < 0 || ar > 1)) {
    s += layout.additional + (arLines === 0 ? "" : nl + arText);
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
  let first = "";
  beginMessage(msg);
  try {
    unpackQuestion(msg, cur, q);
    first = '"' + q.name + '" ' + className(q.cls) + " " + typeName(q.type);
    for (let i = 1; i < qdcount; i++) skipQuestion(msg, cur);
    for (let k = 6; k < 12; k += 2) {
      const count = (msg[k]! << 8) | msg[k + 1]!;
      for (let i = 0; i < count && skipRecord(msg, cur); i++);
    }
  } catch (e) {
    if (e instanceof DnsMessageError) return null;
    throw e;
  } finally {
    endMessage();
  }
  return first;
}
