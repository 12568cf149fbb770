// Private: FrameReceiver's options, checked and with their defaults, and the
// sizes of its read buffers.
import type { FrameReceiverOptions } from "./_receiver_types.ts";
import { ReaderSession } from "./reader_session.ts";
import { checkDuration } from "./_duration.ts";
import { AllowList } from "./_allow_list.ts";

/**
 * A started stream's first reads take this much; a read that fills its
 * buffer doubles the next one's, up to `readSize`.
 */
export const READ_BUFFER_SIZE = 65_536;
/**
 * Read buffers beyond 64 KiB, all connections together: a few busy streams
 * read in large pieces, a thousand do not take a thousand times as much.
 */
export const READ_GROWTH_BUDGET = 8 << 20;
/**
 * A connection reads into this much until START: one that never gets there
 * (a port scan, a flood of connect-and-close) costs little.
 */
export const HANDSHAKE_READ_SIZE = 4_096;
const DEFAULT_READ_SIZE = 262_144;
const MAX_READ_SIZE = 1 << 26;
const DEFAULT_HANDSHAKE_TIMEOUT = 5_000;
const DEFAULT_MAX_CONNECTIONS = 1_024;
const DEFAULT_HIGH_WATER_MARK = 1_024;
const DEFAULT_GRACE_PERIOD = 5_000;
const DEFAULT_REFUSAL_INTERVAL = 60_000;

/** The options every connection uses, defaults applied. */
export type ResolvedOptions =
  & Required<
    Pick<
      FrameReceiverOptions,
      | "handshakeTimeout"
      | "idleTimeout"
      | "maxFrameLength"
      | "oversize"
      | "engine"
      | "maxConnections"
      | "highWaterMark"
      | "readSize"
      | "gracePeriod"
      | "refusalInterval"
    >
  >
  & {
    /** The allow-list, or null for everyone. */
    allow: AllowList | null;
    /** Connections at once per source; 0: no limit. */
    maxConnectionsPerSource: number;
  };

/**
 * Checks the options of `FrameReceiver.listen` before it takes any
 * resource; the resolved options.
 */
export function resolveOptions(
  options: FrameReceiverOptions,
): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot listen: options must be an object, got ${
        options === null ? "null" : typeof options
      }`,
    );
  }
  const resolved: ResolvedOptions = {
    handshakeTimeout: checkDuration(
      options.handshakeTimeout,
      DEFAULT_HANDSHAKE_TIMEOUT,
      "handshakeTimeout",
      "Cannot listen",
    ),
    idleTimeout: checkDuration(
      options.idleTimeout,
      0,
      "idleTimeout",
      "Cannot listen",
    ),
    gracePeriod: checkDuration(
      options.gracePeriod,
      DEFAULT_GRACE_PERIOD,
      "gracePeriod",
      "Cannot listen",
    ),
    maxConnections: count(
      options.maxConnections,
      DEFAULT_MAX_CONNECTIONS,
      "maxConnections",
    ),
    highWaterMark: count(
      options.highWaterMark,
      DEFAULT_HIGH_WATER_MARK,
      "highWaterMark",
    ),
    readSize: count(options.readSize, DEFAULT_READ_SIZE, "readSize"),
    refusalInterval: checkDuration(
      options.refusalInterval,
      DEFAULT_REFUSAL_INTERVAL,
      "refusalInterval",
      "Cannot listen",
    ),
    allow: options.allow === undefined ? null : new AllowList(options.allow),
    maxConnectionsPerSource: options.maxConnectionsPerSource === undefined
      ? 0
      : count(options.maxConnectionsPerSource, 0, "maxConnectionsPerSource"),
    maxFrameLength: options.maxFrameLength ?? 1_048_576,
    oversize: options.oversize ?? "error",
    engine: options.engine ?? "auto",
  };
  if (
    resolved.readSize < READ_BUFFER_SIZE || resolved.readSize > MAX_READ_SIZE
  ) {
    throw new RangeError(
      `Cannot listen: readSize must be from ${READ_BUFFER_SIZE} to ${MAX_READ_SIZE}, got ${resolved.readSize}`,
    );
  }
  if ((options as { onFrame?: unknown }).onFrame !== undefined) {
    throw new TypeError(
      "Cannot listen: onFrame is gone: iterate over the receiver (frame objects, with flow control), or give onData",
    );
  }
  for (
    const name of ["onData", "onRun", "onConnection", "onRefused"] as const
  ) {
    const fn = options[name];
    if (fn !== undefined && typeof fn !== "function") {
      throw new TypeError(
        `Cannot listen: ${name} must be a function, got ${typeof fn}`,
      );
    }
  }
  const pool = options.readBuffers;
  if (pool !== undefined) {
    if (
      typeof pool !== "object" || pool === null ||
      typeof pool.acquire !== "function" || typeof pool.release !== "function"
    ) {
      throw new TypeError(
        "Cannot listen: readBuffers must be an object with acquire and release functions",
      );
    }
    if (options.onData === undefined && options.onRun === undefined) {
      throw new TypeError(
        "Cannot listen: readBuffers goes with onData or onRun (async iteration hands out copies)",
      );
    }
  }
  if (options.onData !== undefined && options.onRun !== undefined) {
    throw new TypeError(
      "Cannot listen: give one of onData and onRun, not onData and onRun",
    );
  }
  if (
    options.signal !== undefined && !(options.signal instanceof AbortSignal)
  ) {
    throw new TypeError("Cannot listen: signal must be an AbortSignal");
  }
  // The per-connection options (content types, frame limits, engine), as
  // every connection's session will check them.
  newSession(resolved, options.contentTypes ?? [], 0);
  return resolved;
}

/** A connection's session. */
export function newSession(
  options: ResolvedOptions,
  contentTypes: FrameReceiverOptions["contentTypes"] & object,
  now: number,
): ReaderSession {
  return new ReaderSession({
    contentTypes,
    handshakeTimeout: options.handshakeTimeout,
    idleTimeout: options.idleTimeout,
    maxFrameLength: options.maxFrameLength,
    oversize: options.oversize,
    engine: options.engine,
    now,
  });
}

function count(
  value: number | undefined,
  fallback: number,
  name: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot listen: ${name} must be an integer, got ${value}`,
    );
  }
  if (value < 1) {
    throw new RangeError(
      `Cannot listen: ${name} must be at least 1, got ${value}`,
    );
  }
  return value;
}
