// Private: the inputs of the dnstap fuzz target: rich messages encoded by
// encodeDnstap (every field, unknown enum numbers, 64-bit times); valid but
// not canonical protobuf (fields in any order, repeated, unknown fields
// among them, padded varints, values over 32 bits); raw fields of every
// wire type with any field number, lengths that lie; random bytes; repeats
// to merge. Then mutated: bytes set, flipped, inserted, dropped, cut,
// spliced from another message, spans wrapped in length-delimited fields
// (nesting, up to 3,000 deep), unknown fields and huge or overlong length
// prefixes inserted.
import fc from "fast-check";
import { type Dnstap, encodeDnstap } from "../src/dnstap.ts";

// Protobuf pieces.

/** A varint's bytes (shortest form). */
function varint(v: number | bigint): number[] {
  let n = BigInt(v);
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return out;
}

/** A field's tag. */
const tag = (num: number, wire: number): number[] =>
  varint(BigInt(num) * 8n + BigInt(wire));

/** A length-delimited field. */
const lenField = (num: number, body: ArrayLike<number>): number[] => [
  ...tag(num, 2),
  ...varint(body.length),
  ...Array.from(body),
];

// ---------------------------------------------------------------------------
// Cases.

/** An enum value: a name, or an int32 the schema leaves unnamed. */
function enumArb(names: string[]): fc.Arbitrary<string | number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...names) },
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((n) =>
      n <= 0 || n > names.length
    ),
  );
}

/** A uint64 as decodeDnstap gives it: a number up to 2^53 - 1, else bigint. */
const uint64Arb = fc.oneof(
  fc.integer({ min: 1_700_000_000, max: 1_800_000_000 }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) =>
    b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  ),
);
const uint32Arb = fc.oneof(
  fc.integer({ min: 0, max: 65_535 }),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
);
const addressArb = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ maxLength: 20 }),
);
const textArb = fc.string({ maxLength: 24 }).map((s) =>
  new TextEncoder().encode(s)
);
/** A DNS-looking message: a header, then anything. */
const dnsArb = fc.tuple(
  fc.uint8Array({ minLength: 12, maxLength: 12 }),
  fc.uint8Array({ maxLength: 300 }),
).map(([h, rest]) => {
  const out = new Uint8Array(12 + rest.length);
  out.set(h);
  out.set(rest, 12);
  return out;
});
const opt = { requiredKeys: [] as never[], noNullPrototype: true };

const policyArb = fc.record({
  type: fc.oneof(fc.constantFrom("RPZ", ""), fc.string({ maxLength: 12 })),
  rule: textArb,
  action: enumArb([
    "NXDOMAIN",
    "NODATA",
    "PASS",
    "DROP",
    "TRUNCATE",
    "LOCAL_DATA",
  ]),
  match: enumArb(["QNAME", "CLIENT_IP", "RESPONSE_IP", "NS_NAME", "NS_IP"]),
  value: textArb,
}, opt);

const messageArb = fc.record({
  type: enumArb([
    "AUTH_QUERY",
    "AUTH_RESPONSE",
    "RESOLVER_QUERY",
    "RESOLVER_RESPONSE",
    "CLIENT_QUERY",
    "CLIENT_RESPONSE",
    "FORWARDER_QUERY",
    "FORWARDER_RESPONSE",
    "STUB_QUERY",
    "STUB_RESPONSE",
    "TOOL_QUERY",
    "TOOL_RESPONSE",
    "UPDATE_QUERY",
    "UPDATE_RESPONSE",
  ]),
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
  queryAddress: addressArb,
  responseAddress: addressArb,
  queryPort: uint32Arb,
  responsePort: uint32Arb,
  queryTimeSec: uint64Arb,
  queryTimeNsec: uint32Arb,
  queryMessage: dnsArb,
  queryZone: textArb,
  responseTimeSec: uint64Arb,
  responseTimeNsec: uint32Arb,
  responseMessage: dnsArb,
  policy: policyArb,
  httpProtocol: enumArb(["HTTP1", "HTTP2", "HTTP3"]),
}, { requiredKeys: ["type"], noNullPrototype: true });

/** A rich dnstap value. */
const dnstapArb: fc.Arbitrary<Dnstap> = fc.record({
  identity: textArb,
  version: textArb,
  extra: fc.uint8Array({ maxLength: 40 }),
  type: enumArb(["MESSAGE"]),
  message: messageArb,
}, { requiredKeys: ["type"], noNullPrototype: true }) as fc.Arbitrary<
  Dnstap
>;

/** A field number: dnstap's own, small, large, reserved, the largest. */
const fieldNumberArb = fc.oneof(
  fc.constantFrom(1, 2, 3, 14, 15, 16),
  fc.integer({ min: 1, max: 40 }),
  fc.constantFrom(0, 19_000, 19_999, 2 ** 29 - 1),
  fc.integer({ min: 1, max: 2 ** 29 - 1 }),
);

/** A length prefix past any input, or of a varint protobuf rejects. */
const hugeLengthArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom(
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53,
  ).map(varint),
  fc.constantFrom(2n ** 63n, 2n ** 64n - 1n).map(varint),
  // Overlong: 10 and 11 continuation bytes, a 10th byte over 1.
  fc.constantFrom<number[][]>(
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  ),
  fc.integer({ min: 1, max: 4096 }).map(varint),
);

/** One raw protobuf field, any wire type (groups and 6, 7 included). */
const rawFieldArb: fc.Arbitrary<number[]> = fc.tuple(
  fieldNumberArb,
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0, 1, 2, 5) },
    { weight: 1, arbitrary: fc.constantFrom(3, 4, 6, 7) },
  ),
  fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(varint),
    fc.nat(300).map(varint),
    hugeLengthArb,
  ),
  fc.uint8Array({ maxLength: 24 }),
  fc.nat(4),
).map(([num, wire, prefix, body, lie]) => {
  switch (wire) {
    case 0:
      return [...tag(num, 0), ...prefix];
    case 2:
      return lie === 0
        ? [...tag(num, 2), ...prefix, ...body] // a length that lies
        : lenField(num, body);
    default:
      return [...tag(num, wire), ...body.subarray(0, 8)];
  }
});

/** Raw fields, dnstap's own or not, with a type field now and then. */
const rawArb: fc.Arbitrary<number[]> = fc.tuple(
  fc.array(rawFieldArb, { maxLength: 12 }),
  fc.boolean(),
).map(([fields, typed]) => [...fields.flat(), ...(typed ? [0x78, 0x01] : [])]);

// Valid but not canonical: fields in any order, repeated (to be merged),
// unknown fields among them, varints padded to more bytes than they need,
// values over a uint32 field's or an enum's 32 bits.

/** A varint of any 64-bit value, now and then padded (still valid). */
const paddedVarintArb: fc.Arbitrary<number[]> = fc.tuple(
  fc.oneof(
    fc.bigInt({ min: 0n, max: 300n }),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  ),
  fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.nat(3)),
).map(([v, extra]) => {
  const b = varint(v);
  for (let i = 0; i < extra && b.length < 10; i++) {
    b[b.length - 1]! |= 0x80;
    b.push(0);
  }
  return b;
});

/** A valid field unknown to dnstap.proto, of wire type 0, 1, 2 or 5. */
const unknownFieldArb: fc.Arbitrary<number[]> = fc.tuple(
  fc.oneof(
    fc.integer({ min: 17, max: 40 }),
    fc.constantFrom(19_000, 2 ** 29 - 1),
    fc.integer({ min: 17, max: 2 ** 29 - 1 }),
  ),
  fc.constantFrom(0, 1, 2, 5),
  paddedVarintArb,
  fc.uint8Array({ minLength: 8, maxLength: 24 }),
).map(([num, wire, v, body]) =>
  wire === 0
    ? [...tag(num, 0), ...v]
    : wire === 2
    ? lenField(num, body.subarray(8))
    : [...tag(num, wire), ...body.subarray(0, wire === 1 ? 8 : 4)]
);

/** How one known field is written. */
type FieldKind = "len" | "varint" | "fixed32" | fc.Arbitrary<number[]>;

/** Fields of a message of `schema` in any order, its field 1 (or 15) once at least. */
function fieldsArb(
  schema: Record<number, FieldKind>,
  required: number | null,
): fc.Arbitrary<number[]> {
  const known = Object.entries(schema).map(([n, kind]) => {
    const num = Number(n);
    const value: fc.Arbitrary<number[]> = kind === "len"
      ? fc.uint8Array({ maxLength: 24 }).map((b) => Array.from(b))
      : kind === "varint"
      ? paddedVarintArb
      : kind === "fixed32"
      ? fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Array.from(b))
      : kind;
    return value.map((v) =>
      kind === "varint" || kind === "fixed32"
        ? [...tag(num, kind === "varint" ? 0 : 5), ...v]
        : lenField(num, v)
    );
  });
  return fc.tuple(
    fc.array(
      fc.oneof({ weight: 4, arbitrary: fc.oneof(...known) }, unknownFieldArb),
      { maxLength: 10 },
    ),
    paddedVarintArb,
    fc.nat(),
  ).map(([fields, v, at]) => {
    if (required !== null) {
      fields.splice(at % (fields.length + 1), 0, [...tag(required, 0), ...v]);
    }
    return fields.flat();
  });
}

const policyFieldsArb = fieldsArb(
  { 1: "len", 2: "len", 3: "varint", 4: "varint", 5: "len" },
  null,
);
const messageFieldsArb = fieldsArb({
  2: "varint",
  3: "varint",
  4: "len",
  5: "len",
  6: "varint",
  7: "varint",
  8: "varint",
  9: "fixed32",
  10: "len",
  11: "len",
  12: "varint",
  13: "fixed32",
  14: "len",
  15: policyFieldsArb,
  16: "varint",
}, 1);
/** A whole Dnstap, valid protobuf, not canonical. */
const structuredArb = fieldsArb(
  { 1: "len", 2: "len", 3: "len", 14: messageFieldsArb },
  15,
);

/** A base input; `canonical` when it is encodeDnstap's output. */
const baseArb: fc.Arbitrary<{ bytes: number[]; canonical: boolean }> = fc
  .oneof(
    {
      weight: 6,
      arbitrary: dnstapArb.map((d) => ({
        bytes: Array.from(encodeDnstap(d)),
        canonical: true,
      })),
    },
    {
      weight: 3,
      arbitrary: rawArb.map((bytes) => ({ bytes, canonical: false })),
    },
    {
      weight: 6,
      arbitrary: structuredArb.map((bytes) => ({ bytes, canonical: false })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({
        bytes: Array.from(b),
        canonical: false,
      })),
    },
    // Repeats: concatenated messages merge, field by field.
    {
      weight: 1,
      arbitrary: fc.array(dnstapArb, { minLength: 2, maxLength: 5 }).map((
        ds,
      ) => ({
        bytes: ds.flatMap((d) => Array.from(encodeDnstap(d))),
        canonical: false,
      })),
    },
  );

/** One mutation, applied at `at` modulo the input's length. */
type Mutation =
  | { op: "set"; at: number; byte: number }
  | { op: "flip"; at: number; bit: number }
  | { op: "insert"; at: number; bytes: number[] }
  | { op: "drop"; at: number; n: number }
  | { op: "cut"; at: number }
  | { op: "wrap"; at: number; n: number; num: number; times: number }
  | { op: "splice"; at: number; bytes: number[] };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.nat(255),
  }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.oneof(
      rawFieldArb,
      hugeLengthArb.chain((len) =>
        fieldNumberArb.map((num) => [...tag(num, 2), ...len])
      ),
      fc.array(fc.nat(255), { minLength: 1, maxLength: 4 }),
    ),
  }),
  fc.record({ op: fc.constant("drop" as const), at: fc.nat(), n: fc.nat(16) }),
  fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("wrap" as const),
    at: fc.nat(),
    n: fc.nat(),
    num: fc.oneof(fc.constantFrom(14, 15), fieldNumberArb),
    times: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }) },
    ),
  }),
  fc.record({
    op: fc.constant("splice" as const),
    at: fc.nat(),
    bytes: dnstapArb.map((d) => {
      const b = Array.from(encodeDnstap(d));
      return b.slice(b.length >> 2, b.length - (b.length >> 3));
    }),
  }),
);

/** `bytes` with the mutation applied. */
function mutate(bytes: number[], m: Mutation): number[] {
  const at = m.at % (bytes.length + 1);
  switch (m.op) {
    case "set":
      if (at < bytes.length) bytes[at] = m.byte;
      return bytes;
    case "flip":
      if (at < bytes.length) bytes[at]! ^= 1 << m.bit;
      return bytes;
    case "insert":
    case "splice":
      return [...bytes.slice(0, at), ...m.bytes, ...bytes.slice(at)];
    case "drop":
      bytes.splice(at, m.n + 1);
      return bytes;
    case "cut":
      return bytes.slice(0, at);
    case "wrap": {
      // bytes[at, at + n) in `times` length-delimited fields `num`.
      const end = at + m.n % (bytes.length - at + 1);
      const heads: number[][] = [];
      let length = end - at;
      for (let i = 0; i < m.times; i++) {
        const head = [...tag(m.num, 2), ...varint(length)];
        heads.push(head);
        length += head.length;
      }
      return [
        ...bytes.slice(0, at),
        ...heads.reverse().flat(),
        ...bytes.slice(at, end),
        ...bytes.slice(end),
      ];
    }
  }
}

/** One input: its bytes, whether they are canonical, padding around them. */
export interface DnstapInput {
  bytes: Uint8Array;
  /** encodeDnstap's output, unmutated. */
  canonical: boolean;
  /** Bytes of padding before (and after) the input in its buffer. */
  pad: number;
}

/** Inputs of the dnstap target. */
export const dnstapInputArb: fc.Arbitrary<DnstapInput> = fc.record({
  base: baseArb,
  mutations: fc.oneof(
    { weight: 2, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(mutationArb, { maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(mutationArb, { maxLength: 6 }) },
  ),
  pad: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 })),
}).map(({ base, mutations, pad }) => {
  let bytes = [...base.bytes];
  for (const m of mutations) bytes = mutate(bytes, m);
  return {
    bytes: new Uint8Array(bytes),
    canonical: base.canonical && mutations.length === 0,
    pad,
  };
});
