// Private: the strftime(3) of glibc in the C locale, for `fstrm capture`'s
// file names (`-w` with --localtime or --gmtime), as fstrm_capture expands
// them. Conversions: %a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l
// %m %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %%,
// with glibc's flags (`_` pad with spaces, `-` no padding, `0` pad with
// zeros, `^` upper case), a field width, and the E and O modifiers (which
// change nothing in the C locale). Anything else is refused up front
// (glibc would print it as it is), since a file name is no place for a typo.

const DAYS = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Whether a time is broken down in UTC (`--gmtime`) or local time. */
export type TimeZoneMode = "utc" | "local";

/** A broken-down time, as `struct tm` holds it. */
interface Tm {
  year: number;
  month: number; // 0..11
  day: number; // 1..31
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
  yearDay: number; // 0..365
  offsetMinutes: number; // east of UTC
  zone: string;
  epochSeconds: number;
}

function breakDown(date: Date, mode: TimeZoneMode): Tm {
  const utc = mode === "utc";
  const year = utc ? date.getUTCFullYear() : date.getFullYear();
  const month = utc ? date.getUTCMonth() : date.getMonth();
  const day = utc ? date.getUTCDate() : date.getDate();
  const start = Date.UTC(year, 0, 1);
  const yearDay = Math.round((Date.UTC(year, month, day) - start) / 86_400_000);
  return {
    year,
    month,
    day,
    hour: utc ? date.getUTCHours() : date.getHours(),
    minute: utc ? date.getUTCMinutes() : date.getMinutes(),
    second: utc ? date.getUTCSeconds() : date.getSeconds(),
    weekday: utc ? date.getUTCDay() : date.getDay(),
    yearDay,
    offsetMinutes: utc ? 0 : -date.getTimezoneOffset(),
    // glibc's gmtime_r names its zone "GMT".
    zone: utc ? "GMT" : localZoneName(date),
    epochSeconds: Math.floor(date.getTime() / 1000),
  };
}

/**
 * The local zone's abbreviation, as far as Intl knows it: "UTC", "EST",
 * "CET", "AEDT", "IST"… Each English locale of ICU names its own region's
 * zones, the others as "GMT+1": the first real name wins, else a numeric
 * offset, as glibc gives for zones without an abbreviation.
 */
function localZoneName(date: Date): string {
  for (const locale of ZONE_LOCALES) {
    try {
      const name = new Intl.DateTimeFormat(locale, { timeZoneName: "short" })
        .formatToParts(date)
        .find((p) => p.type === "timeZoneName")?.value;
      if (name !== undefined && !/^GMT[+-]/.test(name)) return name;
    } catch {
      break; // no Intl time zone data
    }
  }
  return numericZone(-date.getTimezoneOffset());
}

const ZONE_LOCALES = ["en-US", "en-GB", "en-AU", "en-IN"];

function numericZone(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const a = Math.abs(minutes);
  return sign + pad2(Math.floor(a / 60)) + pad2(a % 60);
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** ISO 8601 week-based year and week number (for %G, %g, %V). */
function isoWeek(tm: Tm): { year: number; week: number } {
  // The Thursday of this week decides the year.
  const wday = (tm.weekday + 6) % 7; // Monday = 0
  const thursday = tm.yearDay - wday + 3;
  const daysIn = (y: number) =>
    (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 366 : 365;
  if (thursday < 0) {
    const prev = tm.year - 1;
    const t = thursday + daysIn(prev);
    return { year: prev, week: Math.floor(t / 7) + 1 };
  }
  if (thursday >= daysIn(tm.year)) {
    return { year: tm.year + 1, week: 1 };
  }
  return { year: tm.year, week: Math.floor(thursday / 7) + 1 };
}

/** A numeric field: its value and its default width and padding. */
interface Num {
  n: number;
  width: number;
  pad: "0" | " ";
}

/** What one conversion gives: a number (padded by the flags) or text. */
type Piece = Num | string;

function convert(c: string, tm: Tm): Piece | null {
  const h12 = tm.hour % 12 === 0 ? 12 : tm.hour % 12;
  switch (c) {
    case "a":
      return DAYS[tm.weekday]!.slice(0, 3);
    case "A":
      return DAYS[tm.weekday]!;
    case "b":
    case "h":
      return MONTHS[tm.month]!.slice(0, 3);
    case "B":
      return MONTHS[tm.month]!;
    case "c":
      return expand("%a %b %e %H:%M:%S %Y", tm);
    case "C":
      return { n: Math.floor(tm.year / 100), width: 2, pad: "0" };
    case "d":
      return { n: tm.day, width: 2, pad: "0" };
    case "D":
    case "x":
      return expand("%m/%d/%y", tm);
    case "e":
      return { n: tm.day, width: 2, pad: " " };
    case "F":
      return expand("%Y-%m-%d", tm);
    case "g":
      return { n: isoWeek(tm).year % 100, width: 2, pad: "0" };
    case "G":
      return { n: isoWeek(tm).year, width: 1, pad: "0" };
    case "H":
      return { n: tm.hour, width: 2, pad: "0" };
    case "I":
      return { n: h12, width: 2, pad: "0" };
    case "j":
      return { n: tm.yearDay + 1, width: 3, pad: "0" };
    case "k":
      return { n: tm.hour, width: 2, pad: " " };
    case "l":
      return { n: h12, width: 2, pad: " " };
    case "m":
      return { n: tm.month + 1, width: 2, pad: "0" };
    case "M":
      return { n: tm.minute, width: 2, pad: "0" };
    case "n":
      return "\n";
    case "p":
      return tm.hour < 12 ? "AM" : "PM";
    case "P":
      return tm.hour < 12 ? "am" : "pm";
    case "r":
      return expand("%I:%M:%S %p", tm);
    case "R":
      return expand("%H:%M", tm);
    case "s":
      return { n: tm.epochSeconds, width: 1, pad: "0" };
    case "S":
      return { n: tm.second, width: 2, pad: "0" };
    case "t":
      return "\t";
    case "T":
    case "X":
      return expand("%H:%M:%S", tm);
    case "u":
      return { n: tm.weekday === 0 ? 7 : tm.weekday, width: 1, pad: "0" };
    case "U":
      return {
        n: Math.floor((tm.yearDay + 7 - tm.weekday) / 7),
        width: 2,
        pad: "0",
      };
    case "V":
      return { n: isoWeek(tm).week, width: 2, pad: "0" };
    case "w":
      return { n: tm.weekday, width: 1, pad: "0" };
    case "W":
      return {
        n: Math.floor((tm.yearDay + 7 - ((tm.weekday + 6) % 7)) / 7),
        width: 2,
        pad: "0",
      };
    case "y":
      return { n: tm.year % 100, width: 2, pad: "0" };
    case "Y":
      return { n: tm.year, width: 1, pad: "0" };
    case "z":
      return numericZone(tm.offsetMinutes);
    case "Z":
      return tm.zone;
    case "%":
      return "%";
    default:
      return null;
  }
}

// %[flags][width][E|O]conversion
const SPEC = /%([_\-0^]*)(\d*)([EO]?)(.?)/gs;

function expand(format: string, tm: Tm): string {
  return format.replace(SPEC, (whole, flags: string, w: string, _m, c) => {
    const piece = convert(c, tm);
    if (piece === null) {
      throw new SyntaxError(
        c === ""
          ? "a lone % at the end"
          : `unknown conversion ${JSON.stringify(whole)}`,
      );
    }
    const width = w === "" ? null : Number(w);
    const upper = flags.includes("^");
    if (typeof piece === "string") {
      const s = upper ? piece.toUpperCase() : piece;
      return width !== null && s.length < width
        ? (flags.includes("0") ? "0" : " ").repeat(width - s.length) + s
        : s;
    }
    const digits = String(Math.abs(piece.n));
    const sign = piece.n < 0 ? "-" : "";
    let pad: string = piece.pad;
    if (flags.includes("_")) pad = " ";
    if (flags.includes("0")) pad = "0";
    if (flags.includes("-")) return sign + digits;
    const target = width ?? piece.width;
    const body = sign + digits;
    if (body.length >= target) return body;
    return pad === "0"
      ? sign + "0".repeat(target - body.length) + digits
      : " ".repeat(target - body.length) + body;
  });
}

/**
 * Expands `format` as glibc's strftime does in the C locale, for `date`
 * broken down in UTC or local time.
 *
 * @param format The pattern, e.g. `"dnstap-%Y%m%d-%H%M%S.fstrm"`.
 * @param date The time.
 * @param mode `"utc"` (fstrm_capture's `--gmtime`) or `"local"`.
 * @returns The expanded text.
 * @throws {SyntaxError} On a conversion it does not know.
 */
export function strftime(
  format: string,
  date: Date,
  mode: TimeZoneMode,
): string {
  return expand(format, breakDown(date, mode));
}

/**
 * Checks a pattern up front: the message of the first problem, or `null`.
 *
 * @param format The pattern.
 * @returns Why it cannot be expanded, or `null` if it can.
 */
export function strftimeProblem(format: string): string | null {
  try {
    strftime(format, new Date(0), "utc");
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
