// Private: who may connect to a FrameReceiver. An allow-list of IPv4 and
// IPv6 networks, the open connections per source, and the rate limit on
// reports of refused connections. Pure: no sockets, no clocks (the caller
// passes the time).

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6) and its family. */
interface Ip {
  readonly v4: boolean;
  readonly bytes: Uint8Array;
}

/** One network of an allow-list. */
interface Network extends Ip {
  /** Prefix length in bits of `bytes` (an IPv4 /8 is 96 + 8). */
  readonly bits: number;
}

/**
 * Parses an IPv4 or IPv6 address (an IPv6 zone, `%eth0`, is dropped) into
 * 16 bytes, IPv4 as `::ffff:a.b.c.d`; an IPv4-mapped IPv6 address counts as
 * IPv4. `null` if it is not an address.
 */
export function parseIp(text: string): Ip | null {
  const zone = text.indexOf("%");
  const s = zone >= 0 ? text.slice(0, zone) : text;
  const bytes = new Uint8Array(16);
  if (!s.includes(":")) {
    if (!parseV4(s, bytes, 12)) return null;
    bytes[10] = bytes[11] = 0xff;
    return { v4: true, bytes };
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 1 || halves[1] === ""
    ? []
    : halves[1]!.split(":");
  const groups: number[] = [];
  const words = [...head, ...tail];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // A dotted IPv4 tail only at the very end (not before a "::").
    const last = i === words.length - 1 &&
      (halves.length === 1 || tail.length > 0);
    if (last && w.includes(".")) {
      const four = new Uint8Array(4);
      if (!parseV4(w, four, 0)) return null;
      groups.push((four[0]! << 8) | four[1]!, (four[2]! << 8) | four[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
    groups.push(parseInt(w, 16));
  }
  const headGroups = head.length;
  if (halves.length === 1 ? groups.length !== 8 : groups.length > 7) {
    return null;
  }
  const missing = 8 - groups.length;
  const all = [
    ...groups.slice(0, headGroups),
    ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0),
    ...groups.slice(headGroups),
  ];
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = all[i]! >> 8;
    bytes[2 * i + 1] = all[i]! & 0xff;
  }
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = bytes[i] === 0;
  return { v4: mapped, bytes };
}

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return false;
    out[at + i] = Number(p);
  }
  return true;
}

/**
 * Parses a network: `10.0.0.0/8`, `2001:db8::/32`, or one address
 * (`127.0.0.1`, `::1`: a /32 or /128).
 *
 * @throws {TypeError} If it is not a network.
 */
export function parseNetwork(text: string): Network {
  if (typeof text !== "string") {
    throw new TypeError(
      `Cannot listen: allow must hold strings, got ${typeof text}`,
    );
  }
  const slash = text.indexOf("/");
  const ip = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  const prefix = slash >= 0 ? text.slice(slash + 1) : null;
  const written = ip === null ? 0 : ip.v4 && !text.includes(":") ? 32 : 128;
  if (
    ip === null || text.includes("%") ||
    (prefix !== null &&
      (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > written))
  ) {
    throw new TypeError(
      `Cannot listen: allow wants IPv4 or IPv6 networks such as 10.0.0.0/8, 2001:db8::/32 or 127.0.0.1, got '${text}'`,
    );
  }
  const bits = (prefix === null ? written : Number(prefix)) +
    (written === 32 ? 96 : 0);
  return { v4: ip.v4, bytes: ip.bytes, bits };
}

/**
 * An allow-list of IPv4 and IPv6 networks. A peer at an IPv4-mapped IPv6
 * address (`::ffff:10.1.2.3`, as a dual-stack listener on `::` sees IPv4
 * peers) is matched as its IPv4 address: `10.0.0.0/8` allows it, and so
 * does `::ffff:10.0.0.0/104`, which is the same network.
 */
export class AllowList {
  #networks: Network[];

  /**
   * @param networks The networks, as text.
   * @throws {TypeError} If one is not a network.
   */
  constructor(networks: readonly string[]) {
    if (!Array.isArray(networks)) {
      throw new TypeError("Cannot listen: allow must be an array of networks");
    }
    this.#networks = networks.map(parseNetwork);
  }

  /** Whether a peer at `hostname` (an IP address) may connect. */
  allows(hostname: string): boolean {
    const ip = parseIp(hostname);
    if (ip === null) return false;
    for (const n of this.#networks) {
      if (covers(n, ip.bytes)) return true;
    }
    return false;
  }
}

function covers(n: Network, bytes: Uint8Array): boolean {
  const whole = n.bits >> 3;
  for (let i = 0; i < whole; i++) {
    if (n.bytes[i] !== bytes[i]) return false;
  }
  const rest = n.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (n.bytes[whole]! & mask) === (bytes[whole]! & mask);
}

/**
 * A peer's source as counted and reported: its address, an IPv4-mapped
 * IPv6 address written as IPv4, the zone dropped.
 */
export function sourceOf(hostname: string): string {
  const ip = parseIp(hostname);
  if (ip === null) return hostname;
  if (ip.v4) return ip.bytes.subarray(12).join(".");
  const zone = hostname.indexOf("%");
  return zone >= 0 ? hostname.slice(0, zone) : hostname;
}

/** Sources remembered by a {@linkcode RefusalLog}, at most. */
export const REFUSAL_SOURCES = 4_096;

/**
 * The rate limit on reports of refused connections: the first refusal from
 * a source is reported at once; the next ones from it are counted and
 * reported with the first after `interval` ms. Remembers at most
 * {@linkcode REFUSAL_SOURCES} sources (the oldest forgotten first).
 */
export class RefusalLog {
  #interval: number;
  #sources = new Map<string, { at: number; suppressed: number }>();

  /** @param interval Milliseconds between two reports on one source. */
  constructor(interval: number) {
    this.#interval = interval;
  }

  /**
   * A refusal from `source` at `now` (ms): the number of refusals to report
   * (this one and those held back since the last report), or 0 to stay
   * quiet.
   */
  refused(source: string, now: number): number {
    const seen = this.#sources.get(source);
    if (seen !== undefined && now - seen.at < this.#interval) {
      seen.suppressed++;
      return 0;
    }
    const count = 1 + (seen?.suppressed ?? 0);
    this.#sources.delete(source);
    if (this.#sources.size >= REFUSAL_SOURCES) {
      const oldest = this.#sources.keys().next().value as string;
      this.#sources.delete(oldest);
    }
    this.#sources.set(source, { at: now, suppressed: 0 });
    return count;
  }
}
