// toDnstapRecord on random dnstap values (every field present or absent,
// unknown enum numbers, 64-bit times, nanoseconds past a second, random and
// mutated DNS messages, policies): the record matches the JSON Schema,
// survives a JSON round trip, and says what the value says.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Dnstap,
  type DnstapPolicy,
  formatDnstapTime,
  toDnstapRecord,
} from "../src/dnstap.ts";
import { dnstapArb, enumArb } from "./_dnstap_arbitrary.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";
import { schemaErrors } from "./_dnstap_record_schema.ts";

/** DNS messages: random well-formed ones, mutated ones, random bytes. */
const dnsArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.integer().map((seed) => randomMessage(prng(seed))),
  fc.integer().map((seed) => {
    const rand = prng(seed);
    return mutate(randomMessage(rand), rand);
  }),
  fc.uint8Array({ maxLength: 40 }),
);

const policyArb: fc.Arbitrary<DnstapPolicy> = fc.record({
  type: fc.string({ unit: "binary", maxLength: 8 }),
  rule: fc.uint8Array({ maxLength: 20 }),
  action: enumArb([
    "NXDOMAIN",
    "NODATA",
    "PASS",
    "DROP",
    "TRUNCATE",
    "LOCAL_DATA",
  ]),
  match: enumArb(["QNAME", "CLIENT_IP", "RESPONSE_IP", "NS_NAME", "NS_IP"]),
  value: fc.uint8Array({ maxLength: 20 }),
}, { requiredKeys: [], noNullPrototype: true }) as fc.Arbitrary<DnstapPolicy>;

const recordArb: fc.Arbitrary<Dnstap> = fc.tuple(
  dnstapArb(dnsArb),
  fc.option(policyArb, { nil: undefined }),
  // Half the time, a response time near the query time (either side of it).
  fc.option(fc.tuple(fc.integer({ min: -1, max: 1 }), fc.nat(999_999_999)), {
    nil: undefined,
  }),
).map(([d, policy, near]) => {
  let m = d.message;
  if (m === undefined) return d;
  if (policy !== undefined) m = { ...m, policy };
  if (near !== undefined && m.queryTimeSec !== undefined) {
    const [ds, ns] = near;
    const s = BigInt(m.queryTimeSec) + BigInt(ds);
    if (s >= 0n) {
      m = {
        ...m,
        responseTimeSec: s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s,
        responseTimeNsec: ns,
      };
    }
  }
  return { ...d, message: m };
});

/** A time as formatDnstapTime gives it, nanoseconds past a second carried. */
function timeText(sec: number | bigint, nsec = 0): string {
  const s = BigInt(sec) + BigInt(Math.floor(nsec / 1e9));
  return formatDnstapTime(s, nsec % 1e9);
}

Deno.test("toDnstapRecord: random records match the schema, round-trip JSON and keep their fields", () => {
  fc.assert(
    fc.property(recordArb, (d) => {
      const r = toDnstapRecord(d);
      assert.equal(schemaErrors(r), null);
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
      assert.equal(r.identity !== undefined, d.identity !== undefined);
      assert.equal(r.version !== undefined, d.version !== undefined);
      const m = d.message;
      assert.equal(r.type, m?.type);
      if (m === undefined) return;
      assert.equal(r.query?.size, m.queryMessage?.length);
      assert.equal(r.response?.size, m.responseMessage?.length);
      const q = m.queryTimeSec === undefined
        ? undefined
        : timeText(m.queryTimeSec, m.queryTimeNsec);
      const s = m.responseTimeSec === undefined
        ? undefined
        : timeText(m.responseTimeSec, m.responseTimeNsec);
      assert.equal(r.query_time, q);
      assert.equal(r.response_time, s);
      // Latency: on a named response type, exactly response - query when
      // that is 0 to 2^53 - 1 nanoseconds.
      let latency: number | undefined;
      if (
        typeof m.type === "string" && m.type.endsWith("_RESPONSE") &&
        m.queryTimeSec !== undefined && m.responseTimeSec !== undefined
      ) {
        const ns = (t: number | bigint, n = 0) =>
          BigInt(t) * 10n ** 9n + BigInt(n);
        const d = ns(m.responseTimeSec, m.responseTimeNsec) -
          ns(m.queryTimeSec, m.queryTimeNsec);
        if (d >= 0n && d <= BigInt(Number.MAX_SAFE_INTEGER)) {
          latency = Number(d);
        }
      }
      assert.equal(r.latency_ns, latency);
    }),
    { numRuns: 2000 },
  );
});
