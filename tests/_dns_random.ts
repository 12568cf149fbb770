// Random DNS messages for the DNS tests: a seeded PRNG, mutations of valid
// messages, and random well-formed messages.
import { header, opt, option, ptr, rr } from "./_dns_messages.ts";

/** A deterministic PRNG (mulberry32): the same seed, the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A mutation of a message: bytes set at random, pointers written, counts
 * changed, the message cut or extended; one to three of them.
 *
 * @param base The message to mutate (not changed).
 * @param rand A PRNG from {@linkcode prng}.
 */
export function mutate(base: Uint8Array, rand: () => number): Uint8Array {
  let m = Uint8Array.from(base);
  const int = (n: number) => Math.floor(rand() * n);
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    const at = int(Math.max(m.length, 1));
    switch (int(7)) {
      case 0: // one random byte
      case 1:
        if (m.length > 0) m[at] = int(256);
        break;
      case 2: // a compression pointer anywhere, to anywhere
        if (m.length > 1) {
          const to = int(m.length + 8);
          m[Math.min(at, m.length - 2)] = 0xc0 | (to >> 8);
          m[Math.min(at, m.length - 2) + 1] = to & 0xff;
        }
        break;
      case 3: // a count
        if (m.length >= 12) m[5 + 2 * int(4)] = int(6);
        break;
      case 4: // cut
        m = m.slice(0, at);
        break;
      case 5: // trailing bytes
        m = Uint8Array.from([
          ...m,
          ...Array.from({ length: 1 + int(6) }, () => int(256)),
        ]);
        break;
      case 6: // a length or label byte made small
        if (m.length > 0) m[at] = int(8);
        break;
    }
  }
  return m;
}

/**
 * A random well-formed message: random names (any bytes in labels, some
 * compressed to earlier names), records of the types the placeholder rdata
 * renders and of unknown types, an OPT with random options most of the time.
 * Some are made invalid by an option that miekg/dns rejects.
 *
 * @param rand A PRNG from {@linkcode prng}.
 */
export function randomMessage(rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const out: number[] = [];
  const starts: number[] = []; // offsets where names were written
  const name = (): number[] => {
    if (starts.length > 0 && rand() < 0.5) {
      return ptr(starts[int(starts.length)]!);
    }
    const labels: number[] = [];
    const at = out.length;
    const n = int(4);
    for (let i = 0; i < n; i++) {
      const len = 1 + int(rand() < 0.8 ? 8 : 40);
      const bytes = Array.from(
        { length: len },
        () => rand() < 0.9 ? 0x61 + int(26) : int(256),
      );
      labels.push(len, ...bytes);
    }
    if (starts.length > 0 && rand() < 0.3) {
      labels.push(...ptr(starts[int(starts.length)]!));
    } else labels.push(0);
    starts.push(at);
    return labels;
  };
  const qd = int(3) === 0 ? 0 : 1;
  const counts: [number, number, number, number] = [qd, int(4), int(3), int(3)];
  const useOpt = rand() < 0.7;
  out.push(
    ...header({
      id: int(65536),
      flags: int(65536),
      qd: counts[0],
      an: counts[1],
      ns: counts[2],
      ar: counts[3] + (useOpt ? 1 : 0),
    }),
  );
  for (let i = 0; i < qd; i++) {
    const n = name();
    out.push(...n, ...[
      0,
      [1, 2, 5, 12, 28, 255, 65][int(7)]!,
      0,
      [1, 3, 255][int(3)]!,
    ]);
  }
  const record = () => {
    const n = name();
    const kind = int(6);
    const ttl = [0, 300, 0x7fffffff, 0xffffffff][int(4)]!;
    const cls = [1, 1, 1, 3, 254, 255, 9][int(7)]!;
    const place = out.length + n.length + 10; // where rdata starts
    let type: number;
    let rdata: number[];
    if (kind === 0) type = 1, rdata = [int(256), int(256), int(256), int(256)];
    else if (kind === 1) {
      type = 28;
      rdata = Array.from({ length: 16 }, () => rand() < 0.5 ? 0 : int(256));
    } else if (kind <= 3) {
      type = [2, 5, 12][int(3)]!;
      const before = out.length;
      out.length = place; // names in rdata may point before it only
      out.fill(0, before);
      rdata = name();
      out.length = before;
    } else {
      type = [11, 20, 103, 4096, 65280][int(5)]!;
      rdata = Array.from({ length: int(6) }, () => int(256));
    }
    out.push(...rr(n, type, cls, ttl, rdata));
  };
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) record();
  if (useOpt) {
    const options: number[] = [];
    const count = int(4);
    for (let i = 0; i < count; i++) {
      const code = [3, 5, 8, 10, 11, 12, 15, 9, 1, 2, 4, 65001][int(12)]!;
      let data: number[];
      if (code === 8) {
        const v6 = rand() < 0.5;
        const mask = int(v6 ? 140 : 40);
        data = [
          0,
          v6 ? 2 : 1,
          mask,
          int(3) === 0 ? int(40) : 0,
          ...Array.from({ length: Math.ceil(mask / 8) % 17 }, () => int(256)),
        ];
      } else if (code === 11) data = rand() < 0.9 ? [int(256), int(256)] : [1];
      else if (code === 1) data = Array.from({ length: 18 }, () => int(256));
      else if (code === 2) {
        data = Array.from({ length: rand() < 0.5 ? 4 : 8 }, () => int(256));
      } else if (code === 9) {
        data = rand() < 0.5 ? [] : [0, 0, int(256), int(256)];
      } else if (code === 15) {
        data = [
          0,
          int(30),
          ...Array.from({ length: int(8) }, () => 0x20 + int(100)),
        ];
      } else data = Array.from({ length: int(10) }, () => int(256));
      options.push(...option(code, data));
    }
    out.push(...opt(options, {
      udp: [512, 1232, 4096][int(3)]!,
      ext: int(4) === 0 ? int(256) : 0,
      version: int(5) === 0 ? 1 : 0,
      do: rand() < 0.5,
      z: int(4) === 0 ? int(0x8000) : 0,
    }));
  }
  return new Uint8Array(out);
}
