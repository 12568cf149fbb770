// Private: the quiet line (`dnstap -q`) straight from a record's protobuf
// bytes into an output buffer, with no Dnstap object and no string per
// field: the path `fstrm dnstap -q` takes for every record of the usual
// shape. It reads only the fields the line needs and handles only what is
// common (known fields of the right wire type, one message, no policy, a
// 4- or 16-byte address, a question name of plain labels in place); for
// anything else it writes nothing and says so, and the caller takes the
// object path (decodeDnstap then formatDnstapQuiet), which is the
// reference: a test checks that both give the same bytes on every capture
// record and on random and mutated records.
//
// quietScanTs runs it over a whole run of frames, with the clock from a
// per-second cache: the TypeScript twin of the WebAssembly quiet scan
// (wasm/dnstap_quiet.ts), held to it call by call by
// tests/dnstap_quiet_scan_test.ts and the dnstap-quiet fuzz target. Change
// one, change the other.
import { className, typeName } from "./_dns_names.ts";
import { skipQuestion, skipRecord } from "./_dns_record.ts";
import { DnsMessageError, readU16, WireCursor } from "./_dns_wire.ts";
import { goIPString, goSocketProtocol } from "./_go_text.ts";
import { goLocalClock } from "./_go_time.ts";
import {
  CLOCK_SLOTS,
  QS_BAD_RUN,
  QS_DONE,
  QS_FALLBACK,
  QS_LIMIT,
  QS_NEED_CLOCK,
  QS_OUT_FULL,
} from "./_dnstap_quiet_tables.ts";

/** What {@linkcode quietLineInto} returns when the object path must print. */
export const QUIET_FALLBACK = -1;

/** The room a caller gives {@linkcode quietLineInto}, bytes. */
export const QUIET_LINE_MAX = 1536;

/**
 * By Message.Type number: the two letters and space, as char codes, then
 * whether the query's side is printed and whether the query address is
 * (as `KINDS` of _dnstap_quiet.ts; STUB_* and others take the object path).
 */
const KINDS: ([number, number, boolean, boolean] | undefined)[] = [
  undefined,
  [0x41, 0x51, true, true], // AQ
  [0x41, 0x52, false, true], // AR
  [0x52, 0x51, true, false], // RQ
  [0x52, 0x52, false, false], // RR
  [0x43, 0x51, true, true], // CQ
  [0x43, 0x52, false, true], // CR
  [0x46, 0x51, true, false], // FQ
  [0x46, 0x52, false, false], // FR
  undefined,
  undefined,
  [0x54, 0x51, true, false], // TQ
  [0x54, 0x52, false, false], // TR
  [0x55, 0x51, true, false], // UQ
  [0x55, 0x52, false, false], // UR
];

/** The protocol's text by enum number (0 to 127), as Go prints it. */
const PROTOCOLS: string[] = [];
for (let v = 0; v < 128; v++) PROTOCOLS.push(goSocketProtocol(v));

// The fields of the record being read: offsets into its bytes, -1 absent.
let dnstapType = -1;
let messageType = -1;
let protocol = -1;
let qaStart = -1, qaEnd = -1, raStart = -1, raEnd = -1;
let qmStart = -1, qmEnd = -1, rmStart = -1, rmEnd = -1;
let qSec = -1, rSec = -1, qNsec = -1, rNsec = -1;
// The read position, and the field reader's results.
let at = 0;

/** A varint of at most 7 bytes (< 2^49) at `at`, or -1 (cut, or longer). */
function varint(b: Uint8Array, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (at >= end) return -1;
    const byte = b[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  return -1;
}

/** A length prefix at `at`: the payload's start (`at` past it), or -1. */
function lengthField(b: Uint8Array, end: number): number {
  const n = varint(b, end);
  if (n < 0 || n > end - at) return -1;
  const start = at;
  at += n;
  return start;
}

/** Reads the Message at `[start, end)`; false for the object path. */
function readMessage(b: Uint8Array, start: number, end: number): boolean {
  at = start;
  while (at < end) {
    let t = b[at++]!;
    if (t >= 0x80) {
      // Only field 16 (http_protocol, a varint) has a two-byte tag here.
      if (t !== 0x80 || at >= end || b[at] !== 0x01) return false;
      at++;
      const v = varint(b, end);
      if (v < 0 || v >= 0x80000000) return false;
      continue;
    }
    const wire = t & 7;
    t >>>= 3;
    if (wire === 0) {
      const v = varint(b, end);
      if (v < 0) return false;
      switch (t) {
        case 1:
          if (v >= 0x80000000) return false;
          messageType = v;
          break;
        case 2: // socket_family: not printed
        case 6: // ports: not printed
        case 7:
          if (v >= 0x80000000) return false;
          break;
        case 3:
          if (v >= 0x80) return false;
          protocol = v;
          break;
        case 8:
          qSec = v;
          break;
        case 12:
          rSec = v;
          break;
        default:
          return false;
      }
    } else if (wire === 2) {
      const s = lengthField(b, end);
      if (s < 0) return false;
      switch (t) {
        case 4:
          qaStart = s;
          qaEnd = at;
          break;
        case 5:
          raStart = s;
          raEnd = at;
          break;
        case 10:
          qmStart = s;
          qmEnd = at;
          break;
        case 14:
          rmStart = s;
          rmEnd = at;
          break;
        case 11: // query_zone: not printed
          break;
        default:
          return false; // policy (15), or a wire type the decoder rejects
      }
    } else if (wire === 5) {
      if (end - at < 4) return false;
      const v = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) |
        (b[at + 3]! << 24)) >>> 0;
      at += 4;
      if (t === 9) qNsec = v;
      else if (t === 13) rNsec = v;
      else return false;
    } else return false;
  }
  return messageType >= 0;
}

/** Reads the record's fields; false for the object path. */
function readRecord(b: Uint8Array, start: number, end: number): boolean {
  dnstapType = messageType = protocol = -1;
  qaStart =
    qaEnd =
    raStart =
    raEnd =
      -1;
  qmStart =
    qmEnd =
    rmStart =
    rmEnd =
      -1;
  qSec =
    rSec =
    qNsec =
    rNsec =
      -1;
  let msgStart = -1;
  let msgEnd = -1;
  at = start;
  while (at < end) {
    const t = b[at++]!;
    if (t === 0x0a || t === 0x12 || t === 0x1a) {
      // identity, version, extra: not printed
      if (lengthField(b, end) < 0) return false;
    } else if (t === 0x72) {
      if (msgStart >= 0) return false; // a repeat merges: object path
      msgStart = lengthField(b, end);
      if (msgStart < 0) return false;
      msgEnd = at;
    } else if (t === 0x78) {
      const v = varint(b, end);
      if (v < 0 || v >= 0x80000000) return false;
      dnstapType = v;
    } else return false;
  }
  if (dnstapType !== 1 || msgStart < 0) return false;
  return readMessage(b, msgStart, msgEnd);
}

/** Writes `s` (ASCII) at `p`; returns the end. */
function ascii(out: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[p++] = s.charCodeAt(i);
  return p;
}

/** Writes an integer from 0 to 2^31 - 1 in decimal, at least `min` digits. */
function decimal(out: Uint8Array, p: number, n: number, min: number): number {
  let digits = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  for (let v = n / 100000 | 0; v > 0; v = v / 10 | 0) digits++;
  if (digits < min) digits = min;
  const end = p + digits;
  for (let i = end - 1; i >= p; i--) {
    const q = n / 10 | 0;
    out[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/** 1 for a name byte that prints as itself (as plainName of _dns_wire.ts). */
const PLAIN = new Uint8Array(256);
for (let b = 0x21; b <= 0x7e; b++) PLAIN[b] = 1;
for (const c of ".'@;()\"\\") PLAIN[c.charCodeAt(0)] = 0;

/** A type's or class's text as bytes, for the numbers below 260. */
const TYPE_BYTES: Uint8Array[] = [];
const CLASS_BYTES: Uint8Array[] = [];
for (let v = 0; v < 260; v++) {
  TYPE_BYTES.push(Uint8Array.from(typeName(v), (c) => c.charCodeAt(0)));
  CLASS_BYTES.push(Uint8Array.from(className(v), (c) => c.charCodeAt(0)));
}

/** Writes `b` at `p`; returns the end. */
function put(out: Uint8Array, p: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) out[p++] = b[i]!;
  return p;
}

// The last clock written, `hh:mm:ss`, and as bytes.
let clockText = "";
const clock = new Uint8Array(8);

/**
 * The name of labels in place from offset 12 to `nameEnd` as readName
 * prints it: special characters after a backslash, bytes outside printable
 * ASCII as `\DDD`, a dot after each label.
 */
function escapedName(
  msg: Uint8Array,
  nameEnd: number,
  out: Uint8Array,
  p: number,
): number {
  for (let off = 12; off < nameEnd; off += msg[off]! + 1) {
    for (let i = off + 1; i <= off + msg[off]!; i++) {
      const b = msg[i]!;
      if (PLAIN[b] === 1) out[p++] = b;
      else if (b < 0x20 || b > 0x7e) {
        out[p++] = 0x5c;
        out[p++] = 0x30 + ((b / 100) | 0);
        out[p++] = 0x30 + (((b / 10) | 0) % 10);
        out[p++] = 0x30 + (b % 10);
      } else {
        out[p++] = 0x5c;
        out[p++] = b;
      }
    }
    out[p++] = 0x2e;
  }
  return p;
}

const cur = new WireCursor();

/**
 * The quiet question of `msg` (more than 12 bytes) at `p`, as
 * `quietQuestion` gives it, or `X `; then the newline. -1 for the object
 * path (a first name that is not labels in place, within 255 octets).
 */
function questionInto(msg: Uint8Array, out: Uint8Array, p: number): number {
  const n = msg.length;
  const qdcount = (msg[4]! << 8) | msg[5]!;
  if (qdcount === 0) return ascii(out, p, "X \n");
  // The first name: labels in place, within bounds and 255 octets.
  let off = 12;
  let plain = true;
  for (;;) {
    if (off >= n) return -1;
    const c = msg[off]!;
    if (c === 0) break;
    if (c >= 0x40 || off + 1 + c > n || off + c - 12 >= 254) return -1;
    for (let i = off + 1; i <= off + c; i++) {
      if (PLAIN[msg[i]!] === 0) plain = false;
    }
    off += c + 1;
  }
  const nameEnd = off;
  let type = 0;
  let cls = 0;
  cur.off = off + 1;
  cur.end = n;
  try {
    // As unpackQuestion after the name, then the rest as quietQuestion.
    if (cur.off !== n) {
      type = readU16(msg, cur);
      if (cur.off !== n) {
        if (cur.off + 2 > n) cur.off = n;
        else cls = readU16(msg, cur);
      }
    }
    for (let i = 1; i < qdcount; i++) skipQuestion(msg, cur);
    for (let k = 6; k < 12; k += 2) {
      const count = (msg[k]! << 8) | msg[k + 1]!;
      for (let i = 0; i < count && skipRecord(msg, cur); i++);
    }
  } catch (e) {
    if (e instanceof DnsMessageError) return ascii(out, p, "X \n");
    throw e;
  }
  out[p++] = 0x22;
  if (nameEnd === 12) out[p++] = 0x2e; // the root: "."
  else if (plain) {
    for (let i = 13; i < nameEnd; i++) out[p++] = msg[i]!;
    // The length bytes after the first are dots.
    for (let i = 12 + msg[12]! + 1; i < nameEnd; i += msg[i]! + 1) {
      out[p - nameEnd + i] = 0x2e;
    }
    out[p++] = 0x2e;
  } else p = escapedName(msg, nameEnd, out, p);
  out[p++] = 0x22;
  out[p++] = 0x20;
  p = cls < 260
    ? put(out, p, CLASS_BYTES[cls]!)
    : ascii(out, p, className(cls));
  out[p++] = 0x20;
  p = type < 260
    ? put(out, p, TYPE_BYTES[type]!)
    : ascii(out, p, typeName(type));
  out[p++] = 0x0a;
  return p;
}

/**
 * Writes the quiet line of the record `bytes[start, end)` (a dnstap
 * protobuf) into `out` at `pos`, as `formatDnstapQuiet(decodeDnstap(...))`
 * gives it, or writes nothing and returns {@linkcode QUIET_FALLBACK} when
 * the record is not of the shape this path handles (malformed, STUB types,
 * a policy, unknown fields, a question name with escapes or pointers, ...):
 * then take the object path.
 *
 * @param bytes The bytes holding the record.
 * @param start Where the record starts.
 * @param end Where it ends.
 * @param out The output; at least {@linkcode QUIET_LINE_MAX} bytes from `pos`.
 * @param pos Where to write.
 * @returns The end of what was written, or {@linkcode QUIET_FALLBACK}.
 */
export function quietLineInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  pos: number,
): number {
  if (!readRecord(bytes, start, end)) return QUIET_FALLBACK;
  const kind = KINDS[messageType];
  if (kind === undefined) return QUIET_FALLBACK;
  const isQuery = kind[2];
  const aStart = kind[3] ? qaStart : raStart;
  const aEnd = kind[3] ? qaEnd : raEnd;
  const aLength = aEnd - aStart;
  if (aStart >= 0 && aLength !== 4 && aLength !== 16) return QUIET_FALLBACK;
  let p = pos;
  const sec = isQuery ? qSec : rSec;
  const nsec = isQuery ? qNsec : rNsec;
  if (sec < 0) p = ascii(out, p, "??:??:??");
  else if (cache !== null) {
    // In a scan: the clock from the cache, or ask for it.
    const slot = sec % CLOCK_SLOTS;
    if (cache.secs[slot] !== sec) {
      wantSec = sec;
      return NEED_CLOCK;
    }
    const text = cache.text;
    for (let i = slot * 8, e = i + 8; i < e; i++) out[p++] = text[i]!;
  } else {
    // goLocalClock keeps its last text (and drops it when the zone is set).
    const text = goLocalClock(sec);
    if (text !== clockText) {
      clockText = text;
      for (let i = 0; i < 8; i++) clock[i] = text.charCodeAt(i);
    }
    p = put(out, p, clock);
  }
  if (nsec < 0) p = ascii(out, p, ".?????? ");
  else {
    out[p++] = 0x2e;
    p = decimal(out, p, Math.floor(nsec / 1000), 6);
    out[p++] = 0x20;
  }
  out[p++] = kind[0];
  out[p++] = kind[1];
  out[p++] = 0x20;
  if (aStart < 0) p = ascii(out, p, "MISSING_ADDRESS ");
  else {
    if (aLength === 4) {
      for (let i = aStart; i < aEnd; i++) {
        p = decimal(out, p, bytes[i]!, 1);
        out[p++] = i + 1 < aEnd ? 0x2e : 0x20;
      }
    } else {
      p = ascii(out, p, goIPString(bytes.subarray(aStart, aEnd)));
      out[p++] = 0x20;
    }
  }
  if (protocol >= 0) p = ascii(out, p, PROTOCOLS[protocol]!);
  const mStart = isQuery ? qmStart : rmStart;
  const mLength = mStart < 0 ? 0 : (isQuery ? qmEnd : rmEnd) - mStart;
  out[p++] = 0x20;
  p = decimal(out, p, mLength, 1);
  out[p++] = 0x62; // b
  out[p++] = 0x20;
  if (mLength <= 12) return ascii(out, p, "X \n");
  return questionInto(bytes.subarray(mStart, mStart + mLength), out, p);
}

/**
 * The clock cache of a scan: by slot (`sec % CLOCK_SLOTS`), the second and
 * its `hh:mm:ss` text, as the WebAssembly scan keeps it in its memory.
 */
export class QuietClocks {
  /** The second of each slot; -1 for none. */
  readonly secs: Float64Array = new Float64Array(CLOCK_SLOTS).fill(-1);
  /** Eight bytes of text per slot. */
  readonly text: Uint8Array = new Uint8Array(CLOCK_SLOTS * 8);

  /** Sets the clock text (8 ASCII characters) of `sec`. */
  set(sec: number, text: string): void {
    const slot = sec % CLOCK_SLOTS;
    this.secs[slot] = sec;
    for (let i = 0; i < 8; i++) this.text[slot * 8 + i] = text.charCodeAt(i);
  }
}

/** What quietLineInto's body returns when the clock is not cached. */
const NEED_CLOCK = -2;
/** The scan's clock cache while it runs, else null (goLocalClock). */
let cache: QuietClocks | null = null;
/** The second a line waits for. */
let wantSec = -1;

/**
 * Writes the quiet lines of the run of data frames `input[from, to)` (each
 * a big-endian length word, then the payload) into `out` from `outFrom`,
 * until the run ends, `out` has no room for another line before `outTo`,
 * `maxLines` lines are written, a line needs a clock `clocks` lacks, or a
 * record takes the object path: the TypeScript twin of `scan` in
 * wasm/dnstap_quiet.ts, same lines, statuses and results.
 *
 * @param results Filled with: the offset of the frame not yet done, the
 *   end of the output, the lines written, the second wanted.
 * @returns One of the `QS_` statuses.
 */
export function quietScanTs(
  input: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  outFrom: number,
  outTo: number,
  maxLines: number,
  clocks: QuietClocks,
  results: Float64Array,
): number {
  let pos = from;
  let o = outFrom;
  let lines = 0;
  let status = QS_DONE;
  cache = clocks;
  try {
    while (pos < to) {
      if (lines >= maxLines) {
        status = QS_LIMIT;
        break;
      }
      if (o + QUIET_LINE_MAX > outTo) {
        status = QS_OUT_FULL;
        break;
      }
      if (to - pos < 4) {
        status = QS_BAD_RUN;
        break;
      }
      const length = (input[pos]! << 24 | input[pos + 1]! << 16 |
        input[pos + 2]! << 8 | input[pos + 3]!) >>> 0;
      if (length > to - pos - 4) {
        status = QS_BAD_RUN;
        break;
      }
      const r = quietLineInto(input, pos + 4, pos + 4 + length, out, o);
      if (r === QUIET_FALLBACK) {
        status = QS_FALLBACK;
        break;
      }
      if (r === NEED_CLOCK) {
        status = QS_NEED_CLOCK;
        break;
      }
      o = r;
      lines++;
      pos += 4 + length;
    }
  } finally {
    cache = null;
  }
  results[0] = pos;
  results[1] = o;
  results[2] = lines;
  results[3] = wantSec;
  return status;
}
