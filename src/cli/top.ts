/**
 * `fstrm top`: what a dnstap file says at a glance, read with the columnar
 * dnstap scan: counts by message type, protocol, rcode and QTYPE; the top
 * query names (whole, and cut to their last labels), the top clients;
 * queries per second; latency percentiles; malformed messages. Exact while
 * the keys fit the memory budget, Space-Saving estimates with their error
 * bounds beyond.
 *
 * @module
 */
import { integerOption, parseCommandArgs } from "./_args.ts";
import { usageError } from "./_cli_error.ts";
import {
  INPUT_OPTIONS,
  INPUT_OPTIONS_HELP,
  inputOptions,
  openInput,
} from "./_file_input.ts";
import { writeAll } from "./_write_all.ts";
import { isBrokenPipe } from "./_dump_output.ts";
import {
  BYTES_PER_KEY,
  type IntCounts,
  TopCounter,
  type TopCounterOptions,
} from "./_top_stats.ts";
import {
  defaultTopThreads,
  readTop,
  type TopReadResult,
} from "./_top_parallel.ts";
import type { HeavyHitters } from "./_top_heavy.ts";
import { LATENCY_RELATIVE_ERROR } from "./_top_latency.ts";
import { enumName, MESSAGE_TYPES, SOCKET_PROTOCOLS } from "../_dnstap_names.ts";
import { rcodeName, typeName } from "../_dns_names.ts";
import { readName, WireCursor } from "../_dns_wire.ts";
import { formatDnstapAddress } from "../_dnstap_text.ts";
import {
  LIVE_OPTIONS,
  LIVE_OPTIONS_HELP,
  liveOptions,
} from "./_top_live_options.ts";

const DEFAULT_TOP = 10;
const DEFAULT_DEPTH = 2;
const DEFAULT_MEMORY_MB = 64;
/** Seconds of queries per second given one by one (JSON `series`). */
const SERIES_MAX = 600;

const HELP = `\
Usage: fstrm top [options] (-r FILE | -u SOCKET | -l HOST:PORT)

Reads a dnstap file (- reads stdin), or listens on a socket, and reports: messages by type and
protocol; queries by QTYPE; responses by rcode; the top query names, whole
and by their last --depth labels (ASCII letters lowercased, as DNS compares
names, unless --case-sensitive); the top clients (query_address); queries
per second (min, median, max over the seconds from the first query to the
last); latency percentiles of responses that carry their query time;
malformed messages.

Counts are exact while the distinct names and clients fit the memory
budget; beyond it the tables keep their heaviest keys (Space-Saving): each
count is then an upper bound, and the true count is at least count minus the
error printed beside it ("±" in the text). Latency percentiles are exact to
under ${(LATENCY_RELATIVE_ERROR * 100).toFixed(2)} % (reported values are at
most that much low).

Options:
  -r, --read FILE         the dnstap file to read (- for stdin)
  -n, --top N             rows of each top table (default ${DEFAULT_TOP})
  --depth N               labels kept for the second names table (default
                          ${DEFAULT_DEPTH}: example.com. for www.example.com.)
  --memory MB             the budget of the name and client tables, in MiB,
                          a decimal (default ${DEFAULT_MEMORY_MB}; each table holds
                          MB * 2^20 / 3 / ${BYTES_PER_KEY} keys)
  --case-sensitive        count names as written (default: ASCII letters
                          lowercased first, as DNS compares names)
  --json                  one JSON object
  --threads N             read a file on N threads, 1 or 2 (default 2 for a
                          file of 16 MiB or more on 2 or more cores, else
                          1); the report is the same as one thread's (see
                          docs/top.md); stdin is read on one
${INPUT_OPTIONS_HELP}  -h, --help              show this help

${LIVE_OPTIONS_HELP}
On a socket the report adds the time, the message rate since the start and
over the last interval, the connections (open, in all, refused by --allow,
rejected by --max-conns-per-source, closed for errors) and the oversized
frames dropped. SIGINT or SIGTERM stop it (open streams get --grace, then
the final report; a second signal stops at once), exit 0.

Exit status: 0 when the file was read to its end, or a socket stopped; 1
when it could not be opened or read to its end (after reporting what was
read), or a socket could not be listened on; 2 on a usage error.
`;

/** The options of `fstrm top`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  ...INPUT_OPTIONS,
  ...LIVE_OPTIONS,
  read: { type: "string", short: "r" },
  top: { type: "string", short: "n" },
  depth: { type: "string" },
  memory: { type: "string" },
  json: { type: "boolean" },
  "case-sensitive": { type: "boolean" },
  threads: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** One row of a count table. */
export interface CountRow {
  /** The value's name. */
  readonly name: string;
  /** Its value. */
  readonly value: number;
  /** How many. */
  readonly count: number;
}

/** One row of a top table. */
export interface TopRow {
  /** The name or address. */
  readonly name: string;
  /** The count (an upper bound when error > 0). */
  readonly count: number;
  /** The true count is at least count - error. */
  readonly error: number;
}

/** A top table. */
export interface TopTable {
  /** Whether every count is exact (nothing was evicted). */
  readonly exact: boolean;
  /** Keys the table holds at most. */
  readonly capacity: number;
  /** Distinct keys seen, while exact; null after evictions. */
  readonly distinct: number | null;
  /** The true count of any key not listed is at most this (0 when exact). */
  readonly bound: number;
  /** The rows, highest first. */
  readonly rows: TopRow[];
}

/** What `fstrm top --json` prints. */
export interface TopReport {
  readonly file: string;
  readonly engine: string;
  readonly messages: number;
  readonly queries: number;
  readonly responses: number;
  readonly malformed: {
    readonly protobuf: number;
    readonly dnsHeader: number;
    readonly question: number;
  };
  readonly noDns: number;
  readonly dropped: number;
  readonly messageTypes: CountRow[];
  readonly protocols: CountRow[];
  readonly qtypes: CountRow[];
  readonly rcodes: CountRow[];
  readonly names: TopTable;
  readonly domains: TopTable & { readonly depth: number };
  readonly clients: TopTable;
  readonly qps: {
    readonly first: number | null;
    readonly last: number | null;
    readonly seconds: number;
    readonly min: number | null;
    readonly median: number | null;
    readonly max: number | null;
    readonly series: number[] | null;
    readonly dropped: number;
  };
  readonly latency: {
    readonly unit: "ns";
    readonly relativeError: number;
    readonly count: number;
    readonly negative: number;
    readonly min: number | null;
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly max: number | null;
  };
  readonly error:
    | { readonly message: string; readonly offset: number | null }
    | null;
}

/**
 * `fstrm top [options] -r FILE`.
 *
 * @param args The arguments after `top`.
 * @returns The exit code.
 */
export async function top(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (error) {
    if (isBrokenPipe(error)) return 0;
    throw error;
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("top", args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const { engine, maxFrameLength } = inputOptions("top", values);
  const n = typeof values.top === "string"
    ? integerOption("top", "--top", values.top, 1, 1_000_000)
    : DEFAULT_TOP;
  const depth = typeof values.depth === "string"
    ? integerOption("top", "--depth", values.depth, 1, 127)
    : DEFAULT_DEPTH;
  const memoryMb = typeof values.memory === "string"
    ? megabytes(values.memory)
    : DEFAULT_MEMORY_MB;
  const threads = typeof values.threads === "string"
    ? integerOption("top", "--threads", values.threads, 1, 2)
    : null;
  const counterOptions: TopCounterOptions = {
    depth,
    memory: Math.floor(memoryMb * 1024 * 1024),
    caseSensitive: values["case-sensitive"] === true,
  };
  const live = liveOptions(values, positionals);
  if (live !== null) {
    if (threads !== null) {
      throw usageError("top", "--threads reads a file (-r FILE)");
    }
    const counter = new TopCounter(counterOptions);
    // The live path (the receiver) loads only for a live run.
    const { runTopLive } = await import("./_top_live.ts");
    return await runTopLive(live, {
      engine,
      maxFrameLength,
      json: values.json === true,
      counter,
      report: (context) => toReport(counter, { ...context, n }),
      text: toText,
    });
  }
  let path = typeof values.read === "string" ? values.read : undefined;
  if (path === undefined && positionals.length === 1) path = positionals[0];
  else if (positionals.length > 0) {
    throw usageError("top", `unexpected argument '${positionals[0]}'`);
  }
  if (path === undefined) throw usageError("top", "missing -r FILE");

  const input = await openInput(path, maxFrameLength);
  const counter = new TopCounter(counterOptions);
  let read: TopReadResult;
  try {
    read = await readTop(input, counter, {
      engine,
      maxFrameLength,
      threads: threads ?? defaultTopThreads(input.size),
      counter: counterOptions,
      warn: (line) => console.error(line),
    });
  } finally {
    input.close();
  }
  const { error, dropped } = read;
  counter.finish();
  const report = toReport(counter, {
    file: input.name,
    engine: read.engine,
    n,
    dropped,
    error,
  });
  await writeAll(
    Deno.stdout,
    values.json === true ? JSON.stringify(report) + "\n" : toText(report),
  );
  if (error !== null) {
    await writeAll(Deno.stderr, `fstrm top: ${input.name}: ${error.message}\n`);
    return 1;
  }
  return 0;
}

/** --memory's value: megabytes, a decimal (0.01 is 10 KiB or so). */
function megabytes(value: string): number {
  const mb = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!(mb > 0 && mb <= 65_536)) {
    throw usageError(
      "top",
      `--memory wants megabytes above 0 and up to 65536, got '${value}'`,
    );
  }
  return mb;
}

/** The counts of an IntCounts table, named. */
function countRows(
  counts: IntCounts,
  name: (v: number) => string,
): CountRow[] {
  return counts.entries().map(([value, count]) => ({
    name: name(value),
    value,
    count,
  }));
}

const nameCursor = new WireCursor();

/** A wire name key (Latin-1) as miekg/dns prints it. */
export function nameText(key: string): string {
  const b = new Uint8Array(key.length);
  for (let k = 0; k < key.length; k++) b[k] = key.charCodeAt(k);
  nameCursor.off = 0;
  nameCursor.end = b.length;
  return readName(b, nameCursor);
}

/** An address key (Latin-1) as text. */
export function addressKeyText(key: string): string {
  const b = new Uint8Array(key.length);
  for (let k = 0; k < key.length; k++) b[k] = key.charCodeAt(k);
  return formatDnstapAddress(b);
}

function table(
  hh: HeavyHitters,
  n: number,
  text: (key: string) => string,
): TopTable {
  return {
    exact: hh.evictions === 0,
    capacity: hh.capacity,
    distinct: hh.evictions === 0 ? hh.size : null,
    bound: hh.bound,
    rows: hh.top(n).map((item) => ({
      name: text(item.key),
      count: item.count,
      error: item.error,
    })),
  };
}

/** Builds the report from the counters. */
export function toReport(
  counter: TopCounter,
  context: {
    file: string;
    engine: string;
    n: number;
    dropped: number;
    error: TopReport["error"];
  },
): TopReport {
  // Fold in what is pending (the current second, keys not yet counted), so
  // that a report can be made at any time.
  counter.finish();
  const totals = counter.totals();
  const lat = counter.latencySummary();
  return {
    file: context.file,
    engine: context.engine,
    messages: totals.messages,
    queries: totals.queries,
    responses: totals.responses,
    malformed: totals.malformed,
    noDns: totals.noDns,
    dropped: context.dropped,
    messageTypes: countRows(
      counter.messageTypes,
      (t) => t === 0 ? "none" : String(enumName(MESSAGE_TYPES, t)),
    ),
    protocols: countRows(
      counter.protocols,
      (t) => t === 0 ? "none" : String(enumName(SOCKET_PROTOCOLS, t)),
    ),
    qtypes: countRows(counter.qtypes, typeName),
    rcodes: countRows(counter.rcodes, (r) => rcodeName(r) || `RCODE${r}`),
    names: table(counter.names, context.n, nameText),
    domains: {
      depth: counter.depth,
      ...table(counter.domains, context.n, nameText),
    },
    clients: table(counter.clients, context.n, addressKeyText),
    qps: counter.qps(SERIES_MAX),
    latency: {
      unit: "ns",
      relativeError: LATENCY_RELATIVE_ERROR,
      count: lat.count,
      negative: totals.negativeLatency,
      min: lat.min,
      p50: lat.p50,
      p90: lat.p90,
      p99: lat.p99,
      max: lat.max,
    },
    error: context.error,
  };
}

/** Nanoseconds as text in a fitting unit. */
function duration(ns: number | null): string {
  if (ns === null) return "-";
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

function share(count: number, total: number): string {
  return total === 0 ? "" : `${((100 * count) / total).toFixed(1)}%`;
}

function countLines(
  title: string,
  rows: CountRow[],
  total: number,
  n: number,
): string[] {
  if (rows.length === 0) return [];
  const shown = rows.slice(0, Math.max(n, 1));
  const width = Math.max(...shown.map((r) => r.name.length));
  const cw = Math.max(...shown.map((r) => String(r.count).length));
  const lines = [`${title}:`];
  for (const r of shown) {
    lines.push(
      `  ${r.name.padEnd(width)}  ${String(r.count).padStart(cw)}  ${
        share(r.count, total).padStart(6)
      }`,
    );
  }
  if (rows.length > shown.length) {
    const rest = rows.slice(shown.length).reduce((a, r) => a + r.count, 0);
    lines.push(`  (${rows.length - shown.length} more: ${rest})`);
  }
  return lines;
}

function topLines(title: string, t: TopTable, total: number): string[] {
  if (t.rows.length === 0) return [];
  const how = t.exact
    ? `exact, ${t.distinct} distinct`
    : `estimated: ${t.capacity} tracked, any other ≤ ${t.bound}`;
  const lines = [`${title} (${how}):`];
  const width = Math.max(...t.rows.map((r) => r.name.length));
  const cw = Math.max(...t.rows.map((r) => String(r.count).length));
  for (const r of t.rows) {
    const err = t.exact ? "" : `  ±${r.error}`;
    lines.push(
      `  ${r.name.padEnd(width)}  ${String(r.count).padStart(cw)}  ${
        share(r.count, total).padStart(6)
      }${err}`,
    );
  }
  return lines;
}

/** The report as text tables. */
export function toText(r: TopReport): string {
  const m = r.malformed;
  const lines = [
    `${r.file}: ${r.messages} messages, ${r.queries} queries, ${r.responses} responses (engine ${r.engine})`,
    `malformed: ${m.protobuf} not dnstap, ${m.dnsHeader} DNS header cut, ${m.question} question cut; ${r.noDns} without DNS message; ${r.dropped} dropped`,
    "",
    ...countLines("message types", r.messageTypes, r.messages, 16),
    ...countLines("protocols", r.protocols, r.messages, 8),
    ...countLines("qtypes", r.qtypes, r.queries, 10),
    ...countLines("rcodes", r.rcodes, r.responses, 10),
    "",
    ...topLines("top names", r.names, r.queries),
    ...topLines(
      `top names by last ${r.domains.depth} labels`,
      r.domains,
      r.queries,
    ),
    ...topLines("top clients", r.clients, r.queries),
    "",
  ];
  const q = r.qps;
  if (q.first !== null) {
    lines.push(
      `queries per second over ${q.seconds} s: min ${q.min}, median ${q.median}, max ${q.max}`,
    );
    if (q.series !== null && q.series.length <= 60) {
      lines.push(`  ${q.series.join(" ")}`);
    }
  }
  const l = r.latency;
  if (l.count > 0) {
    lines.push(
      `latency of ${l.count} responses: min ${duration(l.min)}, p50 ${
        duration(l.p50)
      }, p90 ${duration(l.p90)}, p99 ${duration(l.p99)}, max ${
        duration(l.max)
      } (percentiles up to ${(l.relativeError * 100).toFixed(2)}% low)`,
    );
  } else lines.push("latency: no response carries its query time");
  if (l.negative > 0) {
    lines.push(`  ${l.negative} responses timed before their query`);
  }
  return lines.join("\n") + "\n";
}
