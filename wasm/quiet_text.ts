// The quiet scan's text writers: numbers, table rows and addresses, written
// at an address, each returning the end (wasm/dnstap_quiet.ts uses them).

import { DIGITS } from "./quiet_layout";

/** Writes n in decimal, at least `min` digits; returns the end. */
export function decimal(p: u32, n: u32, min: u32): u32 {
  let digits: u32 = 1;
  for (let v = n / 10; v > 0; v /= 10) digits++;
  if (digits < min) digits = min;
  const end = p + digits;
  let i = end;
  while (i > p) {
    const q = n / 10;
    store<u8>(--i, <u8>(48 + n - q * 10));
    n = q;
  }
  return end;
}

/** Writes a table row (a length byte, then up to 15 bytes); the end. */
@inline
export function row(p: u32, at: u32): u32 {
  const n = <u32>load<u8>(at);
  store<u64>(p, load<u64>(at + 1));
  if (n > 8) store<u64>(p + 8, load<u64>(at + 9));
  return p + n;
}

/** Writes `word` (up to 4 ASCII bytes, little-endian) and returns p + n. */
@inline
export function put4(p: u32, word: u32, n: u32): u32 {
  store<u32>(p, word);
  return p + n;
}

/** A byte in decimal from the table (three digits, then the length). */
@inline
export function byteText(p: u32, v: u32): u32 {
  const w = load<u32>(DIGITS + v * 4);
  store<u32>(p, w);
  return p + (w >>> 24);
}

export function ipv4(p: u32, a: u32): u32 {
  p = byteText(p, load<u8>(a));
  store<u8>(p++, 0x2e);
  p = byteText(p, load<u8>(a + 1));
  store<u8>(p++, 0x2e);
  p = byteText(p, load<u8>(a + 2));
  store<u8>(p++, 0x2e);
  return byteText(p, load<u8>(a + 3));
}

export function hex16(p: u32, v: u32): u32 {
  let started = false;
  for (let s: i32 = 12; s >= 0; s -= 4) {
    const d = (v >>> <u32>s) & 15;
    if (d == 0 && !started && s > 0) continue;
    started = true;
    store<u8>(p++, <u8>(d < 10 ? 48 + d : 87 + d));
  }
  return p;
}

/** Sixteen bytes as Go's net.IP.String(). */
export function ipv6(p: u32, a: u32): u32 {
  let zeros10 = true;
  for (let i: u32 = 0; i < 10; i++) {
    if (load<u8>(a + i) != 0) {
      zeros10 = false;
      break;
    }
  }
  if (zeros10 && load<u8>(a + 10) == 0xff && load<u8>(a + 11) == 0xff) {
    return ipv4(p, a + 12);
  }
  let best: i32 = -1;
  let bestEnd: i32 = -1;
  for (let i: i32 = 0; i < 16; i += 2) {
    let j = i;
    while (j < 16 && load<u16>(a + <u32>j) == 0) j += 2;
    if (j > i && j - i > bestEnd - best) {
      best = i;
      bestEnd = j;
      i = j;
    }
  }
  if (bestEnd - best <= 2) best = bestEnd = -1;
  for (let i: i32 = 0; i < 16; i += 2) {
    if (i == best) {
      store<u16>(p, 0x3a3a);
      p += 2;
      i = bestEnd - 2;
      continue;
    }
    if (i > 0 && i != bestEnd) store<u8>(p++, 0x3a);
    p = hex16(
      p,
      (<u32>load<u8>(a + <u32>i) << 8) | <u32>load<u8>(a + <u32>i + 1),
    );
  }
  return p;
}
