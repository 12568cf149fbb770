// Private: the Go tool's three text formats, as `fstrm dnstap` uses them:
// `formatDnstapQuiet`, `formatDnstapYaml` and `formatDnstapJson` of
// src/dnstap.ts, each giving one record's text (its line ending included)
// or `null` where the Go tool's format function fails (`ok == false`).
//
// They are looked up on the module at run time, so that this command
// builds on a tree where they are not exported yet; a format asked for
// that is missing is an error that says so.
import type { Dnstap } from "../dnstap.ts";
import * as dnstapModule from "../dnstap.ts";
import { CliError } from "./_cli_error.ts";

/** A Go text format: a record's text, or `null` when Go prints nothing. */
export type GoFormatter = (record: Dnstap) => string | Uint8Array | null;

/** The formats, by the Go tool's flag. */
export type GoFormatFlag = "-q" | "-y" | "-j";

const EXPORTS: Readonly<Record<GoFormatFlag, string>> = {
  "-q": "formatDnstapQuiet",
  "-y": "formatDnstapYaml",
  "-j": "formatDnstapJson",
};

/** The formatter of `flag`, or `null` if this build lacks it. */
export function findGoFormatter(flag: GoFormatFlag): GoFormatter | null {
  const f = (dnstapModule as unknown as Record<string, unknown>)[EXPORTS[flag]];
  return typeof f === "function" ? f as GoFormatter : null;
}

/**
 * The formatter of `flag`.
 *
 * @throws {CliError} If this build lacks it.
 */
export function goFormatter(flag: GoFormatFlag): GoFormatter {
  const f = findGoFormatter(flag);
  if (f === null) {
    throw new CliError(
      `${flag}: this build has no ${EXPORTS[flag]} in its dnstap module`,
    );
  }
  return f;
}
