// Private (re-exported by src/dnstap_scan.ts): the columnar dnstap scan fed
// runs of encoded data frames, as FrameReceiver's `onRun`, FrameReader's
// `forEachRun` and ReaderSession's `nextRun` hand them out. Sans I/O: it
// holds no bytes between runs, so a batch is scanned and passed on while the
// run's window is still valid, with the connection the run came from.
import type { RunCallback } from "./callbacks.ts";
import type { Engine, EngineOption } from "./engine.ts";
import {
  type DnstapScanner,
  makeDnstapScanner,
} from "./_dnstap_scan_engine.ts";
import { type DnstapColumns, SCAN_CAPACITY } from "./_dnstap_scan_layout.ts";

/**
 * Called by {@linkcode DnstapRunScanner} once per batch of up to
 * {@linkcode SCAN_CAPACITY} data frames of one run: rows `0` to `count - 1`
 * of `cols`, in order, as {@linkcode DnstapBatchCallback}'s (so a
 * `DnstapBatchCallback` can be passed as one), plus the connection the run
 * came from (a `FrameReceiver`'s {@linkcode ConnectionInfo}; `undefined`
 * for sources of one stream). `cols` and `window` are views valid only
 * during the call. A returned promise is awaited before the next batch, and
 * the run's caller (the receiver's connection) waits for it: flow control.
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
}

/**
 * Use this to aggregate dnstap from a live socket at memory speed: the
 * columnar dnstap scan of {@linkcode forEachDnstapBatch}, fed runs of
 * encoded data frames. Pass {@linkcode DnstapRunScanner.prototype.onRun} as
 * a {@linkcode FrameReceiver}'s `onRun` (or to
 * {@linkcode FrameReader.prototype.forEachRun}, or
 * {@linkcode ReaderSession.prototype.nextRun}): each run (a socket read's
 * whole frames) is scanned where it lies, at most {@linkcode SCAN_CAPACITY}
 * frames a batch, and `callback` gets the columns with the run's
 * connection. No object per message, no copy (the WebAssembly engine copies
 * the run's bytes into its memory once); nothing is held between runs, so
 * there is nothing to flush: a batch is passed on before `onRun` returns.
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
  readonly #scanner: DnstapScanner;
  readonly #callback: DnstapRunCallback<C>;
  readonly #table = new Uint32Array(SCAN_CAPACITY * 3);
  #batches = 0;
  #messages = 0;
  /** Frames in the last batch. */
  #lastCount = 0;

  /**
   * Makes the scanner (and its engine).
   *
   * @param callback Called once per batch, in order per connection.
   * @param options The engine.
   * @throws {TypeError} If `callback` is not a function, or the engine is
   *   unknown.
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
    this.#callback = callback;
    this.#scanner = makeDnstapScanner(options.engine ?? "auto");
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
    return this.#scanner.name;
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
    return this.#batches;
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
    return this.#messages;
  }

  /**
   * Scans a run: `window[start, end)` holds `frames` whole data frames
   * (each a 4-byte big-endian length and its payload), as a
   * {@linkcode RunCallback} gets them. A bound function: pass it as it is.
   * Returns the callback's promise (chained over the run's later batches)
   * when it returns one, for the caller to await.
   *
   * @param window The bytes (read during the call only).
   * @param start The run's first byte.
   * @param end One past its last byte.
   * @param frames Frames in the run.
   * @param connection Passed on to the callback.
   * @returns `undefined`, or a promise that settles after the run's last
   *   batch.
   * @throws {RangeError} If a frame runs past `end` or the run has not
   *   `frames` frames (a caller's bug: the receiver's runs never do).
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
  readonly onRun: RunCallback<C> = (
    window,
    start,
    end,
    frames,
    connection,
  ) => {
    if (
      !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start &&
        start <= end && end <= window.length)
    ) {
      throw new RangeError(
        `Cannot scan dnstap: the run [${start}, ${end}) is not within the window's ${window.length} bytes`,
      );
    }
    let at = start;
    let left = frames;
    while (at < end || left > 0) {
      at = this.#batch(window, at, end, Math.min(left, SCAN_CAPACITY));
      left -= this.#lastCount;
      const returned = this.#callback(
        this.#scanner.columns,
        this.#lastCount,
        window,
        connection,
      );
      if (returned !== undefined && typeof returned.then === "function") {
        return at >= end && left === 0
          ? returned
          : this.#chain(returned, window, at, end, left, connection);
      }
    }
    return undefined;
  };

  /**
   * Fills the table with up to `max` frames from `at` and scans them; the
   * offset after the last.
   */
  #batch(window: Uint8Array, at: number, end: number, max: number): number {
    const table = this.#table;
    let n = 0;
    for (; n < max && at < end; n++) {
      if (at + 4 > end) break;
      const length = ((window[at]! << 24) | (window[at + 1]! << 16) |
        (window[at + 2]! << 8) | window[at + 3]!) >>> 0;
      if (at + 4 + length > end) break;
      table[3 * n] = at;
      table[3 * n + 1] = length;
      table[3 * n + 2] = 0;
      at += 4 + length;
    }
    if (n < max || (n === 0 && at < end)) {
      throw new RangeError(
        `Cannot scan dnstap: the run does not hold its frames whole (frame ${
          this.#messages + n
        } at ${at})`,
      );
    }
    this.#scanner.scan(window, table, n);
    this.#lastCount = n;
    this.#batches++;
    this.#messages += n;
    return at;
  }

  /** The rest of a run after a callback's promise. */
  async #chain(
    wait: PromiseLike<void>,
    window: Uint8Array,
    from: number,
    end: number,
    frames: number,
    connection: C,
  ): Promise<void> {
    await wait;
    let at = from;
    let left = frames;
    while (at < end || left > 0) {
      at = this.#batch(window, at, end, Math.min(left, SCAN_CAPACITY));
      left -= this.#lastCount;
      await this.#callback(
        this.#scanner.columns,
        this.#lastCount,
        window,
        connection,
      );
    }
  }
}
