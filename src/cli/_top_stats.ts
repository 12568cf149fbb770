// Private: what `fstrm top` counts, fed the columns of the dnstap scan batch
// by batch (sans I/O: the command reads, this counts). Names and clients are
// counted from a batch's key lists (_dnstap_keys.ts: its distinct keys with
// their counts, made by the engine's scan or here by keysTs), so that a
// string is made per distinct key of a batch, not per message; names with
// their ASCII letters lowercased unless `caseSensitive`. Per message: its
// Message.type and socket protocol; malformed ones by status. Per query (an
// odd Message.type) whose DNS message has a question: its QTYPE, its name
// whole and cut to its last `depth` labels, its client (query_address), and
// its second (query_time_sec) for queries per second. Per response (an even
// Message.type > 0) with a DNS header: its rcode (extended by the OPT
// record's bits), and its latency when it carries both query and response
// times. Those per-row counts are made by the engine that scanned the rows
// (_dnstap_counts.ts: in WebAssembly on the wasm engine), or here by
// countRowsTs when a batch comes without them; the counter folds them in
// batch by batch (scalars, runs of seconds, outliers) and at `finish` (the
// tables), so that no JavaScript runs per row on the wasm path.
import { type DnstapColumns, SCAN_CAPACITY } from "../_dnstap_scan_layout.ts";
import {
  C_BAD_HEADER,
  C_BAD_PROTOBUF,
  C_BAD_QUESTION,
  C_LATENCY_COUNT,
  C_LATENCY_MAX,
  C_LATENCY_MIN,
  C_MESSAGES,
  C_NEGATIVE_LATENCY,
  C_NO_DNS,
  C_OUTLIERS,
  C_QUERIES,
  C_RESPONSES,
  C_RUN_COUNT,
  C_RUN_SECOND,
  C_RUNS,
  C_SCALARS,
  C_USED,
  countRowsTs,
  L_OUTLIERS,
  L_RUNS,
  L_USED,
  LATENCY_BUCKETS,
  RowCounts,
  T_LATENCY,
  T_MESSAGE_TYPES,
  T_PROTOCOLS,
  T_QTYPES,
  T_RCODES,
} from "../_dnstap_counts.ts";
import { DnstapKeys, type KeyOptions, keysTs } from "../_dnstap_keys.ts";
import { HeavyHitters, type HeavyItem, type HeavyState } from "./_top_heavy.ts";
import {
  LatencyHistogram,
  type LatencyState,
  type LatencySummary,
} from "./_top_latency.ts";
import {
  DEFAULT_SECONDS_KEPT,
  type QpsSummary,
  SecondsTable,
} from "./_top_seconds.ts";

/** Bytes one monitored key is budgeted (key string, map entry, arrays). */
export const BYTES_PER_KEY = 160;

/** Options of {@linkcode TopCounter}. */
export interface TopCounterOptions {
  /** Labels kept of names for the by-depth table. */
  depth: number;
  /** Bytes for the three heavy-hitter tables together. */
  memory: number;
  /**
   * Count names as they are written: by default ASCII letters are
   * lowercased first, since DNS names are case-insensitive and resolvers
   * randomize case (0x20).
   *
   * @default {false}
   */
  caseSensitive?: boolean;
  /**
   * Seconds of queries per second kept one by one: the last ones of a
   * run (16 bytes each, at most). Older seconds are folded into a
   * histogram of per-second counts, so the summary stays over the whole
   * run (see `_top_seconds.ts`); at least 1,024.
   *
   * @default {1048576} (about 12 days)
   */
  secondsKept?: number;
}

/**
 * Counts by small integer (an enum or u16 value). The values counted in the
 * array are also listed, so that reporting, sending and merging the counts
 * visit the few values seen, not the whole array (65,536 for QTYPEs: a
 * 3 ms loop, not yet compiled, at the end of every two-thread run).
 */
export class IntCounts {
  readonly #small: Float64Array;
  /** The values of `#small` counted, in the order first counted. */
  readonly #used: number[] = [];
  readonly #large = new Map<number, number>();

  /** @param size Values 0 .. size-1 are counted in an array. */
  constructor(size: number) {
    this.#small = new Float64Array(size);
  }

  /** Counts `v` once. */
  add(v: number): void {
    if (v >= 0 && v < this.#small.length) {
      if (this.#small[v]!++ === 0) this.#used.push(v);
    } else this.#large.set(v, (this.#large.get(v) ?? 0) + 1);
  }

  /** Counts `v` `count` times (`count` above 0). */
  addCount(v: number, count: number): void {
    if (v >= 0 && v < this.#small.length) {
      if (this.#small[v] === 0) this.#used.push(v);
      this.#small[v]! += count;
    } else this.#large.set(v, (this.#large.get(v) ?? 0) + count);
  }

  /** `[value, count]` pairs, count highest first (ties: value order). */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    for (const v of this.#used) out.push([v, this.#small[v]!]);
    for (const e of this.#large) out.push(e);
    return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }

  /** The counts as plain data: value, count pairs. */
  state(): Float64Array<ArrayBuffer> {
    const used = this.#used;
    const out = new Float64Array(2 * (used.length + this.#large.size));
    let at = 0;
    for (const v of used) {
      out[at++] = v;
      out[at++] = this.#small[v]!;
    }
    for (const [v, c] of this.#large) {
      out[at++] = v;
      out[at++] = c;
    }
    return out;
  }

  /** Adds counts made by `state` of a table of the same size. */
  merge(state: Float64Array): void {
    for (let at = 0; at + 1 < state.length; at += 2) {
      if (state[at + 1]! > 0) this.addCount(state[at]!, state[at + 1]!);
    }
  }
}

/** Slots of a {@linkcode KeyCache}. */
const CACHE_SLOTS = 4096;
/** Bytes a slot holds (a wire name is at most 255). */
const CACHE_STRIDE = 256;

/**
 * Strings of recent byte keys, direct-mapped by a hash: a repeated name or
 * address gets the same string back without allocating (and with its hash
 * cached by the engine for the map lookup that follows).
 */
export class KeyCache {
  readonly #bytes = new Uint8Array(CACHE_SLOTS * CACHE_STRIDE);
  readonly #lengths = new Int32Array(CACHE_SLOTS).fill(-1);
  readonly #strings: string[] = new Array<string>(CACHE_SLOTS).fill("");

  /** The Latin-1 string of `b[from, to)` (at most 256 bytes), hash `h`. */
  get(b: Uint8Array, from: number, to: number, h: number): string {
    const slot = h & (CACHE_SLOTS - 1);
    const length = to - from;
    const bytes = this.#bytes;
    const at = slot * CACHE_STRIDE;
    if (this.#lengths[slot] === length) {
      let k = 0;
      while (k < length && bytes[at + k] === b[from + k]) k++;
      if (k === length) return this.#strings[slot]!;
    }
    const s = latin1(b, from, to);
    bytes.set(b.subarray(from, to), at);
    this.#lengths[slot] = length;
    this.#strings[slot] = s;
    return s;
  }
}

/** Bytes as a Latin-1 string (one char per byte). */
function latin1(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode.apply(
    null,
    b.subarray(from, to) as unknown as number[],
  );
}

/** Everything `fstrm top` reports, as numbers and keys. */
export interface TopTotals {
  /** Rows scanned (data frames). */
  readonly messages: number;
  /** Queries counted (odd Message.type with a question). */
  readonly queries: number;
  /** Responses counted (even Message.type with a DNS header). */
  readonly responses: number;
  /** Malformed messages by what failed. */
  readonly malformed: {
    readonly protobuf: number;
    readonly dnsHeader: number;
    readonly question: number;
  };
  /** Messages without a DNS message to read. */
  readonly noDns: number;
  /** Responses whose response time is before their query time. */
  readonly negativeLatency: number;
  /** Queries of a second the per-second table no longer kept. */
  readonly secondsDropped: number;
}

/**
 * A {@linkcode TopCounter} as plain data (numbers, typed arrays, strings),
 * for a worker thread to send (see `_top_parallel.ts`).
 */
export interface TopCounterState {
  /** The scalar counts, in the order of `TopCounter.state`. */
  readonly scalars: Float64Array<ArrayBuffer>;
  /** messageTypes, protocols, qtypes, rcodes (`IntCounts.state`). */
  readonly ints: Float64Array<ArrayBuffer>[];
  /** names, domains, clients. */
  readonly tables: HeavyState[];
  /** The latency histogram. */
  readonly latency: LatencyState;
  /** The per-second table (`SecondsTable.state`). */
  readonly seconds: Float64Array<ArrayBuffer>;
}

/** The counters of `fstrm top`. */
export class TopCounter {
  readonly messageTypes = new IntCounts(32);
  readonly protocols = new IntCounts(32);
  readonly qtypes = new IntCounts(65536);
  readonly rcodes = new IntCounts(4096);
  readonly names: HeavyHitters;
  readonly domains: HeavyHitters;
  readonly clients: HeavyHitters;
  readonly latency = new LatencyHistogram();
  /** Queries per second, by query_time_sec. */
  readonly seconds: SecondsTable;
  readonly depth: number;
  messages = 0;
  queries = 0;
  responses = 0;
  badProtobuf = 0;
  badHeader = 0;
  badQuestion = 0;
  noDns = 0;
  negativeLatency = 0;
  /** Counts of the rows this counter counts itself, made on first use. */
  #own: RowCounts | null = null;
  /** The counts the last batch came with (or `#own`), not folded in. */
  #source: RowCounts | null = null;
  /** How the key lists are made (depth, case folding). */
  readonly keyOptions: KeyOptions;
  readonly #caches = [new KeyCache(), new KeyCache(), new KeyCache()];
  #keys: DnstapKeys | null = null;
  /** The lists keys were last added to, not yet counted. */
  #pending: DnstapKeys | null = null;

  constructor(options: TopCounterOptions) {
    this.depth = options.depth;
    this.seconds = new SecondsTable(
      options.secondsKept ?? DEFAULT_SECONDS_KEPT,
    );
    this.keyOptions = {
      depth: options.depth,
      fold: options.caseSensitive !== true,
    };
    const each = Math.max(
      1,
      Math.floor(options.memory / 3 / BYTES_PER_KEY),
    );
    this.names = new HeavyHitters(each);
    this.domains = new HeavyHitters(each);
    this.clients = new HeavyHitters(each);
  }

  /**
   * Counts rows 0 .. count-1 of a batch, given the key lists the scan added
   * its keys to (with this counter's `keyOptions`); else they are added to
   * lists of the counter's own. The counter empties lists once full, and
   * at `finish`. Given `counts`, the rows were counted there by the scan
   * (`_dnstap_counts.ts`): the counter drains their runs of seconds and
   * outliers and folds in the rest at `finish`; else it counts the rows
   * itself, with the TypeScript counter. `counts` must hold exactly rows
   * 0 .. count-1 of this batch (and those of the batches before it given
   * with the same counts): the scan counted every row it made, so a caller
   * taking only part of a batch passes null. The counts (`messages`, the
   * tables, ...) are the rows' once `finish` has run (`totals` runs it).
   */
  addBatch(
    c: DnstapColumns,
    count: number,
    window: Uint8Array,
    keys: DnstapKeys | null = null,
    counts: RowCounts | null = null,
  ): void {
    if (counts === null) {
      const own = this.#own ??= new RowCounts();
      this.#use(own);
      for (let from = 0; from < count; from += SCAN_CAPACITY) {
        countRowsTs(c, from, Math.min(count, from + SCAN_CAPACITY), own);
        this.#drain(own);
      }
    } else {
      this.#use(counts);
      this.#drain(counts);
    }
    if (keys === null) {
      keys = this.#keys ??= new DnstapKeys();
      if (keys.full) this.#flush(keys);
      keysTs(c, count, window, this.keyOptions, keys);
    }
    if (keys !== this.#pending && this.#pending !== null) {
      this.#flush(this.#pending);
    }
    this.#pending = keys;
    if (keys.full) this.#flush(keys);
  }

  /** Counts the keys of `keys` and empties it. */
  #flush(keys: DnstapKeys): void {
    this.#addKeys(keys);
    keys.clear();
  }

  /** Counts rows 0 .. count-1 of a batch (its key lists made here). */
  add(c: DnstapColumns, count: number, window: Uint8Array): void {
    this.addBatch(c, count, window, null);
  }

  /** Counts a batch's distinct names, cut names and clients. */
  #addKeys(keys: DnstapKeys): void {
    const tables = [this.names, this.domains, this.clients];
    for (let k = 0; k < 3; k++) {
      const list = keys.lists[k]!;
      const entries = list.entries;
      const arena = list.arena;
      const cache = this.#caches[k]!;
      const table = tables[k]!;
      for (let e = 0, last = keys.counts[k]! * 4; e < last; e += 4) {
        const at = entries[e]!;
        table.add(
          cache.get(arena, at, at + entries[e + 1]!, entries[e + 3]!),
          entries[e + 2]!,
        );
      }
    }
  }

  /**
   * Folds in the lists of the last count into `counts`: the finished runs
   * of seconds (in row order) and the outliers; empties them there.
   */
  #drain(counts: RowCounts): void {
    const f = counts.f;
    if (f[C_RUNS] === 0 && f[C_OUTLIERS] === 0) return;
    for (let r = L_RUNS, last = L_RUNS + 2 * f[C_RUNS]!; r < last; r += 2) {
      this.seconds.add(f[r]!, f[r + 1]!);
    }
    const outliers = L_OUTLIERS + 2 * f[C_OUTLIERS]!;
    for (let o = L_OUTLIERS; o < outliers; o += 2) {
      (f[o] === 0 ? this.messageTypes : this.protocols).add(f[o + 1]!);
    }
    f[C_RUNS] = 0;
    f[C_OUTLIERS] = 0;
  }

  /**
   * Folds in the rest of `counts` (drained already): the scalars, the open
   * run of seconds, the tables (the entries listed as used, not the whole
   * tables) and the latency histogram; empties them there.
   */
  #fold(counts: RowCounts): void {
    const f = counts.f;
    this.messages += f[C_MESSAGES]!;
    this.badProtobuf += f[C_BAD_PROTOBUF]!;
    this.badHeader += f[C_BAD_HEADER]!;
    this.badQuestion += f[C_BAD_QUESTION]!;
    this.noDns += f[C_NO_DNS]!;
    this.queries += f[C_QUERIES]!;
    this.responses += f[C_RESPONSES]!;
    this.negativeLatency += f[C_NEGATIVE_LATENCY]!;
    f.fill(0, 0, C_SCALARS);
    if (f[C_RUN_COUNT]! > 0) {
      this.seconds.add(f[C_RUN_SECOND]!, f[C_RUN_COUNT]!);
    }
    f[C_RUN_COUNT] = 0;
    f[C_RUN_SECOND] = -1;
    for (let u = L_USED, last = L_USED + f[C_USED]!; u < last; u++) {
      const at = f[u]!;
      const n = f[at]!;
      f[at] = 0;
      if (at < T_PROTOCOLS) {
        this.messageTypes.addCount(at - T_MESSAGE_TYPES, n);
      } else if (at < T_RCODES) this.protocols.addCount(at - T_PROTOCOLS, n);
      else if (at < T_QTYPES) this.rcodes.addCount(at - T_RCODES, n);
      else this.qtypes.addCount(at - T_QTYPES, n);
    }
    f[C_USED] = 0;
    if (f[C_LATENCY_COUNT]! > 0) {
      const buckets = f.subarray(T_LATENCY, T_LATENCY + LATENCY_BUCKETS);
      this.latency.merge({
        buckets,
        count: f[C_LATENCY_COUNT]!,
        min: f[C_LATENCY_MIN]!,
        max: f[C_LATENCY_MAX]!,
      });
      buckets.fill(0);
      f[C_LATENCY_COUNT] = 0;
      f[C_LATENCY_MIN] = Infinity;
      f[C_LATENCY_MAX] = -Infinity;
    }
  }

  /**
   * Makes `counts` the counts batches come with, folding in the ones
   * before (rows are counted in order, the runs of seconds too).
   */
  #use(counts: RowCounts): void {
    if (counts === this.#source) return;
    if (this.#source !== null) this.#fold(this.#source);
    this.#source = counts;
  }

  /** Queries of a second the per-second table no longer kept. */
  get secondsDropped(): number {
    return this.seconds.dropped;
  }

  /**
   * Queries per second over the run (after `finish`): see
   * `SecondsTable.summary`.
   */
  qps(seriesMax: number): QpsSummary {
    this.finish();
    return this.seconds.summary(seriesMax);
  }

  /**
   * Ends counting: folds the counts (the current second, the tables) and
   * the pending keys in. Counting may go on after it.
   */
  finish(): void {
    // Folded and let go (a reader's counts are a view of its engine's
    // memory): the next batch's counts are taken up afresh.
    if (this.#source !== null) this.#fold(this.#source);
    this.#source = null;
    if (this.#pending !== null) this.#flush(this.#pending);
    this.#pending = null;
  }

  /**
   * The counts as plain data, after `finish`; `transfer` lists its buffers
   * (to move, not copy, them to another thread).
   */
  state(): { state: TopCounterState; transfer: ArrayBuffer[] } {
    this.finish();
    const ints = [this.messageTypes, this.protocols, this.qtypes, this.rcodes]
      .map((t) => t.state());
    const transfer: ArrayBuffer[] = ints.map((a) => a.buffer);
    const tables = [this.names, this.domains, this.clients].map((t) => {
      const made = t.state();
      transfer.push(...made.transfer);
      return made.state;
    });
    const seconds = this.seconds.state();
    const scalars = Float64Array.of(
      this.messages,
      this.queries,
      this.responses,
      this.badProtobuf,
      this.badHeader,
      this.badQuestion,
      this.noDns,
      this.negativeLatency,
      this.secondsDropped,
    );
    const latency = this.latency.state();
    transfer.push(
      seconds.buffer,
      scalars.buffer,
      latency.buckets.buffer,
    );
    return {
      state: { scalars, ints, tables, latency, seconds },
      transfer,
    };
  }

  /**
   * Adds the counts of `state`, made by a counter of the same options over
   * the input that follows this one's: after it, this counter holds what
   * one counter reading both would (exact counts add; the seconds are
   * added in time order, as one counter would while the run spans at most
   * `secondsKept`; the
   * name and client tables merge as `HeavyHitters.merge` says: exactly while
   * neither evicted and their keys together fit).
   */
  merge(state: TopCounterState): void {
    this.finish();
    const s = state.scalars;
    this.messages += s[0]!;
    this.queries += s[1]!;
    this.responses += s[2]!;
    this.badProtobuf += s[3]!;
    this.badHeader += s[4]!;
    this.badQuestion += s[5]!;
    this.noDns += s[6]!;
    this.negativeLatency += s[7]!;
    this.seconds.dropped += s[8]!;
    [this.messageTypes, this.protocols, this.qtypes, this.rcodes]
      .forEach((t, k) => t.merge(state.ints[k]!));
    [this.names, this.domains, this.clients]
      .forEach((t, k) => t.merge(state.tables[k]!));
    this.latency.merge(state.latency);
    this.seconds.merge(state.seconds);
  }

  /** The totals. */
  totals(): TopTotals {
    this.finish();
    return {
      messages: this.messages,
      queries: this.queries,
      responses: this.responses,
      malformed: {
        protobuf: this.badProtobuf,
        dnsHeader: this.badHeader,
        question: this.badQuestion,
      },
      noDns: this.noDns,
      negativeLatency: this.negativeLatency,
      secondsDropped: this.secondsDropped,
    };
  }

  /** Latency percentiles in nanoseconds. */
  latencySummary(): LatencySummary {
    this.finish();
    return this.latency.summary();
  }

  /** The top `n` of a heavy-hitter table. */
  static top(table: HeavyHitters, n: number): HeavyItem[] {
    return table.top(n);
  }
}
