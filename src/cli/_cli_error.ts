/**
 * An error the `fstrm` command reports as one line on stderr, with an exit
 * code, and never with a stack trace.
 */
export class CliError extends Error {
  /** The process exit code: 2 for usage errors, 1 otherwise. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A usage error (bad flag, missing argument): exit code 2. */
export function usageError(command: string, message: string): CliError {
  return new CliError(
    `${message} (see 'fstrm ${command} --help')`,
    2,
  );
}
