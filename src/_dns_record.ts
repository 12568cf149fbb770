/**
 * One question or resource record unpacked as miekg/dns 1.1.50 does
 * (`unpackQuestion`, `UnpackRR`, `unpackHeader`, `UnpackRRWithHeader`,
 * `noRdata`), into a reused scratch object, and printed as its `String()`
 * methods print them.
 *
 * @module
 */

import * as rdata from "./_dns_rdata.ts";
import { optCheck, optText } from "./_dns_edns.ts";
import { className, typeName } from "./_dns_names.ts";
import {
  DnsMessageError,
  readName,
  readU16,
  readU32,
  skipName,
  type WireCursor,
} from "./_dns_wire.ts";

type RdataText = (msg: Uint8Array, type: number, cur: WireCursor) => string;
type RdataCheck = (msg: Uint8Array, type: number, cur: WireCursor) => void;
const rdataText: RdataText = rdata.rdataText;
// The rdata module's optional `rdataValid` (unpack without text), where it
// has one; else the text is made and dropped.
const rdataValid: RdataCheck =
  (rdata as unknown as { rdataValid?: RdataCheck }).rdataValid ??
    ((msg, type, cur) => {
      rdataText(msg, type, cur);
    });

/** miekg/dns's error for an rdlength running past the message. */
export const ERR_HEADER_SIZE = "dns: overflowing header size";
/** miekg/dns's error for rdata that does not end where rdlength says. */
export const ERR_RDLENGTH = "dns: bad rdlength";

// The types miekg/dns has a struct for (TypeToRR), and what String() prints
// after the header for each when the rdata is empty (miekg/dns does not
// unpack empty rdata: the struct keeps its zero values). Read off the Go
// tool; tests/dns_record_test.ts checks every entry against it.
const ZERO_TEXT: ReadonlyMap<number, string> = new Map([
  [1, ""],
  [2, ""],
  [3, ""],
  [4, ""],
  [5, ""],
  [6, "  0 0 0 0 0"],
  [7, ""],
  [8, ""],
  [9, ""],
  [10, ""],
  [12, ""],
  [13, '"" ""'],
  [14, " "],
  [15, "0 "],
  [16, ""],
  [17, " "],
  [18, "0 "],
  [19, ""],
  [21, "0 "],
  [23, ""],
  [24, "None 0 0 0 19700101000000 19700101000000 0  "],
  [25, "0 0 0 "],
  [26, "0  "],
  [27, "  "],
  [28, ""],
  [29, "596 31 23.648 S 596 31 23.648 W -100000m 0.00m 0.00m 0.00m"],
  [31, ""],
  [32, ""],
  [33, "0 0 0 "],
  [35, '0 0 "" "" "" '],
  [36, "0 "],
  [37, "0 0 0 "],
  [39, ""],
  [41, ""],
  [42, ""],
  [43, "0 0 0 "],
  [44, "0 0 "],
  [46, "None 0 0 0 19700101000000 19700101000000 0  "],
  [47, ""],
  [48, "0 0 0 "],
  [49, ""],
  [50, "0 0 0 - "],
  [51, "0 0 0 -"],
  [52, "0 0 0 "],
  [53, "0 0 0 "],
  [55, "0  "],
  [56, ""],
  [57, "0 0 0 "],
  [58, " "],
  [59, "0 0 0 "],
  [60, "0 0 0 "],
  [61, ""],
  [62, "0 0"],
  [63, "0 0 0 "],
  [64, "0 "],
  [65, "0 "],
  [99, ""],
  [100, '""'],
  [101, "0"],
  [102, "0"],
  [104, "0 0000:0000:0000:0000"],
  [105, "0"],
  [106, "0 0000:0000:0000:0000"],
  [107, "0 "],
  [108, "00-00-00-00-00-00"],
  [109, "00-00-00-00-00-00-00-00"],
  [249, "  19700101000000 19700101000000 0 0 0  0 "],
  [250, "  19700101000000 0 0  0 0 0 "],
  [255, ""],
  [256, '0 0 ""'],
  [257, '0  ""'],
  [258, ""],
  [32768, "0 0 0 "],
  [32769, "0 0 0 "],
]);

// Whether miekg/dns has a struct for a type below 260 (1) or not (0).
const KNOWN = new Uint8Array(260);
for (const t of ZERO_TEXT.keys()) if (t < 260) KNOWN[t] = 1;

/**
 * Whether miekg/dns has a struct for a type (it is in `TypeToRR`); records
 * of other types are `RFC3597` records, printed with `CLASSn` and `TYPEn`.
 *
 * @param type The RR type.
 * @returns `true` for a type miekg/dns unpacks itself.
 */
export function isKnownType(type: number): boolean {
  return type < 260 ? KNOWN[type] === 1 : type === 32768 || type === 32769;
}

/**
 * What miekg/dns prints after the header of a record with empty rdata.
 *
 * @param type The RR type.
 * @returns The text (`"\\# 0 "` for a type without a struct).
 */
export function emptyRdataText(type: number): string {
  return ZERO_TEXT.get(type) ?? "\\# 0 ";
}

/** A question, filled in place by {@linkcode unpackQuestion}. */
export class QuestionScratch {
  /** The name's presentation text. */
  name = "";
  /** QTYPE; 0 when the message ends before it. */
  type = 0;
  /** QCLASS; 0 when the message ends before it. */
  cls = 0;
}

/**
 * Unpacks a question as miekg/dns `unpackQuestion`: a message that ends
 * right after the name, or after the type, leaves the rest 0 without error,
 * and so does one that ends one byte into the class (miekg/dns loses that
 * error).
 *
 * @param msg The DNS message.
 * @param cur At the question; advanced past it. `cur.end` is the message end.
 * @param q Filled with the question.
 */
export function unpackQuestion(
  msg: Uint8Array,
  cur: WireCursor,
  q: QuestionScratch,
): void {
  q.name = readName(msg, cur);
  q.type = 0;
  q.cls = 0;
  const n = msg.length;
  if (cur.off === n) return;
  q.type = readU16(msg, cur);
  if (cur.off === n) return;
  if (cur.off + 2 > n) {
    cur.off = n;
    return;
  }
  q.cls = readU16(msg, cur);
}

/**
 * A question as miekg/dns `Question.String()` prints it:
 * `;name.<TAB>IN<TAB> A`.
 *
 * @param q The question.
 * @returns Its line.
 */
export function questionLine(q: QuestionScratch): string {
  return ";" + q.name + "\t" + className(q.cls) + "\t " + typeName(q.type);
}

/** A resource record, filled in place by {@linkcode unpackRecord}. */
export class RecordScratch {
  /** Owner name's presentation text. */
  name = "";
  /** TYPE. */
  type = 0;
  /** CLASS. */
  cls = 0;
  /** TTL, unsigned. */
  ttl = 0;
  /** First rdata byte. */
  rdStart = 0;
  /** One past the last rdata byte. */
  rdEnd = 0;
  /**
   * What miekg/dns prints after the header (for OPT, all of `OPT.String()`,
   * which prints no header).
   */
  data = "";
}

/**
 * Unpacks one resource record as miekg/dns `UnpackRR` does, rdata included
 * (through `rdataText`, or the EDNS code for OPT).
 *
 * @param msg The DNS message.
 * @param cur At the record; advanced past it. `cur.end` must be
 *   `msg.length`, and is again on return.
 * @param r Filled with the record.
 * @returns `false`, reading nothing, when `cur` is at the message end
 *   (miekg/dns then reads an empty record and its section stops: the
 *   count was a lie).
 */
export function unpackRecord(
  msg: Uint8Array,
  cur: WireCursor,
  r: RecordScratch,
): boolean {
  const n = msg.length;
  if (cur.off === n) return false;
  r.name = readName(msg, cur);
  const type = r.type = readU16(msg, cur);
  r.cls = readU16(msg, cur);
  r.ttl = readU32(msg, cur);
  const rdlength = readU16(msg, cur);
  const start = cur.off;
  const end = start + rdlength;
  if (end > n) throw new DnsMessageError(start - 2, ERR_HEADER_SIZE);
  r.rdStart = start;
  r.rdEnd = end;
  if (type === 41) {
    r.data = optText(msg, start, end, r.ttl, r.cls);
  } else if (rdlength === 0) {
    r.data = emptyRdataText(type);
  } else {
    cur.end = end;
    r.data = rdataText(msg, type, cur);
    cur.end = n;
    if (cur.off !== end) throw new DnsMessageError(cur.off, ERR_RDLENGTH);
  }
  cur.off = end;
  return true;
}

// "\tIN\tA\t" and the like, made once per class and type seen (bounded).
const CLASS_TYPE = new Map<number, string>();

function classTypeText(cls: number, type: number): string {
  const key = cls * 65536 + type;
  let t = CLASS_TYPE.get(key);
  if (t === undefined) {
    t = "\t" + className(cls) + "\t" + typeName(type) + "\t";
    if (CLASS_TYPE.size < 4096) CLASS_TYPE.set(key, t);
  }
  return t;
}

/**
 * A record as miekg/dns `RR.String()` prints it: the header
 * (`name<TAB>ttl<TAB>class<TAB>type<TAB>`, or `CLASSn` and `TYPEn` for a
 * type without a struct), the rdata text, and the prefixes of NULL, TKEY
 * and TSIG; an OPT record as its pseudo-section.
 *
 * @param r The record.
 * @returns Its text.
 */
export function recordLine(r: RecordScratch): string {
  const type = r.type;
  if (type === 41) return r.data;
  if (!isKnownType(type)) {
    return r.name + "\t" + r.ttl + "\tCLASS" + r.cls + "\tTYPE" + type +
      "\t" + r.data;
  }
  const line = r.name + "\t" + r.ttl + classTypeText(r.cls, type) + r.data;
  if (type === 10 || type === 249) return ";" + line;
  if (type === 250) return "\n;; TSIG PSEUDOSECTION:\n; " + line;
  return line;
}

/**
 * Checks one resource record as {@linkcode unpackRecord} unpacks it, failing
 * where and as it fails, without making text (rdata through the rdata
 * module's `rdataValid` when it has one).
 *
 * @param msg The DNS message.
 * @param cur At the record; advanced past it. `cur.end` must be
 *   `msg.length`, and is again on return.
 * @param r When given, gets the record's type, class, TTL and rdata bounds
 *   (not its name or text).
 * @returns `false`, reading nothing, when `cur` is at the message end.
 */
export function skipRecord(
  msg: Uint8Array,
  cur: WireCursor,
  r?: RecordScratch,
): boolean {
  const n = msg.length;
  if (cur.off === n) return false;
  skipName(msg, cur);
  const type = readU16(msg, cur);
  if (cur.off + 8 > n) { // fail on the field miekg/dns fails on
    readU16(msg, cur);
    readU32(msg, cur);
    readU16(msg, cur);
  }
  const rdlength = (msg[cur.off + 6]! << 8) | msg[cur.off + 7]!;
  const start = cur.off + 8;
  const end = start + rdlength;
  if (end > n) throw new DnsMessageError(start - 2, ERR_HEADER_SIZE);
  if (r !== undefined) {
    const o = cur.off;
    r.type = type;
    r.cls = (msg[o]! << 8) | msg[o + 1]!;
    r.ttl = ((msg[o + 2]! << 24) >>> 0) +
      ((msg[o + 3]! << 16) | (msg[o + 4]! << 8) | msg[o + 5]!);
    r.rdStart = start;
    r.rdEnd = end;
  }
  cur.off = start;
  if (type === 41) {
    optCheck(msg, start, end);
  } else if (rdlength !== 0) {
    cur.end = end;
    rdataValid(msg, type, cur);
    cur.end = n;
    if (cur.off !== end) throw new DnsMessageError(cur.off, ERR_RDLENGTH);
  }
  cur.off = end;
  return true;
}

/**
 * Checks a question as {@linkcode unpackQuestion} unpacks it, without text.
 *
 * @param msg The DNS message.
 * @param cur At the question; advanced past it.
 */
export function skipQuestion(msg: Uint8Array, cur: WireCursor): void {
  skipName(msg, cur);
  const n = msg.length;
  if (cur.off === n) return;
  readU16(msg, cur);
  cur.off = cur.off + 2 > n ? n : cur.off + 2;
}
