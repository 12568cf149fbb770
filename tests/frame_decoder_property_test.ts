// Property: FrameDecoder gives back random encoded streams however they are
// chunked, and the same frames and error for mutated input.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeFrames, encodeControlFrame, encodeDataFrame } from "../mod.ts";
import { concat, decodeSplit, decodeWhole, ENGINES, plain } from "./_util.ts";
import { HELLO } from "./_vectors.ts";

// Property tests.

/** A random valid sequence of streams: [READY ACCEPT] START data* STOP [FINISH], repeated. */
const contentTypeArb = fc.uint8Array({ maxLength: 40 });
const streamArb = fc.record({
  handshake: fc.boolean(),
  contentType: fc.option(contentTypeArb, { nil: null }),
  offered: fc.array(contentTypeArb, { maxLength: 3 }),
  payloads: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), {
    maxLength: 20,
  }),
  stop: fc.boolean(),
});

interface StreamSpec {
  handshake: boolean;
  contentType: Uint8Array | null;
  offered: Uint8Array[];
  payloads: Uint8Array[];
  stop: boolean;
}
type ExpectedFrame =
  | { kind: "data"; data: number[] }
  | { kind: "control"; type: number; contentTypes: number[][] };

function encodeStreams(
  streams: StreamSpec[],
): { bytes: Uint8Array; frames: ExpectedFrame[] } {
  const parts: Uint8Array[] = [];
  const frames: ExpectedFrame[] = [];
  const control = (type: number, cts: Uint8Array[]) => {
    parts.push(encodeControlFrame(type, cts));
    frames.push({
      kind: "control",
      type,
      contentTypes: cts.map((c) => [...c]),
    });
  };
  streams.forEach((s, i) => {
    const last = i === streams.length - 1;
    if (s.handshake) {
      control(4, s.offered);
      control(1, s.offered);
    }
    control(2, s.contentType === null ? [] : [s.contentType]);
    for (const p of s.payloads) {
      parts.push(encodeDataFrame(p));
      frames.push({ kind: "data", data: [...p] });
    }
    // Only the last stream may lack its STOP.
    if (s.stop || !last) {
      control(3, []);
      if (s.handshake) control(5, []);
    }
  });
  return { bytes: concat(...parts), frames };
}

const cutsArb = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), {
    maxLength: 30,
  })
    .map((cuts) => cuts.filter((c) => c < length).sort((a, b) => a - b));

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder [${engine}] gives back random encoded streams under random chunking`, () => {
    fc.assert(
      fc.property(
        fc.array(streamArb, { minLength: 1, maxLength: 3 }).chain((streams) => {
          const encoded = encodeStreams(streams);
          return fc.tuple(fc.constant(encoded), cutsArb(encoded.bytes.length));
        }),
        ([{ bytes, frames }, cuts]) => {
          const outcome = decodeSplit(bytes, cuts, { engine });
          assert.equal(outcome.error, null);
          assert.equal(outcome.skipped, 0);
          const got = outcome.frames.map((f) => {
            const { offset: _, ...rest } = f;
            return rest;
          });
          assert.deepEqual(got, frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  Deno.test(`FrameDecoder [${engine}] gives the same frames and error for mutated input however chunked`, () => {
    const mutated = fc.array(streamArb, { minLength: 1, maxLength: 2 }).chain(
      (streams) => {
        const { bytes } = encodeStreams(streams);
        return fc.tuple(
          fc.constant(bytes),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
            maxLength: 4,
          }),
          fc.nat(),
        ).map(([b, flips, cut]) => {
          const out = b.slice(
            0,
            b.length - (cut % Math.max(1, Math.min(b.length, 20))),
          );
          for (const [at, value] of flips) {
            if (out.length) out[at % out.length] = value;
          }
          return out;
        });
      },
    ).chain((bytes) => fc.tuple(fc.constant(bytes), cutsArb(bytes.length)));
    fc.assert(
      fc.property(mutated, fc.boolean(), ([bytes, cuts], strict) => {
        const options = { strict, maxFrameLength: 200, engine };
        const whole = decodeWhole(bytes, options);
        assert.deepEqual(decodeSplit(bytes, cuts, options), whole);
        if (whole.error !== null) {
          assert.match(String(whole.error.message), /^Cannot decode/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  Deno.test(`plain() [${engine}] keeps offsets`, () => {
    const [frame] = decodeFrames(HELLO, { engine });
    assert.deepEqual(plain(frame!), {
      kind: "data",
      data: [104, 101, 108, 108, 111],
      offset: 0,
    });
  });
}
