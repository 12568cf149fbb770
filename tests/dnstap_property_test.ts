// Properties: decodeDnstap(encodeDnstap(x)) deep-equals x on random messages
// (unknown enum numbers and 64-bit times included), encoding is canonical, and
// decoding random or mutated bytes throws nothing but DnstapError.
import assert from "node:assert/strict";
import { MESSAGE_TYPES } from "./_dnstap_vectors.ts";
import fc from "fast-check";
import {
  decodeDnstap,
  type Dnstap,
  DnstapError,
  encodeDnstap,
} from "../src/dnstap.ts";

/** An enum: one of the names, or any int32 the schema leaves unnamed. */
function enumArb(names: string[]): fc.Arbitrary<string | number> {
  return fc.oneof(
    fc.constantFrom(...names),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((n) =>
      n <= 0 || n > names.length
    ),
  );
}

/** A uint64 in decodeDnstap's normal form: number up to 2^53 - 1, else bigint. */
const uint64Arb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) =>
    b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  ),
);
const uint32Arb = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const bytesArb = fc.uint8Array({ maxLength: 40 });
const opt = { requiredKeys: [] as never[], noNullPrototype: true };

const policyArb = fc.record({
  type: fc.string({ unit: "grapheme", maxLength: 10 }),
  rule: bytesArb,
  action: enumArb([
    "NXDOMAIN",
    "NODATA",
    "PASS",
    "DROP",
    "TRUNCATE",
    "LOCAL_DATA",
  ]),
  match: enumArb(["QNAME", "CLIENT_IP", "RESPONSE_IP", "NS_NAME", "NS_IP"]),
  value: bytesArb,
}, opt);

const messageArb = fc.record({
  type: enumArb([...MESSAGE_TYPES]),
  socketFamily: enumArb(["INET", "INET6"]),
  socketProtocol: enumArb([
    "UDP",
    "TCP",
    "DOT",
    "DOH",
    "DNSCryptUDP",
    "DNSCryptTCP",
    "DOQ",
  ]),
  queryAddress: bytesArb,
  responseAddress: bytesArb,
  queryPort: uint32Arb,
  responsePort: uint32Arb,
  queryTimeSec: uint64Arb,
  queryTimeNsec: uint32Arb,
  queryMessage: bytesArb,
  queryZone: bytesArb,
  responseTimeSec: uint64Arb,
  responseTimeNsec: uint32Arb,
  responseMessage: bytesArb,
  policy: policyArb,
  httpProtocol: enumArb(["HTTP1", "HTTP2", "HTTP3"]),
}, { requiredKeys: ["type"], noNullPrototype: true });

const dnstapArb = fc.record({
  identity: bytesArb,
  version: bytesArb,
  extra: bytesArb,
  type: enumArb(["MESSAGE"]),
  message: messageArb,
}, { requiredKeys: ["type"], noNullPrototype: true }) as fc.Arbitrary<Dnstap>;

/** Decodes, asserting that any error is a DnstapError within the input. */
function decodeOrDnstapError(bytes: Uint8Array): void {
  try {
    decodeDnstap(bytes);
  } catch (e) {
    if (!(e instanceof DnstapError)) throw e;
    assert.ok(e.offset >= 0 && e.offset <= bytes.length, e.message);
  }
}

Deno.test("decodeDnstap(encodeDnstap(x)) deep-equals x", () => {
  fc.assert(
    fc.property(dnstapArb, (x) => {
      const bytes = encodeDnstap(x);
      const back = decodeDnstap(bytes);
      assert.deepStrictEqual(back, x);
      // Canonical: encoding the decoded value gives the same bytes.
      assert.deepStrictEqual(encodeDnstap(back), bytes);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("decodeDnstap throws nothing but DnstapError on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), decodeOrDnstapError),
    { numRuns: 5000 },
  );
});

Deno.test("decodeDnstap throws nothing but DnstapError on mutated messages", () => {
  const mutationArb = fc.array(
    fc.record({
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
      op: fc.nat(2),
    }),
    { minLength: 1, maxLength: 4 },
  );
  fc.assert(
    fc.property(dnstapArb, mutationArb, (x, mutations) => {
      const bytes = Array.from(encodeDnstap(x));
      for (const { at, byte, op } of mutations) {
        const i = at % (bytes.length + 1);
        if (op === 0) bytes[i] = byte; // replace (or append at the end)
        else if (op === 1) bytes.splice(i, 0, byte); // insert
        else bytes.splice(i, 1); // delete
      }
      decodeOrDnstapError(new Uint8Array(bytes));
    }),
    { numRuns: 3000 },
  );
});
