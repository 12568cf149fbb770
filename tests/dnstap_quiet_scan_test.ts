// The quiet scan (`fstrm dnstap -q` on runs of frames): the WebAssembly
// engine against its TypeScript twin, step by step (statuses, positions,
// line counts, output bytes) on runs of real, random, mutated and cut
// records; and both, through quietRun with the object path for what they
// leave, against formatDnstapQuiet of every record.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeFrames } from "../mod.ts";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapQuiet,
} from "../src/dnstap.ts";
import {
  type QuietEngine,
  quietRun,
  TsQuietEngine,
  WasmQuietEngine,
} from "../src/_dnstap_quiet_engine.ts";
import {
  CLOCK_SLOTS,
  QS_BAD_RUN,
  QS_DONE,
  QS_FALLBACK,
  QS_LIMIT,
  QS_NEED_CLOCK,
  QS_OUT_FULL,
} from "../src/_dnstap_quiet_tables.ts";
import { DNSTAP_QUIET_WASM } from "../src/_dnstap_quiet_wasm_bytes.ts";
import { goLocalClock } from "../src/_go_time.ts";
import { rdataFields } from "../src/_dns_rdata_valid.ts";
import { dnstapArb } from "./_dnstap_arbitrary.ts";
import { mutate, prng, randomMessage } from "./_dns_random.ts";

const TEXT = new TextDecoder();

/** The frames as a run inside a window, `pad` bytes of 0xEE either side. */
function runOf(frames: Uint8Array[], pad = 5): [Uint8Array, number, number] {
  const size = frames.reduce((n, f) => n + 4 + f.length, 0);
  const window = new Uint8Array(pad + size + pad).fill(0xee);
  let p = pad;
  for (const f of frames) {
    new DataView(window.buffer).setUint32(p, f.length);
    window.set(f, p + 4);
    p += 4 + f.length;
  }
  return [window, pad, pad + size];
}

/** The object path: the line, or null (malformed, or Go prints nothing). */
function slow(bytes: Uint8Array): string | null {
  try {
    return formatDnstapQuiet(decodeDnstap(bytes));
  } catch {
    return null;
  }
}

/**
 * Drives both engines over the run in lockstep, asserting the same status,
 * results and output at every call; returns the statuses seen.
 */
function lockstep(
  window: Uint8Array,
  from: number,
  to: number,
  maxLines: number,
  engines: [QuietEngine, QuietEngine],
): Set<number> {
  const [a, b] = engines;
  a.load(window, from, to);
  b.load(window, from, to);
  const seen = new Set<number>();
  let pos = from;
  let left = maxLines;
  for (let calls = 0;; calls++) {
    assert.ok(calls < 100_000, "the scan makes no progress");
    const sa = a.scan(pos, left);
    const sb = b.scan(pos, left);
    seen.add(sa);
    const where = `run ${Array.from(window.subarray(from, to)).join(",")}`;
    assert.equal(sb, sa, `status at ${pos}: ${where}`);
    assert.deepEqual(
      Array.from(b.results.subarray(0, 3)),
      Array.from(a.results.subarray(0, 3)),
      `results at ${pos}: ${where}`,
    );
    assert.deepEqual(b.output(), a.output(), `output at ${pos}: ${where}`);
    left -= a.results[2]!;
    pos = a.results[0]!;
    if (sa === QS_NEED_CLOCK) {
      assert.equal(b.results[3], a.results[3]);
      const sec = a.results[3]!;
      a.setClock(sec, goLocalClock(sec));
      b.setClock(sec, goLocalClock(sec));
    } else if (sa === QS_FALLBACK) {
      pos += 4 + new DataView(window.buffer).getUint32(pos);
    } else if (sa !== QS_OUT_FULL) {
      if (sa === QS_DONE) assert.equal(pos, to);
      if (sa === QS_LIMIT) assert.equal(left, 0);
      return seen;
    }
    if (pos === to) return seen;
  }
}

/** quietRun's text with `engine`, the object path taking what it leaves. */
function runText(
  engine: QuietEngine,
  frames: Uint8Array[],
  maxLines = Infinity,
): { text: string; lines: number } {
  const [window, from, to] = runOf(frames);
  let text = "";
  let count = 0;
  const lines = quietRun(engine, window, from, to, maxLines, {
    lines(bytes, n) {
      text += TEXT.decode(bytes);
      count += n;
    },
    fallback(w, offset, length) {
      const line = slow(w.subarray(offset, offset + length));
      if (line === null) return false;
      text += line;
      count++;
      return true;
    },
  });
  assert.equal(lines, count);
  return { text, lines };
}

/** The reference: formatDnstapQuiet of every record, up to `maxLines`. */
function slowText(frames: Uint8Array[], maxLines = Infinity): string {
  let text = "";
  let n = 0;
  for (const f of frames) {
    if (n >= maxLines) break;
    const line = slow(f);
    if (line !== null) {
      text += line;
      n++;
    }
  }
  return text;
}

const CAPTURES = ["knot", "bind", "unbound", "dnsdist"];

async function captureRecords(name: string): Promise<Uint8Array[]> {
  const file = await Deno.readFile(
    new URL(`./data/dnstap/${name}.fstrm`, import.meta.url),
  );
  return [...decodeFrames(file)].flatMap((f) =>
    f.kind === "data" ? [f.data] : []
  );
}

Deno.test("WasmQuietEngine loads, from a module with no imports", () => {
  const module = new WebAssembly.Module(DNSTAP_QUIET_WASM);
  assert.equal(WebAssembly.Module.imports(module).length, 0);
  assert.equal(new WasmQuietEngine().name, "wasm");
});

Deno.test("quiet scan: both engines equal formatDnstapQuiet on the four captures in one run", async () => {
  const records = (await Promise.all(CAPTURES.map(captureRecords))).flat();
  const expected = slowText(records);
  for (const engine of [new TsQuietEngine(), new WasmQuietEngine()]) {
    const { text, lines } = runText(engine, records);
    assert.equal(lines, records.length, engine.name);
    assert.equal(text, expected, engine.name);
  }
  // In lockstep, repeated to 300 kB of text: the output fills (256 KiB)
  // and clocks are asked; nothing falls back.
  const times = Math.ceil(300_000 / expected.length);
  const [window, from, to] = runOf(
    Array.from({ length: times }, () => records).flat(),
  );
  const seen = lockstep(window, from, to, Infinity, [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ]);
  assert.ok(seen.has(QS_OUT_FULL) && seen.has(QS_NEED_CLOCK), [...seen].join());
  assert.ok(!seen.has(QS_FALLBACK));
});

Deno.test("quiet scan: the engines agree step by step on mutated, cut and random records (12,000 records)", async () => {
  const records = (await Promise.all(CAPTURES.map(captureRecords))).flat();
  const rand = prng(2026);
  const pick = () => records[Math.floor(rand() * records.length)]!;
  /** One record: real, DNS-mutated, protobuf-mutated, cut, or re-timed. */
  const record = (): Uint8Array => {
    const base = pick();
    const r = rand();
    if (r < 0.1) return base;
    if (r < 0.2) return base.subarray(0, Math.floor(rand() * base.length));
    if (r < 0.45) return mutate(base, rand);
    const d = decodeDnstap(base);
    const m = d.message;
    if (m === undefined) return mutate(base, rand);
    if (r < 0.55) {
      // Seconds that share clock slots, or none.
      const sec = rand() < 0.1
        ? undefined
        : 1_700_000_000 + Math.floor(rand() * 4) * CLOCK_SLOTS +
          Math.floor(rand() * 3);
      if (sec === undefined) {
        delete m.queryTimeSec;
        delete m.responseTimeSec;
      } else m.queryTimeSec = m.responseTimeSec = sec;
      return encodeDnstap(d);
    }
    if (r < 0.65 && (m.queryMessage || m.responseMessage)) {
      // The DNS message cut short.
      const cut = (b: Uint8Array) =>
        b.subarray(0, Math.floor(rand() * b.length));
      if (m.queryMessage) m.queryMessage = cut(m.queryMessage);
      if (m.responseMessage) m.responseMessage = cut(m.responseMessage);
      return encodeDnstap(d);
    }
    if (m.queryMessage) m.queryMessage = mutate(m.queryMessage, rand);
    if (m.responseMessage) m.responseMessage = mutate(m.responseMessage, rand);
    return encodeDnstap(d);
  };
  const engines: [QuietEngine, QuietEngine] = [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ];
  const seen = new Set<number>();
  let total = 0;
  while (total < 12_000) {
    const n = 1 + Math.floor(rand() * 60);
    const frames = Array.from({ length: n }, record);
    total += n;
    const limit = rand() < 0.2 ? Math.floor(rand() * n) : Infinity;
    const [window, from, to] = runOf(frames, Math.floor(rand() * 9));
    for (const s of lockstep(window, from, to, limit, engines)) seen.add(s);
    if (total % 5 === 0) {
      // And through quietRun, against the object path.
      const expected = slowText(frames, limit);
      for (const e of engines) {
        assert.equal(runText(e, frames, limit).text, expected, e.name);
      }
    }
  }
  for (const s of [QS_DONE, QS_NEED_CLOCK, QS_FALLBACK, QS_LIMIT]) {
    assert.ok(seen.has(s), `status ${s} never seen`);
  }
});

Deno.test("quiet scan: the engines agree on random records", () => {
  const engines: [QuietEngine, QuietEngine] = [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ];
  fc.assert(
    fc.property(
      fc.array(
        dnstapArb(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }),
            fc.integer({ min: 1, max: 2 ** 31 }).map((s) =>
              randomMessage(prng(s))
            ),
          ),
        ),
        { minLength: 1, maxLength: 8 },
      ),
      (ds) => {
        const frames = ds.map((d) => encodeDnstap(d));
        const [window, from, to] = runOf(frames);
        lockstep(window, from, to, Infinity, engines);
        const expected = slowText(frames);
        for (const e of engines) {
          assert.equal(runText(e, frames).text, expected);
        }
      },
    ),
    { numRuns: 500 },
  );
});

/**
 * Rdata built field by field from the type's schema, values near the edges
 * of what miekg checks (then cut or lengthened now and then).
 */
function rdataFor(type: number, rand: () => number): number[] {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)]!;
  const small = () => pick([0, 1, 2, 3, 4, 5, 16, 17, 32, 33, int(256)]);
  const out: number[] = [];
  for (const k of rdataFields(type)) {
    let v = 0;
    switch (k) {
      case 1:
      case 2:
      case 4:
      case 6:
      case 8:
        v = small();
        for (let i = 1; i < k; i++) out.push(0);
        out.push(v);
        break;
      case 10: // a name
        out.push(...pick([[0], [0xc0, 12], [1, 0x61, 0], [0x40], [3, 0x61]]));
        break;
      case 11: { // a string
        const n = small() % 8;
        out.push(n, ...Array.from({ length: n - int(2) }, () => 0x61));
        break;
      }
      case 12:
      case 13:
        for (let i = k === 12 ? 4 : 16; i > 0; i--) out.push(int(256));
        break;
      case 20:
      case 21:
      case 22:
        for (let i = small() % 20; i > 0; i--) out.push(int(256));
        break;
      case 23: // TXT
        for (let i = int(3); i >= 0; i--) out.push(3, 0x61, 0x62, 0x63);
        if (rand() < 0.3) out.push(5, 0x61);
        break;
      case 24: { // type bitmap
        let w = int(3);
        for (let i = int(3); i >= 0; i--) {
          const len = pick([0, 1, 2, 32, 33]);
          out.push(w, len, ...Array.from({ length: len }, () => int(256)));
          w += pick([1, 1, 0, -1]);
        }
        break;
      }
      case 25:
        out.push(1, 0x61, 0, 0xc0, 12);
        break;
      case 26: // APL
        for (let i = int(3); i >= 0; i--) {
          const family = pick([1, 1, 2, 2, 3]);
          const nlen = pick([0, 1, 4, 5, 16, 17, 0x81]);
          out.push(0, family, pick([0, 24, 32, 33, 128, 129]), nlen);
          for (let j = 0; j < (nlen & 0x7f); j++) {
            out.push(pick([0, 1, 0xff]));
          }
        }
        break;
      case 27: { // SVCB parameters
        let key = int(7);
        for (let i = int(3); i >= 0; i--) {
          const len = pick([0, 1, 2, 3, 4, 8, 16, 32]);
          out.push(0, key, 0, len);
          // An IPv4-mapped address half the time (key 6 refuses them).
          const mapped = rand() < 0.5;
          for (let j = 0; j < len; j++) {
            const m = j % 16;
            out.push(
              mapped ? (m === 10 || m === 11 ? 0xff : m < 10 ? 0 : 7) : 2,
            );
          }
          key += pick([1, 1, 2, 0]);
        }
        if (rand() < 0.1) out.push(0xff, 0xff, 0, 0);
        break;
      }
    }
  }
  const r = rand();
  if (r < 0.1) return out.slice(0, int(out.length + 1));
  if (r < 0.15) out.push(int(256));
  return out;
}

/** Types whose rdata miekg checks beyond lengths: named more often. */
const CHECKED_TYPES = [42, 64, 65, 47, 50, 51, 55, 62, 249, 250, 16, 35, 6];

/**
 * A response whose records have random rdata (bytes near the edges: 0, 1,
 * 2, 4, 16, 32, 255, pointers) of every type with a schema and some
 * without, and an OPT with the options whose lengths and values miekg
 * checks; counts that lie now and then.
 */
function edgyMessage(rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const edge = () =>
    [0, 1, 2, 3, 4, 16, 32, 33, 128, 255, 0xc0, int(256)][int(12)]!;
  const bytes = (n: number) => Array.from({ length: n }, edge);
  const u16 = (v: number) => [v >> 8, v & 0xff];
  const records: number[][] = [];
  const n = 1 + int(4);
  for (let i = 0; i < n; i++) {
    const type = rand() < 0.2
      ? 41
      : rand() < 0.5
      ? CHECKED_TYPES[int(CHECKED_TYPES.length)]!
      : rand() < 0.9
      ? int(262)
      : [
        32768,
        32769,
        65535,
        65400,
      ][int(4)]!;
    let rdata: number[];
    if (type === 41) {
      rdata = [];
      for (let k = int(4); k > 0; k--) {
        const code = [1, 2, 8, 9, 10, 11, 12, 15, int(65536)][int(9)]!;
        const len = [0, 1, 2, 3, 4, 5, 8, 17, 18, int(24)][int(10)]!;
        const data = code === 8 && len >= 4
          ? [0, int(4), ...bytes(len - 1)].slice(0, len)
          : bytes(len);
        rdata.push(...u16(code), ...u16(len), ...data);
      }
      if (rand() < 0.1) rdata.push(...bytes(1 + int(3)));
    } else if (rand() < 0.3) rdata = bytes(int(40));
    else rdata = rdataFor(type, rand);
    const name = rand() < 0.5 ? [0xc0, 12] : [0];
    records.push([
      ...name,
      ...u16(type),
      ...u16(rand() < 0.9 ? 1 : int(65536)),
      0,
      0,
      1,
      0,
      ...u16(rand() < 0.95 ? rdata.length : int(64)),
      ...rdata,
    ]);
  }
  const an = rand() < 0.9 ? n : int(n + 2);
  return new Uint8Array([
    ...[0x12, 0x34, 0x81, 0x80, 0, 1, ...u16(an), 0, 0, 0, 0],
    ...[1, 0x61, 0, 0, 16, 0, 1],
    ...records.flat(),
  ]);
}

Deno.test("quiet scan: the engines agree on the rdata and EDNS options miekg checks (20,000 messages)", () => {
  const rand = prng(4242);
  const engines: [QuietEngine, QuietEngine] = [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ];
  let x = 0;
  let lines = 0;
  for (let run = 0; run < 1000; run++) {
    const frames = Array.from({ length: 20 }, () =>
      encodeDnstap({
        type: "MESSAGE",
        message: {
          type: "CLIENT_RESPONSE",
          queryAddress: new Uint8Array(16),
          responseMessage: edgyMessage(rand),
        },
      }));
    const [window, from, to] = runOf(frames);
    lockstep(window, from, to, Infinity, engines);
    const text = runText(engines[1], frames).text;
    assert.equal(text, slowText(frames));
    lines += frames.length;
    x += text.split(" X \n").length - 1;
  }
  // Both kinds of line, many of each.
  assert.ok(x > 1000 && lines - x > 1000, `${x} of ${lines} lines with X`);
});

Deno.test("quiet scan: names at miekg's 255-octet limit, through pointers to the question's name and not", () => {
  /** Labels of `wire` octets in all (each label's length byte included). */
  const labels = (wire: number): number[] => {
    const out: number[] = [];
    while (wire > 0) {
      const n = Math.min(63, wire - 1);
      out.push(n, ...new Array<number>(n).fill(0x61));
      wire -= n + 1;
    }
    return out;
  };
  const frames: Uint8Array[] = [];
  for (const qwire of [0, 2, 100, 200, 253]) {
    for (const total of [253, 254, 255, 256]) {
      const prefix = total - qwire;
      if (prefix < 0 || prefix === 1) continue;
      const qname = [...labels(qwire), 0];
      // An owner name of `prefix` octets then a pointer to the question's
      // name, in the answer and in a CNAME's rdata; and the same in place.
      const pointed = [...labels(prefix), 0xc0, 12];
      const inPlace = [...labels(prefix), ...qname];
      for (const name of [pointed, inPlace]) {
        for (const inRdata of [false, true]) {
          const rr = inRdata
            ? [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, name.length, ...name]
            : [...name, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 192, 0, 2, 1];
          frames.push(encodeDnstap({
            type: "MESSAGE",
            message: {
              type: "CLIENT_RESPONSE",
              responseTimeSec: 1_700_000_000,
              responseMessage: new Uint8Array([
                ...[0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0],
                ...qname,
                ...[0, 1, 0, 1],
                ...rr,
              ]),
            },
          }));
        }
      }
    }
  }
  const engines: [QuietEngine, QuietEngine] = [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ];
  const [window, from, to] = runOf(frames);
  lockstep(window, from, to, Infinity, engines);
  const expected = slowText(frames);
  // Both kinds: names that unpack and names one octet too long.
  const x = expected.split(" X \n").length - 1;
  assert.ok(x > 10 && frames.length - x > 10, `${x} of ${frames.length}`);
  for (const e of engines) assert.equal(runText(e, frames).text, expected);
});

Deno.test("quiet scan: a run whose length word runs past its end is refused by both", async () => {
  const [record] = await captureRecords("knot");
  const [window, from, to] = runOf([record!, record!]);
  // The run cut one byte short of its second frame's end.
  const engines: [QuietEngine, QuietEngine] = [
    new TsQuietEngine(),
    new WasmQuietEngine(),
  ];
  const seen = lockstep(window, from, to - 1, Infinity, engines);
  assert.ok(seen.has(QS_BAD_RUN));
  for (const e of engines) {
    assert.throws(
      () =>
        quietRun(e, window, from, to - 1, Infinity, {
          lines() {},
          fallback: () => false,
        }),
      RangeError,
    );
    assert.throws(() => e.load(window, from, window.length + 1), RangeError);
  }
});

Deno.test("WasmQuietEngine scans a run longer than its input limit in TypeScript, with the same results", async () => {
  const records = await captureRecords("unbound");
  const frames = [...records, ...records];
  const expected = slowText(frames);
  // Runs of up to 8 frames (600 bytes each, on average; up to 58 kB):
  // most fit 16 KiB, some do not; both ways in one engine.
  const engine = new WasmQuietEngine(16_384);
  let fit = 0;
  for (let i = 0; i < frames.length; i += 8) {
    const part = frames.slice(i, i + 8);
    if (part.reduce((n, f) => n + 4 + f.length, 0) <= 16_384) fit++;
    assert.equal(runText(engine, part).text, slowText(part));
  }
  assert.ok(fit > 10 && fit < Math.ceil(frames.length / 8), `${fit} fit`);
  assert.equal(runText(engine, frames).text, expected);
  const [window, from, to] = runOf(frames.slice(0, 30));
  lockstep(window, from, to, Infinity, [
    new TsQuietEngine(),
    new WasmQuietEngine(2_000),
  ]);
});
