// Private: a cheap byte-level reduction of a failing case that has input
// bytes (the decoder and reader targets use it as their `minimise`), run
// after fast-check's own shrinking (which shrinks the generator's structure,
// not the bytes): drop spans of bytes, halving their size, then drop cuts,
// keeping each change that still fails the same way.
import { caseInput, type FuzzCase, type InputSpelling } from "./_case.ts";
import type { StillFails } from "./_target.ts";

/**
 * A case with input bytes, perhaps cut into chunks at `cuts` and pulled as
 * `pulls` says (one digit per chunk).
 */
export type BytesCase = FuzzCase & InputSpelling & {
  cuts?: number[];
  pulls?: string;
};

/** The case without input bytes [from, to); cuts after them move back. */
function without<C extends BytesCase>(
  c: C,
  bytes: Uint8Array,
  from: number,
  to: number,
): C {
  const out = new Uint8Array(bytes.length - (to - from));
  out.set(bytes.subarray(0, from));
  out.set(bytes.subarray(to), from);
  const base = { ...c, bytes: out };
  delete base.input;
  delete base.inputBase64;
  delete base.inputParts;
  if (base.cuts !== undefined) {
    const cuts = base.cuts
      .map((x) => x <= from ? x : x >= to ? x - (to - from) : from)
      .filter((x, i, all) => x > 0 && x < out.length && all.indexOf(x) === i);
    return { ...base, cuts };
  }
  return base;
}

/** The case without cut `i`: its two chunks pushed as one, pulled as the second was. */
function withoutCut<C extends BytesCase>(c: C, i: number): C {
  const cuts = (c.cuts ?? []).filter((_, j) => j !== i);
  if (c.pulls === undefined) return { ...c, cuts };
  return { ...c, cuts, pulls: c.pulls.slice(0, i + 1) + c.pulls.slice(i + 2) };
}

/**
 * Reduces `c` while `stillFails`, within `budgetMs` and at most `maxTries`
 * runs. Returns the smallest failing case found (perhaps `c` itself).
 */
export async function reduceBytes<C extends BytesCase>(
  c: C,
  stillFails: StillFails<C>,
  budgetMs: number,
  maxTries = 2_000,
): Promise<C> {
  const end = performance.now() + budgetMs;
  let best: C = c;
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
  for (let i = (best.cuts?.length ?? 0) - 1; i >= 0 && more(); i--) {
    const candidate = withoutCut(best, i);
    tries++;
    if (await stillFails(candidate)) best = candidate;
  }
  return best;
}
