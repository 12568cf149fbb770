import assert from "node:assert/strict";
import {
  ControlFrameError,
  ControlType,
  decodeControlFrame,
  encodeControlFrame,
  TruncatedFrameError,
} from "../mod.ts";
import { hex } from "./_util.ts";

Deno.test("decodeControlFrame decodes each control type", () => {
  for (const type of [1, 2, 3, 4, 5]) {
    const cts = type === 2
      ? ["a"]
      : type === 1 || type === 4
      ? ["a", "", "\0b"]
      : [];
    const frame = decodeControlFrame(encodeControlFrame(type, cts));
    assert.equal(frame.type, type);
    assert.deepEqual(
      frame.contentTypes,
      cts.map((c) => new TextEncoder().encode(c)),
    );
    assert.equal(frame.offset, 0);
  }
});

Deno.test("decodeControlFrame returns an unknown type without fields", () => {
  const frame = decodeControlFrame(hex("00000000 00000008 00000063 00000001"));
  assert.deepEqual(frame, {
    kind: "control",
    type: 99,
    contentTypes: [],
    offset: 0,
  });
});

Deno.test("decodeControlFrame rejects what the stream decoder rejects", () => {
  // STOP with a field.
  assert.throws(
    () =>
      decodeControlFrame(
        hex(`00000000 0000000d 00000003 00000001 00000001 "a"`),
      ),
    (e) =>
      e instanceof ControlFrameError && e.reason === "content-type-count" &&
      e.errorOffset === 12,
  );
  // clen 513.
  assert.throws(
    () => decodeControlFrame(hex("00000000 00000201")),
    (e) =>
      e instanceof ControlFrameError && e.reason === "length" &&
      e.errorOffset === 4,
  );
  // Cut short.
  assert.throws(
    () =>
      decodeControlFrame(
        encodeControlFrame(ControlType.READY, ["abc"]).subarray(0, 14),
      ),
    (e) =>
      e instanceof TruncatedFrameError && e.expected === 23 &&
      e.received === 14,
  );
  assert.throws(() => decodeControlFrame(hex("0000")), TruncatedFrameError);
});

Deno.test("decodeControlFrame refuses bytes that are not one control frame", () => {
  assert.throws(() => decodeControlFrame(hex(`00000001 "a"`)), TypeError);
  assert.throws(() => decodeControlFrame(hex(`00000005 "ab"`)), TypeError);
  const stop = encodeControlFrame(ControlType.STOP);
  const two = new Uint8Array(24);
  two.set(stop);
  two.set(stop, 12);
  assert.throws(() => decodeControlFrame(two), TypeError);
  assert.throws(
    () => decodeControlFrame(new Uint8Array(0)),
    TruncatedFrameError,
  );
  assert.throws(
    () => decodeControlFrame("x" as unknown as Uint8Array),
    TypeError,
  );
});
