import assert from "node:assert/strict";
import {
  countDataFrames,
  dataRunEnd,
  forEachDataFrame,
  readU32,
  wholeFrames,
  writeU32,
} from "../src/_wire.ts";
import { encodeControlFrame, encodeDataFrame } from "../src/encode.ts";
import { ControlType } from "../src/constants.ts";
import { TruncatedFrameError, UnexpectedFrameError } from "../src/errors.ts";
import { concat } from "./_util.ts";

const run = concat(
  encodeDataFrame("a"),
  encodeDataFrame("bcd"),
  encodeDataFrame("ef"),
);

Deno.test("wire readU32 and writeU32 are big-endian and take every u32", () => {
  const bytes = new Uint8Array(8);
  writeU32(bytes, 2, 0xfedc_ba98);
  assert.deepEqual([...bytes], [0, 0, 0xfe, 0xdc, 0xba, 0x98, 0, 0]);
  assert.equal(readU32(bytes, 2), 0xfedc_ba98);
  writeU32(bytes, 0, 0xffff_ffff);
  assert.equal(readU32(bytes, 0), 0xffff_ffff);
});

Deno.test("wire countDataFrames counts whole data frames", () => {
  assert.equal(countDataFrames(run), 3);
  assert.equal(countDataFrames(encodeDataFrame("x")), 1);
});

Deno.test("wire countDataFrames refuses what is not a run of data frames", () => {
  // a control frame at byte 5, its type word read
  assert.throws(
    () =>
      countDataFrames(
        concat(encodeDataFrame("a"), encodeControlFrame(ControlType.STOP)),
      ),
    (e) =>
      e instanceof UnexpectedFrameError && e.offset === 5 &&
      e.frameType === ControlType.STOP,
  );
  // a frame cut inside its payload
  assert.throws(
    () => countDataFrames(run.subarray(0, run.length - 1)),
    (e) =>
      e instanceof TruncatedFrameError && e.offset === 12 && e.expected === 6,
  );
  // a frame cut inside its length word
  assert.throws(
    () => countDataFrames(run.subarray(0, 7)),
    (e) =>
      e instanceof TruncatedFrameError && e.offset === 5 && e.expected === null,
  );
  assert.throws(() => countDataFrames(new Uint8Array(0)), RangeError);
  assert.throws(() => countDataFrames("abc"), TypeError);
});

Deno.test("wire dataRunEnd and forEachDataFrame walk a checked run", () => {
  assert.equal(dataRunEnd(run, 0, 0), 0);
  assert.equal(dataRunEnd(run, 0, 2), 12);
  assert.equal(dataRunEnd(run, 5, 2), 18);
  const seen: [number, number][] = [];
  assert.equal(
    forEachDataFrame(run, 0, 3, (o, l) => void seen.push([o, l])),
    undefined,
  );
  assert.deepEqual(seen, [[4, 1], [9, 3], [16, 2]]);
  const wait = Promise.resolve();
  assert.equal(
    forEachDataFrame(run, 0, 2, (o) => o === 9 ? wait : undefined),
    wait,
  );
});

Deno.test("wire wholeFrames keeps whole data and control frames only", () => {
  const stop = encodeControlFrame(ControlType.STOP);
  const bytes = concat(run, stop, encodeDataFrame("zz"));
  assert.deepEqual(wholeFrames(bytes, bytes.length), {
    length: bytes.length,
    frames: 4,
  });
  assert.deepEqual(wholeFrames(bytes, bytes.length - 1), {
    length: run.length + 12,
    frames: 3,
  });
  // cut inside the control frame's length word
  assert.deepEqual(wholeFrames(bytes, run.length + 6), {
    length: run.length,
    frames: 3,
  });
  assert.deepEqual(wholeFrames(bytes, 3), { length: 0, frames: 0 });
});
