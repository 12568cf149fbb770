// Private: a cheap byte-level reduction of a failing decoder or reader case,
// run after fast-check's own shrinking (which shrinks the generator's
// structure, not the bytes): drop spans of bytes, halving their size, then
// drop cuts, keeping each change that still fails the same way.
import {
  caseInput,
  type DecoderCase,
  type FuzzCase,
  type ReaderCase,
} from "./_case.ts";

/** Whether a candidate still fails the same way. */
export type StillFails = (c: FuzzCase) => Promise<boolean>;

/** The case without input bytes [from, to); cuts after them move back. */
function without(
  c: DecoderCase | ReaderCase,
  bytes: Uint8Array,
  from: number,
  to: number,
): DecoderCase | ReaderCase {
  const out = new Uint8Array(bytes.length - (to - from));
  out.set(bytes.subarray(0, from));
  out.set(bytes.subarray(to), from);
  const base = { ...c, bytes: out };
  delete base.input;
  delete base.inputBase64;
  delete base.inputParts;
  if (base.target === "decoder") {
    const cuts = base.cuts
      .map((x) => x <= from ? x : x >= to ? x - (to - from) : from)
      .filter((x, i, all) => x > 0 && x < out.length && all.indexOf(x) === i);
    return { ...base, cuts };
  }
  return base;
}

/**
 * Reduces `c` while `stillFails`, within `budgetMs` and at most `maxTries`
 * runs. Returns the smallest failing case found (perhaps `c` itself).
 */
export async function reduceBytes(
  c: FuzzCase,
  stillFails: StillFails,
  budgetMs: number,
  maxTries = 2_000,
): Promise<FuzzCase> {
  if (c.target === "handshake") return c;
  const end = performance.now() + budgetMs;
  let best: DecoderCase | ReaderCase = c;
  let tries = 0;
  const more = () => tries < maxTries && performance.now() < end;
  for (
    let span = Math.max(1, caseInput(best).length >> 1);
    span >= 1 && more();
    span >>= 1
  ) {
    for (let from = 0; more();) {
      const bytes = caseInput(best);
      if (from >= bytes.length) break;
      const candidate = without(
        best,
        bytes,
        from,
        Math.min(bytes.length, from + span),
      );
      tries++;
      if (await stillFails(candidate)) best = candidate;
      else from += span;
    }
  }
  if (best.target === "decoder") {
    for (let i = best.cuts.length - 1; i >= 0 && more(); i--) {
      const cuts = best.cuts.filter((_, j) => j !== i);
      const pulls = best.pulls.slice(0, i + 1) + best.pulls.slice(i + 2);
      const candidate: DecoderCase = { ...best, cuts, pulls };
      tries++;
      if (await stillFails(candidate)) best = candidate;
    }
  }
  return best;
}
