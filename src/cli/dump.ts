import { CliError } from "./_cli_error.ts";

/** `fstrm dump`: not yet written. */
export function dump(_args: string[]): Promise<number> {
  return Promise.reject(new CliError("not implemented yet"));
}
