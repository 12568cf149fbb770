// txtStrings (TXT's rdata text) on long character-strings, whose plain case
// is checked natively (decoded, then measured), against txtEscape, which
// escapes byte by byte: the same text for any bytes. Both are held to
// miekg/dns in the rdata tests; here the fast check must never let a byte
// through that txtEscape would escape.
import assert from "node:assert/strict";
import { txtEscape, txtStrings } from "../src/_dns_rdata_format.ts";
import { WireCursor } from "../src/_dns_wire.ts";
import { prng } from "./_dns_random.ts";

/** txtStrings of one character-string. */
function viaTxtStrings(bytes: number[]): string {
  const msg = new Uint8Array([bytes.length, ...bytes]);
  const cur = new WireCursor();
  cur.end = msg.length;
  const s = txtStrings(msg, cur);
  assert.equal(cur.off, msg.length);
  return s;
}

/** The same, byte by byte. */
function viaTxtEscape(bytes: number[]): string {
  return '"' + txtEscape(new Uint8Array(bytes), 0, bytes.length) + '"';
}

const plain = (n: number, c = 0x61): number[] => new Array(n).fill(c);

Deno.test("txtStrings quotes a long plain string as txtEscape does, and escapes each special byte anywhere in it", () => {
  const special = [
    0x22, // quote
    0x5c, // backslash
    0x00,
    0x0a,
    0x1f,
    0x7f,
    0x80,
    0xff,
    0xc3, // a lead byte alone
  ];
  assert.equal(viaTxtStrings(plain(40)), '"' + "a".repeat(40) + '"');
  for (const b of special) {
    for (const at of [0, 1, 20, 38, 39]) {
      const bytes = plain(40);
      bytes[at] = b;
      assert.equal(viaTxtStrings(bytes), viaTxtEscape(bytes), `${b} at ${at}`);
      assert.notEqual(viaTxtStrings(bytes), '"' + "a".repeat(40) + '"');
    }
  }
  // Valid UTF-8 (é, €, 😀), a byte-order mark first, a surrogate's bytes:
  // each byte above 0x7F is \DDD.
  for (
    const seq of [
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xef, 0xbb, 0xbf],
      [0xed, 0xa0, 0x80],
    ]
  ) {
    for (const bytes of [[...seq, ...plain(40)], [...plain(40), ...seq]]) {
      assert.equal(viaTxtStrings(bytes), viaTxtEscape(bytes), `${seq}`);
      assert.match(viaTxtStrings(bytes), /\\\d{3}/);
    }
  }
});

Deno.test("txtStrings equals txtEscape on random long strings", () => {
  const rand = prng(0x7478);
  for (let i = 0; i < 20000; i++) {
    const n = 32 + Math.floor(rand() * 224);
    const bytes: number[] = [];
    const mode = i % 4;
    for (let k = 0; k < n; k++) {
      const r = rand();
      bytes.push(
        mode === 0
          ? Math.floor(rand() * 256) // anything
          : r < 0.995
          ? 0x20 + Math.floor(rand() * 0x5f) // printable, rarely otherwise
          : Math.floor(rand() * 256),
      );
    }
    assert.equal(viaTxtStrings(bytes), viaTxtEscape(bytes), `${bytes}`);
  }
});

Deno.test("txtStrings joins several strings, long and short, as the byte path does", () => {
  const a = plain(40, 0x78);
  const b = [0x22, ...plain(35)];
  const msg = new Uint8Array([40, ...a, 36, ...b, 0]);
  const cur = new WireCursor();
  cur.end = msg.length;
  assert.equal(
    txtStrings(msg, cur),
    '"' + "x".repeat(40) + '" "\\"' + "a".repeat(35) + '" ""',
  );
});
