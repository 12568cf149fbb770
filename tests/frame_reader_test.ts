// FrameReader, the bulk path, against FrameDecoder, the reference: same
// frames, same offsets, same errors, same counters, whatever the engine, the
// window size, the read sizes and the way the frames are taken
// (forEachFrame, batches, async iteration).
import assert from "node:assert/strict";
import { rng } from "./_support.ts";
import fc from "fast-check";
import {
  ControlFrameError,
  decodeFrames,
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  FrameReader,
  type FrameReaderOptions,
  type FrameReaderSummary,
  type FrameSource,
  FrameTooLargeError,
  isWasmAvailable,
  NotFrameStreamsError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { concat, hex, plainError } from "./_util.ts";
import {
  ACCEPT,
  FINISH,
  HELLO,
  READY,
  START,
  STOP,
  UNKNOWN,
} from "./_vectors.ts";
import { interopTest } from "./_peers.ts";
import { openFrameReader } from "../src/file.ts";

const DNSTAP = new TextEncoder().encode("protobuf:dnstap.Dnstap");

const MIN_WINDOW = 65_536;

// ---------------------------------------------------------------------------
// Helpers

/** `length` pseudo-random bytes, different for every seed. */
function pattern(length: number, seed: number): Uint8Array {
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
function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) |
    bytes[at + 3]!) >>> 0;
}

/** Concatenates any number of byte arrays (no spread: there may be many). */
function join(parts: readonly Uint8Array[]): Uint8Array {
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

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * How a test source serves its bytes: through `readSync` ("sync"), through
 * `read` only ("async": the source has no readSync), or through `read` with a
 * readSync the reader is told not to use ("sync-off"). Each read gives at most
 * `max` bytes (a random size from 1 to `max`, or all it can if `max` is
 * Infinity).
 */
interface Feed {
  kind: "sync" | "async" | "sync-off";
  max: number;
  seed?: number;
}

/** A source of bytes held in memory, counting its calls. */
class MemorySource implements FrameSource {
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
class SyncMemorySource extends MemorySource {
  readSync(buffer: Uint8Array): number | null {
    this.syncReads++;
    return this.take(buffer);
  }
}

/**
 * A source for `feed`; the reader options it implies. Read sizes are kept
 * to at most ~1,000 reads per input, so that large inputs stay fast.
 */
function feedSource(
  bytes: Uint8Array,
  feed: Feed,
): { source: MemorySource; options: FrameReaderOptions } {
  const max = Math.max(feed.max, Math.ceil(bytes.length / 1000));
  const seed = feed.seed ?? bytes.length;
  if (feed.kind === "async") {
    return { source: new MemorySource(bytes, max, seed), options: {} };
  }
  return {
    source: new SyncMemorySource(bytes, max, seed),
    options: feed.kind === "sync-off" ? { readSync: false } : {},
  };
}

type How = "forEachFrame" | "forEachRun" | "batches" | "iterator";
const HOWS: readonly How[] = [
  "forEachFrame",
  "forEachRun",
  "batches",
  "iterator",
];

/** The counters a FrameReaderSummary shares with a FrameDecoder. */
interface Counts {
  dataFrames: number;
  controlFrames: number;
  skippedFrames: number;
  oversizedFrames: number;
  contentType: Uint8Array | null;
  started: boolean;
  stopped: boolean;
}

function summaryCounts(s: FrameReaderSummary): Counts {
  return {
    dataFrames: s.dataFrames,
    controlFrames: s.controlFrames,
    skippedFrames: s.skippedFrames,
    oversizedFrames: s.oversizedFrames,
    contentType: s.contentType,
    started: s.started,
    stopped: s.stopped,
  };
}

/** What FrameDecoder makes of `bytes`. */
interface Expected {
  frames: Frame[];
  payloads: Uint8Array[];
  error: unknown;
  counts: Counts;
  payloadBytes: number;
}

/** Decodes `bytes` with FrameDecoder (TS engine), under the reader's policies. */
function decoderOutcome(
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
      dataFrames: decoder.dataFrames,
      controlFrames: decoder.controlFrames,
      skippedFrames: decoder.skippedFrames,
      oversizedFrames: decoder.oversizedFrames,
      contentType: decoder.contentType,
      started: decoder.started,
      stopped: decoder.stopped,
    },
    payloadBytes: payloads.reduce((n, p) => n + p.length, 0),
  };
}

const outcomes = new WeakMap<Uint8Array, Map<string, Expected>>();

/** decoderOutcome, remembered per input and policy. */
function expectedOutcome(
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
function own(frame: Frame): Frame {
  return frame.kind === "data" ? { ...frame, data: frame.data.slice() } : frame;
}

/** What a FrameReader gave. */
interface Got {
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
async function readerOutcome(
  bytes: Uint8Array,
  options: FrameReaderOptions,
  how: How,
  feed: Feed,
): Promise<Got> {
  const { source, options: feedOptions } = feedSource(bytes, feed);
  const reader = new FrameReader(source, { ...options, ...feedOptions });
  if (options.engine === "ts" || options.engine === "wasm") {
    // Never a silent fallback.
    assert.equal(reader.engine, options.engine, "the engine asked for");
  }
  // Views of the window (copyPayloads: false) are copied as they arrive;
  // copies are kept as they are, to prove they stay valid.
  const keep = options.copyPayloads === false ? own : (f: Frame) => f;
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
function sameFrame(a: Frame, b: Frame): boolean {
  if (a.kind !== b.kind || a.offset !== b.offset) return false;
  if (a.kind === "data") return bytesEqual(a.data, (b as typeof a).data);
  const c = b as typeof a;
  return a.type === c.type &&
    a.contentTypes.length === c.contentTypes.length &&
    a.contentTypes.every((t, i) => bytesEqual(t, c.contentTypes[i]!));
}

/** A frame in a few words, for a failure message (payloads can be large). */
function describeFrame(f: Frame | undefined): string {
  if (f === undefined) return "no frame";
  if (f.kind === "control") {
    return `control frame type ${f.type} at ${f.offset} with ${f.contentTypes.length} content type(s)`;
  }
  return `data frame at ${f.offset}, ${f.data.length} bytes [${[
    ...f.data.subarray(0, 8),
  ]}${f.data.length > 8 ? ", …" : ""}]`;
}

/** Where two byte strings first differ, for a failure message. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `lengths ${a.length} and ${b.length}, first difference at byte ${i} (${
    a[i]
  } vs ${b[i]})`;
}

/** Asserts equal frame lists, naming the first difference. */
function assertSameFrames(
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
function assertSamePayloads(
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
function errorRecord(e: unknown): Record<string, unknown> | null {
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
async function assertParity(
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
    summary.payloadBytes,
    expected.payloadBytes,
    `${what}: payloadBytes`,
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

/** Read patterns for short inputs: whole, byte by byte, small random pieces. */
const SHORT_FEEDS: readonly Feed[] = [
  { kind: "sync", max: Infinity },
  { kind: "async", max: 1 },
  { kind: "sync-off", max: 7, seed: 1 },
  { kind: "async", max: 13, seed: 2 },
];

/** Read patterns for large inputs: whole, and random pieces up to 4 KiB. */
const LARGE_FEEDS: readonly Feed[] = [
  { kind: "sync", max: Infinity },
  { kind: "async", max: Infinity },
  { kind: "sync", max: 4096, seed: 3 },
  { kind: "async", max: 4096, seed: 4 },
];

/** Runs a reader to its end, returning its error (or null). */
async function drain(reader: FrameReader): Promise<unknown> {
  try {
    await reader.forEachFrame(() => {});
    return null;
  } catch (e) {
    return e;
  }
}

/** A data frame of `length` pattern bytes. */
function dataFrame(length: number, seed: number): Uint8Array {
  return encodeDataFrame(pattern(length, seed));
}

// ---------------------------------------------------------------------------
// Engines

Deno.test("FrameReader engine auto resolves to a real engine", () => {
  const empty: FrameSource = { read: () => Promise.resolve(null) };
  const want = isWasmAvailable() ? "wasm" : "ts";
  assert.equal(new FrameReader(empty).engine, want);
  assert.equal(new FrameReader(empty, { engine: "auto" }).engine, want);
  assert.equal(new FrameReader(empty, { engine: "auto" }).summary.engine, want);
  // WebAssembly loads here: the bulk path must take it.
  assert.ok(isWasmAvailable(), "WebAssembly loads in Deno");
  assert.equal(want, "wasm");
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] runs the engine it was asked for`, async () => {
    const bytes = encodeFrameStream(["a", "bb"], { contentType: "t" });
    const reader = new FrameReader(
      new SyncMemorySource(bytes, Infinity, 0),
      { engine },
    );
    assert.equal(reader.engine, engine);
    const summary = await reader.forEachFrame(() => {});
    assert.equal(summary.engine, engine);
    assert.equal(summary.dataFrames, 2);
    assert.equal(summary.payloadBytes, 3);
    assert.equal(summary.controlFrames, 2);
    assert.equal(summary.bytesRead, bytes.length);
    assert.ok(summary.started && summary.stopped);
    assert.deepEqual(summary.contentType, new TextEncoder().encode("t"));
  });
}

// ---------------------------------------------------------------------------
// Parity on the violation table: START + "hello" + a tail.

/** A tail after START + "hello" (51 bytes), and what it must give. */
interface Case {
  name: string;
  tail: Uint8Array;
  options?: Pick<FrameReaderOptions, "maxFrameLength" | "oversize" | "strict">;
  /** Frames delivered, START and "hello" included. */
  frames: number;
  /** The error's class name and fields, or null for none. */
  error: Record<string, unknown> | null;
  skipped?: number;
  oversized?: number;
  stopped?: boolean;
}

const AT = 51; // offset of the frame after START (42) and HELLO (9)

const cases: Case[] = [
  // clen 3: too short to hold a control type.
  {
    name: "control length 3",
    tail: hex("00000000 00000003 000000"),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // clen 0.
  {
    name: "control length 0",
    tail: hex("00000000 00000000"),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // clen 513: rejected from its header, before its payload arrives.
  {
    name: "control length 513",
    tail: hex("00000000 00000201 00000004"),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // READY with 4 stray bytes after its type: a field header needs 8.
  {
    name: "truncated field header",
    tail: hex("00000000 00000008 00000004 00000001"),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "field-header",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A field announcing 6 bytes where 5 remain.
  {
    name: "field running past the frame",
    tail: hex(`00000000 00000011 00000004 00000001 00000006 "abcde"`),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "field-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // Field type 2 is not defined.
  {
    name: "unknown field type",
    tail: hex(`00000000 0000000d 00000004 00000002 00000001 "a"`),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "field-type",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A 257-byte content type.
  {
    name: "content type of 257 bytes",
    tail: concat(
      hex("00000000 0000010d 00000004 00000001 00000101"),
      new Uint8Array(257),
    ),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "content-type-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // START with two content types: the second field is the offence.
  {
    name: "START with two content types",
    tail: hex(
      `00000000 00000016 00000002 00000001 00000001 "a" 00000001 00000001 "b"`,
    ),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 21,
    },
  },
  // STOP with a field.
  {
    name: "STOP with a content type",
    tail: hex(`00000000 0000000d 00000003 00000001 00000001 "a"`),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // FINISH with a field.
  {
    name: "FINISH with a content type",
    tail: hex(`00000000 0000000d 00000005 00000001 00000001 "a"`),
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A data frame one byte over the limit, rejected from its length word.
  {
    name: "data frame over maxFrameLength",
    tail: concat(hex("00000011"), new Uint8Array(17)),
    options: { maxFrameLength: 16 },
    frames: 2,
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 17,
      maxFrameLength: 16,
    },
  },
  // A length near 2^32.
  {
    name: "length 2^32 - 1",
    tail: hex("ffffffff 00"),
    frames: 2,
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 0xffffffff,
      maxFrameLength: 1048576,
    },
  },
  // The same frame over the limit, skipped and counted; the next one comes.
  {
    name: "data frame over maxFrameLength, skipped",
    tail: concat(hex("00000011"), new Uint8Array(17), HELLO, STOP),
    options: { maxFrameLength: 16, oversize: "skip" },
    frames: 4,
    error: null,
    oversized: 1,
    stopped: true,
  },
  // Input ends inside a frame being skipped.
  {
    name: "end inside a skipped frame",
    tail: concat(hex("00000011"), new Uint8Array(5)),
    options: { maxFrameLength: 16, oversize: "skip" },
    frames: 2,
    oversized: 1,
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 9,
      expected: 21,
    },
  },
  // Input ends inside a data frame's payload.
  {
    name: "end inside a payload",
    tail: hex("0000000a 0102"),
    frames: 2,
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 6,
      expected: 14,
    },
  },
  // Input ends inside a length word.
  {
    name: "end inside a length word",
    tail: hex("0000"),
    frames: 2,
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 2,
      expected: null,
    },
  },
  // Input ends inside a control frame's length.
  {
    name: "end inside a control header",
    tail: hex("00000000 0000"),
    frames: 2,
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 6,
      expected: null,
    },
  },
  // Input ends inside a control frame.
  {
    name: "end inside a control frame",
    tail: hex("00000000 00000004 00"),
    frames: 2,
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 9,
      expected: 12,
    },
  },
  // An unknown control type: skipped and counted.
  {
    name: "unknown control type, skipped",
    tail: concat(UNKNOWN, HELLO, STOP),
    frames: 4,
    error: null,
    skipped: 1,
    stopped: true,
  },
  // READY, ACCEPT, START, FINISH inside a stream, STOP outside: skipped.
  {
    name: "control frames out of place, skipped",
    tail: concat(READY, ACCEPT, START, FINISH, HELLO, STOP, STOP),
    frames: 4,
    error: null,
    skipped: 5,
    stopped: true,
  },
  // End at a frame boundary without STOP: no error unless strict.
  {
    name: "no STOP",
    tail: HELLO,
    frames: 3,
    error: null,
    stopped: false,
  },
  // Strict: an unknown control type.
  {
    name: "strict: unknown control type",
    tail: hex("00000000 00000004 00000009"),
    options: { strict: true },
    frames: 2,
    error: {
      name: "ControlFrameError",
      reason: "unknown-type",
      offset: AT,
      errorOffset: AT + 8,
    },
  },
  // Strict: READY inside a stream.
  {
    name: "strict: READY inside a stream",
    tail: READY,
    options: { strict: true },
    frames: 2,
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 4 },
  },
  // Strict: a second START.
  {
    name: "strict: START inside a stream",
    tail: START,
    options: { strict: true },
    frames: 2,
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 2 },
  },
  // Strict: a data frame after STOP.
  {
    name: "strict: data after STOP",
    tail: concat(STOP, HELLO),
    options: { strict: true },
    frames: 3,
    error: { name: "UnexpectedFrameError", offset: AT + 12, frameType: 0 },
  },
  // Strict: end of input without STOP.
  {
    name: "strict: no STOP",
    tail: encodeDataFrame("x"),
    options: { strict: true },
    frames: 3,
    error: {
      name: "TruncatedFrameError",
      reason: "missing-stop",
      offset: AT + 5,
    },
  },
];

/**
 * `prefix` + filler data frames (no START) so that the next byte falls
 * `before` bytes before the end of the first 64 KiB window.
 */
function padTo(prefix: Uint8Array, before: number): Uint8Array {
  const gap = MIN_WINDOW - before - prefix.length;
  // One filler of `gap - 20` bytes and one of 20, so that a frame ends there.
  return concat(prefix, dataFrame(gap - 24, 1), dataFrame(16, 2));
}

for (const engine of ["ts", "wasm"] as const) {
  for (const c of cases) {
    Deno.test(`FrameReader [${engine}] matches FrameDecoder on ${c.name}`, async () => {
      const bytes = concat(START, HELLO, c.tail);
      const options: FrameReaderOptions = { ...c.options, engine };
      for (const how of HOWS) {
        for (const feed of SHORT_FEEDS) {
          const expected = await assertParity(bytes, options, how, feed);
          // The decoder gives what the table says.
          assert.equal(expected.frames.length, c.frames, "frames");
          assert.equal(expected.counts.skippedFrames, c.skipped ?? 0);
          assert.equal(expected.counts.oversizedFrames, c.oversized ?? 0);
          if (c.stopped !== undefined) {
            assert.equal(expected.counts.stopped, c.stopped);
          }
          if (c.error === null) {
            assert.equal(expected.error, null);
          } else {
            const record = errorRecord(expected.error)!;
            for (const [key, value] of Object.entries(c.error)) {
              assert.deepEqual(record[key], value, `error.${key}`);
            }
          }
        }
      }
      // Payloads as views of the window (copyPayloads: false), copied as
      // they come.
      for (const how of ["batches", "iterator"] as const) {
        for (const feed of [SHORT_FEEDS[0]!, SHORT_FEEDS[1]!]) {
          await assertParity(
            bytes,
            { ...options, copyPayloads: false },
            how,
            feed,
          );
        }
      }
      // The same tail astride the first window boundary, at every offset of
      // its first 12 bytes: the start of the bad frame 1..12 bytes before it.
      for (let before = 1; before <= 12; before++) {
        const padded = concat(padTo(concat(START, HELLO), before), c.tail);
        for (const how of HOWS) {
          await assertParity(
            padded,
            options,
            how,
            { kind: "sync", max: Infinity },
            `${before} bytes before the boundary: `,
          );
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Errors before any frame, empty input, missing STOP.

/** Inputs that fail at byte 0, and what they must give. */
const firstFrameErrors: {
  name: string;
  bytes: Uint8Array;
  strict?: boolean;
  error: Record<string, unknown>;
}[] = [
  // A TLS ClientHello on a plain port.
  {
    name: "TLS",
    bytes: hex("16030100 f8010000 f40303"),
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // A control frame with clen 1.
  {
    name: "bad control frame",
    bytes: hex("00000000 00000001"),
    error: { name: "ControlFrameError", reason: "length", offset: 0 },
  },
  // Strict: a data frame before START.
  {
    name: "data before START, strict",
    bytes: concat(HELLO, START, STOP),
    strict: true,
    error: { name: "UnexpectedFrameError", offset: 0, frameType: 0 },
  },
  // Two bytes of a length word.
  {
    name: "two bytes",
    bytes: hex("0000"),
    error: {
      name: "TruncatedFrameError",
      offset: 0,
      received: 2,
      expected: null,
    },
  },
  // Half of START.
  {
    name: "half a START frame",
    bytes: START.subarray(0, 21),
    error: {
      name: "TruncatedFrameError",
      offset: 0,
      received: 21,
      expected: 42,
    },
  },
];

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] reports an error before any frame`, async () => {
    for (const c of firstFrameErrors) {
      for (const how of HOWS) {
        for (const feed of SHORT_FEEDS) {
          const expected = await assertParity(
            c.bytes,
            { engine, strict: c.strict ?? false },
            how,
            feed,
            `${c.name}: `,
          );
          assert.equal(expected.frames.length, 0);
          const record = errorRecord(expected.error)!;
          for (const [key, value] of Object.entries(c.error)) {
            assert.deepEqual(record[key], value, `${c.name}: error.${key}`);
          }
        }
      }
    }
    // The TLS hint reaches the reader's message too.
    const tls = new FrameReader(
      new MemorySource(firstFrameErrors[0]!.bytes, Infinity, 0),
      { engine },
    );
    const error = await drain(tls);
    assert.ok(error instanceof NotFrameStreamsError);
    assert.match(error.message, /TLS/);
    const s = tls.summary;
    assert.deepEqual(
      [s.dataFrames, s.controlFrames, s.payloadBytes, s.started, s.stopped],
      [0, 0, 0, false, false],
    );
  });

  Deno.test(`FrameReader [${engine}] reads an empty source: no frames, no STOP, no error unless strict`, async () => {
    for (const feed of SHORT_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(
          new Uint8Array(0),
          { engine },
          how,
          feed,
        );
        assert.equal(expected.error, null);
      }
      const { source, options } = feedSource(new Uint8Array(0), feed);
      const reader = new FrameReader(source, { ...options, engine });
      const summary = await reader.forEachFrame(() => {
        throw new Error("no frame expected");
      });
      assert.deepEqual(summary, {
        engine,
        contentType: null,
        started: false,
        stopped: false,
        dataFrames: 0,
        payloadBytes: 0,
        controlFrames: 0,
        skippedFrames: 0,
        oversizedFrames: 0,
        bytesRead: 0,
      });
      // Strict: a stream must end with STOP.
      const strict = new FrameReader(
        feedSource(new Uint8Array(0), feed).source,
        { ...options, engine, strict: true },
      );
      const error = await drain(strict);
      assert.ok(error instanceof TruncatedFrameError);
      assert.equal(error.reason, "missing-stop");
      assert.equal(error.offset, 0);
      assert.equal(strict.summary.stopped, false);
    }
  });

  Deno.test(`FrameReader [${engine}] reports a missing STOP in the summary, an error only if strict`, async () => {
    const bytes = concat(START, HELLO);
    const reader = new FrameReader(new MemorySource(bytes, 5, 1), { engine });
    const summary = await reader.forEachFrame(() => {});
    assert.equal(summary.stopped, false);
    assert.equal(summary.started, true);
    assert.equal(summary.dataFrames, 1);
    assert.deepEqual(summary.contentType, DNSTAP);
    const strict = new FrameReader(new MemorySource(bytes, 5, 1), {
      engine,
      strict: true,
    });
    const error = await drain(strict);
    assert.ok(error instanceof TruncatedFrameError);
    assert.equal(error.reason, "missing-stop");
    assert.equal(error.offset, bytes.length);
    assert.equal(strict.summary.dataFrames, 1);
  });
}

// ---------------------------------------------------------------------------
// Arguments and single use.

Deno.test("FrameReader checks its arguments", async () => {
  const empty: FrameSource = { read: () => Promise.resolve(null) };
  const bad: {
    source?: unknown;
    options?: Record<string, unknown>;
    error: ErrorConstructor;
  }[] = [
    // Not a source.
    { source: {}, error: TypeError },
    { source: null, error: TypeError },
    { source: { read: 1 }, error: TypeError },
    // Windows under 64 KiB or over 1 GiB, or not integers.
    { options: { windowSize: 1000 }, error: RangeError },
    { options: { windowSize: 65_535 }, error: RangeError },
    { options: { windowSize: 2 ** 30 + 1 }, error: RangeError },
    { options: { windowSize: 65_536.5 }, error: TypeError },
    // Limits out of 1..2^32 - 1, or not integers.
    { options: { maxFrameLength: 0 }, error: RangeError },
    { options: { maxFrameLength: 2 ** 32 }, error: RangeError },
    { options: { maxFrameLength: 1.5 }, error: TypeError },
    // Unknown policy, unknown engine.
    { options: { oversize: "drop" }, error: TypeError },
    { options: { engine: "gpu" }, error: TypeError },
  ];
  for (const { source = empty, options = {}, error } of bad) {
    const make = () =>
      new FrameReader(source as FrameSource, options as FrameReaderOptions);
    const what = JSON.stringify({ source, options });
    assert.throws(make, error, what);
    assert.throws(make, /^\w*Error: Cannot create FrameReader/, what);
  }
  // The extremes are accepted.
  assert.equal(
    new FrameReader(empty, { windowSize: MIN_WINDOW, engine: "wasm" }).engine,
    "wasm",
  );
  new FrameReader(empty, { maxFrameLength: 1 });
  new FrameReader(empty, { maxFrameLength: 0xffff_ffff });
  // A callback that is not a function is refused before the reader is used.
  const reader = new FrameReader(
    new MemorySource(encodeFrameStream(["a"]), Infinity, 0),
  );
  await assert.rejects(
    reader.forEachFrame("nope" as unknown as () => void),
    TypeError,
  );
  await assert.rejects(
    reader.forEachFrame(undefined as unknown as () => void),
    TypeError,
  );
  await assert.rejects(
    reader.forEachRun(42 as unknown as () => void),
    TypeError,
  );
  assert.equal((await reader.forEachFrame(() => {})).dataFrames, 1);
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] refuses to be read twice`, async () => {
    const bytes = encodeFrameStream(["a", "b"]);
    const make = () =>
      new FrameReader(new MemorySource(bytes, Infinity, 0), { engine });
    const takers: [string, (r: FrameReader) => Promise<unknown>][] = [
      ["forEachFrame", (r) => r.forEachFrame(() => {})],
      ["forEachRun", (r) => r.forEachRun(() => {})],
      ["batches", async (r) => {
        for await (const _ of r.batches());
      }],
      ["iterator", async (r) => {
        for await (const _ of r);
      }],
    ];
    for (const [first, takeFirst] of takers) {
      for (const [second, takeSecond] of takers) {
        const reader = make();
        await takeFirst(reader);
        await assert.rejects(
          () => takeSecond(reader),
          (e) => e instanceof TypeError && /already read/.test(e.message),
          `${first} then ${second}`,
        );
        assert.equal(reader.summary.dataFrames, 2, `${first} then ${second}`);
      }
    }
    // Also while the first is under way.
    const reader = make();
    const it = reader[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await assert.rejects(reader.forEachFrame(() => {}), TypeError);
    let rest = 1;
    while (!(await it.next()).done) rest++;
    assert.equal(rest, 4);
    // And after an error.
    const failed = new FrameReader(new MemorySource(hex("0000"), 1, 0), {
      engine,
    });
    assert.ok(await drain(failed) instanceof TruncatedFrameError);
    await assert.rejects(failed.forEachFrame(() => {}), TypeError);
  });
}

// ---------------------------------------------------------------------------
// The read paths.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] uses readSync when the source has it, unless readSync is false`, async () => {
    // Frames larger than the window too: they are read on their own path.
    const bytes = encodeFrameStream(
      [pattern(100, 1), pattern(200_000, 2), pattern(5, 3)],
    );
    const options = { engine, windowSize: MIN_WINDOW };
    const sync = new SyncMemorySource(bytes, 10_000, 1);
    assert.equal(
      (await new FrameReader(sync, options).forEachFrame(() => {}))
        .bytesRead,
      bytes.length,
    );
    assert.equal(sync.asyncReads, 0);
    assert.ok(sync.syncReads > 20);
    const off = new SyncMemorySource(bytes, 10_000, 1);
    await new FrameReader(off, { ...options, readSync: false }).forEachFrame(
      () => {},
    );
    assert.equal(off.syncReads, 0);
    assert.ok(off.asyncReads > 20);
    // readSync: true on a source without readSync: read() it is.
    const plainSource = new MemorySource(bytes, 10_000, 1);
    await new FrameReader(plainSource, { ...options, readSync: true })
      .forEachFrame(() => {});
    assert.ok(plainSource.asyncReads > 20);
  });
}

// ---------------------------------------------------------------------------
// Windows: frames astride boundaries, larger than the window, skipped.

/**
 * A stream built so that the window boundaries of a 64 KiB window read with
 * full reads fall at chosen places: `s` bytes into each target frame, for
 * every `s` of interest (inside a data frame's length word and payload,
 * inside a control frame's escape, length, type, field header and content
 * type). Between targets: thousands of filler frames of random sizes
 * (some windows hold more than the 4,096 frames one scan takes), unknown
 * control frames among them.
 *
 * How the reader moves its window with full reads: the window holds
 * [b, b + W); when the frame at t is cut by b + W, the next window is
 * [t, t + W); when a frame ends exactly at b + W, the next is [b + W, …).
 */
function straddleStream(seed: number): {
  bytes: Uint8Array;
  straddles: string[];
} {
  const W = MIN_WINDOW;
  const r = rng(seed);
  const parts: Uint8Array[] = [START];
  let pos = START.length;
  let base = 0;
  const straddles: string[] = [];
  const push = (frame: Uint8Array) => {
    parts.push(frame);
    pos += frame.length;
  };
  const targets: { name: string; frame: Uint8Array; s: number }[] = [];
  // Data frames: astride the length word, the first payload byte, the
  // middle, the last byte; and a boundary exactly at a frame's start.
  for (const length of [1, 10, 300, 5_000]) {
    const frame = dataFrame(length, length);
    for (const s of [0, 1, 2, 3, 4, 5, 4 + (length >> 1), frame.length - 1]) {
      if (s < frame.length) targets.push({ name: "data", frame, s });
    }
  }
  // STOP then START (the stream goes on), astride every byte of STOP and
  // many of START; and an unknown control frame (skipped).
  for (let s = 1; s < STOP.length; s++) {
    targets.push({ name: "stop", frame: STOP, s });
    targets.push({ name: "start", frame: START, s: Math.min(41, s * 3) });
  }
  for (let s = 1; s < UNKNOWN.length; s++) {
    targets.push({ name: "unknown", frame: UNKNOWN, s });
  }
  targets.forEach((target, i) => {
    // Filler up to a little before the point, of tiny frames in every
    // fourth window (more frames than a scan's table), random ones elsewhere.
    const tiny = i % 4 === 0;
    while (base + W - target.s - pos > 400) {
      if (!tiny && r() % 50 === 0) push(UNKNOWN);
      else push(dataFrame(tiny ? 1 + (r() % 8) : 1 + (r() % 300), r()));
    }
    // One filler frame to the exact byte.
    const gap = base + W - target.s - pos;
    push(dataFrame(gap - 4, r()));
    const at = pos;
    push(target.frame);
    straddles.push(`${target.name}@${target.s}`);
    base = target.s === 0 ? base + W : at;
  });
  push(HELLO);
  push(STOP);
  return { bytes: join(parts), straddles };
}

/**
 * Where full-read windows of W bytes cut the frames of a well-formed
 * `bytes`: "kind@s" for each boundary, s bytes into the frame it falls in.
 */
function cutsOf(bytes: Uint8Array, W: number): string[] {
  // The frames, walked by hand: start and kind of each.
  const starts: number[] = [];
  const names: string[] = [];
  for (let at = 0; at < bytes.length;) {
    const len = u32(bytes, at);
    starts.push(at);
    if (len !== 0) {
      names.push("data");
      at += 4 + len;
    } else {
      const type = u32(bytes, at + 8);
      names.push(type === 2 ? "start" : type === 3 ? "stop" : "unknown");
      at += 8 + u32(bytes, at + 4);
    }
  }
  const cuts: string[] = [];
  let base = 0;
  let i = 0;
  while (base + W < bytes.length) {
    const boundary = base + W;
    while (i + 1 < starts.length && starts[i + 1]! <= boundary) i++;
    const s = boundary - starts[i]!;
    cuts.push(`${names[i]}@${s}`);
    base = s === 0 ? boundary : starts[i]!;
  }
  return cuts;
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] delivers frames astride every window boundary position`, async () => {
    const { bytes, straddles } = straddleStream(7);
    // The stream does cut its frames where it says.
    assert.deepEqual(cutsOf(bytes, MIN_WINDOW), straddles);
    const options = { engine, windowSize: MIN_WINDOW };
    // Full reads, each way of taking the frames, both read paths.
    const runs: [How, Feed][] = [
      ["forEachFrame", LARGE_FEEDS[0]!],
      ["forEachRun", LARGE_FEEDS[0]!],
      ["forEachRun", LARGE_FEEDS[2]!],
      ["batches", LARGE_FEEDS[0]!],
      ["iterator", LARGE_FEEDS[1]!],
      // Random reads move the boundaries elsewhere: still the same frames.
      ["batches", LARGE_FEEDS[3]!],
    ];
    for (const [how, feed] of runs) {
      const expected = await assertParity(bytes, options, how, feed);
      assert.equal(expected.error, null);
      assert.ok(expected.counts.dataFrames > 20_000);
      assert.ok(expected.counts.skippedFrames >= 15);
    }
  });
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] delivers frames larger than the window whole, at their offsets`, async () => {
    const lengths = [
      100,
      65_531,
      65_532, // frame of exactly the window: the last that fits it
      7,
      65_533, // the first frame larger than the window
      65_534,
      65_535,
      65_536,
      65_537,
      100_000,
      3,
      200_000,
      300_000,
      50,
      300_000,
    ];
    const payloads = lengths.map((n, i) => pattern(n, i));
    const bytes = encodeFrameStream(payloads, { contentType: "big" });
    // The expected offsets, by hand: START is 8 + 4 + 8 + 3 bytes.
    const offsets: number[] = [];
    let at = 23;
    for (const n of lengths) {
      offsets.push(at);
      at += 4 + n;
    }
    const options = {
      engine,
      windowSize: MIN_WINDOW,
      maxFrameLength: 1 << 20,
    };
    for (const feed of LARGE_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(bytes, options, how, feed);
        assert.equal(expected.error, null);
        assert.deepEqual(
          expected.frames.flatMap((f) => f.kind === "data" ? [f.offset] : []),
          offsets,
        );
      }
    }
    // Also with a window that several of them still overflow.
    for (const how of HOWS) {
      await assertParity(
        bytes,
        { ...options, windowSize: 131_072 },
        how,
        LARGE_FEEDS[3]!,
      );
    }
    // Input cut inside a large frame: every frame before it, then the error
    // at the frame's offset.
    for (const index of [4, 12]) {
      const offset = offsets[index]!;
      const need = 4 + lengths[index]!;
      for (const into of [2, 4, 5, 1000, MIN_WINDOW, need - 1]) {
        const cut = bytes.subarray(0, offset + into);
        for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
          for (const how of HOWS) {
            const expected = await assertParity(cut, options, how, feed);
            const error = expected.error;
            assert.ok(error instanceof TruncatedFrameError);
            assert.equal(error.offset, offset);
            assert.equal(error.received, into);
            assert.equal(error.expected, into < 4 ? null : need);
            assert.equal(expected.counts.dataFrames, index);
          }
        }
      }
    }
    // Strict: a large data frame after STOP is out of place, reported at
    // its offset once read.
    const late = concat(bytes, dataFrame(100_000, 5));
    for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
      for (const how of HOWS) {
        const expected = await assertParity(
          late,
          { ...options, strict: true },
          how,
          feed,
        );
        const error = expected.error;
        assert.ok(error instanceof UnexpectedFrameError);
        assert.equal(error.offset, bytes.length);
        assert.equal(error.frameType, 0);
        assert.equal(expected.counts.dataFrames, lengths.length);
      }
    }
  });

  Deno.test(`FrameReader [${engine}] skips an oversized frame across several windows`, async () => {
    const huge = 1 << 20;
    const small = Array.from({ length: 200 }, (_, i) => dataFrame(1 + i, i));
    const bytes = join([
      START,
      HELLO,
      dataFrame(huge, 9),
      HELLO,
      ...small,
      STOP,
    ]);
    const options: FrameReaderOptions = {
      engine,
      windowSize: MIN_WINDOW,
      maxFrameLength: 1000,
      oversize: "skip",
    };
    const after = AT + 4 + huge; // the frame after the skipped one
    for (const feed of LARGE_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(bytes, options, how, feed);
        assert.equal(expected.error, null);
        assert.equal(expected.counts.oversizedFrames, 1);
        assert.equal(expected.counts.dataFrames, 202);
        const offsets = expected.frames.map((f) => f.offset);
        assert.deepEqual(offsets.slice(0, 4), [0, 42, after, after + 9]);
        assert.equal(offsets.at(-1), bytes.length - 12);
      }
    }
    // Input cut inside the skipped frame.
    for (const into of [4, 100, MIN_WINDOW, 500_000, 4 + huge - 1]) {
      const cut = bytes.subarray(0, AT + into);
      for (const feed of [LARGE_FEEDS[0]!, LARGE_FEEDS[3]!]) {
        for (const how of HOWS) {
          const expected = await assertParity(cut, options, how, feed);
          const error = expected.error;
          assert.ok(error instanceof TruncatedFrameError, String(error));
          assert.equal(error.offset, AT);
          assert.equal(error.received, into);
          assert.equal(error.expected, 4 + huge);
          assert.equal(expected.counts.oversizedFrames, 1);
        }
      }
    }
    // Without skip: an error at its length word, before reading it.
    const { source } = feedSource(bytes, LARGE_FEEDS[0]!);
    const reader = new FrameReader(source, { ...options, oversize: "error" });
    const error = await drain(reader);
    assert.ok(error instanceof FrameTooLargeError);
    assert.equal(error.offset, AT);
    assert.equal(error.length, huge);
    assert.equal(error.maxFrameLength, 1000);
    assert.equal(reader.summary.dataFrames, 1);
  });
}

// ---------------------------------------------------------------------------
// batches(), the iterator, forEachFrame.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] batches yield the frames before a mid-window error, then throw`, async () => {
    // One window: START, 5,000 frames (more than one scan's table), a bad
    // control frame, more frames that must never come.
    const frames = Array.from({ length: 5_000 }, (_, i) => dataFrame(3, i));
    const bad = hex("00000000 00000002");
    const bytes = join([START, ...frames, bad, HELLO, STOP]);
    const badOffset = 42 + 5_000 * 7;
    for (const copyPayloads of [true, false]) {
      const reader = new FrameReader(
        new SyncMemorySource(bytes, Infinity, 0),
        { engine, copyPayloads },
      );
      const events: string[] = [];
      const kept: Frame[] = [];
      try {
        for await (const batch of reader.batches()) {
          events.push(`batch of ${batch.length}`);
          for (const f of batch) kept.push(copyPayloads ? f : own(f));
        }
      } catch (e) {
        assert.ok(e instanceof ControlFrameError);
        assert.equal(e.offset, badOffset);
        events.push("error");
      }
      assert.deepEqual(events, ["batch of 5001", "error"]);
      assert.equal(reader.summary.dataFrames, 5_000);
      assertSameFrames(
        kept,
        decodeFrames(bytes.subarray(0, badOffset)),
        `copyPayloads ${copyPayloads}`,
      );
    }
    // The iterator too: every frame, then the error.
    const reader = new FrameReader(new MemorySource(bytes, 1000, 1), {
      engine,
    });
    let count = 0;
    await assert.rejects(async () => {
      for await (const _ of reader) count++;
    }, ControlFrameError);
    assert.equal(count, 5_001);
  });

  Deno.test(`FrameReader [${engine}] batches and the iterator hand out copies, not views of the window`, async () => {
    // Several windows of frames, a large frame among them.
    const payloads = Array.from(
      { length: 3_000 },
      (_, i) => pattern(i === 1_500 ? 100_000 : 1 + (i * 37) % 400, i),
    );
    const bytes = encodeFrameStream(payloads, { contentType: "c" });
    const windowSize = MIN_WINDOW;
    for (const how of ["batches", "iterator"] as const) {
      const source = new SyncMemorySource(bytes.slice(), 5_000, 1);
      const reader = new FrameReader(source, { engine, windowSize });
      const kept: Frame[] = [];
      if (how === "batches") {
        for await (const batch of reader.batches()) kept.push(...batch);
      } else {
        for await (const f of reader) kept.push(f);
      }
      // The source's bytes change afterwards: the payloads do not.
      source.bytes.fill(0xee);
      const data = kept.flatMap((f) => f.kind === "data" ? [f] : []);
      assertSamePayloads(data.map((f) => f.data), payloads, how);
      for (const f of data) {
        // A copy of (part of) one window, or the large frame's own buffer;
        // WebAssembly memory is larger than a window plus 64 KiB.
        assert.ok(!(f.data.buffer instanceof SharedArrayBuffer));
        assert.ok(
          f.data.buffer.byteLength <= Math.max(windowSize, f.data.length + 4),
          `${how}: payload at ${f.offset} lives in a ${f.data.buffer.byteLength}-byte buffer`,
        );
      }
      // And their content types are copies too.
      const start = kept[0]!;
      assert.ok(start.kind === "control");
      assert.deepEqual(start.contentTypes, [new TextEncoder().encode("c")]);
      assert.equal(start.contentTypes[0]!.buffer.byteLength, 1);
    }
  });

  Deno.test(`FrameReader [${engine}] iterator stops reading when the loop breaks`, async () => {
    const bytes = encodeFrameStream(
      Array.from({ length: 20_000 }, (_, i) => pattern(10, i)),
    );
    const source = new MemorySource(bytes, 1000, 1);
    const reader = new FrameReader(source, { engine, windowSize: MIN_WINDOW });
    let n = 0;
    for await (const _ of reader) {
      if (++n === 10) break;
    }
    const reads = source.asyncReads;
    assert.ok(reads < 5, `${reads} reads`);
    await assert.rejects(reader.forEachFrame(() => {}), TypeError);
    assert.equal(source.asyncReads, reads);
  });

  Deno.test(`FrameReader [${engine}] forEachFrame stops at a callback that throws`, async () => {
    const payloads = [
      ...Array.from({ length: 30_000 }, (_, i) => pattern(1 + (i % 20), i)),
      pattern(100_000, 1),
      pattern(5, 2),
    ];
    const bytes = encodeFrameStream(payloads);
    // The throw in a frame inside a window, and in the frame larger than it.
    for (const at of [10, 20_000, 30_001]) {
      const source = new SyncMemorySource(bytes, Infinity, 0);
      const reader = new FrameReader(source, {
        engine,
        windowSize: MIN_WINDOW,
      });
      const failure = new Error("enough");
      let calls = 0;
      let reads = -1;
      await assert.rejects(
        reader.forEachFrame(() => {
          if (++calls === at) {
            reads = source.syncReads;
            throw failure;
          }
        }),
        (e) => e === failure,
      );
      assert.equal(calls, at);
      // Frames delivered up to then, the failing one included.
      assert.equal(reader.summary.dataFrames, at);
      // No read after the throw.
      assert.equal(source.syncReads, reads);
      await assert.rejects(reader.forEachFrame(() => {}), TypeError);
      assert.equal(source.syncReads, reads);
    }
  });

  // A regression test: an error thrown while a scan's frames are delivered
  // (the callback's, or a strict UnexpectedFrameError / unknown-type
  // ControlFrameError) once dropped the bytes of the frames that scan
  // delivered before it from payloadBytes, though dataFrames counted them.
  Deno.test({
    name:
      `FrameReader [${engine}] counts the payload bytes of frames delivered before an error`,
    fn: async () => {
      // Strict: a data frame after STOP, the frames before it in one scan.
      const bytes = concat(encodeFrameStream(["abc", "de"]), HELLO);
      const strict = new FrameReader(new MemorySource(bytes, Infinity, 0), {
        engine,
        strict: true,
      });
      assert.ok(await drain(strict) instanceof UnexpectedFrameError);
      assert.equal(strict.summary.dataFrames, 2);
      assert.equal(strict.summary.payloadBytes, 5);
      // A callback that throws at the third frame.
      const reader = new FrameReader(
        new MemorySource(
          encodeFrameStream(["aaa", "bb", "c", "dddd"]),
          Infinity,
          0,
        ),
        { engine },
      );
      let calls = 0;
      await assert.rejects(reader.forEachFrame(() => {
        if (++calls === 3) throw new Error("stop");
      }));
      assert.equal(reader.summary.dataFrames, 3);
      assert.equal(reader.summary.payloadBytes, 6);
    },
  });
}

// ---------------------------------------------------------------------------
// Files.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] reads a file opened with open() and closes it`, async () => {
    const payloads = Array.from(
      { length: 2_000 },
      (_, i) => pattern(1 + i % 500, i),
    );
    payloads.push(pattern(150_000, 1));
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    const path = await Deno.makeTempFile({ suffix: ".fstrm" });
    try {
      await Deno.writeFile(path, bytes);
      for (const readSync of [true, false]) {
        // The sanitizers fail the test if a file is left open.
        {
          await using reader = await openFrameReader(path, {
            engine,
            readSync,
            windowSize: MIN_WINDOW,
          });
          assert.equal(reader.engine, engine);
          const got: Uint8Array[] = [];
          const summary = await reader.forEachFrame((w, o, l) => {
            got.push(w.slice(o, o + l));
          });
          assertSamePayloads(got, payloads, `readSync ${readSync}`);
          assert.equal(summary.bytesRead, bytes.length);
          assert.ok(summary.stopped);
          assert.deepEqual(summary.contentType, DNSTAP);
        }
        // A URL, and the iterator.
        {
          await using reader = await openFrameReader(
            new URL(`file://${path}`),
            { engine, readSync },
          );
          const frames: Frame[] = [];
          for await (const f of reader) frames.push(f);
          assertSameFrames(frames, decodeFrames(bytes), "iterator");
          // close() twice is harmless (await using closes again).
          reader.close();
        }
      }
      // Leaving the loop early: await using still closes.
      {
        await using reader = await openFrameReader(path, { engine });
        for await (const f of reader) if (f.kind === "data") break;
      }
      // A truncated file: the error, and the file closed.
      await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100));
      {
        await using reader = await openFrameReader(path, { engine });
        const error = await drain(reader);
        assert.ok(error instanceof TruncatedFrameError);
        assert.equal(reader.summary.dataFrames, payloads.length - 1);
      }
      // Bad options: open() closes the file it opened before throwing.
      await assert.rejects(
        openFrameReader(path, { engine, windowSize: 1000 }),
        RangeError,
      );
      await assert.rejects(
        openFrameReader(`${path}.missing`),
        Deno.errors.NotFound,
      );
    } finally {
      await Deno.remove(path);
    }
  });

  Deno.test(`FrameReader [${engine}] does not close a source it did not open`, async () => {
    const bytes = encodeFrameStream(["one", "two"]);
    const path = await Deno.makeTempFile();
    try {
      await Deno.writeFile(path, bytes);
      using file = await Deno.open(path);
      {
        await using reader = new FrameReader(file, { engine });
        assert.equal((await reader.forEachFrame(() => {})).dataFrames, 2);
        reader.close();
      }
      // Still open: it can be read again from the start.
      await file.seek(0, Deno.SeekMode.Start);
      const again = new FrameReader(file, { engine, readSync: false });
      assert.equal((await again.forEachFrame(() => {})).dataFrames, 2);
    } finally {
      await Deno.remove(path);
    }
  });
}

// ---------------------------------------------------------------------------
// Property: FrameReader and FrameDecoder agree on random and mutated input.

/** A frame to encode: a data frame, or a control frame of any type. */
type Item =
  | { kind: "data"; length: number; seed: number }
  | { kind: "control"; type: number; contentTypes: Uint8Array[] };

const contentTypeArb = fc.uint8Array({ maxLength: 24 });
const lengthArb = fc.oneof(
  { weight: 40, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 5, arbitrary: fc.integer({ min: 301, max: 5_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 5_001, max: 140_000 }) },
);
const controlArb: fc.Arbitrary<Item> = fc.oneof(
  // START, with at most one content type.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constant(2),
    contentTypes: fc.array(contentTypeArb, { maxLength: 1 }),
  }),
  // STOP, FINISH.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(3, 5),
    contentTypes: fc.constant<Uint8Array[]>([]),
  }),
  // ACCEPT, READY.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(1, 4),
    contentTypes: fc.array(contentTypeArb, { maxLength: 3 }),
  }),
  // Unknown types.
  fc.record({
    kind: fc.constant("control" as const),
    type: fc.constantFrom(0, 6, 9, 0xffff_ffff),
    contentTypes: fc.array(contentTypeArb, { maxLength: 2 }),
  }),
);
const itemArb: fc.Arbitrary<Item> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant("data" as const),
      length: lengthArb,
      seed: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: controlArb },
);
/** Many small data frames in a row: windows full of frames, cut anywhere. */
const bulkArb = fc.record({
  at: fc.nat(),
  count: fc.integer({ min: 1, max: 4_000 }),
  maxLength: fc.constantFrom(8, 40, 120),
  seed: fc.nat(),
});
const streamArb = fc.record({
  start: fc.boolean(),
  contentType: fc.option(contentTypeArb, { nil: null }),
  items: fc.array(itemArb, { maxLength: 30 }),
  bulk: fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: bulkArb },
  ),
  stop: fc.boolean(),
});
/** Byte changes: at a frame's first 12 bytes (headers), or anywhere; a cut. */
const mutationArb = fc.record({
  flips: fc.array(
    fc.record({
      targeted: fc.boolean(),
      frame: fc.nat(),
      at: fc.nat(11),
      anywhere: fc.nat(),
      value: fc.nat(255),
    }),
    { maxLength: 3 },
  ),
  cut: fc.oneof(fc.constant(0), fc.nat(24), fc.nat()),
});
const inputArb = fc.tuple(
  streamArb,
  fc.option(mutationArb, { nil: null, freq: 2 }),
)
  .map(([stream, mutation]) => {
    const parts: Uint8Array[] = [];
    if (stream.start) {
      parts.push(
        encodeControlFrame(
          2,
          stream.contentType === null ? [] : [stream.contentType],
        ),
      );
    }
    const bulk = stream.bulk;
    const place = bulk === null ? -1 : bulk.at % (stream.items.length + 1);
    for (let i = 0; i <= stream.items.length; i++) {
      if (i === place) {
        const r = rng(bulk!.seed);
        for (let n = 0; n < bulk!.count; n++) {
          parts.push(dataFrame(1 + r() % bulk!.maxLength, n));
        }
      }
      const item = stream.items[i];
      if (item === undefined) break;
      parts.push(
        item.kind === "data"
          ? dataFrame(item.length, item.seed)
          : encodeControlFrame(item.type, item.contentTypes),
      );
    }
    if (stream.stop) parts.push(STOP);
    const starts: number[] = [];
    let at = 0;
    for (const p of parts) {
      starts.push(at);
      at += p.length;
    }
    let bytes = join(parts);
    if (mutation !== null && bytes.length > 0) {
      for (const flip of mutation.flips) {
        const pos = flip.targeted && starts.length > 0
          ? starts[flip.frame % starts.length]! + flip.at
          : flip.anywhere % bytes.length;
        if (pos < bytes.length) bytes[pos] = flip.value;
      }
      bytes = bytes.subarray(
        0,
        bytes.length - mutation.cut % (bytes.length + 1),
      );
    }
    return bytes;
  });
const optionsArb = fc.record({
  maxFrameLength: fc.constantFrom(100, 1_000, 65_536, 1 << 20),
  oversize: fc.constantFrom("error" as const, "skip" as const),
  strict: fc.boolean(),
  windowSize: fc.constantFrom(65_536, 65_537, 70_001, 131_072, 1 << 20),
  copyPayloads: fc.boolean(),
});
const feedArb: fc.Arbitrary<Feed> = fc.record({
  kind: fc.constantFrom("sync" as const, "async" as const, "sync-off" as const),
  max: fc.constantFrom(1, 2, 3, 5, 16, 100, 1_000, 4_096, Infinity),
  seed: fc.nat(),
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] gives what FrameDecoder gives on random and mutated streams, read in random pieces`, async () => {
    await fc.assert(
      fc.asyncProperty(
        inputArb,
        optionsArb,
        feedArb,
        fc.constantFrom(...HOWS),
        async (bytes, options, feed, how) => {
          await assertParity(bytes, { ...options, engine }, how, feed);
        },
      ),
      // A failure is shrunk for two minutes at most, then reported as it is.
      {
        numRuns: 2_000,
        interruptAfterTimeLimit: 120_000,
        markInterruptAsFailure: true,
      },
    );
  });
}

// ---------------------------------------------------------------------------
// Interop: files written by libfstrm (../shared/peers/src/fstrm-gen.c).

/** The C sources of the peer harness (../shared beside the repository). */
const PEERS_SRC = new URL("../../shared/peers/src/", import.meta.url);

/** fstrm-gen runs: the shapes of the peers' data set, fewer frames. */
const SHAPES = [
  { name: "small", seed: 2, frames: 5_000, min: 16, max: 16 },
  { name: "dnstap-like", seed: 1, frames: 3_000, min: 80, max: 400 },
  { name: "large", seed: 3, frames: 60, min: 262_144, max: 262_144 },
];

/** Runs a command that must succeed; its stdout. */
async function runOk(cmd: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, `${cmd} exited ${code}: ${text.decode(stderr)}`);
  return text.decode(stdout);
}

/** The peers' summary line: FNV-1a over each payload's first and last byte. */
class Checksum {
  frames = 0;
  bytes = 0;
  #h = 0x811c9dc5;

  add(first: number, last: number, length: number): void {
    this.frames++;
    this.bytes += length;
    this.#h = Math.imul(this.#h ^ first, 16777619) >>> 0;
    this.#h = Math.imul(this.#h ^ last, 16777619) >>> 0;
  }

  line(): string {
    return `frames=${this.frames} bytes=${this.bytes} check=0x${
      this.#h.toString(16).padStart(8, "0")
    }`;
  }
}

for (const engine of ["ts", "wasm"] as const) {
  interopTest(
    `FrameReader [${engine}] reads files written by libfstrm, checksum for checksum`,
    ["gcc", "/usr/include/fstrm.h"],
    async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "fstrm-reader-" });
      try {
        const gen = `${dir}/fstrm-gen`;
        const src = decodeURIComponent(
          new URL("fstrm-gen.c", PEERS_SRC).pathname,
        );
        await runOk("gcc", ["-O2", "-std=gnu11", "-o", gen, src, "-lfstrm"]);
        for (const shape of SHAPES) {
          await t.step(
            `${shape.name}: ${shape.frames} frames of ${shape.min}..${shape.max} bytes`,
            async () => {
              const path = `${dir}/${shape.name}.fstrm`;
              const expected = (await runOk(gen, [
                "-s",
                `${shape.seed}`,
                `${shape.frames}`,
                `${shape.min}`,
                `${shape.max}`,
                path,
              ])).trim();
              assert.match(
                expected,
                /^frames=\d+ bytes=\d+ check=0x[0-9a-f]{8}$/,
              );
              for (const windowSize of [MIN_WINDOW, 1 << 20]) {
                for (const readSync of [true, false]) {
                  const options = { engine, windowSize, readSync };
                  const what = `window ${windowSize}, readSync ${readSync}`;
                  // forEachFrame.
                  {
                    await using reader = await openFrameReader(path, options);
                    assert.equal(reader.engine, engine);
                    const sum = new Checksum();
                    const summary = await reader.forEachFrame((w, o, l) => {
                      sum.add(w[o]!, w[o + l - 1]!, l);
                    });
                    assert.equal(sum.line(), expected, what);
                    assert.equal(summary.dataFrames, shape.frames, what);
                    assert.equal(summary.payloadBytes, sum.bytes, what);
                    assert.deepEqual(summary.contentType, DNSTAP, what);
                    assert.ok(summary.started && summary.stopped, what);
                    assert.equal(
                      summary.bytesRead,
                      (await Deno.stat(path)).size,
                    );
                  }
                  // The iterator.
                  {
                    await using reader = await openFrameReader(path, options);
                    const sum = new Checksum();
                    for await (const f of reader) {
                      if (f.kind === "data") {
                        sum.add(
                          f.data[0]!,
                          f.data[f.data.length - 1]!,
                          f.data.length,
                        );
                      }
                    }
                    assert.equal(sum.line(), expected, `iterator, ${what}`);
                  }
                }
              }
            },
          );
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

/**
 * 3,000 frames over several 64 KiB windows, one larger than the window,
 * and a reader of them (reads of at most 5,000 bytes).
 */
function severalWindows(
  engine: "ts" | "wasm",
): { payloads: Uint8Array[]; reader: FrameReader } {
  const payloads = Array.from(
    { length: 3000 },
    (_, i) => pattern(i === 1234 ? 70_000 : 20 + (i * 37) % 400, i),
  );
  const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
  const reader = new FrameReader(new MemorySource(bytes, 5000, 1), {
    engine,
    windowSize: MIN_WINDOW,
  });
  return { payloads, reader };
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] forEachFrame waits for a returned promise, the window intact meanwhile`, async () => {
    const { payloads, reader } = severalWindows(engine);
    let i = 0;
    let pending = 0;
    const summary = await reader.forEachFrame((window, offset, length) => {
      const k = i++;
      assert.equal(pending, 0, `frame ${k} delivered while one was pending`);
      assert.ok(
        bytesEqual(window.subarray(offset, offset + length), payloads[k]!),
      );
      if (k % 7 === 3) {
        // A promise: the next frame waits; the view must still hold after.
        pending++;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            pending--;
            assert.ok(
              bytesEqual(
                window.subarray(offset, offset + length),
                payloads[k]!,
              ),
              `frame ${k} changed while its promise was pending`,
            );
            resolve();
          }, 0)
        );
      }
      // A thenable that is not a Promise counts too.
      if (k % 11 === 5) {
        pending++;
        return {
          then(resolve: () => void) {
            pending--;
            resolve();
          },
        } as unknown as PromiseLike<void>;
      }
      return undefined;
    });
    assert.equal(i, payloads.length);
    assert.equal(summary.dataFrames, payloads.length);
    assert.equal(summary.stopped, true);
  });

  Deno.test(`FrameReader [${engine}] forEachFrame rejects with a returned promise's rejection`, async () => {
    const bytes = encodeFrameStream(["a", "b", "c"]);
    const reader = new FrameReader(new MemorySource(bytes, Infinity, 1), {
      engine,
    });
    const seen: number[] = [];
    const boom = new Error("boom");
    await assert.rejects(
      reader.forEachFrame((window, offset) => {
        seen.push(window[offset]!);
        return seen.length === 2 ? Promise.reject(boom) : undefined;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(seen, [0x61, 0x62]);
    assert.equal(reader.summary.dataFrames, 2);
  });
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] forEachRun waits for a returned promise, the run intact meanwhile`, async () => {
    const { payloads, reader } = severalWindows(engine);
    let next = 0; // the next payload expected
    let runs = 0;
    let pending = 0;
    /** Checks the run's frames against the payloads from `first` on. */
    const check = (run: Uint8Array, first: number, n: number) => {
      let at = 0;
      for (let k = first; k < first + n; k++) {
        const length = u32(run, at);
        assert.ok(
          bytesEqual(run.subarray(at + 4, at + 4 + length), payloads[k]!),
          `frame ${k}`,
        );
        at += 4 + length;
      }
      assert.equal(at, run.length);
    };
    const summary = await reader.forEachRun((window, start, end, n) => {
      assert.equal(pending, 0, `run ${runs} delivered while one was pending`);
      const first = next;
      const run = window.subarray(start, end);
      check(run, first, n);
      next += n;
      if (runs++ % 2 === 0) {
        pending++;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            pending--;
            check(run, first, n); // still the same bytes
            resolve();
          }, 0)
        );
      }
      return undefined;
    });
    assert.equal(next, payloads.length);
    assert.ok(runs > 3, `${runs} runs`);
    assert.equal(summary.dataFrames, payloads.length);
    assert.equal(summary.stopped, true);
  });

  Deno.test(`FrameReader [${engine}] forEachRun ends runs at control frames and stops at a callback's rejection`, async () => {
    // Data before START and after STOP (accepted unless strict), and a
    // second START: four runs in one window.
    const bytes = concat(
      dataFrame(5, 1),
      START,
      dataFrame(6, 2),
      dataFrame(7, 3),
      STOP,
      dataFrame(8, 4),
      encodeControlFrame(2, []),
      dataFrame(9, 5),
    );
    const reader = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
    });
    const runs: [number, number, number][] = [];
    await reader.forEachRun((_window, start, end, n) => {
      runs.push([start, end, n]);
    });
    const d1 = 9, s = START.length, d2 = 10, d3 = 11, p = STOP.length;
    const d4 = 12, s2 = encodeControlFrame(2, []).length;
    const at4 = d1 + s + d2 + d3 + p;
    assert.deepEqual(runs, [
      [0, d1, 1],
      [d1 + s, d1 + s + d2 + d3, 2],
      [at4, at4 + d4, 1],
      [at4 + d4 + s2, at4 + d4 + s2 + 13, 1],
    ]);
    assert.equal(at4 + d4 + s2 + 13, bytes.length);
    assert.equal(reader.summary.dataFrames, 5);
    // Strict: the run before the out-of-place frame, then the error.
    const strict = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
      strict: true,
    });
    const seen: number[] = [];
    await assert.rejects(
      strict.forEachRun((_w, _s, _e, n) => {
        seen.push(n);
      }),
      (e) => e instanceof UnexpectedFrameError && e.offset === 0,
    );
    assert.equal(seen.length, 0);
    const later = concat(
      START,
      dataFrame(6, 2),
      dataFrame(7, 3),
      STOP,
      dataFrame(8, 4),
    );
    const strict2 = new FrameReader(new MemorySource(later, Infinity, 0), {
      engine,
      strict: true,
    });
    await assert.rejects(
      strict2.forEachRun((_w, _s, _e, n) => {
        seen.push(n);
      }),
      (e) =>
        e instanceof UnexpectedFrameError &&
        e.offset === later.length - 12,
    );
    assert.deepEqual(seen, [2]);
    // A rejection stops the reading there.
    const boom = new Error("boom");
    const stopped = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
    });
    let calls = 0;
    await assert.rejects(
      stopped.forEachRun(() =>
        ++calls === 2 ? Promise.reject(boom) : undefined
      ),
      (e) => e === boom,
    );
    assert.equal(calls, 2);
    assert.equal(stopped.summary.dataFrames, 3);
  });
}
