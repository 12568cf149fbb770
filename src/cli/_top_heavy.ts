// Private: the heavy-hitters counter of `fstrm top` (Space-Saving, Metwally,
// Agrawal and El Abbadi 2005). Exact while it holds every key it has seen;
// once `capacity` keys are monitored, a new key replaces the one with the
// smallest count c, taking count c + 1 and error c. Guarantees, for a stream
// of N adds: every monitored key's true count lies in [count - error, count];
// every error is at most the smallest count, which is at most N / capacity;
// any key not monitored occurred at most that smallest count times, so every
// key whose true count exceeds it is monitored. `fstrm top` adds the
// distinct keys of its key lists with their counts (weighted Space-Saving,
// the same guarantees with N the sum of the counts).

/** One reported key: its count and how much of it may be overestimate. */
export interface HeavyItem {
  /** The key. */
  readonly key: string;
  /** The count: exact when `error` is 0, else an upper bound. */
  readonly count: number;
  /** The true count is at least `count - error`. */
  readonly error: number;
}

/** Space-Saving over string keys, exact until `capacity` keys. */
export class HeavyHitters {
  /** Adds so far. */
  total = 0;
  /** Keys evicted so far (0: every count is exact). */
  evictions = 0;
  readonly #capacity: number;
  readonly #index = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #counts: Float64Array;
  readonly #errors: Float64Array;
  // A min-heap of slots by count, built when the slots are full.
  readonly #heap: Int32Array;
  readonly #pos: Int32Array;
  #full = false;

  /** @param capacity The most keys monitored at once (at least 1). */
  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) {
      throw new RangeError(
        `Cannot count heavy hitters: capacity must be a positive integer, got ${capacity}`,
      );
    }
    this.#capacity = capacity;
    this.#counts = new Float64Array(capacity);
    this.#errors = new Float64Array(capacity);
    this.#heap = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity);
  }

  /** The most keys monitored at once. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Keys monitored now. */
  get size(): number {
    return this.#keys.length;
  }

  /**
   * The bound of every error, and of the true count of any key not
   * reported: the smallest monitored count once full, else 0.
   */
  get bound(): number {
    return this.evictions === 0 ? 0 : this.#counts[this.#heap[0]!]!;
  }

  /**
   * Counts `count` occurrences of `key` (weighted Space-Saving: a new key
   * replacing the smallest count c takes c + count, error c; the bounds
   * above hold with N the sum of the counts).
   */
  add(key: string, count = 1): void {
    this.total += count;
    const slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#counts[slot]! += count;
      if (this.#full) this.#down(this.#pos[slot]!);
      return;
    }
    const keys = this.#keys;
    if (keys.length < this.#capacity) {
      const s = keys.length;
      keys.push(key);
      this.#counts[s] = count;
      this.#errors[s] = 0;
      this.#index.set(key, s);
      if (keys.length === this.#capacity) this.#build();
      return;
    }
    // Replace the key with the smallest count.
    const m = this.#heap[0]!;
    this.#index.delete(keys[m]!);
    keys[m] = key;
    this.#index.set(key, m);
    this.#errors[m] = this.#counts[m]!;
    this.#counts[m]! += count;
    this.evictions++;
    this.#down(0);
  }

  /**
   * The `n` keys of highest count, highest first (ties: key order), each
   * with its error.
   */
  top(n: number): HeavyItem[] {
    const items: HeavyItem[] = this.#keys.map((key, s) => ({
      key,
      count: this.#counts[s]!,
      error: this.#errors[s]!,
    }));
    items.sort((a, b) =>
      b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    );
    return items.slice(0, n);
  }

  #build(): void {
    const n = this.#capacity;
    for (let i = 0; i < n; i++) {
      this.#heap[i] = i;
      this.#pos[i] = i;
    }
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#down(i);
    this.#full = true;
  }

  // Moves the slot at heap position i down to its place (counts only grow).
  #down(i: number): void {
    const heap = this.#heap;
    const pos = this.#pos;
    const counts = this.#counts;
    const n = this.#capacity;
    const slot = heap[i]!;
    const c = counts[slot]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && counts[heap[r]!]! < counts[heap[l]!]! ? r : l;
      if (counts[heap[child]!]! >= c) break;
      heap[i] = heap[child]!;
      pos[heap[i]!] = i;
      i = child;
    }
    heap[i] = slot;
    pos[slot] = i;
  }
}
