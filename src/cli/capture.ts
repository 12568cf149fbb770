/**
 * `fstrm capture`: receives Frame Streams on a Unix socket, TCP or TLS and
 * writes them to files, as fstrm-bin's `fstrm_capture` does (same flags),
 * with size-based rotation, TLS, START-first writers and a stats line.
 *
 * @module
 */
import type { ListenTarget } from "../frame_receiver.ts";
import { contentTypeOption, integerOption, parseCommandArgs } from "./_args.ts";
import { CliError, usageError } from "./_cli_error.ts";
import { type CaptureConfig, CaptureSession } from "./_capture_session.ts";
import type { CaptureOutput } from "./_capture_files.ts";
import { strftimeProblem } from "./_strftime.ts";
import { guardSigusr1, listeningTcpPorts } from "./_sigusr1_guard.ts";
import { plainError, readOptionFile, socketTarget } from "./_targets.ts";
import { parseNetwork } from "../_allow_list.ts";
import { writeAll } from "./_write_all.ts";

const HELP = `\
Usage: fstrm capture -t TYPE (-u PATH | -a ADDRESS -p PORT) -w FILE [options]

Listens on a Unix socket or TCP (or TLS) port, accepts Frame Streams writers
(DNS servers: unbound, BIND, Knot, PowerDNS, dnsdist; fstrm_replay), and
writes their data frames to FILE as one Frame Streams file (START, frames,
STOP), as fstrm_capture does. Writers may open with READY (bidirectional) or
START (unidirectional); frames of all connections go to the current file.

Options (those of fstrm_capture):
  -t, --type TYPE         the content type to accept and write (required),
                          e.g. protobuf:dnstap.Dnstap
  -u, --unix PATH         listen on this Unix socket (a stale socket file is
                          replaced; one a live server holds is refused)
  -a, --tcp ADDRESS       listen on this TCP address, with -p
  -p, --port PORT         the TCP port (0: any free port, printed)
  -w, --write FILE        the output file (truncated if it exists), or - for
                          stdout (not a terminal); with --localtime or
                          --gmtime a strftime pattern (%Y %m %d %H %M %S %s
                          %j %F %T %%…), expanded at each opening
  -s, --split SECONDS     rotate the output file every SECONDS (a file with
                          no frame yet is kept until one comes); needs
                          --localtime or --gmtime
      --localtime         expand -w with strftime in local time
      --gmtime            expand -w with strftime in UTC
  -b, --buffersize BYTES  the largest frame kept, 4-byte length included
                          (default 262144); larger frames are skipped and
                          counted, the stream goes on
  -c, --maxconns COUNT    connections served at once (default 0: no limit);
                          more are closed at once
  -d, --debug             say more (repeatable): -d each connection started
                          and closed (frames, why) and a stats line every
                          10 s; -dd each connection opened, with its peer

More:
      --max-size BYTES    rotate before a frame would take the file past
                          BYTES (a frame larger than that gets a file alone)
      --tls-cert FILE     serve TLS on -a/-p with this PEM certificate chain
      --tls-key FILE      and this PEM private key
      --allow NET[,NET...]
                          with -a: serve only peers in these IPv4/IPv6
                          networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1;
                          repeatable); others are closed before a byte is
                          read, counted, and said in one line per source a
                          minute at most. An IPv4 peer of a listener on ::
                          (::ffff:10.1.2.3) is matched as IPv4 (10.1.2.3)
      --max-conns-per-source COUNT
                          with -a: connections served at once from one
                          address; more are closed at once
      --unix-mode OCTAL   with -u: the socket file's mode, e.g. 660
      --unix-owner USER   with -u: its owner, a name (from /etc/passwd) or
                          a uid
      --unix-group GROUP  with -u: its group, a name (from /etc/group) or
                          a gid
      --stats-interval SECONDS
                          a stats line on stderr every SECONDS (connections,
                          frames/s, MB/s, drops, errors); 0: none (default,
                          10 with -d)
      --grace SECONDS     on SIGTERM or SIGINT, how long open streams get to
                          reach STOP before they are closed (default 1)
      --unsafe-sigusr1    start even where SIGUSR1 cannot be kept from
                          opening V8's inspector (see below), with a
                          warning: then rotate with SIGUSR2 only
  -h, --help              show this help

With -w -, the stream on stdout can be sent on as it comes: a relay
(fstrm capture ... -w - | fstrm replay -t TYPE -u PATH -r -).

A rotation never overwrites: when the next name exists (the pattern gave the
same name, or -w has no pattern) a counter goes before the extension:
cap.fstrm, cap.1.fstrm, cap.2.fstrm, …

Signals: SIGUSR1 or SIGUSR2 closes the file (STOP) and opens the next one;
SIGHUP writes out what is held in memory; SIGINT or SIGTERM stop cleanly
(open streams get --grace to end, every frame received is written, the file
ends with STOP), exit 0; a second one stops at once, the file still whole.

SIGUSR1 only rotates: Deno 2.9.2 and later open V8's inspector on
127.0.0.1:9229 when a program gets SIGUSR1 (any local user could then run
code as this process), so on Linux fstrm capture first forbids its main
thread to bind TCP ports other than -p's (Landlock, Linux 6.7+, through
libc: it needs --allow-ffi) and checks that this holds; Deno then says
"Failed to start inspector server" at each SIGUSR1, and nothing listens.
Where this cannot be done (another system, an older kernel, no
--allow-ffi) it refuses to start, unless given --unsafe-sigusr1. Should a
TCP socket other than -p's listen after a SIGUSR1 all the same (a Deno
that opens it another way), it says so and stops at once, exit 1.

Faults: when the next file cannot be opened (its directory gone, a name
too long, no room for its START), it says so in one line and goes on
writing to the current file, trying again after another -s interval or
--max-size bytes, or at the next SIGUSR1. When the output cannot be
written (disk full, I/O error), it says so in one line, closes the
connections and stops, exit 1: each file is cut back to its last whole
frame and ends with STOP if there is room for it. Killed (SIGKILL), it
leaves files that hold whole frames up to where they were written, the
last without STOP (fstrm stats reads them to their last complete frame).

Exit status: 0 after a clean stop; 1 when it cannot listen or open or write
the output; 2 on a usage error.
`;

/** The options of `fstrm capture`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  type: { type: "string", short: "t", multiple: true },
  unix: { type: "string", short: "u" },
  tcp: { type: "string", short: "a" },
  port: { type: "string", short: "p" },
  write: { type: "string", short: "w" },
  split: { type: "string", short: "s" },
  localtime: { type: "boolean" },
  gmtime: { type: "boolean" },
  buffersize: { type: "string", short: "b" },
  maxconns: { type: "string", short: "c" },
  debug: { type: "boolean", short: "d", multiple: true },
  "max-size": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  allow: { type: "string", multiple: true },
  "max-conns-per-source": { type: "string" },
  "unix-mode": { type: "string" },
  "unix-owner": { type: "string" },
  "unix-group": { type: "string" },
  "stats-interval": { type: "string" },
  grace: { type: "string" },
  "unsafe-sigusr1": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const DEFAULT_BUFFER_SIZE = 262_144;
const MAX_LENGTH = 0xffff_ffff;

/**
 * `fstrm capture`: listens for Frame Streams writers and writes their
 * frames to files until SIGINT or SIGTERM.
 *
 * A rotation that cannot open the next file is reported in one line and
 * the frames go on into the current file (connections untouched); a write
 * error is reported in one line and stops the capture (connections closed,
 * files cut back to their last whole frame and closed with STOP when there
 * is room), exit code 1. See `_capture_session.ts` for the details and
 * `tests/cli_fault_test.ts` for the checks.
 *
 * @param args The arguments after `capture`.
 * @returns The exit code: 0 after a clean stop, 1 on a runtime error (the
 * output cannot be opened or written, the socket cannot be listened on,
 * SIGUSR1 cannot be kept from opening V8's inspector: see
 * `_sigusr1_guard.ts`), 2 on a usage error.
 */
export async function capture(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("capture", args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const config = await configFrom(values, positionals);
  const guard = guardSigusr1(
    config.listen.transport === "unix" ? [] : [config.listen.port ?? 0],
    { unsafe: values["unsafe-sigusr1"] === true },
  );
  if (guard.exposed) config.log(`warning: ${guard.note}`);
  else if (config.verbosity > 0) config.log(guard.note);
  return await runUntilSignalled(
    config,
    guard.exposed || Deno.build.os !== "linux" ? undefined : listeningTcpPorts,
  );
}

/**
 * Starts a session and runs it until a signal stops it; its exit code. The
 * signal handlers come first, so that a SIGTERM that arrives as the socket
 * opens still stops the capture cleanly. With `listeningTcpPorts`, each
 * SIGUSR1 is followed by a look at the process's listening TCP sockets
 * (20 ms and 1 s after): one that is not the capture's own means V8's
 * inspector got past the guard (a Deno that binds it elsewhere than on the
 * main thread), and the capture stops at once, exit code 1.
 */
async function runUntilSignalled(
  config: CaptureConfig,
  listeningTcpPorts?: () => number[],
): Promise<number> {
  const log = config.log;
  let session: CaptureSession | null = null;
  let stops = 0;
  let breached = false;
  const lookForInspector = () => {
    if (session === null || breached || listeningTcpPorts === undefined) {
      return;
    }
    const own = config.listen.transport === "unix"
      ? -1
      : (session.addr as Deno.NetAddr).port;
    const others = listeningTcpPorts().filter((port) => port !== own);
    if (others.length === 0) return;
    breached = true;
    log(
      `after SIGUSR1 this process listens on TCP port ${
        others.join(", ")
      }: V8's inspector got past the guard (is this Deno newer than ` +
        `fstrm knows?); stopping at once`,
    );
    void session.abort();
  };
  const onRotate = (signal: Deno.Signal) => () => {
    session?.rotate(`received ${signal}`);
    if (listeningTcpPorts !== undefined && signal === "SIGUSR1") {
      for (const ms of [20, 1_000]) setTimeout(lookForInspector, ms);
    }
  };
  const onStop = (signal: Deno.Signal) => () => {
    stops++;
    if (session === null) return; // stopped as soon as it has started
    if (stops === 1) {
      log(`received ${signal}, stopping`);
      void session.stop();
    } else {
      log(`received ${signal} again, stopping now`);
      void session.abort();
    }
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onStop("SIGINT")],
    ["SIGTERM", onStop("SIGTERM")],
    ["SIGUSR1", onRotate("SIGUSR1")],
    ["SIGUSR2", onRotate("SIGUSR2")],
    ["SIGHUP", () => {
      if (session === null) return;
      log("received SIGHUP, flushing output");
      void session.flush();
    }],
  ];
  for (const [signal, handler] of handlers) {
    Deno.addSignalListener(signal, handler);
  }
  try {
    session = await CaptureSession.start(config);
    if (stops > 0) void session.stop();
    const code = await session.done;
    return breached ? 1 : code;
  } finally {
    for (const [signal, handler] of handlers) {
      Deno.removeSignalListener(signal, handler);
    }
  }
}

/** Checks the options and builds the session's configuration. */
async function configFrom(
  values: Record<string, unknown>,
  positionals: string[],
): Promise<CaptureConfig> {
  const cmd = "capture";
  if (positionals.length > 0) {
    throw usageError(cmd, `unexpected argument '${positionals[0]}'`);
  }
  const contentType = contentTypeOption(cmd, values);
  const socket = socketTarget(cmd, values, 0);
  const write = values.write as string | undefined;
  if (write === undefined || write === "") {
    throw usageError(
      cmd,
      "-w (--write) is required: the output file, or - for stdout",
    );
  }
  const localtime = values.localtime === true;
  const gmtime = values.gmtime === true;
  if (localtime && gmtime) {
    throw usageError(cmd, "--localtime and --gmtime are mutually exclusive");
  }
  const splitSeconds = values.split === undefined
    ? 0
    : integerOption(cmd, "-s", values.split as string, 0, 2_000_000);
  const maxSize = values["max-size"] === undefined
    ? 0
    : integerOption(cmd, "--max-size", values["max-size"] as string, 1);
  if (splitSeconds > 0 && !localtime && !gmtime) {
    throw usageError(cmd, "-s (--split) needs --localtime or --gmtime");
  }
  let output: CaptureOutput;
  if (write === "-") {
    if (splitSeconds > 0 || maxSize > 0) {
      throw usageError(
        cmd,
        "cannot rotate stdout: -s and --max-size need a file (-w FILE)",
      );
    }
    if (Deno.stdout.isTerminal()) {
      throw usageError(cmd, "refusing to write binary output to a terminal");
    }
    output = { kind: "stdout" };
  } else {
    const timeZone = localtime ? "local" : gmtime ? "utc" : null;
    if (timeZone !== null) {
      const problem = strftimeProblem(write);
      if (problem !== null) {
        throw usageError(cmd, `-w ${write}: ${problem}`);
      }
    }
    output = { kind: "file", pattern: write, timeZone };
  }
  const bufferSize = values.buffersize === undefined
    ? DEFAULT_BUFFER_SIZE
    : integerOption(cmd, "-b", values.buffersize as string, 5, MAX_LENGTH);
  const maxconns = values.maxconns === undefined
    ? 0
    : integerOption(cmd, "-c", values.maxconns as string, 0, 1_000_000);
  const verbosity = Math.min(
    5,
    (values.debug as boolean[] | undefined)?.length ?? 0,
  );
  const statsSeconds = values["stats-interval"] === undefined
    ? (verbosity > 0 ? 10 : 0)
    : secondsOption("--stats-interval", values["stats-interval"] as string);
  const graceSeconds = values.grace === undefined
    ? 1
    : secondsOption("--grace", values.grace as string);
  const cert = values["tls-cert"] as string | undefined;
  const key = values["tls-key"] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw usageError(cmd, "--tls-cert and --tls-key go together");
  }
  const allowText = values.allow as string[] | undefined;
  const allow = allowText?.flatMap((a) => a.split(",")).map((a) => a.trim());
  const perSource = values["max-conns-per-source"] === undefined
    ? undefined
    : integerOption(
      cmd,
      "--max-conns-per-source",
      values["max-conns-per-source"] as string,
      1,
      1_000_000,
    );
  if (allow !== undefined) {
    if (socket.transport === "unix") {
      throw usageError(cmd, "--allow needs -a and -p, not -u");
    }
    for (const net of allow) {
      try {
        parseNetwork(net);
      } catch {
        throw usageError(
          cmd,
          `--allow wants IPv4 or IPv6 networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1), got '${net}'`,
        );
      }
    }
  }
  if (perSource !== undefined && socket.transport === "unix") {
    throw usageError(cmd, "--max-conns-per-source needs -a and -p, not -u");
  }
  let listen: ListenTarget;
  if (socket.transport === "unix") {
    if (cert !== undefined) {
      throw usageError(cmd, "TLS (--tls-cert) needs -a and -p, not -u");
    }
    listen = { ...socket, ...(await unixFileOptions(values)) };
  } else if (
    ["unix-mode", "unix-owner", "unix-group"].some((k) =>
      values[k] !== undefined
    )
  ) {
    throw usageError(
      cmd,
      "--unix-mode, --unix-owner and --unix-group go with -u",
    );
  } else if (cert !== undefined) {
    listen = {
      transport: "tls",
      hostname: socket.hostname,
      port: socket.port,
      cert: await readOrFail("--tls-cert", cert),
      key: await readOrFail("--tls-key", key!),
    };
  } else {
    listen = socket;
  }
  const encoder = new TextEncoder();
  return {
    listen,
    contentType,
    output,
    splitSeconds,
    maxSize,
    maxFrameLength: bufferSize - 4,
    maxConnections: maxconns === 0 ? 1_000_000 : maxconns,
    ...(allow === undefined ? {} : { allow }),
    ...(perSource === undefined ? {} : { maxConnectionsPerSource: perSource }),
    gracePeriod: Math.round(graceSeconds * 1000),
    statsInterval: Math.round(statsSeconds * 1000),
    verbosity,
    log: (line) => {
      const bytes = encoder.encode(`fstrm capture: ${line}\n`);
      try {
        let at = 0;
        while (at < bytes.length) {
          at += Deno.stderr.writeSync(bytes.subarray(at));
        }
      } catch {
        // stderr closed: nothing to tell
      }
    },
  };
}

/** The Unix socket file's --unix-mode, --unix-owner and --unix-group. */
async function unixFileOptions(
  values: Record<string, unknown>,
): Promise<{ mode?: number; owner?: number; group?: number }> {
  const out: { mode?: number; owner?: number; group?: number } = {};
  const mode = values["unix-mode"] as string | undefined;
  if (mode !== undefined) {
    if (!/^0?[0-7]{1,4}$/.test(mode)) {
      throw usageError(
        "capture",
        `--unix-mode wants octal permission bits such as 660, got '${mode}'`,
      );
    }
    out.mode = parseInt(mode, 8);
  }
  const owner = values["unix-owner"] as string | undefined;
  if (owner !== undefined) {
    out.owner = await idOf("--unix-owner", owner, "/etc/passwd");
  }
  const group = values["unix-group"] as string | undefined;
  if (group !== undefined) {
    out.group = await idOf("--unix-group", group, "/etc/group");
  }
  return out;
}

/**
 * A uid or gid: a number as given, or a name looked up in /etc/passwd or
 * /etc/group (Deno has no getpwnam; names only NSS knows, from LDAP say,
 * must be given as numbers).
 */
async function idOf(
  flag: string,
  value: string,
  file: string,
): Promise<number> {
  if (/^\d{1,10}$/.test(value) && Number(value) <= 0xffff_fffe) {
    return Number(value);
  }
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new CliError(
      `cannot look up ${flag} ${value} in ${file}: ${plainError(error)}`,
    );
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === value && fields.length >= 3) {
      const id = Number(fields[2]);
      if (/^\d+$/.test(fields[2]!)) return id;
    }
  }
  throw new CliError(`${flag} ${value}: no such name in ${file}`);
}

/** A number of seconds (decimals allowed), at most a day. */
function secondsOption(flag: string, value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(n) || n > 86_400) {
    throw usageError(
      "capture",
      `${flag} wants seconds from 0 to 86400, got '${value}'`,
    );
  }
  return n;
}

async function readOrFail(flag: string, path: string): Promise<string> {
  try {
    return await readOptionFile(flag, path);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}
