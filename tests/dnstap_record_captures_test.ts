// toDnstapRecord on the real-server captures of tests/data/dnstap/: every
// record matches the JSON Schema in docs/ and carries identity and time;
// and the DNS parts of records (names, types, classes, rdata, opcode, rcode,
// errors) are what the Go tool (miekg/dns 1.1.50) prints, on the captures'
// messages and on random and mutated ones.
import assert from "node:assert/strict";
import {
  decodeDnstap,
  type Dnstap,
  type DnstapRecord,
  toDnstapRecord,
} from "../src/dnstap.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { typeNumber } from "../src/_dns_names.ts";
import { schemaErrors } from "./_dnstap_record_schema.ts";
import { CASES, header, label, msg, question } from "./_dns_messages.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";
import { asGoJsonText, goDnsText } from "./_go_dnstap.ts";
import { interopTest } from "./_peers.ts";

/** Every dnstap record of a capture in tests/data/dnstap/. */
function captureRecords(name: string): Dnstap[] {
  const file = Deno.readFileSync(
    new URL(`./data/dnstap/${name}.fstrm`, import.meta.url),
  );
  const out: Dnstap[] = [];
  for (const frame of decodeFrames(file)) {
    if (frame.kind === "data") out.push(decodeDnstap(frame.data));
  }
  return out;
}

const CAPTURES = ["knot", "bind", "unbound", "dnsdist"];

Deno.test("toDnstapRecord: every record of the real-server captures matches the schema", () => {
  for (const name of CAPTURES) {
    const records = captureRecords(name);
    assert.ok(records.length > 200, name);
    let latencies = 0;
    for (const d of records) {
      const r = toDnstapRecord(d);
      assert.equal(schemaErrors(r), null);
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
      assert.equal(typeof r.identity, "string", "identity on every record");
      assert.ok(r.time !== undefined, "every capture record has its time");
      if (r.latency_ns !== undefined) latencies++;
    }
    // unbound's resolver and dnsdist's client responses carry the query time.
    if (name === "unbound" || name === "dnsdist") assert.ok(latencies > 100);
  }
});

/** A class's number from its miekg/dns name. */
function classNumber(name: string): number {
  const named: Record<string, number> = {
    IN: 1,
    CS: 2,
    CH: 3,
    HS: 4,
    NONE: 254,
  };
  return named[name] ?? Number(name.replace(/^CLASS/, ""));
}

/**
 * The lines miekg/dns prints for what a record says (the header's opcode,
 * status and id; the question; each resource record), or its error line.
 */
function expectedLines(m: NonNullable<DnstapRecord["query"]>): string[] {
  if (m.error !== undefined) return ["parse failed: " + m.error];
  const lines = [
    `;; opcode: ${typeof m.opcode === "number" ? "" : m.opcode}, status: ${
      typeof m.rcode === "number" ? "" : m.rcode
    }, id: ${m.id}`,
  ];
  for (const q of m.question!) lines.push(`;${q.name}\t${q.class}\t ${q.type}`);
  for (const rr of [...m.answer!, ...m.authority!, ...m.additional!]) {
    // miekg/dns prints a record of a type it has no struct for (an unknown
    // type, or ISDN, say) with an RFC 3597 header: CLASS1 TYPE20; the record
    // names its class and type as for every other type.
    const generic = rr.rdata.startsWith("\\# ");
    const cls = generic ? "CLASS" + classNumber(rr.class) : rr.class;
    const type = generic
      ? "TYPE" + (typeNumber(rr.type) ?? rr.type.replace(/^TYPE/, ""))
      : rr.type;
    lines.push(`${rr.name}\t${rr.ttl}\t${cls}\t${type}\t${rr.rdata}`);
  }
  return lines;
}

/** Checks each record's DNS parts against the Go tool's text of them. */
async function againstGo(messages: Uint8Array[]): Promise<number> {
  const texts = await goDnsText(messages);
  let checkedLines = 0;
  messages.forEach((m, i) => {
    const r = toDnstapRecord({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryMessage: m },
    }).query!;
    const go = texts[i]!;
    if (r.error !== undefined) {
      assert.equal(go, "parse failed: " + r.error);
      return;
    }
    assert.ok(!go.startsWith("parse failed"), go);
    const lines = new Set(go.split("\n"));
    for (const line of expectedLines(r)) {
      // Our record has U+FFFD where miekg printed a raw byte; so has Go's JSON.
      assert.ok(lines.has(asGoJsonText(line)), `${line}\nnot in\n${go}`);
      checkedLines++;
    }
  });
  return checkedLines;
}

interopTest(
  "toDnstapRecord: names, types, rdata, rcodes and errors of the captures as the Go tool prints them",
  ["dnstap"],
  async () => {
    const messages: Uint8Array[] = [];
    for (const name of CAPTURES) {
      for (const d of captureRecords(name)) {
        const m = d.message;
        if (m?.queryMessage !== undefined) messages.push(m.queryMessage);
        if (m?.responseMessage !== undefined) messages.push(m.responseMessage);
      }
    }
    assert.ok(await againstGo(messages) > 2000);
  },
);

interopTest(
  "toDnstapRecord: random and mutated messages as the Go tool prints them",
  ["dnstap"],
  async () => {
    const rand = prng(1313);
    const messages = [...Object.values(CASES)];
    for (let i = 0; i < 400; i++) {
      const m = randomMessage(rand);
      messages.push(i % 2 === 0 ? m : mutate(m, rand));
    }
    messages.push(msg(header({ qd: 1 }), question([...label(0xff), 0])));
    assert.ok(await againstGo(messages) > 500);
  },
);
