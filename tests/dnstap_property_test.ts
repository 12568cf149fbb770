// Properties: decodeDnstap(encodeDnstap(x)) deep-equals x on random messages
// (unknown enum numbers and 64-bit times included), encoding is canonical, and
// decoding random or mutated bytes throws nothing but DnstapError; the fuzz
// targets' checks (a reference decoder, views, bounded work, idempotence; the
// DNS text and lazy reader) on their cases and on hostile inputs.
import assert from "node:assert/strict";
import { MESSAGE_TYPES } from "./_dnstap_vectors.ts";
import fc from "fast-check";
import {
  decodeDnstap,
  type Dnstap,
  DnstapError,
  encodeDnstap,
} from "../src/dnstap.ts";
import type { FuzzCase } from "../fuzz/_case.ts";
import { dnsMessageTarget } from "../fuzz/_check_dns_message.ts";
import { dnstapTarget } from "../fuzz/_check_dnstap.ts";
import type { FuzzTarget } from "../fuzz/_target.ts";

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

// The fuzz targets' checks (fuzz/_check_dnstap.ts, fuzz/_check_dns_message.ts)
// on a few thousand of their cases, and on hostile inputs made by hand.

/** Runs a synchronous fuzz target's checks on one case. */
function runCheck(target: FuzzTarget, c: FuzzCase): void {
  if (!target.sync) throw new TypeError(`${target.name} is not synchronous`);
  target.check(c);
}

Deno.test("decodeDnstap agrees with a reference decoder written apart, on structured and mutated protobuf", () => {
  fc.assert(
    fc.property(dnstapTarget.arb, (c) => runCheck(dnstapTarget, c)),
    { numRuns: 3000 },
  );
});

/** Bytes of a varint. */
function varint(v: bigint): number[] {
  const out: number[] = [];
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}

/** A length-delimited field. */
function len(num: number, body: number[]): number[] {
  return [
    ...varint(BigInt(num * 8 + 2)),
    ...varint(BigInt(body.length)),
    ...body,
  ];
}

/** `body` wrapped in `times` length-delimited fields `num`, inside out. */
function nest(num: number, times: number, body: number[]): number[] {
  const heads: number[][] = [];
  let n = body.length;
  for (let i = 0; i < times; i++) {
    const head = [...varint(BigInt(num * 8 + 2)), ...varint(BigInt(n))];
    heads.push(head);
    n += head.length;
  }
  return [...heads.reverse().flat(), ...body];
}

const TYPE = [0x78, 0x01]; // Dnstap.type = MESSAGE
const QUERY = [0x08, 0x05]; // Message.type = CLIENT_QUERY

const HOSTILE: {
  name: string;
  bytes: number[];
  /** The DnstapError's offset, or null when it decodes. */
  error: number | null;
}[] = [
  // 3,000 nested unknown fields: skipped whole, no recursion.
  {
    name: "deep unknown nesting",
    bytes: [...nest(99, 3000, QUERY), ...TYPE],
    error: null,
  },
  // Dnstap.message whose field 14 (response_message) nests 1,000 deep: bytes.
  {
    name: "deep nesting in response_message",
    bytes: [...len(14, [...QUERY, ...nest(14, 1000, [1, 2, 3])]), ...TYPE],
    error: null,
  },
  // Dnstap.identity announcing 2^64 - 1 bytes.
  {
    name: "length 2^64 - 1",
    bytes: [0x0a, ...varint(2n ** 64n - 1n), 1, 2],
    error: 0,
  },
  // An unknown field announcing 2^31 bytes after a good type field.
  {
    name: "length 2^31 on an unknown field",
    bytes: [...TYPE, 0xa2, 0x06, ...varint(2n ** 31n)],
    error: 2,
  },
  // query_time_sec as a 10-byte varint ending in 1 (2^63): a bigint.
  {
    name: "10-byte varint, top bit",
    bytes: [
      ...len(14, [
        ...QUERY,
        0x40,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x01,
      ]),
      ...TYPE,
    ],
    error: null,
  },
  // The same ending in 2: over 64 bits, at the field's tag (byte 4).
  {
    name: "10-byte varint over 64 bits",
    bytes: [
      ...len(14, [
        ...QUERY,
        0x40,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x80,
        0x02,
      ]),
      ...TYPE,
    ],
    error: 4,
  },
  // 100,000 Dnstap.message fields, merged: linear work.
  {
    name: "100,000 repeated messages",
    bytes: [
      ...Array.from({ length: 100_000 }, () => len(14, QUERY)).flat(),
      ...TYPE,
    ],
    error: null,
  },
  // The largest field number, fixed32.
  {
    name: "field number 2^29 - 1",
    bytes: [...varint(BigInt((2 ** 29 - 1) * 8 + 5)), 1, 2, 3, 4, ...TYPE],
    error: null,
  },
  // A group start, known nowhere: rejected at its tag.
  { name: "group", bytes: [...TYPE, 0x1b, 0x1c], error: 2 },
];

for (const { name, bytes, error } of HOSTILE) {
  Deno.test(`decodeDnstap holds every fuzz check on a hostile input: ${name}`, () => {
    const input = new Uint8Array(bytes);
    if (error === null) decodeDnstap(input);
    else {
      assert.throws(
        () => decodeDnstap(input),
        (e) => e instanceof DnstapError && e.offset === error,
      );
    }
    runCheck(dnstapTarget, { target: "dnstap", bytes: input } as FuzzCase);
  });
}

Deno.test("decodeDnstap keeps a 1 MiB identity as a view of the input, and an empty one as empty bytes", () => {
  const bytes = new Uint8Array([...len(1, []), ...TYPE]);
  const big = new Uint8Array(2 ** 20 + 8);
  big.set([0x0a, ...varint(2n ** 20n)]);
  big.set(TYPE, 2 ** 20 + 4);
  const d = decodeDnstap(big.subarray(0, 2 ** 20 + 6));
  assert.equal(d.identity?.buffer, big.buffer);
  assert.equal(d.identity?.length, 2 ** 20);
  assert.deepEqual(decodeDnstap(bytes).identity, new Uint8Array());
});

Deno.test("dnsMessageText and parseDnsMessage hold the dns-message fuzz checks on mutated messages and pointer bombs", () => {
  fc.assert(
    fc.property(dnsMessageTarget.arb, (c) => runCheck(dnsMessageTarget, c)),
    { numRuns: 1500 },
  );
});
