import { CliError } from "./_cli_error.ts";

/** `fstrm replay`: not yet written. */
export function replay(_args: string[]): Promise<number> {
  return Promise.reject(new CliError("not implemented yet"));
}
