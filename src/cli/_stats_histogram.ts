// Private: exact frame-size statistics in bounded memory, for `fstrm stats`.
//
// A count per size: dense (one float per size) below DENSE_LIMIT, where
// nearly every real frame falls (dnstap frames are mostly 100 to 200 bytes),
// and sparse (a Map from size to count) at and above it, so that a file of a
// few huge frames costs a few Map entries rather than an array as long as
// the largest frame. Quantiles are exact, by nearest rank. The dense counts
// may be the ones a scan engine keeps (src/_stats_engine.ts), so that the
// engine counts as it scans.
import { DENSE_SIZES } from "../_stats_engine.ts";

/** Sizes below this are counted in a dense array (512 KiB of floats). */
export const DENSE_LIMIT: number = DENSE_SIZES;

/** The summary of a set of sizes; all `null` when it is empty. */
export interface SizeSummary {
  /** The smallest size. */
  min: number | null;
  /** The median, by nearest rank (the lower middle for an even count). */
  median: number | null;
  /** The 99th percentile, by nearest rank. */
  p99: number | null;
  /** The largest size. */
  max: number | null;
}

/** Counts of sizes, exact, with nearest-rank quantiles. */
export class SizeHistogram {
  /** Counts of sizes `0 .. DENSE_LIMIT - 1`; floats, so they never wrap. */
  readonly dense: Float64Array;
  /** Counts of larger sizes. */
  readonly sparse: Map<number, number> = new Map();

  /**
   * Makes an empty histogram, or one whose dense counts are `dense` (as
   * many as {@linkcode DENSE_LIMIT}, counted by its owner too).
   */
  constructor(dense: Float64Array = new Float64Array(DENSE_LIMIT)) {
    if (dense.length !== DENSE_LIMIT) {
      throw new RangeError(
        `Cannot make a SizeHistogram: dense counts must be ${DENSE_LIMIT}, got ${dense.length}`,
      );
    }
    this.dense = dense;
  }

  /** Counts one `size`. The hot path inlines the dense case itself. */
  add(size: number): void {
    if (size < DENSE_LIMIT) this.dense[size]!++;
    else this.addLarge(size);
  }

  /** Counts one size of at least {@linkcode DENSE_LIMIT}. */
  addLarge(size: number): void {
    this.sparse.set(size, (this.sparse.get(size) ?? 0) + 1);
  }

  /** How many sizes were counted. */
  get count(): number {
    let n = 0;
    for (let i = 0; i < DENSE_LIMIT; i++) n += this.dense[i]!;
    for (const c of this.sparse.values()) n += c;
    return n;
  }

  /**
   * Min, median, p99 and max, in one pass over the counts.
   *
   * @param count How many sizes were counted, if the caller knows (stats
   * does: the data frames read), which saves a pass over the counts
   * (about 3 ms, run once, before V8 optimizes it). It must be exact; one
   * too large is noticed and replaced by {@linkcode SizeHistogram.count}.
   */
  summary(count?: number): SizeSummary {
    const n = count ?? this.count;
    if (n === 0) return { min: null, median: null, p99: null, max: null };
    // Nearest ranks, in integers: 1, ceil(n / 2), ceil(99 n / 100), n. The
    // value at rank r is the smallest size s with at least r sizes <= s.
    const ranks = [
      1,
      Math.floor((n + 1) / 2),
      Math.floor((99 * n + 99) / 100),
      n,
    ];
    const at: number[] = [];
    let seen = 0;
    const dense = this.dense;
    for (let s = 0; s < DENSE_LIMIT && at.length < 4; s++) {
      const c = dense[s]!;
      if (c === 0) continue;
      seen += c;
      while (at.length < 4 && seen >= ranks[at.length]!) at.push(s);
    }
    if (at.length < 4) {
      const sizes = [...this.sparse.keys()].sort((a, b) => a - b);
      for (const s of sizes) {
        seen += this.sparse.get(s)!;
        while (at.length < 4 && seen >= ranks[at.length]!) at.push(s);
        if (at.length === 4) break;
      }
    }
    // Fewer than n sizes: n was not the count.
    if (at.length < 4) return this.summary();
    return { min: at[0]!, median: at[1]!, p99: at[2]!, max: at[3]! };
  }
}
