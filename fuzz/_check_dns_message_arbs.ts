// Private: the inputs of the dns-message fuzz target. A small DNS message
// writer (names compressed against every suffix written before, as servers
// do; rdata of the types miekg/dns prints specially, and of types it does
// not know; EDNS with its common options), valid queries and responses built
// with it, pointer bombs (names grown through pointers to 63-byte labels,
// pointer chains around miekg's limit of 126), then mutated: cut, counts
// that lie, pointer loops, pointers anywhere, bytes set, flipped, inserted,
// dropped.
import fc from "fast-check";

/** A DNS message under construction. */
class Writer {
  bytes: number[] = [];
  /** Offsets of name suffixes written so far (key: labels as hex). */
  #names = new Map<string, number>();

  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.bytes.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v);
  }
  raw(b: ArrayLike<number>): void {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]!);
  }
  /** A length-prefixed character string (cut at 255 bytes). */
  str(b: Uint8Array): void {
    const s = b.subarray(0, 255);
    this.u8(s.length);
    this.raw(s);
  }
  /** A name; with `compress`, a pointer to the longest suffix written. */
  name(labels: Uint8Array[], compress: boolean): void {
    for (let i = 0; i < labels.length; i++) {
      const key = labels.slice(i).map(hex).join(".");
      const at = this.#names.get(key);
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.bytes.length < 0x4000) this.#names.set(key, this.bytes.length);
      const label = labels[i]!.subarray(0, 63);
      this.u8(label.length);
      this.raw(label);
    }
    this.u8(0);
  }
  /** Writes a 16-bit length, then what `body` writes, then patches it. */
  sized(body: () => void): void {
    const at = this.bytes.length;
    this.u16(0);
    body();
    const n = this.bytes.length - at - 2;
    this.bytes[at] = (n >>> 8) & 0xff;
    this.bytes[at + 1] = n & 0xff;
  }
}

const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A label: common words, escapes (dot, backslash, quote, space, bytes). */
const labelArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "www",
      "example",
      "com",
      "org",
      "mail",
      "ns1",
      "a",
      "_tcp",
      "_443",
      "xn--bcher-kva",
      "*",
      "EXAMPLE",
    ).map(ascii),
  },
  fc.constantFrom("a.b", "back\\slash", 'q"uote', "sp ace", "(", ")", ";", "@")
    .map(ascii),
  fc.uint8Array({ minLength: 1, maxLength: 12 }),
  fc.constant(new Uint8Array(63).fill(0x61)),
);
const nameArb: fc.Arbitrary<Uint8Array[]> = fc.array(labelArb, {
  maxLength: 5,
});

/** A type bitmap (NSEC, NSEC3, CSYNC): windows in order, as servers write. */
const bitmapArb: fc.Arbitrary<number[]> = fc.uniqueArray(
  fc.oneof(
    fc.constantFrom(1, 2, 5, 6, 15, 16, 28, 33, 43, 46, 47, 48, 50, 65, 257),
    fc.integer({ min: 0, max: 65_535 }),
  ),
  { maxLength: 8 },
).map((types) => {
  const out: number[] = [];
  const windows = new Map<number, number[]>();
  for (const t of types.sort((a, b) => a - b)) {
    const w = windows.get(t >> 8) ?? [];
    const bit = t & 0xff;
    while (w.length <= bit >> 3) w.push(0);
    w[bit >> 3]! |= 0x80 >> (bit & 7);
    windows.set(t >> 8, w);
  }
  for (const [window, bits] of windows) out.push(window, bits.length, ...bits);
  return out;
});

const bytesArb = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ maxLength: max });
const u16Arb = fc.integer({ min: 0, max: 65_535 });
const u32Arb = fc.oneof(
  fc.nat(86_400),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
);

/** SVCB/HTTPS parameters: key, then value bytes. */
const svcParamArb: fc.Arbitrary<[number, number[]]> = fc.oneof(
  fc.array(fc.constantFrom("h2", "h3", "http/1.1", "a,b", 'x"y'), {
    minLength: 1,
    maxLength: 3,
  }).map((
    ids,
  ): [number, number[]] => [1, ids.flatMap((id) => [id.length, ...ascii(id)])]),
  u16Arb.map((port): [number, number[]] => [3, [port >> 8, port & 0xff]]),
  fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), {
    minLength: 1,
    maxLength: 2,
  }).map((a): [number, number[]] => [4, a.flatMap((x) => [...x])]),
  fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), {
    minLength: 1,
    maxLength: 2,
  }).map((a): [number, number[]] => [6, a.flatMap((x) => [...x])]),
  fc.constant<[number, number[]]>([2, []]),
  fc.constant<[number, number[]]>([0, [0, 1, 0, 4]]),
  fc.tuple(fc.integer({ min: 5, max: 65_535 }), bytesArb(8)).map((
    [k, v],
  ): [number, number[]] => [k, [...v]]),
);

/** One record's type and a writer of its rdata. */
type Rdata = [number, (w: Writer) => void];

const rdataArb: fc.Arbitrary<Rdata> = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((
    b,
  ): Rdata => [1, (w) => w.raw(b)]),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((
    b,
  ): Rdata => [28, (w) => w.raw(b)]),
  fc.tuple(fc.constantFrom(2, 5, 12, 39), nameArb).map((
    [t, n],
  ): Rdata => [t, (w) => w.name(n, true)]),
  fc.tuple(u16Arb, nameArb).map(([p, n]): Rdata => [15, (w) => {
    w.u16(p);
    w.name(n, true);
  }]),
  fc.tuple(nameArb, nameArb, fc.array(u32Arb, { minLength: 5, maxLength: 5 }))
    .map(([a, b, v]): Rdata => [6, (w) => {
      w.name(a, true);
      w.name(b, true);
      v.forEach((x) => w.u32(x));
    }]),
  fc.tuple(
    fc.constantFrom(16, 99, 13),
    fc.array(bytesArb(40), { minLength: 1, maxLength: 3 }),
  )
    .map(([t, ss]): Rdata => [t, (w) => ss.forEach((s) => w.str(s))]),
  fc.tuple(u16Arb, u16Arb, u16Arb, nameArb).map((
    [a, b, c, n],
  ): Rdata => [33, (w) => {
    w.u16(a);
    w.u16(b);
    w.u16(c);
    w.name(n, false);
  }]),
  fc.tuple(fc.nat(255), fc.constantFrom("issue", "iodef", "x"), bytesArb(30))
    .map(([f, tag, v]): Rdata => [257, (w) => {
      w.u8(f);
      w.str(ascii(tag));
      w.raw(v);
    }]),
  fc.tuple(
    fc.constantFrom(43, 59, 32769),
    u16Arb,
    fc.nat(255),
    fc.nat(4),
    bytesArb(48),
  )
    .map(([t, tag, alg, dt, d]): Rdata => [t, (w) => {
      w.u16(tag);
      w.u8(alg);
      w.u8(dt);
      w.raw(d);
    }]),
  fc.tuple(
    fc.constantFrom(48, 60, 25),
    u16Arb,
    fc.nat(255),
    fc.nat(255),
    bytesArb(64),
  )
    .map(([t, f, p, a, k]): Rdata => [t, (w) => {
      w.u16(f);
      w.u8(p);
      w.u8(a);
      w.raw(k);
    }]),
  fc.tuple(
    u16Arb,
    fc.nat(255),
    fc.nat(255),
    u32Arb,
    u32Arb,
    u32Arb,
    u16Arb,
    nameArb,
    bytesArb(64),
  )
    .map(([tc, alg, l, ttl, ex, inc, tag, n, sig]): Rdata => [46, (w) => {
      w.u16(tc);
      w.u8(alg);
      w.u8(l);
      w.u32(ttl);
      w.u32(ex);
      w.u32(inc);
      w.u16(tag);
      w.name(n, false);
      w.raw(sig);
    }]),
  fc.tuple(nameArb, bitmapArb).map(([n, bm]): Rdata => [47, (w) => {
    w.name(n, false);
    w.raw(bm);
  }]),
  fc.tuple(
    fc.nat(255),
    fc.nat(255),
    u16Arb,
    bytesArb(8),
    bytesArb(20),
    bitmapArb,
    fc.boolean(),
  )
    .map(([h, f, it, salt, hash, bm, param]): Rdata =>
      param
        ? [51, (w) => {
          w.u8(h);
          w.u8(f);
          w.u16(it);
          w.str(salt);
        }]
        : [50, (w) => {
          w.u8(h);
          w.u8(f);
          w.u16(it);
          w.str(salt);
          w.str(hash);
          w.raw(bm);
        }]
    ),
  fc.tuple(
    fc.constantFrom(52, 53, 44),
    fc.nat(255),
    fc.nat(255),
    fc.nat(255),
    bytesArb(32),
  )
    .map(([t, a, b, c, d]): Rdata => [t, (w) => {
      w.u8(a);
      w.u8(b);
      if (t !== 44) w.u8(c);
      w.raw(d);
    }]),
  fc.tuple(u16Arb, u16Arb, bytesArb(3), bytesArb(12), bytesArb(20), nameArb)
    .map(([o, p, f, s, r, n]): Rdata => [35, (w) => {
      w.u16(o);
      w.u16(p);
      w.str(f);
      w.str(s);
      w.str(r);
      w.name(n, false);
    }]),
  fc.tuple(
    fc.constantFrom(64, 65),
    u16Arb,
    nameArb,
    fc.uniqueArray(svcParamArb, {
      maxLength: 4,
      selector: (p) => p[0],
    }),
  ).map(([t, prio, n, params]): Rdata => [t, (w) => {
    w.u16(prio);
    w.name(n, false);
    for (const [k, v] of params.sort((a, b) => a[0] - b[0])) {
      w.u16(k);
      w.u16(v.length);
      w.raw(v);
    }
  }]),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((
    b,
  ): Rdata => [29, (w) => w.raw(b)]),
  // Any type, known to miekg or not (RFC 3597), with any bytes.
  fc.tuple(fc.oneof(fc.integer({ min: 0, max: 300 }), u16Arb), bytesArb(24))
    .map(([t, b]): Rdata => [t === 41 ? 42 : t, (w) => w.raw(b)]),
);

/** An EDNS option: code, then data. */
const ednsOptionArb: fc.Arbitrary<[number, number[]]> = fc.oneof(
  bytesArb(12).map((b): [number, number[]] => [3, [...b]]), // NSID
  fc.tuple(
    fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2) }, fc.nat(3)),
    fc.nat(128),
    fc.nat(128),
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
  ).map(([family, n, m, a]): [number, number[]] => {
    const max = family === 1 ? 32 : 128;
    const src = n % (max + 1);
    const scope = m % (max + 1);
    return [8, [0, family, src, scope, ...a.subarray(0, Math.ceil(src / 8))]];
  }), // client subnet
  fc.oneof(
    fc.uint8Array({ minLength: 8, maxLength: 8 }),
    fc.uint8Array({ minLength: 16, maxLength: 40 }),
  ).map((b): [number, number[]] => [10, [...b]]), // cookie
  fc.nat(40).map((n): [number, number[]] => [12, new Array(n).fill(0)]), // padding
  fc.tuple(u16Arb, bytesArb(20)).map(([code, t]): [number, number[]] => [
    15,
    [code >> 8, code & 0xff, ...t],
  ]), // extended error
  fc.tuple(fc.constantFrom(5, 6, 7, 9, 11, 13, 14), bytesArb(6)).map((
    [c, b],
  ): [number, number[]] => [c, [...b]]),
  fc.tuple(u16Arb, bytesArb(10)).map((
    [c, b],
  ): [number, number[]] => [c, [...b]]),
);

/** A record: owner name, class, TTL, rdata. */
type RecordSpec = [Uint8Array[], number, number, Rdata];

const recordArb: fc.Arbitrary<RecordSpec> = fc.tuple(
  nameArb,
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(1) },
    fc.constantFrom(3, 4, 254, 255),
    u16Arb,
  ),
  u32Arb,
  rdataArb,
);

/** A valid DNS message (query or response), compressed, perhaps with EDNS. */
export const messageArb: fc.Arbitrary<number[]> = fc.record({
  id: u16Arb,
  flags: u16Arb,
  questions: fc.array(
    fc.tuple(
      nameArb,
      fc.oneof(fc.constantFrom(1, 28, 15, 16, 6, 255, 65), u16Arb),
      fc.oneof(fc.constant(1), u16Arb),
    ),
    { maxLength: 2 },
  ),
  answers: fc.array(recordArb, { maxLength: 6 }),
  authority: fc.array(recordArb, { maxLength: 3 }),
  additional: fc.array(recordArb, { maxLength: 3 }),
  edns: fc.option(
    fc.record({
      size: fc.oneof(fc.constantFrom(512, 1232, 4096), u16Arb),
      ttl: fc.oneof(fc.constantFrom(0, 0x8000), u32Arb),
      options: fc.array(ednsOptionArb, { maxLength: 4 }),
      at: fc.nat(),
    }),
  ),
}).map((m) => {
  const w = new Writer();
  w.u16(m.id);
  w.u16(m.flags);
  w.u16(m.questions.length);
  w.u16(m.answers.length);
  w.u16(m.authority.length);
  w.u16(m.additional.length + (m.edns === null ? 0 : 1));
  for (const [n, t, c] of m.questions) {
    w.name(n, true);
    w.u16(t);
    w.u16(c);
  }
  const record = ([n, c, ttl, [t, rdata]]: RecordSpec) => {
    w.name(n, true);
    w.u16(t);
    w.u16(c);
    w.u32(ttl);
    w.sized(() => rdata(w));
  };
  m.answers.forEach(record);
  m.authority.forEach(record);
  const opt = m.edns;
  m.additional.forEach((r, i) => {
    if (opt !== null && opt.at % (m.additional.length + 1) === i) edns(w, opt);
    record(r);
  });
  if (
    opt !== null && opt.at % (m.additional.length + 1) === m.additional.length
  ) {
    edns(w, opt);
  }
  return w.bytes;
});

function edns(
  w: Writer,
  o: { size: number; ttl: number; options: [number, number[]][] },
): void {
  w.u8(0);
  w.u16(41);
  w.u16(o.size);
  w.u32(o.ttl);
  w.sized(() => {
    for (const [code, data] of o.options) {
      w.u16(code);
      w.u16(data.length);
      w.raw(data);
    }
  });
}

/**
 * A pointer bomb: a question whose name is one 63-byte label, then records
 * whose names are a 63-byte label and a pointer to the name before (65,
 * 129, 193, 257 octets: past miekg's 255), then `refs` records named by a
 * pointer to one of those; or a chain of pointers, each to the one before,
 * `chain` long (miekg allows 126), named by records.
 */
export const bombArb: fc.Arbitrary<number[]> = fc.record({
  kind: fc.constantFrom("long", "chain"),
  links: fc.integer({ min: 1, max: 5 }),
  chain: fc.oneof(
    fc.integer({ min: 120, max: 130 }),
    fc.integer({ min: 1, max: 300 }),
  ),
  refs: fc.oneof(
    fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 100, max: 3000 }),
  ),
  pick: fc.nat(),
}).map(({ kind, links, chain, refs, pick }) => {
  const w = new Writer();
  const label = new Array(63).fill(0x62);
  w.raw([0x12, 0x34, 0x81, 0x80, 0, 1]);
  const starts: number[] = [12];
  if (kind === "long") {
    w.raw([0, links + refs, 0, 0, 0, 0]);
    w.raw([63, ...label, 0, 0, 1, 0, 1]);
    for (let i = 0; i < links; i++) {
      starts.push(w.bytes.length);
      w.raw([63, ...label]);
      w.u16(0xc000 | starts[i]!);
      w.raw([0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 1, 0x61]); // TXT "a"
    }
  } else {
    w.raw([0, refs, 0, 0, 0, 0]);
    w.raw([1, 0x63, 0, 0, 1, 0, 1]); // question c.
    // The chain lives in the rdata of one big unknown-type record.
    w.u16(0xc000 | 12);
    w.raw([0xff, 0x00, 0, 1, 0, 0, 0, 0]);
    w.u16(chain * 2);
    let previous = 12;
    for (let i = 0; i < chain; i++) {
      starts.push(w.bytes.length);
      w.u16(0xc000 | previous);
      previous = w.bytes.length - 2;
    }
    refs--;
  }
  for (let i = 0; i < refs; i++) {
    w.u16(0xc000 | starts[(pick + i) % starts.length]!);
    w.raw([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  }
  return w.bytes;
});

/** One mutation, applied at `at` modulo the input's length. */
type Mutation =
  | { op: "set"; at: number; byte: number }
  | { op: "flip"; at: number; bit: number }
  | { op: "insert"; at: number; bytes: number[] }
  | { op: "drop"; at: number; n: number }
  | { op: "cut"; at: number }
  | { op: "count"; which: number; value: number }
  | { op: "pointer"; at: number; to: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    byte: fc.nat(255),
  }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ op: fc.constant("drop" as const), at: fc.nat(), n: fc.nat(8) }),
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("count" as const),
      which: fc.nat(3),
      value: fc.oneof(fc.nat(8), u16Arb),
    }),
  },
  // A pointer written over two bytes: to itself (a loop), before, after.
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("pointer" as const),
      at: fc.nat(),
      to: fc.oneof(fc.constant(-1), fc.nat()),
    }),
  },
);

function mutate(b: number[], m: Mutation): number[] {
  const at = "at" in m ? m.at % (b.length + 1) : 0;
  switch (m.op) {
    case "set":
      if (at < b.length) b[at] = m.byte;
      return b;
    case "flip":
      if (at < b.length) b[at]! ^= 1 << m.bit;
      return b;
    case "insert":
      return [...b.slice(0, at), ...m.bytes, ...b.slice(at)];
    case "drop":
      b.splice(at, m.n + 1);
      return b;
    case "cut":
      return b.slice(0, at);
    case "count":
      if (b.length >= 12) {
        b[4 + 2 * m.which] = m.value >> 8;
        b[5 + 2 * m.which] = m.value & 0xff;
      }
      return b;
    case "pointer": {
      if (at + 2 > b.length) return b;
      const to = m.to < 0 ? at : m.to % Math.max(1, b.length);
      b[at] = 0xc0 | (to >> 8);
      b[at + 1] = to & 0xff;
      return b;
    }
  }
}

/** Inputs of the dns-message target: messages and bombs, mutated. */
export const dnsBytesArb: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.oneof(
    { weight: 8, arbitrary: messageArb },
    { weight: 1, arbitrary: bombArb },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => [...b]),
    },
  ),
  fc.oneof(
    { weight: 2, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(mutationArb, { maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(mutationArb, { maxLength: 5 }) },
  ),
).map(([base, mutations]) => {
  let b = [...base];
  for (const m of mutations) b = mutate(b, m);
  return new Uint8Array(b);
});
