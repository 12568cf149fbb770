/**
 * `fstrm dump`: prints a Frame Streams file's frames as `fstrm_dump`
 * (fstrm-bin 0.6.1) does, byte for byte, or as JSON lines.
 *
 * @module
 */
import { ControlType } from "../constants.ts";
import { encodeControlFrame } from "../encode.ts";
import { FrameReader } from "../frame_reader.ts";
import { parseCommandArgs } from "./_args.ts";
import { CliError, usageError } from "./_cli_error.ts";
import {
  describeReadError,
  type Input,
  INPUT_OPTIONS,
  INPUT_OPTIONS_HELP,
  inputOptions,
  openInput,
} from "./_file_input.ts";
import { isBrokenPipe, OutputBuffer, stdoutIsStderr } from "./_dump_output.ts";
import { openOutputFile, stdinIdentity } from "./_open_output.ts";
import { writeAll } from "./_write_all.ts";

const HELP = `\
Usage: fstrm dump [options] FILE|- [OUT]

Prints the data frames of a Frame Streams file (- reads stdin) as fstrm_dump
does, byte for byte: on stderr "FSTRM_CONTROL_START.", the content type, one
"Data frame (N) bytes." per frame and "FSTRM_CONTROL_STOP."; on stdout each
payload, quoted (printable ASCII as is, '"' as \\", other bytes as \\xNN).
Reading stops at the first STOP frame, as fstrm_dump's does.

With OUT, also writes the frames dumped to OUT as a Frame Streams file:
START, the data frames, STOP (also after an error, or after --limit), byte
for byte what fstrm_dump writes. With OUT -, stdout holds that copy alone
(the payloads are not printed; the lines on stderr stay), so that it can be
piped: fstrm dump --limit 100 big.fstrm - | fstrm replay ... -r -
(fstrm_dump would mix the payloads and the copy on stdout). --json prints on
stdout, so it does not go with OUT -.

Options:
  --json                  one JSON object per data frame on stdout instead:
                          {"index":0,"offset":N,"length":N,"payload":"..."}
                          (offset: the frame's byte offset in the file)
  --encoding hex|base64   the payload's encoding with --json (default hex)
  --limit N               stop after N data frames
${INPUT_OPTIONS_HELP}  -h, --help              show this help

Exit status: 0 when the input was read to its end (or to STOP, or to --limit,
or until stdout was closed, as by | head); 1 on an error, after printing
every frame before it (a truncated file is one); 2 on a usage error.
`;

/** The options of `fstrm dump`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  ...INPUT_OPTIONS,
  json: { type: "boolean" },
  encoding: { type: "string" },
  limit: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** STOP, which ends the copy. */
const STOP_FRAME = encodeControlFrame(ControlType.STOP);

/**
 * `fstrm dump [options] FILE|- [OUT]`: prints every data frame of a Frame
 * Streams file, as `fstrm_dump` does or as JSON lines, and optionally
 * writes a copy of the frames to OUT.
 *
 * @param args The arguments after `dump`.
 * @returns The exit code.
 */
export async function dump(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("dump", args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const { engine, maxFrameLength } = inputOptions("dump", values);
  const json = values.json === true;
  const encoding = values.encoding ?? "hex";
  if (encoding !== "hex" && encoding !== "base64") {
    throw usageError(
      "dump",
      `--encoding wants hex or base64, got '${encoding}'`,
    );
  }
  if (values.encoding !== undefined && !json) {
    throw usageError("dump", "--encoding goes with --json");
  }
  const limit = typeof values.limit === "string"
    ? integerLimit(values.limit)
    : Infinity;
  if (positionals.length === 0) throw usageError("dump", "missing FILE");
  if (positionals.length > 2) {
    throw usageError(
      "dump",
      `too many arguments: '${positionals[2]}' (one FILE and at most one OUT)`,
    );
  }
  const [path, outPath] = positionals as [string, string | undefined];
  if (outPath === "-" && json) {
    throw usageError(
      "dump",
      "--json prints on stdout, which OUT - takes for the copy: give OUT a file",
    );
  }

  const input = await openInput(path, maxFrameLength);
  try {
    const reader = new FrameReader(input.source, {
      engine,
      maxFrameLength,
      windowSize: input.windowSize,
      reuseWindow: true,
    });
    const out = new OutputBuffer(Deno.stdout);
    // With OUT -, stdout is the copy's alone: no payloads on it, nor the
    // lines of stderr when stderr is stdout (2>&1).
    const toStdout = outPath === "-";
    const err = !stdoutIsStderr()
      ? new OutputBuffer(Deno.stderr)
      : toStdout
      ? new OutputBuffer(DISCARD)
      : out;
    const copy = outPath === undefined
      ? null
      : toStdout
      ? { buffer: out, close: () => {} }
      : openCopy(
        outPath,
        input.identity ?? (path === "-" ? await stdinIdentity() : null),
      );
    try {
      return await run(reader, input, {
        out,
        err,
        copy: copy?.buffer ?? null,
        payloads: !toStdout,
        json,
        base64: encoding === "base64",
        limit,
      });
    } finally {
      copy?.close();
    }
  } finally {
    input.close();
  }
}

/** `--limit`'s value, checked. */
function integerLimit(value: string): number {
  const n = /^\+?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw usageError(
      "dump",
      `--limit wants a whole number of frames, got '${value}'`,
    );
  }
  return n;
}

/**
 * Opens OUT for the copy, refusing the input file (`identity`, its
 * `dev:ino`), whatever its name.
 */
function openCopy(
  path: string,
  identity: string | null,
): { buffer: OutputBuffer; close: () => void } {
  const file = openOutputFile(path, {
    inputs: [identity],
    name: "OUT",
    isInput: "OUT is the input file; writing it would destroy what is read",
  });
  const buffer = new OutputBuffer(file);
  return {
    buffer,
    close: () => {
      try {
        buffer.flush();
      } finally {
        file.close();
      }
    },
  };
}

/** A writer that drops everything. */
const DISCARD = { writeSync: (p: Uint8Array): number => p.length };

interface Sinks {
  out: OutputBuffer;
  err: OutputBuffer;
  copy: OutputBuffer | null;
  /** Whether payloads are printed on `out` (not when `out` is the copy). */
  payloads: boolean;
  json: boolean;
  base64: boolean;
  limit: number;
}

/** Reads and prints; the exit code. */
async function run(
  reader: FrameReader,
  input: Input,
  { out, err, copy, payloads, json, base64, limit }: Sinks,
): Promise<number> {
  let started = false;
  let stopAt = -1;
  let limited = false;
  let index = 0;
  let failure: unknown = null;
  try {
    try {
      outer: for await (const batch of reader.batches()) {
        for (const frame of batch) {
          if (frame.kind === "data") {
            if (!started) {
              throw new CliError(
                `${input.name}: a data frame at byte ${frame.offset} comes before any START frame`,
              );
            }
            if (index >= limit) {
              limited = true;
              break outer;
            }
            const data = frame.data;
            const length = data.length;
            if (json) {
              out.text('{"index":');
              out.decimal(index);
              out.text(',"offset":');
              out.decimal(frame.offset);
              out.text(',"length":');
              out.decimal(length);
              out.text(',"payload":"');
              if (base64) out.base64(data, 0, length);
              else out.hex(data, 0, length);
              out.text('"}\n');
            } else {
              err.text("Data frame (");
              err.decimal(length);
              err.text(") bytes.\n");
              if (payloads) {
                out.text(' "');
                out.escaped(data, 0, length);
                out.text('"\n');
              }
            }
            if (copy !== null) {
              copy.dataFrameHeader(length);
              copy.raw(data, 0, length);
            }
            index++;
          } else if (frame.type === ControlType.START && !started) {
            started = true;
            const ct = frame.contentTypes[0] ?? null;
            if (!json) {
              err.text("FSTRM_CONTROL_START.\n");
              if (ct !== null) {
                err.text("FSTRM_CONTROL_FIELD_CONTENT_TYPE (");
                err.decimal(ct.length);
                err.text(' bytes).\n "');
                err.escaped(ct, 0, ct.length);
                err.text('"\n');
              }
            }
            if (copy !== null) {
              // START as libfstrm's writer has it: the content type field
              // if there is one.
              const start = encodeControlFrame(
                ControlType.START,
                ct === null ? [] : [ct],
              );
              copy.raw(start, 0, start.length);
            }
          } else if (frame.type === ControlType.STOP) {
            if (!json) err.text("FSTRM_CONTROL_STOP.\n");
            stopAt = frame.offset;
            break outer;
          }
          // Anything else before START (READY, ACCEPT, FINISH) says nothing.
        }
        err.flush();
        out.flush();
      }
    } catch (error) {
      failure = error;
    }
    if (failure === null && !limited) {
      if (!started) {
        failure = new CliError(`${input.name}: no START frame in the input`);
      } else if (stopAt < 0) {
        note(
          err,
          `${input.name}: no STOP frame: the input ended at byte ${reader.summary.bytesRead}, after a complete frame`,
        );
      } else if (input.size !== null && input.size > stopAt + 12) {
        note(
          err,
          `${input.name}: ${
            input.size - stopAt - 12
          } more bytes follow the STOP frame at byte ${stopAt}: not read (fstrm_dump stops there too)`,
        );
      }
    }
    if (copy !== null && started) copy.raw(STOP_FRAME, 0, STOP_FRAME.length);
    err.flush();
    out.flush();
  } catch (error) {
    // Writing failed: stdout closed early (| head) ends quietly.
    if (isBrokenPipe(error)) return 0;
    throw error;
  }
  if (failure === null) return 0;
  if (isBrokenPipe(failure)) return 0;
  if (failure instanceof CliError) throw failure;
  throw new CliError(`${input.name}: ${describeReadError(failure)}`);
}

/** Adds one line of ours, `fstrm dump: ...`, to stderr's buffer. */
function note(err: OutputBuffer, text: string): void {
  err.text(`fstrm dump: ${text}\n`);
}
