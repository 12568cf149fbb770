// Portable: every decoder error class, with its offsets, on both engines,
// whole and at every split point. (The same cases as the decoder's Deno
// suite; the lead may point both at one shared table once it exists.)
import assert from "node:assert/strict";
import {
  ControlFrameError,
  decodeControlFrame,
  decodeFrames,
  encodeDataFrame,
  type FrameDecoderOptions,
  FrameTooLargeError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../../mod.ts";
import { HELLO, READY, START } from "../_vectors.ts";
import { concat, decodeSplit, decodeWhole, ENGINES, hex } from "../_util.ts";
import { test } from "./_harness.ts";

/** A violation after START + "hello" (51 bytes), and the error it must give. */
interface Violation {
  name: string;
  tail: Uint8Array;
  options?: FrameDecoderOptions;
  /** The error's name and public fields. */
  error: Record<string, unknown>;
  /** Frames delivered before the error, beyond START and hello. */
  before?: number;
}

const AT = 51;

const VIOLATIONS: Violation[] = [
  // clen 3: too short to hold a control type.
  {
    name: "control length 3",
    tail: hex("00000000 00000003 000000"),
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // clen 513: rejected from its header, before its payload arrives.
  {
    name: "control length 513",
    tail: hex("00000000 00000201 00000004"),
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // READY with 4 stray bytes after its type: a field header needs 8.
  {
    name: "truncated field header",
    tail: hex("00000000 00000008 00000004 00000001"),
    error: {
      name: "ControlFrameError",
      reason: "field-header",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A field announcing 6 bytes where 5 remain.
  {
    name: "field running past the frame",
    tail: hex(`00000000 00000011 00000004 00000001 00000006 "abcde"`),
    error: {
      name: "ControlFrameError",
      reason: "field-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // Field type 2 is not defined.
  {
    name: "unknown field type",
    tail: hex(`00000000 0000000d 00000004 00000002 00000001 "a"`),
    error: {
      name: "ControlFrameError",
      reason: "field-type",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A 257-byte content type.
  {
    name: "content type of 257 bytes",
    tail: concat(
      hex("00000000 0000010d 00000004 00000001 00000101"),
      new Uint8Array(257),
    ),
    error: {
      name: "ControlFrameError",
      reason: "content-type-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // START with two content types: the second field is the offence.
  {
    name: "START with two content types",
    tail: hex(
      `00000000 00000016 00000002 00000001 00000001 "a" 00000001 00000001 "b"`,
    ),
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 21,
    },
  },
  // STOP with a field.
  {
    name: "STOP with a content type",
    tail: hex(`00000000 0000000d 00000003 00000001 00000001 "a"`),
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A data frame one byte over the limit, rejected from its length word.
  {
    name: "data frame over maxFrameLength",
    tail: concat(hex("00000011"), new Uint8Array(17)),
    options: { maxFrameLength: 16 },
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 17,
      maxFrameLength: 16,
    },
  },
  // A length near 2^32.
  {
    name: "length 2^32 - 1",
    tail: hex("ffffffff 00"),
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 0xffffffff,
      maxFrameLength: 1048576,
    },
  },
  // Input ends inside a data frame's payload.
  {
    name: "end inside a payload",
    tail: hex("0000000a 0102"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 6,
      expected: 14,
    },
  },
  // Input ends inside a length word.
  {
    name: "end inside a length word",
    tail: hex("0000"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 2,
      expected: null,
    },
  },
  // Input ends inside a control frame.
  {
    name: "end inside a control frame",
    tail: hex("00000000 00000004 00"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 9,
      expected: 12,
    },
  },
  // Strict: an unknown control type.
  {
    name: "strict: unknown control type",
    tail: hex("00000000 00000004 00000009"),
    options: { strict: true },
    error: {
      name: "ControlFrameError",
      reason: "unknown-type",
      offset: AT,
      errorOffset: AT + 8,
    },
  },
  // Strict: READY inside a stream.
  {
    name: "strict: READY inside a stream",
    tail: READY,
    options: { strict: true },
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 4 },
  },
  // Strict: end of input without STOP.
  {
    name: "strict: no STOP",
    tail: encodeDataFrame("x"),
    options: { strict: true },
    before: 1,
    error: {
      name: "TruncatedFrameError",
      reason: "missing-stop",
      offset: AT + 5,
      received: 0,
      expected: null,
    },
  },
];

for (const engine of ENGINES) {
  for (const v of VIOLATIONS) {
    test(`FrameDecoder [${engine}] rejects ${v.name} with its offsets`, () => {
      const bytes = concat(START, HELLO, v.tail);
      const options = { ...v.options, engine };
      const whole = decodeWhole(bytes, options);
      assert.equal(whole.frames.length, 2 + (v.before ?? 0));
      assert.ok(whole.error !== null, "no error");
      const { message, ...fields } = whole.error;
      assert.deepEqual({ ...fields }, v.error);
      assert.match(String(message), /^Cannot decode/);
      // The same frames and error wherever the input is cut.
      for (let i = 0; i <= bytes.length; i++) {
        assert.deepEqual(decodeSplit(bytes, [i], options), whole, `cut ${i}`);
      }
      const every = Array.from({ length: bytes.length }, (_, i) => i);
      assert.deepEqual(decodeSplit(bytes, every, options), whole);
    });
  }

  test(`FrameDecoder [${engine}] errors extend the standard classes`, () => {
    const thrown = (bytes: Uint8Array, options: FrameDecoderOptions = {}) => {
      try {
        decodeFrames(bytes, { ...options, engine });
      } catch (e) {
        return e;
      }
      throw new Error("no error");
    };
    const tooLarge = thrown(concat(START, hex("ffffffff")));
    assert.ok(tooLarge instanceof FrameTooLargeError);
    assert.ok(tooLarge instanceof RangeError);
    const truncated = thrown(hex("00000002 00"));
    assert.ok(truncated instanceof TruncatedFrameError);
    assert.ok(truncated instanceof RangeError);
    const control = thrown(hex("00000000 00000001"));
    assert.ok(control instanceof ControlFrameError);
    assert.ok(control instanceof SyntaxError);
    const unexpected = thrown(HELLO, { strict: true });
    assert.ok(unexpected instanceof UnexpectedFrameError);
    assert.ok(unexpected instanceof SyntaxError);
  });
}

test("decodeControlFrame rejects malformed and truncated frames", () => {
  assert.throws(
    () => decodeControlFrame(hex("00000000 00000003 000000")),
    (e) =>
      e instanceof ControlFrameError && e.reason === "length" && e.offset === 0,
  );
  assert.throws(
    () => decodeControlFrame(hex("00000000 00000004 00")),
    (e) => e instanceof TruncatedFrameError && e.offset === 0,
  );
});
