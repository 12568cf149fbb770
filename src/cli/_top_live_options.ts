// Private: the live options of `fstrm top` (-u SOCKET, -l HOST:PORT and
// the options that go with them): their definitions, help text and checks,
// apart from the live path itself (_top_live.ts), which top.ts loads only
// for a live run, so that `top -r` does not load the receiver.
import type { ListenTarget } from "../frame_receiver.ts";
import { integerOption, type OptionsConfig } from "./_args.ts";
import { usageError } from "./_cli_error.ts";
import {
  ACCESS_OPTIONS,
  ACCESS_OPTIONS_HELP,
  type AccessOptions,
  accessOptions,
} from "./_listen_access.ts";

const CMD = "top";

/** The live options, for `parseCommandArgs`. */
export const LIVE_OPTIONS: OptionsConfig = {
  unix: { type: "string", short: "u" },
  listen: { type: "string", short: "l" },
  interval: { type: "string" },
  limit: { type: "string" },
  duration: { type: "string" },
  grace: { type: "string" },
  ...ACCESS_OPTIONS,
};

/** Their help text. */
export const LIVE_OPTIONS_HELP = `\
Live (instead of -r):
  -u, --unix SOCKET       listen on this Unix socket for dnstap writers (DNS
                          servers; bidirectional or not)
  -l, --listen HOST:PORT  listen on this TCP address ([::1]:6000 for IPv6,
                          :6000 for all IPv4 addresses, port 0: any free
                          port, printed on stderr)
  --interval SECONDS      report every SECONDS (default 1): redrawn in place
                          on a terminal, appended otherwise; with --json
                          one object at the end, or, when --interval is
                          given, one line each interval (the last final)
  --limit N               stop after N messages
  --duration SECONDS      stop after SECONDS
  --grace SECONDS         when stopping, how long open streams get to reach
                          STOP before they are closed (default 1)
${ACCESS_OPTIONS_HELP}`;

/** What a live run needs from the command line. */
export interface LiveOptions extends AccessOptions {
  /** Where to listen. */
  target: ListenTarget;
  /** Milliseconds between reports. */
  intervalMs: number;
  /** Whether --interval was given (with --json: a line every interval). */
  intervalGiven: boolean;
  /** Messages to count before stopping (Infinity: no limit). */
  limit: number;
  /** Milliseconds before stopping (Infinity: none). */
  durationMs: number;
  /** Milliseconds open streams get to end when stopping. */
  graceMs: number;
}

/** Seconds, a decimal, in (0, 86400] (or [0, 86400] with `zero`). */
function secondsOption(flag: string, text: string, zero = false): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n <= 86_400 && (zero ? n >= 0 : n > 0))) {
    throw usageError(
      CMD,
      `${flag} wants seconds ${
        zero ? "from 0" : "above 0"
      } up to 86400, got '${text}'`,
    );
  }
  return n;
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
  return {
    transport: "tcp",
    hostname: m[1] ?? (m[2] === "" ? "0.0.0.0" : m[2]!),
    port: integerOption(CMD, "-l", m[3]!, 0, 65535),
  };
}

/**
 * The live options given, checked; `null` without -u and -l (then the
 * other live options are refused).
 *
 * @throws {CliError} A usage error.
 */
export function liveOptions(
  values: Record<string, unknown>,
  positionals: readonly string[],
): LiveOptions | null {
  const unix = values.unix as string | undefined;
  const listen = values.listen as string | undefined;
  if (unix === undefined && listen === undefined) {
    const given = [
      "interval",
      "limit",
      "duration",
      "grace",
      ...Object.keys(
        ACCESS_OPTIONS,
      ),
    ].find((k) => values[k] !== undefined);
    if (given !== undefined) {
      throw usageError(CMD, `--${given} goes with -u or -l`);
    }
    return null;
  }
  if (unix !== undefined && listen !== undefined) {
    throw usageError(CMD, "give -u SOCKET or -l HOST:PORT, not both");
  }
  if (values.read !== undefined || positionals.length > 0) {
    throw usageError(CMD, "give a file (-r) or a socket (-u or -l), not both");
  }
  if (unix === "") throw usageError(CMD, "-u wants a socket path");
  const target: ListenTarget = unix !== undefined
    ? { transport: "unix", path: unix }
    : tcpTarget(listen!);
  const text = (k: string) => values[k] as string | undefined;
  const interval = text("interval");
  const limit = text("limit");
  const duration = text("duration");
  const grace = text("grace");
  return {
    target,
    ...accessOptions(CMD, values, target),
    intervalGiven: interval !== undefined,
    intervalMs: interval === undefined
      ? 1000
      : Math.max(1, Math.round(secondsOption("--interval", interval) * 1000)),
    limit: limit === undefined
      ? Infinity
      : integerOption(CMD, "--limit", limit, 1),
    durationMs: duration === undefined
      ? Infinity
      : Math.round(secondsOption("--duration", duration) * 1000),
    graceMs: grace === undefined
      ? 1000
      : Math.round(secondsOption("--grace", grace, true) * 1000),
  };
}
