// Private: who may connect to a listening `fstrm dnstap -l` or `fstrm top
// -l`: --allow NET[,NET...] (repeatable) and --max-conns-per-source COUNT,
// checked as `fstrm capture` checks them (TCP only: a Unix socket's file
// mode says who may connect).
import { parseNetwork } from "../_allow_list.ts";
import type { ListenTarget } from "../frame_receiver.ts";
import { integerOption, type OptionsConfig } from "./_args.ts";
import { usageError } from "./_cli_error.ts";

/** The options, for `parseCommandArgs`. */
export const ACCESS_OPTIONS: OptionsConfig = {
  allow: { type: "string", multiple: true },
  "max-conns-per-source": { type: "string" },
};

/** Their help text (after the other options of a command). */
export const ACCESS_OPTIONS_HELP = `\
  --allow NET[,NET...]    with -l: serve only peers in these IPv4/IPv6
                          networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1;
                          repeatable); others are closed before a byte is
                          read, counted, and said on stderr (once a minute
                          per source at most)
  --max-conns-per-source COUNT
                          with -l: connections served at once from one
                          address; more are closed at once and counted
`;

/** The receiver options they give. */
export interface AccessOptions {
  /** The networks allowed; absent: everyone. */
  allow?: string[];
  /** Connections at once per source; absent: no limit. */
  maxConnectionsPerSource?: number;
}

/**
 * The values of {@linkcode ACCESS_OPTIONS}, checked against the target.
 *
 * @param target Where the command listens; `null` when it reads files.
 * @throws {CliError} A usage error for a bad network, a bad count, or
 *   either on a Unix socket or with files.
 */
export function accessOptions(
  command: string,
  values: Record<string, unknown>,
  target: ListenTarget | null,
): AccessOptions {
  const allowText = values.allow as string[] | undefined;
  const perSourceText = values["max-conns-per-source"] as string | undefined;
  const out: AccessOptions = {};
  if (target === null) {
    if (allowText !== undefined || perSourceText !== undefined) {
      throw usageError(
        command,
        `--${
          allowText !== undefined ? "allow" : "max-conns-per-source"
        } goes with -l HOST:PORT`,
      );
    }
    return out;
  }
  if (allowText !== undefined) {
    if (target.transport === "unix") {
      throw usageError(command, "--allow needs -l HOST:PORT, not -u");
    }
    const allow = allowText.flatMap((a) => a.split(",")).map((a) => a.trim());
    for (const net of allow) {
      try {
        parseNetwork(net);
      } catch {
        throw usageError(
          command,
          `--allow wants IPv4 or IPv6 networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1), got '${net}'`,
        );
      }
    }
    out.allow = allow;
  }
  if (perSourceText !== undefined) {
    if (target.transport === "unix") {
      throw usageError(
        command,
        "--max-conns-per-source needs -l HOST:PORT, not -u",
      );
    }
    out.maxConnectionsPerSource = integerOption(
      command,
      "--max-conns-per-source",
      perSourceText,
      1,
      1_000_000,
    );
  }
  return out;
}
