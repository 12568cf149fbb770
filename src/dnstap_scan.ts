/**
 * The columnar dnstap scan: read a dnstap file or stream a window at a time,
 * with each window's messages laid out in typed columns (message type,
 * protocol, times, addresses, DNS header, first question, EDNS) and no
 * object per message. Aggregate with plain loops over the columns; ask for
 * strings ({@linkcode dnstapQname}, {@linkcode dnstapAddress}) only for the
 * few rows you report.
 *
 * Built on {@linkcode FrameReader}: any of its sources (a file opened with
 * `openFrameReader`, a `ReadableStream`, an async iterable of chunks, a
 * `read(buffer)` source) can be scanned. Both engines of the scan give
 * identical columns: `"wasm"` (WebAssembly) and `"ts"` (TypeScript).
 *
 * Permissions: none, the WebAssembly engine included (its bytes are in the
 * module); reading a file is `openFrameReader`'s (`--allow-read=FILE`).
 *
 * @example Counting queries per query type
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { forEachDnstapBatch } from "@fstrm/fstrm/dnstap-scan";
 * import assert from "node:assert/strict";
 *
 * // A query for "a." type A (1): header, then the question.
 * const query = new Uint8Array([
 *   0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1,
 * ]);
 * const frame = encodeDnstap({
 *   type: "MESSAGE",
 *   message: { type: "CLIENT_QUERY", queryMessage: query },
 * });
 * const bytes = encodeFrameStream([frame, frame]);
 * const byType = new Map<number, number>();
 * await forEachDnstapBatch(ReadableStream.from([bytes]), (cols, count) => {
 *   for (let i = 0; i < count; i++) {
 *     const t = cols.qtype[i]!;
 *     byType.set(t, (byType.get(t) ?? 0) + 1);
 *   }
 * });
 * assert.deepEqual([...byType], [[1, 2]]);
 * ```
 *
 * @module
 */
import { FrameReader } from "./frame_reader.ts";
import type {
  FrameReaderOptions,
  FrameReaderSummary,
  FrameSource,
} from "./_reader_types.ts";
import type { Engine, EngineOption } from "./engine.ts";
import { makeDnstapScanner } from "./_dnstap_scan_engine.ts";
import {
  type DnstapColumns,
  HAS_DNS_RESPONSE,
  HAS_QUESTION,
  SCAN_CAPACITY,
} from "./_dnstap_scan_layout.ts";
import { readName, WireCursor } from "./_dns_wire.ts";
import { formatDnstapAddress } from "./_dnstap_text.ts";
import { DnstapScanReader } from "./_dnstap_scan_reader.ts";
import { DEFAULT_MAX_FRAME_LENGTH } from "./constants.ts";
import { DEFAULT_WINDOW } from "./_reader_source.ts";

export { DnstapColumns } from "./_dnstap_scan_layout.ts";
export * from "./_dnstap_run_scanner.ts";
export {
  HAS_DNS,
  HAS_DNS_RESPONSE,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_TIME_SEC,
  HAS_QUESTION,
  HAS_RESPONSE_ADDRESS,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_PROTOCOL,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CAPACITY,
  SCAN_CONTROL,
  SCAN_OK,
} from "./_dnstap_scan_layout.ts";

/**
 * Called once per batch of up to {@linkcode SCAN_CAPACITY} data frames:
 * rows `0` to `count - 1` of `cols` describe them in order (see
 * {@linkcode DnstapColumns} for the columns, their statuses and presence
 * bits). `cols` and `window` are views valid only during the call (the next
 * batch rewrites them); offsets in the columns (`qnameOffset`,
 * `queryMessageOffset`, `identityOffset` ...) are offsets in `window`. A
 * returned promise is awaited before the next batch.
 *
 * @example
 * ```ts
 * import type { DnstapBatchCallback } from "@fstrm/fstrm/dnstap-scan";
 *
 * let messages = 0;
 * const onBatch: DnstapBatchCallback = (_cols, count) => {
 *   messages += count;
 * };
 * console.log(typeof onBatch, messages); // "function" 0
 * ```
 */
export type DnstapBatchCallback = (
  cols: DnstapColumns,
  count: number,
  window: Uint8Array,
) => void | PromiseLike<void>;

/**
 * Options of {@linkcode forEachDnstapBatch}: those of {@linkcode FrameReader}
 * (used when it makes the reader) and the scan's engine.
 */
export interface DnstapScanOptions extends FrameReaderOptions {
  /**
   * The engine of the dnstap scan (and of the frame scan of a reader made
   * here): `"wasm"`, `"ts"`, or `"auto"` for WebAssembly where it loads.
   *
   * @default {"auto"}
   */
  engine?: EngineOption;
}

/**
 * What {@linkcode forEachDnstapBatch} read: the reader's summary, the
 * batches and the scan's engine.
 */
export interface DnstapScanSummary extends FrameReaderSummary {
  /** Batches passed to the callback. */
  readonly batches: number;
  /** The engine of the dnstap scan. */
  readonly scanEngine: Engine;
}

/**
 * Use this to aggregate a dnstap file or stream at memory speed: reads the
 * whole input and calls `callback` with the columns of each batch of data
 * frames (no object per message). Given a source, it reads in one pass: the
 * source is read straight into the scan engine's window (WebAssembly memory
 * for `"wasm"`), and one call per window scans its frames and their dnstap,
 * with no copy. Given a {@linkcode FrameReader} (or `strict: true`), it
 * reads with that reader and the engine copies each run into its memory. Control
 * frames are applied by the reader (content type, STOP) and are not rows.
 * A frame that is not a dnstap message is a row with status
 * {@linkcode SCAN_BAD_PROTOBUF}, and a DNS message cut short one with
 * {@linkcode SCAN_BAD_DNS_HEADER} or {@linkcode SCAN_BAD_QUESTION}: counted,
 * never thrown.
 *
 * @param source A {@linkcode FrameReader} not yet read (its options then
 *   apply), or a source to make one of: a {@linkcode FrameSource}, a
 *   `ReadableStream<Uint8Array>` or an `AsyncIterable<Uint8Array>`.
 * @param callback Called once per batch, in order.
 * @param options The engine, and the reader's options when it is made here.
 * @returns The reader's summary with the batches and the scan's engine.
 * @throws The errors of {@linkcode FrameReader.prototype.forEachRun} (a
 *   truncated or malformed Frame Streams file), after every batch before
 *   the fault; whatever `callback` throws; an `Error` if `engine` is
 *   `"wasm"` where WebAssembly cannot load.
 *
 * @example Top clients of a file, reading addresses only for the winners
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { dnstapAddress, forEachDnstapBatch } from "@fstrm/fstrm/dnstap-scan";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream([1, 1, 2].map((last) => encodeDnstap({
 *   type: "MESSAGE",
 *   message: {
 *     type: "CLIENT_QUERY",
 *     socketFamily: "INET",
 *     queryAddress: new Uint8Array([192, 0, 2, last]),
 *   },
 * })));
 * const counts = new Map<number, number>(); // the IPv4 address as a number
 * await forEachDnstapBatch(ReadableStream.from([bytes]), (cols, count) => {
 *   for (let i = 0; i < count; i++) {
 *     const a = cols.queryAddress;
 *     const key = ((a[16 * i]! << 24) | (a[16 * i + 1]! << 16) |
 *       (a[16 * i + 2]! << 8) | a[16 * i + 3]!) >>> 0;
 *     counts.set(key, (counts.get(key) ?? 0) + 1);
 *   }
 * }, { engine: "ts" });
 * assert.deepEqual([...counts.values()], [2, 1]);
 * ```
 */
export async function forEachDnstapBatch(
  source:
    | FrameReader
    | FrameSource
    | ReadableStream<Uint8Array>
    | AsyncIterable<Uint8Array>,
  callback: DnstapBatchCallback,
  options: DnstapScanOptions = {},
): Promise<DnstapScanSummary> {
  if (typeof callback !== "function") {
    throw new TypeError("Cannot scan dnstap: the callback must be a function");
  }
  const engine = options.engine ?? "auto";
  if (!(source instanceof FrameReader) && options.strict !== true) {
    // One pass: read straight into the scanner's window.
    const reader = new DnstapScanReader(source, {
      engine,
      maxFrameLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      oversize: options.oversize ?? "error",
      windowSize: options.windowSize ?? DEFAULT_WINDOW,
      readSync: options.readSync ?? true,
    });
    const summary = await reader.read((cols, count, window) =>
      callback(cols, count, window)
    );
    return { ...summary, batches: reader.batches, scanEngine: reader.engine };
  }
  const scanner = makeDnstapScanner(engine);
  const reader = source instanceof FrameReader
    ? source
    : new FrameReader(source, { ...options, reuseWindow: true });
  const table = new Uint32Array(SCAN_CAPACITY * 3);
  let batches = 0;
  const summary = await reader.forEachRun((window, start, end) => {
    // The run's frames, a batch of at most SCAN_CAPACITY at a time.
    let at = start;
    while (at < end) {
      let n = 0;
      for (; n < SCAN_CAPACITY && at < end; n++) {
        const length = ((window[at]! << 24) | (window[at + 1]! << 16) |
          (window[at + 2]! << 8) | window[at + 3]!) >>> 0;
        table[3 * n] = at;
        table[3 * n + 1] = length;
        table[3 * n + 2] = 0;
        at += 4 + length;
      }
      scanner.scan(window, table, n);
      batches++;
      const returned = callback(scanner.columns, n, window);
      if (returned !== undefined && typeof returned.then === "function") {
        return at >= end ? returned : chain(returned, window, at, end);
      }
    }
    return undefined;
  });
  return { ...summary, batches, scanEngine: scanner.name };

  // The rest of a run after a callback's promise (rare: runs are at most
  // one window, a batch 4096 frames).
  async function chain(
    wait: PromiseLike<void>,
    window: Uint8Array,
    from: number,
    end: number,
  ): Promise<void> {
    await wait;
    let at = from;
    while (at < end) {
      let n = 0;
      for (; n < SCAN_CAPACITY && at < end; n++) {
        const length = ((window[at]! << 24) | (window[at + 1]! << 16) |
          (window[at + 2]! << 8) | window[at + 3]!) >>> 0;
        table[3 * n] = at;
        table[3 * n + 1] = length;
        table[3 * n + 2] = 0;
        at += 4 + length;
      }
      scanner.scan(window, table, n);
      batches++;
      await callback(scanner.columns, n, window);
    }
  }
}

const cursor = new WireCursor();

/**
 * The first question's name of row `i`, as miekg/dns prints it (`"a."`,
 * escapes included; see `@fstrm/fstrm/dns`), following compression pointers
 * only when the row has one; `null` when the row has no question. Allocates
 * the string: call it for the rows you report, not for every row.
 *
 * @param cols The columns of the batch.
 * @param i The row.
 * @param window The batch's window (the callback's third argument).
 * @returns The name, or `null`.
 *
 * @example
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { dnstapQname, forEachDnstapBatch } from "@fstrm/fstrm/dnstap-scan";
 * import assert from "node:assert/strict";
 *
 * const query = new Uint8Array([
 *   0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1,
 * ]);
 * const bytes = encodeFrameStream([encodeDnstap({
 *   type: "MESSAGE",
 *   message: { type: "CLIENT_QUERY", queryMessage: query },
 * })]);
 * const names: (string | null)[] = [];
 * await forEachDnstapBatch(ReadableStream.from([bytes]), (cols, count, window) => {
 *   for (let i = 0; i < count; i++) names.push(dnstapQname(cols, i, window));
 * });
 * assert.deepEqual(names, ["a."]);
 * ```
 */
export function dnstapQname(
  cols: DnstapColumns,
  i: number,
  window: Uint8Array,
): string | null {
  const present = cols.present[i]!;
  if ((present & HAS_QUESTION) === 0) return null;
  const start = (present & HAS_DNS_RESPONSE) !== 0
    ? cols.responseMessageOffset[i]!
    : cols.queryMessageOffset[i]!;
  const msg = window.subarray(start, start + cols.dnsSize[i]!);
  cursor.off = cols.qnameOffset[i]! - start;
  cursor.end = msg.length;
  return readName(msg, cursor);
}

/**
 * The query or response address of row `i` as text: dotted IPv4 for 4
 * bytes, RFC 5952 IPv6 for 16, as {@linkcode formatDnstapAddress} (`"?"`
 * and hex for any other length; only the first 16 bytes are kept).
 *
 * @param cols The columns of the batch.
 * @param i The row.
 * @param side `"query"` (the default) or `"response"`.
 * @returns The address.
 *
 * @example
 * ```ts
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import { encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { dnstapAddress, forEachDnstapBatch } from "@fstrm/fstrm/dnstap-scan";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrameStream([encodeDnstap({
 *   type: "MESSAGE",
 *   message: {
 *     type: "CLIENT_QUERY",
 *     queryAddress: new Uint8Array([0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 1]),
 *   },
 * })]);
 * let text = "";
 * await forEachDnstapBatch(ReadableStream.from([bytes]), (cols) => {
 *   text = dnstapAddress(cols, 0);
 * });
 * assert.equal(text, "2001:db8::1");
 * ```
 */
export function dnstapAddress(
  cols: DnstapColumns,
  i: number,
  side: "query" | "response" = "query",
): string {
  const query = side === "query";
  const bytes = query ? cols.queryAddress : cols.responseAddress;
  const length = (query ? cols.queryAddressLength : cols.responseAddressLength)[
    i
  ]!;
  return formatDnstapAddress(
    bytes.subarray(16 * i, 16 * i + Math.min(length, 16)),
  );
}
