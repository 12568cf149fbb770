// Private: opens the output file of `fstrm dump FILE OUT` and `fstrm dnstap
// -w OUT`, never destroying an input. OUT may be an input under another
// name (a symbolic or hard link), which only the file's identity (device
// and inode) tells; reading it needs read permission on OUT, which least
// privilege may not grant. So OUT is never opened with truncation:
//
// - a file that does not exist yet is created (`createNew`): it cannot be
//   an input, and needs no more than write permission;
// - an existing file is opened without truncating it, its identity is
//   compared with the inputs', and only then is it cut to nothing (or, to
//   append, written at its end). When its identity cannot be read (no
//   `--allow-read=OUT`), it is refused, untouched, with the flag that
//   allows it.
//
// With no input that is a file (stdin from a pipe, a socket), or OUT
// /dev/null, there is nothing to protect: OUT is opened as it always was.
// Standard input redirected from a file (`fstrm dump - OUT < OUT`) is
// such an input: its identity comes from `fstat` of descriptor 0, which
// needs no permission (stdinIdentity).
//
// Writing a temporary file beside OUT and renaming it would need write
// permission on OUT's directory: more than a command that writes one file
// should ask for.
import { CliError } from "./_cli_error.ts";
import { describeFsError } from "./_file_input.ts";

/** Options of {@linkcode openOutputFile}. */
export interface OpenOutputOptions {
  /**
   * The identities (`dev:ino`) of the input files; `null` for one that has
   * none (stdin from a pipe); {@linkcode UNKNOWN_STDIN} for a standard
   * input that may be a file of unknown identity (an existing output is
   * then refused).
   */
  inputs: readonly (string | null)[];
  /** What the command calls the output in messages (`OUT`, `-w`). */
  name: string;
  /** The message when OUT is an input (after `PATH: `). */
  isInput: string;
  /**
   * Whether to write at the end of an existing file instead of replacing
   * its content.
   * @default false
   */
  append?: boolean;
}

/**
 * Opens `path` for writing, created if need be, emptied unless appending,
 * after checking that it is none of the inputs.
 *
 * @param path The output's path.
 * @param options The inputs and the words of the messages.
 * @returns The file, positioned where writing starts.
 * @throws {CliError} When `path` is an input, when that cannot be checked
 * (no read permission on it, or standard input of unknown identity), or when it cannot be opened; the file is
 * then left as it was.
 */
export function openOutputFile(
  path: string,
  options: OpenOutputOptions,
): Deno.FsFile {
  const fail = (error: unknown) =>
    new CliError(`${path}: ${describeFsError(error)}`);
  const append = options.append === true;
  if (!options.inputs.some((i) => i !== null) || path === "/dev/null") {
    // Nothing to protect (no input is a file), or the one device that
    // cannot be an input: opened as it always was.
    try {
      return Deno.openSync(path, {
        write: true,
        create: true,
        ...(append ? { append } : { truncate: true }),
      });
    } catch (error) {
      throw fail(error);
    }
  }
  try {
    // A new file: it cannot be an input.
    return Deno.openSync(path, { write: true, createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw fail(error);
  }
  let file: Deno.FsFile;
  try {
    // No truncation before the check: that would destroy an input.
    file = Deno.openSync(path, { write: true, create: true, append });
  } catch (error) {
    throw fail(error);
  }
  try {
    const info = statOf(file, path);
    if (info === null) {
      throw new CliError(
        `${path}: cannot check that ${options.name} is not an input without --allow-read=${path}; nothing written`,
      );
    }
    if (options.inputs.includes(info.identity)) {
      throw new CliError(`${path}: ${options.isInput}`);
    }
    if (options.inputs.includes(UNKNOWN_STDIN)) {
      throw new CliError(
        `${path}: cannot check that ${options.name} is not standard input (a file whose identity Deno does not give) without --allow-read=/proc/self/fd/0; nothing written`,
      );
    }
    // Not a file (a device, a FIFO): nothing to empty (O_TRUNC ignores
    // them too; ftruncate fails).
    if (!append && info.isFile) file.truncateSync(0);
    return file;
  } catch (error) {
    file.close();
    if (error instanceof CliError) throw error;
    throw fail(error);
  }
}

/**
 * `dev:ino` of an open file and whether it is a regular file, or `null`
 * when Deno may not read them (reading a file's status needs read
 * permission on its path; the permission is queried first so that Deno
 * never prompts for it).
 */
function statOf(
  file: Deno.FsFile,
  path: string,
): { identity: string; isFile: boolean } | null {
  try {
    const state = Deno.permissions.querySync({ name: "read", path }).state;
    if (state !== "granted") return null;
    const info = file.statSync();
    return info.dev !== null && info.ino !== null
      ? { identity: `${info.dev}:${info.ino}`, isFile: info.isFile }
      : null;
  } catch {
    return null;
  }
}

/**
 * What {@linkcode stdinIdentity} says of a standard input that may be a
 * file whose identity is not known: an existing output is then refused.
 */
export const UNKNOWN_STDIN = "stdin:?";

/**
 * `dev:ino` of the file standard input reads (`< FILE`); `null` when it is
 * no regular file (a pipe, a terminal, a socket); {@linkcode UNKNOWN_STDIN}
 * when that cannot be told.
 *
 * `fstat` of descriptor 0 (through `node:fs`, loaded only here: it costs
 * some 20 ms of start-up) needs no permission: it names no path, and the
 * descriptor is the process's own. Where it fails, `/proc/self/fd/0` is
 * read if read on it is granted (never asked for).
 */
export async function stdinIdentity(): Promise<string | null> {
  try {
    const { fstatSync } = await import("node:fs");
    const info = fstatSync(0);
    return info.isFile() ? `${info.dev}:${info.ino}` : null;
  } catch {
    // Not given: try /proc below.
  }
  const path = "/proc/self/fd/0";
  try {
    const state = Deno.permissions.querySync({ name: "read", path }).state;
    if (state === "granted") {
      const info = Deno.statSync(path);
      if (info.dev !== null && info.ino !== null) {
        return info.isFile ? `${info.dev}:${info.ino}` : null;
      }
    }
  } catch {
    // Not known either.
  }
  try {
    if (Deno.stdin.isTerminal()) return null;
  } catch {
    // Closed: nothing is read from it.
    return null;
  }
  return UNKNOWN_STDIN;
}
