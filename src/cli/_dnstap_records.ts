// Private: what `fstrm dnstap` does with each data frame, whatever the
// input (a file, stdin, a socket): decode it, filter it, print it in one of
// the Go tool's formats or write it to a Frame Streams output, and count.
// Nothing here stops on a bad frame: a payload that is no dnstap message is
// counted and skipped, a record the format cannot print is counted.
import { decodeDnstap } from "../_dnstap_decode.ts";
import { rawByteMarks } from "../_dns_rdata_format.ts";
import { type Dnstap, formatDnstapQuiet } from "../dnstap.ts";
import { QUIET_LINE_MAX, quietLineInto } from "../_dnstap_quiet_fast.ts";
import {
  makeQuietEngine,
  type QuietEngine,
  quietRun,
  type QuietRunSink,
} from "../_dnstap_quiet_engine.ts";
import type { EngineOption } from "../engine.ts";
import { ControlType, DNSTAP_CONTENT_TYPE } from "../constants.ts";
import { encodeControlFrame } from "../encode.ts";
import type { OutputBuffer } from "./_dump_output.ts";
import type { GoFormatter } from "./_dnstap_formats.ts";
import {
  type DnstapFilterSpec,
  filtersAnything,
  matches,
} from "./_dnstap_filter.ts";

/** The counts of a run, for the summary. */
export interface RecordCounts {
  /** Data frames taken in (up to --limit). */
  frames: number;
  /** Records printed (or written, to a Frame Streams output). */
  output: number;
  /** Records that did not pass the filters. */
  filtered: number;
  /** Frames that are no dnstap message (the protobuf does not decode). */
  malformed: number;
  /** Records the Go format prints nothing for (its `ok` is false). */
  unprintable: number;
}

/** How records go out: as text of a Go format, or as frames. */
export type RecordOutput =
  | { kind: "text"; format: GoFormatter }
  | { kind: "frames" };

const START = encodeControlFrame(ControlType.START, [
  new TextEncoder().encode(DNSTAP_CONTENT_TYPE),
]);
const STOP = encodeControlFrame(ControlType.STOP);

/**
 * Takes frames one by one into `out`. With a Frame Streams output, START
 * is written at once and STOP by {@linkcode RecordSink.prototype.finish}.
 */
export class RecordSink {
  #filter: DnstapFilterSpec;
  #filtering: boolean;
  #out: OutputBuffer;
  #format: GoFormatter | null;
  #limit: number;
  #finished = false;
  /** Quiet text without filters: written from the bytes where it can be. */
  #quietFast: boolean;
  /** The quiet scan's engine option, and the engine once made. */
  #engineOption: EngineOption;
  #engine: QuietEngine | null = null;
  /** What the quiet scan hands its lines and the frames it leaves to. */
  #runSink: QuietRunSink;
  /** The counts so far. */
  readonly counts: RecordCounts = {
    frames: 0,
    output: 0,
    filtered: 0,
    malformed: 0,
    unprintable: 0,
  };

  /**
   * Makes a sink writing to `out`.
   *
   * @param out Where text or frames go.
   * @param options The output, the filters, the most records to output,
   *   and the quiet scan's engine (default `"auto"`), or one to share (an
   *   earlier sink's {@linkcode RecordSink.prototype.quietEngine}).
   */
  constructor(
    out: OutputBuffer,
    options: {
      output: RecordOutput;
      filter: DnstapFilterSpec;
      limit: number;
      engine?: EngineOption;
      quietEngine?: QuietEngine;
    },
  ) {
    this.#out = out;
    this.#filter = options.filter;
    this.#filtering = filtersAnything(options.filter);
    this.#format = options.output.kind === "text"
      ? options.output.format
      : null;
    this.#limit = options.limit;
    this.#quietFast = this.#format === formatDnstapQuiet && !this.#filtering;
    this.#engineOption = options.engine ?? "auto";
    this.#engine = options.quietEngine ?? null;
    const counts = this.counts;
    this.#runSink = {
      lines: (bytes, n) => {
        out.raw(bytes, 0, bytes.length);
        counts.frames += n;
        counts.output += n;
      },
      fallback: (window, offset, length) => {
        counts.frames++;
        const before = counts.output;
        this.#takeObject(window, offset, length);
        return counts.output > before;
      },
    };
    if (this.#format === null) out.raw(START, 0, START.length);
  }

  /** Whether --limit records have been output: take no more. */
  get full(): boolean {
    return this.counts.output >= this.#limit;
  }

  /**
   * Takes the frame `window[offset, offset + length)` (a view valid during
   * the call). Returns whether more frames are wanted (`false` once --limit
   * records are out).
   */
  take(window: Uint8Array, offset: number, length: number): boolean {
    const counts = this.counts;
    if (counts.output >= this.#limit) return false;
    counts.frames++;
    if (this.#quietFast) {
      // The usual record: its line straight from the bytes, no objects.
      const out = this.#out;
      const buf = out.reserve(QUIET_LINE_MAX);
      const end = quietLineInto(
        window,
        offset,
        offset + length,
        buf,
        out.position,
      );
      if (end >= 0) {
        out.position = end;
        counts.output++;
        return counts.output < this.#limit;
      }
    }
    this.#takeObject(window, offset, length);
    return counts.output < this.#limit;
  }

  /**
   * Whether {@linkcode RecordSink.prototype.takeRun} may be used: quiet
   * text without filters, written from runs of frames by the quiet scan.
   */
  get takesRuns(): boolean {
    return this.#quietFast;
  }

  /** The quiet scan's engine, once a run has been taken; else null. */
  get quietEngine(): QuietEngine | null {
    return this.#engine;
  }

  /**
   * The quiet scan's engine, made now if it is not yet: the engine whose
   * window a reader reads into (src/_dnstap_quiet_reader.ts), so that
   * {@linkcode RecordSink.prototype.takeRun} scans its runs in place.
   *
   * @throws {Error} If the engine option is `"wasm"` and WebAssembly
   * cannot load.
   */
  runEngine(): QuietEngine {
    return this.#engine ??= makeQuietEngine(this.#engineOption);
  }

  /**
   * Takes the run of data frames `window[start, end)` (each a big-endian
   * length word, then the payload; a view valid during the call), when
   * {@linkcode RecordSink.prototype.takesRuns}. Returns whether more frames
   * are wanted (`false` once --limit records are out).
   */
  takeRun(window: Uint8Array, start: number, end: number): boolean {
    const counts = this.counts;
    if (counts.output >= this.#limit) return false;
    this.#engine ??= makeQuietEngine(this.#engineOption);
    quietRun(
      this.#engine,
      window,
      start,
      end,
      this.#limit - counts.output,
      this.#runSink,
    );
    return counts.output < this.#limit;
  }

  /** The object path for one frame: decode, filter, format, count. */
  #takeObject(window: Uint8Array, offset: number, length: number): void {
    const counts = this.counts;
    const payload = window.subarray(offset, offset + length);
    let record: Dnstap;
    try {
      record = decodeDnstap(payload);
    } catch {
      counts.malformed++;
      return;
    }
    if (this.#filtering && !matches(this.#filter, record)) {
      counts.filtered++;
      return;
    }
    const format = this.#format;
    if (format === null) {
      this.#out.dataFrameHeader(length);
      this.#out.raw(window, offset, length);
      counts.output++;
      return;
    }
    let text: string | null;
    const marks = rawByteMarks;
    try {
      text = format(record);
    } catch {
      // A formatter's bug must not stop the command either.
      text = null;
    }
    if (text === null) {
      counts.unprintable++;
      return;
    }
    // Raw bytes (NULL rdata, EDE text that is not UTF-8) as the Go tool
    // writes them; checked by a count, not a scan of every text.
    if (rawByteMarks !== marks) this.#out.goText(text);
    else this.#out.text(text);
    counts.output++;
  }

  /** Ends the output (STOP, for frames) and flushes it; once. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#format === null) this.#out.raw(STOP, 0, STOP.length);
    this.#out.flush();
  }
}

/** Thousands separated by commas. */
function grouped(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

/**
 * The summary line's counts: `N frames read, N records printed, N filtered
 * out, N malformed dnstap, N not printable` (`written` for frames).
 */
export function countsText(counts: RecordCounts, frames: boolean): string {
  return `${grouped(counts.frames)} frames read, ${
    grouped(counts.output)
  } records ${frames ? "written" : "printed"}, ${
    grouped(counts.filtered)
  } filtered out, ${grouped(counts.malformed)} malformed dnstap, ${
    grouped(counts.unprintable)
  } not printable`;
}
