// Private: the record filters of `fstrm dnstap` (--type, --qname-suffix,
// --rcode, --client): parsed from their option values, and matched against
// a decoded dnstap record. Different filters are ANDed; the values of one
// filter (repeated flags, comma lists) are ORed.
//
// The DNS messages are read only as far as a filter needs: the header and
// the first question's name for --qname-suffix (through readName, so names
// compare as miekg/dns prints them), the header and the additional
// section's OPT record for --rcode (its extended bits, as miekg/dns's
// Msg.Unpack adds them). A message that cannot be read that far matches
// neither.
import type { Dnstap, DnstapMessage } from "../dnstap.ts";
import { parseDnstapAddress } from "../_dnstap_text.ts";
import { MESSAGE_TYPES } from "../_dnstap_names.ts";
import { readName, WireCursor } from "../_dns_wire.ts";
import { rcodeName } from "../_dns_names.ts";

/** A parsed client network: address bytes and prefix length in bits. */
export interface Network {
  /** The network's address, 4 or 16 bytes. */
  readonly bytes: Uint8Array;
  /** The prefix length, 0 to 32 or 128. */
  readonly prefix: number;
}

/** The filters of one run; `null` where the filter is not given. */
export interface DnstapFilterSpec {
  /** Message type numbers accepted. */
  types: ReadonlySet<number> | null;
  /** Name suffixes accepted, each as lower-cased labels, last label last. */
  suffixes: readonly (readonly string[])[] | null;
  /** Response codes accepted (extended bits included). */
  rcodes: ReadonlySet<number> | null;
  /** Client networks accepted (`query_address`). */
  clients: readonly Network[] | null;
}

/** An option value that does not parse; the message says why. */
export class FilterSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterSyntaxError";
  }
}

/** The quiet format's mnemonics (as the Go tool's -h lists them), and UQ/UR. */
const MNEMONICS: Readonly<Record<string, number>> = {
  AQ: 1,
  AR: 2,
  RQ: 3,
  RR: 4,
  CQ: 5,
  CR: 6,
  FQ: 7,
  FR: 8,
  SQ: 9,
  SR: 10,
  TQ: 11,
  TR: 12,
  UQ: 13,
  UR: 14,
};

/** The items of repeated, comma-separated option values, trimmed. */
function items(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(
    (s) => s !== "",
  );
}

/** Whether `s` is a decimal number without sign. */
function isNumber(s: string): boolean {
  return /^\d+$/.test(s);
}

/**
 * `--type` values: full names (`CLIENT_QUERY`), the quiet format's
 * mnemonics (`CQ`), any case, or numbers.
 */
export function parseTypes(values: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const item of items(values)) {
    const upper = item.toUpperCase();
    let n: number | undefined;
    if (isNumber(item)) n = Number(item);
    else if (Object.hasOwn(MNEMONICS, upper)) n = MNEMONICS[upper];
    else {
      const i = MESSAGE_TYPES.indexOf(upper);
      if (i > 0) n = i;
    }
    if (n === undefined || !Number.isSafeInteger(n) || n > 0xffff_ffff) {
      throw new FilterSyntaxError(
        `--type: '${item}' is no message type (CLIENT_QUERY, CQ, … or a number)`,
      );
    }
    out.add(n);
  }
  if (out.size === 0) throw new FilterSyntaxError("--type wants a value");
  return out;
}

/**
 * Splits a name in presentation format into its labels, honouring `\.`
 * and `\DDD` escapes; the root is no label. Letters are lower-cased
 * (ASCII only, as DNS compares names); escapes are kept as they are.
 */
export function nameLabels(name: string): string[] {
  if (name === ".") return [];
  const labels: string[] = [];
  let label = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === "\\") {
      // An escape belongs to the label: `\.` or `\DDD` or `\X`.
      const digits = /^\d{3}/.test(name.slice(i + 1, i + 4));
      const n = digits ? 4 : 2;
      label += name.slice(i, i + n).toLowerCase();
      i += n - 1;
    } else if (c === ".") {
      labels.push(label);
      label = "";
    } else {
      label += c >= "A" && c <= "Z" ? c.toLowerCase() : c;
    }
  }
  if (label !== "") labels.push(label);
  return labels;
}

/** `--qname-suffix` values: names, with or without the final dot. */
export function parseSuffixes(values: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const item of items(values)) {
    // ".example.com" is read as "example.com": a suffix of whole labels.
    const labels = nameLabels(
      item.length > 1 && item.startsWith(".") ? item.slice(1) : item,
    );
    if (labels.some((l) => l === "")) {
      throw new FilterSyntaxError(
        `--qname-suffix: '${item}' has an empty label`,
      );
    }
    out.push(labels);
  }
  if (out.length === 0) {
    throw new FilterSyntaxError("--qname-suffix wants a name");
  }
  return out;
}

let rcodeNumbers: Map<string, number> | null = null;

/** `--rcode` values: names as miekg/dns prints them (any case), or numbers. */
export function parseRcodes(values: readonly string[]): Set<number> {
  if (rcodeNumbers === null) {
    rcodeNumbers = new Map();
    for (let n = 0; n < 4096; n++) {
      const name = rcodeName(n);
      // The first number of a name wins (BADSIG and BADVERS share 16).
      if (name !== "" && !rcodeNumbers.has(name)) rcodeNumbers.set(name, n);
    }
    // miekg/dns prints 16 as BADSIG; RFC 6891 calls it BADVERS too.
    rcodeNumbers.set("BADVERS", 16);
  }
  const out = new Set<number>();
  for (const item of items(values)) {
    const n = isNumber(item)
      ? Number(item)
      : rcodeNumbers.get(item.toUpperCase());
    if (n === undefined || n > 4095) {
      throw new FilterSyntaxError(
        `--rcode: '${item}' is no response code (NOERROR, NXDOMAIN, SERVFAIL, … or 0 to 4095)`,
      );
    }
    out.add(n);
  }
  if (out.size === 0) throw new FilterSyntaxError("--rcode wants a value");
  return out;
}

/** `--client` values: addresses or networks in CIDR notation. */
export function parseNetworks(values: readonly string[]): Network[] {
  const out: Network[] = [];
  for (const item of items(values)) {
    const slash = item.indexOf("/");
    const address = slash < 0 ? item : item.slice(0, slash);
    let bytes: Uint8Array;
    try {
      bytes = parseDnstapAddress(address);
    } catch {
      throw new FilterSyntaxError(
        `--client: '${item}' is no IPv4 or IPv6 address or network`,
      );
    }
    const max = bytes.length * 8;
    const prefixText = slash < 0 ? String(max) : item.slice(slash + 1);
    const prefix = isNumber(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix <= max)) {
      throw new FilterSyntaxError(
        `--client: '${item}' has a bad prefix length (0 to ${max})`,
      );
    }
    out.push({ bytes, prefix });
  }
  if (out.length === 0) throw new FilterSyntaxError("--client wants a value");
  return out;
}

/** Whether `address` lies in `network` (same family only). */
export function inNetwork(address: Uint8Array, network: Network): boolean {
  const net = network.bytes;
  if (address.length !== net.length) return false;
  const whole = network.prefix >> 3;
  for (let i = 0; i < whole; i++) if (address[i] !== net[i]) return false;
  const rest = network.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (address[whole]! & mask) === (net[whole]! & mask);
}

/** Whether the message type is a response (even numbers name responses). */
function isResponse(type: DnstapMessage["type"]): boolean {
  const n = typeof type === "number" ? type : MESSAGE_TYPES.indexOf(type);
  return n > 0 && n % 2 === 0;
}

/**
 * The DNS message a name filter reads: the response of a response record,
 * the query of a query record; the other one when that is absent.
 */
function dnsMessageOf(m: DnstapMessage): Uint8Array | undefined {
  return isResponse(m.type)
    ? m.responseMessage ?? m.queryMessage
    : m.queryMessage ?? m.responseMessage;
}

/** The first question's name (presentation format), or `null`. */
export function questionName(msg: Uint8Array): string | null {
  if (msg.length < 12 || ((msg[4]! << 8) | msg[5]!) === 0) return null;
  try {
    const cur = new WireCursor();
    cur.off = 12;
    cur.end = msg.length;
    return readName(msg, cur);
  } catch {
    return null;
  }
}

/** Skips a wire-format name at `off`; the offset after it, or -1. */
function skipName(msg: Uint8Array, off: number): number {
  for (let labels = 0; labels < 128; labels++) {
    if (off >= msg.length) return -1;
    const c = msg[off]!;
    if (c === 0) return off + 1;
    if ((c & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : -1;
    if ((c & 0xc0) !== 0) return -1;
    off += 1 + c;
  }
  return -1;
}

/**
 * The response code as miekg/dns's Msg.Unpack sets it: the header's four
 * bits, with the extended bits of the last OPT record of the additional
 * section when the records can be walked to it; `-1` without a header.
 */
export function responseCode(msg: Uint8Array): number {
  if (msg.length < 12) return -1;
  const low = msg[3]! & 0x0f;
  const count = (i: number) => (msg[i]! << 8) | msg[i + 1]!;
  const qd = count(4);
  const an = count(6);
  const ns = count(8);
  const ar = count(10);
  if (ar === 0) return low;
  let off = 12;
  for (let i = 0; i < qd; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 4 > msg.length) return low;
    off += 4;
  }
  let ext = -1;
  for (let i = 0; i < an + ns + ar; i++) {
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) break;
    const type = (msg[off]! << 8) | msg[off + 1]!;
    const length = (msg[off + 8]! << 8) | msg[off + 9]!;
    if (type === 41 && i >= an + ns) ext = msg[off + 4]!;
    off += 10 + length;
    if (off > msg.length) break;
  }
  return ext < 0 ? low : low | (ext << 4);
}

/** Whether the labels of `name` end with `suffix`. */
function hasSuffix(
  name: readonly string[],
  suffix: readonly string[],
): boolean {
  const skip = name.length - suffix.length;
  if (skip < 0) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (name[skip + i] !== suffix[i]) return false;
  }
  return true;
}

/** Numbers of message types, for records whose type is a name. */
function typeNumberOf(type: DnstapMessage["type"]): number {
  return typeof type === "number" ? type : MESSAGE_TYPES.indexOf(type);
}

/**
 * Whether `record` passes every filter of `spec`. A record without a
 * message passes only when no filter is given.
 */
export function matches(spec: DnstapFilterSpec, record: Dnstap): boolean {
  const m = record.message;
  if (m === undefined) {
    return spec.types === null && spec.suffixes === null &&
      spec.rcodes === null && spec.clients === null;
  }
  if (spec.types !== null && !spec.types.has(typeNumberOf(m.type))) {
    return false;
  }
  if (spec.clients !== null) {
    const address = m.queryAddress;
    if (
      address === undefined || !spec.clients.some((n) => inNetwork(address, n))
    ) return false;
  }
  if (spec.rcodes !== null) {
    const response = m.responseMessage;
    if (response === undefined) return false;
    if (!spec.rcodes.has(responseCode(response))) return false;
  }
  if (spec.suffixes !== null) {
    const msg = dnsMessageOf(m);
    const name = msg === undefined ? null : questionName(msg);
    if (name === null) return false;
    const labels = nameLabels(name);
    if (!spec.suffixes.some((s) => hasSuffix(labels, s))) return false;
  }
  return true;
}

/** Whether `spec` filters anything. */
export function filtersAnything(spec: DnstapFilterSpec): boolean {
  return spec.types !== null || spec.suffixes !== null ||
    spec.rcodes !== null || spec.clients !== null;
}
