// Private: what `fstrm top` counts, fed the columns of the dnstap scan batch
// by batch (sans I/O: the command reads, this counts). Per message: its
// Message.type and socket protocol; malformed ones by status. Per query (an
// odd Message.type) whose DNS message has a question: its QTYPE, its name
// whole and cut to its last `depth` labels, its client (query_address), and
// its second (query_time_sec) for queries per second. Per response (an even
// Message.type > 0) with a DNS header: its rcode (extended by the OPT
// record's bits), and its latency when it carries both query and response
// times.
import {
  type DnstapColumns,
  HAS_DNS,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_TIME_SEC,
  HAS_QUESTION,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_PROTOCOL,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CONTROL,
} from "../_dnstap_scan_layout.ts";
import { HeavyHitters, type HeavyItem } from "./_top_heavy.ts";
import { LatencyHistogram, type LatencySummary } from "./_top_latency.ts";

/** Bytes one monitored key is budgeted (key string, map entry, arrays). */
export const BYTES_PER_KEY = 160;
/** Distinct seconds kept for queries per second (about 12 days). */
export const MAX_SECONDS = 1 << 20;

/** Options of {@linkcode TopCounter}. */
export interface TopCounterOptions {
  /** Labels kept of names for the by-depth table. */
  depth: number;
  /** Bytes for the three heavy-hitter tables together. */
  memory: number;
}

/** Counts by small integer (an enum or u16 value). */
export class IntCounts {
  readonly #small: Float64Array;
  readonly #large = new Map<number, number>();

  /** @param size Values 0 .. size-1 are counted in an array. */
  constructor(size: number) {
    this.#small = new Float64Array(size);
  }

  /** Counts `v` once. */
  add(v: number): void {
    if (v >= 0 && v < this.#small.length) this.#small[v]!++;
    else this.#large.set(v, (this.#large.get(v) ?? 0) + 1);
  }

  /** `[value, count]` pairs, count highest first (ties: value order). */
  entries(): [number, number][] {
    const out: [number, number][] = [];
    this.#small.forEach((c, v) => {
      if (c > 0) out.push([v, c]);
    });
    for (const e of this.#large) out.push(e);
    return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }
}

/** The wire name scratch: a name is at most 255 bytes, labels at most 127. */
const NAME = new Uint8Array(256);
const LABEL_AT = new Int32Array(128);

/** Slots of a {@linkcode KeyCache}. */
const CACHE_SLOTS = 4096;
/** Bytes a slot holds (a wire name is at most 255). */
const CACHE_STRIDE = 256;

/**
 * Strings of recent byte keys, direct-mapped by a hash: a repeated name or
 * address gets the same string back without allocating (and with its hash
 * cached by the engine for the map lookup that follows).
 */
export class KeyCache {
  readonly #bytes = new Uint8Array(CACHE_SLOTS * CACHE_STRIDE);
  readonly #lengths = new Int32Array(CACHE_SLOTS).fill(-1);
  readonly #strings: string[] = new Array<string>(CACHE_SLOTS).fill("");

  /** The Latin-1 string of `b[from, to)` (at most 256 bytes), hash `h`. */
  get(b: Uint8Array, from: number, to: number, h: number): string {
    const slot = h & (CACHE_SLOTS - 1);
    const length = to - from;
    const bytes = this.#bytes;
    const at = slot * CACHE_STRIDE;
    if (this.#lengths[slot] === length) {
      let k = 0;
      while (k < length && bytes[at + k] === b[from + k]) k++;
      if (k === length) return this.#strings[slot]!;
    }
    const s = latin1(b, from, to);
    bytes.set(b.subarray(from, to), at);
    this.#lengths[slot] = length;
    this.#strings[slot] = s;
    return s;
  }
}

/** FNV-1a of `b[from, to)`. */
function hashOf(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
  return h >>> 0;
}

/**
 * Puts the question name of row `i` in `NAME` as wire bytes, pointers
 * followed; returns its length and sets `labelsOut[0]` to its labels, or -1
 * when a pointer loops or the name runs out (the scan has checked it, so
 * only on a broken invariant).
 */
function wireName(
  c: DnstapColumns,
  i: number,
  window: Uint8Array,
  messageStart: number,
  labelsOut: Int32Array,
): number {
  let at = c.qnameOffset[i]!;
  const end = messageStart + c.dnsSize[i]!;
  let n = 0;
  let labels = 0;
  let hops = 0;
  for (;;) {
    if (at >= end) return -1;
    const len = window[at]!;
    if (len === 0) break;
    if (len >= 0xc0) {
      if (at + 1 >= end || ++hops > 126) return -1;
      at = messageStart + (((len & 0x3f) << 8) | window[at + 1]!);
      continue;
    }
    if (at + 1 + len > end || n + 1 + len > 255 || labels >= 127) return -1;
    LABEL_AT[labels++] = n;
    NAME[n++] = len;
    for (let k = 1; k <= len; k++) NAME[n++] = window[at + k]!;
    at += 1 + len;
  }
  NAME[n++] = 0;
  labelsOut[0] = labels;
  return n;
}

const LABELS = new Int32Array(1);

/** Bytes as a Latin-1 string (one char per byte). */
function latin1(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode.apply(
    null,
    b.subarray(from, to) as unknown as number[],
  );
}

/** Everything `fstrm top` reports, as numbers and keys. */
export interface TopTotals {
  /** Rows scanned (data frames). */
  readonly messages: number;
  /** Queries counted (odd Message.type with a question). */
  readonly queries: number;
  /** Responses counted (even Message.type with a DNS header). */
  readonly responses: number;
  /** Malformed messages by what failed. */
  readonly malformed: {
    readonly protobuf: number;
    readonly dnsHeader: number;
    readonly question: number;
  };
  /** Messages without a DNS message to read. */
  readonly noDns: number;
  /** Responses whose response time is before their query time. */
  readonly negativeLatency: number;
  /** Queries whose second did not fit the per-second table. */
  readonly secondsDropped: number;
}

/** The counters of `fstrm top`. */
export class TopCounter {
  readonly messageTypes = new IntCounts(32);
  readonly protocols = new IntCounts(32);
  readonly qtypes = new IntCounts(65536);
  readonly rcodes = new IntCounts(4096);
  readonly names: HeavyHitters;
  readonly domains: HeavyHitters;
  readonly clients: HeavyHitters;
  readonly latency = new LatencyHistogram();
  /** Queries per second, by query_time_sec. */
  readonly seconds = new Map<number, number>();
  readonly depth: number;
  messages = 0;
  queries = 0;
  responses = 0;
  badProtobuf = 0;
  badHeader = 0;
  badQuestion = 0;
  noDns = 0;
  negativeLatency = 0;
  secondsDropped = 0;
  #second = -1;
  #inSecond = 0;
  readonly #nameCache = new KeyCache();
  readonly #domainCache = new KeyCache();
  readonly #clientCache = new KeyCache();

  constructor(options: TopCounterOptions) {
    this.depth = options.depth;
    const each = Math.max(
      1,
      Math.floor(options.memory / 3 / BYTES_PER_KEY),
    );
    this.names = new HeavyHitters(each);
    this.domains = new HeavyHitters(each);
    this.clients = new HeavyHitters(each);
  }

  /** Counts rows 0 .. count-1 of a batch. */
  add(c: DnstapColumns, count: number, window: Uint8Array): void {
    const status = c.status;
    const present = c.present;
    const types = c.messageType;
    for (let i = 0; i < count; i++) {
      const st = status[i]!;
      if (st === SCAN_CONTROL) continue;
      this.messages++;
      if (st === SCAN_BAD_PROTOBUF) {
        this.badProtobuf++;
        continue;
      }
      const p = present[i]!;
      const t = (p & HAS_MESSAGE_TYPE) !== 0 ? types[i]! : 0;
      this.messageTypes.add(t);
      this.protocols.add(
        (p & HAS_SOCKET_PROTOCOL) !== 0 ? c.socketProtocol[i]! : 0,
      );
      if (st === SCAN_BAD_DNS_HEADER) {
        this.badHeader++;
        continue;
      }
      if (st === SCAN_BAD_QUESTION) this.badQuestion++;
      if (t > 0 && (t & 1) === 0) {
        this.#response(c, i, p);
      } else if ((p & HAS_QUESTION) !== 0) {
        this.#query(c, i, p, window);
      } else if ((p & HAS_DNS) === 0) this.noDns++;
    }
  }

  #response(c: DnstapColumns, i: number, p: number): void {
    if ((p & HAS_DNS) === 0) {
      this.noDns++;
      return;
    }
    this.responses++;
    const rcode = (p & HAS_OPT) !== 0
      ? (c.ednsRcode[i]! << 4) | c.rcode[i]!
      : c.rcode[i]!;
    this.rcodes.add(rcode);
    if (
      (p & HAS_QUERY_TIME_SEC) !== 0 && (p & HAS_RESPONSE_TIME_SEC) !== 0
    ) {
      const ns = (c.responseTimeSec[i]! - c.queryTimeSec[i]!) * 1e9 +
        (c.responseTimeNsec[i]! - c.queryTimeNsec[i]!);
      if (ns < 0) this.negativeLatency++;
      else if (ns < 2 ** 53) this.latency.add(ns);
    }
  }

  #query(c: DnstapColumns, i: number, p: number, window: Uint8Array): void {
    this.queries++;
    if ((p & HAS_QTYPE) !== 0) this.qtypes.add(c.qtype[i]!);
    // The name's wire bytes: in place when it has no pointer, else copied
    // with its pointers followed.
    let b: Uint8Array;
    let from: number;
    let to: number;
    let labels = 0;
    if ((p & HAS_QNAME_POINTER) === 0) {
      b = window;
      from = c.qnameOffset[i]!;
      to = from + c.qnameLength[i]!;
      for (let at = from; at < to && window[at] !== 0; at += window[at]! + 1) {
        LABEL_AT[labels++] = at;
      }
    } else {
      b = NAME;
      from = 0;
      to = wireName(c, i, window, c.queryMessageOffset[i]!, LABELS);
      labels = LABELS[0]!;
    }
    if (to >= 0) {
      this.names.add(this.#nameCache.get(b, from, to, hashOf(b, from, to)));
      const depth = this.depth;
      const cut = labels > depth ? LABEL_AT[labels - depth]! : from;
      this.domains.add(this.#domainCache.get(b, cut, to, hashOf(b, cut, to)));
    }
    if ((p & HAS_QUERY_ADDRESS) !== 0) {
      const at = 16 * i;
      const end = at + Math.min(c.queryAddressLength[i]!, 16);
      const a = c.queryAddress;
      this.clients.add(this.#clientCache.get(a, at, end, hashOf(a, at, end)));
    }
    if ((p & HAS_QUERY_TIME_SEC) !== 0) {
      const s = c.queryTimeSec[i]!;
      if (s === this.#second) this.#inSecond++;
      else {
        this.#flushSecond();
        this.#second = s;
        this.#inSecond = 1;
      }
    }
  }

  #flushSecond(): void {
    if (this.#inSecond === 0) return;
    const s = this.#second;
    const had = this.seconds.get(s);
    if (had !== undefined) this.seconds.set(s, had + this.#inSecond);
    else if (this.seconds.size < MAX_SECONDS) {
      this.seconds.set(s, this.#inSecond);
    } else this.secondsDropped += this.#inSecond;
    this.#inSecond = 0;
  }

  /** Ends counting: folds the current second in. */
  finish(): void {
    this.#flushSecond();
  }

  /** The totals. */
  totals(): TopTotals {
    return {
      messages: this.messages,
      queries: this.queries,
      responses: this.responses,
      malformed: {
        protobuf: this.badProtobuf,
        dnsHeader: this.badHeader,
        question: this.badQuestion,
      },
      noDns: this.noDns,
      negativeLatency: this.negativeLatency,
      secondsDropped: this.secondsDropped,
    };
  }

  /** Latency percentiles in nanoseconds. */
  latencySummary(): LatencySummary {
    return this.latency.summary();
  }

  /** The top `n` of a heavy-hitter table. */
  static top(table: HeavyHitters, n: number): HeavyItem[] {
    return table.top(n);
  }
}
