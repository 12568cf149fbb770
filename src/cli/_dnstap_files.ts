// Private: `fstrm dnstap -r FILE…`: the files (or stdin) read one after
// another on the bulk path into one RecordSink. A file that cannot be
// opened or read to its end is reported in one line and the next one is
// read; the exit code says whether any failed. Output is written once per
// window read (before the next read), never per record.
import { DNSTAP_CONTENT_TYPE } from "../constants.ts";
import type { EngineOption } from "../engine.ts";
import { FrameReader, type FrameSource } from "../frame_reader.ts";
import { DnstapQuietReader } from "../_dnstap_quiet_reader.ts";
import { CliError } from "./_cli_error.ts";
import { isBrokenPipe, type OutputBuffer } from "./_dump_output.ts";
import { describeReadError, type Input, openInput } from "./_file_input.ts";
import {
  PROGRESS_MIN_BYTES,
  ProgressBar,
  ProgressSource,
} from "./_progress.ts";
import type { RecordSink } from "./_dnstap_records.ts";
import type { ParallelSink } from "./_dnstap_parallel.ts";
import { writeAll } from "./_write_all.ts";

/** How the files are read. */
export interface FileReadOptions {
  /** The scan engine. */
  engine: EngineOption;
  /** The longest data frame accepted. */
  maxFrameLength: number;
  /** The progress bar's mode. */
  progress: "auto" | "always" | "never";
}

/** What reading the files came to. */
export type FilesOutcome = "ok" | "failed" | "stdout-closed";

/** The window of `-q`'s reads. */
const QUIET_WINDOW = 256 << 10;

/** Thrown from the frame callback to stop reading at --limit. */
const LIMIT_REACHED = Symbol("limit reached");

/** One line on stderr, `fstrm dnstap: …` (stderr gone: nothing said). */
export async function logLine(line: string): Promise<void> {
  try {
    await writeAll(Deno.stderr, `fstrm dnstap: ${line}\n`);
  } catch {
    // stderr closed
  }
}

/**
 * Reads `first` (already open) and then each of `rest`, into `sink`. Opens
 * each in turn and closes it after; stops at --limit.
 *
 * @returns `"ok"`, `"failed"` if any could not be opened or read to its
 * end (said on stderr), or `"stdout-closed"` (| head: stop quietly).
 */
export async function readFiles(
  first: Input,
  rest: readonly string[],
  sink: RecordSink | ParallelSink,
  out: OutputBuffer,
  options: FileReadOptions,
): Promise<FilesOutcome> {
  let failed = false;
  let input: Input | null = first;
  for (let i = 0; i <= rest.length; i++) {
    if (i > 0) {
      if (sink.full) break;
      try {
        input = await openInput(rest[i - 1]!, options.maxFrameLength);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        await logLine(error.message);
        failed = true;
        continue;
      }
    }
    let failure: unknown;
    try {
      failure = await readOne(input!, sink, out, options);
    } finally {
      input!.close();
    }
    if (failure === null) continue;
    if (isBrokenPipe(failure)) return "stdout-closed";
    failed = true;
    await logLine(
      failure instanceof CliError
        ? failure.message
        : `${input!.name}: ${describeReadError(failure)}`,
    );
  }
  return failed ? "failed" : "ok";
}

/** Reads one input through; what stopped it early, or `null`. */
async function readOne(
  input: Input,
  sink: RecordSink | ParallelSink,
  out: OutputBuffer,
  options: FileReadOptions,
): Promise<unknown> {
  let bar: ProgressBar | null = null;
  if (wantsBar(options.progress, input)) {
    bar = new ProgressBar(Deno.stderr, input.name, input.size ?? 0);
  }
  const source = bar === null
    ? input.source
    : new ProgressSource(input.source, bar);
  const flushing = new FlushingSource(source, out);
  // -q: read straight into the quiet scan's window, each run scanned where
  // it lies; smaller reads keep the window and the lines in the core's
  // cache (measured: 10 % less time than 1 MiB on the real-server file; 128
  // to 512 KiB alike).
  const quiet = !("drain" in sink) && sink.takesRuns
    ? new DnstapQuietReader(flushing, sink.runEngine(), {
      engine: options.engine,
      maxFrameLength: options.maxFrameLength,
      windowSize: Math.min(input.windowSize, QUIET_WINDOW),
    })
    : null;
  const reader = quiet ?? new FrameReader(flushing, {
    engine: options.engine,
    maxFrameLength: options.maxFrameLength,
    windowSize: input.windowSize,
  });
  let checked = false;
  const check = () => {
    if (checked) return;
    checked = true;
    const ct = reader.summary.contentType;
    if (ct !== null && ct !== DNSTAP_CONTENT_TYPE) {
      throw new CliError(
        `${input.name}: the content type is ${
          JSON.stringify(ct)
        }, not ${DNSTAP_CONTENT_TYPE}`,
      );
    }
  };
  try {
    if (sink.full) return null;
    if ("drain" in sink) {
      // Threads: runs of frames go out in batches, output comes back in
      // order; every batch of this input is written before the next input
      // (or this one's fault) is taken up.
      sink.sizeFor(input.size);
      let failure: unknown = null;
      try {
        await reader.forEachRun(async (window, start, end) => {
          check();
          await sink.takeRun(window, start, end);
          if (sink.full) throw LIMIT_REACHED;
        });
      } catch (error) {
        failure = error;
      }
      if (failure === LIMIT_REACHED || sink.full) return null;
      await sink.drain();
      if (failure !== null) throw failure;
      return null;
    }
    if (quiet !== null) {
      // -q: runs of frames to the quiet scan, no call per frame.
      await quiet.forEachRun((window, start, end) => {
        check();
        if (!sink.takeRun(window, start, end)) throw LIMIT_REACHED;
      });
      return null;
    }
    await (reader as FrameReader).forEachFrame((window, offset, length) => {
      check();
      if (!sink.take(window, offset, length)) throw LIMIT_REACHED;
    });
    return null;
  } catch (error) {
    return error === LIMIT_REACHED ? null : error;
  } finally {
    bar?.clear();
  }
}

/**
 * A source that writes the output out before each read: once per window,
 * never per record, and nothing printed waits while the input (a pipe from
 * a live capture, say) is slow to come.
 */
class FlushingSource implements FrameSource {
  #inner: Required<FrameSource>;
  #out: OutputBuffer;

  constructor(inner: Required<FrameSource>, out: OutputBuffer) {
    this.#inner = inner;
    this.#out = out;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.#out.flush();
    return this.#inner.read(buffer);
  }

  readSync(buffer: Uint8Array): number | null {
    this.#out.flush();
    return this.#inner.readSync(buffer);
  }
}

/** Whether to draw a progress bar for `input`. */
function wantsBar(mode: string, input: Input): boolean {
  if (mode === "never" || input.size === null) return false;
  if (mode === "always") return true;
  return input.size >= PROGRESS_MIN_BYTES && Deno.stderr.isTerminal() &&
    !Deno.stdout.isTerminal();
}
