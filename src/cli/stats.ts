/**
 * `fstrm stats`: what Frame Streams files hold (content type, frames, exact
 * frame-size quantiles, counted by the scan engine as it scans) and how they
 * end (STOP, cut short, or an error), read on the bulk path.
 *
 * @module
 */
import type { FrameReaderSummary } from "../frame_reader.ts";
import { TruncatedFrameError } from "../errors.ts";
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
import { dumpQuote } from "./_dump_format.ts";
import type { SizeSummary } from "./_stats_histogram.ts";
import { SizeReader } from "./_stats_reader.ts";
import {
  PROGRESS_MIN_BYTES,
  ProgressBar,
  ProgressSource,
} from "./_progress.ts";
import { writeAll } from "./_write_all.ts";
import { isBrokenPipe } from "./_dump_output.ts";
import type { EngineOption } from "../engine.ts";

const HELP = `\
Usage: fstrm stats [options] FILE...

For each Frame Streams file (- reads stdin): its content type, data frames,
payload bytes, exact frame sizes (min, median, 99th percentile, max; nearest
rank), control frames, how it ends (STOP, no STOP, cut short inside a frame,
or an error, with the byte offset), and how fast it was read.

Options:
  --json                  one JSON object per file, one per line
  --progress auto|always|never
                          a progress bar on stderr (default auto: when stderr
                          is a terminal and the file is 64 MiB or more)
${INPUT_OPTIONS_HELP}  -h, --help              show this help

Exit status: 0 when every file was read to its end; 1 when any could not be
opened or read to its end (an error, or a frame cut short), after reporting
what was read before; 2 on a usage error.
`;

/** The options of `fstrm stats`, for `parseCommandArgs` (exported for tests). */
export const OPTIONS = {
  ...INPUT_OPTIONS,
  json: { type: "boolean" },
  progress: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** How a file's reading ended. */
type End = "stop" | "no-stop" | "truncated" | "error";

/** What `stats` found in one file. */
interface FileStats {
  file: string;
  summary: FrameReaderSummary;
  sizes: SizeSummary;
  end: End;
  error: { message: string; offset: number | null } | null;
  seconds: number;
}

/**
 * `fstrm stats [options] FILE...`: reports on each file; one line on stderr
 * for each that fails, and exit code 1 if any did.
 *
 * @param args The arguments after `stats`.
 * @returns The exit code.
 */
export async function stats(args: string[]): Promise<number> {
  try {
    return await run(args);
  } catch (error) {
    // stdout closed early (| head): stop quietly, as dump does.
    if (isBrokenPipe(error)) return 0;
    throw error;
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("stats", args, OPTIONS);
  if (values.help === true) {
    await writeAll(Deno.stdout, HELP);
    return 0;
  }
  const { engine, maxFrameLength } = inputOptions("stats", values);
  const progress = values.progress ?? "auto";
  if (progress !== "auto" && progress !== "always" && progress !== "never") {
    throw usageError(
      "stats",
      `--progress wants auto, always or never, got '${progress}'`,
    );
  }
  if (positionals.length === 0) throw usageError("stats", "missing FILE");
  const json = values.json === true;
  const stdinTwice = positionals.filter((p) => p === "-").length > 1;
  if (stdinTwice) throw usageError("stats", "stdin (-) can be read only once");

  let failed = false;
  let first = true;
  for (const path of positionals) {
    let result: FileStats;
    try {
      result = await statsOf(path, { engine, maxFrameLength, progress });
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      // Not opened: nothing was read.
      failed = true;
      if (json) {
        // The message names the file; the object has it already.
        const file = path === "-" ? "stdin" : path;
        const message = error.message.startsWith(`${file}: `)
          ? error.message.slice(file.length + 2)
          : error.message;
        await writeAll(
          Deno.stdout,
          JSON.stringify({ file, error: { message, offset: null } }) + "\n",
        );
      }
      await writeAll(Deno.stderr, `fstrm stats: ${error.message}\n`);
      continue;
    }
    const text = json
      ? JSON.stringify(toJson(result)) + "\n"
      : (first ? "" : "\n") + toText(result);
    first = false;
    await writeAll(Deno.stdout, text);
    if (result.error !== null) {
      failed = true;
      await writeAll(
        Deno.stderr,
        `fstrm stats: ${result.file}: ${result.error.message}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

/** Reads one file through; throws a CliError only if it cannot be opened. */
async function statsOf(
  path: string,
  options: { engine: EngineOption; maxFrameLength: number; progress: string },
): Promise<FileStats> {
  const t0 = performance.now();
  const input = await openInput(path, options.maxFrameLength);
  let bar: ProgressBar | null = null;
  try {
    if (wantsBar(options.progress, input)) {
      bar = new ProgressBar(Deno.stderr, input.name, input.size ?? 0);
    }
    // The scan engine counts sizes as it scans: no call per frame.
    const reader = new SizeReader(
      bar === null ? input.source : new ProgressSource(input.source, bar),
      {
        engine: options.engine,
        maxFrameLength: options.maxFrameLength,
        windowSize: input.windowSize,
      },
    );
    let end: End = "stop";
    let error: FileStats["error"] = null;
    try {
      await reader.read();
    } catch (e) {
      if (e instanceof CliError) throw e;
      end = e instanceof TruncatedFrameError ? "truncated" : "error";
      const offset = (e as { offset?: unknown }).offset;
      error = {
        message: describeReadError(e),
        offset: typeof offset === "number" ? offset : null,
      };
    }
    const summary = reader.summary;
    if (end === "stop" && !summary.stopped) end = "no-stop";
    return {
      file: input.name,
      summary,
      sizes: reader.histogram.summary(summary.frames),
      end,
      error,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    bar?.clear();
    input.close();
  }
}

/** Whether to draw a progress bar for `input`. */
function wantsBar(mode: string, input: Input): boolean {
  if (mode === "never" || input.size === null) return false;
  if (mode === "always") return true;
  return input.size >= PROGRESS_MIN_BYTES && Deno.stderr.isTerminal();
}

/**
 * Thousands separated by commas, as `n.toLocaleString("en-US", {
 * maximumFractionDigits: 0 })` prints them; for the whole numbers stats
 * prints, without that call's first-use cost (about 9 ms of a 0.3 s run,
 * loading locale data).
 *
 * @param n The number.
 * @returns Its text.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
  }
  const digits = String(n);
  let text = digits.slice(0, (digits.length - 1) % 3 + 1);
  for (let i = text.length; i < digits.length; i += 3) {
    text += "," + digits.slice(i, i + 3);
  }
  return text;
}

/** Content type as text: fstrm_dump's quoting, or "none". */
function contentTypeText(ct: Uint8Array | null): string {
  return ct === null ? "none" : dumpQuote(ct);
}

/** A content type as JSON: a string if it is UTF-8, else null. */
function contentTypeString(ct: Uint8Array | null): string | null {
  if (ct === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(ct);
  } catch {
    return null;
  }
}

/** The words for how a file ended. */
function endText(r: FileStats): string {
  switch (r.end) {
    case "stop":
      return "STOP frame seen";
    case "no-stop":
      return `no STOP frame: the input ends at byte ${
        grouped(r.summary.bytesRead)
      }, after a complete frame`;
    case "truncated":
      return `truncated: ${r.error?.message}`;
    case "error":
      return `error: ${r.error?.message}`;
  }
}

/** A file's report as text: a title line, then aligned fields. */
function toText(r: FileStats): string {
  const s = r.summary;
  const z = r.sizes;
  const rate = rates(r);
  const rows: [string, string][] = [
    ["content type", contentTypeText(s.contentTypeBytes)],
    ["data frames", grouped(s.frames)],
    ["payload bytes", grouped(s.bytes)],
    [
      "frame size",
      z.min === null
        ? "no data frames"
        : `min ${grouped(z.min)}, median ${grouped(z.median!)}, p99 ${
          grouped(z.p99!)
        }, max ${grouped(z.max!)} bytes`,
    ],
    [
      "control frames",
      grouped(s.controlFrames) +
      (s.skippedFrames > 0 ? ` (and ${grouped(s.skippedFrames)} skipped)` : ""),
    ],
    ["end", endText(r)],
    [
      "read",
      `${grouped(s.bytesRead)} bytes in ${r.seconds.toFixed(3)} s: ${
        rate.mbPerSecond.toFixed(1)
      } MB/s, ${grouped(rate.framesPerSecond)} frames/s (${s.engine} engine)`,
    ],
  ];
  return `${r.file}\n` +
    rows.map(([k, v]) => `  ${k.padEnd(16)}${v}\n`).join("");
}

/** Throughput: file megabytes (10^6 bytes) and data frames per second. */
function rates(r: FileStats): { mbPerSecond: number; framesPerSecond: number } {
  const t = r.seconds > 0 ? r.seconds : Number.MIN_VALUE;
  return {
    mbPerSecond: r.summary.bytesRead / 1e6 / t,
    framesPerSecond: Math.round(r.summary.frames / t),
  };
}

/** A file's report as a JSON value (see the README for the fields). */
function toJson(r: FileStats): Record<string, unknown> {
  const s = r.summary;
  const rate = rates(r);
  return {
    file: r.file,
    contentType: contentTypeString(s.contentTypeBytes),
    contentTypeHex: s.contentTypeBytes === null
      ? null
      : Array.from(s.contentTypeBytes, (b) => b.toString(16).padStart(2, "0"))
        .join(""),
    dataFrames: s.frames,
    payloadBytes: s.bytes,
    frameSize: r.sizes,
    controlFrames: s.controlFrames,
    skippedFrames: s.skippedFrames,
    started: s.started,
    stopped: s.stopped,
    end: r.end,
    error: r.error,
    bytesRead: s.bytesRead,
    seconds: Number(r.seconds.toFixed(6)),
    mbPerSecond: Number(rate.mbPerSecond.toFixed(1)),
    framesPerSecond: rate.framesPerSecond,
    engine: s.engine,
  };
}
