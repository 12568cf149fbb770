// Decoding under every chunking: the cut points of a short input, and an
// assertion that each chunking decodes to the same outcome.
import assert from "node:assert/strict";
import type { FrameDecoderOptions } from "../mod.ts";
import { decodeSplit, type Outcome } from "./_util.ts";

/** Every single cut point, plus every pair of cut points for short inputs. */
export function* splits(length: number): Generator<number[]> {
  yield [];
  for (let i = 1; i < length; i++) yield [i];
  if (length <= 80) {
    for (let i = 1; i < length; i++) {
      for (let j = i + 1; j < length; j++) yield [i, j];
    }
  }
  yield Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

/** Asserts that every chunking of `bytes` decodes to `expected`. */
export function assertEveryChunking(
  bytes: Uint8Array,
  expected: Outcome,
  options: FrameDecoderOptions,
): void {
  for (const cuts of splits(bytes.length)) {
    assert.deepEqual(
      decodeSplit(bytes, cuts, options),
      expected,
      `cuts ${cuts}`,
    );
  }
}
