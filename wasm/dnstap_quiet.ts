// The AssemblyScript twin of quietScanTs (src/_dnstap_quiet_fast.ts): the
// quiet lines (`fstrm dnstap -q`) of a run of data frames, written straight
// from the frames' bytes, with the same checks in the same order, the same
// fallbacks and the same statuses. Keep the two in step;
// tests/dnstap_quiet_scan_test.ts compares them.
//
// Memory layout (fixed; no allocator, no data segments):
//   [RESULTS, +32)               f64 words: input offset reached, output
//                                bytes, lines written, the second wanted
//   [VALS, +64)                  u32 scratch: rdata field values
//   [TABLES, TABLES_END)         names, rdata schemas and the bytes in
//                                decimal, written by the caller
//                                (src/_dnstap_quiet_tables.ts)
//   [CLOCKS, +16 * 1024)         the clock cache: f64 second, 8 bytes text
//   [OUTPUT, +OUTPUT_SIZE)       the lines of the last call
//   [INPUT, memory end)          the run: big-endian length, payload, ...
// Offsets given and returned are input offsets (address - INPUT).

const RESULTS: u32 = 64;
const VALS: u32 = 128;
const TABLES: u32 = 1024;
const TYPE_NAMES: u32 = TABLES;
const CLASS_NAMES: u32 = TABLES + 4160;
const PROTOCOLS: u32 = TABLES + 8320;
const EXTRA_TYPES: u32 = TABLES + 10368;
const PLAIN: u32 = TABLES + 10432;
const SCHEMAS: u32 = TABLES + 10688;
const DIGITS: u32 = TABLES + 14880;
const TABLES_END: u32 = TABLES + 15904;
const CLOCKS: u32 = 32768;
const OUTPUT: u32 = 65536;
const OUTPUT_SIZE: u32 = 262144;
const INPUT: u32 = 327680;
const INPUT_MAX: u32 = 0x7fff0000;
const LINE_MAX: u32 = 1536;

const DONE: u32 = 0;
const OUT_FULL: u32 = 1;
const NEED_CLOCK: u32 = 2;
const FALLBACK: u32 = 3;
const LIMIT: u32 = 4;
const BAD_RUN: u32 = 5;

// Rdata field kinds (as src/_dns_rdata_valid.ts).
const U8: u32 = 1;
const U16: u32 = 2;
const U32: u32 = 4;
const U48: u32 = 6;
const U64: u32 = 8;
const NAME: u32 = 10;
const STR: u32 = 11;
const A4: u32 = 12;
const A16: u32 = 13;
const REST: u32 = 20;
const SIZED_PREV: u32 = 21;
const SIZED_2BACK: u32 = 22;
const TXT: u32 = 23;
const BITMAP: u32 = 24;
const NAMES: u32 = 25;
const APL: u32 = 26;
const SVCB: u32 = 27;


// The record being read: addresses, -1 absent.
let dnstapType: i64 = -1;
let messageType: i64 = -1;
let protocol: i64 = -1;
let qaStart: i32 = -1;
let qaEnd: i32 = -1;
let raStart: i32 = -1;
let raEnd: i32 = -1;
let qmStart: i32 = -1;
let qmEnd: i32 = -1;
let rmStart: i32 = -1;
let rmEnd: i32 = -1;
let qSec: i64 = -1;
let rSec: i64 = -1;
let qNsec: i64 = -1;
let rNsec: i64 = -1;
/** The last long varint. */
let V: u64 = 0;
/** The second a line waits for. */
let wantSec: i64 = -1;
/** The DNS message: its address and length. */
let MB: u32 = 0;
let N: u32 = 0;
/** The first question name's labels' wire length (its bytes less the 0). */
let QNAME_WIRE: u32 = 0;

export function resultsOffset(): u32 {
  return RESULTS;
}
export function tablesOffset(): u32 {
  return TABLES;
}
export function tablesBytes(): u32 {
  return TABLES_END - TABLES;
}
export function clocksOffset(): u32 {
  return CLOCKS;
}
export function outputOffset(): u32 {
  return OUTPUT;
}
export function outputBytes(): u32 {
  return OUTPUT_SIZE;
}
export function lineMax(): u32 {
  return LINE_MAX;
}
export function inputOffset(): u32 {
  return INPUT;
}

/** Bytes the input region holds now. */
export function inputCapacity(): u32 {
  return (<u32>memory.size() << 16) - INPUT;
}

/** Grows the input region to at least `size` bytes; 0 if it cannot. */
export function ensureInput(size: u32): u32 {
  if (size > INPUT_MAX - INPUT) return 0;
  const need = INPUT + size;
  const have = <u32>memory.size() << 16;
  if (need <= have) return 1;
  const pages = <i32>((need - have + 0xffff) >>> 16);
  return memory.grow(pages) < 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Protobuf (hot loops keep the read position in a local: the one-byte
// varint inline, longer ones through varintAt)

/** A varint of at most 7 bytes at p: its value in V; the end, or 0. */
function varintAt(p: u32, end: u32): u32 {
  let value: u64 = 0;
  let shift: u64 = 0;
  for (let i = 0; i < 7; i++) {
    if (p >= end) return 0;
    const b = <u64>load<u8>(p++);
    value |= (b & 0x7f) << shift;
    if (b < 0x80) {
      V = value;
      return p;
    }
    shift += 7;
  }
  return 0;
}

function readMessage(start: u32, end: u32): bool {
  let p = start;
  while (p < end) {
    let t = <u32>load<u8>(p++);
    if (t >= 0x80) {
      if (t != 0x80 || p >= end || load<u8>(p) != 0x01) return false;
      p = varintAt(p + 1, end);
      if (p == 0 || V >= 0x80000000) return false;
      continue;
    }
    const wire = t & 7;
    t >>>= 3;
    let v: u64 = 0;
    if (wire == 0 || wire == 2) {
      if (p < end && load<u8>(p) < 0x80) v = <u64>load<u8>(p++);
      else {
        p = varintAt(p, end);
        if (p == 0) return false;
        v = V;
      }
    }
    if (wire == 0) {
      switch (t) {
        case 1:
          if (v >= 0x80000000) return false;
          messageType = <i64>v;
          break;
        case 2:
        case 6:
        case 7:
          if (v >= 0x80000000) return false;
          break;
        case 3:
          if (v >= 0x80) return false;
          protocol = <i64>v;
          break;
        case 8:
          qSec = <i64>v;
          break;
        case 12:
          rSec = <i64>v;
          break;
        default:
          return false;
      }
    } else if (wire == 2) {
      if (v > <u64>(end - p)) return false;
      const s = <i32>p;
      p += <u32>v;
      switch (t) {
        case 4:
          qaStart = s;
          qaEnd = <i32>p;
          break;
        case 5:
          raStart = s;
          raEnd = <i32>p;
          break;
        case 10:
          qmStart = s;
          qmEnd = <i32>p;
          break;
        case 14:
          rmStart = s;
          rmEnd = <i32>p;
          break;
        case 11:
          break;
        default:
          return false;
      }
    } else if (wire == 5) {
      if (end - p < 4) return false;
      const v4 = <i64>load<u32>(p);
      p += 4;
      if (t == 9) qNsec = v4;
      else if (t == 13) rNsec = v4;
      else return false;
    } else return false;
  }
  return messageType >= 0;
}

function readRecord(start: u32, end: u32): bool {
  dnstapType = messageType = protocol = -1;
  qaStart = qaEnd = raStart = raEnd = -1;
  qmStart = qmEnd = rmStart = rmEnd = -1;
  qSec = rSec = qNsec = rNsec = -1;
  let msgStart: u32 = 0;
  let msgEnd: u32 = 0;
  let p = start;
  while (p < end) {
    const t = load<u8>(p++);
    if (t == 0x0a || t == 0x12 || t == 0x1a || t == 0x72) {
      let n: u64 = 0;
      if (p < end && load<u8>(p) < 0x80) n = <u64>load<u8>(p++);
      else {
        p = varintAt(p, end);
        if (p == 0) return false;
        n = V;
      }
      if (n > <u64>(end - p)) return false;
      if (t == 0x72) {
        if (msgStart != 0) return false; // a repeat merges: object path
        msgStart = p;
        msgEnd = p + <u32>n;
      }
      p += <u32>n;
    } else if (t == 0x78) {
      p = varintAt(p, end);
      if (p == 0 || V >= 0x80000000) return false;
      dnstapType = <i64>V;
    } else return false;
  }
  if (dnstapType != 1 || msgStart == 0) return false;
  return readMessage(msgStart, msgEnd);
}

// ---------------------------------------------------------------------------
// Text

/** Writes n in decimal, at least `min` digits; returns the end. */
function decimal(p: u32, n: u32, min: u32): u32 {
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
function row(p: u32, at: u32): u32 {
  const n = <u32>load<u8>(at);
  store<u64>(p, load<u64>(at + 1));
  if (n > 8) store<u64>(p + 8, load<u64>(at + 9));
  return p + n;
}

/** Writes `word` (up to 4 ASCII bytes, little-endian) and returns p + n. */
@inline
function put4(p: u32, word: u32, n: u32): u32 {
  store<u32>(p, word);
  return p + n;
}

/** A byte in decimal from the table (three digits, then the length). */
@inline
function byteText(p: u32, v: u32): u32 {
  const w = load<u32>(DIGITS + v * 4);
  store<u32>(p, w);
  return p + (w >>> 24);
}

function ipv4(p: u32, a: u32): u32 {
  p = byteText(p, load<u8>(a));
  store<u8>(p++, 0x2e);
  p = byteText(p, load<u8>(a + 1));
  store<u8>(p++, 0x2e);
  p = byteText(p, load<u8>(a + 2));
  store<u8>(p++, 0x2e);
  return byteText(p, load<u8>(a + 3));
}

function hex16(p: u32, v: u32): u32 {
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
function ipv6(p: u32, a: u32): u32 {
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

// ---------------------------------------------------------------------------
// DNS validity (as skipRecord of src/_dns_record.ts). Positions are memory
// addresses; a function that checks returns where it stopped, or 0 (the
// message does not unpack: never an address of the input).

/** A big-endian u16 at an address. */
@inline
function be16(a: u32): u32 {
  return (<u32>load<u8>(a) << 8) | <u32>load<u8>(a + 1);
}

/** Skips a name as readName reads it, up to `end`; pointers from MB. */
function skipName(off: u32, end: u32): u32 {
  const base = MB;
  let next: u32 = 0;
  let wire: u32 = 0;
  let pointers: u32 = 0;
  for (;;) {
    if (off >= end) return 0;
    const c = <u32>load<u8>(off++);
    if (c < 0x40) {
      if (c == 0) break;
      if (off + c > end) return 0;
      wire += c + 1;
      if (wire >= 255) return 0;
      off += c;
    } else if (c >= 0xc0) {
      if (off >= end) return 0;
      const c1 = <u32>load<u8>(off++);
      if (next == 0) next = off;
      if (++pointers > 126) return 0;
      const to = base + (((c & 0x3f) << 8) | c1);
      if (to >= end) return 0;
      if (to == base + 12) {
        // The first question's name (labels in place, checked, before
        // any end given here): its labels' wire length at once.
        wire += QNAME_WIRE;
        if (wire >= 255) return 0;
        break;
      }
      off = to;
    } else return 0;
  }
  return next == 0 ? off : next;
}

function skipQuestion(off: u32, n: u32): u32 {
  off = skipName(off, n);
  if (off == 0 || off == n) return off;
  if (off + 2 > n) return 0;
  off += 2;
  return off + 2 > n ? n : off + 2;
}

function optCheck(from: u32, to: u32): bool {
  let off = from;
  while (off < to) {
    if (off + 4 > to) return false;
    const code = be16(off);
    const end = off + 4 + be16(off + 2);
    if (end > to) return false;
    const len = end - off - 4;
    switch (code) {
      case 1:
        if (len < 18) return false;
        break;
      case 2:
        if (len != 4 && len != 8) return false;
        break;
      case 8: {
        if (len < 4) return false;
        const family = be16(off + 4);
        const mask = <u32>load<u8>(off + 6);
        const scope = <u32>load<u8>(off + 7);
        if (family == 0) {
          if (mask != 0) return false;
        } else if (family == 1 || family == 2) {
          const bits: u32 = family == 1 ? 32 : 128;
          if (mask > bits || scope > bits) return false;
        } else return false;
        break;
      }
      case 9:
        if (len != 0 && len < 4) return false;
        break;
      case 11:
        if (len != 0 && len != 2) return false;
        break;
      case 15:
        if (len < 2) return false;
        break;
    }
    off = end;
  }
  return true;
}

function bitmap(off: u32, end: u32): u32 {
  let last: i32 = -1;
  while (off < end) {
    if (off + 2 > end) return 0;
    const window = <i32>load<u8>(off);
    const length = <u32>load<u8>(off + 1);
    if (window <= last) return 0;
    if (length == 0 || length > 32) return 0;
    off += 2;
    if (off + length > end) return 0;
    off += length;
    last = window;
  }
  return off;
}

function apl(off: u32, end: u32): u32 {
  while (off < end) {
    if (off + 4 > end) return 0;
    const family = be16(off);
    const prefix = <u32>load<u8>(off + 2);
    const nlen = <u32>load<u8>(off + 3);
    off += 4;
    let size: u32 = 0;
    if (family == 1) size = 4;
    else if (family == 2) size = 16;
    else return 0;
    if (prefix > 8 * size) return 0;
    const afd = nlen & 0x7f;
    if (afd > size) return 0;
    if (off + afd > end) return 0;
    if (afd > 0 && load<u8>(off + afd - 1) == 0) return 0;
    off += afd;
  }
  return off;
}

function svcbValue(key: u32, from: u32, to: u32): bool {
  const n = to - from;
  switch (key) {
    case 0:
      return n % 2 == 0;
    case 1: {
      let i = from;
      while (i < to) {
        const l = <u32>load<u8>(i++);
        if (i + l > to) return false;
        i += l;
      }
      return true;
    }
    case 2:
      return n == 0;
    case 3:
      return n == 2;
    case 4:
      return n != 0 && n % 4 == 0;
    case 6: {
      if (n == 0 || n % 16 != 0) return false;
      for (let i = from; i < to; i += 16) {
        let mapped = load<u8>(i + 10) == 0xff && load<u8>(i + 11) == 0xff;
        for (let j: u32 = 0; mapped && j < 10; j++) {
          if (load<u8>(i + j) != 0) mapped = false;
        }
        if (mapped) return false;
      }
      return true;
    }
  }
  return true;
}

function svcb(off: u32, end: u32): u32 {
  let last: i32 = -1;
  while (off < end) {
    if (off + 4 > end) return 0;
    const key = be16(off);
    const len = be16(off + 2);
    if (off + 4 + len > end) return 0;
    if (key == 65535) return 0;
    if (!svcbValue(key, off + 4, off + 4 + len)) return 0;
    if (<i32>key <= last) return 0;
    last = <i32>key;
    off += 4 + len;
  }
  return off;
}

/** Checks the rdata [off, end) of `type` as rdataValid; where it stopped. */
function rdataValid(type: u32, off: u32, end: u32): u32 {
  let schema: u32 = 0;
  if (type < 260) schema = SCHEMAS + type * 16;
  else if (type == 32768 || type == 32769) schema = SCHEMAS + 43 * 16;
  else return end;
  const count = <u32>load<u8>(schema);
  let prev: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const k = <u32>load<u8>(schema + 1 + i);
    // miekg's early stop: at the end before a field that follows a scalar.
    if (off == end && (i == 0 || prev < REST)) return off;
    prev = k;
    switch (k) {
      case U8:
      case U16:
      case U32:
      case U48:
      case U64: {
        if (off + k > end) return 0;
        store<u32>(
          VALS + i * 4,
          k == U8 ? <u32>load<u8>(off) : k == U16 ? be16(off) : 0,
        );
        off += k;
        break;
      }
      case A4:
        if (off + 4 > end) return 0;
        off += 4;
        break;
      case A16:
        if (off + 16 > end) return 0;
        off += 16;
        break;
      case NAME:
        off = skipName(off, end);
        if (off == 0) return 0;
        break;
      case STR: {
        if (off + 1 > end) return 0;
        const next = off + 1 + <u32>load<u8>(off);
        if (next > end) return 0;
        off = next;
        break;
      }
      case TXT:
        while (off < end) {
          const next = off + 1 + <u32>load<u8>(off);
          if (next > end) return 0;
          off = next;
        }
        break;
      case REST:
        off = end;
        break;
      case SIZED_PREV:
      case SIZED_2BACK: {
        const size = k == SIZED_PREV
          ? load<u32>(VALS + (i - 1) * 4)
          : load<u32>(VALS + (i == 3 ? 0 : 8));
        if (off + size > end) return 0;
        off += size;
        break;
      }
      case BITMAP:
        off = bitmap(off, end);
        if (off == 0) return 0;
        break;
      case NAMES:
        while (off < end) {
          off = skipName(off, end);
          if (off == 0) return 0;
        }
        break;
      case APL:
        off = apl(off, end);
        if (off == 0) return 0;
        break;
      case SVCB:
        off = svcb(off, end);
        if (off == 0) return 0;
        break;
    }
  }
  return off;
}

/** Checks one record at off (before n); past it, or 0. */
function skipRecord(off: u32, n: u32): u32 {
  off = skipName(off, n);
  if (off == 0 || off + 2 > n) return 0;
  const type = be16(off);
  off += 2;
  if (off + 8 > n) return 0;
  const start = off + 8;
  const end = start + be16(off + 6);
  if (end > n) return 0;
  if (type == 16) {
    // TXT, the most common: its strings, as rdataValid's TXT field.
    let o = start;
    while (o < end) {
      o += 1 + <u32>load<u8>(o);
      if (o > end) return 0;
    }
  } else if (type == 46 && end - start > 18) {
    // RRSIG, with more than its fixed fields: past them, the signer's
    // name, then the rest.
    if (skipName(start + 18, end) == 0) return 0;
  } else if (type == 41) {
    if (!optCheck(start, end)) return 0;
  } else if (end != start) {
    if (rdataValid(type, start, end) != end) return 0;
  }
  return end;
}

// ---------------------------------------------------------------------------
// The line

/** `X \n` at p. */
@inline
function xLine(p: u32): i32 {
  return <i32>put4(p, 0x0a2058, 3);
}

/** The quiet question of the message at MB (N > 12 bytes), or -1. */
function question(p: u32): i32 {
  const mb = MB;
  const n = mb + N;
  const qd = be16(mb + 4);
  if (qd == 0) return xLine(p);
  let off: u32 = mb + 12;
  let plain: u32 = 1;
  for (;;) {
    if (off >= n) return -1;
    const c = <u32>load<u8>(off);
    if (c == 0) break;
    if (c >= 0x40 || off + 1 + c > n || off - mb + c - 12 >= 254) return -1;
    for (let i = off + 1; i <= off + c; i++) {
      plain &= <u32>load<u8>(PLAIN + <u32>load<u8>(i));
    }
    off += c + 1;
  }
  const nameEnd = off;
  QNAME_WIRE = nameEnd - mb - 12;
  let type: u32 = 0;
  let cls: u32 = 0;
  off++;
  if (off != n) {
    if (off + 2 > n) return xLine(p);
    type = be16(off);
    off += 2;
    if (off != n) {
      if (off + 2 > n) off = n;
      else {
        cls = be16(off);
        off += 2;
      }
    }
  }
  for (let i: u32 = 1; i < qd; i++) {
    off = skipQuestion(off, n);
    if (off == 0) return xLine(p);
  }
  for (let k: u32 = 6; k < 12; k += 2) {
    const count = be16(mb + k);
    for (let i: u32 = 0; i < count && off != n; i++) {
      off = skipRecord(off, n);
      if (off == 0) return xLine(p);
    }
  }
  store<u8>(p++, 0x22);
  if (nameEnd == mb + 12) store<u8>(p++, 0x2e);
  else if (plain) {
    const from = p - (mb + 13);
    memory.copy(p, mb + 13, nameEnd - mb - 13);
    p += nameEnd - mb - 13;
    for (
      let i: u32 = mb + 12 + <u32>load<u8>(mb + 12) + 1;
      i < nameEnd;
      i += <u32>load<u8>(i) + 1
    ) {
      store<u8>(from + i, 0x2e);
    }
    store<u8>(p++, 0x2e);
  } else {
    for (let o: u32 = mb + 12; o < nameEnd; o += <u32>load<u8>(o) + 1) {
      const last = o + <u32>load<u8>(o);
      for (let i = o + 1; i <= last; i++) {
        const c = <u32>load<u8>(i);
        if (load<u8>(PLAIN + c) == 1) store<u8>(p++, <u8>c);
        else if (c < 0x20 || c > 0x7e) {
          store<u8>(p++, 0x5c);
          store<u8>(p++, <u8>(0x30 + c / 100));
          store<u8>(p++, <u8>(0x30 + (c / 10) % 10));
          store<u8>(p++, <u8>(0x30 + c % 10));
        } else {
          store<u8>(p++, 0x5c);
          store<u8>(p++, <u8>c);
        }
      }
      store<u8>(p++, 0x2e);
    }
  }
  store<u16>(p, 0x2022); // '" '
  p += 2;
  if (cls < 260) p = row(p, CLASS_NAMES + cls * 16);
  else {
    p = put4(p, 0x53414c43, 4); // CLAS
    store<u8>(p++, 0x53); // S
    p = decimal(p, cls, 1);
  }
  store<u8>(p++, 0x20);
  if (type < 260) p = row(p, TYPE_NAMES + type * 16);
  else {
    let named = false;
    for (let e: u32 = 0; e < 4; e++) {
      const at = EXTRA_TYPES + e * 16;
      if (load<u8>(at + 2) != 0 && be16(at) == type) {
        p = row(p, at + 2);
        named = true;
        break;
      }
    }
    if (!named) {
      p = put4(p, 0x45505954, 4); // TYPE
      p = decimal(p, type, 1);
    }
  }
  store<u8>(p++, 0x0a);
  return <i32>p;
}

/**
 * The line of the record at [start, end) written at p: its end, -1 for the
 * object path, -2 when the clock of `wantSec` is not in the cache.
 */
function line(start: u32, end: u32, p: u32): i32 {
  if (!readRecord(start, end)) return -1;
  const t = messageType;
  if (t < 1 || t > 14 || t == 9 || t == 10) return -1;
  const isQuery = (t & 1) == 1;
  const queryAddress = t == 1 || t == 2 || t == 5 || t == 6;
  const aStart = queryAddress ? qaStart : raStart;
  const aEnd = queryAddress ? qaEnd : raEnd;
  const aLength = aEnd - aStart;
  if (aStart >= 0 && aLength != 4 && aLength != 16) return -1;
  const sec = isQuery ? qSec : rSec;
  const nsec = isQuery ? qNsec : rNsec;
  if (sec < 0) {
    store<u64>(p, 0x3f3f3a3f3f3a3f3f); // ??:??:??
  } else {
    const slot = CLOCKS + <u32>(sec & 1023) * 16;
    if (load<f64>(slot) != <f64>sec) {
      wantSec = sec;
      return -2;
    }
    store<u64>(p, load<u64>(slot + 8));
  }
  p += 8;
  if (nsec < 0) {
    store<u64>(p, 0x203f3f3f3f3f3f2e); // .?????? + space
    p += 8;
  } else {
    store<u8>(p++, 0x2e);
    p = decimal(p, <u32>(nsec / 1000), 6);
    store<u8>(p++, 0x20);
  }
  const letter: u32 = t <= 2 ? 0x41 : t <= 4 ? 0x52 : t <= 6 ? 0x43 : t <= 8
    ? 0x46
    : t <= 12
    ? 0x54
    : 0x55;
  p = put4(p, letter | ((isQuery ? 0x51 : 0x52) << 8) | (0x20 << 16), 3);
  if (aStart < 0) {
    // MISSING_ADDRESS + space
    store<u64>(p, 0x5f474e495353494d);
    store<u64>(p + 8, 0x2053534552444441);
    p += 16;
  } else {
    p = aLength == 4 ? ipv4(p, <u32>aStart) : ipv6(p, <u32>aStart);
    store<u8>(p++, 0x20);
  }
  if (protocol >= 0) p = row(p, PROTOCOLS + <u32>protocol * 16);
  const mStart = isQuery ? qmStart : rmStart;
  const mLength: u32 = mStart < 0
    ? 0
    : <u32>((isQuery ? qmEnd : rmEnd) - mStart);
  store<u8>(p++, 0x20);
  p = decimal(p, mLength, 1);
  p = put4(p, 0x2062, 2); // "b "
  if (mLength <= 12) return xLine(p);
  MB = <u32>mStart;
  N = mLength;
  return question(p);
}

/**
 * Writes the lines of the frames of the run at input offsets [from, to)
 * into the output, from its start, until the run ends, the output has no
 * room for another line, `maxLines` lines are written, a line needs a
 * clock the cache lacks, or a record takes the object path. Results: the
 * input offset of the frame not yet done, the output bytes, the lines, the
 * second wanted.
 *
 * @returns DONE, OUT_FULL, NEED_CLOCK, FALLBACK, LIMIT or BAD_RUN (a
 *   length word runs past the run).
 */
export function scan(from: u32, to: u32, maxLines: u32): u32 {
  let pos = INPUT + from;
  const end = INPUT + to;
  let out = OUTPUT;
  const outEnd = OUTPUT + OUTPUT_SIZE;
  let lines: u32 = 0;
  let status = DONE;
  while (pos < end) {
    if (lines >= maxLines) {
      status = LIMIT;
      break;
    }
    if (out + LINE_MAX > outEnd) {
      status = OUT_FULL;
      break;
    }
    if (end - pos < 4) {
      status = BAD_RUN;
      break;
    }
    const length = bswap<u32>(load<u32>(pos));
    if (length > end - pos - 4) {
      status = BAD_RUN;
      break;
    }
    const r = line(pos + 4, pos + 4 + length, out);
    if (r == -1) {
      status = FALLBACK;
      break;
    }
    if (r == -2) {
      status = NEED_CLOCK;
      break;
    }
    out = <u32>r;
    lines++;
    pos += 4 + length;
  }
  store<f64>(RESULTS, <f64>(pos - INPUT));
  store<f64>(RESULTS + 8, <f64>(out - OUTPUT));
  store<f64>(RESULTS + 16, <f64>lines);
  store<f64>(RESULTS + 24, <f64>wantSec);
  return status;
}
