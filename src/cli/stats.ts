import { CliError } from "./_cli_error.ts";

/** `fstrm stats`: not yet written. */
export function stats(_args: string[]): Promise<number> {
  return Promise.reject(new CliError("not implemented yet"));
}
