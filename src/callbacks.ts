/**
 * The callback types every way of taking data frames without a copy shares:
 * {@linkcode DataCallback} for one frame at a time, {@linkcode RunCallback}
 * for runs of frames still encoded. `FrameReceiver` passes the connection a
 * frame came from as the last argument; the other callers pass none.
 *
 * @example
 * ```ts
 * import type { DataCallback, RunCallback } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * let bytes = 0;
 * let frames = 0;
 * const onData: DataCallback = (_window, _offset, length) => {
 *   bytes += length;
 * };
 * const onRun: RunCallback = (_window, _start, _end, n) => {
 *   frames += n;
 * };
 * onData(new Uint8Array(3), 0, 3);
 * onRun(new Uint8Array(10), 0, 10, 2);
 * assert.deepEqual([bytes, frames], [3, 2]);
 * ```
 *
 * @module
 */

/**
 * Called for each data frame: the payload is `window[offset, offset +
 * length)`, a view valid only during the call (copy what you keep). Where
 * the caller does I/O (`FrameReceiver`, `FrameReader`), a returned promise is
 * awaited before the next frame (flow control); the sans-I/O
 * `ReaderSession` does not await it.
 * `connection` says where the frame came from, for a caller that serves
 * several (`FrameReceiver` passes its `ConnectionInfo`); `void` otherwise.
 *
 * @typeParam C What `connection` is: `void` where there is one source.
 *
 * @example
 * ```ts
 * import type { DataCallback } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const payloads: string[] = [];
 * const onData: DataCallback = (window, offset, length) => {
 *   payloads.push(new TextDecoder().decode(window.subarray(offset, offset + length)));
 * };
 * onData(new TextEncoder().encode("xxhi"), 2, 2);
 * assert.deepEqual(payloads, ["hi"]);
 * ```
 */
export type DataCallback<C = void> = (
  window: Uint8Array,
  offset: number,
  length: number,
  connection: C,
) => void | PromiseLike<void>;

/**
 * Called for each run of data frames still encoded: `window[start, end)`
 * holds `frames` whole consecutive data frames (each a 4-byte big-endian
 * length and its payload) as they came, a view valid only during the call.
 * A returned promise is awaited before the next run, as for
 * {@linkcode DataCallback}.
 * `connection` as for {@linkcode DataCallback}.
 *
 * @typeParam C What `connection` is: `void` where there is one source.
 *
 * @example
 * ```ts
 * import { encodeDataFrame, type RunCallback } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const runs: number[] = [];
 * const onRun: RunCallback = (_window, start, end, frames) => {
 *   runs.push(frames, end - start);
 * };
 * const two = new Uint8Array([...encodeDataFrame("a"), ...encodeDataFrame("b")]);
 * onRun(two, 0, two.length, 2);
 * assert.deepEqual(runs, [2, 10]);
 * ```
 */
export type RunCallback<C = void> = (
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
  connection: C,
) => void | PromiseLike<void>;
