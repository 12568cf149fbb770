import { type OptionsConfig, parseStrictArgs } from "./_parse_args.ts";
import { usageError } from "./_cli_error.ts";
import { MAX_CONTENT_TYPE_LENGTH } from "../constants.ts";

export type { OptionsConfig };

/** What {@linkcode parseCommandArgs} returns. */
export interface ParsedArgs {
  /** Option values by long name (`string`, `boolean`, or arrays of them). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The positional arguments. */
  positionals: string[];
}

/**
 * Parses a command's arguments strictly, as `node:util`'s `parseArgs`
 * would (see `_parse_args.ts`, which spares loading `node:util`), turning
 * its errors into one-line usage errors.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: OptionsConfig,
): ParsedArgs {
  try {
    return parseStrictArgs(args, options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs' messages run on with advice for a script's author: keep
    // the first sentence.
    throw usageError(command, message.split(/\.\s/)[0]!.replace(/\.$/, ""));
  }
}

/**
 * An integer option's value, checked: a usage error names the flag when it
 * is not an integer in `[min, max]`.
 */
export function integerOption(
  command: string,
  flag: string,
  value: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  const n = /^[+]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(
      command,
      `${flag} wants an integer from ${min} to ${max}, got '${value}'`,
    );
  }
  return n;
}

/**
 * The content type given with `-t` (`type`, a multiple option): required,
 * once, at most 256 bytes.
 *
 * @throws {CliError} A usage error otherwise.
 */
export function contentTypeOption(
  command: string,
  values: Record<string, unknown>,
): string {
  const types = (values.type as string[] | undefined) ?? [];
  if (types.length === 0) {
    throw usageError(
      command,
      "-t (--type) is required: the content type, e.g. protobuf:dnstap.Dnstap",
    );
  }
  if (types.length > 1) throw usageError(command, "give -t (--type) once");
  const contentType = types[0]!;
  if (new TextEncoder().encode(contentType).length > MAX_CONTENT_TYPE_LENGTH) {
    throw usageError(
      command,
      `-t: a content type is at most ${MAX_CONTENT_TYPE_LENGTH} bytes`,
    );
  }
  return contentType;
}
