/**
 * Go 1.19's `time.Time.Format` for the layouts the Go `dnstap` tool uses
 * (`15:04:05` local, `2006-01-02 15:04:05.999999999` and RFC3339Nano in
 * UTC), with `time.Unix`'s normalisation, int64 wrap-around and Go's
 * calendar arithmetic for any year.
 *
 * @module
 */
import { GoZone } from "./_go_zone.ts";

const SECONDS_PER_DAY = 86400;
const DAYS_PER_400 = 146097;
const DAYS_PER_100 = 36524;
const DAYS_PER_4 = 1461;
/** Go's absoluteZeroYear. */
const ABSOLUTE_ZERO_YEAR = -292277022399;
/** Go's unixToInternal + internalToAbsolute, in days (an exact multiple). */
const UNIX_TO_ABSOLUTE_DAYS = (292277022400 / 400) * DAYS_PER_400 +
  (1969 * 365 + 492 - 19 + 4);
/** The same in seconds. */
const UNIX_TO_ABSOLUTE = BigInt(UNIX_TO_ABSOLUTE_DAYS) * 86400n;
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

/** A civil date and clock, as Go's `absDate` and `absClock` compute them. */
export interface GoDate {
  /** The year (any sign, up to 12 digits). */
  year: number;
  /** 1 to 12. */
  month: number;
  /** 1 to 31. */
  day: number;
  /** Seconds into the day, 0 to 86399. */
  clock: number;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

/** Go's absDate, first half: the year and day of year of an absolute day. */
function absYear(d: number): [number, number] {
  let n = Math.floor(d / DAYS_PER_400);
  let y = 400 * n;
  d -= DAYS_PER_400 * n;
  n = Math.floor(d / DAYS_PER_100);
  n -= n >> 2;
  y += 100 * n;
  d -= DAYS_PER_100 * n;
  n = Math.floor(d / DAYS_PER_4);
  y += 4 * n;
  d -= DAYS_PER_4 * n;
  n = Math.floor(d / 365);
  n -= n >> 2;
  y += n;
  d -= 365 * n;
  return [y + ABSOLUTE_ZERO_YEAR, d];
}

/** Go's absDate on an absolute day number (days since absoluteZeroYear). */
function absDate(d: number, clock: number): GoDate {
  const [year, yday] = absYear(d);
  let day = yday;
  if (isLeap(year)) {
    if (day === 59) return { year, month: 2, day: 29, clock };
    if (day > 59) day--;
  }
  let month = Math.floor(day / 31);
  const end = DAYS_BEFORE[month + 1]!;
  let begin: number;
  if (day >= end) {
    month++;
    begin = end;
  } else {
    begin = DAYS_BEFORE[month]!;
  }
  return { year, month: month + 1, day: day - begin + 1, clock };
}

/**
 * Go's `absDate(uint64(sec + unixToInternal + internalToAbsolute), false)`:
 * the year and day of year (0-based) of an int64 second.
 */
export function goYearDay(sec: bigint): [number, number] {
  const abs = BigInt.asUintN(64, sec + UNIX_TO_ABSOLUTE);
  return absYear(Number(abs / 86400n));
}

/**
 * Go's `time.Unix(int64(sec), int64(nsec))`: the nanoseconds carried into
 * the seconds, and the seconds as an int64 (a uint64 of 2^63 or more wraps
 * negative). Returns the seconds as a bigint when they are not a safe
 * non-negative number.
 */
export function goUnix(
  sec: number | bigint,
  nsec: number,
): [number | bigint, number] {
  let carry = 0;
  if (nsec >= 1e9) {
    carry = Math.floor(nsec / 1e9);
    nsec -= carry * 1e9;
  }
  if (typeof sec === "number" && sec + carry <= Number.MAX_SAFE_INTEGER) {
    return [sec + carry, nsec];
  }
  return [
    BigInt.asIntN(64, BigInt.asIntN(64, BigInt(sec)) + BigInt(carry)),
    nsec,
  ];
}

/**
 * The UTC date and clock Go's `Format` uses for the seconds of a
 * `time.Unix` value (plus a zone offset), with Go's uint64 wrap-around.
 *
 * @param sec Seconds since the epoch as `goUnix` returns them.
 * @param offset Zone offset in seconds, added first.
 */
export function goDate(sec: number | bigint, offset = 0): GoDate {
  if (typeof sec === "number" && sec >= 0 && sec < 2 ** 52) {
    const t = sec + offset;
    const days = Math.floor(t / SECONDS_PER_DAY);
    return absDate(days + UNIX_TO_ABSOLUTE_DAYS, t - days * SECONDS_PER_DAY);
  }
  const abs = BigInt.asUintN(
    64,
    BigInt.asIntN(64, BigInt(sec) + BigInt(offset)) + UNIX_TO_ABSOLUTE,
  );
  const days = abs / 86400n;
  return absDate(Number(days), Number(abs - days * 86400n));
}

const TWO: string[] = [];
for (let i = 0; i < 100; i++) TWO.push(String(i).padStart(2, "0"));

/** Go's `appendInt(year, 4)`: at least 4 digits, `-` first if negative. */
function year4(y: number): string {
  if (y >= 1000 && y <= 9999) return String(y);
  const a = Math.abs(y);
  return (y < 0 ? "-" : "") + String(a).padStart(4, "0");
}

/** Go's `.999999999`: a dot and the nanoseconds without trailing zeros. */
function fraction(nsec: number): string {
  if (nsec === 0) return "";
  let digits = 9;
  while (nsec % 10 === 0) {
    nsec /= 10;
    digits--;
  }
  const s = String(nsec);
  return s.length === digits
    ? "." + s
    : "." + "00000000".slice(0, digits - s.length) + s;
}

/**
 * `time.Unix(sec, nsec).UTC().Format(layout)` for Go's layouts
 * `2006-01-02 15:04:05.999999999` (`sep` = " ") and RFC3339Nano without the
 * zone (`sep` = "T"; the caller adds "Z").
 *
 * @param sec The uint64 seconds.
 * @param nsec The uint32 nanoseconds (may be a second or more).
 * @param sep The character between date and clock.
 * @returns The text.
 */
export function goTimeUTC(
  sec: number | bigint,
  nsec: number,
  sep: string,
): string {
  const [s, ns] = goUnix(sec, nsec);
  const cache = sep === " " ? SPACE_CACHE : T_CACHE;
  if (cache.sec !== s) {
    const d = goDate(s);
    const c = d.clock;
    const h = Math.floor(c / 3600);
    const m = Math.floor((c - h * 3600) / 60);
    cache.text = year4(d.year) + "-" + TWO[d.month]! + "-" + TWO[d.day]! +
      sep + TWO[h]! + ":" + TWO[m]! + ":" + TWO[c - h * 3600 - m * 60]!;
    cache.sec = s;
  }
  return ns === 0 ? cache.text : cache.text + fraction(ns);
}

/** The last second formatted with a layout, and its text. */
interface SecondCache {
  sec: number | bigint;
  text: string;
}
const SPACE_CACHE: SecondCache = { sec: -1, text: "" };
const T_CACHE: SecondCache = { sec: -1, text: "" };

/** Seconds in 400 Gregorian years, the calendar's (and time zones') cycle. */
const CYCLE = 12622780800;
/** Seconds a JavaScript Date holds either side of the epoch. */
const DATE_LIMIT = 8.64e12;
const CYCLE_N = BigInt(CYCLE);
const DATE_LIMIT_N = BigInt(DATE_LIMIT);

/** The local zone's offset in seconds at a time `Date` can hold. */
function localOffset(sec: number): number {
  const d = new Date(sec * 1000);
  const wall = Date.UTC(
    d.getFullYear(),
    d.getMonth(),
    d.getDate(),
    d.getHours(),
    d.getMinutes(),
    d.getSeconds(),
  ) / 1000;
  return wall - sec;
}

let lastSec: number | bigint = -1;
let lastClock = "";
let localZone: GoZone | undefined;

/**
 * Makes the quiet format's local clock use a time zone read as Go reads it
 * (TZif data; null for UTC) instead of the JavaScript engine's, or the
 * engine's again (undefined). A Deno program gets Go's choice of file from
 * `loadGoLocalZone` in src/cli/_go_local_zone.ts.
 *
 * @param data TZif bytes, null for UTC, undefined for the engine's zone.
 * @throws {SyntaxError} The bytes are not TZif data Go accepts.
 */
export function setGoLocalZone(data: Uint8Array | null | undefined): void {
  localZone = data === undefined ? undefined : new GoZone(data, goYearDay);
  lastSec = -1;
}

/**
 * `time.Unix(int64(sec), 0).Format("15:04:05")` in the process's local time
 * zone: the one set with `setGoLocalZone`, else the JavaScript engine's
 * (`TZ`, else the system's); cached for the last second asked.
 *
 * @param sec The uint64 seconds.
 * @returns `hh:mm:ss`.
 */
export function goLocalClock(sec: number | bigint): string {
  if (sec === lastSec) return lastClock;
  let text: string;
  if (localZone !== undefined) {
    const s = goUnix(sec, 0)[0];
    const c = goDate(s, localZone.offset(BigInt(s))).clock;
    const h = Math.floor(c / 3600);
    const m = Math.floor((c - h * 3600) / 60);
    text = TWO[h]! + ":" + TWO[m]! + ":" + TWO[c - h * 3600 - m * 60]!;
  } else if (typeof sec === "number" && sec < DATE_LIMIT) {
    const d = new Date(sec * 1000);
    text = TWO[d.getHours()]! + ":" + TWO[d.getMinutes()]! + ":" +
      TWO[d.getSeconds()]!;
  } else {
    const s = goUnix(sec, 0)[0];
    // Far times: the offset of the same moment some 400-year cycles nearer.
    const big = BigInt(s);
    let near: number;
    if (big >= DATE_LIMIT_N) {
      near = 2e10 + Number((big - 20000000000n) % CYCLE_N);
    } else if (big <= -DATE_LIMIT_N) {
      near = -1e11 - Number((-100000000000n - big) % CYCLE_N);
    } else {
      near = Number(big);
    }
    const c = goDate(s, localOffset(near)).clock;
    const h = Math.floor(c / 3600);
    const m = Math.floor((c - h * 3600) / 60);
    text = TWO[h]! + ":" + TWO[m]! + ":" + TWO[c - h * 3600 - m * 60]!;
  }
  lastSec = sec;
  lastClock = text;
  return text;
}
