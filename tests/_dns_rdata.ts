// Rdata tests against miekg/dns: wraps rdata in a response with one answer
// record, asks the Go `dnstap` tool (one run per batch) for its text, and
// compares the answer line, or the error, with ours.

import assert from "node:assert/strict";
import { asGoJsonText, goDnsText } from "./_go_dnstap.ts";
import {
  hasRdataStruct,
  rdataLinePrefix,
  rdataText,
} from "../src/_dns_rdata.ts";
import { DnsMessageError, WireCursor } from "../src/_dns_wire.ts";
import { className, typeName } from "../src/_dns_names.ts";

/** One rdata case: a type, its rdata bytes, a note for failures. */
export interface RdataCase {
  type: number;
  rdata: Uint8Array;
  note: string;
}

/** The owner name, `a.`, at offset 12 (a target for compression pointers). */
export const OWNER_OFFSET = 12;

/**
 * A response: header (id 0, qr, one answer), then `a. <type> IN 0 <rdata>`.
 * The rdata starts at offset 25.
 */
export function wrap(type: number, rdata: Uint8Array): Uint8Array {
  const m = new Uint8Array(25 + rdata.length);
  m.set([0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  m.set([1, 0x61, 0], 12);
  m.set([type >> 8, type & 255, 0, 1, 0, 0, 0, 0], 15);
  m.set([rdata.length >> 8, rdata.length & 255], 23);
  m.set(rdata, 25);
  return m;
}

/** Where the rdata starts in {@linkcode wrap}'s message. */
export const RDATA_OFFSET = 25;

/**
 * Our answer line for a wrapped rdata (prefix, header, rdata text) or our
 * `"parse failed: " + goError`, mirroring miekg's "bad rdlength" when the
 * unpack stops before the rdata's end.
 */
export function ourLine(type: number, rdata: Uint8Array): string {
  const msg = wrap(type, rdata);
  const cur = new WireCursor();
  cur.off = RDATA_OFFSET;
  cur.end = msg.length;
  let text: string;
  try {
    text = rdataText(msg, type, cur);
  } catch (e) {
    if (e instanceof DnsMessageError) return "parse failed: " + e.goError;
    throw e;
  }
  if (rdata.length > 0 && cur.off !== cur.end) {
    return "parse failed: dns: bad rdlength";
  }
  const header = hasRdataStruct(type)
    ? "a.\t0\t" + className(1) + "\t" + typeName(type) + "\t"
    : "a.\t0\tCLASS1\tTYPE" + type + "\t";
  return asGoJsonText(rdataLinePrefix(type) + header + text);
}

/**
 * What Go's encoding/json does to a byte string (ours: one character per
 * byte): valid UTF-8 kept, each byte of an invalid sequence as U+FFFD.
 */
export function goJsonString(s: string): string {
  let out = "";
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      out += s[i];
      i++;
      continue;
    }
    let n = 0;
    let min = 0;
    let cp = 0;
    if (c >= 0xc2 && c <= 0xdf) [n, cp, min] = [1, c & 0x1f, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, cp, min] = [2, c & 0x0f, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, cp, min] = [3, c & 0x07, 0x10000];
    let ok = n > 0 && i + n < s.length;
    for (let k = 1; ok && k <= n; k++) {
      const d = s.charCodeAt(i + k);
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (
      ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)
    ) {
      out += String.fromCodePoint(cp);
      i += n + 1;
    } else {
      out += "\ufffd";
      i++;
    }
  }
  return out;
}

/** The Go tool's answer line (or "parse failed: ...") for a Go text. */
export function goLine(text: string): string {
  if (text.startsWith("parse failed: ")) return text;
  const marker = "\n;; ANSWER SECTION:\n";
  const at = text.indexOf(marker);
  assert.ok(at >= 0 && text.endsWith("\n"), `no answer in ${text}`);
  return text.slice(at + marker.length, -1);
}

/**
 * Compares ours with miekg's for every case (one Go run), reporting all
 * mismatches at once.
 */
export async function compareWithGo(cases: readonly RdataCase[]): Promise<
  number
> {
  const go = await goDnsText(cases.map((c) => wrap(c.type, c.rdata)));
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const want = goLine(go[i]!);
    const got = ourLine(c.type, c.rdata);
    if (got !== want) {
      bad.push(
        `${c.note} type ${c.type} rdata ${hexOf(c.rdata)}\n  go:  ${
          JSON.stringify(want)
        }\n  ours: ${JSON.stringify(got)}`,
      );
    }
  });
  assert.equal(bad.length, 0, bad.slice(0, 20).join("\n"));
  return cases.length;
}

/** Bytes as lower-case hex, for messages. */
export function hexOf(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
