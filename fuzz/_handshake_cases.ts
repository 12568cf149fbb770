// Private: the handshake target's cases: what they are (scripts of calls for
// one state machine, or a conversation between the two with its messages
// perturbed), as plain JSON data, and their generators.
import fc from "fast-check";
import { control, data, tokenArb } from "../tests/_streams.ts";
import { type FuzzCase, toHex } from "./_case.ts";
import { foreignArb, text } from "./_input_arbs.ts";

/** A frame as JSON: payload and content types in hex. */
export type FrameJson =
  | { kind: "data"; data: string }
  | { kind: "control"; type: number; contentTypes: string[] };

/** One call of a handshake script. */
export type Step =
  /** Hand this frame object to receive(). */
  | { op: "frame"; frame: FrameJson }
  /** Feed these bytes to a FrameDecoder, hand what it decodes to receive(). */
  | { op: "bytes"; hex: string }
  /** Hand receive() something that is not a Frame (a TypeError is due). */
  | { op: "junk"; value: number }
  /** WriterHandshake.start(). */
  | { op: "start" }
  /** WriterHandshake.stop(). */
  | { op: "stop" };

/** A perturbation of a conversation between the two handshakes. */
export interface Perturbation {
  /** The message number it applies to (counting both directions). */
  at: number;
  op: "drop" | "duplicate" | "inject";
  /** What `inject` puts in front of the message (hex bytes). */
  hex?: string;
}

/** The handshake state machines, alone or talking to each other. */
export interface HandshakeCase extends FuzzCase {
  target: "handshake";
  /**
   * `reader` or `writer`: one state machine fed `steps`; `pair`: a writer
   * and a reader talking through encoded bytes and FrameDecoders, with
   * `perturb` applied to their messages.
   */
  role: "reader" | "writer" | "pair";
  /** The reader's content types (hex), or a value that is no valid list. */
  readerTypes: string[] | number | null;
  /** The writer's content types (hex), or a value that is no valid list. */
  writerTypes: string[] | number | null;
  bidirectional: boolean;
  steps: Step[];
  /** pair: payloads of the data frames the writer sends (hex). */
  payloads?: string[];
  /** pair: the messages' perturbations. */
  perturb?: Perturbation[];
  /** pair: cut each message into pieces of at most this many bytes (0: whole). */
  piece?: number;
}

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
export const handshakeCaseArb: fc.Arbitrary<HandshakeCase> = fc.oneof(
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
