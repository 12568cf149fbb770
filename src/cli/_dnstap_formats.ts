// Private: the output formats, by the flag that picks them: the Go tool's
// three (`formatDnstapQuiet`, `formatDnstapYaml` and `formatDnstapJson` of
// src/dnstap.ts), each giving one record's text (its line ending included)
// or `null` where the Go tool's format function fails (`ok == false`), and
// our structured NDJSON (`--json`, `toDnstapRecord`).
import {
  type Dnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
  toDnstapRecord,
} from "../dnstap.ts";

/** A Go text format: a record's text, or `null` when Go prints nothing. */
export type GoFormatter = (record: Dnstap) => string | null;

/** The formats, by the Go tool's flag, and ours (`--json`). */
export type GoFormatFlag = "-q" | "-y" | "-j" | "--json";

const FORMATTERS: Readonly<Record<GoFormatFlag, GoFormatter>> = {
  "-q": formatDnstapQuiet,
  "-y": formatDnstapYaml,
  "-j": formatDnstapJson,
  "--json": (record) => JSON.stringify(toDnstapRecord(record)) + "\n",
};

/** The formatter of `flag`. */
export function goFormatter(flag: GoFormatFlag): GoFormatter {
  return FORMATTERS[flag];
}
