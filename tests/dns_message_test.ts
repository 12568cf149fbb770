// parseDnsMessage / DnsMessage: the lazy API. Header fields from the bytes,
// the question alone, sections, EDNS, errors as miekg/dns Unpack fails, and
// a property test that no getter throws.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type DnsMessage,
  DnsMessageError,
  formatDnsMessage,
  parseDnsMessage,
} from "../src/dns.ts";
import { dnsMessageText } from "../src/_dns_text.ts";
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

function textOrError(m: Uint8Array): string {
  try {
    return dnsMessageText(m);
  } catch (e) {
    if (e instanceof DnsMessageError) return "parse failed: " + e.goError;
    throw e;
  }
}

/** Reads every getter; returns them as plain data. */
function readAll(d: DnsMessage): unknown[] {
  return [
    d.id,
    d.opcode,
    d.qr,
    d.aa,
    d.tc,
    d.rd,
    d.ra,
    d.z,
    d.ad,
    d.cd,
    d.rcode,
    d.headerRcode,
    d.questionCount,
    d.answerCount,
    d.authorityCount,
    d.additionalCount,
    d.question,
    d.questions,
    d.answers,
    d.authorities,
    d.additionals,
    d.edns,
    d.error,
    d.toString(),
  ];
}

Deno.test("DnsMessage reads the header of a typical response", () => {
  const d = parseDnsMessage(TYPICAL);
  assert.equal(d.bytes, TYPICAL);
  assert.deepEqual(
    [d.id, d.opcode, d.qr, d.aa, d.tc, d.rd, d.ra, d.z, d.ad, d.cd],
    [0xbeef, 0, true, false, false, true, true, false, false, false],
  );
  assert.deepEqual(
    [d.questionCount, d.answerCount, d.authorityCount, d.additionalCount],
    [1, 2, 1, 2],
  );
  assert.equal(d.rcode, 0);
  assert.equal(d.error, null);
});

Deno.test("DnsMessage reads every flag, the opcode and the header rcode", () => {
  const d = parseDnsMessage(CASES["all flags"]!);
  assert.deepEqual(
    [d.qr, d.aa, d.tc, d.rd, d.ra, d.z, d.ad, d.cd, d.opcode, d.headerRcode],
    [true, true, true, true, true, true, true, true, 15, 15],
  );
  const n = parseDnsMessage(CASES["notify"]!);
  assert.deepEqual([n.opcode, n.qr, n.aa], [4, false, true]);
});

Deno.test("DnsMessage gives the question, sections and records of a typical response", () => {
  const d = parseDnsMessage(TYPICAL);
  assert.deepEqual(d.question, {
    name: "www.example.com.",
    type: 1,
    typeName: "A",
    class: 1,
    className: "IN",
  });
  assert.deepEqual(d.questions, [d.question]);
  assert.deepEqual(
    d.answers.map((r) => [r.name, r.typeName, r.className, r.ttl, r.data]),
    [
      ["www.example.com.", "CNAME", "IN", 300, "web.example.com."],
      ["www.example.com.", "A", "IN", 60, "192.0.2.1"],
    ],
  );
  assert.deepEqual(d.authorities.map((r) => r.data), ["ns.example.com."]);
  const [aaaa, o] = d.additionals;
  assert.equal(aaaa!.data, "2001:db8::1");
  assert.equal(aaaa!.type, 28);
  // rdata is a view of the message bytes
  assert.equal(aaaa!.rdata.buffer, TYPICAL.buffer);
  assert.equal(aaaa!.rdata.length, 16);
  assert.equal(d.answers[1]!.rdata.join("."), "192.0.2.1");
  assert.equal(o!.type, 41);
  assert.equal(o!.className, "CLASS1232");
  assert.equal(
    o!.data,
    "\n;; OPT PSEUDOSECTION:\n; EDNS: version 0; flags: do; udp: 1232\n" +
      "; COOKIE: 0102030405060708",
  );
});

Deno.test("DnsMessage.edns gives version, size, DO, flags, extended rcode and options", () => {
  const d = parseDnsMessage(msg(
    header({ flags: 0x8107, qd: 1, ar: 1 }),
    question(wname("a.")),
    opt([
      ...option(10, [1, 2, 3, 4, 5, 6, 7, 8]),
      ...option(8, [0, 1, 24, 0, 192, 0, 2]),
      ...option(15, [0, 18, 0x68, 0x69]),
      ...option(9, []),
      ...option(65001, [0xab]),
    ], { udp: 4096, do: true, version: 1, ext: 1, z: 3 }),
  ));
  const e = d.edns!;
  assert.deepEqual(
    [e.version, e.udpSize, e.dnssecOk, e.flags, e.extendedRcode],
    [1, 4096, true, 0x8003, 1],
  );
  assert.deepEqual(
    e.options.map((o) => [o.code, o.name, o.data.length, o.text]),
    [
      [10, "COOKIE", 8, "0102030405060708"],
      [8, "ECS", 7, "192.0.2.0/24/0"],
      [15, "EDE", 4, "18 (Prohibited): (hi)"],
      [9, "EXPIRE", 0, ""],
      [65001, "OPT65001", 1, "65001:0xab"],
    ],
  );
  assert.equal(d.rcode, 23); // BADCOOKIE: 1 << 4 | 7
  assert.equal(d.headerRcode, 7);
  assert.equal(parseDnsMessage(CASES["query"]!).edns, null);
  // two OPT records: the last one counts, as miekg/dns IsEdns0
  assert.equal(parseDnsMessage(CASES["two opts"]!).edns?.udpSize, 512);
});

Deno.test("DnsMessage keeps the question of a message whose answer section is broken", () => {
  for (
    const name of [
      "rdlength past the end",
      "A with 5 bytes",
      "record cut in ttl",
      "CNAME pointing past its rdata",
    ]
  ) {
    const d = parseDnsMessage(CASES[name]!);
    assert.equal(d.question?.name, "example.com.", name);
    assert.notEqual(d.error, null, name);
    assert.deepEqual(d.questions.length, 1, name);
    // the sections after the failing one are empty
    assert.deepEqual(d.authorities, [], name);
    assert.deepEqual(d.additionals, [], name);
  }
  // the question alone, before anything else is asked
  const d = parseDnsMessage(CASES["A with 5 bytes"]!);
  assert.equal(d.question?.typeName, "A");
  assert.equal(d.error?.goError, "dns: bad rdlength");
  // records read before the failure are kept
  assert.deepEqual(
    parseDnsMessage(CASES["CNAME pointing past its rdata"]!).answers,
    [],
  );
  const partial = parseDnsMessage(msg(
    header({ flags: 0x8180, qd: 1, an: 2 }),
    question(wname("a.")),
    rr(ptr(12), 1, 1, 1, [1, 2, 3, 4]),
    rr(ptr(12), 1, 1, 1, [1, 2, 3]),
  ));
  assert.deepEqual(partial.answers.map((r) => r.data), ["1.2.3.4"]);
  assert.equal(partial.error?.goError, "dns: overflow unpacking a");
  assert.equal(partial.error?.offset, 47); // the rdata of the second A
});

Deno.test("DnsMessage on messages without a question, cut, or header only", () => {
  const none = parseDnsMessage(CASES["no question"]!);
  assert.equal(none.question, null);
  assert.deepEqual(none.questions, []);
  assert.equal(none.answers[0]?.data, "1.2.3.4");
  const hdr = parseDnsMessage(CASES["header only, counts lie"]!);
  assert.deepEqual([hdr.questionCount, hdr.answerCount], [1, 3]);
  assert.equal(hdr.question, null);
  assert.deepEqual(hdr.answers, []);
  assert.equal(hdr.error, null);
  assert.equal(hdr.rcode, 3);
  for (const bytes of [new Uint8Array(0), new Uint8Array([1, 2, 3])]) {
    const d = parseDnsMessage(bytes);
    assert.deepEqual([d.id, d.qr, d.questionCount, d.rcode], [0, false, 0, 0]);
    assert.equal(d.question, null);
    assert.equal(d.error?.goError, "dns: overflow unpacking uint16");
  }
  // counts that lie high: sections end with the message, no error
  const high = parseDnsMessage(CASES["ancount too high"]!);
  assert.equal(high.answers.length, 1);
  assert.equal(high.error, null);
  // a question that fails: no question
  assert.equal(parseDnsMessage(CASES["pointer loop of two"]!).question, null);
});

Deno.test("DnsMessage.error and toString agree with dnsMessageText on the table", () => {
  for (const [name, bytes] of Object.entries(CASES)) {
    const d = parseDnsMessage(bytes);
    const want = textOrError(bytes);
    assert.equal(String(d), want, name);
    assert.equal(
      d.error === null ? null : "parse failed: " + d.error.goError,
      want.startsWith("parse failed: ") ? want : null,
      name,
    );
    if (d.error === null) assert.equal(formatDnsMessage(bytes), want, name);
  }
});

Deno.test("DnsMessage caches: a getter read twice gives the same object", () => {
  const d = parseDnsMessage(TYPICAL);
  assert.equal(d.answers, d.answers);
  assert.equal(d.edns, d.edns);
  assert.equal(d.questions[0], d.question);
});

Deno.test("parseDnsMessage rejects what is not bytes with a TypeError", () => {
  assert.throws(
    () => parseDnsMessage("abc" as unknown as Uint8Array),
    TypeError,
  );
});

Deno.test("property: dnsMessageText throws only DnsMessageError, and no DnsMessage getter throws", () => {
  const bases = Object.values(CASES).filter((m) => m.length > 12);
  const check = (m: Uint8Array) => {
    textOrError(m); // rethrows anything but DnsMessageError
    const all = readAll(parseDnsMessage(m));
    // the lazy API and the text agree on failure
    const err = all[22] as DnsMessageError | null;
    assert.equal(err === null, !textOrError(m).startsWith("parse failed: "));
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), check), {
    numRuns: 2000,
    seed: 13,
  });
  fc.assert(
    fc.property(
      fc.nat(bases.length - 1),
      fc.integer(),
      (i, seed) => check(mutate(bases[i]!, prng(seed))),
    ),
    { numRuns: 5000, seed: 13 },
  );
  // random bytes behind a valid header and question
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 60 }),
      fc.nat(3),
      (tail, an) =>
        check(msg(
          header({ flags: 0x8180, qd: 1, an, ar: 1 }),
          question(wname("a.")),
          [...tail],
        )),
    ),
    { numRuns: 3000, seed: 13 },
  );
});

Deno.test("DnsMessage error, edns and rcode: the checking walk agrees with the parsed sections (20,000 mutations, 2,000 random messages)", () => {
  const rand = prng(11);
  const bases = Object.values(CASES).filter((m) => m.length > 12);
  const messages = [
    ...Array.from(
      { length: 20_000 },
      () => mutate(bases[Math.floor(rand() * bases.length)]!, rand),
    ),
    ...Array.from({ length: 2_000 }, () => randomMessage(rand)),
  ];
  const view = (d: DnsMessage) => [
    d.error === null ? null : [d.error.goError, d.error.offset],
    d.edns,
    d.rcode,
  ];
  for (let i = 0; i < messages.length; i++) {
    const walked = parseDnsMessage(messages[i]!);
    const first = view(walked); // error and edns before any section
    const parsed = parseDnsMessage(messages[i]!);
    parsed.additionals; // every section parsed first
    assert.deepEqual(view(parsed), first, `message ${i}`);
    // and the same error object after the sections are read
    const e = walked.error;
    walked.additionals;
    assert.equal(walked.error, e);
  }
});
