/**
 * A time zone as Go 1.19's `time` package reads it from a TZif file
 * (`LoadLocationFromTZData`) and looks up a UTC offset in it
 * (`Location.lookup`, with the footer's POSIX TZ rule past the last
 * transition, `tzset`). With it, the quiet dnstap format's local clock is
 * the Go tool's even where the JavaScript engine's time zone data differs
 * from the system's. Portable: the caller reads the file.
 *
 * @module
 */

/** Go's `alpha`, the fake first transition of a zone without any. */
const ALPHA = -(2n ** 63n);
const SECONDS_PER_DAY = 86400;

interface Zone {
  offset: number;
  isDST: boolean;
}

// The kinds of a POSIX TZ rule (plain constants, not an enum: Node and Bun
// run this file by stripping types, which cannot strip an enum).
const RuleKind = { Julian: 0, DOY: 1, MonthWeekDay: 2 } as const;
type RuleKind = typeof RuleKind[keyof typeof RuleKind];

interface Rule {
  kind: RuleKind;
  day: number;
  week: number;
  mon: number;
  time: number;
}

/** Go's `tzsetNum`: [number, rest] or null. */
function tzNum(s: string, min: number, max: number): [number, string] | null {
  if (s.length === 0) return null;
  let num = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) {
      if (i === 0 || num < min) return null;
      return [num, s.slice(i)];
    }
    num = num * 10 + c - 0x30;
    if (num > max) return null;
  }
  if (num < min) return null;
  return [num, ""];
}

/** Go's `tzsetName`: [name, rest] or null. */
function tzName(s: string): [string, string] | null {
  if (s.length === 0) return null;
  if (s[0] !== "<") {
    for (let i = 0; i < s.length; i++) {
      if ("0123456789,-+".includes(s[i]!)) {
        if (i < 3) return null;
        return [s.slice(0, i), s.slice(i)];
      }
    }
    if (s.length < 3) return null;
    return [s, ""];
  }
  const i = s.indexOf(">");
  return i < 0 ? null : [s.slice(1, i), s.slice(i + 1)];
}

/** Go's `tzsetOffset`: [seconds, rest] or null. */
function tzOffset(s: string): [number, string] | null {
  if (s.length === 0) return null;
  let neg = false;
  if (s[0] === "+") s = s.slice(1);
  else if (s[0] === "-") {
    s = s.slice(1);
    neg = true;
  }
  const h = tzNum(s, 0, 24 * 7);
  if (h === null) return null;
  let off = h[0] * 3600;
  s = h[1];
  if (s[0] === ":") {
    const m = tzNum(s.slice(1), 0, 59);
    if (m === null) return null;
    off += m[0] * 60;
    s = m[1];
    if (s[0] === ":") {
      const sec = tzNum(s.slice(1), 0, 59);
      if (sec === null) return null;
      off += sec[0];
      s = sec[1];
    }
  }
  return [neg ? -off : off, s];
}

/** Go's `tzsetRule`: [rule, rest] or null. */
function tzRule(s: string): [Rule, string] | null {
  if (s.length === 0) return null;
  const r: Rule = { kind: RuleKind.DOY, day: 0, week: 0, mon: 0, time: 0 };
  if (s[0] === "J") {
    const j = tzNum(s.slice(1), 1, 365);
    if (j === null) return null;
    r.kind = RuleKind.Julian;
    r.day = j[0];
    s = j[1];
  } else if (s[0] === "M") {
    const mon = tzNum(s.slice(1), 1, 12);
    if (mon === null || mon[1][0] !== ".") return null;
    const week = tzNum(mon[1].slice(1), 1, 5);
    if (week === null || week[1][0] !== ".") return null;
    const day = tzNum(week[1].slice(1), 0, 6);
    if (day === null) return null;
    r.kind = RuleKind.MonthWeekDay;
    r.mon = mon[0];
    r.week = week[0];
    r.day = day[0];
    s = day[1];
  } else {
    const d = tzNum(s, 0, 365);
    if (d === null) return null;
    r.day = d[0];
    s = d[1];
  }
  if (s[0] !== "/") {
    r.time = 2 * 3600;
    return [r, s];
  }
  const off = tzOffset(s.slice(1));
  if (off === null) return null;
  r.time = off[0];
  return [r, off[1]];
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const DAYS_BEFORE = [
  0,
  31,
  59,
  90,
  120,
  151,
  181,
  212,
  243,
  273,
  304,
  334,
  365,
];

function daysIn(mon: number, year: number): number {
  if (mon === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[mon]! - DAYS_BEFORE[mon - 1]!;
}

/** Go's `tzruleTime`: seconds into the year (local) the rule fires. */
function ruleTime(year: number, r: Rule, off: number): number {
  let s: number;
  if (r.kind === RuleKind.Julian) {
    s = (r.day - 1) * SECONDS_PER_DAY;
    if (isLeap(year) && r.day >= 60) s += SECONDS_PER_DAY;
  } else if (r.kind === RuleKind.DOY) {
    s = r.day * SECONDS_PER_DAY;
  } else {
    // Zeller's congruence, with Go's truncating division.
    const m1 = ((r.mon + 9) % 12) + 1;
    let yy0 = year;
    if (r.mon <= 2) yy0--;
    const yy1 = Math.trunc(yy0 / 100);
    const yy2 = yy0 % 100;
    let dow = (Math.trunc((26 * m1 - 2) / 10) + 1 + yy2 + Math.trunc(yy2 / 4) +
      Math.trunc(yy1 / 4) - 2 * yy1) % 7;
    if (dow < 0) dow += 7;
    let d = r.day - dow;
    if (d < 0) d += 7;
    for (let i = 1; i < r.week; i++) {
      if (d + 7 >= daysIn(r.mon, year)) break;
      d += 7;
    }
    d += DAYS_BEFORE[r.mon - 1]!;
    if (isLeap(year) && r.mon > 2) d++;
    s = d * SECONDS_PER_DAY;
  }
  return s + r.time - off;
}

/**
 * The year and day of year Go's `absDate(uint64(sec + unixToAbsolute),
 * false)` gives, from `yearDay` (passed in to share _go_text's calendar).
 */
export type YearDay = (sec: bigint) => [number, number];

/** Go's `tzset`: the offset the TZ rule gives at `sec`, or null. */
function tzset(s: string, sec: bigint, yearDay: YearDay): number | null {
  const std = tzName(s);
  if (std === null) return null;
  const so = tzOffset(std[1]);
  if (so === null) return null;
  let stdOffset = -so[0];
  s = so[1];
  if (s.length === 0 || s[0] === ",") return stdOffset;
  const dst = tzName(s);
  if (dst === null) return null;
  s = dst[1];
  let dstOffset: number;
  if (s.length === 0 || s[0] === ",") {
    dstOffset = stdOffset + 3600;
  } else {
    const d = tzOffset(s);
    if (d === null) return null;
    dstOffset = -d[0];
    s = d[1];
  }
  if (s.length === 0) s = ",M3.2.0,M11.1.0";
  if (s[0] !== "," && s[0] !== ";") return null;
  const start = tzRule(s.slice(1));
  if (start === null || start[1][0] !== ",") return null;
  const end = tzRule(start[1].slice(1));
  if (end === null || end[1].length > 0) return null;
  const [year, yday] = yearDay(sec);
  const ysec = yday * SECONDS_PER_DAY + Number(sec % 86400n);
  let startSec = ruleTime(year, start[0], stdOffset);
  let endSec = ruleTime(year, end[0], dstOffset);
  if (endSec < startSec) {
    [startSec, endSec] = [endSec, startSec];
    [stdOffset, dstOffset] = [dstOffset, stdOffset];
  }
  if (ysec < startSec || ysec >= endSec) return stdOffset;
  return dstOffset;
}

/**
 * A time zone read from TZif data as Go 1.19 reads it, answering Go's
 * offset lookups.
 */
export class GoZone {
  readonly #zones: Zone[];
  readonly #when: bigint[];
  readonly #index: number[];
  readonly #extend: string;
  readonly #first: number;
  readonly #yearDay: YearDay;

  /**
   * Reads TZif data (versions 1 to 3, as Go 1.19 accepts).
   *
   * @param data The file's bytes; none for UTC.
   * @param yearDay The calendar (from _go_text.ts).
   * @throws {SyntaxError} The bytes are not TZif data Go would accept.
   */
  constructor(data: Uint8Array | null, yearDay: YearDay) {
    this.#yearDay = yearDay;
    this.#zones = [];
    this.#when = [];
    this.#index = [];
    this.#extend = "";
    this.#first = 0;
    if (data === null) return;
    const bad = (): never => {
      throw new SyntaxError("Cannot read time zone: not TZif data");
    };
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 0;
    const need = (n: number): number => {
      if (at + n > data.length) bad();
      const p = at;
      at += n;
      return p;
    };
    const header = (): [number, number[]] => {
      const p = need(20);
      if (
        data[p] !== 0x54 || data[p + 1] !== 0x5a || data[p + 2] !== 0x69 ||
        data[p + 3] !== 0x66
      ) bad();
      const v = data[p + 4];
      const version = v === 0 ? 1 : v === 0x32 ? 2 : v === 0x33 ? 3 : bad();
      const counts: number[] = [];
      for (let i = 0; i < 6; i++) counts.push(view.getUint32(need(4)));
      return [version, counts];
    };
    let [version, c] = header();
    // Counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
    let wide = false;
    if (version > 1) {
      need(c[3]! * 5 + c[4]! * 6 + c[5]! + c[2]! * 8 + c[1]! + c[0]!);
      [version, c] = header();
      wide = true;
    }
    const [nUT, nStd, nLeap, nTime, nZone, nChar] = c as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const txAt = need(nTime * (wide ? 8 : 4));
    const idxAt = need(nTime);
    const zoneAt = need(nZone * 6);
    need(nChar + nLeap * (wide ? 12 : 8) + nStd + nUT);
    if (nZone === 0) bad();
    for (let i = 0; i < nZone; i++) {
      this.#zones.push({
        offset: view.getInt32(zoneAt + 6 * i),
        isDST: data[zoneAt + 6 * i + 4] !== 0,
      });
    }
    for (let i = 0; i < nTime; i++) {
      this.#when.push(
        wide
          ? view.getBigInt64(txAt + 8 * i)
          : BigInt(view.getInt32(txAt + 4 * i)),
      );
      const idx = data[idxAt + i]!;
      if (idx >= nZone) bad();
      this.#index.push(idx);
    }
    if (nTime === 0) {
      this.#when.push(ALPHA);
      this.#index.push(0);
    }
    const rest = data.subarray(at);
    if (rest.length > 2 && rest[0] === 10 && rest[rest.length - 1] === 10) {
      this.#extend = new TextDecoder().decode(rest.subarray(1, -1));
    }
    this.#first = this.#firstZone(nTime > 0);
  }

  /** Go's `lookupFirstZone`. */
  #firstZone(hadTransitions: boolean): number {
    if (!hadTransitions || !this.#index.includes(0)) return 0;
    const z = this.#zones;
    const i0 = this.#index[0]!;
    if (z[i0]!.isDST) {
      for (let zi = i0 - 1; zi >= 0; zi--) if (!z[zi]!.isDST) return zi;
    }
    for (let zi = 0; zi < z.length; zi++) if (!z[zi]!.isDST) return zi;
    return 0;
  }

  /**
   * The offset east of UTC, in seconds, at `sec` (Go's `lookup`).
   *
   * @param sec Seconds since the epoch (an int64).
   * @returns The offset.
   */
  offset(sec: bigint): number {
    const when = this.#when;
    if (this.#zones.length === 0) return 0;
    if (sec < when[0]!) return this.#zones[this.#first]!.offset;
    let lo = 0;
    let hi = when.length;
    while (hi - lo > 1) {
      const m = lo + ((hi - lo) >> 1);
      if (sec < when[m]!) hi = m;
      else lo = m;
    }
    if (lo === when.length - 1 && this.#extend !== "") {
      const off = tzset(this.#extend, sec, this.#yearDay);
      if (off !== null) return off;
    }
    return this.#zones[this.#index[lo]!]!.offset;
  }
}
