// Private: opening the output files of `fstrm capture`: the first (which,
// as fstrm_capture's, truncates a file of that name) and each next one at a
// rotation (which never truncates: a name taken gets a counter), with START
// in it before it gets its name. What a file holds and how it is written is
// `_output_file.ts`; when to rotate is `_capture_session.ts`.
import type { TimeZoneMode } from "./_strftime.ts";
import type { FrameFileOutput, OutputSink } from "./_output_file.ts";
import { writeStart } from "./_output_file.ts";
import { plainError } from "./_targets.ts";
import { CliError } from "./_cli_error.ts";

/** Where the frames go. */
export type CaptureOutput =
  | {
    /** Standard output (`-w -`): one stream, never rotated. */
    kind: "stdout";
  }
  | {
    /** Files. */
    kind: "file";
    /** The file name, or a strftime pattern when `timeZone` is set. */
    pattern: string;
    /** Expand `pattern` with strftime in this time, or use it as it is (`null`). */
    timeZone: TimeZoneMode | null;
  };

/**
 * Makes a file's output over an open sink: `startWritten` is the length of
 * the START already in it, or absent when the output is to write START.
 *
 * @throws The error of writing START.
 */
export type MakeOutput = (
  path: string,
  sink: OutputSink,
  owns: boolean,
  startWritten?: number,
) => FrameFileOutput;

const ROTATION_NAME_TRIES = 10_000;

/**
 * Opens the first output: stdout, or the file `path` (truncated, as
 * fstrm_capture does).
 *
 * @throws {CliError} If it cannot be opened, or START cannot be written
 * (then the file is removed).
 */
export function openFirstOutput(
  output: CaptureOutput,
  path: string,
  make: MakeOutput,
): FrameFileOutput {
  if (output.kind === "stdout") return make("-", Deno.stdout, false);
  // As fstrm_capture: an existing file of that name is truncated.
  const truncate = { write: true, create: true, truncate: true };
  return openOutput(path, truncate, make, CliError)!;
}

/**
 * Opens the next file, `name` or, when that exists (the file just closed,
 * when the pattern gives the same name again), `name` with a counter
 * before its extension: `cap.fstrm`, `cap.1.fstrm`, …
 *
 * START is written to a file under a temporary name first, which then
 * gets its name by a hard link (which, as `createNew`, never replaces a
 * file): a capture killed at any point leaves no empty capture file.
 * Where that cannot be done (no hard links), the file is created under
 * its name and START written into it.
 *
 * @throws {Error} Saying which file cannot be opened or written, and why.
 */
export function openNextOutput(
  name: string,
  contentType: Uint8Array,
  make: MakeOutput,
): FrameFileOutput {
  const staged = stageStart(name, contentType);
  if (staged !== null) {
    const { tmp, file, start } = staged;
    let opened: FrameFileOutput | null = null;
    for (let k = 0; k < ROTATION_NAME_TRIES; k++) {
      const path = k === 0 ? name : withCounter(name, k);
      try {
        Deno.linkSync(tmp, path);
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) continue;
        break; // say why below, creating it under its name
      }
      opened = make(path, file, true, start);
      break;
    }
    try {
      Deno.removeSync(tmp);
    } catch {
      // gone: nothing to clean
    }
    if (opened !== null) return opened;
    try {
      file.close();
    } catch {
      // closed
    }
  }
  for (let k = 0; k < ROTATION_NAME_TRIES; k++) {
    const path = k === 0 ? name : withCounter(name, k);
    const createNew = { write: true, createNew: true };
    const opened = openOutput(path, createNew, make, Error);
    if (opened !== null) return opened;
  }
  throw new Error(
    `cannot open output file ${name}: it and ${ROTATION_NAME_TRIES} numbered names exist`,
  );
}

/**
 * Opens the file `path` with `flags` and makes its output, which writes
 * START: `null` if `flags.createNew` is set and a file of that name exists.
 *
 * @throws {Error} Of class `Fault`, saying that `path` cannot be opened, or
 * written (then the file is removed), and why.
 */
function openOutput(
  path: string,
  flags: Deno.OpenOptions,
  make: MakeOutput,
  Fault: new (message: string) => Error,
): FrameFileOutput | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, flags);
  } catch (error) {
    if (
      flags.createNew === true && error instanceof Deno.errors.AlreadyExists
    ) {
      return null;
    }
    throw new Fault(`cannot open output file ${path}: ${plainError(error)}`);
  }
  try {
    return make(path, file, true);
  } catch (error) {
    throw new Fault(startProblem(path, file, error));
  }
}

/**
 * A file beside `name`, under a temporary name, with START in it; `null`
 * when it cannot be created (then opening `name` itself says why).
 *
 * @throws When START cannot be written (the disk is full, say).
 */
function stageStart(
  name: string,
  contentType: Uint8Array,
): { tmp: string; file: Deno.FsFile; start: number } | null {
  const slash = name.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "" : name.slice(0, slash);
  const random = crypto.getRandomValues(new Uint32Array(2));
  const tmp = `${dir}/.fstrm-${random[0]!.toString(16)}${
    random[1]!.toString(16)
  }.tmp`;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(tmp, { write: true, createNew: true });
  } catch {
    return null;
  }
  try {
    return { tmp, file, start: writeStart(file, contentType) };
  } catch (error) {
    // Named as the file would have been.
    let path = name;
    for (let k = 1; k < ROTATION_NAME_TRIES && exists(path); k++) {
      path = withCounter(name, k);
    }
    throw new Error(startProblem(tmp, file, error).replace(tmp, path));
  }
}

/**
 * START could not be written to a file just opened: closes it, removes it
 * if it is a regular file (it holds nothing of ours, or part of START), and
 * says why.
 */
function startProblem(path: string, file: Deno.FsFile, error: unknown): string {
  try {
    if (file.statSync().isFile) Deno.removeSync(path);
  } catch {
    // gone already, or not ours to remove
  }
  try {
    file.close();
  } catch {
    // closed
  }
  return `cannot write output file ${path}: ${plainError(error)}`;
}

/** Whether something is at `path` (a dangling symbolic link too). */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `cap.fstrm` with counter 2 is `cap.2.fstrm`; `cap` is `cap.2`. */
export function withCounter(path: string, k: number): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  if (dot > slash + 1) return `${path.slice(0, dot)}.${k}${path.slice(dot)}`;
  return `${path}.${k}`;
}
