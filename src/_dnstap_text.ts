/**
 * Text forms of dnstap values: times as ISO 8601 with nanoseconds, addresses
 * as IPv4 dotted quads and RFC 5952 IPv6 text, and back.
 *
 * @module
 */

/** Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
function civil(days: bigint): [bigint, bigint, bigint] {
  const z = days + 719468n;
  const era = (z >= 0n ? z : z - 146096n) / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const d = doy - (153n * mp + 2n) / 5n + 1n;
  const m = mp < 10n ? mp + 3n : mp - 9n;
  const y = yoe + era * 400n + (m <= 2n ? 1n : 0n);
  return [y, m, d];
}

function pad(v: bigint | number, n: number): string {
  return String(v).padStart(n, "0");
}

/**
 * A dnstap time (seconds since the Unix epoch, UTC, and nanoseconds) as an
 * ISO 8601 string with all nine digits of nanoseconds:
 * `"2026-11-25T18:21:06.240151000Z"`. Exact for any uint64 seconds (years
 * past 9999 get more digits). Absent nanoseconds count as 0.
 *
 * @example
 * ```ts
 * import { formatDnstapTime } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatDnstapTime(1_764_094_866, 240_151_000),
 *   "2025-11-25T18:21:06.240151000Z",
 * );
 * ```
 *
 * @param seconds Seconds since 1970-01-01T00:00:00Z (a non-negative integer).
 * @param nanoseconds Nanoseconds, 0 to 999,999,999.
 * @returns The time as text.
 * @throws {RangeError} A value is negative, not an integer, or the
 * nanoseconds are a second or more.
 */
export function formatDnstapTime(
  seconds: number | bigint,
  nanoseconds = 0,
): string {
  if (
    (typeof seconds === "number" && !Number.isSafeInteger(seconds)) ||
    seconds < 0
  ) {
    throw new RangeError(
      `Cannot format dnstap time: seconds ${seconds} is not a non-negative integer`,
    );
  }
  if (
    !Number.isInteger(nanoseconds) || nanoseconds < 0 ||
    nanoseconds > 999_999_999
  ) {
    throw new RangeError(
      `Cannot format dnstap time: nanoseconds ${nanoseconds} is not 0 to 999999999`,
    );
  }
  const s = BigInt(seconds);
  const [y, m, d] = civil(s / 86400n);
  const rem = s % 86400n;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(rem / 3600n, 2)}:${
    pad((rem / 60n) % 60n, 2)
  }:${pad(rem % 60n, 2)}.${pad(nanoseconds, 9)}Z`;
}

/**
 * An address field as text: 4 bytes as an IPv4 dotted quad, 16 bytes as
 * IPv6 in RFC 5952's form (lowercase, the longest run of two or more zero
 * groups as `::`, the first on a tie; `::ffff:a.b.c.d` for IPv4-mapped).
 * Any other length gives `"?"` and the bytes in hex, as Go's `net.IP` does.
 *
 * @example
 * ```ts
 * import { formatDnstapAddress } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDnstapAddress(new Uint8Array([192, 0, 2, 1])), "192.0.2.1");
 * const v6 = new Uint8Array(16);
 * v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
 * assert.equal(formatDnstapAddress(v6), "2001:db8::1");
 * ```
 *
 * @param bytes The address bytes.
 * @returns Its text.
 */
export function formatDnstapAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) {
    let hex = "?";
    for (const b of bytes) hex += b.toString(16).padStart(2, "0");
    return hex;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.subarray(12).join(".")}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** Parses a dotted quad into `out` at `at`; false if it is not one. */
function parseIPv4(text: string, out: Uint8Array, at: number): boolean {
  const parts = text.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return false;
    out[at + i] = Number(p);
  }
  return true;
}

/** Parses IPv6 groups (no `::`) into 16-bit values; null if malformed. */
function parseGroups(text: string): number[] | null {
  if (text === "") return [];
  const out: number[] = [];
  for (const g of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    out.push(parseInt(g, 16));
  }
  return out;
}

/**
 * The bytes of an address's text, for the address fields of
 * {@linkcode encodeDnstap}: an IPv4 dotted quad gives 4 bytes, IPv6 text
 * (with `::` and a trailing dotted quad allowed, no zone) gives 16.
 *
 * @example
 * ```ts
 * import { formatDnstapAddress, parseDnstapAddress } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseDnstapAddress("10.0.0.1"), new Uint8Array([10, 0, 0, 1]));
 * assert.equal(formatDnstapAddress(parseDnstapAddress("2001:DB8:0:0::53")), "2001:db8::53");
 * ```
 *
 * @param text The address.
 * @returns New bytes, 4 or 16 of them.
 * @throws {TypeError} `text` is not a string.
 * @throws {SyntaxError} `text` is not an IPv4 or IPv6 address.
 */
export function parseDnstapAddress(text: string): Uint8Array {
  if (typeof text !== "string") {
    throw new TypeError("Cannot parse address: text must be a string");
  }
  const bad = (): never => {
    throw new SyntaxError(
      `Cannot parse address: "${text}" is not an IP address`,
    );
  };
  if (!text.includes(":")) {
    const v4 = new Uint8Array(4);
    return parseIPv4(text, v4, 0) ? v4 : bad();
  }
  const out = new Uint8Array(16);
  let body = text;
  let tail = 8;
  const lastColon = text.lastIndexOf(":");
  if (text.indexOf(".", lastColon) >= 0) {
    if (!parseIPv4(text.slice(lastColon + 1), out, 12)) bad();
    body = text.slice(0, lastColon + 1);
    // "a::" + v4 leaves "a::"; "a:b:" + v4 leaves "a:b:" (drop the colon).
    if (!body.endsWith("::")) body = body.slice(0, -1);
    tail = 6;
  }
  const halves = body.split("::");
  if (halves.length > 2) bad();
  const head = parseGroups(halves[0]!) ?? bad();
  const rest = halves.length === 2 ? parseGroups(halves[1]!) ?? bad() : [];
  const total = head.length + rest.length;
  if (halves.length === 2 ? total >= tail : total !== tail) bad();
  const groups = [...head, ...new Array(tail - total).fill(0), ...rest];
  for (let i = 0; i < tail; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}
