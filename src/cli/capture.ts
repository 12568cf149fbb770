import { CliError } from "./_cli_error.ts";

/** `fstrm capture`: not yet written. */
export function capture(_args: string[]): Promise<number> {
  return Promise.reject(new CliError("not implemented yet"));
}
