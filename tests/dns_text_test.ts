// dnsMessageText and quietQuestion against miekg/dns 1.1.50 as the Go dnstap
// tool prints it: a table of hand-built messages, every cut of a response,
// every type's empty rdata, and a batch of random mutations.
import assert from "node:assert/strict";
import { dnsMessageText, quietQuestion } from "../src/_dns_text.ts";
import { hasRdataStruct } from "../src/_dns_rdata.ts";
import { DnsMessageError } from "../src/_dns_wire.ts";
import { parseDnsMessage } from "../src/dns.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { asGoJsonText, goDnstapOutput, goDnsText } from "./_go_dnstap.ts";
import { interopTest } from "./_peers.ts";
import {
  CASES,
  header,
  msg,
  opt,
  question,
  rr,
  TYPICAL,
  wname,
} from "./_dns_messages.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";

/** Our text, or "parse failed: " and miekg's error, as the Go tool prints. */
function ourText(m: Uint8Array): string {
  try {
    return asGoJsonText(dnsMessageText(m));
  } catch (e) {
    if (e instanceof DnsMessageError) return "parse failed: " + e.goError;
    throw e;
  }
}

// The types miekg/dns has a struct for; every other type prints in RFC 3597
// form. "empty rdata of every type" below holds this set to the Go tool (a
// wrong member prints IN/name where miekg prints CLASS1/TYPEn, or back).
const KNOWN_TYPES = new Set<number>();
for (let t = 0; t < 65536; t++) if (hasRdataStruct(t)) KNOWN_TYPES.add(t);

async function compare(
  messages: readonly Uint8Array[],
  names: readonly string[],
): Promise<number> {
  const go = await goDnsText(messages);
  for (let i = 0; i < messages.length; i++) {
    assert.equal(ourText(messages[i]!), go[i], names[i]);
  }
  return messages.length;
}

interopTest(
  "dnsMessageText equals miekg/dns on the table of hand-built messages",
  ["dnstap"],
  async () => {
    const names = Object.keys(CASES);
    const n = await compare(names.map((k) => CASES[k]!), names);
    assert.equal(n, names.length);
  },
);

interopTest(
  "dnsMessageText equals miekg/dns on every cut of a response",
  ["dnstap"],
  async () => {
    const messages: Uint8Array[] = [];
    const names: string[] = [];
    for (const base of [TYPICAL, CASES["options valid"]!, CASES["escapes"]!]) {
      for (let cut = 0; cut <= base.length; cut++) {
        messages.push(base.subarray(0, cut));
        names.push(`cut at ${cut} of ${base.length}`);
      }
    }
    assert.equal(await compare(messages, names), messages.length);
  },
);

interopTest(
  "dnsMessageText prints empty rdata of every type as miekg/dns (zero values)",
  ["dnstap"],
  async () => {
    // every type to 300, and a sample above
    const types = [...KNOWN_TYPES];
    for (let t = 0; t <= 300; t++) if (!KNOWN_TYPES.has(t)) types.push(t);
    for (let t = 301; t < 65536; t += 997) types.push(t);
    for (const t of [32768, 32769]) if (!KNOWN_TYPES.has(t)) types.push(t);
    types.push(32770, 65534, 65535);
    const messages: Uint8Array[] = [];
    const names: string[] = [];
    for (const type of types) {
      for (const cls of [1, 3, 255]) {
        messages.push(msg(
          header({ flags: 0x8400, an: 1 }),
          rr(wname("z.example."), type, cls, 3600, []),
        ));
        names.push(`type ${type} class ${cls}, empty rdata`);
      }
    }
    // records of types miekg/dns has no struct for print CLASSn TYPEn
    for (const type of types) {
      messages.push(msg(
        header({ flags: 0x8400, an: 1 }),
        rr(wname("u.example."), type, 1, 1, [0, 0xff, 7]),
      ));
      names.push(`type ${type}, 3 bytes`);
    }
    assert.equal(await compare(messages, names), messages.length);
  },
);

interopTest(
  "dnsMessageText equals miekg/dns on 2,000 random mutations (seed 13)",
  ["dnstap"],
  async () => {
    const rand = prng(13);
    const bases = Object.values(CASES).filter((m) => m.length > 12);
    const messages: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      messages.push(mutate(bases[Math.floor(rand() * bases.length)]!, rand));
    }
    const n = await compare(messages, messages.map((_, i) => `mutation ${i}`));
    assert.equal(n, 2000);
  },
);

interopTest(
  "quietQuestion equals the Go tool's quiet format on the table",
  ["dnstap"],
  async () => {
    const names = Object.keys(CASES);
    const frames = names.map((k) =>
      encodeDnstap({
        type: "MESSAGE",
        message: { type: "CLIENT_QUERY", queryMessage: CASES[k]! },
      })
    );
    const lines = (await goDnstapOutput(frames, "-q")).split("\n");
    for (let i = 0; i < names.length; i++) {
      const line = lines[i]!;
      const want = line.slice(line.indexOf("b ") + 2);
      assert.equal(quietQuestion(CASES[names[i]!]!) ?? "X ", want, names[i]);
    }
  },
);

Deno.test("dnsMessageText prints a typical response byte for byte", () => {
  assert.equal(
    dnsMessageText(TYPICAL),
    ";; opcode: QUERY, status: NOERROR, id: 48879\n" +
      ";; flags: qr rd ra; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 2\n" +
      "\n;; OPT PSEUDOSECTION:\n; EDNS: version 0; flags: do; udp: 1232\n" +
      "; COOKIE: 0102030405060708\n" +
      "\n;; QUESTION SECTION:\n;www.example.com.\tIN\t A\n" +
      "\n;; ANSWER SECTION:\n" +
      "www.example.com.\t300\tIN\tCNAME\tweb.example.com.\n" +
      "www.example.com.\t60\tIN\tA\t192.0.2.1\n" +
      "\n;; AUTHORITY SECTION:\nexample.com.\t86400\tIN\tNS\tns.example.com.\n" +
      "\n;; ADDITIONAL SECTION:\nns.example.com.\t86400\tIN\tAAAA\t2001:db8::1\n",
  );
});

Deno.test("dnsMessageText throws DnsMessageError with miekg's text and the offset", () => {
  const cases: [Uint8Array, string, number][] = [
    [new Uint8Array(0), "dns: overflow unpacking uint16", 0],
    [new Uint8Array(11), "dns: overflow unpacking uint16", 10],
    [CASES["pointer to itself"]!, "dns: too many compression pointers", 12],
    [CASES["qdcount too high"]!, "dns: buffer size too small", 29],
    [CASES["label type 0x40"]!, "dns: bad rdata", 12],
    [
      CASES["name 256 octets"]!,
      "dns: domain name exceeded 255 wire-format octets",
      12 + 3 * 64,
    ],
    [CASES["rdlength past the end"]!, "dns: overflowing header size", 39],
    [CASES["A with 5 bytes"]!, "dns: bad rdlength", 45],
    [CASES["SUBNET v4 mask 33"]!, "dns: bad netmask", 44],
    [CASES["option header cut"]!, "dns: overflow unpacking opt", 40],
    [
      CASES["KEEPALIVE 3 bytes"]!,
      "dns: length mismatch, want 0/2 but got 3",
      44,
    ],
  ];
  for (const [m, goError, offset] of cases) {
    assert.throws(
      () => dnsMessageText(m),
      (e) =>
        e instanceof DnsMessageError && e.goError === goError &&
        e.offset === offset,
      goError,
    );
  }
});

Deno.test("dnsMessageText takes the extended rcode from the last OPT only", () => {
  const m = msg(
    header({ flags: 0x8100, qd: 1, ar: 2 }),
    question(wname("a.")),
    opt([], { ext: 1 }),
    opt([], { ext: 0 }),
  );
  assert.match(dnsMessageText(m), /status: NOERROR/);
  assert.match(dnsMessageText(CASES["extended rcode BADVERS"]!), /BADSIG/);
});

Deno.test("quietQuestion agrees with dnsMessageText on 20,000 mutations: a question exactly when unpacking succeeds", () => {
  const rand = prng(7);
  const bases = Object.values(CASES).filter((m) => m.length > 12);
  for (let i = 0; i < 20_000; i++) {
    const m = mutate(bases[Math.floor(rand() * bases.length)]!, rand);
    const text = ourText(m);
    const d = parseDnsMessage(m);
    const q = d.question;
    const want = text.startsWith("parse failed: ") || q === null
      ? null
      : `"${q.name}" ${q.className} ${q.typeName}`;
    assert.equal(quietQuestion(m), want, `mutation ${i}`);
  }
});

interopTest(
  "dnsMessageText equals miekg/dns on 1,000 random well-formed messages (seed 5)",
  ["dnstap"],
  async () => {
    const rand = prng(5);
    const messages = Array.from({ length: 1000 }, () => randomMessage(rand));
    const n = await compare(messages, messages.map((_, i) => `random ${i}`));
    assert.equal(n, messages.length);
    // most unpack: the comparison is not only of errors
    const ok = messages.filter((m) => !ourText(m).startsWith("parse failed"));
    assert.ok(ok.length > 600, `${ok.length} unpacked`);
  },
);
