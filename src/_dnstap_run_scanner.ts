// Private (re-exported by src/dnstap_scan.ts): the columnar dnstap scan fed
// runs of encoded data frames, as FrameReceiver's `onRun`, FrameReader's
// `forEachRun` and ReaderSession's `nextRun` hand them out, on the one-pass
// engine (_dnstap_run_window.ts, which `fstrm top -u` uses too). Sans I/O:
// it holds no bytes between runs. A callback's promise is awaited before the
// run's next batch, which is read from the run's window then: the caller
// keeps the window unchanged, and passes no other run of the connection,
// until the promise onRun returned settles (a run passed sooner is refused).
import type { RunCallback } from "./callbacks.ts";
import type { Engine, EngineOption } from "./engine.ts";
import type { ReadBufferPool } from "./_receiver_types.ts";
import {
  RUN_SLOT_SIZE,
  RUN_SLOTS,
  RunWindowScanner,
} from "./_dnstap_run_window.ts";
import type { DnstapColumns } from "./_dnstap_scan_layout.ts";

/**
 * Called by {@linkcode DnstapRunScanner} once per batch of up to
 * {@linkcode SCAN_CAPACITY} data frames of one run: rows `0` to `count - 1`
 * of `cols`, in order, as {@linkcode DnstapBatchCallback}'s (so a
 * `DnstapBatchCallback` can be passed as one), plus the connection the run
 * came from (a `FrameReceiver`'s {@linkcode ConnectionInfo}; `undefined`
 * for sources of one stream). `window` holds the batch's frames where the
 * columns' offsets point (the scanner's memory: the run was read there or
 * copied there). `cols` and `window` are views valid only during the
 * call. A returned promise is awaited before the run's next batch, and
 * `onRun` returns a promise that settles after the run's last batch, which
 * the run's caller (the receiver's connection) waits for: flow control.
 *
 * @typeParam C What `connection` is.
 *
 * @example
 * ```ts
 * import type { DnstapRunCallback } from "@fstrm/fstrm/dnstap-scan";
 * import type { ConnectionInfo } from "@fstrm/fstrm/frame-receiver";
 *
 * const perConnection = new Map<number, number>();
 * const onBatch: DnstapRunCallback<ConnectionInfo> = (_cols, count, _window, conn) => {
 *   perConnection.set(conn.id, (perConnection.get(conn.id) ?? 0) + count);
 * };
 * console.log(typeof onBatch); // "function"
 * ```
 */
export type DnstapRunCallback<C = void> = (
  cols: DnstapColumns,
  count: number,
  window: Uint8Array,
  connection: C,
) => void | PromiseLike<void>;

/** Options of {@linkcode DnstapRunScanner}. */
export interface DnstapRunScannerOptions {
  /**
   * The engine of the dnstap scan: `"wasm"`, `"ts"`, or `"auto"` for
   * WebAssembly where it loads.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
  /**
   * Read buffers that {@linkcode DnstapRunScanner.prototype.readBuffers}
   * lends to a receiver's connections (one each; beyond them, connections
   * read into their own buffers and their runs are copied). Each takes
   * `slotSize` bytes of the engine's memory: from 0 to 1,024 of them, at
   * most 1 GiB in all (`slots × slotSize`).
   *
   * @default {16}
   */
  slots?: number;
  /**
   * A lent buffer's size in bytes: the receiver's `readSize` (a connection
   * asking for more is declined), from 65,536 to 67,108,864, with
   * `slots × slotSize` at most 1 GiB.
   *
   * @default {262144}
   */
  slotSize?: number;
}

/**
 * Use this to aggregate dnstap from a live socket at memory speed: the
 * columnar dnstap scan of {@linkcode forEachDnstapBatch}, fed runs of
 * encoded data frames. Pass {@linkcode DnstapRunScanner.prototype.onRun} as
 * a {@linkcode FrameReceiver}'s `onRun` (or to
 * {@linkcode FrameReader.prototype.forEachRun}; both wait for the promise
 * it returns): each run (a socket read's whole frames) is scanned, at most
 * {@linkcode SCAN_CAPACITY} frames a batch, in one engine call (frame scan
 * and dnstap scan), and `callback` gets the columns with the run's
 * connection. No object per message; with the receiver's `readBuffers` set
 * to {@linkcode DnstapRunScanner.prototype.readBuffers}, connections read
 * into the engine's memory and their runs are scanned where they were read,
 * with no copy (other runs are copied into it once). Nothing is held between
 * runs, so there is nothing to flush: with a callback that returns no
 * promise, every batch is passed on before `onRun` returns. One that returns
 * a promise is waited for before the run's next batch, which is read from
 * the run's window then: until the promise `onRun` returned settles, the
 * caller must keep `window[start, end)` unchanged and pass no other run of
 * that connection (one passed sooner is refused with a TypeError; runs of
 * other connections may come meanwhile). Driving
 * {@linkcode ReaderSession.prototype.nextRun}, which does not wait, is fine
 * with a callback that returns no promise; with one that does, hold the
 * session's runs until it settles (as FrameReceiver does).
 * Malformed messages are rows with their `SCAN_*` status, never thrown.
 *
 * Sans I/O and portable: no `Deno` API (the example's receiver is Deno's).
 *
 * @typeParam C What the run callback's `connection` is:
 *   {@linkcode ConnectionInfo} for a `FrameReceiver`, `void` elsewhere.
 *
 * @example Top query types from a receiver on a Unix socket
 * ```ts
 * import { DNSTAP_CONTENT_TYPE } from "@fstrm/fstrm";
 * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
 * import { type ConnectionInfo, FrameReceiver } from "@fstrm/fstrm/frame-receiver";
 * import { FrameWriter } from "@fstrm/fstrm/frame-writer";
 * import assert from "node:assert/strict";
 *
 * const byType = new Map<number, number>();
 * const scanner = new DnstapRunScanner<ConnectionInfo>((cols, count) => {
 *   for (let i = 0; i < count; i++) {
 *     byType.set(cols.qtype[i]!, (byType.get(cols.qtype[i]!) ?? 0) + 1);
 *   }
 * });
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/dnstap.sock`;
 * const receiver = await FrameReceiver.listen({ transport: "unix", path }, {
 *   contentTypes: [DNSTAP_CONTENT_TYPE],
 *   onRun: scanner.onRun,
 *   readBuffers: scanner.readBuffers, // scanned where they are read
 * });
 * // A query for "a." type AAAA (28), sent three times.
 * const query = new Uint8Array([
 *   0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 28, 0, 1,
 * ]);
 * const frame = encodeDnstap({
 *   type: "MESSAGE",
 *   message: { type: "CLIENT_QUERY", queryMessage: query },
 * });
 * const writer = await FrameWriter.connect({ transport: "unix", path }, {
 *   contentTypes: [DNSTAP_CONTENT_TYPE],
 * });
 * for (let i = 0; i < 3; i++) await writer.write(frame);
 * await writer.close(); // STOP, FINISH: the receiver has every frame
 * await receiver.close();
 * assert.deepEqual([...byType], [[28, 3]]);
 * assert.equal(scanner.messages, 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DnstapRunScanner<C = void> {
  readonly #scan: RunWindowScanner<C>;

  /**
   * Makes the scanner (and its engine).
   *
   * @param callback Called once per batch, in order per connection.
   * @param options The engine and the read buffers.
   * @throws {TypeError} If `callback` is not a function, the engine is
   *   unknown, or `slots` or `slotSize` is not an integer.
   * @throws {RangeError} If `slots` is negative or over 1,024, `slotSize`
   *   is under 65,536 or over 67,108,864 (FrameReceiver's read sizes), or
   *   `slots × slotSize` is over 1 GiB.
   * @throws {Error} If `engine` is `"wasm"` where WebAssembly cannot load.
   *
   * @example
   * ```ts
   * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
   *
   * const scanner = new DnstapRunScanner(() => {}, { engine: "ts" });
   * console.log(scanner.engine); // "ts"
   * ```
   */
  constructor(
    callback: DnstapRunCallback<C>,
    options: DnstapRunScannerOptions = {},
  ) {
    if (typeof callback !== "function") {
      throw new TypeError(
        "Cannot scan dnstap: the callback must be a function",
      );
    }
    const slots = integer(options.slots, RUN_SLOTS, "slots", 0, 1_024);
    const slotSize = integer(
      options.slotSize,
      RUN_SLOT_SIZE,
      "slotSize",
      65_536,
      1 << 26,
    );
    if (slots * slotSize > MAX_SLOT_BYTES) {
      throw new RangeError(
        `Cannot scan dnstap: slots × slotSize must be at most ${MAX_SLOT_BYTES} bytes (1 GiB), got ${slots} × ${slotSize}`,
      );
    }
    this.#scan = new RunWindowScanner<C>(
      (cols, count, window, _keys, connection) =>
        callback(cols, count, window, connection),
      { engine: options.engine ?? "auto", slots, slotSize },
    );
    const scan = this.#scan.onRun;
    // Connections whose last run's promise is pending.
    const pending = new Set<C>();
    this.onRun = (window, start, end, frames, connection) => {
      if (pending.has(connection)) {
        throw new TypeError(
          "Cannot scan dnstap: a run was passed before the promise returned for its connection's last run settled",
        );
      }
      const returned = scan(window, start, end, frames, connection);
      if (returned === undefined) return undefined;
      pending.add(connection);
      return returned.then(
        () => void pending.delete(connection),
        (error: unknown) => {
          pending.delete(connection);
          throw error;
        },
      );
    };
  }

  /**
   * The engine of the scan (`"auto"` resolved).
   *
   * @example
   * ```ts
   * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
   *
   * console.log(new DnstapRunScanner(() => {}).engine); // "wasm" where it loads
   * ```
   */
  get engine(): Engine {
    return this.#scan.engine;
  }

  /**
   * Read buffers in the engine's memory, for a {@linkcode FrameReceiver}'s
   * `readBuffers`: a connection reads into one (`slots` of them, one per
   * connection, `slotSize` bytes each) and its runs are scanned where they
   * lie, with no copy. A connection that finds none free, or asks for more
   * than `slotSize`, reads into its own buffers and its runs are copied.
   *
   * @example
   * ```ts
   * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
   * import type { ConnectionInfo } from "@fstrm/fstrm/frame-receiver";
   *
   * const scanner = new DnstapRunScanner<ConnectionInfo>(() => {}, { slots: 1 });
   * const connection = {} as ConnectionInfo;
   * const buffer = scanner.readBuffers.acquire(65_536, connection);
   * console.log(buffer?.length); // 65536
   * console.log(scanner.readBuffers.acquire(65_536, connection)); // null: none left
   * scanner.readBuffers.release(buffer!, connection);
   * ```
   */
  get readBuffers(): ReadBufferPool {
    return this.#scan.readBuffers;
  }

  /**
   * Batches passed to the callback so far.
   *
   * @example
   * ```ts
   * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
   *
   * console.log(new DnstapRunScanner(() => {}).batches); // 0
   * ```
   */
  get batches(): number {
    return this.#scan.batches;
  }

  /**
   * Rows (data frames) passed to the callback so far.
   *
   * @example
   * ```ts
   * import { DnstapRunScanner } from "@fstrm/fstrm/dnstap-scan";
   *
   * console.log(new DnstapRunScanner(() => {}).messages); // 0
   * ```
   */
  get messages(): number {
    return this.#scan.messages;
  }

  /**
   * Scans a run: `window[start, end)` holds `frames` whole data frames
   * (each a 4-byte big-endian length and its payload), as a
   * {@linkcode RunCallback} gets them. A bound function: pass it as it is.
   * Returns a promise when the callback returns one (settled after the
   * run's later batches and their promises), for the caller to await:
   * until it settles, `window[start, end)` must stay unchanged (later
   * batches are read from it) and no other run of `connection` may be
   * passed (FrameReceiver and FrameReader wait for it).
   *
   * @param window The bytes: read during the call, and until the returned
   *   promise settles if it returns one.
   * @param start The run's first byte.
   * @param end One past its last byte.
   * @param frames Frames in the run.
   * @param connection Passed on to the callback; runs of one connection
   *   (`undefined` counts as one) are scanned one at a time.
   * @returns `undefined`, or a promise that settles after the run's last
   *   batch.
   * @throws {RangeError} If a frame runs past `end` or the run has not
   *   `frames` frames (a caller's bug: the receiver's runs never do).
   * @throws {TypeError} If the promise returned for the last run of
   *   `connection` has not settled (a caller's bug: the receiver and the
   *   reader wait for it).
   *
   * @example
   * ```ts
   * import { encodeDataFrame } from "@fstrm/fstrm";
   * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
   * import { DnstapRunScanner, SCAN_OK } from "@fstrm/fstrm/dnstap-scan";
   * import assert from "node:assert/strict";
   *
   * const run = encodeDataFrame(encodeDnstap({
   *   type: "MESSAGE",
   *   message: { type: "CLIENT_QUERY" },
   * }));
   * const statuses: number[] = [];
   * const scanner = new DnstapRunScanner((cols, count) => {
   *   for (let i = 0; i < count; i++) statuses.push(cols.status[i]!);
   * });
   * scanner.onRun(run, 0, run.length, 1);
   * assert.deepEqual(statuses, [SCAN_OK]);
   * ```
   */
  readonly onRun: RunCallback<C>;
}

/** The most bytes of read slots a scanner's engine holds (1 GiB). */
const MAX_SLOT_BYTES = 1 << 30;

/** An integer option from `min` to `max`, or `fallback`. */
function integer(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot scan dnstap: ${name} must be an integer, got ${value}`,
    );
  }
  if (value < min || value > max) {
    throw new RangeError(
      `Cannot scan dnstap: ${name} must be from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}
