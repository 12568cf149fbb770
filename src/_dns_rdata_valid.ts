/**
 * Checks that rdata unpacks as miekg/dns 1.1.50 unpacks it, without making
 * its text: what the Go quiet format needs (it prints a message's question
 * only when the whole message unpacks). Same errors and same stopping point
 * as `rdataText`; a property test holds the two together.
 *
 * @module
 */

import {
  DnsMessageError,
  ERR_BUF,
  ERR_LONG_DOMAIN,
  ERR_POINTERS,
  ERR_RDATA,
  type WireCursor,
} from "./_dns_wire.ts";
import { readTypeBitmap } from "./_dns_rdata_format.ts";
import { apl } from "./_dns_rdata_basic.ts";
import { svcbParams } from "./_dns_rdata_svcb.ts";

// Field kinds of miekg's rdata structs (wasm/dnstap_quiet.ts has the same
// numbers: it reads the schemas from rdataFields).
const U8 = 1, U16 = 2, U32 = 4, U48 = 6, U64 = 8; // sizes
const NAME = 10, STR = 11, A4 = 12, A16 = 13; // scalars
// Without an early stop after them:
const REST = 20, SIZED_PREV = 21, SIZED_2BACK = 22, TXT = 23, BITMAP = 24;
const NAMES = 25, APL = 26, SVCB = 27;

// Fields per type; a type missing here is RFC 3597 (REST).
const SCHEMAS: ReadonlyMap<number, readonly number[]> = new Map<
  number,
  readonly number[]
>([
  [1, [A4]],
  [6, [NAME, NAME, U32, U32, U32, U32, U32]],
  [10, [REST]],
  [13, [STR, STR]],
  [14, [NAME, NAME]],
  [16, [TXT]],
  [19, [STR]],
  [24, [U16, U8, U8, U32, U32, U32, U16, NAME, REST]],
  [25, [U16, U8, U8, REST]],
  [26, [U16, NAME, NAME]],
  [27, [STR, STR, STR]],
  [28, [A16]],
  [29, [U8, U8, U8, U8, U32, U32, U32]],
  [31, [REST]],
  [32, [REST]],
  [33, [U16, U16, U16, NAME]],
  [35, [U16, U16, STR, STR, STR, NAME]],
  [37, [U16, U16, U8, REST]],
  [42, [APL]],
  [43, [U16, U8, U8, REST]],
  [44, [U8, U8, REST]],
  [47, [NAME, BITMAP]],
  [49, [REST]],
  // NSEC3: salt sized by the field before, hash by the one before it.
  [50, [U8, U8, U16, U8, SIZED_PREV, U8, SIZED_PREV, BITMAP]],
  [51, [U8, U8, U16, U8, SIZED_PREV]],
  [52, [U8, U8, U8, REST]],
  // HIP: HIT sized by field 0, key by field 2 (see hipSizes).
  [55, [U8, U8, U16, SIZED_2BACK, SIZED_2BACK, NAMES]],
  [62, [U32, U16, BITMAP]],
  [63, [U32, U8, U8, REST]],
  [64, [U16, NAME, SVCB]],
  [100, [STR]],
  [101, [U32]],
  [104, [U16, U64]],
  [105, [U16, A4]],
  [108, [U48]],
  [109, [U64]],
  [249, [NAME, U32, U32, U16, U16, U16, SIZED_PREV, U16, SIZED_PREV]],
  [250, [NAME, U48, U16, U16, SIZED_PREV, U16, U16, U16, SIZED_PREV]],
  [255, []],
  [256, [U16, U16, REST]],
  [257, [U8, STR, REST]],
]);

// One name: NS, MD, MF, CNAME, MB, MG, MR, PTR, NSAP-PTR, DNAME.
const ONE_NAME = [2, 3, 4, 5, 7, 8, 9, 12, 23, 39];

const BY_NUMBER: (readonly number[] | undefined)[] = [];
for (const [t, s] of SCHEMAS) if (t < 260) BY_NUMBER[t] = s;
for (const t of ONE_NAME) BY_NUMBER[t] = [NAME];
for (const t of [15, 18, 21, 36, 107]) BY_NUMBER[t] = [U16, NAME];
BY_NUMBER[17] = BY_NUMBER[58] = [NAME, NAME];
BY_NUMBER[46] = BY_NUMBER[24];
BY_NUMBER[48] = BY_NUMBER[57] = BY_NUMBER[60] = BY_NUMBER[25];
BY_NUMBER[53] = BY_NUMBER[52];
BY_NUMBER[59] = BY_NUMBER[43];
BY_NUMBER[56] = BY_NUMBER[99] = BY_NUMBER[258] = BY_NUMBER[16];
BY_NUMBER[61] = BY_NUMBER[49];
BY_NUMBER[65] = BY_NUMBER[64];
BY_NUMBER[102] = BY_NUMBER[101];
BY_NUMBER[106] = BY_NUMBER[104];
const REST_ONLY: readonly number[] = [REST];
const DS = BY_NUMBER[43]!;

/**
 * The field kinds rdataValid checks a type's rdata with (numbers as the
 * constants above; a type without a schema is `[REST]`).
 *
 * @param type The record's type.
 * @returns Its fields, in order.
 */
export function rdataFields(type: number): readonly number[] {
  const fields = type < 260
    ? BY_NUMBER[type]
    : type === 32768 || type === 32769
    ? DS
    : undefined;
  return fields ?? REST_ONLY;
}

function fail(off: number, text: string): never {
  throw new DnsMessageError(off, text);
}

/** Skips a domain name exactly as `readName` reads it, errors included. */
function skipName(msg: Uint8Array, cur: WireCursor): void {
  const end = cur.end;
  let off = cur.off;
  let after = -1;
  let budget = 255;
  let pointers = 0;
  for (;;) {
    if (off >= end) fail(off, ERR_BUF);
    const c = msg[off++]!;
    const kind = c & 0xc0;
    if (kind === 0) {
      if (c === 0) break;
      if (off + c > end) fail(off - 1, ERR_BUF);
      budget -= c + 1;
      if (budget <= 0) fail(off - 1, ERR_LONG_DOMAIN);
      off += c;
    } else if (kind === 0xc0) {
      if (off >= end) fail(off - 1, ERR_BUF);
      const c1 = msg[off++]!;
      if (pointers === 0) after = off;
      if (++pointers > 126) fail(off - 2, ERR_POINTERS);
      const to = ((c & 0x3f) << 8) | c1;
      if (to >= end) fail(off - 2, ERR_BUF); // at the pointer, as readName
      off = to;
    } else fail(off - 1, ERR_RDATA);
  }
  cur.off = pointers === 0 ? off : after;
}

const NO_NAME = (): string => "";

// The fields' values as read (for the sizes that follow them), reused: one
// array for every call, as rdataValid never runs inside itself.
const VALS: number[] = new Array<number>(16).fill(0);

/**
 * Checks a record's rdata as `rdataText` reads it, without its text.
 *
 * @param msg The DNS message.
 * @param type The record's type.
 * @param cur `off` at the first rdata byte, `end` at its end; left where
 *   unpacking stopped, as `rdataText` leaves it.
 * @throws {DnsMessageError} Where `rdataText` throws, with the same text.
 */
export function rdataValid(
  msg: Uint8Array,
  type: number,
  cur: WireCursor,
): void {
  const f = rdataFields(type);
  const end = cur.end;
  const vals = VALS;
  for (let i = 0; i < f.length; i++) {
    const k = f[i]!;
    if (cur.off === end) {
      // miekg's early stop: before the first field (empty rdata) and after
      // every scalar field but the last.
      if (i === 0 || f[i - 1]! < REST) return;
    }
    const off = cur.off;
    switch (k) {
      case U8:
      case U16:
      case U32:
      case U48:
      case U64: {
        if (off + k > end) {
          fail(
            off,
            k === U48
              ? "dns: overflow unpacking uint64 as uint48"
              : "dns: overflow unpacking uint" + k * 8,
          );
        }
        vals[i] = k === U8
          ? msg[off]!
          : k === U16
          ? (msg[off]! << 8) | msg[off + 1]!
          : 0;
        cur.off = off + k;
        break;
      }
      case A4:
      case A16: {
        const n = k === A4 ? 4 : 16;
        if (off + n > end) {
          fail(off, "dns: overflow unpacking " + (n === 4 ? "a" : "aaaa"));
        }
        cur.off = off + n;
        break;
      }
      case NAME:
        skipName(msg, cur);
        break;
      case STR:
        if (off + 1 > end || off + 1 + msg[off]! > end) {
          fail(off, "dns: overflow unpacking txt");
        }
        cur.off = off + 1 + msg[off]!;
        break;
      case TXT:
        while (cur.off < end) {
          const o = cur.off;
          if (o + 1 + msg[o]! > end) fail(o, "dns: overflow unpacking txt");
          cur.off = o + 1 + msg[o]!;
        }
        break;
      case REST:
        cur.off = end;
        break;
      case SIZED_PREV:
      case SIZED_2BACK: {
        const n = k === SIZED_PREV ? vals[i - 1]! : hipSize(vals, i);
        if (off + n > end) {
          fail(off, "dns: overflow unpacking " + sizedWhat(type, i));
        }
        cur.off = off + n;
        break;
      }
      case BITMAP:
        readTypeBitmap(msg, cur, NO_NAME);
        break;
      case NAMES:
        while (cur.off < end) skipName(msg, cur);
        break;
      case APL:
        apl(msg, cur);
        break;
      case SVCB:
        svcbParams(msg, cur, false);
        break;
    }
  }
}

// HIP: the HIT's length is field 0, the key's field 2.
function hipSize(vals: number[], i: number): number {
  return i === 3 ? vals[0]! : vals[2]!;
}

function sizedWhat(type: number, i: number): string {
  if (type === 50 && i === 6) return "base32";
  if (type === 55 && i === 4) return "base64";
  return "hex";
}
