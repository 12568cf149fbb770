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
//
// Two tables of one capacity merge (`merge`, the second thread of `fstrm
// top -r`): a key in both adds its counts and errors; a key in one only
// adds the other's bound (the most it can have occurred there unmonitored)
// to its count and error; the keys of highest count are kept, up to the
// capacity. The bound of keys not kept is the sum of the two bounds, or the
// largest count dropped if larger. While neither table evicted and the keys
// together fit, the merge is exact: the table one thread would have made.

/** One reported key: its count and how much of it may be overestimate. */
export interface HeavyItem {
  /** The key. */
  readonly key: string;
  /** The count: exact when `error` is 0, else an upper bound. */
  readonly count: number;
  /** The true count is at least `count - error`. */
  readonly error: number;
}

/** A table as plain data (keys and numbers), to send between threads. */
export interface HeavyState {
  /** The capacity. */
  readonly capacity: number;
  /** The keys, one after another (Latin-1: one char per byte). */
  readonly keys: string;
  /** The length of each key in `keys`. */
  readonly lengths: Uint32Array<ArrayBuffer>;
  /** The count of each key. */
  readonly counts: Float64Array<ArrayBuffer>;
  /** The error of each key. */
  readonly errors: Float64Array<ArrayBuffer>;
  /** The table's bound (0: exact). */
  readonly bound: number;
  /** Its evictions. */
  readonly evictions: number;
  /** Its adds. */
  readonly total: number;
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
  /** The most a key not monitored may have occurred (set by a merge). */
  #floor = 0;

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
    if (this.evictions === 0) return 0;
    return this.#full
      ? Math.max(this.#floor, this.#counts[this.#heap[0]!]!)
      : this.#floor;
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
      // After a merge, a new key may have occurred up to the floor before.
      this.#counts[s] = this.#floor + count;
      this.#errors[s] = this.#floor;
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

  /** The table as plain data (`transfer`: its buffers). */
  state(): { state: HeavyState; transfer: ArrayBuffer[] } {
    const n = this.#keys.length;
    const lengths = new Uint32Array(n);
    for (let s = 0; s < n; s++) lengths[s] = this.#keys[s]!.length;
    const state: HeavyState = {
      capacity: this.#capacity,
      keys: this.#keys.join(""),
      lengths,
      counts: this.#counts.slice(0, n),
      errors: this.#errors.slice(0, n),
      bound: this.bound,
      evictions: this.evictions,
      total: this.total,
    };
    return {
      state,
      transfer: [lengths.buffer, state.counts.buffer, state.errors.buffer],
    };
  }

  /**
   * Merges the table `other` (of the same capacity) into this one: see the
   * module's note for how, and the bounds that hold after.
   *
   * @throws {RangeError} If the capacities differ.
   */
  merge(other: HeavyState): void {
    if (other.capacity !== this.#capacity) {
      throw new RangeError(
        `Cannot merge heavy hitters: capacity ${other.capacity}, this table's is ${this.#capacity}`,
      );
    }
    const floorA = this.bound;
    const floorB = other.bound;
    const keys: string[] = [];
    const counts: number[] = [];
    const errors: number[] = [];
    const index = new Map<string, number>();
    for (let s = 0; s < this.#keys.length; s++) {
      const key = this.#keys[s]!;
      index.set(key, keys.length);
      keys.push(key);
      counts.push(this.#counts[s]! + floorB);
      errors.push(this.#errors[s]! + floorB);
    }
    for (let s = 0, at = 0; s < other.lengths.length; s++) {
      const key = other.keys.slice(at, at + other.lengths[s]!);
      at += other.lengths[s]!;
      const c = other.counts[s]!;
      const e = other.errors[s]!;
      const i = index.get(key);
      if (i !== undefined) {
        // Take back the floor added above: the key was monitored in both.
        counts[i] = counts[i]! - floorB + c;
        errors[i] = errors[i]! - floorB + e;
      } else {
        index.set(key, keys.length);
        keys.push(key);
        counts.push(c + floorA);
        errors.push(e + floorA);
      }
    }
    let order = keys.map((_, i) => i);
    let floor = floorA + floorB;
    let dropped = 0;
    if (order.length > this.#capacity) {
      order.sort((a, b) =>
        counts[b]! - counts[a]! ||
        (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0)
      );
      dropped = order.length - this.#capacity;
      floor = Math.max(floor, counts[order[this.#capacity]!]!);
      order = order.slice(0, this.#capacity);
    }
    this.#index.clear();
    this.#keys.length = 0;
    for (const i of order) {
      const s = this.#keys.length;
      this.#keys.push(keys[i]!);
      this.#index.set(keys[i]!, s);
      this.#counts[s] = counts[i]!;
      this.#errors[s] = errors[i]!;
    }
    this.total += other.total;
    this.evictions += other.evictions + dropped;
    this.#floor = floor;
    this.#full = false;
    if (this.#keys.length === this.#capacity) this.#build();
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
