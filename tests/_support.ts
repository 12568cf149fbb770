// Test helpers shared by the I/O tests: a seeded generator, temp dirs,
// polling for a condition.
import assert from "node:assert/strict";

/** A seeded 32-bit generator (mulberry32): the same seed, the same bytes. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
}

/** Runs `fn` with a fresh temp dir, removed afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-test-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `cond` until it holds; fails after 20 s (a hang, not a timing check). */
export async function waitFor(
  cond: () => boolean,
  what: string,
): Promise<void> {
  for (let i = 0; i < 4_000; i++) {
    if (cond()) return;
    await delay(5);
  }
  assert.fail(`gave up waiting for ${what}`);
}
