// Private: the latency histogram of `fstrm top`, log-linear in nanoseconds.
// Values below 256 ns have a bucket each (exact); above, each power of two
// [2^e, 2^(e+1)) is cut into 128 equal buckets of width 2^(e-7). A value is
// reported as its bucket's lower bound, so a reported percentile r of a true
// nearest-rank percentile v satisfies r <= v < r * (1 + 1/128): under by
// less than 0.79 %. Memory is fixed (6,016 buckets, 48 KiB) for values up
// to 2^53 ns; min and max are kept exactly. The buckets are those of
// latencyBucket (../_dnstap_counts.ts), re-exported here.

import {
  LATENCY_BUCKETS as BUCKETS,
  LATENCY_RELATIVE_ERROR,
  latencyBucket,
  latencyBucketLow,
} from "../_dnstap_counts.ts";

// The bucket scheme lives with the row counts (the lower module).
export { LATENCY_RELATIVE_ERROR, latencyBucket, latencyBucketLow };

/** Percentiles of a latency histogram, in nanoseconds. */
export interface LatencySummary {
  /** Values counted. */
  readonly count: number;
  /** The smallest, exact (null without values). */
  readonly min: number | null;
  /** The 50th percentile (nearest rank, bucket lower bound). */
  readonly p50: number | null;
  /** The 90th. */
  readonly p90: number | null;
  /** The 99th. */
  readonly p99: number | null;
  /** The largest, exact. */
  readonly max: number | null;
}

/** A histogram as plain data, to send between threads. */
export interface LatencyState {
  /** The bucket counts. */
  readonly buckets: Float64Array<ArrayBuffer>;
  /** Values counted. */
  readonly count: number;
  /** The smallest (Infinity without values). */
  readonly min: number;
  /** The largest (-Infinity without values). */
  readonly max: number;
}

/** A log-linear histogram of non-negative integer nanoseconds. */
export class LatencyHistogram {
  /** Values counted. */
  count = 0;
  /** The smallest value. */
  min = Infinity;
  /** The largest value. */
  max = -Infinity;
  readonly #buckets = new Float64Array(BUCKETS);

  /** Counts `ns` (a non-negative integer below 2^53). */
  add(ns: number): void {
    this.#buckets[latencyBucket(ns)]!++;
    this.count++;
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
  }

  /** The histogram as plain data (a copy). */
  state(): LatencyState {
    return {
      buckets: this.#buckets.slice(),
      count: this.count,
      min: this.min,
      max: this.max,
    };
  }

  /**
   * Adds the values of `other` (exact: the buckets add); its buckets may
   * be a view (of row counts, see `_dnstap_counts.ts`).
   */
  merge(
    other: {
      readonly buckets: Float64Array;
      readonly count: number;
      readonly min: number;
      readonly max: number;
    },
  ): void {
    const b = this.#buckets;
    if (this.count === 0) b.set(other.buckets.subarray(0, BUCKETS));
    else {
      for (let i = 0; i < BUCKETS; i++) b[i]! += other.buckets[i]!;
    }
    this.count += other.count;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The nearest-rank `p` percentile (0 < p <= 100) as its bucket's lower
   * bound; null without values.
   */
  percentile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    const b = this.#buckets;
    for (let i = 0; i < BUCKETS; i++) {
      seen += b[i]!;
      if (seen >= rank) return Math.max(latencyBucketLow(i), this.min);
    }
    return this.max;
  }

  /** min, p50, p90, p99, max. */
  summary(): LatencySummary {
    const none = this.count === 0;
    return {
      count: this.count,
      min: none ? null : this.min,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: none ? null : this.max,
    };
  }
}
