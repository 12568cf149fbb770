// readName's name cache: with it on (beginMessage), every read gives what
// the plain read gives, text, end offset and error alike.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  beginMessage,
  DnsMessageError,
  endMessage,
  readName,
  WireCursor,
} from "../src/_dns_wire.ts";
import { CASES, ptr, TYPICAL } from "./_dns_messages.ts";
import { mutate, prng } from "./_dns_random.ts";

type Read = [string, number] | [string, number, string];

function read(m: Uint8Array, off: number, end: number): Read {
  const cur = new WireCursor();
  cur.off = off;
  cur.end = end;
  try {
    return [readName(m, cur), cur.off];
  } catch (e) {
    if (!(e instanceof DnsMessageError)) throw e;
    return ["error", e.offset, e.goError];
  }
}

/** Reads at each (offset, end), cached and not, and compares. */
function sameCached(m: Uint8Array, reads: [number, number][]): void {
  const plain = reads.map(([o, e]) => read(m, o, e));
  beginMessage(m);
  try {
    const cached = reads.map(([o, e]) => read(m, o, e));
    assert.deepEqual(cached, plain);
  } finally {
    endMessage();
  }
}

Deno.test("readName gives the same with its cache on, at every offset of the table's messages", () => {
  for (const m of Object.values(CASES)) {
    const reads: [number, number][] = [];
    for (let o = 12; o < m.length; o++) reads.push([o, m.length]);
    // again, backwards, and with shorter read limits (rdata cuts)
    for (let o = m.length - 1; o >= 12; o--) {
      reads.push([o, m.length], [o, Math.min(m.length, o + 3)]);
    }
    sameCached(m, reads);
  }
});

Deno.test("readName's cache keeps the pointer limit and the 255-octet budget", () => {
  // a chain of 130 pointers, each to the next, ending in a name
  const chain: number[] = new Array(12).fill(0);
  for (let i = 0; i < 130; i++) chain.push(...ptr(12 + 2 * (i + 1)));
  chain.push(1, 0x61, 0);
  const m = new Uint8Array(chain);
  const reads: [number, number][] = [];
  for (let i = 129; i >= 0; i--) reads.push([12 + 2 * i, m.length]);
  sameCached(m, reads);
  // labels of 63 octets: suffixes that fit alone, not after a prefix
  const long: number[] = new Array(12).fill(0);
  for (let i = 0; i < 5; i++) long.push(63, ...new Array(63).fill(0x62));
  long.push(
    0,
    ...ptr(12),
    ...ptr(12 + 64),
    3,
    0x61,
    0x62,
    0x63,
    ...ptr(12 + 64),
  );
  const l = new Uint8Array(long);
  const lr: [number, number][] = [];
  for (let o = 12 + 64 * 5; o >= 12; o -= 64) lr.push([o, l.length]);
  for (let o = 12 + 64 * 5 + 1; o < l.length; o++) lr.push([o, l.length]);
  sameCached(l, lr);
});

Deno.test("property: readName gives the same with its cache on, on mutated messages", () => {
  const bases = [TYPICAL, ...Object.values(CASES).filter((m) => m.length > 12)];
  fc.assert(
    fc.property(
      fc.nat(bases.length - 1),
      fc.integer(),
      fc.array(fc.tuple(fc.nat(200), fc.nat(8)), { maxLength: 30 }),
      (i, seed, picks) => {
        const m = mutate(bases[i]!, prng(seed));
        if (m.length === 0) return;
        sameCached(
          m,
          picks.map(([o, cut]) => {
            const off = o % m.length;
            return [off, Math.max(off, m.length - cut)];
          }),
        );
      },
    ),
    { numRuns: 3000, seed: 13 },
  );
});

Deno.test("readName gives each of 20,000 random plain names its own text (its whole-name cache shares slots)", () => {
  const rand = prng(3);
  const names: Uint8Array[] = [];
  const texts: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const bytes: number[] = [];
    let text = "";
    for (let l = 0; l < 1 + Math.floor(rand() * 3); l++) {
      const len = 1 + Math.floor(rand() * 4);
      bytes.push(len);
      for (let k = 0; k < len; k++) {
        const b = 0x61 + Math.floor(rand() * 26);
        bytes.push(b);
        text += String.fromCharCode(b);
      }
      text += ".";
    }
    bytes.push(0);
    names.push(new Uint8Array(bytes));
    texts.push(text);
  }
  // twice: the second pass reads names whose slots others took meanwhile
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < names.length; i++) {
      assert.deepEqual(read(names[i]!, 0, names[i]!.length), [
        texts[i],
        names[i]!.length,
      ]);
    }
  }
});

Deno.test("DnsMessageError.offset of a pointer past the message is the pointer's own offset", async () => {
  const { skipName } = await import("../src/_dns_wire.ts");
  const { rdataValid } = await import("../src/_dns_rdata_valid.ts");
  const { formatDnsMessage } = await import("../src/dns.ts");
  // A header, then at 12 the label "a" and a pointer to 0x3000 (past the end).
  const m = new Uint8Array([
    ...new Array(12).fill(0),
    1,
    0x61,
    ...ptr(0x3000),
  ]);
  const at = (f: () => void): [number, string] => {
    try {
      f();
    } catch (e) {
      if (e instanceof DnsMessageError) return [e.offset, e.goError];
      throw e;
    }
    throw new Error("no error");
  };
  const cur = (): WireCursor => {
    const c = new WireCursor();
    c.off = 12;
    c.end = m.length;
    return c;
  };
  const want: [number, string] = [14, "dns: buffer size too small"];
  assert.deepEqual(at(() => readName(m, cur())), want);
  assert.deepEqual(at(() => skipName(m, cur())), want);
  assert.deepEqual(at(() => rdataValid(m, 2, cur())), want); // NS
  // Also when the target is past a shorter read limit (an rdata's end).
  const c = cur();
  c.end = 16;
  m[15] = 16;
  assert.deepEqual(at(() => readName(m, c)), want);
  // A target inside the message whose label runs off its end: at the
  // label's length byte (the pointer's second byte, 15, read as a length).
  m[14] = 0xc0;
  m[15] = 15;
  assert.deepEqual(at(() => readName(m, cur())), [
    15,
    "dns: buffer size too small",
  ]);
  // The whole message: the question's name fails at the pointer.
  m[5] = 1; // QDCOUNT 1
  m[14] = 0xc0 | 0x30;
  m[15] = 0;
  assert.deepEqual(at(() => formatDnsMessage(m)), want);
});
