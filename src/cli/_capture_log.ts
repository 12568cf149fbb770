// Private: the lines `fstrm capture` logs on stderr about connections, the
// files it closes and its throughput (`--stats`), made apart from the
// session that decides when to say them.
import type {
  ConnectionEvent,
  ReceiverStats,
  Refusal,
} from "../frame_receiver.ts";
import type { FrameFileOutput } from "./_output_file.ts";
import { describeAddr } from "./_targets.ts";

/** A line to log at a verbosity level (0: always, 1: -d, 2: -dd). */
export interface LogLine {
  /** The least verbosity at which it is said. */
  level: number;
  /** The line, without a line ending. */
  text: string;
}

/**
 * Says what happens to connections (`-d`: started and closed, with the
 * frames each sent; `-dd`: opened too), counting each one's frames.
 */
export class ConnectionLog {
  #frames = new Map<number, number>();

  /** Counts `frames` more data frames from connection `id`. */
  count(id: number, frames: number): void {
    this.#frames.set(id, (this.#frames.get(id) ?? 0) + frames);
  }

  /** The line for `event` (a closed connection's count is dropped). */
  line(event: ConnectionEvent): LogLine {
    const c = event.connection;
    const name = `connection ${c.id}`;
    switch (event.type) {
      case "opened":
        return {
          level: 2,
          text: `${name} opened from ${describeAddr(c.remoteAddr)}`,
        };
      case "started":
        return {
          level: 1,
          text: `${name} started: ${c.mode}, content type ${
            c.contentType === null ? "(none)" : JSON.stringify(c.contentType)
          }`,
        };
      case "closed": {
        const frames = this.#frames.get(c.id) ?? 0;
        this.#frames.delete(c.id);
        const why = event.error !== null
          ? event.error.message
          : event.stopped
          ? "after STOP"
          : "at end of input, without STOP";
        return { level: 1, text: `${name} closed (${frames} frames): ${why}` };
      }
    }
  }
}

/**
 * The line for a file once closed: its frames and bytes, and after a write
 * error what it holds; `null` for stdout after a write error (nothing can
 * be said of it).
 */
export function closedFileLine(file: FrameFileOutput): string | null {
  if (file.error === null) {
    return `closed output file ${file.path} (${file.frames} frames, ${file.size} bytes)`;
  }
  if (file.path === "-") return null;
  const what = file.abandoned
    ? `nothing written after the write error, START${
      file.stopWritten ? " and STOP" : ""
    } only`
    : file.stopWritten
    ? "cut back to its last whole frame after the write error, with STOP"
    : "cut back to its last whole frame after the write error, no room for STOP";
  return `closed output file ${file.path} (${file.framesWritten} frames, ${file.bytesWritten} bytes): ${what}`;
}

/** The receiver's totals at a time (ms, `performance.now()`). */
export interface StatsMark {
  /** When. */
  at: number;
  /** Data frames received by then. */
  frames: number;
  /** Their bytes. */
  bytes: number;
}

/**
 * The `--stats` line: connections, the rates since `last`, totals and
 * errors.
 *
 * @returns The line, and the mark for the next one.
 */
export function statsLine(
  s: ReceiverStats,
  last: StatsMark,
  now: number,
): { text: string; mark: StatsMark } {
  const dt = Math.max(1e-3, (now - last.at) / 1000);
  const fps = (s.frames - last.frames) / dt;
  const mbps = (s.bytes - last.bytes) / dt / 1e6;
  const errors = s.ioErrors +
    Object.values(s.protocolErrors).reduce((a, b) => a + b, 0);
  return {
    text:
      `stats: ${s.connectionsOpen} connections open, ${s.connectionsTotal} total; ${
        Math.round(fps)
      } frames/s, ${
        mbps.toFixed(2)
      } MB/s; ${s.frames} frames in all; ${s.oversizedFrames} oversized frames dropped, ${s.connectionsRejected} connections rejected, ${s.connectionsRefused} refused, ${errors} connection errors`,
    mark: { at: now, frames: s.frames, bytes: s.bytes },
  };
}

const REFUSAL_REASONS: Record<Refusal["reason"], string> = {
  "not-allowed": "not on --allow",
  "per-source-limit": "--max-conns-per-source reached",
  "max-connections": "-c reached",
};

/**
 * The line for connections refused from one source (the receiver reports
 * each source at most once a minute, with the count held back meanwhile).
 */
export function refusalLine(r: Refusal): string {
  // A Unix socket's peers have no address (Deno gives a null path).
  const unix = r.remoteAddr.transport === "unix";
  return r.count === 1
    ? `refused a connection from ${
      unix ? "a unix socket peer" : describeAddr(r.remoteAddr)
    } (${REFUSAL_REASONS[r.reason]})`
    : `refused ${r.count} connections from ${
      unix ? "unix socket peers" : r.source
    } since the last line about it (${REFUSAL_REASONS[r.reason]})`;
}
