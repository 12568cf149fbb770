// LiveWindowScanner (src/cli/_top_live_scan.ts), the live scan of `fstrm top
// -u`: for runs of the four captures' frames, mutated and cut among them,
// cut into runs at random, it gives DnstapRunScanner's rows (both engines,
// windows small enough that runs go in pieces and grow for long frames), and
// its key lists (the WebAssembly engine's keys() or keysTs) count the same
// keys as keysTs over DnstapRunScanner's columns, whether runs are copied in
// or scanned in place (read into the slots it lends); runs that do not hold
// their frames whole are refused. With countRows, the engine's row counts
// handed to a TopCounter give the counts it makes from the columns itself.
import assert from "node:assert/strict";
import { encodeDataFrame } from "../mod.ts";
import { DnstapRunScanner, SCAN_OK } from "../src/dnstap_scan.ts";
import { DnstapKeys, type KeyOptions, keysTs } from "../src/_dnstap_keys.ts";
import { LiveWindowScanner } from "../src/cli/_top_live_scan.ts";
import {
  TopCounter,
  type TopCounterOptions,
  type TopCounterState,
} from "../src/cli/_top_stats.ts";
import type { RowCounts } from "../src/_dnstap_counts.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { canonicalRow, hexBytes } from "./_dnstap_scan.ts";
import { rng } from "./_support.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["knot", "bind", "unbound", "dnsdist"] as const;
const ENGINES = ["ts", "wasm"] as const;
const KEYS: KeyOptions = { depth: 2, fold: true };
const COUNTER: TopCounterOptions = { depth: 2, memory: 64 << 20 };

/** A counter's counts, to compare (its keys made by keysTs either way). */
function counted(counter: TopCounter): TopCounterState {
  return counter.state().state;
}

/** Adds the keys of `keys` (list, hex, count) to `into`, and clears it. */
function takeKeys(keys: DnstapKeys, into: Map<string, number>): void {
  for (let k = 0; k < 3; k++) {
    const list = keys.lists[k]!;
    for (let e = 0; e < keys.counts[k]! * 4; e += 4) {
      const at = list.entries[e]!;
      const key = `${k}:${
        hexBytes(list.arena.subarray(at, at + list.entries[e + 1]!))
      }`;
      into.set(key, (into.get(key) ?? 0) + list.entries[e + 2]!);
    }
  }
  keys.clear();
}

/** The captures' payloads, with two that are no dnstap. */
async function pool(): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for (const name of CAPTURES) {
    const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    for (const f of decodeFrames(bytes)) {
      if (f.kind === "data") all.push(f.data);
    }
  }
  all.push(new Uint8Array([0xff, 0xff]));
  all.push(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: new Uint8Array(5) },
  }));
  return all;
}

Deno.test("LiveWindowScanner gives DnstapRunScanner's rows and keysTs's keys however runs are cut (both engines, windows that split runs and grow)", async () => {
  const next = rng(41);
  const payloadPool = await pool();
  let malformed = 0;
  let grown = 0;
  for (let round = 0; round < 40; round++) {
    const payloads: Uint8Array[] = [];
    const n = 1 + (next() % 400);
    for (let k = 0; k < n; k++) {
      const p = payloadPool[next() % payloadPool.length]!.slice();
      const what = next() % 4;
      if (what === 0 && p.length > 0) p[next() % p.length] = next() & 0xff;
      payloads.push(what === 1 ? p.subarray(0, 1 + (next() % p.length)) : p);
    }
    const frames = payloads.map((p) => encodeDataFrame(p));
    // Runs of 1 to 60 frames, each in a window with other bytes around.
    const runs: [Uint8Array, number, number, number][] = [];
    for (let k = 0; k < frames.length;) {
      const m = Math.min(frames.length - k, 1 + (next() % 60));
      const size = frames.slice(k, k + m).reduce((a, f) => a + f.length, 0);
      const pad = next() % 8;
      const window = new Uint8Array(pad + size + 3).fill(0xee);
      let at = pad;
      for (const f of frames.slice(k, k + m)) {
        window.set(f, at);
        at += f.length;
      }
      runs.push([window, pad, at, m]);
      k += m;
    }
    const wantRows: string[] = [];
    const wantKeys = new Map<string, number>();
    const lists = new DnstapKeys();
    // The row counts as TopCounter makes them from the columns.
    const wantCounter = new TopCounter(COUNTER);
    const reference = new DnstapRunScanner((c, count, w) => {
      for (let i = 0; i < count; i++) wantRows.push(canonicalRow(c, i, w));
      keysTs(c, count, w, KEYS, lists);
      takeKeys(lists, wantKeys);
      wantCounter.add(c, count, w);
    }, { engine: "ts" });
    for (const [w, s, e, m] of runs) reference.onRun(w, s, e, m);
    const wantCounts = counted(wantCounter);
    assert.ok(wantKeys.size > 0);
    malformed += wantRows.filter((r) => !r.includes(`"status":${SCAN_OK},`))
      .length;
    for (const engine of ENGINES) {
      for (const windowSize of [64 + (next() % 2000), 1 << 18]) {
        const rows: string[] = [];
        const keys = new Map<string, number>();
        // The engine's row counts, handed to a counter as top -u does.
        const counter = new TopCounter(COUNTER);
        const scanner = new LiveWindowScanner((c, count, w, k, _, counts) => {
          for (let i = 0; i < count; i++) rows.push(canonicalRow(c, i, w));
          assert.notEqual(k, null);
          takeKeys(k!, keys);
          assert.notEqual(counts, null);
          counter.addBatch(c, count, w, null, counts);
        }, { engine, keyOptions: KEYS, windowSize, countRows: true });
        assert.equal(scanner.engine, engine);
        for (const [w, s, e, m] of runs) scanner.onRun(w, s, e, m);
        const what = `round ${round}, ${engine}, window ${windowSize}`;
        assert.deepEqual(rows, wantRows, what);
        assert.deepEqual(
          [...keys].sort(),
          [...wantKeys].sort(),
          what,
        );
        assert.equal(scanner.messages, payloads.length, what);
        assert.deepEqual(counted(counter), wantCounts, what);
        if (scanner.windowSize > windowSize) grown++;
      }
      // In place: each run in one of two slots lent by readBuffers, as a
      // receiver's connection reads it (but runs longer than a slot).
      const rows: string[] = [];
      const keys = new Map<string, number>();
      const counter = new TopCounter(COUNTER);
      const scanner = new LiveWindowScanner((c, count, w, k, _, counts) => {
        for (let i = 0; i < count; i++) rows.push(canonicalRow(c, i, w));
        takeKeys(k!, keys);
        assert.notEqual(counts, null);
        counter.addBatch(c, count, w, null, counts);
      }, {
        engine,
        keyOptions: KEYS,
        countRows: true,
        slots: 2,
        slotSize: 1 << 20,
      });
      const slots = [1, 2].map(() =>
        scanner.readBuffers.acquire(1 << 20, undefined!)!
      );
      assert.equal(
        scanner.readBuffers.acquire(1 << 16, undefined!),
        null,
        "no slot left",
      );
      let fit = 0;
      runs.forEach(([w, s, e, m], k) => {
        if (e > 1 << 20) return void scanner.onRun(w, s, e, m);
        const slot = slots[k % 2]!;
        slot.set(w.subarray(0, e), 0);
        scanner.onRun(slot, s, e, m);
        fit += m;
      });
      const what = `round ${round}, ${engine}, in place`;
      assert.deepEqual(rows, wantRows, what);
      assert.deepEqual([...keys].sort(), [...wantKeys].sort(), what);
      assert.equal(scanner.inPlace, fit, what);
      assert.deepEqual(counted(counter), wantCounts, what);
      assert.ok(fit > 0, what);
      for (const slot of slots) scanner.readBuffers.release(slot, undefined!);
    }
  }
  // The mutations reached the error paths, and long frames grew windows.
  assert.ok(malformed > 300, `${malformed} malformed rows`);
  assert.ok(grown > 10, `${grown} windows grown`);
});

Deno.test("LiveWindowScanner.readBuffers lends its slots once each, declines beyond them, and takes back only what it lent", () => {
  for (const engine of ENGINES) {
    const scanner = new LiveWindowScanner(() => {}, {
      engine,
      slots: 2,
      slotSize: 1 << 16,
      windowSize: 100,
    });
    const pool = scanner.readBuffers;
    const none = undefined!;
    assert.equal(pool.acquire((1 << 16) + 1, none), null, "above a slot");
    const a = pool.acquire(1 << 16, none)!;
    const b = pool.acquire(1 << 15, none)!;
    assert.equal(a.length, 1 << 16);
    assert.equal(b.length, 1 << 15);
    // Apart, after the copy region.
    assert.ok(
      Math.min(a.byteOffset, b.byteOffset) >= 100 &&
        Math.abs(a.byteOffset - b.byteOffset) >= 1 << 16,
    );
    assert.equal(pool.acquire(1024, none), null, "none left");
    assert.throws(() => pool.release(a.slice(), none), TypeError);
    pool.release(a, none);
    assert.throws(() => pool.release(a, none), TypeError, "twice");
    const c = pool.acquire(1024, none)!;
    assert.equal(c.byteOffset, a.byteOffset, "a freed slot is lent again");
    // A run in a slot is scanned there; one elsewhere is copied.
    const frame = encodeDataFrame(encodeDnstap({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryPort: 53 },
    }));
    c.set(frame, 10);
    scanner.onRun(c, 10, 10 + frame.length, 1);
    scanner.onRun(frame, 0, frame.length, 1);
    assert.equal(scanner.messages, 2);
    assert.equal(scanner.inPlace, 1);
  }
});

Deno.test("LiveWindowScanner without keyOptions or countRows passes no key lists or counts; both can be turned off between runs", () => {
  const frame = encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  }));
  for (const engine of ENGINES) {
    const got: (DnstapKeys | null)[] = [];
    const counts: (RowCounts | null)[] = [];
    const counter = new TopCounter(COUNTER);
    const scanner = new LiveWindowScanner((c, count, w, k, _, n) => {
      got.push(k);
      counts.push(n);
      k?.clear();
      if (n !== null) counter.addBatch(c, count, w, null, n);
    }, { engine, keyOptions: KEYS, countRows: true });
    scanner.onRun(frame, 0, frame.length, 1);
    scanner.keyOptions = null;
    scanner.countRows = false;
    scanner.onRun(frame, 0, frame.length, 1);
    assert.equal(got.length, 2);
    assert.ok(got[0] instanceof DnstapKeys);
    assert.equal(got[1], null);
    // The first run's message (a query without a DNS message) is in the
    // engine's counts; the second run was not counted.
    assert.notEqual(counts[0], null);
    assert.equal(counts[1], null);
    counter.finish();
    assert.equal(counter.messages, 1, engine);
    assert.equal(counter.noDns, 1, engine);
    const plain = new LiveWindowScanner(() => {}, { engine });
    assert.equal(plain.keyOptions, null);
    assert.equal(plain.countRows, false);
  }
});

Deno.test("LiveWindowScanner splits a run of more frames than a batch", () => {
  const frame = encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  }));
  const count = 9000;
  const run = new Uint8Array(frame.length * count);
  for (let k = 0; k < count; k++) run.set(frame, k * frame.length);
  for (const engine of ENGINES) {
    const sizes: number[] = [];
    let ports = 0;
    const scanner = new LiveWindowScanner((c, n) => {
      sizes.push(n);
      for (let i = 0; i < n; i++) ports += c.queryPort[i]!;
    }, { engine, windowSize: run.length });
    scanner.onRun(run, 0, run.length, count);
    assert.deepEqual(sizes, [4096, 4096, 808]);
    assert.equal(ports, 53 * count);
    assert.equal(scanner.batches, 3);
  }
});

Deno.test("LiveWindowScanner refuses a run that does not hold its frames whole", () => {
  const frame = encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  }));
  const run = new Uint8Array(3 * frame.length);
  for (let k = 0; k < 3; k++) run.set(frame, k * frame.length);
  const one = frame.length;
  const control = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5]);
  for (const engine of ENGINES) {
    for (const windowSize of [16, 1 << 18]) {
      const scanner = new LiveWindowScanner(() => {}, { engine, windowSize });
      const cases: [string, Uint8Array, number, number, number][] = [
        ["4 frames said, 3 there", run, 0, run.length, 4],
        ["2 frames said, 3 there", run, 0, run.length, 2],
        ["the end inside a frame", run, 0, run.length - 1, 3],
        ["the end inside a length", run, 0, one + 2, 2],
        ["past the window", run, 0, run.length + 1, 3],
        ["0 frames said", run, 0, one, 0],
        ["a control frame", control, 0, control.length, 1],
      ];
      // The same runs in place: read into a slot it lent.
      const slot = scanner.readBuffers.acquire(65_536, undefined!)!;
      for (const [what, window, start, end, frames] of [...cases]) {
        slot.set(window, 0);
        cases.push([`${what}, in place`, slot, start, end, frames]);
      }
      cases[cases.length - 3]![3] = slot.length + 1; // past the window
      for (const [what, window, start, end, frames] of cases) {
        assert.throws(
          () => scanner.onRun(window, start, end, frames),
          RangeError,
          `${what} (${engine}, window ${windowSize})`,
        );
      }
      scanner.onRun(run, one, one, 0);
    }
  }
  assert.throws(
    () => new LiveWindowScanner(() => {}, { engine: "x" as "ts" }),
    TypeError,
  );
});

Deno.test("LiveWindowScanner with countRows counts nothing of a run it refuses (both engines)", () => {
  const frame = encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  }));
  const two = new Uint8Array(2 * frame.length);
  two.set(frame, 0);
  two.set(frame, frame.length);
  for (const engine of ENGINES) {
    const counter = new TopCounter(COUNTER);
    let delivered = 0;
    const scanner = new LiveWindowScanner((c, count, w, _k, _, counts) => {
      delivered += count;
      counter.addBatch(c, count, w, null, counts);
    }, { engine, keyOptions: KEYS, countRows: true });
    scanner.onRun(frame, 0, frame.length, 1);
    // Two frames passed as one: refused, its rows neither delivered nor
    // counted.
    assert.throws(() => scanner.onRun(two, 0, two.length, 1), RangeError);
    scanner.onRun(frame, 0, frame.length, 1);
    assert.equal(delivered, 2, engine);
    assert.equal(counter.totals().messages, 2, engine);
  }
});
