// FrameReader against FrameDecoder on the shared case table
// (tests/_control_cases.ts): START + "hello" + a tail, under every way of
// taking frames and every read pattern, and astride a window boundary.
import assert from "node:assert/strict";
import type { FrameReaderOptions } from "../mod.ts";
import { concat } from "./_util.ts";
import { HELLO, START } from "./_vectors.ts";
import { STREAM_CASES } from "./_control_cases.ts";
import {
  assertParity,
  dataFrame,
  errorRecord,
  HOWS,
  MIN_WINDOW,
  SHORT_FEEDS,
} from "./_reader_harness.ts";

/**
 * `prefix` + filler data frames (no START) so that the next byte falls
 * `before` bytes before the end of the first 64 KiB window.
 */
function padTo(prefix: Uint8Array, before: number): Uint8Array {
  const gap = MIN_WINDOW - before - prefix.length;
  // One filler of `gap - 20` bytes and one of 20, so that a frame ends there.
  return concat(prefix, dataFrame(gap - 24, 1), dataFrame(16, 2));
}

for (const engine of ["ts", "wasm"] as const) {
  for (const c of STREAM_CASES) {
    Deno.test(`FrameReader [${engine}] matches FrameDecoder on ${c.name}`, async () => {
      const bytes = concat(START, HELLO, c.tail);
      const options: FrameReaderOptions = { ...c.options, engine };
      for (const how of HOWS) {
        for (const feed of SHORT_FEEDS) {
          const expected = await assertParity(bytes, options, how, feed);
          // The decoder gives what the table says.
          assert.equal(expected.frames.length, c.frames, "frames");
          assert.equal(expected.counts.skippedFrames, c.skipped ?? 0);
          assert.equal(expected.counts.oversizedFrames, c.oversized ?? 0);
          if (c.stopped !== undefined) {
            assert.equal(expected.counts.stopped, c.stopped);
          }
          if (c.error === null) {
            assert.equal(expected.error, null);
          } else {
            const record = errorRecord(expected.error)!;
            for (const [key, value] of Object.entries(c.error)) {
              assert.deepEqual(record[key], value, `error.${key}`);
            }
          }
        }
      }
      // Payloads as views of the window (reuseWindow: true), copied as
      // they come.
      for (const how of ["batches", "iterator"] as const) {
        for (const feed of [SHORT_FEEDS[0]!, SHORT_FEEDS[1]!]) {
          await assertParity(
            bytes,
            { ...options, reuseWindow: true },
            how,
            feed,
          );
        }
      }
      // The same tail astride the first window boundary, at every offset of
      // its first 12 bytes: the start of the bad frame 1..12 bytes before it.
      for (let before = 1; before <= 12; before++) {
        const padded = concat(padTo(concat(START, HELLO), before), c.tail);
        for (const how of HOWS) {
          await assertParity(
            padded,
            options,
            how,
            { kind: "sync", max: Infinity },
            `${before} bytes before the boundary: `,
          );
        }
      }
    });
  }
}
