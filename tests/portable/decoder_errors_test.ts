// Portable: every decoder error class, with its offsets, on both engines,
// whole and at every split point: the one table of stream cases that the
// decoder's and the reader's Deno suites use (tests/_control_cases.ts).
import assert from "node:assert/strict";
import {
  ControlFrameError,
  decodeControlFrame,
  decodeFrames,
  type FrameDecoderOptions,
  FrameTooLargeError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../../mod.ts";
import { HELLO, START } from "../_vectors.ts";
import { STREAM_CASES } from "../_control_cases.ts";
import { concat, decodeSplit, decodeWhole, ENGINES, hex } from "../_util.ts";
import { test } from "./_harness.ts";

for (const engine of ENGINES) {
  for (const v of STREAM_CASES) {
    test(`FrameDecoder [${engine}] on ${v.name}: its frames, and its error with offsets`, () => {
      const bytes = concat(START, HELLO, v.tail);
      const options = { ...v.options, engine };
      const whole = decodeWhole(bytes, options);
      assert.equal(whole.frames.length, v.frames);
      if (v.error === null) {
        assert.equal(whole.error, null);
      } else {
        assert.ok(whole.error !== null, "no error");
        // The fields the table names (as the Deno suites check them).
        for (const [key, value] of Object.entries(v.error)) {
          assert.deepEqual(whole.error[key], value, key);
        }
        assert.match(String(whole.error.message), /^Cannot decode/);
      }
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
