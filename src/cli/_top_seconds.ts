// Private: the queries-per-second table of `fstrm top`, in bounded memory
// however long a live run lasts. The last `capacity` seconds (by second
// number: a ring indexed by second modulo capacity) keep their counts; a
// second that a later one displaces from its slot is folded, with its
// final count, into a log-linear histogram of per-second counts (the
// latency histogram's buckets: exact below 256, then 128 buckets per power
// of two). The summary stays over the whole run: first and last second,
// span, min and max exact; the median exact unless its bucket holds a
// displaced second's count at 256 or more, and then its bucket's lower
// bound (under by less than 0.79 %). A run whose seconds span at most
// `capacity` displaces nothing: everything is exact, as a table of every
// second would be.
//
// A query of a second older than the one that now holds its slot (late by
// `capacity` seconds or more) is counted in `dropped`. The first second,
// when displaced, is set aside with its count rather than folded, so that
// `merge` joins it to the part before (a split falls inside a second: the
// last second of one part may be the first of the next).
import {
  LATENCY_BUCKETS,
  latencyBucket,
  latencyBucketLow,
} from "../_dnstap_counts.ts";

/** Seconds a table keeps by default: 2^20, about 12 days (16 MiB at most). */
export const DEFAULT_SECONDS_KEPT = 1 << 20;
/** The fewest seconds a table may keep (more than a printed series). */
export const MIN_SECONDS_KEPT = 1024;
/** Counts below this have a bucket each: exact. */
const EXACT_BELOW = 256;
/** Buckets of the histogram of displaced seconds' counts. */
const BUCKETS = LATENCY_BUCKETS;
/** Scalars at the head of a state: see {@linkcode SecondsTable.state}. */
const HEAD = 8;

/** What `fstrm top` reports of queries per second (the JSON `qps`). */
export interface QpsSummary {
  /** The first second with a query (seconds since the epoch), or null. */
  readonly first: number | null;
  /** The last one. */
  readonly last: number | null;
  /** Seconds from the first to the last, both included. */
  readonly seconds: number;
  /** The fewest queries in a second (0 if some second had none). */
  readonly min: number | null;
  /** The median over the seconds (the lower of the middle two). */
  readonly median: number | null;
  /** The most queries in a second. */
  readonly max: number | null;
  /** Queries of every second from the first to the last, if short enough. */
  readonly series: number[] | null;
  /** Queries not counted in a second (see the module comment). */
  readonly dropped: number;
}

/** Queries per second: see the module comment. */
export class SecondsTable {
  /** Seconds kept with their counts. */
  readonly capacity: number;
  /** The first and last second counted (Infinity, -Infinity: none). */
  first = Infinity;
  last = -Infinity;
  /** Seconds counted (kept or displaced). */
  distinct = 0;
  /** Queries not counted in a second. */
  dropped = 0;
  /** Per slot: its second + 1 (0: empty), made on first use. */
  #tags: Float64Array | null = null;
  /** Per slot: its second's queries. */
  #counts: Float64Array | null = null;
  /** Counts of displaced seconds, by bucket, made on first use. */
  #displaced: Float64Array | null = null;
  #displacedCount = 0;
  #displacedMin = Infinity;
  #displacedMax = -Infinity;
  /** The first second's count once displaced (set aside), else -1. */
  #aside = -1;

  /**
   * @param capacity Seconds kept with their counts, at least
   * MIN_SECONDS_KEPT (16 bytes each, touched only as far as a run spans).
   */
  constructor(capacity: number = DEFAULT_SECONDS_KEPT) {
    if (!Number.isSafeInteger(capacity) || capacity < MIN_SECONDS_KEPT) {
      throw new RangeError(
        `Cannot keep ${capacity} seconds of queries per second: at least ${MIN_SECONDS_KEPT}`,
      );
    }
    this.capacity = capacity;
  }

  /** Seconds displaced from the ring (into the histogram, or aside). */
  get displaced(): number {
    return this.#displacedCount + (this.#aside >= 0 ? 1 : 0);
  }

  /** Counts `count` queries of `second` (a non-negative integer). */
  add(second: number, count: number): void {
    const tags = this.#tags ??= new Float64Array(this.capacity);
    const counts = this.#counts ??= new Float64Array(this.capacity);
    const slot = second % this.capacity;
    const tag = tags[slot]!;
    const want = second + 1;
    if (tag === want) {
      counts[slot]! += count;
      return;
    }
    if (tag > want) {
      // Late: a second at least `capacity` newer holds the slot.
      this.dropped += count;
      return;
    }
    if (tag !== 0) {
      if (tag - 1 === this.first) this.#aside = counts[slot]!;
      else this.#displace(counts[slot]!);
    }
    tags[slot] = want;
    counts[slot] = count;
    this.distinct++;
    if (second < this.first) {
      // The old first second is no longer first: fold its count.
      if (this.#aside >= 0) this.#displace(this.#aside);
      this.#aside = -1;
      this.first = second;
    }
    if (second > this.last) this.last = second;
  }

  #displace(count: number): void {
    const h = this.#displaced ??= new Float64Array(BUCKETS);
    h[latencyBucket(count)]!++;
    this.#displacedCount++;
    if (count < this.#displacedMin) this.#displacedMin = count;
    if (count > this.#displacedMax) this.#displacedMax = count;
  }

  /**
   * The summary over the whole run. Seconds without queries count as 0
   * when the span is not absurd (at most 4 × the seconds seen +
   * `seriesMax`); else the seconds seen alone. The series is given for a
   * span of at most `seriesMax` seconds.
   */
  summary(seriesMax: number): QpsSummary {
    const d = this.distinct;
    if (d === 0) {
      return {
        first: null,
        last: null,
        seconds: 0,
        min: null,
        median: null,
        max: null,
        series: null,
        dropped: this.dropped,
      };
    }
    const first = this.first;
    const last = this.last;
    const span = last - first + 1;
    const zeros = span <= 4 * d + seriesMax ? span - d : 0;
    const tags = this.#tags!;
    const counts = this.#counts!;
    const capacity = this.capacity;
    // The slots that may be taken: those of the span (from first's slot,
    // wrapping), or all of them.
    const ranges = span >= capacity ? [0, capacity] : wrap(
      first % capacity,
      span,
      capacity,
    );
    // One pass: min, max, and the histogram of every count.
    const displaced = this.#displaced;
    const h = displaced?.slice() ?? new Float64Array(BUCKETS);
    let min = this.#displacedMin;
    let max = this.#displacedMax;
    const aside = this.#aside;
    if (aside >= 0) {
      h[latencyBucket(aside)]!++;
      if (aside < min) min = aside;
      if (aside > max) max = aside;
    }
    for (let r = 0; r < ranges.length; r += 2) {
      for (let slot = ranges[r]!, end = ranges[r + 1]!; slot < end; slot++) {
        if (tags[slot] === 0) continue;
        const v = counts[slot]!;
        if (v < min) min = v;
        if (v > max) max = v;
        h[latencyBucket(v)]!++;
      }
    }
    if (zeros > 0) min = 0;
    let series: number[] | null = null;
    if (span <= seriesMax) {
      // Nothing displaced (span < capacity): every second is in its slot.
      series = new Array<number>(span).fill(0);
      for (let s = first; s <= last; s++) {
        const slot = s % capacity;
        if (tags[slot] === s + 1) series[s - first] = counts[slot]!;
      }
    }
    // The lower median of the counts and the zeros.
    const m = Math.floor((zeros + d - 1) / 2);
    let median = 0;
    if (m >= zeros) {
      const k = m - zeros;
      let b = 0;
      let before = 0;
      while (before + h[b]! <= k) before += h[b++]!;
      if (b < EXACT_BELOW) median = b;
      else if (displaced !== null && displaced[b]! > 0) {
        median = Math.max(latencyBucketLow(b), min);
      } else {
        // Only kept counts in its bucket: the exact one among them.
        const inBucket: number[] = [];
        if (aside >= 0 && latencyBucket(aside) === b) inBucket.push(aside);
        for (let r = 0; r < ranges.length; r += 2) {
          for (
            let slot = ranges[r]!, end = ranges[r + 1]!;
            slot < end;
            slot++
          ) {
            if (tags[slot] === 0) continue;
            const v = counts[slot]!;
            if (latencyBucket(v) === b) inBucket.push(v);
          }
        }
        inBucket.sort((x, y) => x - y);
        median = inBucket[k - before]!;
      }
    }
    return {
      first,
      last,
      seconds: span,
      min,
      median,
      max,
      series,
      dropped: this.dropped,
    };
  }

  /**
   * The table as plain data: capacity, first, last, distinct, displaced
   * count, min and max (of the histogram), the first second's count set
   * aside (-1: none); then (bucket, count) pairs of the displaced
   * histogram, their number first; then (second, count) pairs of the kept
   * seconds in time order. `dropped` is not in it (the caller carries it).
   * Walks the span's slots only (all of them, sorted, once it spans the
   * capacity), as {@linkcode SecondsTable.summary} does.
   */
  state(): Float64Array<ArrayBuffer> {
    const tags = this.#tags;
    const counts = this.#counts;
    const displaced = this.#displaced;
    const pairs: number[] = [];
    if (displaced !== null) {
      for (let b = 0; b < BUCKETS; b++) {
        if (displaced[b]! > 0) pairs.push(b, displaced[b]!);
      }
    }
    const slots: number[] = [];
    if (tags !== null && this.distinct > 0) {
      const capacity = this.capacity;
      const span = this.last - this.first + 1;
      // Under the capacity, the span's slots from the first one's are in
      // time order.
      const ranges = span >= capacity
        ? [0, capacity]
        : wrap(this.first % capacity, span, capacity);
      for (let r = 0; r < ranges.length; r += 2) {
        for (let slot = ranges[r]!, end = ranges[r + 1]!; slot < end; slot++) {
          if (tags[slot] !== 0) slots.push(slot);
        }
      }
      if (span >= capacity) slots.sort((a, b) => tags[a]! - tags[b]!);
    }
    const out = new Float64Array(HEAD + 1 + pairs.length + 2 * slots.length);
    out.set([
      this.capacity,
      this.first,
      this.last,
      this.distinct,
      this.#displacedCount,
      this.#displacedMin,
      this.#displacedMax,
      this.#aside,
      pairs.length / 2,
    ]);
    out.set(pairs, HEAD + 1);
    let at = HEAD + 1 + pairs.length;
    for (const slot of slots) {
      out[at++] = tags![slot]! - 1;
      out[at++] = counts![slot]!;
    }
    return out;
  }

  /**
   * Adds a table's `state`, made over the input that follows this one's:
   * its kept seconds are added in time order, as one table reading both
   * would (the same result while the run spans at most `capacity`); its
   * displaced counts join this one's, and its first second, if set aside,
   * is added first (joining this one's last second when they are one).
   */
  merge(state: Float64Array): void {
    const nPairs = state[HEAD]!;
    if (nPairs > 0) {
      const h = this.#displaced ??= new Float64Array(BUCKETS);
      for (let i = 0, at = HEAD + 1; i < nPairs; i++, at += 2) {
        h[state[at]!]! += state[at + 1]!;
      }
      const count = state[4]!;
      this.#displacedCount += count;
      this.distinct += count;
      this.#displacedMin = Math.min(this.#displacedMin, state[5]!);
      this.#displacedMax = Math.max(this.#displacedMax, state[6]!);
    }
    if (state[7]! >= 0) this.add(state[1]!, state[7]!);
    for (let at = HEAD + 1 + 2 * nPairs; at + 1 < state.length; at += 2) {
      this.add(state[at]!, state[at + 1]!);
    }
    if (state[1]! < this.first) this.first = state[1]!;
    if (state[2]! > this.last) this.last = state[2]!;
  }
}

/** `[from, to)` slot ranges of `n` slots from `start`, wrapping at `size`. */
function wrap(start: number, n: number, size: number): number[] {
  return start + n <= size
    ? [start, start + n]
    : [start, size, 0, start + n - size];
}
