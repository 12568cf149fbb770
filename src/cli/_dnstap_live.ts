// Private: `fstrm dnstap -u SOCKET` and `-l HOST:PORT`: a FrameReceiver
// (READY/ACCEPT or START-first writers, content type protobuf:dnstap.Dnstap)
// whose frames, from every connection, go through one RecordSink. The
// output is written once per run of frames (a socket read), not per record.
// SIGINT or SIGTERM stops cleanly (open streams get the grace period, then
// the output is flushed and the summary printed); a second one stops at
// once; --limit stops as the first does.
import type {
  FrameReceiver,
  ListenTarget,
  ReceiverStats,
} from "../frame_receiver.ts";
import { forEachDataFrame } from "../_wire.ts";
import { CliError } from "./_cli_error.ts";
import { isBrokenPipe, type OutputBuffer } from "./_dump_output.ts";
import type { DnstapFilterSpec } from "./_dnstap_filter.ts";
import {
  countsText,
  type RecordCounts,
  type RecordOutput,
  RecordSink,
} from "./_dnstap_records.ts";
import {
  describeListenAddr,
  plainError,
  removeUnixSocket,
} from "./_targets.ts";
import { writeAll } from "./_write_all.ts";
import type { AccessOptions } from "./_listen_access.ts";
import { listenForDnstap } from "./_dnstap_listen.ts";

/** What a live run needs (and who may connect: --allow, per source). */
export interface LiveConfig extends AccessOptions {
  /** Where to listen. */
  target: ListenTarget;
  /** Where text or frames go. */
  out: OutputBuffer;
  /** Text of a Go format, or frames. */
  output: RecordOutput;
  /** The filters. */
  filter: DnstapFilterSpec;
  /** The most records to output. */
  limit: number;
  /** The longest frame kept; longer ones are skipped and counted. */
  maxFrameLength: number;
  /** Milliseconds open streams get to reach STOP when stopping. */
  graceMs: number;
  /** Whether the output is Frame Streams (for the summary's words). */
  frames: boolean;
  /** Whether to keep a status line on stderr (a terminal). */
  progress: boolean;
}

/** How often the status line is redrawn, in milliseconds. */
const STATUS_MS = 500;

/**
 * The status line of a live run, redrawn in place on stderr (`\r`): the
 * counts so far, the connections open and the records per second.
 */
class LiveStatus {
  #drawn = false;
  #encoder = new TextEncoder();
  #last = { at: performance.now(), frames: 0 };

  /** Redraws the line from `counts` and the receiver's `stats`. */
  draw(
    counts: RecordCounts,
    stats: ReceiverStats | null,
    frames: boolean,
  ): void {
    const now = performance.now();
    const rate = (counts.frames - this.#last.frames) /
      Math.max(1e-3, (now - this.#last.at) / 1000);
    this.#last = { at: now, frames: counts.frames };
    const open = stats === null ? 0 : stats.connectionsOpen;
    this.#write(
      `\r${countsText(counts, frames)}; ${open} open, ${
        Math.round(rate)
      } frames/s\x1b[K`,
    );
    this.#drawn = true;
  }

  /** Erases the line, if it is drawn. */
  clear(): void {
    if (this.#drawn) this.#write("\r\x1b[K");
    this.#drawn = false;
  }

  #write(text: string): void {
    try {
      const bytes = this.#encoder.encode(text);
      let p = 0;
      while (p < bytes.length) p += Deno.stderr.writeSync(bytes.subarray(p));
    } catch {
      // A line that cannot be drawn is no reason to stop.
    }
  }
}

/** The receiver's part of the summary: connections and drops. */
export function receiverText(stats: ReceiverStats): string {
  const protocol = Object.values(stats.protocolErrors).reduce(
    (a, b) => a + b,
    0,
  );
  const n = stats.connectionsTotal;
  return `${n} connection${
    n === 1 ? "" : "s"
  }; dropped: ${stats.oversizedFrames} oversized frames, ${protocol} connections for protocol errors, ${stats.ioErrors} for I/O errors, ${stats.connectionsRejected} rejected${
    stats.connectionsRefused === 0
      ? ""
      : `, ${stats.connectionsRefused} refused (--allow)`
  }`;
}

/**
 * Listens and prints until a signal or --limit; the exit code.
 *
 * @throws {CliError} If it cannot listen.
 */
export async function runLive(config: LiveConfig): Promise<number> {
  const { out } = config;
  const sink = new RecordSink(out, {
    output: config.output,
    filter: config.filter,
    limit: config.limit,
  });
  // The status line, if one is drawn: cleared before each line of log.
  let status: LiveStatus | null = null;
  /** One line on stderr, `fstrm dnstap: …` (stderr gone: nothing said). */
  const log = async (line: string): Promise<void> => {
    status?.clear();
    try {
      await writeAll(Deno.stderr, `fstrm dnstap: ${line}\n`);
    } catch {
      // stderr closed
    }
  };
  let writeError: unknown = null;
  let receiver: FrameReceiver | null = null;
  let stopping: Promise<void> | null = null;
  const now = Promise.withResolvers<void>();
  const stopCalled = Promise.withResolvers<void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let signals = 0;

  const stop = (): Promise<void> => {
    stopCalled.resolve();
    // Before the receiver listens (a signal then), only marked: stop() is
    // called again once it listens.
    if (receiver === null) return Promise.resolve();
    stopping ??= (async () => {
      if (receiver === null) return;
      try {
        const closed = receiver.close().then(() => true);
        if (!await Promise.race([closed, now.promise.then(() => false)])) {
          // Stopping at once: the process exits before the receiver has
          // closed; the socket file goes now.
          await removeUnixSocket(config.target);
        }
      } catch (error) {
        if (error !== writeError) {
          await log(`receiver failed: ${plainError(error)}`);
        }
      }
    })();
    return stopping;
  };
  const onSignal = (signal: Deno.Signal) => () => {
    signals++;
    if (signals === 1) {
      void log(`received ${signal}, stopping`);
      void stop();
    } else now.resolve();
  };
  const handlers: [Deno.Signal, () => void][] = [
    ["SIGINT", onSignal("SIGINT")],
    ["SIGTERM", onSignal("SIGTERM")],
  ];
  for (const [signal, handler] of handlers) {
    Deno.addSignalListener(signal, handler);
  }
  try {
    const onRun = (
      window: Uint8Array,
      start: number,
      _end: number,
      frames: number,
    ): void => {
      if (writeError !== null || sink.full) return;
      try {
        forEachDataFrame(window, start, frames, (offset, length) => {
          sink.take(window, offset, length);
        });
        out.flush();
      } catch (error) {
        // stdout closed (| head) or the file cannot be written: stop.
        writeError = error;
        void stop();
        return;
      }
      if (sink.full) void stop();
    };
    receiver = await listenForDnstap({
      target: config.target,
      maxFrameLength: config.maxFrameLength,
      graceMs: config.graceMs,
      onRun,
      log,
      ...(config.allow === undefined ? {} : { allow: config.allow }),
      ...(config.maxConnectionsPerSource === undefined
        ? {}
        : { maxConnectionsPerSource: config.maxConnectionsPerSource }),
    });
    await log(
      `listening on ${describeListenAddr(receiver.addr, config.target)}`,
    );
    if (config.progress) {
      const live = new LiveStatus();
      status = live;
      const r = receiver;
      timer = setInterval(
        () => live.draw(sink.counts, r.stats, config.frames),
        STATUS_MS,
      );
    }
    if (signals > 0 || sink.full) void stop();
    // Until stop() is called: by a signal, --limit or a write error.
    await stopCalled.promise;
    await stopping;
    clearInterval(timer);
    try {
      sink.finish();
    } catch (error) {
      writeError ??= error;
    }
    await log(
      `${countsText(sink.counts, config.frames)}; ${
        receiverText(receiver.stats)
      }`,
    );
    if (writeError !== null && !isBrokenPipe(writeError)) {
      throw new CliError(`cannot write the output: ${plainError(writeError)}`);
    }
    return 0;
  } finally {
    clearInterval(timer);
    status?.clear();
    for (const [signal, handler] of handlers) {
      Deno.removeSignalListener(signal, handler);
    }
  }
}
