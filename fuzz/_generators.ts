// Private: fast-check generators of fuzz cases, one per target. They build on
// the stream generators of the property tests (tests/_streams.ts) and add
// what a fuzzer wants more of: foreign protocols (TLS, dnsdist's 2-byte
// length protobuf, HTTP, text), absurd length words, lengths at the limit,
// invalid options, inputs laid across FrameReader's window, and handshake
// scripts and conversations.
import fc from "fast-check";
import {
  be32,
  type Chunking,
  chunkingArb,
  control,
  cutInto,
  data,
  insertArb,
  largeTokenArb,
  MAX_TESTED_LENGTH,
  mutate,
  type Mutation,
  mutationArb,
  optionsArb,
  pullsFor,
  tokenArb,
  validArb,
} from "../tests/_streams.ts";
import { concat } from "../tests/_util.ts";
import type {
  CaseOptions,
  DecoderCase,
  FrameJson,
  FuzzCase,
  HandshakeCase,
  Perturbation,
  ReaderCase,
  Step,
  Target,
} from "./_case.ts";
import { toHex } from "./_case.ts";

/** A case with its input still as bytes (not spelled out yet). */
export type GeneratedCase = FuzzCase & { bytes?: Uint8Array };

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// ---------------------------------------------------------------------------
// Foreign bytes and bad words.

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

// ---------------------------------------------------------------------------
// Options.

const HUGE_LIMITS = [
  0xffff_ffff,
  0xffff_fffe,
  0x8000_0001,
  0x8000_0000,
  0x7fff_ffff,
  MAX_TESTED_LENGTH,
];

/** Decoder options: mostly those of the property tests, some huge, some invalid. */
export const fuzzOptionsArb: fc.Arbitrary<CaseOptions> = fc.oneof(
  { weight: 16, arbitrary: optionsArb as fc.Arbitrary<CaseOptions> },
  {
    weight: 1,
    arbitrary: fc.record({
      maxFrameLength: fc.constantFrom(...HUGE_LIMITS),
      oversize: fc.constantFrom("error", "skip"),
      strict: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.record({
        maxFrameLength: fc.constantFrom<number | string | null>(
          0,
          -1,
          1.5,
          0x1_0000_0000,
          1e300,
          "1024",
          null,
        ),
      }),
      fc.record({ oversize: fc.constantFrom("drop", "", "ERROR", null) }),
    ),
  },
);

// ---------------------------------------------------------------------------
// The decoder target.

/** Bytes of every kind the decoder target feeds. */
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

/** A stream whose data frames are one byte under, at and over the limit. */
const atTheLimitArb: fc.Arbitrary<{ bytes: Uint8Array; options: CaseOptions }> =
  fc.record({
    max: fc.oneof(
      fc.integer({ min: 1, max: 600 }),
      fc.constantFrom(65_535, 65_536, 65_537, 1_048_576),
    ),
    deltas: fc.array(fc.integer({ min: -2, max: 2 }), {
      minLength: 1,
      maxLength: 4,
    }),
    oversize: fc.constantFrom("error", "skip"),
    strict: fc.boolean(),
    stop: fc.boolean(),
    cut: fc.nat(),
  }).map(({ max, deltas, oversize, strict, stop, cut }) => {
    const parts = [control(2, [text("protobuf:dnstap.Dnstap")])];
    for (const d of deltas) {
      const length = Math.max(1, max + d);
      parts.push(data(new Uint8Array(length).fill(length & 0xff)));
    }
    if (stop) parts.push(control(3));
    let bytes = concat(...parts);
    // Now and then cut short (inside a skipped frame, say).
    if (cut % 3 === 0) bytes = bytes.subarray(0, cut % (bytes.length + 1));
    return { bytes, options: { maxFrameLength: max, oversize, strict } };
  });

function decoderCase(
  bytes: Uint8Array,
  chunking: Chunking,
  options: CaseOptions,
  throwEvery: number,
): GeneratedCase {
  const chunks = cutInto(bytes, chunking);
  const cuts: number[] = [];
  let at = 0;
  for (const c of chunks.slice(0, -1)) cuts.push(at += c.length);
  return {
    target: "decoder",
    bytes,
    cuts,
    pulls: pullsFor(chunking, chunks.length).map(Number).join(""),
    options,
    throwEvery,
  } satisfies DecoderCase & { bytes: Uint8Array };
}

const throwEveryArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) },
);

/** Cases of the decoder target. */
export const decoderCaseArb: fc.Arbitrary<GeneratedCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.tuple(
      decoderBytesArb,
      chunkingArb(40),
      fuzzOptionsArb,
      throwEveryArb,
    ).map(([bytes, chunking, options, t]) =>
      decoderCase(bytes, chunking, options, t)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(atTheLimitArb, chunkingArb(12), throwEveryArb).map((
      [{ bytes, options }, chunking, t],
    ) => decoderCase(bytes, chunking, options, t)),
  },
);

// ---------------------------------------------------------------------------
// The reader target.

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

const WINDOW = 65_536;

/** Inputs whose interesting part straddles a 64 KiB window boundary. */
const windowedArb: fc.Arbitrary<Uint8Array> = fc.tuple(
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
const overWindowArb: fc.Arbitrary<Uint8Array> = fc.tuple(
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

const readerOptionsArb: fc.Arbitrary<CaseOptions> = fc.oneof(
  { weight: 4, arbitrary: fuzzOptionsArb },
  {
    weight: 1,
    arbitrary: fc.record({
      maxFrameLength: fc.oneof(
        fc.integer({ min: WINDOW - 16, max: WINDOW + 16 }),
        fc.integer({ min: 1, max: 3 * WINDOW }),
      ),
      oversize: fc.constantFrom("error", "skip"),
      strict: fc.boolean(),
    }),
  },
);

/** Cases of the reader target. */
export const readerCaseArb: fc.Arbitrary<GeneratedCase> = fc.record({
  bytes: fc.oneof(
    { weight: 3, arbitrary: decoderBytesArb },
    { weight: 4, arbitrary: windowedArb },
    { weight: 2, arbitrary: overWindowArb },
  ),
  reads: fc.array(
    fc.oneof(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 1, max: 70_000 }),
      fc.constantFrom(WINDOW, 1 << 30),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  options: readerOptionsArb,
  windowSize: fc.constantFrom(WINDOW, WINDOW, 2 * WINDOW),
  how: fc.constantFrom(
    "forEachFrame" as const,
    "forEachRun" as const,
    "batches" as const,
    "iterator" as const,
  ),
  copyPayloads: fc.boolean(),
  readSync: fc.boolean(),
  awaitEvery: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) },
  ),
  stopAt: fc.oneof(
    { weight: 4, arbitrary: fc.constant(-1) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
  ),
}).map((r) => {
  // At most about 2,000 reads per input, so that large inputs stay fast.
  const least = Math.ceil(r.bytes.length / 2_000);
  return {
    target: "reader",
    ...r,
    reads: r.reads.map((n) => Math.max(n, least)),
  } satisfies ReaderCase & { bytes: Uint8Array };
});

// ---------------------------------------------------------------------------
// The handshake target.

/** Content types that collide often, and a few that are too long. */
const POOL: readonly Uint8Array[] = [
  text("protobuf:dnstap.Dnstap"),
  new Uint8Array(0),
  text("a"),
  text("b"),
  new Uint8Array([0x00, 0x78]),
  new Uint8Array(256).fill(0x61),
  new Uint8Array(200).fill(0x62),
  // With the 256-byte one: over the 503 bytes a frame we write may hold.
  new Uint8Array(250).fill(0x64),
];
const TOO_LONG = new Uint8Array(257).fill(0x63);

const contentTypeArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...POOL) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constant(TOO_LONG) },
);

/** A constructor's content type list, now and then no list at all. */
const typesArb: fc.Arbitrary<string[] | number | null> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.array(contentTypeArb, { maxLength: 4 }).map((l) =>
      l.map(toHex)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom(POOL[5]!, POOL[6]!, POOL[7]!), {
      minLength: 2,
      maxLength: 3,
    }).map((l) => l.map(toHex)),
  },
  { weight: 1, arbitrary: fc.constantFrom<number | null>(null, 7) },
);

const frameJsonArb: fc.Arbitrary<FrameJson> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("control" as const),
      type: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 1, max: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom(0, 6, 9, 0xffff_ffff) },
      ),
      contentTypes: fc.array(contentTypeArb.map(toHex), { maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("data" as const),
      data: fc.uint8Array({ maxLength: 8 }).map(toHex),
    }),
  },
);

/** A well-formed control frame of `type` with the given content types. */
function controlStep(type: number, types: readonly Uint8Array[]): Step {
  return {
    op: "frame",
    frame: { kind: "control", type, contentTypes: types.map(toHex) },
  };
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: frameJsonArb.map((frame) => ({ op: "frame", frame }) as Step),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.tuple(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.constantFrom(...POOL.slice(0, 5)), { maxLength: 2 }),
      ).map(([t, cts]) =>
        control(t, t === 2 ? cts.slice(0, 1) : t === 3 || t === 5 ? [] : cts)
      ),
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map(data),
      tokenArb,
    ).map((b) => ({ op: "bytes", hex: toHex(b) }) as Step),
  },
  {
    weight: 1,
    arbitrary: fc.nat(100).map((value) => ({ op: "junk", value }) as Step),
  },
  { weight: 1, arbitrary: fc.constant({ op: "start" } as Step) },
  { weight: 1, arbitrary: fc.constant({ op: "stop" } as Step) },
);

/** A plausible session for the role, with random steps mixed in. */
const scriptArb = (role: "reader" | "writer"): fc.Arbitrary<Step[]> =>
  fc.tuple(
    fc.boolean(),
    fc.oneof(
      fc.array(fc.constantFrom(...POOL.slice(0, 5)), { maxLength: 3 }),
      fc.array(contentTypeArb, { maxLength: 4 }),
      // More than an ACCEPT echoing them all may hold.
      fc.constant([POOL[5]!, POOL[7]!, POOL[2]!]),
    ),
    fc.integer({ min: 0, max: 3 }),
    fc.array(fc.tuple(fc.nat(), stepArb), { maxLength: 4 }),
  ).map(([bidirectional, types, datas, noise]) => {
    const steps: Step[] = [];
    if (role === "reader") {
      if (bidirectional) steps.push(controlStep(4, types));
      steps.push(controlStep(2, types.slice(0, 1)));
      for (let i = 0; i < datas; i++) {
        steps.push({ op: "frame", frame: { kind: "data", data: "6869" } });
      }
      steps.push(controlStep(3, []));
    } else {
      steps.push({ op: "start" });
      if (bidirectional) steps.push(controlStep(1, types));
      steps.push({ op: "stop" });
      if (bidirectional) steps.push(controlStep(5, []));
    }
    for (const [at, step] of noise) {
      steps.splice(at % (steps.length + 1), 0, step);
    }
    return steps;
  });

const perturbationArb: fc.Arbitrary<Perturbation> = fc.oneof(
  fc.record({
    at: fc.nat(8),
    op: fc.constantFrom("drop" as const, "duplicate" as const),
  }),
  fc.record({
    at: fc.nat(8),
    op: fc.constant("inject" as const),
    hex: fc.oneof(tokenArb, foreignArb).map(toHex),
  }),
);

/** Cases of the handshake target. */
export const handshakeCaseArb: fc.Arbitrary<GeneratedCase> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      readerTypes: typesArb,
      steps: fc.oneof(
        scriptArb("reader"),
        fc.array(stepArb, { maxLength: 12 }),
      ),
    }).map((r) =>
      ({
        target: "handshake",
        role: "reader",
        readerTypes: r.readerTypes,
        writerTypes: [],
        bidirectional: true,
        steps: r.steps,
      }) satisfies HandshakeCase
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      writerTypes: typesArb,
      bidirectional: fc.boolean(),
      steps: fc.oneof(
        scriptArb("writer"),
        fc.array(stepArb, { maxLength: 12 }),
      ),
    }).map((r) =>
      ({
        target: "handshake",
        role: "writer",
        readerTypes: [],
        writerTypes: r.writerTypes,
        bidirectional: r.bidirectional,
        steps: r.steps,
      }) satisfies HandshakeCase
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      readerTypes: typesArb,
      writerTypes: typesArb,
      bidirectional: fc.boolean(),
      payloads: fc.array(
        fc.uint8Array({ minLength: 1, maxLength: 20 }).map(toHex),
        { maxLength: 5 },
      ),
      perturb: fc.oneof(
        fc.constant<Perturbation[]>([]),
        fc.array(perturbationArb, { minLength: 1, maxLength: 2 }),
      ),
      piece: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 16 })),
    }).map((r) =>
      ({
        target: "handshake",
        role: "pair",
        steps: [],
        ...r,
      }) satisfies HandshakeCase
    ),
  },
);

/** The generator of each target. */
export const CASE_ARBS: Record<Target, fc.Arbitrary<GeneratedCase>> = {
  decoder: decoderCaseArb,
  reader: readerCaseArb,
  handshake: handshakeCaseArb,
};
