// Differential property: the WebAssembly and TypeScript dnstap scanners fill
// identical columns on every window, good or bad, and both agree with
// decodeDnstap + parseDnsMessage row by row (on one window in four: the
// references cost more than both scans). Windows mix real-server
// payloads from tests/data/dnstap/*.fstrm (whole, mutated, cut), random
// protobuf built field by field (known and unknown fields, wrong wire types,
// repeats that merge, overlong varints, policies) around real, mutated and
// random DNS messages, random bytes and control entries. Half the Messages
// built begin with the prefix the WebAssembly scanner reads straight, most
// of those go on with the ports and times in order (read straight too where
// 40 bytes are left): varints of 1 to 10 bytes, overlong ones, unexpected
// fields and wire types in between, messages cut 26 to 54 bytes after the
// prefix; the test counts those shapes and checks each occurs.
//
// The one-pass window engines (frame scan, dnstap scan and key lists of
// `fstrm top` in one call) run on the same bytes and must agree in every
// out word, table entry, column and key.
//
// Each case is one window drawn from a seeded PRNG (fast-check draws the
// seed, so a failure prints a seed that reproduces it). FSTRM_SEED=<n> sets
// the run's seed, FSTRM_PARITY_SCALE=<x> multiplies the number of cases.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  TsDnstapScanner,
  WasmDnstapScanner,
} from "../src/_dnstap_scan_engine.ts";
import { decodeDnstap } from "../src/dnstap.ts";
import {
  TsDnstapWindowEngine,
  WasmDnstapWindowEngine,
} from "../src/_dnstap_window_engine.ts";
import { HAS_OPT } from "../src/_dnstap_scan_layout.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";
import {
  expectedRow,
  frameTables,
  type Row,
  rowOf,
  rowsEqual,
  windowEnginesAgree,
} from "./_dnstap_scan.ts";
import { cases, SEED } from "./_parity_env.ts";

/** Windows per run. */
const CASES = cases(100_000);

// The real-server payloads and their DNS messages.
const PAYLOADS: Uint8Array[] = [];
const DNS: Uint8Array[] = [];
for (const name of ["knot", "bind", "unbound", "dnsdist"]) {
  const buf = Deno.readFileSync(
    new URL(`./data/dnstap/${name}.fstrm`, import.meta.url),
  );
  for (const table of frameTables(buf)) {
    for (let e = 0; e < table.length; e += 3) {
      if (table[e + 2] !== 0) continue;
      const p = buf.slice(table[e]! + 4, table[e]! + 4 + table[e + 1]!);
      PAYLOADS.push(p);
      const m = decodeDnstap(p).message;
      if (m?.queryMessage) DNS.push(m.queryMessage.slice());
      if (m?.responseMessage) DNS.push(m.responseMessage.slice());
    }
  }
}

type Rand = () => number;

/** A varint, sometimes overlong (padded with 0x80 bytes), as bytes. */
function varint(out: number[], v: number | bigint, rand: Rand): void {
  const start = out.length;
  if (typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    while (v >= 0x80) {
      out.push(v % 128);
      v = Math.floor(v / 128);
    }
    out.push(v);
  } else {
    let b = BigInt.asUintN(64, BigInt(v));
    do {
      out.push(Number(b & 0x7fn));
      b >>= 7n;
    } while (b > 0n);
  }
  if (rand() < 0.05) {
    for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
      if (out.length - start < 10) out.push(0);
    }
  }
  for (let k = start; k < out.length - 1; k++) out[k]! |= 0x80;
}

function tag(out: number[], field: number, wire: number, rand: Rand): void {
  varint(out, field * 8 + wire, rand);
}

function randomVarint(rand: Rand): number | bigint {
  const r = rand();
  if (r < 0.4) return Math.floor(rand() * 20);
  if (r < 0.7) return Math.floor(rand() * 2 ** 32);
  if (r < 0.8) return BigInt(-Math.floor(rand() * 2 ** 31));
  if (r < 0.9) return 1_700_000_000 + Math.floor(rand() * 1e8);
  return (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) |
    BigInt(Math.floor(rand() * 2 ** 32));
}

function randomBytes(rand: Rand, max: number): number[] {
  return Array.from(
    { length: Math.floor(rand() * max) },
    () => Math.floor(rand() * 256),
  );
}

/** A field of wire type `wire` with a random value. */
function field(out: number[], n: number, wire: number, rand: Rand): void {
  tag(out, n, wire, rand);
  switch (wire) {
    case 0:
      varint(out, randomVarint(rand), rand);
      break;
    case 1:
      out.push(...randomBytes(rand, 0), ...Array(8).fill(7));
      break;
    case 2: {
      const b = randomBytes(rand, 20);
      varint(out, b.length, rand);
      out.push(...b);
      break;
    }
    case 5:
      out.push(1, 2, 3, 4);
      break;
    default:
      break; // groups and 6, 7: no value
  }
}

function lenField(out: number[], n: number, body: number[], rand: Rand) {
  tag(out, n, 2, rand);
  varint(out, body.length, rand);
  out.push(...body);
}

/** The wire type each known Message field has (index = field number). */
const MESSAGE_WIRES = [0, 0, 0, 0, 2, 2, 0, 0, 0, 5, 2, 2, 0, 5, 2, 2, 0];
const POLICY_WIRES = [0, 2, 2, 0, 0, 2];
/** Message field 11 (query_zone) with a one-byte tag. */
const T11_LEN = 11 << 3 | 2;

/** A DNS message: real, mutated, random or random bytes. */
function dnsMessage(rand: Rand): number[] {
  const r = rand();
  const real = DNS[Math.floor(rand() * DNS.length)]!;
  if (r < 0.3) return [...real];
  if (r < 0.65) return [...mutate(real, rand)];
  if (r < 0.8) {
    const m = randomMessage(rand);
    return [...(rand() < 0.5 ? mutate(m, rand) : m)];
  }
  return randomBytes(rand, 15);
}

function wireFor(known: number | undefined, rand: Rand): number {
  if (known !== undefined && rand() < 0.99) return known;
  if (known === undefined && rand() < 0.9) {
    return [0, 1, 2, 5][Math.floor(rand() * 4)]!; // an unknown field
  }
  return [0, 1, 2, 3, 4, 5, 6, 7][Math.floor(rand() * 8)]!;
}

function policy(rand: Rand): number[] {
  const out: number[] = [];
  for (let k = Math.floor(rand() * 4); k > 0; k--) {
    const n = rand() < 0.9
      ? 1 + Math.floor(rand() * 5)
      : 6 + Math.floor(rand() * 30);
    field(out, n, wireFor(POLICY_WIRES[n], rand), rand);
  }
  return out;
}

/**
 * A varint of `n` bytes (1 to 10) holding `v` (below 2^64): padded with
 * 0x80 bytes and a last 0x00 where `v` needs fewer (an overlong varint),
 * and where `v` needs more, its low 7n bits (a 10th byte above 1 now and
 * then: more than 64 bits).
 */
function varintOf(out: number[], v: bigint, n: number, rand: Rand): void {
  const start = out.length;
  for (let k = 0; k < n; k++) {
    out.push(Number(v & 0x7fn));
    v >>= 7n;
  }
  if (n === 10 && rand() < 0.1) out[start + 9] = Math.floor(rand() * 0x80);
  for (let k = start; k < out.length - 1; k++) out[k]! |= 0x80;
}

/** A value of at most `bits` bits, small ones often (for padding). */
function valueOf(bits: number, rand: Rand): bigint {
  const b = rand() < 0.25 ? Math.floor(rand() * 8) : bits;
  let v = 0n;
  for (let k = 0; k < b; k += 16) {
    v = v << 16n | BigInt(Math.floor(rand() * 0x10000));
  }
  return BigInt.asUintN(Math.min(b, 64), v);
}

/**
 * A varint field of one-byte tag `t`: half the time of 1 to `short`
 * bytes, else of 1 to 10 (9 or 10 more often).
 */
function tailVarint(out: number[], t: number, short: number, rand: Rand) {
  out.push(t);
  const r = rand();
  const n = r < 0.5
    ? 1 + Math.floor(rand() * short)
    : r < 0.9
    ? 1 + Math.floor(rand() * 10)
    : 9 + Math.floor(rand() * 2);
  varintOf(out, valueOf(Math.min(7 * n, 64), rand), n, rand);
}

/** Something the ordered tail does not expect where it stands. */
function unexpected(out: number[], rand: Rand): void {
  const r = rand();
  if (r < 0.3) {
    // Another field, its own wire type or another.
    const n = [1, 2, 3, 4, 5, 10, 11, 14, 15, 16, 17, 20, 100][
      Math.floor(rand() * 13)
    ]!;
    field(out, n, wireFor(MESSAGE_WIRES[n], rand), rand);
  } else if (r < 0.55) {
    // A field of the tail with another wire type.
    const n = [6, 7, 8, 9, 12, 13][Math.floor(rand() * 6)]!;
    field(out, n, [0, 1, 2, 5][Math.floor(rand() * 4)]!, rand);
  } else if (r < 0.75) {
    // A field of the tail with a two-byte tag (0x80 | t, 0x00).
    const n = [6, 7, 8, 12][Math.floor(rand() * 4)]!;
    out.push(0x80 | n << 3, 0);
    varintOf(out, valueOf(32, rand), 5, rand);
  } else if (r < 0.9) {
    // A field of the tail out of order (repeated: the last one wins).
    const n = [6, 7, 8, 9, 12, 13][Math.floor(rand() * 6)]!;
    if (n === 9 || n === 13) {
      out.push(n << 3 | 5, ...randomBytes(rand, 0), 9, 8, 7, 6);
    } else tailVarint(out, n << 3, n < 8 ? 3 : 5, rand);
  } else out.push(Math.floor(rand() * 256)); // any byte
}

/**
 * The ports and times in order (fields 6, 7, 8, 9, 12, 13, each mostly
 * there) as the WebAssembly scanner reads them straight after the prefix:
 * varints of 1 to 10 bytes (ports mostly up to 3, times up to 5),
 * fixed32 nanoseconds, now and then something unexpected in between.
 */
function orderedTail(out: number[], rand: Rand): void {
  // One in four: all six, ports of 3 bytes, times of 6 to 8 (the most the
  // straight read takes: 31 to 36 bytes, where messages cut after 26 to 54
  // bytes tell whether it reads past the end).
  const full = rand() < 0.25;
  const odd = !full && rand() < 0.3 ? Math.floor(rand() * 7) : -1;
  const fields = [6, 7, 8, 9, 12, 13];
  for (let k = 0; k <= fields.length; k++) {
    if (k === odd) unexpected(out, rand);
    const n = fields[k];
    if (n === undefined || (!full && rand() < 0.1)) continue;
    if (n === 9 || n === 13) {
      out.push(n << 3 | 5);
      for (let b = 0; b < 4; b++) out.push(Math.floor(rand() * 256));
    } else if (full) {
      out.push(n << 3);
      const bytes = n < 8 ? 3 : rand() < 0.5 ? 8 : 6 + Math.floor(rand() * 2);
      varintOf(out, valueOf(7 * bytes, rand), bytes, rand);
    } else tailVarint(out, n << 3, n < 8 ? 3 : 5, rand);
  }
}

function message(rand: Rand): number[] {
  const out: number[] = [];
  // type first, mostly; then a random selection of the other fields.
  if (rand() < 0.5) {
    // The shape most real messages begin with (the WebAssembly scanner
    // reads it straight): type, socket family and protocol with one-byte
    // tags and values (a value of two bytes now and then), then both
    // addresses of 4 or 16 bytes (now and then another length). A dnstap
    // of two messages merges them: a 4-byte address over a 16-byte one.
    for (const n of [1, 2, 3]) {
      out.push(n << 3, Math.floor(rand() * (rand() < 0.9 ? 0x80 : 0x100)));
    }
    for (const n of [4, 5]) {
      const len = rand() < 0.9
        ? (rand() < 0.5 ? 4 : 16)
        : Math.floor(rand() * 20);
      out.push(n << 3 | 2, len);
      for (let k = 0; k < len; k++) out.push(Math.floor(rand() * 256));
    }
    // Mostly the ordered tail next (read straight where at least 40 bytes
    // are left after the prefix). The message then ends 40 bytes after the
    // prefix give or take 14 (cut, or filled with a zone) or in the tail's
    // last bytes, or anywhere in the tail, or goes on with random fields.
    if (rand() < 0.7) {
      const at = out.length;
      orderedTail(out, rand);
      const r = rand();
      if (r < 0.4) {
        // Half the time in its last 6 bytes (a whole tail cut there ends
        // 30 to 35 bytes after the prefix, inside what is read straight).
        const end = rand() < 0.5
          ? at + 26 + Math.floor(rand() * 29)
          : Math.max(at, out.length - 1 - Math.floor(rand() * 6));
        if (out.length + 2 <= end && rand() < 0.8) {
          out.push(T11_LEN, end - out.length - 2);
          while (out.length < end) out.push(Math.floor(rand() * 256));
        }
        out.length = Math.min(out.length, end);
        return out;
      }
      if (r < 0.55) {
        out.length = at + Math.floor(rand() * (out.length - at + 1));
        return out;
      }
    }
  } else if (rand() < 0.97) {
    tag(out, 1, wireFor(0, rand), rand);
    varint(
      out,
      rand() < 0.9 ? 1 + Math.floor(rand() * 14) : Math.floor(rand() * 40) - 5,
      rand,
    );
  }
  for (let k = Math.floor(rand() * 10); k > 0; k--) {
    const n = rand() < 0.93
      ? 2 + Math.floor(rand() * 15)
      : 17 + Math.floor(rand() * 200);
    const wire = wireFor(MESSAGE_WIRES[n], rand);
    if ((n === 10 || n === 14) && wire === 2) {
      lenField(out, n, dnsMessage(rand), rand);
    } else if (n === 15 && wire === 2) lenField(out, n, policy(rand), rand);
    else if (n === 4 || n === 5) {
      tag(out, n, wire, rand);
      const len = rand() < 0.8
        ? (rand() < 0.5 ? 4 : 16)
        : Math.floor(rand() * 20);
      varint(out, len, rand);
      out.push(
        ...randomBytes(rand, 0),
        ...Array.from({ length: len }, () => Math.floor(rand() * 256)),
      );
    } else field(out, n, wire, rand);
  }
  return out;
}

/** A Dnstap payload built field by field. */
function dnstap(rand: Rand): number[] {
  const out: number[] = [];
  const parts = Math.floor(rand() * 5) + 1;
  const typeAt = rand() < 0.97 ? Math.floor(rand() * parts) : -1;
  for (let k = 0; k < parts; k++) {
    if (k === typeAt) {
      tag(out, 15, wireFor(0, rand), rand);
      varint(out, rand() < 0.9 ? 1 : Math.floor(rand() * 5) - 1, rand);
    }
    const r = rand();
    if (r < 0.5) lenField(out, 14, message(rand), rand);
    else if (r < 0.6) {
      tag(out, 15, wireFor(0, rand), rand);
      varint(out, rand() < 0.9 ? 1 : Math.floor(rand() * 5) - 1, rand);
    } else if (r < 0.85) {
      const n = 1 + Math.floor(rand() * 3);
      field(out, n, wireFor(2, rand), rand);
    } else {
      // An unknown field (4 .. 13, 16 ..), or a known one with any wire.
      const n = 4 + Math.floor(rand() * 40);
      field(out, n, wireFor(n < 14 || n > 15 ? undefined : 2, rand), rand);
    }
  }
  return out;
}

/** One frame payload. */
function payload(rand: Rand): Uint8Array {
  const r = rand();
  const real = PAYLOADS[Math.floor(rand() * PAYLOADS.length)]!;
  if (r < 0.15) return real;
  if (r < 0.4) return mutate(real, rand);
  if (r < 0.5) return real.subarray(0, Math.floor(rand() * real.length));
  if (r < 0.9) {
    const p = Uint8Array.from(dnstap(rand));
    return rand() < 0.3 ? mutate(p, rand) : p;
  }
  return Uint8Array.from(randomBytes(rand, 40));
}

// A pool of payloads from the generators above, drawn once per run: most
// frames of a window come from it, through a cheap mutation half the time,
// so that a run of 100,000 windows stays within seconds; one frame in ten is
// drawn fresh.
const POOL: Uint8Array[] = [];
{
  const rand = prng(SEED ^ 0x5ca7);
  for (let k = 0; k < 8000; k++) POOL.push(payload(rand));
}

/** A copy of `p` with one to three bytes set, or cut short. */
function cheapMutate(p: Uint8Array, rand: Rand): Uint8Array {
  if (p.length === 0) return p;
  if (rand() < 0.2) return p.subarray(0, Math.floor(rand() * p.length));
  const m = p.slice();
  for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
    const at = Math.floor(rand() * m.length);
    const r = rand();
    m[at] = r < 0.4
      ? Math.floor(rand() * 256)
      : r < 0.8
      ? Math.floor(rand() * 16)
      : 0x80 | m[at]!;
  }
  return m;
}

/** A window of frames: the buffer (a view at a random offset) and table. */
function windowOf(seed: number): [Uint8Array, Uint32Array, number] {
  const rand = prng(seed);
  const n = 1 + Math.floor(rand() * 6);
  const frames: Uint8Array[] = [];
  const kinds: number[] = [];
  for (let k = 0; k < n; k++) {
    const r = rand();
    if (r < 0.05) {
      frames.push(Uint8Array.of(0, 0, 0, 4, 0, 0, 0, 3));
      kinds.push(2 + Math.floor(rand() * 5));
      continue;
    }
    kinds.push(0);
    if (r < 0.15) frames.push(payload(rand));
    else {
      const p = POOL[Math.floor(rand() * POOL.length)]!;
      frames.push(rand() < 0.5 ? p : cheapMutate(p, rand));
    }
  }
  const lead = Math.floor(rand() * 4);
  const size = frames.reduce((s, f) => s + 4 + f.length, lead + 3);
  const backing = new Uint8Array(size + 2);
  const buf = backing.subarray(2);
  const table = new Uint32Array(n * 3);
  let at = lead;
  for (let k = 0; k < n; k++) {
    const f = frames[k]!;
    table[k * 3] = at;
    if (kinds[k] === 0) {
      new DataView(buf.buffer, buf.byteOffset).setUint32(at, f.length);
      buf.set(f, at + 4);
      table[k * 3 + 1] = f.length;
      at += 4 + f.length;
    } else {
      buf.set(f, at);
      table[k * 3 + 1] = 4;
      table[k * 3 + 2] = kinds[k]!;
      at += f.length;
    }
  }
  return [buf, table, n];
}

/** The varint at `at` in `p` and the position after it, or -1. */
function readVarint(p: Uint8Array, at: number): [number, number] {
  let v = 0;
  for (let k = 0; k < 10 && at < p.length; k++) {
    const b = p[at++]!;
    if (k < 7) v += (b & 0x7f) * 2 ** (7 * k);
    if (b < 0x80) return [v, at];
  }
  return [0, -1];
}

/**
 * The bytes left after the prefix of each Message in a Dnstap payload
 * whose prefix the WebAssembly scanner reads straight and whose next byte
 * is a tag of the ordered tail (it reads the tail straight from 40 on).
 */
function tailsLeft(p: Uint8Array, lefts: number[]): void {
  let at = 0;
  while (at < p.length) {
    const [t, a] = readVarint(p, at);
    if (a < 0) return;
    at = a;
    const wire = t & 7;
    if (wire === 0) at = readVarint(p, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [n, b] = readVarint(p, at);
      if (b < 0 || b + n > p.length) return;
      if (t === 0x72) {
        const left = tailLeft(p, b, b + n);
        if (left >= 0) lefts.push(left);
      }
      at = b + n;
    } else return;
    if (at < 0) return;
  }
}

/** tailsLeft for one Message at [s, end), or -1. */
function tailLeft(p: Uint8Array, s: number, end: number): number {
  if (
    s + 8 > end || p[s] !== 0x08 || p[s + 1]! >= 0x80 || p[s + 2] !== 0x10 ||
    p[s + 3]! >= 0x80 || p[s + 4] !== 0x18 || p[s + 5]! >= 0x80
  ) return -1;
  let q = s + 6;
  if (q + 12 <= end && p[q] === 0x22 && p[q + 1] === 4) {
    if (p[q + 6] === 0x2a && p[q + 7] === 4) q += 12;
  } else if (q + 36 <= end && p[q] === 0x22 && p[q + 1] === 16) {
    if (p[q + 18] === 0x2a && p[q + 19] === 16) q += 36;
  }
  if (![0x30, 0x38, 0x40, 0x4d, 0x60, 0x6d].includes(p[q]!)) return -1;
  if (q + 40 <= end) tailShape(p, q, end);
  return end - q;
}

/**
 * What the straight read of the ordered tail at q meets, counted in
 * SHAPES: each varint's field and bytes (`8:5`: field 8 in 5 bytes), and
 * the last field read in order before it hands over (`after 9`).
 */
function tailShape(p: Uint8Array, q: number, end: number): void {
  const count = (s: string) => SHAPES.set(s, (SHAPES.get(s) ?? 0) + 1);
  let last = 0;
  for (const n of [6, 7, 8, 9, 12, 13]) {
    if (q >= end) break;
    if (n === 9 || n === 13) {
      if (p[q] !== (n << 3 | 5)) continue;
      q += 5;
    } else {
      if (p[q] !== n << 3) continue;
      let k = 1;
      while (k < 11 && q + k < end && p[q + k]! >= 0x80) k++;
      count(`${n}:${k}`);
      q += 1 + k;
    }
    last = n;
  }
  if (q < end) count(`after ${last}`);
}

/** Shapes of ordered tails read straight (tailShape). */
const SHAPES = new Map<string, number>();

/** The rows' values are equal (a fast check before deepEqual's report). */
function sameRow(a: Row, b: Row): boolean {
  for (const k in b) if (!Object.is(a[k], b[k])) return false;
  return Object.keys(a).length === Object.keys(b).length;
}

Deno.test(`scanDnstap engines give identical columns on ${CASES} random and mutated windows, equal to the references`, () => {
  const ts = new TsDnstapScanner();
  const wasm = new WasmDnstapScanner();
  assert.equal(wasm.name, "wasm");
  const tsWindow = new TsDnstapWindowEngine(1 << 20);
  const wasmWindow = new WasmDnstapWindowEngine(1 << 20);
  let oneWindow = 0;
  let names = 0;
  const statuses = new Map<number, number>();
  let opts = 0;
  // Bytes left after the prefix of messages with an ordered tail.
  const lefts: number[] = [];
  fc.assert(
    fc.property(fc.integer(), (seed) => {
      const [buf, table, n] = windowOf(seed);
      ts.scan(buf, table, n);
      wasm.scan(buf, table, n);
      // The one-pass engines on the same bytes, with key lists (names cut
      // to 1 to 3 labels, case folded or not), or without on one in four.
      const bytes = buf.subarray(table[0]!);
      oneWindow += windowEnginesAgree(
        tsWindow,
        wasmWindow,
        bytes,
        (seed & 3) === 1 ? null : {
          depth: 1 + (seed >>> 2 & 1) + (seed >>> 3 & 1),
          fold: (seed & 16) === 0,
        },
      );
      names += tsWindow.keyOptions === null ? 0 : tsWindow.keys.counts[0]!;
      for (let i = 0; i < n; i++) {
        if (table[i * 3 + 2] === 0) {
          const at = table[i * 3]! + 4;
          tailsLeft(buf.subarray(at, at + table[i * 3 + 1]!), lefts);
        }
        if (ts.columns.present[i]! & HAS_OPT) opts++;
        const s = ts.columns.status[i]!;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      if (!rowsEqual(ts.columns, wasm.columns, n)) {
        for (let i = 0; i < n; i++) {
          assert.deepEqual(
            rowOf(wasm.columns, i),
            rowOf(ts.columns, i),
            `row ${i}`,
          );
        }
      }
      // The references (slower: objects, exceptions) on one window in four.
      if ((seed & 3) !== 0) return;
      for (let i = 0; i < n; i++) {
        const got = rowOf(ts.columns, i);
        const want = expectedRow(buf, table, i, got);
        if (!sameRow(got, want)) assert.deepEqual(got, want, `row ${i}`);
      }
    }),
    { seed: SEED, numRuns: CASES },
  );
  assert.ok(opts > CASES / 10, `${opts} rows with an OPT record`);
  assert.ok(
    oneWindow > CASES,
    `${oneWindow} rows through the one-pass engines`,
  );
  // The ordered tail, read straight (40 bytes or more left) or not, at
  // every count of bytes left near 40.
  const straight = lefts.filter((l) => l >= 40).length;
  console.log("ordered tails", lefts.length, "read straight", straight);
  assert.ok(straight > CASES / 2, `${straight} tails read straight`);
  for (let l = 26; l <= 54; l++) {
    const c = lefts.filter((x) => x === l).length;
    assert.ok(c > CASES / 1000, `${c} tails with ${l} bytes left`);
  }
  // Ports of 1 to 4 bytes (the straight read takes 3), times of 1 to 10
  // (it takes 8), and a hand-over after each field.
  const shapes = [
    ...[6, 7].flatMap((n) => [1, 2, 3, 4].map((k) => `${n}:${k}`)),
    ...[8, 12].flatMap((n) =>
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => `${n}:${k}`)
    ),
    ...[6, 7, 8, 9, 12, 13].map((n) => `after ${n}`),
  ];
  for (const s of shapes) {
    const c = SHAPES.get(s) ?? 0;
    assert.ok(c > CASES / 1000, `${c} ordered tails read straight with ${s}`);
  }
  // Every status occurs, each often enough to mean something.
  console.log("statuses", [...statuses].sort());
  for (let s = 0; s <= 4; s++) {
    assert.ok(
      (statuses.get(s) ?? 0) > CASES / 100,
      `status ${s}: ${statuses.get(s)}`,
    );
  }
});
