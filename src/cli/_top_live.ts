// Private: `fstrm top -u SOCKET` and `-l HOST:PORT`: a FrameReceiver whose
// runs of frames go through the one-pass scan of `top -r` (columns and key
// lists, _top_live_scan.ts; read into its window, scanned in place) into
// top's counters, with no object per message; every --interval a
// report (the same as `top -r`'s, plus a live part: time, rates,
// connections, drops): redrawn in place on a terminal, appended otherwise;
// with --json one object at the end, or one line every --interval when that
// is given. It stops on SIGINT or SIGTERM (open
// streams get --grace, a second signal stops at once), after --limit
// messages or --duration seconds, and prints its final report, exit 0.
//
// The counters and the report come from top.ts (passed in: top.ts loads
// this file, so this one cannot import it back). The options are checked in
// _top_live_options.ts, which top.ts imports without loading this file.
import type { EngineOption } from "../engine.ts";
import type {
  ConnectionInfo,
  FrameReceiver,
  ReceiverStats,
} from "../frame_receiver.ts";
import type { DnstapKeys, KeyOptions } from "../_dnstap_keys.ts";
import type { RowCounts } from "../_dnstap_counts.ts";
import { type DnstapColumns, SCAN_CAPACITY } from "../_dnstap_scan_layout.ts";
import { LiveWindowScanner } from "./_top_live_scan.ts";
import { isBrokenPipe } from "./_dump_output.ts";
import { listenForDnstap } from "./_dnstap_listen.ts";
import {
  describeListenAddr,
  plainError,
  removeUnixSocket,
} from "./_targets.ts";
import { writeAll } from "./_write_all.ts";
import type { LiveOptions } from "./_top_live_options.ts";

/** What the live loop counts into (top's counters). */
export interface LiveCounter {
  /** How the key lists of `addBatch` are made. */
  readonly keyOptions: KeyOptions;
  /**
   * Counts rows 0 .. count-1 of a batch, given the key lists the scan
   * added its keys to (with `keyOptions`) and the row counts it added the
   * rows to, or `null` for either: the counter makes them.
   */
  addBatch(
    cols: DnstapColumns,
    count: number,
    window: Uint8Array,
    keys: DnstapKeys | null,
    counts: RowCounts | null,
  ): void;
  /** Folds what is pending in (before each report; counting goes on). */
  finish(): void;
}

/** What the report of top.ts is made from, besides the counters. */
export interface LiveReportContext {
  /** The input's name (the socket). */
  file: string;
  /** The scan's engine. */
  engine: string;
  /** Oversized frames the receiver skipped. */
  dropped: number;
  /** Always `null` (a socket has no read error). */
  error: null;
}

/** What `fstrm top` gives a live run. */
export interface LiveRun<R extends object> {
  /** The scan's engine. */
  engine: EngineOption;
  /** The longest frame kept; longer ones are skipped and counted. */
  maxFrameLength: number;
  /** One JSON object at the end instead of text reports. */
  json: boolean;
  /** The counters. */
  counter: LiveCounter;
  /** Top's report of the counters. */
  report(context: LiveReportContext): R;
  /** Top's text of a report. */
  text(report: R): string;
}

/** The live part of a report: `live` in the JSON. */
export interface LiveState {
  /** Where it listens. */
  readonly listen: string;
  /** Seconds since it started listening. */
  readonly seconds: number;
  /** Messages counted (data frames scanned). */
  readonly messages: number;
  /** Messages per second since start. */
  readonly rate: number;
  /** The last interval: its seconds, messages and messages per second. */
  readonly interval: {
    readonly seconds: number;
    readonly messages: number;
    readonly rate: number;
  };
  /** Connections. */
  readonly connections: {
    readonly open: number;
    readonly total: number;
    /** Closed at once: not on --allow. */
    readonly refused: number;
    /** Closed at once: --max-conns-per-source (or the receiver's limit). */
    readonly rejected: number;
    /** Closed for a protocol error (a wrong content type, a bad frame, …). */
    readonly protocolErrors: number;
    /** Closed for an I/O error. */
    readonly ioErrors: number;
  };
  /** Data frames the receiver took (counted or to be). */
  readonly frames: number;
  /** Data frames over --max-frame-length, skipped. */
  readonly oversized: number;
  /** Why it stopped (`SIGINT`, `SIGTERM`, `limit`, `duration`, `error`); null while running. */
  readonly stopped: string | null;
}

/** The lines of the live part, above top's report. */
function liveText(s: LiveState): string {
  const c = s.connections;
  const i = s.interval;
  return [
    `live on ${s.listen}, ${s.seconds.toFixed(1)} s${
      s.stopped === null ? "" : ` (stopped: ${s.stopped})`
    }: ${s.messages} messages, ${Math.round(s.rate)}/s; last ${
      i.seconds.toFixed(1)
    } s: ${i.messages}, ${Math.round(i.rate)}/s`,
    `connections: ${c.open} open, ${c.total} in all, ${c.refused} refused (--allow), ${c.rejected} rejected (limits), ${c.protocolErrors} closed for protocol errors, ${c.ioErrors} for I/O errors; ${s.oversized} oversized frames dropped`,
    "",
  ].join("\n");
}

/** Connections closed for protocol errors, all kinds. */
function protocolErrors(stats: ReceiverStats): number {
  return Object.values(stats.protocolErrors).reduce((a, b) => a + b, 0);
}

/**
 * The text as a screen of a terminal of `rows` × `columns`: from the top
 * left, each line erased to its end, the rest of the screen erased (no
 * flicker: nothing is blanked before it is redrawn), cut so that it never
 * scrolls (long lines wrap: they take more rows); `first` clears the screen
 * first.
 */
export function screenText(
  text: string,
  rows: number,
  columns: number,
  first: boolean,
): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const height = (line: string) =>
    Math.max(1, Math.ceil(line.length / Math.max(1, columns)));
  let used = 0;
  let fit = 0;
  while (fit < lines.length && used + height(lines[fit]!) <= rows - 1) {
    used += height(lines[fit]!);
    fit++;
  }
  let shown = lines;
  if (fit < lines.length) {
    // The last row that fits says what is left out.
    shown = lines.slice(0, Math.max(0, fit - 1));
    shown.push(`(${lines.length - shown.length} more lines)`);
  }
  return `${first ? "\x1b[H\x1b[2J" : "\x1b[H"}${
    shown.join("\x1b[K\n")
  }\x1b[K\n\x1b[J`;
}

/** The terminal's size (24 × 80 when it cannot be told). */
function terminalSize(): { rows: number; columns: number } {
  try {
    const { rows, columns } = Deno.consoleSize();
    // A pseudo-terminal whose size was never set says 0 × 0.
    if (rows === 0 || columns === 0) return { rows: 24, columns: 80 };
    return { rows: Math.max(3, rows), columns: Math.max(10, columns) };
  } catch {
    return { rows: 24, columns: 80 };
  }
}

/**
 * Listens and reports until a signal, --limit or --duration; the exit code.
 *
 * @throws {CliError} If it cannot listen (exit 1).
 */
export async function runTopLive<R extends object>(
  options: LiveOptions,
  run: LiveRun<R>,
): Promise<number> {
  const log = async (line: string): Promise<void> => {
    try {
      await writeAll(Deno.stderr, `fstrm top: ${line}\n`);
    } catch {
      // stderr closed
    }
  };
  const tty = !run.json && Deno.stdout.isTerminal();
  let counted = 0;
  let stopReason: string | null = null;
  const stopCalled = Promise.withResolvers<void>();
  const now = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  let receiver: FrameReceiver | null = null;
  let signals = 0;
  const counter = run.counter;
  const limit = options.limit;
  let failed = false;

  // The scan makes the key lists and counts the rows (in the engine's one
  // call a batch) but for the last batches before --limit: those rows may
  // be counted in part, so the counter lists their keys and counts them
  // itself. (A batch is at most SCAN_CAPACITY rows: while the scan makes
  // them, every batch is taken whole.)
  const scanner = new LiveWindowScanner<ConnectionInfo>(
    (cols, count, window, keys, _connection, counts) => {
      if (counted >= limit) return;
      const take = Math.min(count, limit - counted);
      try {
        const whole = take === count;
        counter.addBatch(
          cols,
          take,
          window,
          whole ? keys : null,
          whole ? counts : null,
        );
        if (limit - counted - take < SCAN_CAPACITY) {
          scanner.keyOptions = null;
          scanner.countRows = false;
        }
      } catch (error) {
        // A bug, not the input's fault: say it and stop (exit 1).
        failed = true;
        void log(`cannot count: ${plainError(error)}`);
        void stop("error");
        throw error;
      }
      counted += take;
      if (counted >= limit) void stop("limit");
    },
    {
      engine: run.engine,
      keyOptions: limit < SCAN_CAPACITY ? null : counter.keyOptions,
      countRows: limit >= SCAN_CAPACITY,
    },
  );

  // Called before the receiver listens (a signal then), it only marks the
  // stop: the receiver is closed as soon as it is there.
  const stop = (reason: string): Promise<void> => {
    stopReason ??= reason;
    stopCalled.resolve();
    if (receiver === null) return Promise.resolve();
    const r = receiver;
    stopping ??= (async () => {
      try {
        const closed = r.close().then(() => true);
        if (!await Promise.race([closed, now.promise.then(() => false)])) {
          // Stopping at once: the socket file goes now.
          await removeUnixSocket(options.target);
        }
      } catch (error) {
        failed = true;
        await log(`receiver failed: ${plainError(error)}`);
      }
    })();
    return stopping;
  };
  const onSignal = (signal: Deno.Signal) => () => {
    signals++;
    if (signals === 1) {
      void log(`received ${signal}, stopping`);
      void stop(signal);
    } else now.resolve();
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  for (const [signal, handler] of handlers) {
    Deno.addSignalListener(signal, handler);
  }
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    receiver = await listenForDnstap({
      target: options.target,
      maxFrameLength: run.maxFrameLength,
      graceMs: options.graceMs,
      onRun: scanner.onRun,
      // Connections read into slots of the scan's window: their runs are
      // scanned where they were read, not copied.
      readBuffers: scanner.readBuffers,
      log,
      ...(options.allow === undefined ? {} : { allow: options.allow }),
      ...(options.maxConnectionsPerSource === undefined
        ? {}
        : { maxConnectionsPerSource: options.maxConnectionsPerSource }),
    });
    const r = receiver;
    const listen = describeListenAddr(r.addr, options.target);
    await log(`listening on ${listen}`);
    const started = performance.now();
    let last = { at: started, messages: 0 };

    /** The report now: top's, with the live part. */
    const snapshot = (): { report: R; live: LiveState } => {
      counter.finish();
      const stats = r.stats;
      const at = performance.now();
      const seconds = (at - started) / 1000;
      const dt = (at - last.at) / 1000;
      const live: LiveState = {
        listen,
        seconds: Math.round(seconds * 1000) / 1000,
        messages: counted,
        rate: seconds > 0 ? counted / seconds : 0,
        interval: {
          seconds: Math.round(dt * 1000) / 1000,
          messages: counted - last.messages,
          rate: dt > 0 ? (counted - last.messages) / dt : 0,
        },
        connections: {
          open: stats.connectionsOpen,
          total: stats.connectionsTotal,
          refused: stats.connectionsRefused,
          rejected: stats.connectionsRejected,
          protocolErrors: protocolErrors(stats),
          ioErrors: stats.ioErrors,
        },
        frames: stats.frames,
        oversized: stats.oversizedFrames,
        stopped: stopReason,
      };
      last = { at, messages: counted };
      const report = run.report({
        file: listen,
        engine: scanner.engine,
        dropped: stats.oversizedFrames,
        error: null,
      });
      return { report, live };
    };
    let drawn = 0;
    const show = async (final: boolean): Promise<void> => {
      const { report, live } = snapshot();
      if (run.json) {
        await writeAll(
          Deno.stdout,
          JSON.stringify({ ...report, live }) + "\n",
        );
      } else {
        const text = liveText(live) + run.text(report);
        let out = text + "\n";
        if (tty && final) out = "\x1b[H\x1b[2J" + text; // whole, to keep
        else if (tty) {
          const { rows, columns } = terminalSize();
          out = screenText(text, rows, columns, drawn++ === 0);
        }
        await writeAll(Deno.stdout, out);
      }
    };

    if (Number.isFinite(options.durationMs)) {
      timers.push(setTimeout(() => void stop("duration"), options.durationMs));
    }
    if (stopReason !== null) void stop(stopReason);
    // A report every interval until stop() is called.
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), options.intervalMs);
      });
      const ticked = await Promise.race([
        tick,
        stopCalled.promise.then(() => false),
      ]);
      clearTimeout(timer);
      if (!ticked) break;
      if (!run.json || options.intervalGiven) {
        try {
          await show(false);
        } catch (error) {
          // stdout closed (| head): stop quietly.
          if (!isBrokenPipe(error)) throw error;
          await stop("stdout closed");
          return 0;
        }
      }
    }
    await stopping;
    try {
      await show(true);
    } catch (error) {
      if (!isBrokenPipe(error)) throw error;
    }
    return failed ? 1 : 0;
  } finally {
    if (receiver !== null && stopping === null) {
      // Leaving on an error: no grace, and no socket file left behind.
      now.resolve();
      await stop("error");
    }
    for (const t of timers) clearTimeout(t);
    for (const [signal, handler] of handlers) {
      Deno.removeSignalListener(signal, handler);
    }
  }
}
