// fstrm top's queries-per-second table: exactly the old table of every
// second while a run spans at most its capacity (min, median, max, series,
// zeros for seconds without queries), and bounded memory beyond, with the
// summary still over the whole run (first, last, span, min, max exact; the
// median within the histogram's error).
import assert from "node:assert/strict";
import { rng } from "./_support.ts";

/** A seeded generator of numbers in [0, 1). */
function random(seed: number): () => number {
  const next = rng(seed);
  return () => next() / 2 ** 32;
}
import {
  DEFAULT_SECONDS_KEPT,
  MIN_SECONDS_KEPT,
  type QpsSummary,
  SecondsTable,
} from "../src/cli/_top_seconds.ts";
import { LATENCY_RELATIVE_ERROR } from "../src/cli/_top_latency.ts";
import { TopCounter } from "../src/cli/_top_stats.ts";
import { toReport } from "../src/cli/top.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { forEachDnstapBatch } from "../src/dnstap_scan.ts";

/** The longest series a report prints (top.ts's SERIES_MAX). */
const SERIES_MAX = 600;

/**
 * The summary as `fstrm top` computed it with a map of every second (the
 * reference): zeros for seconds without queries when the span is not
 * absurd, the lower median.
 */
function reference(
  adds: readonly [number, number][],
  seriesMax = SERIES_MAX,
): Omit<QpsSummary, "dropped"> {
  const seconds = new Map<number, number>();
  for (const [s, c] of adds) seconds.set(s, (seconds.get(s) ?? 0) + c);
  const keys = [...seconds.keys()].sort((a, b) => a - b);
  const first = keys.length === 0 ? null : keys[0]!;
  const last = keys.length === 0 ? null : keys[keys.length - 1]!;
  const span = first === null ? 0 : last! - first + 1;
  let perSecond: number[];
  let series: number[] | null = null;
  if (first !== null && span <= 4 * keys.length + seriesMax) {
    perSecond = new Array<number>(span).fill(0);
    for (const [s, c] of seconds) perSecond[s - first] = c;
    if (span <= seriesMax) series = perSecond.slice();
  } else perSecond = [...seconds.values()];
  perSecond.sort((a, b) => a - b);
  const n = perSecond.length;
  return {
    first,
    last,
    seconds: span,
    min: n === 0 ? null : perSecond[0]!,
    median: n === 0 ? null : perSecond[(n - 1) >> 1]!,
    max: n === 0 ? null : perSecond[n - 1]!,
    series,
  };
}

/** A table fed `adds`. */
function table(adds: readonly [number, number][], capacity?: number) {
  const t = new SecondsTable(capacity);
  for (const [s, c] of adds) t.add(s, c);
  return t;
}

/** Random (second, count) adds: a run of `span` seconds from `start`. */
function randomRun(
  next: () => number,
  start: number,
  span: number,
  adds: number,
  big: boolean,
): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < adds; i++) {
    // Mostly in order, some late by a few seconds, some anywhere.
    const at = Math.floor((i / adds) * span);
    const jitter = next() < 0.1 ? -Math.floor(next() * 5) : 0;
    const s = next() < 0.02
      ? start + Math.floor(next() * span)
      : Math.max(start, start + at + jitter);
    const count = big
      ? 1 + Math.floor(next() * 100_000)
      : 1 + Math.floor(next() * 300);
    out.push([s, count]);
  }
  return out;
}

Deno.test("SecondsTable gives the old table's summary exactly while the run spans at most its capacity", () => {
  const next = random(7);
  const cases: [number, number][][] = [
    [], // no query with a time
    [[1_796_291_335, 5]], // one second
    [[10, 3], [12, 9], [10, 1]], // a gap, a second seen twice
    [[0, 1], [1, 2]], // the epoch itself
    // An absurd span (a bogus timestamp): seconds seen only, no zeros.
    [[100, 5], [101, 7], [5_000_000, 1]],
  ];
  for (let k = 0; k < 300; k++) {
    const span = 1 + Math.floor(next() * (k % 3 === 0 ? 800 : 3000));
    const adds = Math.floor(next() * 2 * span);
    cases.push(randomRun(next, 1_700_000_000 + k, span, adds, k % 2 === 0));
  }
  for (const [k, adds] of cases.entries()) {
    const t = table(adds, 4096);
    const got = t.summary(SERIES_MAX);
    const { dropped, ...rest } = got;
    assert.equal(dropped, 0, `case ${k}`);
    assert.equal(t.displaced, 0, `case ${k}`);
    assert.deepEqual(rest, reference(adds), `case ${k}`);
    // The default table too.
    assert.deepEqual(table(adds).summary(SERIES_MAX), got, `case ${k}`);
  }
});

Deno.test("SecondsTable keeps its capacity's last seconds on a longer run, its summary over the whole run", () => {
  const next = random(11);
  for (const big of [false, true]) {
    const capacity = MIN_SECONDS_KEPT;
    const start = 1_796_000_000;
    const span = 10 * capacity + 17; // ten times longer than the window
    const adds: [number, number][] = [];
    for (let s = start; s < start + span; s++) {
      // Some seconds without queries; busy and quiet hours.
      if (next() < 0.05) continue;
      const base = big ? (((s - start) >> 9) & 1 ? 50_000 : 400) : 40;
      adds.push([s, 1 + Math.floor(next() * base)]);
    }
    const t = table(adds, capacity);
    const got = t.summary(SERIES_MAX);
    const want = reference(adds);
    // Nothing dropped: a run in time order displaces, never drops.
    assert.equal(got.dropped, 0);
    assert.equal(t.displaced, t.distinct - capacity);
    assert.equal(t.distinct, adds.length);
    for (const key of ["first", "last", "seconds", "min", "max"] as const) {
      assert.equal(got[key], want[key], key);
    }
    assert.equal(got.series, null);
    // The median: exact below 256, else under by less than 1/128.
    const v = want.median!;
    const r = got.median!;
    if (v < 256) assert.equal(r, v);
    else {
      assert.ok(
        r <= v && v < r * (1 + LATENCY_RELATIVE_ERROR),
        `median ${r} vs exact ${v}`,
      );
    }
    // Bounded: the state holds at most the window's seconds and the
    // histogram's buckets, however long the run.
    const state = t.state();
    assert.ok(state.length <= 8 + 2 * 6016 + 2 * capacity, `${state.length}`);
    // The state, merged into an empty table, gives the same summary.
    const copy = new SecondsTable(capacity);
    copy.merge(state);
    copy.dropped = t.dropped;
    assert.deepEqual(copy.summary(SERIES_MAX), got);
  }
});

Deno.test("SecondsTable counts a query later than its capacity in dropped, and a bogus future second costs one slot", () => {
  const t = new SecondsTable(MIN_SECONDS_KEPT);
  t.add(5000, 3);
  t.add(5000 + MIN_SECONDS_KEPT, 4); // displaces 5000 (same slot)
  t.add(5000, 2); // late by the capacity: dropped
  assert.equal(t.dropped, 2);
  assert.equal(t.displaced, 1);
  const s = t.summary(SERIES_MAX);
  assert.equal(s.first, 5000);
  assert.equal(s.last, 5000 + MIN_SECONDS_KEPT);
  assert.equal(s.max, 4);
  // A run with one timestamp far in the future: the run's other seconds
  // are all kept and exact (seconds seen only: the span is absurd).
  const adds: [number, number][] = [];
  for (let i = 0; i < 2000; i++) adds.push([1_000_000 + i, 1 + (i % 7)]);
  adds.splice(500, 0, [1_000_000 + 1e9 + 3, 1]);
  const bogus = table(adds, 4096);
  assert.equal(bogus.displaced, 0);
  assert.deepEqual(
    (({ dropped: _, ...rest }) => rest)(bogus.summary(SERIES_MAX)),
    reference(adds),
  );
});

Deno.test("SecondsTable.merge of the part that follows gives one table's summary", () => {
  const next = random(3);
  for (let k = 0; k < 50; k++) {
    const adds = randomRun(next, 1_800_000_000, 1 + k * 60, 40 * k + 1, true);
    const cut = Math.floor(next() * adds.length);
    const a = table(adds.slice(0, cut), 4096);
    const b = table(adds.slice(cut), 4096);
    a.merge(b.state());
    assert.deepEqual(
      a.summary(SERIES_MAX),
      table(adds, 4096).summary(SERIES_MAX),
    );
  }
});

Deno.test("SecondsTable.merge joins the second split between two parts when the second part spans more than the capacity", () => {
  const capacity = MIN_SECONDS_KEPT;
  const next = random(17);
  for (let k = 0; k < 20; k++) {
    // In time order (as a file is split), counts under 256 (exact), one
    // second split in the middle of its queries, the second part longer
    // than the capacity (its first second displaced).
    const start = 1_800_000_000 + Math.floor(next() * capacity);
    const before = 1 + Math.floor(next() * 2 * capacity);
    const after = capacity + 1 + Math.floor(next() * 2 * capacity);
    const adds: [number, number][] = [];
    for (let s = start; s < start + before + after; s++) {
      if (next() < 0.05) continue;
      adds.push([s, 20 + Math.floor(next() * 200)]);
    }
    const split = adds.findIndex(([s]) => s >= start + before);
    const [shared, count] = adds[split]!;
    const half = Math.floor(count / 2);
    adds.splice(split, 1, [shared, half], [shared, count - half]);
    const a = table(adds.slice(0, split + 1), capacity);
    const b = table(adds.slice(split + 1), capacity);
    a.merge(b.state());
    const whole = table(adds, capacity);
    assert.equal(a.distinct, whole.distinct, `case ${k}`);
    assert.equal(a.displaced, whole.displaced, `case ${k}`);
    assert.deepEqual(a.summary(SERIES_MAX), whole.summary(SERIES_MAX));
    assert.deepEqual(
      (({ dropped: _, ...rest }) => rest)(a.summary(SERIES_MAX)),
      reference(adds),
      `case ${k}`,
    );
  }
});

Deno.test("SecondsTable.state lists the kept seconds in time order, the span wrapping round the ring or not", () => {
  const capacity = MIN_SECONDS_KEPT;
  // Spans from the ring's start, across its end, and longer than it.
  const cases: [number, number][] = [
    [0, 700],
    [capacity - 100, 700],
    [5 * capacity + 3, capacity + 300],
  ];
  for (const [start, span] of cases) {
    const adds: [number, number][] = [];
    for (let s = start; s < start + span; s++) {
      if (s % 7 !== 3) adds.push([s, 1 + (s % 11)]);
    }
    const t = table(adds, capacity);
    const state = t.state();
    // Kept: the seconds no later one displaced from their slot; their
    // pairs end the state, after 8 scalars, the number of histogram
    // pairs, and those pairs.
    const seconds = new Set(adds.map(([s]) => s));
    const kept = adds.filter(([s]) => {
      for (let later = s + capacity; later < start + span; later += capacity) {
        if (seconds.has(later)) return false;
      }
      return true;
    });
    const from = 9 + 2 * state[8]!;
    const got: [number, number][] = [];
    for (let i = from; i < state.length; i += 2) {
      got.push([state[i]!, state[i + 1]!]);
    }
    assert.deepEqual(got, kept, `from ${start}`);
    const copy = new SecondsTable(capacity);
    copy.merge(state);
    assert.deepEqual(copy.summary(SERIES_MAX), t.summary(SERIES_MAX));
  }
});

Deno.test("SecondsTable refuses a capacity below the minimum", () => {
  for (const bad of [0, 600, MIN_SECONDS_KEPT - 1, 1.5e3 + 0.5, NaN]) {
    assert.throws(() => new SecondsTable(bad), RangeError);
  }
  assert.equal(new SecondsTable().capacity, DEFAULT_SECONDS_KEPT);
});

/** A dnstap CLIENT_QUERY for example.com at `second`. */
function queryAt(second: number): Uint8Array {
  const wire = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of ["example", "com"]) {
    wire.push(l.length, ...new TextEncoder().encode(l));
  }
  wire.push(0, 0, 1, 0, 1);
  return encodeDnstap({
    type: "MESSAGE",
    message: {
      type: "CLIENT_QUERY",
      queryTimeSec: second,
      queryTimeNsec: 0,
      queryMessage: new Uint8Array(wire),
    },
  });
}

Deno.test("fstrm top's counter with secondsKept keeps a bounded table over a run longer than it, the report over the whole run", async () => {
  const start = 1_796_291_335;
  const span = 3 * MIN_SECONDS_KEPT + 100;
  const frames: Uint8Array[] = [];
  const perSecond = new Map<number, number>();
  for (let s = start; s < start + span; s++) {
    const n = 1 + ((s * 7) % 5);
    for (let i = 0; i < n; i++) frames.push(queryAt(s));
    perSecond.set(s, n);
  }
  const bytes = encodeFrameStream(frames);
  const report = async (secondsKept?: number) => {
    const counter = new TopCounter({
      depth: 2,
      memory: 1 << 20,
      ...(secondsKept === undefined ? {} : { secondsKept }),
    });
    await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      (cols, count, window) => counter.add(cols, count, window),
      { engine: "ts" },
    );
    counter.finish();
    return {
      counter,
      report: toReport(counter, {
        file: "x",
        engine: "ts",
        n: 10,
        dropped: 0,
        error: null,
      }),
    };
  };
  const whole = await report();
  const bounded = await report(MIN_SECONDS_KEPT);
  assert.equal(whole.counter.seconds.displaced, 0);
  assert.equal(bounded.counter.seconds.displaced, span - MIN_SECONDS_KEPT);
  // Counts under 256: the bounded summary is exact, equal to the whole one.
  assert.deepEqual(bounded.report, whole.report);
  assert.deepEqual(
    whole.report.qps,
    { ...reference([...perSecond]), dropped: 0 },
  );
  assert.equal(whole.report.qps.seconds, span);
  assert.equal(bounded.report.queries, frames.length);
});

Deno.test("SecondsTable with its default capacity counts every query of a run longer than 2^20 seconds (the old table dropped them)", () => {
  const t = new SecondsTable();
  const span = DEFAULT_SECONDS_KEPT + 5000;
  for (let s = 0; s < span; s++) t.add(1_700_000_000 + s, 1 + (s & 3));
  const got = t.summary(SERIES_MAX);
  assert.equal(got.dropped, 0);
  assert.equal(t.displaced, 5000);
  assert.equal(got.seconds, span);
  assert.deepEqual([got.min, got.median, got.max], [1, 2, 4]);
});
