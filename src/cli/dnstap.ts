/**
 * `fstrm dnstap`: prints dnstap records from a file, stdin or a socket in
 * the Go `dnstap` tool's formats (quiet text, YAML, JSON), byte for byte,
 * or writes them to a Frame Streams file; with filters on the message
 * type, the query name, the response code and the client's network.
 *
 * @module
 */
import type { ListenTarget } from "../frame_receiver.ts";
import { integerOption, parseCommandArgs } from "./_args.ts";
import { usageError } from "./_cli_error.ts";
import {
  INPUT_OPTIONS,
  INPUT_OPTIONS_HELP,
  inputOptions,
  openInput,
} from "./_file_input.ts";
import { isBrokenPipe, OutputBuffer } from "./_dump_output.ts";
import { openOutputFile, stdinIdentity } from "./_open_output.ts";
import { writeAll } from "./_write_all.ts";
import {
  type DnstapFilterSpec,
  FilterSyntaxError,
  parseNetworks,
  parseRcodes,
  parseSuffixes,
  parseTypes,
} from "./_dnstap_filter.ts";
import { type GoFormatFlag, goFormatter } from "./_dnstap_formats.ts";
import {
  countsText,
  type RecordOutput,
  RecordSink,
} from "./_dnstap_records.ts";
import { type FilesOutcome, logLine, readFiles } from "./_dnstap_files.ts";
import {
  ACCESS_OPTIONS,
  ACCESS_OPTIONS_HELP,
  accessOptions,
} from "./_listen_access.ts";
// The socket and thread modules load only when used: -q on a file starts
// sooner without them.
import type { ParallelOptions, ParallelSink } from "./_dnstap_parallel.ts";
import { useGoLocalZone } from "./_go_local_zone.ts";

const HELP = `\
Usage: fstrm dnstap (-r FILE [FILE...] | -u SOCKET | -l HOST:PORT) [options]

Prints dnstap records as the Go dnstap tool (golang-dnstap 0.4) does, byte
for byte: -q quiet text (the default, as with the Go tool), -y YAML, -j
JSON; or, with --json, as structured JSON of our own for programs. Or, with
-w FILE and no format flag, writes the records as a dnstap
Frame Streams file. Frames that are no dnstap message are counted and
skipped (the Go tool stops at the first); they never stop the command.

Input (files, or one socket):
  -r, --read FILE         a dnstap Frame Streams file; - reads stdin.
                          Repeatable, and more files may follow as arguments
                          (-r cap.*.fstrm): read one after another, into one
                          output and one summary
  -u, --unix SOCKET       listen on this Unix socket for Frame Streams
                          writers (DNS servers; bidirectional or not)
  -l, --listen HOST:PORT  listen on this TCP address ([::1]:6000 for IPv6,
                          :6000 for all IPv4 addresses, port 0: any free
                          port, printed on stderr)

Output:
  -q, --quiet             quiet text, one line per record (the default)
  -y, --yaml              YAML, records separated by "---"
  -j, --go-json           JSON, one object per line (the Go tool's)
      --json              structured JSON, one object per line: DNS messages
                          parsed (header, question, records, EDNS), latency,
                          identity (docs/dnstap_records.md)
  -w, --write FILE        write to FILE instead of stdout: the records'
                          text with -q, -y, -j or --json; without, the records
                          themselves as a Frame Streams file (START, data
                          frames, STOP; content type protobuf:dnstap.Dnstap).
                          -w - writes that Frame Streams file to stdout (not
                          a terminal), to pipe it on
  -a, --append            append the text to FILE instead of truncating it
                          (needs -w FILE and a format flag, as the Go tool)

Filters (optional; a record must pass all given; each takes comma lists and
may be repeated, any value of one filter passes it):
  --type TYPES            message types: CLIENT_QUERY, … (any case), the
                          quiet format's mnemonics AQ AR RQ RR CQ CR FQ FR SQ
                          SR TQ TR UQ UR, or numbers
  --qname-suffix NAMES    the first question's name ends with one of these,
                          label by label, case-insensitively (example.com
                          matches example.com and www.example.com, not
                          badexample.com; . matches all). Read from the
                          response of a response, the query of a query
  --rcode RCODES          the response message's rcode (EDNS extended bits
                          included): NOERROR, NXDOMAIN, SERVFAIL, REFUSED, …
                          (as miekg/dns names them) or numbers; records
                          without a response message do not pass
  --client NETWORKS       the query address lies in one of these networks:
                          192.0.2.0/24, 2001:db8::/32, or single addresses
  --limit N               stop after N records printed (or written)
  --threads N             format files (and stdin) on N worker threads, the
                          output in order and the same as on one (default:
                          with -y, -j and --json, the cores, at most 4, for
                          stdin or files of 16 MiB or more in all; else 1:
                          all on this thread, as -q, sockets and Frame
                          Streams output are by default, the last two always)

More:
  --progress auto|always|never
                          a progress bar on stderr while reading a file, a
                          status line (counts, frames/s) on a socket
                          (default auto: when stderr is a terminal and
                          stdout is not; for a file, of 64 MiB or more)
  --grace SECONDS         on SIGINT or SIGTERM, how long open streams get to
                          reach STOP before they are closed (default 1)
${ACCESS_OPTIONS_HELP}${INPUT_OPTIONS_HELP}  -h, --help              show this help

On exit a summary goes to stderr: frames read, records printed (or
written), filtered out, malformed dnstap, not printable (records where the
Go tool prints nothing and stops, or crashes: no message in a MESSAGE; -q:
a type other than MESSAGE; -j: an address neither 4 nor 16 bytes long),
and for a socket the connections and what the receiver dropped.

Signals (sockets): SIGINT or SIGTERM stop cleanly (open streams get
--grace, every record received is printed, the Frame Streams output ends
with STOP), exit 0; a second one stops at once.

Exit status: 0 when every input was read to its end (or to --limit, or
until stdout was closed, as by | head), or after a signal; 1 on an error (a
file that cannot be opened or read to its end: one line for it, every
record before the fault printed, and the next file read; a socket that
cannot be listened on; an output that cannot be written); 2 on a usage
error.
`;

/** The options of `fstrm dnstap`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  ...INPUT_OPTIONS,
  ...ACCESS_OPTIONS,
  read: { type: "string", short: "r", multiple: true },
  unix: { type: "string", short: "u", multiple: true },
  listen: { type: "string", short: "l", multiple: true },
  quiet: { type: "boolean", short: "q" },
  yaml: { type: "boolean", short: "y" },
  "go-json": { type: "boolean", short: "j" },
  json: { type: "boolean" },
  write: { type: "string", short: "w" },
  append: { type: "boolean", short: "a" },
  type: { type: "string", multiple: true },
  "qname-suffix": { type: "string", multiple: true },
  rcode: { type: "string", multiple: true },
  client: { type: "string", multiple: true },
  limit: { type: "string" },
  threads: { type: "string" },
  progress: { type: "string" },
  grace: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const CMD = "dnstap";

/** Where records come from. */
type Source =
  | { kind: "files"; paths: string[] }
  | { kind: "listen"; target: ListenTarget };

/** Everything a run needs, checked. */
interface Config {
  source: Source;
  format: GoFormatFlag | null;
  write: string | null;
  append: boolean;
  filter: DnstapFilterSpec;
  limit: number;
  threads: number | null;
  progress: "auto" | "always" | "never";
  graceMs: number;
}

/**
 * `fstrm dnstap`: prints or writes the dnstap records of a file, stdin or
 * a socket; a summary on stderr at the end.
 *
 * @param args The arguments after `dnstap`.
 * @returns The exit code: 0 after reading to the end, to --limit or a
 * signal; 1 on an error; 2 on a usage error.
 */
export async function dnstap(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(CMD, args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const { engine, maxFrameLength } = inputOptions(CMD, values);
  const config = configFrom(values, positionals);
  const frames = config.format === null && config.write !== null;
  // No format flag: quiet text, as the Go tool; with -w FILE, frames.
  const output: RecordOutput = frames
    ? { kind: "frames" }
    : { kind: "text", format: goFormatter(config.format ?? "-q") };
  let goZone = false;
  if (!frames && (config.format ?? "-q") === "-q" && mayReadZone()) {
    // The quiet clock in the local zone exactly as Go reads it (TZ, zone
    // files), not as the JavaScript engine does.
    goZone = useGoLocalZone();
  }
  if (frames && config.write === "-" && Deno.stdout.isTerminal()) {
    throw usageError(
      CMD,
      "refusing to write Frame Streams to a terminal (give -q, -y, -j or --json, or redirect stdout)",
    );
  }
  const source = config.source;
  const access = accessOptions(
    CMD,
    values,
    source.kind === "listen" ? source.target : null,
  );
  if (source.kind === "files") {
    // Open the first input first: a bad input leaves no empty output.
    const [firstPath, ...rest] = source.paths;
    const first = await openInput(firstPath!, maxFrameLength);
    let outcome: FilesOutcome;
    let sink: RecordSink | ParallelSink | null = null;
    try {
      const { out, close } = await openOutput(config, source.paths);
      try {
        const threads = config.threads ??
          (config.format === "-q" || config.format === null
            ? 1
            : defaultThreads(first.size, rest));
        if (!frames && threads > 1) {
          sink = await startThreads(out, {
            threads,
            format: config.format ?? "-q",
            filter: config.filter,
            limit: config.limit,
            goZone,
          });
        }
        sink ??= new RecordSink(out, {
          output,
          filter: config.filter,
          limit: config.limit,
          engine,
        });
        outcome = await readFiles(first, rest, sink, out, {
          engine,
          maxFrameLength,
          progress: config.progress,
        });
        if (outcome !== "stdout-closed") {
          if (sink instanceof RecordSink) sink.finish();
          else out.flush();
        }
      } finally {
        if (sink !== null && !(sink instanceof RecordSink)) sink.close();
        close();
      }
    } catch (error) {
      try {
        first.close();
      } catch {
        // readFiles closed it already
      }
      // stdout closed early (| head): stop quietly, as dump does.
      if (isBrokenPipe(error)) return 0;
      throw error;
    }
    if (outcome === "stdout-closed") return 0;
    await logLine(countsText(sink!.counts, frames));
    return outcome === "failed" ? 1 : 0;
  }
  const { out, close } = await openOutput(config, []);
  try {
    const { runLive } = await import("./_dnstap_live.ts");
    return await runLive({
      target: source.target,
      ...access,
      out,
      output,
      filter: config.filter,
      limit: config.limit,
      maxFrameLength,
      graceMs: config.graceMs,
      frames,
      progress: config.progress === "always" ||
        (config.progress === "auto" && Deno.stderr.isTerminal() &&
          !Deno.stdout.isTerminal()),
    });
  } finally {
    close();
  }
}

/**
 * Starts the worker threads; `null` (one thread, with a line on stderr)
 * where workers cannot be started.
 */
async function startThreads(
  out: OutputBuffer,
  options: ParallelOptions,
): Promise<ParallelSink | null> {
  const { ParallelSink } = await import("./_dnstap_parallel.ts");
  try {
    return new ParallelSink(out, options);
  } catch (error) {
    console.error(
      `fstrm dnstap: no worker threads (${
        error instanceof Error ? error.message : String(error)
      }); formatting on one`,
    );
    return null;
  }
}

/** Inputs smaller than this in all are formatted on one thread by default. */
const THREADS_MIN_BYTES = 16 << 20;

/**
 * The default --threads for -y, -j and --json: the cores, at most 4, for
 * stdin (or another input of unknown size) or files of 16 MiB or more in
 * all; else 1 (starting workers takes longer than formatting a small
 * file). -q takes 1: its line written from the bytes costs less than
 * handing the batches over (docs/benchmarks.md).
 */
function defaultThreads(
  firstSize: number | null,
  rest: readonly string[],
): number {
  let total = firstSize ?? Infinity;
  for (const path of rest) {
    if (total >= THREADS_MIN_BYTES) break;
    try {
      total += path === "-" ? Infinity : Deno.statSync(path).size;
    } catch {
      // It will fail to open, and be said so.
    }
  }
  if (total < THREADS_MIN_BYTES) return 1;
  const cores = typeof navigator === "undefined"
    ? 1
    : navigator.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(4, cores));
}

/**
 * Whether `TZ` and the zone files may be read without a permission prompt
 * (without them the engine's zone is kept, as the library does).
 */
function mayReadZone(): boolean {
  const granted = (d: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(d).state === "granted";
  const tz = granted({ name: "env", variable: "TZ" })
    ? Deno.env.get("TZ")
    : null;
  if (tz === null) return false;
  const path = tz === undefined
    ? "/etc/localtime"
    : tz.replace(/^:/, "").startsWith("/")
    ? tz.replace(/^:/, "")
    : "/usr/share/zoneinfo";
  return granted({ name: "read", path });
}

/** Checks the options. */
function configFrom(
  values: Record<string, unknown>,
  positionals: string[],
): Config {
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  // Files: each -r, and any argument left (so that a shell glob works:
  // -r cap.*.fstrm).
  const reads = [...list("read"), ...positionals];
  const unix = list("unix");
  const listen = list("listen");
  if (reads.length + unix.length + listen.length === 0) {
    throw usageError(CMD, "no input: give -r FILE, -u SOCKET or -l HOST:PORT");
  }
  if (
    unix.length + listen.length > 1 ||
    (reads.length > 0 && unix.length + listen.length > 0)
  ) {
    throw usageError(CMD, "give files (-r) or one socket (-u or -l)");
  }
  if (reads.filter((p) => p === "-").length > 1) {
    throw usageError(CMD, "stdin (-) can be read only once");
  }
  let source: Source;
  if (reads.length > 0) source = { kind: "files", paths: reads };
  else if (unix.length > 0) {
    if (unix[0] === "") throw usageError(CMD, "-u wants a socket path");
    source = { kind: "listen", target: { transport: "unix", path: unix[0]! } };
  } else source = { kind: "listen", target: tcpTarget(listen[0]!) };

  const flags = (["-q", "-y", "-j", "--json"] as const).filter((_f, i) =>
    values[["quiet", "yaml", "go-json", "json"][i]!] === true
  );
  if (flags.length > 1) {
    throw usageError(CMD, "give at most one of -q, -y and -j, or --json");
  }
  const format = flags[0] ?? null;
  const write = (values.write as string | undefined) ?? null;
  if (write === "") throw usageError(CMD, "-w wants a file name, or -");
  const append = values.append === true;
  if (append && (write === null || write === "-" || format === null)) {
    throw usageError(
      CMD,
      "-a (--append) needs -w FILE and one of -q, -y, -j and --json (text is appended, not Frame Streams)",
    );
  }
  let filter: DnstapFilterSpec;
  try {
    const given = (name: string) => values[name] !== undefined;
    filter = {
      types: given("type") ? parseTypes(list("type")) : null,
      suffixes: given("qname-suffix")
        ? parseSuffixes(list("qname-suffix"))
        : null,
      rcodes: given("rcode") ? parseRcodes(list("rcode")) : null,
      clients: given("client") ? parseNetworks(list("client")) : null,
    };
  } catch (error) {
    if (error instanceof FilterSyntaxError) {
      throw usageError(CMD, error.message);
    }
    throw error;
  }
  const limit = values.limit === undefined
    ? Infinity
    : integerOption(CMD, "--limit", values.limit as string, 0);
  const threads = values.threads === undefined
    ? null
    : integerOption(CMD, "--threads", values.threads as string, 1, 64);
  const progress = (values.progress as string | undefined) ?? "auto";
  if (progress !== "auto" && progress !== "always" && progress !== "never") {
    throw usageError(
      CMD,
      `--progress wants auto, always or never, got '${progress}'`,
    );
  }
  let graceMs = 1000;
  if (values.grace !== undefined) {
    const text = values.grace as string;
    const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
    if (!(n <= 86_400)) {
      throw usageError(
        CMD,
        `--grace wants seconds from 0 to 86400, got '${text}'`,
      );
    }
    graceMs = Math.round(n * 1000);
  }
  return {
    source,
    format,
    write,
    append,
    filter,
    limit,
    threads,
    progress,
    graceMs,
  };
}

/** `-l HOST:PORT`: `127.0.0.1:6000`, `[::1]:6000`, `:6000`. */
function tcpTarget(text: string): ListenTarget {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(text);
  if (m === null) {
    throw usageError(
      CMD,
      `-l wants HOST:PORT ([::1]:6000 for IPv6), got '${text}'`,
    );
  }
  const hostname = m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!);
  return {
    transport: "tcp",
    hostname,
    port: integerOption(CMD, "-l", m[3]!, 0, 65535),
  };
}

/** Opens where records go: stdout, or -w FILE (never one of the inputs). */
async function openOutput(
  config: Config,
  inputs: readonly string[],
): Promise<{ out: OutputBuffer; close: () => void }> {
  const path = config.write;
  if (path === null || path === "-") {
    return { out: new OutputBuffer(Deno.stdout), close: () => {} };
  }
  const file = openOutputFile(path, {
    inputs: await Promise.all(inputs.map(fileIdentity)),
    name: "-w",
    isInput: "-w names an input file; writing it would destroy what is read",
    append: config.append,
  });
  const out = new OutputBuffer(file);
  return {
    out,
    close: () => {
      try {
        out.flush();
      } finally {
        file.close();
      }
    },
  };
}

/** `dev:ino` of an existing file (or stdin's), or `null` (no such file, not a file). */
function fileIdentity(path: string): Promise<string | null> | string | null {
  if (path === "-") return stdinIdentity();
  try {
    const info = Deno.statSync(path);
    return info.isFile ? `${info.dev}:${info.ino}` : null;
  } catch {
    return null;
  }
}
