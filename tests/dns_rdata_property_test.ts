// Properties of rdataText: random and mutated rdata of every type throw
// nothing but DnsMessageError, and a seeded batch agrees with miekg/dns (the
// Go `dnstap` tool) byte for byte.
import assert from "node:assert/strict";
import fc from "fast-check";
import { interopTest } from "./_peers.ts";
import { compareWithGo, type RdataCase, wrap } from "./_dns_rdata.ts";
import { VALID } from "./_dns_rdata_vectors.ts";
import { hasRdataStruct, rdataText, rdataValid } from "../src/_dns_rdata.ts";
import { DnsMessageError, WireCursor } from "../src/_dns_wire.ts";

// Every type with a struct in miekg/dns (OPT aside; dns_text_test.ts holds
// hasRdataStruct to the Go tool for every type to 300, TA and DLV) and a few
// without.
const TYPES: number[] = [];
for (let t = 0; t < 65536; t++) {
  if (t !== 41 && hasRdataStruct(t)) TYPES.push(t);
}
TYPES.push(0, 20, 30, 65280);

/** Bytes biased towards what rdata readers branch on. */
const byteArb = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(0, 1, 2, 3, 4, 16, 0x20, 0x22, 0x2e, 0x5c, 0x7f, 0xc0, 0xff),
);

/** Any type but OPT (41, which the EDNS code reads). */
const anyTypeArb = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 32767, max: 32770 }),
  fc.constant(65535),
).filter((t) => t !== 41);

/** A random case: random bytes, or a valid case mutated. */
const caseArb: fc.Arbitrary<RdataCase> = fc.oneof(
  fc.record({
    type: fc.oneof(fc.constantFrom(...TYPES), anyTypeArb),
    rdata: fc.array(byteArb, { maxLength: 48 }).map((a) => Uint8Array.from(a)),
    note: fc.constant("random"),
  }),
  fc.record({
    base: fc.constantFrom(...VALID),
    edits: fc.array(
      fc.tuple(
        fc.nat(),
        byteArb,
        fc.constantFrom("set", "insert", "delete", "cut"),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }).map(({ base, edits }) => {
    const b = Array.from(base.rdata);
    for (const [at, v, op] of edits) {
      const i = b.length === 0
        ? 0
        : at % (b.length + (op === "insert" ? 1 : 0));
      if (op === "set" && b.length > 0) b[i] = v;
      else if (op === "insert") b.splice(i, 0, v);
      else if (op === "delete") b.splice(i, 1);
      else b.length = Math.min(b.length, i);
    }
    return {
      type: base.type,
      rdata: Uint8Array.from(b),
      note: `mutated ${base.note}`,
    };
  }),
);

Deno.test("rdataText throws nothing but DnsMessageError on random rdata", () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const msg = wrap(c.type, c.rdata);
      const cur = new WireCursor();
      cur.off = 25;
      cur.end = msg.length;
      try {
        const s = rdataText(msg, c.type, cur);
        assert.equal(typeof s, "string");
        assert.ok(cur.off >= 25 && cur.off <= cur.end);
      } catch (e) {
        if (!(e instanceof DnsMessageError)) throw e;
        assert.ok(e.goError.startsWith("dns: "));
      }
    }),
    { numRuns: 20000, seed: 13 },
  );
});

/** What a reader does: the cursor's end position, or the error text. */
function outcome(
  f: (m: Uint8Array, t: number, c: WireCursor) => unknown,
  c: RdataCase,
): string {
  const msg = wrap(c.type, c.rdata);
  const cur = new WireCursor();
  cur.off = 25;
  cur.end = msg.length;
  try {
    f(msg, c.type, cur);
    return "stopped at " + cur.off;
  } catch (e) {
    if (e instanceof DnsMessageError) return e.goError;
    throw e;
  }
}

Deno.test("rdataValid fails and stops exactly where rdataText does", () => {
  for (const c of VALID) {
    for (let i = 0; i <= c.rdata.length; i++) {
      const k = { ...c, rdata: c.rdata.slice(0, i) };
      assert.equal(outcome(rdataValid, k), outcome(rdataText, k), c.note);
    }
  }
  fc.assert(
    fc.property(caseArb, (c) => {
      assert.equal(outcome(rdataValid, c), outcome(rdataText, c));
    }),
    { numRuns: 20000, seed: 14 },
  );
});

interopTest(
  "rdataText agrees with miekg/dns on 3,000 seeded random rdata",
  ["dnstap"],
  async () => {
    const cases = fc.sample(caseArb, { numRuns: 3000, seed: 20261203 });
    assert.equal(await compareWithGo(cases), 3000);
  },
);
