// Private: the dns-message fuzz target. A case is the bytes of one DNS
// message (see _check_dns_message_arbs.ts: valid queries and responses with
// compression and EDNS, pointer bombs, then cut, counts that lie, pointer
// loops, bit flips), maybe placed inside a larger buffer. The checks:
//
// - dnsMessageText (miekg/dns Msg.Unpack then Msg.String()) throws nothing
//   but DnsMessageError: a SyntaxError whose goError is miekg's text
//   ("dns: ...") and whose offset lies in the message (or is the target of
//   a compression pointer past its end: below 16384);
// - its text is bounded: at most 1024 + 512 n characters for n bytes. Every
//   part of the text comes from bytes read, and the most a byte can make is
//   through a name: a 2-byte pointer gives at most 255 wire octets (miekg's
//   limit; pointers at most 126), at most 4 characters each as \DDD, so 1020
//   characters, 510 a byte; other fields make fewer (hex 2 a byte, \DDD 4, a
//   type bitmap's bit about 10); 1024 covers the header lines;
// - the bytes placed at an offset in a larger buffer give the same text or
//   error (no reads outside the view, no byteOffset slip);
// - parseDnsMessage: no getter throws, whichever order they are read in,
//   and both orders give the same values; `error` is null exactly when
//   dnsMessageText succeeds, else the same goError and offset; String(m) is
//   the text or "parse failed: " and the error; the counts in the text's
//   header line are the lengths of questions, answers, authorities and
//   additionals, its opcode, status, id and flags are the getters', the OPT
//   pseudo-section follows them exactly when `edns` is not null; rdata and
//   EDNS option data are views of the input; each record's data appears in
//   the text;
// - quietQuestion is null exactly when the text fails or there is no
//   question, else `"name" CLASS TYPE` of the first question;
// - time: the fuzzer's case bound (2 s) on messages of up to ~40 KB.
import fc from "fast-check";
import { DnsMessageError, parseDnsMessage } from "../src/dns.ts";
import { opcodeName, rcodeName } from "../src/_dns_names.ts";
import { dnsMessageText, quietQuestion } from "../src/_dns_text.ts";
import { describeThrown, fail, short } from "./_assert.ts";
import {
  caseInput,
  type FuzzCase,
  type InputSpelling,
  toHex,
} from "./_case.ts";
import { dnsBytesArb } from "./_check_dns_message_arbs.ts";
import { reduceBytes } from "./_minimise.ts";
import { defineTarget, type FuzzTarget, MIB } from "./_target.ts";

/** The bytes of one DNS message, through the text and the lazy reader. */
export interface DnsMessageCase extends FuzzCase, InputSpelling {
  target: "dns-message";
  /** Bytes of padding before (and after) the message in its buffer. */
  pad?: number;
}

/** Cases of the dns-message target. */
const dnsMessageCaseArb: fc.Arbitrary<DnsMessageCase> = fc.tuple(
  dnsBytesArb,
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    fc.integer({ min: 1, max: 7 }),
  ),
).map(([bytes, pad]) => {
  const c: DnsMessageCase & { bytes: Uint8Array } = {
    target: "dns-message",
    bytes,
  };
  if (pad > 0) c.pad = pad;
  return c;
});

/** The most text n bytes may make (see the top of this module). */
export function textBound(n: number): number {
  return 1024 + 512 * n;
}

/** The text of `bytes`, or its error as plain data. */
function textOf(bytes: Uint8Array, at: string): string | DnsMessageError {
  try {
    return dnsMessageText(bytes);
  } catch (e) {
    if (!(e instanceof DnsMessageError) || !(e instanceof SyntaxError)) {
      fail("crash", `dnsMessageText threw ${describeThrown(e)} ${at}`);
    }
    if (!e.goError.startsWith("dns: ")) {
      fail(
        "invariant",
        `DnsMessageError goError "${e.goError}" is no miekg error ${at}`,
      );
    }
    // In the message, or the target of a compression pointer past its end.
    if (!(e.offset >= 0 && e.offset <= Math.max(bytes.length, 0x3fff))) {
      fail(
        "invariant",
        `DnsMessageError offset ${e.offset} outside the message ${at}`,
      );
    }
    return e;
  }
}

const outcome = (t: string | DnsMessageError): string =>
  typeof t === "string" ? t : `error ${t.goError} at ${t.offset}`;

/** The getters of DnsMessage, in the order a reader of the docs meets them. */
const GETTERS = [
  "bytes",
  "id",
  "opcode",
  "qr",
  "aa",
  "tc",
  "rd",
  "ra",
  "z",
  "ad",
  "cd",
  "rcode",
  "headerRcode",
  "questionCount",
  "answerCount",
  "authorityCount",
  "additionalCount",
  "question",
  "questions",
  "answers",
  "authorities",
  "additionals",
  "edns",
  "error",
] as const;

/** Every getter read in `order` on a fresh DnsMessage, as plain data. */
function readAll(
  bytes: Uint8Array,
  order: readonly (typeof GETTERS)[number][],
  at: string,
): Record<string, unknown> {
  const m = parseDnsMessage(bytes);
  const out: Record<string, unknown> = {};
  for (const g of order) {
    try {
      out[g] = m[g];
    } catch (e) {
      fail("crash", `DnsMessage.${g} threw ${describeThrown(e)} ${at}`);
    }
  }
  try {
    out.string = String(m);
  } catch (e) {
    fail("crash", `String(DnsMessage) threw ${describeThrown(e)} ${at}`);
  }
  return out;
}

/** Plain data for comparing two reads (views as hex, errors as text). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (v instanceof DnsMessageError) return `${v.goError} at ${v.offset}`;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, plain(o[k])]));
}

/** Fails unless `v` is a view of `input`'s bytes. */
function assertView(
  v: Uint8Array,
  input: Uint8Array,
  what: string,
  at: string,
): void {
  const from = v.byteOffset - input.byteOffset;
  if (v.buffer !== input.buffer || from < 0 || from + v.length > input.length) {
    fail("invariant", `${what} is not a view of the message ${at}`);
  }
}

interface Rec {
  type: number;
  data: string;
  rdata: Uint8Array;
}

/** Runs every check of a dns-message case. */
function checkDnsMessage(c: DnsMessageCase): void {
  const bytes = caseInput(c);
  const pad = c.pad ?? 0;
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(0xc0);
  buf.set(bytes, pad);
  const input = buf.subarray(pad, pad + bytes.length);
  const at = `(input ${short(input)})`;

  const text = textOf(input, at);
  if (typeof text === "string" && text.length > textBound(input.length)) {
    fail(
      "alloc",
      `dnsMessageText made ${text.length} characters of ${input.length} bytes, bound ${
        textBound(input.length)
      } ${at}`,
    );
  }
  const copy = textOf(bytes.slice(), at);
  if (outcome(copy) !== outcome(text)) {
    fail(
      "divergence",
      `dnsMessageText differs on a view at byte ${pad}: ${
        outcome(text).slice(0, 200)
      } vs ${outcome(copy).slice(0, 200)} ${at}`,
    );
  }

  // The lazy reader, read forward and backward.
  const forward = readAll(input, GETTERS, at);
  const backward = readAll(input, [...GETTERS].reverse(), at);
  const f = JSON.stringify(plain(forward));
  if (f !== JSON.stringify(plain(backward))) {
    fail(
      "divergence",
      `DnsMessage getters depend on the order they are read in: ${
        f.slice(0, 300)
      } vs ${JSON.stringify(plain(backward)).slice(0, 300)} ${at}`,
    );
  }
  const error = forward.error as DnsMessageError | null;
  if (typeof text === "string" ? error !== null : error === null) {
    fail(
      "divergence",
      `DnsMessage.error is ${
        error === null ? "null" : error.goError
      } but dnsMessageText gives ${outcome(text).slice(0, 100)} ${at}`,
    );
  }
  if (error !== null && typeof text !== "string") {
    if (error.goError !== text.goError || error.offset !== text.offset) {
      fail(
        "divergence",
        `DnsMessage.error ${outcome(error)} vs dnsMessageText ${
          outcome(text)
        } ${at}`,
      );
    }
  }
  const expectString = typeof text === "string"
    ? text
    : `parse failed: ${text.goError}`;
  if (forward.string !== expectString) {
    fail("divergence", `String(DnsMessage) is not the text ${at}`);
  }
  const sections = ["answers", "authorities", "additionals"] as const;
  for (const s of sections) {
    for (const r of forward[s] as Rec[]) {
      assertView(r.rdata, input, `${s} rdata`, at);
      if (
        typeof text === "string" && r.type !== 41 && r.data !== "" &&
        !text.includes(r.data)
      ) {
        fail(
          "divergence",
          `a record's data "${r.data.slice(0, 100)}" is not in the text ${at}`,
        );
      }
    }
  }
  const edns = forward.edns as { options: { data: Uint8Array }[] } | null;
  for (const o of edns?.options ?? []) {
    assertView(o.data, input, "an EDNS option's data", at);
  }
  const questions = forward.questions as {
    name: string;
    className: string;
    typeName: string;
  }[];
  if (typeof text === "string") {
    const counts = `QUERY: ${questions.length}, ANSWER: ${
      (forward.answers as Rec[]).length
    }, AUTHORITY: ${(forward.authorities as Rec[]).length}, ADDITIONAL: ${
      (forward.additionals as Rec[]).length
    }\n`;
    if (!text.split("\n", 2).join("\n").endsWith(counts.trimEnd())) {
      fail(
        "divergence",
        `the text's counts are not DnsMessage's (${counts.trimEnd()}) ${at}`,
      );
    }
    // The header lines, from the getters.
    const flags = (["qr", "aa", "tc", "rd", "ra", "z", "ad", "cd"] as const)
      .filter((k) => forward[k] === true).map((k) => ` ${k}`).join("");
    const header = `;; opcode: ${
      opcodeName(forward.opcode as number)
    }, status: ${
      rcodeName(forward.rcode as number)
    }, id: ${forward.id}\n;; flags:${flags}; QUERY`;
    if (!text.startsWith(header)) {
      fail(
        "divergence",
        `the text's header is not DnsMessage's: ${
          JSON.stringify(header)
        } ${at}`,
      );
    }
    // The OPT pseudo-section right after them (an OPT record in another
    // section prints one too, in its place).
    const pseudo = text.split("\n", 4)[3] === ";; OPT PSEUDOSECTION:";
    if ((forward.edns !== null) !== pseudo) {
      fail(
        "divergence",
        `DnsMessage.edns is ${
          forward.edns === null ? "" : "not "
        }null, the text disagrees ${at}`,
      );
    }
  }

  // The quiet format's question.
  let quiet: string | null;
  try {
    quiet = quietQuestion(input);
  } catch (e) {
    fail("crash", `quietQuestion threw ${describeThrown(e)} ${at}`);
  }
  const q = questions[0];
  const expectQuiet = typeof text !== "string" || q === undefined
    ? null
    : `"${q.name}" ${q.className} ${q.typeName}`;
  if (quiet !== expectQuiet) {
    fail(
      "divergence",
      `quietQuestion gives ${quiet}, expected ${expectQuiet} ${at}`,
    );
  }
}

/** The dns-message target. */
export const dnsMessageTarget: FuzzTarget = defineTarget<DnsMessageCase>({
  name: "dns-message",
  about: "DNS text and lazy DnsMessage on mutated messages",
  arb: dnsMessageCaseArb,
  sync: true,
  check: checkDnsMessage,
  // The input, its padded copy and one more copy (the text is no
  // ArrayBuffer: the fuzzer's resident memory bound covers it).
  allowance: (c) => 4 * caseInput(c).length + 4 * MIB,
  minimise: reduceBytes,
});
