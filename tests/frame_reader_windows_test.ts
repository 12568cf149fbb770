// FrameReader windows: frames astride boundaries, larger than the window,
// skipped across several windows.
import assert from "node:assert/strict";
import { rng } from "./_support.ts";
import {
  encodeFrameStream,
  FrameReader,
  type FrameReaderOptions,
  FrameTooLargeError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { concat } from "./_util.ts";
import { HELLO, START, STOP, UNKNOWN } from "./_vectors.ts";
import { AT } from "./_control_cases.ts";
import {
  assertParity,
  dataFrame,
  drain,
  type Feed,
  feedSource,
  type How,
  HOWS,
  join,
  LARGE_FEEDS,
  MIN_WINDOW,
  pattern,
  u32,
} from "./_reader_harness.ts";

// ---------------------------------------------------------------------------
// Windows: frames astride boundaries, larger than the window, skipped.

/**
 * A stream built so that the window boundaries of a 64 KiB window read with
 * full reads fall at chosen places: `s` bytes into each target frame, for
 * every `s` of interest (inside a data frame's length word and payload,
 * inside a control frame's escape, length, type, field header and content
 * type). Between targets: thousands of filler frames of random sizes
 * (some windows hold more than the 4,096 frames one scan takes), unknown
 * control frames among them.
 *
 * How the reader moves its window with full reads: the window holds
 * [b, b + W); when the frame at t is cut by b + W, the next window is
 * [t, t + W); when a frame ends exactly at b + W, the next is [b + W, …).
 */
function straddleStream(seed: number): {
  bytes: Uint8Array;
  straddles: string[];
} {
  const W = MIN_WINDOW;
  const r = rng(seed);
  const parts: Uint8Array[] = [START];
  let pos = START.length;
  let base = 0;
  const straddles: string[] = [];
  const push = (frame: Uint8Array) => {
    parts.push(frame);
    pos += frame.length;
  };
  const targets: { name: string; frame: Uint8Array; s: number }[] = [];
  // Data frames: astride the length word, the first payload byte, the
  // middle, the last byte; and a boundary exactly at a frame's start.
  for (const length of [1, 10, 300, 5_000]) {
    const frame = dataFrame(length, length);
    for (const s of [0, 1, 2, 3, 4, 5, 4 + (length >> 1), frame.length - 1]) {
      if (s < frame.length) targets.push({ name: "data", frame, s });
    }
  }
  // STOP then START (the stream goes on), astride every byte of STOP and
  // many of START; and an unknown control frame (skipped).
  for (let s = 1; s < STOP.length; s++) {
    targets.push({ name: "stop", frame: STOP, s });
    targets.push({ name: "start", frame: START, s: Math.min(41, s * 3) });
  }
  for (let s = 1; s < UNKNOWN.length; s++) {
    targets.push({ name: "unknown", frame: UNKNOWN, s });
  }
  targets.forEach((target, i) => {
    // Filler up to a little before the point, of tiny frames in every
    // fourth window (more frames than a scan's table), random ones elsewhere.
    const tiny = i % 4 === 0;
    while (base + W - target.s - pos > 400) {
      if (!tiny && r() % 50 === 0) push(UNKNOWN);
      else push(dataFrame(tiny ? 1 + (r() % 8) : 1 + (r() % 300), r()));
    }
    // One filler frame to the exact byte.
    const gap = base + W - target.s - pos;
    push(dataFrame(gap - 4, r()));
    const at = pos;
    push(target.frame);
    straddles.push(`${target.name}@${target.s}`);
    base = target.s === 0 ? base + W : at;
  });
  push(HELLO);
  push(STOP);
  return { bytes: join(parts), straddles };
}

/**
 * Where full-read windows of W bytes cut the frames of a well-formed
 * `bytes`: "kind@s" for each boundary, s bytes into the frame it falls in.
 */
function cutsOf(bytes: Uint8Array, W: number): string[] {
  // The frames, walked by hand: start and kind of each.
  const starts: number[] = [];
  const names: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = u32(bytes, at);
    starts.push(at);
    if (len !== 0) {
      names.push("data");
      at += 4 + len;
    } else {
      const type = u32(bytes, at + 8);
      names.push(type === 2 ? "start" : type === 3 ? "stop" : "unknown");
      at += 8 + u32(bytes, at + 4);
    }
  }
  const cuts: string[] = [];
  let base = 0;
  let i = 0;
  while (base + W < bytes.length) {
    const boundary = base + W;
    while (i + 1 < starts.length && starts[i + 1]! <= boundary) i++;
    const s = boundary - starts[i]!;
    cuts.push(`${names[i]}@${s}`);
    base = s === 0 ? boundary : starts[i]!;
  }
  return cuts;
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] delivers frames astride every window boundary position`, async () => {
    const { bytes, straddles } = straddleStream(7);
    // The stream does cut its frames where it says.
    assert.deepEqual(cutsOf(bytes, MIN_WINDOW), straddles);
    const options = { engine, windowSize: MIN_WINDOW };
    // Full reads, each way of taking the frames, both read paths.
    const runs: [How, Feed][] = [
      ["forEachFrame", LARGE_FEEDS[0]!],
      ["forEachRun", LARGE_FEEDS[0]!],
      ["forEachRun", LARGE_FEEDS[2]!],
      ["batches", LARGE_FEEDS[0]!],
      ["iterator", LARGE_FEEDS[1]!],
      // Random reads move the boundaries elsewhere: still the same frames.
      ["batches", LARGE_FEEDS[3]!],
      // A ReadableStream of random chunks.
      ["iterator", LARGE_FEEDS[4]!],
      ["forEachFrame", LARGE_FEEDS[4]!],
    ];
    for (const [how, feed] of runs) {
      const expected = await assertParity(bytes, options, how, feed);
      assert.equal(expected.error, null);
      assert.ok(expected.counts.frames > 20_000);
      assert.ok(expected.counts.skippedFrames >= 15);
    }
  });
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] delivers frames larger than the window whole, at their offsets`, async () => {
    const lengths = [
      100,
      65_531,
      65_532, // frame of exactly the window: the last that fits it
      7,
      65_533, // the first frame larger than the window
      65_534,
      65_535,
      65_536,
      65_537,
      100_000,
      3,
      200_000,
      300_000,
      50,
      300_000,
    ];
    const payloads = lengths.map((n, i) => pattern(n, i));
    const bytes = encodeFrameStream(payloads, { contentType: "big" });
    // The expected offsets, by hand: START is 8 + 4 + 8 + 3 bytes.
    const offsets: number[] = [];
    let at = 23;
    for (const n of lengths) {
      offsets.push(at);
      at += 4 + n;
    }
    const options = {
      engine,
      windowSize: MIN_WINDOW,
      maxFrameLength: 1 << 20,
    };
    for (const feed of LARGE_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(bytes, options, how, feed);
        assert.equal(expected.error, null);
        assert.deepEqual(
          expected.frames.flatMap((f) => f.kind === "data" ? [f.offset] : []),
          offsets,
        );
      }
    }
    // Also with a window that several of them still overflow.
    for (const how of HOWS) {
      await assertParity(
        bytes,
        { ...options, windowSize: 131_072 },
        how,
        LARGE_FEEDS[3]!,
      );
    }
    // Input cut inside a large frame: every frame before it, then the error
    // at the frame's offset.
    for (const index of [4, 12]) {
      const offset = offsets[index]!;
      const need = 4 + lengths[index]!;
      for (const into of [2, 4, 5, 1000, MIN_WINDOW, need - 1]) {
        const cut = bytes.subarray(0, offset + into);
        for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
          for (const how of HOWS) {
            const expected = await assertParity(cut, options, how, feed);
            const error = expected.error;
            assert.ok(error instanceof TruncatedFrameError);
            assert.equal(error.offset, offset);
            assert.equal(error.received, into);
            assert.equal(error.expected, into < 4 ? null : need);
            assert.equal(expected.counts.frames, index);
          }
        }
      }
    }
    // Strict: a large data frame after STOP is out of place, reported at
    // its offset once read.
    const late = concat(bytes, dataFrame(100_000, 5));
    for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
      for (const how of HOWS) {
        const expected = await assertParity(
          late,
          { ...options, strict: true },
          how,
          feed,
        );
        const error = expected.error;
        assert.ok(error instanceof UnexpectedFrameError);
        assert.equal(error.offset, bytes.length);
        assert.equal(error.frameType, 0);
        assert.equal(expected.counts.frames, lengths.length);
      }
    }
  });

  Deno.test(`FrameReader [${engine}] skips an oversized frame across several windows`, async () => {
    const huge = 1 << 20;
    const small = Array.from({ length: 200 }, (_, i) => dataFrame(1 + i, i));
    const bytes = join([
      START,
      HELLO,
      dataFrame(huge, 9),
      HELLO,
      ...small,
      STOP,
    ]);
    const options: FrameReaderOptions = {
      engine,
      windowSize: MIN_WINDOW,
      maxFrameLength: 1000,
      oversize: "skip",
    };
    const after = AT + 4 + huge; // the frame after the skipped one
    for (const feed of LARGE_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(bytes, options, how, feed);
        assert.equal(expected.error, null);
        assert.equal(expected.counts.oversizedFrames, 1);
        assert.equal(expected.counts.frames, 202);
        const offsets = expected.frames.map((f) => f.offset);
        assert.deepEqual(offsets.slice(0, 4), [0, 42, after, after + 9]);
        assert.equal(offsets.at(-1), bytes.length - 12);
      }
    }
    // Input cut inside the skipped frame.
    for (const into of [4, 100, MIN_WINDOW, 500_000, 4 + huge - 1]) {
      const cut = bytes.subarray(0, AT + into);
      for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
        for (const how of HOWS) {
          const expected = await assertParity(cut, options, how, feed);
          const error = expected.error;
          assert.ok(error instanceof TruncatedFrameError, String(error));
          assert.equal(error.offset, AT);
          assert.equal(error.received, into);
          assert.equal(error.expected, 4 + huge);
          assert.equal(expected.counts.oversizedFrames, 1);
        }
      }
    }
    // Without skip: an error at its length word, before reading it.
    const { source } = feedSource(bytes, LARGE_FEEDS[0]!);
    const reader = new FrameReader(source, { ...options, oversize: "error" });
    const error = await drain(reader);
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.offset, AT);
    assert.equal(error.length, huge);
    assert.equal(error.maxFrameLength, 1000);
    assert.equal(reader.summary.frames, 1);
  });
}
