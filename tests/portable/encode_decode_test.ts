// Portable: the encoder against the byte-exact vectors of PROTOCOL.md §2, and
// decoding (whole, at every split point, at random splits) on both engines.
import assert from "node:assert/strict";
import {
  ControlType,
  decodeControlFrame,
  decodeFrames,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
} from "../../mod.ts";
import {
  ACCEPT,
  FINISH,
  HELLO,
  READY,
  START,
  STOP,
  UNKNOWN,
} from "../_vectors.ts";
import {
  concat,
  decodeSplit,
  decodeWhole,
  ENGINES,
  type PlainFrame,
} from "../_util.ts";
import { test } from "./_harness.ts";
import { cuts, random } from "./_gen.ts";

const DNSTAP = [...new TextEncoder().encode(DNSTAP_CONTENT_TYPE)];

test("encodeControlFrame and encodeDataFrame give the byte-exact vectors", () => {
  const types = [DNSTAP_CONTENT_TYPE];
  assert.deepEqual(encodeControlFrame(ControlType.START, types), START);
  assert.deepEqual(encodeControlFrame(ControlType.READY, types), READY);
  assert.deepEqual(encodeControlFrame(ControlType.ACCEPT, types), ACCEPT);
  assert.deepEqual(encodeControlFrame(ControlType.STOP), STOP);
  assert.deepEqual(encodeControlFrame(ControlType.FINISH), FINISH);
  assert.deepEqual(encodeDataFrame("hello"), HELLO);
  assert.deepEqual(encodeDataFrame(new TextEncoder().encode("hello")), HELLO);
});

test("encodeFrameStream is START, the data frames, STOP", () => {
  assert.deepEqual(
    encodeFrameStream(["hello", "hello"], { contentType: DNSTAP_CONTENT_TYPE }),
    concat(START, HELLO, HELLO, STOP),
  );
  // No content type: a START with no field.
  assert.deepEqual(
    encodeFrameStream([]),
    concat(encodeControlFrame(ControlType.START), STOP),
  );
});

test("encoders refuse an empty payload and bad control types", () => {
  assert.throws(() => encodeDataFrame(""), RangeError);
  assert.throws(() => encodeFrameStream(["a", ""]), RangeError);
  assert.throws(() => encodeControlFrame(-1), TypeError);
  assert.throws(() => encodeControlFrame(1.5), TypeError);
  assert.throws(() => encodeControlFrame(4, ["x".repeat(257)]), RangeError);
});

test("decodeControlFrame reads the vectors", () => {
  assert.deepEqual(decodeControlFrame(READY), {
    kind: "control",
    type: ControlType.READY,
    contentTypes: [new Uint8Array(DNSTAP)],
    offset: 0,
  });
  assert.equal(decodeControlFrame(FINISH).type, ControlType.FINISH);
  assert.deepEqual(decodeControlFrame(STOP).contentTypes, []);
});

/** The six vectors in session order, and what decoding them must give. */
const SESSION = concat(READY, ACCEPT, START, HELLO, STOP, FINISH);
const control = (
  type: number,
  offset: number,
  contentTypes: number[][] = [],
): PlainFrame => ({ kind: "control", type, contentTypes, offset });
const SESSION_FRAMES: PlainFrame[] = [
  control(ControlType.READY, 0, [DNSTAP]),
  control(ControlType.ACCEPT, 42, [DNSTAP]),
  control(ControlType.START, 84, [DNSTAP]),
  { kind: "data", data: [...new TextEncoder().encode("hello")], offset: 126 },
  control(ControlType.STOP, 135),
  control(ControlType.FINISH, 147),
];

for (const engine of ENGINES) {
  test(`FrameDecoder [${engine}] decodes the vectors with their offsets`, () => {
    const outcome = decodeWhole(SESSION, { engine });
    assert.deepEqual(outcome.frames, SESSION_FRAMES);
    assert.equal(outcome.error, null);
    assert.equal(outcome.stopped, true);
  });

  test(`FrameDecoder [${engine}] gives the same frames at every split point`, () => {
    // An unknown control frame inside the stream: skipped, counted.
    const bytes = concat(START, HELLO, UNKNOWN, HELLO, STOP);
    const whole = decodeWhole(bytes, { engine });
    assert.equal(whole.skipped, 1);
    assert.equal(whole.frames.length, 4);
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(decodeSplit(bytes, [i], { engine }), whole, `cut ${i}`);
    }
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j += 7) {
        assert.deepEqual(decodeSplit(bytes, [i, j], { engine }), whole);
      }
    }
    // Byte by byte.
    const every = Array.from({ length: bytes.length }, (_, i) => i);
    assert.deepEqual(decodeSplit(bytes, every, { engine }), whole);
  });

  test(`encodeFrameStream and decodeFrames [${engine}] round-trip random payloads`, () => {
    const r = random(0x5eed + engine.length);
    for (let run = 0; run < 100; run++) {
      // Now and then one past the WebAssembly engine's 16 KiB copy piece.
      const payloads = Array.from(
        { length: r.int(20) },
        () => r.bytes(1 + r.int(r.int(16) === 0 ? 40_000 : 300)),
      );
      const contentType = r.int(3) === 0 ? null : r.bytes(r.int(257));
      const bytes = encodeFrameStream(payloads, { contentType });
      const whole = decodeWhole(bytes, { engine });
      assert.equal(whole.error, null);
      const data = whole.frames.flatMap((f) =>
        f.kind === "data" ? [f.data] : []
      );
      assert.deepEqual(data, payloads.map((p) => [...p]));
      const start = whole.frames[0];
      assert.ok(start?.kind === "control" && start.type === ControlType.START);
      assert.deepEqual(
        start.contentTypes,
        contentType === null ? [] : [[...contentType]],
      );
      // Streamed at random cut points: the same outcome.
      const split = decodeSplit(bytes, cuts(r, bytes.length, 12), { engine });
      assert.deepEqual(split, whole);
    }
  });

  test(`decodeFrames [${engine}] returns views of the input, as documented`, () => {
    const bytes = concat(START, HELLO, STOP);
    const frames = decodeFrames(bytes, { engine });
    const hello = frames[1];
    assert.ok(hello?.kind === "data");
    assert.equal(hello.data.buffer, bytes.buffer);
  });
}
