// The AssemblyScript twin of quietScanTs (src/_dnstap_quiet_fast.ts): the
// quiet lines (`fstrm dnstap -q`) of a run of data frames, written straight
// from the frames' bytes, with the same checks in the same order, the same
// fallbacks and the same statuses. Keep the two in step;
// tests/dnstap_quiet_scan_test.ts compares them.
//
// Memory layout (fixed; no allocator, no data segments):
//   [OUT, +32)                   the frame scan's out words (frames.ts)
//   [RESULTS, +32)               f64 words: input offset reached, output
//                                bytes, lines written, the second wanted
//   [VALS, +64)                  u32 scratch: rdata field values (the
//                                DNS validity walk, wasm/dns_valid.ts)
//   [TABLE, +12 * TABLE_CAPACITY) the frame scan's table (frames.ts)
//   [TABLES, TABLES_END)         names, rdata schemas and the bytes in
//                                decimal, written by the caller
//                                (src/_dnstap_quiet_tables.ts)
//   [CLOCKS, +16 * 1024)         the clock cache: f64 second, 8 bytes text
//   [OUTPUT, +OUTPUT_SIZE)       the lines of the last call
//   [INPUT, memory end)          the run, or the reader's window: frames,
//                                each a big-endian length, then its bytes
// Offsets given and returned are input offsets (address - INPUT).
//
// Two ways in: the caller copies a run of data frames to INPUT and calls
// scan(); or a reader (src/_dnstap_quiet_reader.ts) reads its window
// straight into INPUT, finds the frames with scanFrames() (the frame scan
// of every module, scanFramesTs's twin) and calls scan() on each run of
// data frames where it lies: no copy.
//
// The addresses above are in quiet_layout.ts, the text writers (numbers,
// table rows, addresses) in quiet_text.ts.

import {
  OUT,
  scanRange,
  TABLE,
  TABLE_CAPACITY,
} from "./assembly/frames";
import {
  be16,
  beginMessage,
  skipQuestion,
  skipRecord,
} from "./dns_valid";
import {
  RESULTS,
  TABLES,
  TYPE_NAMES,
  CLASS_NAMES,
  PROTOCOLS,
  EXTRA_TYPES,
  PLAIN,
  TABLES_END,
  CLOCKS,
  OUTPUT,
  OUTPUT_SIZE,
  INPUT,
  INPUT_MAX,
  LINE_MAX,
} from "./quiet_layout";
import {
  decimal,
  row,
  put4,
  ipv4,
  ipv6,
} from "./quiet_text";

const DONE: u32 = 0;
const OUT_FULL: u32 = 1;
const NEED_CLOCK: u32 = 2;
const FALLBACK: u32 = 3;
const LIMIT: u32 = 4;
const BAD_RUN: u32 = 5;

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
/** Byte offset of the frame scan's 8 out words. */
export function outOffset(): u32 {
  return OUT;
}
/** Byte offset of the frame scan's table. */
export function tableOffset(): u32 {
  return TABLE;
}
/** Entries the frame scan's table holds. */
export function tableCapacity(): u32 {
  return TABLE_CAPACITY;
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
  beginMessage(mb, nameEnd - mb - 12);
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

/**
 * The frame scan of the window at input offsets [from, to), as
 * scanFramesTs (src/_scan.ts) with the table's capacity: the table and the
 * out words filled, positions input offsets. `to` past the input region is
 * taken as its end.
 *
 * @returns The table's entries.
 */
export function scanFrames(from: u32, to: u32, maxFrameLength: u32): u32 {
  const room = inputCapacity();
  if (to > room) to = room;
  if (from > to) from = to;
  return scanRange(
    INPUT + from,
    INPUT + to,
    INPUT + to,
    maxFrameLength,
    0,
    TABLE_CAPACITY,
    0 - INPUT,
    false,
    0,
  );
}
