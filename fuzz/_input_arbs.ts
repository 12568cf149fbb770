// Private: fast-check generators of the byte inputs the fuzz targets share.
// They build on the stream generators of the property tests
// (tests/_streams.ts) and add what a fuzzer wants more of: foreign protocols
// (TLS, dnsdist's 2-byte length protobuf, HTTP, text), absurd length words
// and lengths at the limit, among good and bad frames, and inputs laid
// across FrameReader's window.
import fc from "fast-check";
import {
  be32,
  control,
  data,
  insertArb,
  largeTokenArb,
  mutate,
  type Mutation,
  mutationArb,
  tokenArb,
  validArb,
} from "../tests/_streams.ts";
import { concat } from "../tests/_util.ts";

/** A string's UTF-8 bytes. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A TLS 1.2 ClientHello record, as a TLS client sends first. */
function clientHello(random: Uint8Array, sni: string): Uint8Array {
  const name = text(sni);
  const ext = concat(
    new Uint8Array([0x00, 0x00]), // server_name
    be16(name.length + 5),
    be16(name.length + 3),
    new Uint8Array([0x00]),
    be16(name.length),
    name,
  );
  const body = concat(
    new Uint8Array([0x03, 0x03]),
    random, // 32 bytes
    new Uint8Array([0x00]), // no session id
    be16(4),
    new Uint8Array([0x13, 0x01, 0xc0, 0x2f]),
    new Uint8Array([0x01, 0x00]), // null compression
    be16(ext.length),
    ext,
  );
  const handshake = concat(
    new Uint8Array([0x01, 0x00]),
    be16(body.length),
    body,
  );
  return concat(
    new Uint8Array([0x16, 0x03, 0x01]),
    be16(handshake.length),
    handshake,
  );
}

function be16(value: number): Uint8Array {
  return new Uint8Array([(value >>> 8) & 0xff, value & 0xff]);
}

/** Bytes of other protocols and absurd length words. */
export const foreignArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  // TLS on a plain port.
  fc.tuple(
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.constantFrom("collector.example", "a", "dnstap.internal"),
  ).map(([random, sni]) => clientHello(random, sni)),
  // dnsdist's RemoteLogger: a 2-byte length, then protobuf (field tags
  // 0x08, 0x0a or 0x12 first).
  fc.tuple(
    fc.constantFrom(0x08, 0x0a, 0x12),
    fc.uint8Array({ minLength: 1, maxLength: 60 }),
  ).map(([tag, body]) =>
    concat(be16(body.length + 1), new Uint8Array([tag]), body)
  ),
  // HTTP, and plain text.
  fc.constantFrom(
    text("GET / HTTP/1.1\r\nHost: collector\r\n\r\n"),
    text("POST /dnstap HTTP/1.1\r\n"),
    text("HTTP/1.1 400 Bad Request\r\n"),
    text("hello, world\n"),
    text("SSH-2.0-OpenSSH_9.2\r\n"),
  ),
  // Length words with a few bytes after them: 0 (the escape), 3 and 513
  // (bad control lengths when after an escape), the largest, around 2^31,
  // around the default limit, around a 64 KiB window.
  fc.tuple(
    fc.constantFrom(
      0,
      3,
      513,
      0xffff_ffff,
      0xffff_fffe,
      0x8000_0000,
      0x7fff_ffff,
      0x0100_0000,
      1_048_577,
      1_048_576,
      65_536,
      65_537,
    ),
    fc.uint8Array({ maxLength: 12 }),
  ).map(([word, tail]) => concat(be32(word), tail)),
  // An escape, then a bad control length.
  fc.constantFrom(0, 3, 513, 0xffff_ffff).map((clen) =>
    concat(be32(0), be32(clen), be32(2))
  ),
);

/** Good and bad frames laid end to end, foreign bytes among them. */
export const fuzzTokenArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: tokenArb },
  { weight: 2, arbitrary: foreignArb },
);

/** The mutations of the property tests, plus foreign bytes inserted. */
export const fuzzMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: mutationArb },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("insert" as const),
      at: fc.nat(),
      bytes: fc.oneof(foreignArb, insertArb),
    }),
  },
);

/** Bytes of every kind the decoder target feeds (and the reader target). */
export const decoderBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: validArb },
  {
    weight: 4,
    arbitrary: fc.tuple(
      validArb,
      fc.array(fuzzMutationArb, { minLength: 1, maxLength: 5 }),
    ).map(([bytes, m]) => mutate(bytes, m)),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.array(fuzzTokenArb, { maxLength: 24 }),
      fc.array(fuzzMutationArb, { maxLength: 2 }),
    ).map(([tokens, m]) => mutate(concat(...tokens), m)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.array(largeTokenArb, { minLength: 1, maxLength: 8 }),
      fc.array(mutationArb, { maxLength: 3 }),
    ).map(([tokens, m]) => mutate(concat(...tokens), m)),
  },
);

// ---------------------------------------------------------------------------
// Inputs laid across FrameReader's window.

/** Valid data frames filling `size` bytes (give or take a frame header). */
function filler(size: number, frame: number, fill: number): Uint8Array {
  const lengths: number[] = [];
  let total = 0;
  for (let left = size; left > 0;) {
    const length = Math.max(1, Math.min(frame, left - 4));
    lengths.push(length);
    total += 4 + length;
    left -= 4 + length;
  }
  const out = new Uint8Array(total).fill(fill);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const length of lengths) {
    view.setUint32(at, length);
    at += 4 + length;
  }
  return out;
}

/** A window size the reader target uses (64 KiB): inputs are laid across it. */
export const WINDOW = 65_536;

/** Inputs whose interesting part straddles a 64 KiB window boundary. */
export const windowedArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom(1, 1, 2),
  fc.integer({ min: -700, max: 700 }),
  // Frames of 7 bytes: over 4,096 (a scan table) per window.
  fc.constantFrom(7, 100, 100, 1_000, 65_000),
  fc.boolean(),
  fc.array(fuzzTokenArb, { minLength: 1, maxLength: 8 }),
  fc.array(mutationArb, { maxLength: 2 }),
).map(([windows, delta, frame, start, tokens, m]) => {
  const head = start
    ? control(2, [text("protobuf:dnstap.Dnstap")])
    : new Uint8Array(0);
  const fill = filler(
    Math.max(0, windows * WINDOW + delta - head.length),
    frame,
    0x5a,
  );
  const bytes = concat(head, fill, ...tokens);
  // Mutate only the tail, where the tokens are.
  const at = head.length + fill.length;
  return concat(bytes.subarray(0, at), mutate(bytes.subarray(at), m));
});

/** Data frames longer than the window (read into a buffer of their own). */
export const overWindowArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.integer({ min: WINDOW - 8, max: 2 * WINDOW + 20_000 }),
  fc.integer({ min: 0, max: 3 }),
  fc.array(fuzzTokenArb, { maxLength: 4 }),
  fc.nat(),
  fc.boolean(),
).map(([length, before, tokens, cut, start]) => {
  const bytes = concat(
    start ? control(2, []) : new Uint8Array(0),
    filler(before * 1_000, 200, 0x11),
    data(new Uint8Array(length).fill(0x42)),
    ...tokens,
    control(3),
  );
  return cut % 4 === 0 ? bytes.subarray(0, cut % (bytes.length + 1)) : bytes;
});
