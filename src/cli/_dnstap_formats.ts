// Private: the Go tool's three text formats, by the flag that picks them:
// `formatDnstapQuiet`, `formatDnstapYaml` and `formatDnstapJson` of
// src/dnstap.ts, each giving one record's text (its line ending included)
// or `null` where the Go tool's format function fails (`ok == false`).
import {
  type Dnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
} from "../dnstap.ts";

/** A Go text format: a record's text, or `null` when Go prints nothing. */
export type GoFormatter = (record: Dnstap) => string | null;

/** The formats, by the Go tool's flag. */
export type GoFormatFlag = "-q" | "-y" | "-j";

const FORMATTERS: Readonly<Record<GoFormatFlag, GoFormatter>> = {
  "-q": formatDnstapQuiet,
  "-y": formatDnstapYaml,
  "-j": formatDnstapJson,
};

/** The formatter of `flag`. */
export function goFormatter(flag: GoFormatFlag): GoFormatter {
  return FORMATTERS[flag];
}
