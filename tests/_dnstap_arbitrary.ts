// fast-check arbitraries for dnstap records, shared by the dnstap tests:
// every field present or absent, enum names and unknown numbers, 64-bit
// times, byte fields of any content.
import fc from "fast-check";
import type { Dnstap } from "../src/dnstap.ts";
import { MESSAGE_TYPES } from "./_dnstap_vectors.ts";

/** An enum: one of the names, or an int32 the schema leaves unnamed. */
export function enumArb(
  names: readonly string[],
): fc.Arbitrary<string | number> {
  return fc.oneof(
    fc.constantFrom(...names),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((n) =>
      n <= 0 || n > names.length
    ),
  );
}

/** A uint64 in decodeDnstap's form: a number up to 2^53 - 1, else a bigint. */
export const uint64Arb: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }),
  fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((b) =>
    b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  ),
);

/** Any uint32. */
export const uint32Arb: fc.Arbitrary<number> = fc.integer({
  min: 0,
  max: 2 ** 32 - 1,
});

/** Bytes of any content, up to 40. */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc.uint8Array({
  maxLength: 40,
});

/** Addresses: mostly 4 or 16 bytes, sometimes another length. */
export const addressArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  {
    weight: 4,
    arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16, max: 2 }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) },
);

/** Text-ish bytes: UTF-8 of any string, or random bytes. */
export const textBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }).map((s) =>
    new TextEncoder().encode(s)
  ),
  bytesArb,
);

/** The SocketProtocol names. */
export const SOCKET_PROTOCOL_NAMES: readonly string[] = [
  "UDP",
  "TCP",
  "DOT",
  "DOH",
  "DNSCryptUDP",
  "DNSCryptTCP",
  "DOQ",
];

/**
 * A random `Dnstap` record; `message` gives the DNS message bytes (any
 * bytes by default).
 */
export function dnstapArb(
  message: fc.Arbitrary<Uint8Array> = bytesArb,
): fc.Arbitrary<Dnstap> {
  const messageArb = fc.record({
    type: enumArb(MESSAGE_TYPES),
    socketFamily: enumArb(["INET", "INET6"]),
    socketProtocol: enumArb(SOCKET_PROTOCOL_NAMES),
    queryAddress: addressArb,
    responseAddress: addressArb,
    queryPort: fc.oneof(fc.constant(0), uint32Arb),
    responsePort: fc.oneof(fc.constant(0), uint32Arb),
    queryTimeSec: uint64Arb,
    queryTimeNsec: uint32Arb,
    queryMessage: message,
    queryZone: bytesArb,
    responseTimeSec: uint64Arb,
    responseTimeNsec: uint32Arb,
    responseMessage: message,
    httpProtocol: enumArb(["HTTP1", "HTTP2", "HTTP3"]),
  }, { requiredKeys: ["type"], noNullPrototype: true });
  return fc.record({
    identity: textBytesArb,
    version: textBytesArb,
    extra: bytesArb,
    type: fc.oneof(
      { weight: 20, arbitrary: fc.constant("MESSAGE") },
      { weight: 1, arbitrary: enumArb(["MESSAGE"]) },
    ),
    message: messageArb,
  }, { requiredKeys: ["type"], noNullPrototype: true }) as fc.Arbitrary<
    Dnstap
  >;
}
