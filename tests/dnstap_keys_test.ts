// The key lists of `fstrm top` (keys() of wasm/dnstap_keys.ts and its twin
// keysTs in src/_dnstap_keys.ts) against a reference written from the rules
// alone: a Map per list, in order of first occurrence, over rows built so
// that keys repeat row after row (the lists compare a row's keys with the
// last row's before hashing), across scans, with names that differ only in
// case, names behind pointers, clients cut at 16 bytes, and lists emptied
// once full as `fstrm top` does.
import assert from "node:assert/strict";
import { encodeDnstap } from "../src/dnstap.ts";
import { STATUS_TABLE_FULL } from "../src/_scan.ts";
import {
  HAS_QNAME_POINTER,
  HAS_QUERY_ADDRESS,
  HAS_QUESTION,
} from "../src/_dnstap_scan_layout.ts";
import type { KeyOptions } from "../src/_dnstap_keys.ts";
import {
  type DnstapWindowEngine,
  TsDnstapWindowEngine,
  WasmDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";
import { keyListsOf } from "./_dnstap_scan.ts";
import { prng } from "./_dns_random.ts";

/** One row: its Message.type, question name field, extra bytes, client. */
interface Row {
  /** Message.type: odd a query, even a response. */
  type: number;
  /** The question's name field as on the wire (may hold a pointer). */
  name: number[];
  /** Bytes after the question (what pointers point at). */
  extra: number[];
  /** query_address; none: absent. */
  client: number[] | null;
}

/** A name in wire format, labels as given (no compression). */
function wire(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".").filter((l) => l !== "")) {
    out.push(label.length, ...[...label].map((c) => c.charCodeAt(0)));
  }
  out.push(0);
  return out;
}

/** Offset of the extra bytes in a message whose name field is `field`. */
const extraAt = (field: number[]): number => 12 + field.length + 4;

/** The question name fields and extras of the pool of names. */
const NAMES: [number[], number[]][] = [
  [wire("www.example.com"), []],
  [wire("WWW.Example.COM"), []], // the same folded
  [wire("www.example.con"), []], // same length, another cut
  [wire("mail.example.com"), []], // same cut
  [wire("a.b.c.d.example.org"), []],
  [wire("xn--bcher-kva.example"), []],
  [[0], []], // the root
  [wire("ExAmPlE.CoM"), []],
  // Two names of one length, equal in their first and last 8 bytes (one
  // cache slot).
  [wire("abcdefgh.0123456789ab.xyzwvuts.com"), []],
  [wire("abcdefgh.01234X6789ab.xyzwvuts.com"), []],
  // "www" then a pointer to "example.com" after the question.
  [
    [3, 119, 119, 119, 0xc0, extraAt([3, 119, 119, 119, 0, 0])],
    wire(
      "example.com",
    ),
  ],
  // The whole name behind a pointer: www.example.com again.
  [[0xc0, extraAt([0, 0])], wire("www.example.com")],
  // Behind a pointer, the same bytes as a name in place: "mail" + pointer.
  [
    [4, 109, 97, 105, 108, 0xc0, extraAt([4, 109, 97, 105, 108, 0, 0])],
    wire(
      "EXAMPLE.com",
    ),
  ],
];

/** The pool of clients (null: no query_address). */
const CLIENTS: (number[] | null)[] = [
  [192, 0, 2, 1],
  [192, 0, 2, 2],
  [192, 0, 2, 1, 0], // 5 bytes, not the first
  [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1],
  [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1, 7], // cut to 16
  [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1, 8], // cut to 16
  [], // empty
  null,
];

/** The DNS message of `row`: header, one question, the extra bytes. */
function dns(row: Row): Uint8Array {
  const response = row.type % 2 === 0;
  return new Uint8Array([
    0x12,
    0x34,
    response ? 0x81 : 0x01,
    response ? 0x80 : 0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...row.name,
    0,
    1,
    0,
    1,
    ...row.extra,
  ]);
}

/** The dnstap frame (length prefix and payload) of `row`. */
function frame(row: Row, i: number): Uint8Array {
  const message = dns(row);
  const payload = encodeDnstap({
    type: "MESSAGE",
    message: {
      type: row.type,
      socketFamily: "INET",
      socketProtocol: "UDP",
      ...(row.client === null
        ? {}
        : { queryAddress: new Uint8Array(row.client) }),
      queryPort: 40000 + i,
      queryTimeSec: 1_764_094_866 + i,
      queryTimeNsec: i,
      ...(row.type % 2 === 0
        ? { responseMessage: message }
        : { queryMessage: message }),
    },
  });
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/** Hex of bytes. */
const hex = (b: readonly number[]): string =>
  b.map((x) => x.toString(16).padStart(2, "0")).join("");

/**
 * The reference keys of `row`, or null for a row that does not count: the
 * name with pointers followed, its letters lowercased with `fold`, the name
 * from its label `labels - depth` on, the first 16 bytes of the client.
 */
function keysOf(
  row: Row,
  options: KeyOptions,
): [string, string, string | null] | null {
  if (row.type % 2 === 0) return null;
  const m = dns(row);
  const labels: number[][] = [];
  let at = 12;
  for (;;) {
    const len = m[at]!;
    if (len === 0) break;
    if (len >= 0xc0) {
      at = ((len & 0x3f) << 8) | m[at + 1]!;
      continue;
    }
    labels.push(
      [...m.subarray(at + 1, at + 1 + len)].map((c) =>
        options.fold && c >= 0x41 && c <= 0x5a ? c + 0x20 : c
      ),
    );
    at += 1 + len;
  }
  const wireOf = (ls: number[][]): string =>
    hex([...ls.flatMap((l) => [l.length, ...l]), 0]);
  return [
    wireOf(labels),
    wireOf(labels.slice(Math.max(0, labels.length - options.depth))),
    row.client === null ? null : hex(row.client.slice(0, 16)),
  ];
}

/** Reference lists: per list, key hex to count, in insertion order. */
type Lists = [Map<string, number>, Map<string, number>, Map<string, number>];

/** Counts `key` in `list`. */
function count(list: Map<string, number>, key: string): void {
  list.set(key, (list.get(key) ?? 0) + 1);
}

/**
 * `n` rows from the pools: each repeats the last row's name or client with
 * probability `repeat`, one in five is a response, and one in `distinct`
 * (if any) has a name of its own, so the lists fill.
 */
function rowsOf(
  seed: number,
  n: number,
  repeat: number,
  distinct = 0,
): Row[] {
  const rand = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const rows: Row[] = [];
  let name = NAMES[0]!;
  let client: number[] | null = CLIENTS[0]!;
  for (let i = 0; i < n; i++) {
    if (rand() >= repeat) name = pick(NAMES);
    if (rand() >= repeat) client = pick(CLIENTS);
    const own = distinct > 0 && rand() * distinct < 1;
    rows.push({
      type: rand() < 0.2 ? 6 : pick([1, 3, 5, 7, -1]),
      name: own ? wire(`n${i}.x${i % 7}.example`) : name[0],
      extra: own ? [] : name[1],
      client: own ? [10, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff] : client,
    });
  }
  return rows;
}

/** The engine's lists as the reference's: per list, [hex, count]. */
function listsOf(e: DnstapWindowEngine): [string, number][][] {
  return keyListsOf(e.keys).map((l) => l.map(([k, c]) => [k, c]));
}

/**
 * Feeds `rows` to both engines in windows of 1 to `most` frames, scans each
 * window (window w with options[w % options.length], the lists not emptied
 * when they change), and after every scan asserts both engines' lists
 * (hashes included) equal each other and the reference's; empties them
 * once full. Returns what was checked.
 */
function check(
  rows: Row[],
  options: KeyOptions | KeyOptions[],
  seed: number,
  most: number,
): { scans: number; clears: number; pointers: number; counted: number } {
  const ts = new TsDnstapWindowEngine(1 << 20);
  const wasm = new WasmDnstapWindowEngine(1 << 20);
  assert.equal(wasm.name, "wasm");
  const all = Array.isArray(options) ? options : [options];
  for (const e of [ts, wasm]) e.keys.clear();
  const rand = prng(seed);
  const ref: Lists = [new Map(), new Map(), new Map()];
  let scans = 0;
  let clears = 0;
  let pointers = 0;
  let counted = 0;
  let r = 0;
  for (let w = 0; r < rows.length; w++) {
    const o = all[w % all.length]!;
    ts.keyOptions = o;
    wasm.keyOptions = o;
    const k = Math.min(rows.length - r, 1 + Math.floor(rand() * most));
    const frames = rows.slice(r, r + k).map((row, j) => frame(row, r + j));
    const bytes = new Uint8Array(frames.reduce((s, f) => s + f.length, 0));
    let at = 0;
    for (const f of frames) {
      bytes.set(f, at);
      at += f.length;
    }
    ts.window.set(bytes);
    wasm.window.set(bytes);
    let pos = 0;
    for (;;) {
      const n = ts.scan(pos, bytes.length, 0xffff_ffff);
      assert.equal(wasm.scan(pos, bytes.length, 0xffff_ffff), n);
      scans++;
      for (let i = 0; i < ts.rows; i++) {
        const row = rows[r + i]!;
        const p = ts.columns.present[i]!;
        assert.ok((p & HAS_QUESTION) !== 0, "every row has a question");
        assert.equal((p & HAS_QUERY_ADDRESS) !== 0, row.client !== null);
        if ((p & HAS_QNAME_POINTER) !== 0) pointers++;
        const keys = keysOf(row, o);
        if (keys === null) continue;
        counted++;
        count(ref[0], keys[0]);
        count(ref[1], keys[1]);
        if (keys[2] !== null) count(ref[2], keys[2]);
      }
      r += ts.rows;
      const want = ref.map((l) => [...l]);
      assert.deepEqual(keyListsOf(wasm.keys), keyListsOf(ts.keys));
      assert.deepEqual(listsOf(ts), want);
      if (ts.keys.full) {
        ts.keys.clear();
        wasm.keys.clear();
        for (const l of ref) l.clear();
        clears++;
      }
      if (ts.out[0] !== STATUS_TABLE_FULL) break;
      pos = ts.out[1]!;
    }
  }
  return { scans, clears, pointers, counted };
}

const OPTIONS: KeyOptions[] = [
  { depth: 1, fold: true },
  { depth: 2, fold: true },
  { depth: 2, fold: false },
  { depth: 3, fold: false },
  { depth: 127, fold: true },
];

Deno.test("keys() and keysTs list a reference's keys and counts in order of first occurrence, keys repeating row after row", () => {
  for (const [s, options] of OPTIONS.entries()) {
    for (const repeat of [0, 0.5, 0.9]) {
      const seed = 1 + 10 * s + Math.round(10 * repeat);
      const got = check(rowsOf(seed, 3000, repeat), options, seed, 200);
      assert.ok(got.scans > 20, `${got.scans} scans`);
      assert.ok(got.pointers > 100, `${got.pointers} names with pointers`);
      assert.ok(got.counted > 2000, `${got.counted} rows counted`);
    }
  }
});

Deno.test("keys() and keysTs count a name repeated over many scans in one entry per list", () => {
  const rows: Row[] = [];
  for (let i = 0; i < 10_000; i++) {
    rows.push({
      type: 5,
      name: wire("www.example.com"),
      extra: [],
      client: [192, 0, 2, 1],
    });
  }
  const got = check(rows, { depth: 2, fold: true }, 7, 3000);
  assert.ok(got.scans >= 4, `${got.scans} scans`);
  assert.equal(got.counted, 10_000);
});

Deno.test("keys() and keysTs list a reference's keys when the options change between scans, the lists kept", () => {
  const got = check(rowsOf(5, 3000, 0.8), OPTIONS, 5, 100);
  assert.ok(got.scans > 40, `${got.scans} scans`);
});

Deno.test("keys() and keysTs list the same after the lists fill and are emptied", () => {
  const options = { depth: 2, fold: true };
  const got = check(rowsOf(99, 40_000, 0.7, 2), options, 99, 5000);
  assert.ok(got.clears >= 2, `${got.clears} clears`);
});
