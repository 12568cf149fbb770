// The property tests' seed and scale, from the environment (FSTRM_SEED,
// FSTRM_PARITY_SCALE), so that a failure's seed can be replayed and a run
// made longer.

/** An environment variable, or undefined (also without env permission). */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The property tests' seed: FSTRM_SEED, else a fixed one. */
export const SEED: number = Number(env("FSTRM_SEED") ?? "20261203") | 0;

/** What FSTRM_PARITY_SCALE multiplies the property tests' cases by (1). */
export const SCALE: number = Number(env("FSTRM_PARITY_SCALE") ?? "1") || 1;

/** `n` cases times SCALE, at least one (a tiny scale never checks nothing). */
export function cases(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}
