// The harness of the FrameReader tests: sources served in every read
// pattern, FrameDecoder's outcome as the reference, and parity assertions
// (same frames, payloads, offsets, errors and counters, whatever the engine,
// the window, the read sizes, the source kind and the way frames are taken).
import assert from "node:assert/strict";
import { rng } from "./_support.ts";
import {
  encodeDataFrame,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  FrameReader,
  type FrameReaderOptions,
  type FrameReaderSummary,
  type FrameSource,
} from "../mod.ts";
import { plainError } from "./_util.ts";

export const DNSTAP = new TextEncoder().encode("protobuf:dnstap.Dnstap");

export const MIN_WINDOW = 65_536;

// ---------------------------------------------------------------------------
// Helpers

/** `length` pseudo-random bytes, different for every seed. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const r = rng(seed * 7919 + length);
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const v = r();
    out[i] = v;
    out[i + 1] = v >>> 8;
    out[i + 2] = v >>> 16;
    out[i + 3] = v >>> 24;
  }
  for (; i < length; i++) out[i] = r();
  return out;
}

/** Reads a big-endian u32. */
export function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
    bytes[at + 3]!) >>> 0;
}

/** Concatenates any number of byte arrays (no spread: there may be many). */
export function join(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * How a test source serves its bytes: through `readSync` ("sync"), through
 * `read` only ("async": the source has no readSync), through `read` with a
 * readSync the reader is told not to use ("sync-off"), or as chunks of a
 * `ReadableStream` ("stream") or of an async iterable ("iterable") that the
 * reader copies into its window. Each read (or chunk) gives at most `max`
 * bytes (a random size from 1 to `max`, or all it can if `max` is Infinity).
 */
export interface Feed {
  kind: "sync" | "async" | "sync-off" | "stream" | "iterable";
  max: number;
  seed?: number;
}

/** A source of bytes held in memory, counting its calls. */
export class MemorySource implements FrameSource {
  asyncReads = 0;
  syncReads = 0;
  readonly bytes: Uint8Array;
  #pos = 0;
  #size: () => number;

  constructor(bytes: Uint8Array, max: number, seed: number) {
    this.bytes = bytes;
    const r = rng(seed);
    this.#size = max === Infinity ? () => Infinity : () => 1 + (r() % max);
  }

  /** Serves the next bytes into `buffer`. */
  take(buffer: Uint8Array): number | null {
    // A zero-length read would return 0 forever: a reader bug, not an end.
    if (buffer.length === 0) throw new Error("test source: empty read buffer");
    const rest = this.bytes.length - this.#pos;
    if (rest === 0) return null;
    const n = Math.min(buffer.length, rest, this.#size());
    buffer.set(this.bytes.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return n;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.asyncReads++;
    return Promise.resolve(this.take(buffer));
  }
}

/** The same, with a `readSync`. */
export class SyncMemorySource extends MemorySource {
  readSync(buffer: Uint8Array): number | null {
    this.syncReads++;
    return this.take(buffer);
  }
}

/** What a FrameReader can read from. */
export type Input =
  | FrameSource
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** Chunks of `source`: each a fresh array of what one read gave. */
async function* chunksOf(
  source: MemorySource,
  max: number,
): AsyncGenerator<Uint8Array> {
  const size = max === Infinity ? Math.max(1, source.bytes.length) : max;
  for (;;) {
    const chunk = new Uint8Array(size);
    const n = await source.read(chunk);
    if (n === null) return;
    yield chunk.subarray(0, n);
  }
}

/**
 * A source for `feed`, what to hand the reader, and the reader options it
 * implies. Read sizes are kept to at most ~1,000 reads per input, so that
 * large inputs stay fast.
 */
export function feedSource(
  bytes: Uint8Array,
  feed: Feed,
): { source: MemorySource; input: Input; options: FrameReaderOptions } {
  const max = Math.max(feed.max, Math.ceil(bytes.length / 1000));
  const seed = feed.seed ?? bytes.length;
  if (feed.kind === "stream" || feed.kind === "iterable") {
    const source = new MemorySource(bytes, max, seed);
    const chunks = chunksOf(source, max);
    const input = feed.kind === "iterable"
      ? { [Symbol.asyncIterator]: () => chunks }
      : new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(value);
        },
      });
    return { source, input, options: {} };
  }
  if (feed.kind === "async") {
    const source = new MemorySource(bytes, max, seed);
    return { source, input: source, options: {} };
  }
  const source = new SyncMemorySource(bytes, max, seed);
  return {
    source,
    input: source,
    options: feed.kind === "sync-off" ? { readSync: false } : {},
  };
}

export type How = "forEachFrame" | "forEachRun" | "batches" | "iterator";
export const HOWS: readonly How[] = [
  "forEachFrame",
  "forEachRun",
  "batches",
  "iterator",
];

/** The counters a FrameReaderSummary shares with a FrameDecoder. */
export interface Counts {
  frames: number;
  controlFrames: number;
  skippedFrames: number;
  oversizedFrames: number;
  contentType: Uint8Array | null;
  started: boolean;
  stopped: boolean;
}

export function summaryCounts(s: FrameReaderSummary): Counts {
  // The content type as text is its bytes decoded (U+FFFD for a bad byte).
  assert.equal(
    s.contentType,
    s.contentTypeBytes === null
      ? null
      : new TextDecoder().decode(s.contentTypeBytes),
  );
  return {
    frames: s.frames,
    controlFrames: s.controlFrames,
    skippedFrames: s.skippedFrames,
    oversizedFrames: s.oversizedFrames,
    contentType: s.contentTypeBytes,
    started: s.started,
    stopped: s.stopped,
  };
}

/** What FrameDecoder makes of `bytes`. */
export interface Expected {
  frames: Frame[];
  payloads: Uint8Array[];
  error: unknown;
  counts: Counts;
  bytes: number;
}

/** Decodes `bytes` with FrameDecoder (TS engine), under the reader's policies. */
export function decoderOutcome(
  bytes: Uint8Array,
  options: FrameReaderOptions,
): Expected {
  const decoderOptions: FrameDecoderOptions = { engine: "ts" };
  if (options.maxFrameLength !== undefined) {
    decoderOptions.maxFrameLength = options.maxFrameLength;
  }
  if (options.oversize !== undefined) {
    decoderOptions.oversize = options.oversize;
  }
  if (options.strict !== undefined) decoderOptions.strict = options.strict;
  const decoder = new FrameDecoder(decoderOptions);
  decoder.push(bytes);
  decoder.end();
  const frames: Frame[] = [];
  let error: unknown = null;
  try {
    for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  } catch (e) {
    error = e;
  }
  const payloads = frames.flatMap((f) => f.kind === "data" ? [f.data] : []);
  return {
    frames,
    payloads,
    error,
    counts: {
      frames: decoder.frames,
      controlFrames: decoder.controlFrames,
      skippedFrames: decoder.skippedFrames,
      oversizedFrames: decoder.oversizedFrames,
      contentType: decoder.contentType,
      started: decoder.started,
      stopped: decoder.stopped,
    },
    bytes: decoderBytes(decoder, payloads),
  };
}

/** The decoder's `bytes`, checked against the payloads it returned. */
function decoderBytes(decoder: FrameDecoder, payloads: Uint8Array[]): number {
  const bytes = payloads.reduce((n, p) => n + p.length, 0);
  assert.equal(decoder.bytes, bytes, "FrameDecoder.bytes");
  return bytes;
}

export const outcomes = new WeakMap<Uint8Array, Map<string, Expected>>();

/** decoderOutcome, remembered per input and policy. */
export function expectedOutcome(
  bytes: Uint8Array,
  options: FrameReaderOptions,
): Expected {
  let byPolicy = outcomes.get(bytes);
  if (byPolicy === undefined) outcomes.set(bytes, byPolicy = new Map());
  const { maxFrameLength, oversize, strict } = options;
  const key = JSON.stringify([maxFrameLength, oversize, strict]);
  let expected = byPolicy.get(key);
  if (expected === undefined) {
    byPolicy.set(key, expected = decoderOutcome(bytes, options));
  }
  return expected;
}

/** A frame whose payload is a copy (for frames that are views of a window). */
export function own(frame: Frame): Frame {
  return frame.kind === "data" ? { ...frame, data: frame.data.slice() } : frame;
}

/** What a FrameReader gave. */
export interface Got {
  reader: FrameReader;
  source: MemorySource;
  /** Every frame (batches, iterator), or null (forEachFrame, forEachRun). */
  frames: Frame[] | null;
  /** Data frame payloads (copies under forEachFrame and forEachRun). */
  payloads: Uint8Array[];
  error: unknown;
  /**
   * Under forEachFrame: whether every payload followed its length word;
   * under forEachRun: whether every run held its count of whole frames.
   */
  headersOk: boolean;
}

/** Reads `bytes` through a FrameReader fed as `feed`, taking frames `how`. */
export async function readerOutcome(
  bytes: Uint8Array,
  options: FrameReaderOptions,
  how: How,
  feed: Feed,
): Promise<Got> {
  const { source, input, options: feedOptions } = feedSource(bytes, feed);
  const reader = new FrameReader(input, { ...options, ...feedOptions });
  if (options.engine === "ts" || options.engine === "wasm") {
    // Never a silent fallback.
    assert.equal(reader.engine, options.engine, "the engine asked for");
  }
  // Views of the window (reuseWindow: true) are copied as they arrive;
  // copies are kept as they are, to prove they stay valid.
  const keep = options.reuseWindow === true ? own : (f: Frame) => f;
  let frames: Frame[] | null = null;
  const payloads: Uint8Array[] = [];
  let error: unknown = null;
  let headersOk = true;
  try {
    if (how === "forEachFrame") {
      await reader.forEachFrame((window, offset, length) => {
        if (offset < 4 || u32(window, offset - 4) !== length) headersOk = false;
        payloads.push(window.slice(offset, offset + length));
      });
    } else if (how === "forEachRun") {
      await reader.forEachRun((window, start, end, n) => {
        // The run holds exactly n whole frames, each as the input has it.
        let at = start;
        for (let k = 0; k < n; k++) {
          if (at + 4 > end) {
            headersOk = false;
            break;
          }
          const length = u32(window, at);
          if (length === 0) headersOk = false;
          payloads.push(window.slice(at + 4, at + 4 + length));
          at += 4 + length;
        }
        if (at !== end || n < 1) headersOk = false;
      });
    } else if (how === "batches") {
      frames = [];
      for await (const batch of reader.batches()) {
        for (const f of batch) frames.push(keep(f));
      }
    } else {
      frames = [];
      for await (const f of reader) frames.push(keep(f));
    }
  } catch (e) {
    error = e;
  }
  if (frames !== null) {
    for (const f of frames) if (f.kind === "data") payloads.push(f.data);
  }
  return { reader, source, frames, payloads, error, headersOk };
}

/** Whether two frames are equal: kind, offset, payload or type and content types. */
export function sameFrame(a: Frame, b: Frame): boolean {
  if (a.kind !== b.kind || a.offset !== b.offset) return false;
  if (a.kind === "data") return bytesEqual(a.data, (b as typeof a).data);
  const c = b as typeof a;
  return a.type === c.type &&
    a.contentTypes.length === c.contentTypes.length &&
    a.contentTypes.every((t, i) => bytesEqual(t, c.contentTypes[i]!));
}

/** A frame in a few words, for a failure message (payloads can be large). */
export function describeFrame(f: Frame | undefined): string {
  if (f === undefined) return "no frame";
  if (f.kind === "control") {
    return `control frame type ${f.type} at ${f.offset} with ${f.contentTypes.length} content type(s)`;
  }
  return `data frame at ${f.offset}, ${f.data.length} bytes [${[
    ...f.data.subarray(0, 8),
  ]}${f.data.length > 8 ? ", …" : ""}]`;
}

/** Where two byte strings first differ, for a failure message. */
export function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `lengths ${a.length} and ${b.length}, first difference at byte ${i} (${
    a[i]
  } vs ${b[i]})`;
}

/** Asserts equal frame lists, naming the first difference. */
export function assertSameFrames(
  actual: readonly Frame[],
  expected: readonly Frame[],
  what: string,
): void {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!sameFrame(a, e)) {
      assert.fail(
        `${what}: frame ${i} is a ${describeFrame(a)}; expected a ${
          describeFrame(e)
        }${
          a.kind === "data" && e.kind === "data"
            ? ` (${firstDifference(a.data, e.data)})`
            : ""
        }`,
      );
    }
  }
  if (actual.length !== expected.length) {
    assert.fail(
      `${what}: ${actual.length} frames, expected ${expected.length}; the first extra or missing one: ${
        describeFrame(actual[n] ?? expected[n])
      }`,
    );
  }
}

/** Asserts equal payload lists, naming the first difference. */
export function assertSamePayloads(
  actual: readonly Uint8Array[],
  expected: readonly Uint8Array[],
  what: string,
): void {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (!bytesEqual(actual[i]!, expected[i]!)) {
      assert.fail(
        `${what}: payload ${i} differs: ${
          firstDifference(actual[i]!, expected[i]!)
        }`,
      );
    }
  }
  assert.equal(actual.length, expected.length, `${what}: payload count`);
}

/** An error as its class and public fields (message included), for deepEqual. */
export function errorRecord(e: unknown): Record<string, unknown> | null {
  if (e === null) return null;
  return {
    ...plainError(e),
    // The constructor itself: deepEqual compares functions by identity.
    class: e instanceof Error ? e.constructor : null,
  };
}

/**
 * Asserts that a FrameReader reading `bytes` with `options`, fed as `feed`,
 * taking frames `how`, gives what FrameDecoder gives: the same frames
 * (payloads and offsets), the same error (class and fields), the same
 * counters. Returns the decoder's outcome for further checks.
 */
export async function assertParity(
  bytes: Uint8Array,
  options: FrameReaderOptions,
  how: How,
  feed: Feed,
  label = "",
): Promise<Expected> {
  const what = `${label}${how}, ${feed.kind} reads of ${feed.max}`;
  const expected = expectedOutcome(bytes, options);
  const got = await readerOutcome(bytes, options, how, feed);
  if (got.frames !== null) {
    assertSameFrames(got.frames, expected.frames, what);
  }
  assertSamePayloads(got.payloads, expected.payloads, what);
  assert.ok(got.headersOk, `${what}: forEachFrame offsets, forEachRun runs`);
  assert.deepEqual(
    errorRecord(got.error),
    errorRecord(expected.error),
    `${what}: error`,
  );
  const summary = got.reader.summary;
  assert.deepEqual(summaryCounts(summary), expected.counts, `${what}: summary`);
  assert.equal(summary.engine, got.reader.engine);
  assert.equal(
    summary.bytes,
    expected.bytes,
    `${what}: bytes`,
  );
  if (got.error === null) {
    assert.equal(summary.bytesRead, bytes.length, `${what}: bytesRead`);
  } else {
    assert.ok(summary.bytesRead <= bytes.length, `${what}: bytesRead`);
  }
  // The read path: readSync when the source has it, unless told otherwise.
  if (feed.kind === "sync") {
    assert.equal(got.source.asyncReads, 0, `${what}: async reads`);
    assert.ok(got.source.syncReads > 0, `${what}: sync reads`);
  } else {
    assert.equal(got.source.syncReads, 0, `${what}: sync reads`);
    assert.ok(got.source.asyncReads > 0, `${what}: async reads`);
  }
  return expected;
}

/** Read patterns for short inputs: whole, byte by byte, small random pieces, streams. */
export const SHORT_FEEDS: readonly Feed[] = [
  { kind: "sync", max: Infinity },
  { kind: "async", max: 1 },
  { kind: "sync-off", max: 7, seed: 1 },
  { kind: "async", max: 13, seed: 2 },
  { kind: "stream", max: 5, seed: 5 },
  { kind: "iterable", max: Infinity },
];

/** Read patterns for large inputs: whole, and random pieces up to 4 KiB. */
export const LARGE_FEEDS: readonly Feed[] = [
  { kind: "sync", max: Infinity },
  { kind: "async", max: Infinity },
  { kind: "sync", max: 4096, seed: 3 },
  { kind: "async", max: 4096, seed: 4 },
  { kind: "stream", max: 4096, seed: 8 },
];

/** Runs a reader to its end, returning its error (or null). */
export async function drain(reader: FrameReader): Promise<unknown> {
  try {
    await reader.forEachFrame(() => {});
    return null;
  } catch (e) {
    return e;
  }
}

/** A data frame of `length` pattern bytes. */
export function dataFrame(length: number, seed: number): Uint8Array {
  return encodeDataFrame(pattern(length, seed));
}
