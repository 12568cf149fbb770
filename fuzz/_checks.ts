// The checks of the fuzzer, shared by fuzz/fuzz.ts (on generated cases) and
// tests/corpus_test.ts (on the saved ones): one case in, nothing out, or a
// FuzzFailure saying what broke. What is checked, per target:
//
// decoder: the input, cut into chunks and pulled as the case says, through
//   FrameDecoder with engine "ts" and "wasm", with next() and with
//   nextControl() (whose onData may throw now and then). All four must give
//   the same frames (offsets, payloads, types, content types, views or
//   copies, the chunk after which each came out), the same error (class,
//   message, every field; thrown again by every later call), the same
//   counters after every chunk. They must also match the reference model
//   (_model.ts): same frames, same error class and fields, same counters;
//   deliver every complete frame as soon as its bytes are pushed and pulled,
//   and throw every error as soon as its bytes are there. Frames inside one
//   chunk are views of it; frames across chunks live in a buffer of their
//   own of at most length + 8 bytes (the carry buffer: never more than
//   maxFrameLength + 8); content types are copies. Any thrown error must be
//   one of FrameTooLargeError, TruncatedFrameError, ControlFrameError,
//   UnexpectedFrameError; invalid options must make the constructor throw a
//   TypeError or RangeError, as documented.
// reader: the input through FrameReader (engines "ts" and "wasm", small
//   windows, reads of the case's sizes, readSync or not, forEachFrame,
//   forEachRun, batches or iteration, copies or views; a callback that
//   returns promises and reads its payload (run) only once they settle, or
//   throws; iteration stopped early): the same frames, payloads, error
//   (class, fields, message) and summary as FrameDecoder and the model, and
//   the same everything under both engines.
// handshake: ReaderHandshake and WriterHandshake fed scripts of frames
//   (valid, invalid, junk), bytes through a FrameDecoder, start() and stop(),
//   or talking to each other through bytes with messages dropped,
//   duplicated or garbage injected. Each call's events must be exactly those
//   PROTOCOL.md §3 and §5 prescribe (an oracle per role), sent bytes must
//   decode as one valid control frame of at most 503 bytes of payload,
//   "started", "stopped", "finished" and "failed" come at most once and
//   nothing after "failed" (or after "finished"); only documented TypeErrors
//   are thrown; honest peers with a common content type always complete and
//   agree on it.
//
// Bounds, for every case: wall time (performance.now()) at most
// `caseTimeoutMs`; resident memory (Deno.memoryUsage().rss) growing at most
// `rssLimit` bytes within the case; ArrayBuffer memory of this isolate
// (Deno.memoryUsage().external) growing at most what the case may hold: one
// frame of maxFrameLength + 8 per decoder or reader, plus a few times the
// input.
import {
  type ControlFrame,
  ControlFrameError,
  decodeControlFrame,
  encodeDataFrame,
  type Engine,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  FrameReader,
  type FrameReaderOptions,
  type FrameReaderSummary,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  type ReaderEvent,
  ReaderHandshake,
  type ReaderHandshakeState,
  TruncatedFrameError,
  UnexpectedFrameError,
  type WriterEvent,
  WriterHandshake,
  type WriterHandshakeState,
} from "../mod.ts";
import {
  caseInput,
  type DecoderCase,
  type FailureKind,
  type FrameJson,
  fromHex,
  type FuzzCase,
  type HandshakeCase,
  type ReaderCase,
  type Step,
  toHex,
} from "./_case.ts";
import {
  decodeModel,
  type ModelFrame,
  type ModelOptions,
  type ModelResult,
} from "./_model.ts";

/** A check that failed: what kind of failure, and what exactly. */
export class FuzzFailure extends Error {
  /** What kind of failure. */
  readonly kind: FailureKind;

  /**
   * Makes the failure.
   *
   * @param kind What kind of failure.
   * @param message What exactly.
   */
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.name = "FuzzFailure";
    this.kind = kind;
  }
}

/** The per-case bounds. */
export interface Bounds {
  /** Wall time of one case, in milliseconds. */
  caseTimeoutMs: number;
  /** Growth of the process's resident memory within one case, in bytes. */
  rssLimit: number;
}

/** 2 s and 512 MiB. */
export const DEFAULT_BOUNDS: Bounds = {
  caseTimeoutMs: 2_000,
  rssLimit: 512 << 20,
};

const MIB = 1 << 20;

// ---------------------------------------------------------------------------
// Entry points.

/**
 * Runs every check of `c` within `bounds`; throws a {@linkcode FuzzFailure}
 * if one fails. Any other error escaping a check is reported as a crash.
 */
export async function checkCase(
  c: FuzzCase,
  bounds: Bounds = DEFAULT_BOUNDS,
): Promise<void> {
  if (c.target === "reader") {
    const before = measure();
    try {
      await checkReader(c);
    } catch (e) {
      throw asFailure(e);
    }
    checkBounds(before, bounds, allowance(c));
    return;
  }
  checkCaseSync(c, bounds);
}

/** {@linkcode checkCase} for the targets that run synchronously. */
export function checkCaseSync(
  c: DecoderCase | HandshakeCase,
  bounds: Bounds = DEFAULT_BOUNDS,
): void {
  const before = measure();
  try {
    if (c.target === "decoder") checkDecoder(c);
    else checkHandshake(c);
  } catch (e) {
    throw asFailure(e);
  }
  checkBounds(before, bounds, allowance(c));
}

function asFailure(e: unknown): FuzzFailure {
  if (e instanceof FuzzFailure) return e;
  return new FuzzFailure(
    "crash",
    `uncaught ${describeThrown(e)}${
      e instanceof Error && e.stack ? `\n${e.stack}` : ""
    }`,
  );
}

interface Measure {
  time: number;
  rss: number;
  external: number;
}

function measure(): Measure {
  const m = Deno.memoryUsage();
  return { time: performance.now(), rss: m.rss, external: m.external };
}

/** ArrayBuffer bytes a case may allocate: frames its decoders may assemble. */
function allowance(c: FuzzCase): number {
  if (c.target === "handshake") return 64 * MIB;
  const opts = readOptions(c.options);
  const max = "error" in opts ? 0 : opts.options.maxFrameLength;
  const input = caseInput(c).length;
  // decoder: 4 decoders; reader: 2 readers and 1 decoder. Each may assemble
  // one frame at a time (garbage of earlier ones is counted too: at most
  // the input again).
  return 5 * (max + 8) + 16 * input + 64 * MIB;
}

function checkBounds(before: Measure, bounds: Bounds, external: number): void {
  const after = measure();
  const ms = after.time - before.time;
  if (ms > bounds.caseTimeoutMs) {
    throw new FuzzFailure(
      "hang",
      `case took ${ms.toFixed(0)} ms, bound ${bounds.caseTimeoutMs} ms`,
    );
  }
  const rss = after.rss - before.rss;
  if (rss > bounds.rssLimit) {
    throw new FuzzFailure(
      "alloc",
      `resident memory grew by ${
        (rss / MIB).toFixed(0)
      } MiB in one case, bound ${(bounds.rssLimit / MIB).toFixed(0)} MiB`,
    );
  }
  const ext = after.external - before.external;
  if (ext > external) {
    throw new FuzzFailure(
      "alloc",
      `ArrayBuffer memory grew by ${
        (ext / MIB).toFixed(1)
      } MiB in one case, allowance ${(external / MIB).toFixed(1)} MiB`,
    );
  }
}

// ---------------------------------------------------------------------------
// Helpers.

function fail(kind: FailureKind, message: string): never {
  throw new FuzzFailure(kind, message);
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>>
    0;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Short printable form of bytes (hex, or length and head for large ones). */
function short(bytes: Uint8Array): string {
  if (bytes.length <= 64) return toHex(bytes);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return `${bytes.length} bytes, fnv1a ${(h >>> 0).toString(16)}, head ${
    toHex(bytes.subarray(0, 16))
  }`;
}

function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `non-Error ${typeof e}: ${String(e)}`;
}

/** Whether `e` is one of the decoder's documented typed errors. */
function isDecodeError(e: unknown): boolean {
  return e instanceof FrameTooLargeError || e instanceof TruncatedFrameError ||
    e instanceof ControlFrameError || e instanceof UnexpectedFrameError ||
    e instanceof NotFrameStreamsError;
}

/** Fails unless `e` is a documented decoding error; returns it as a record. */
function decodeErrorRecord(e: unknown, where: string): ErrorRecord {
  if (!isDecodeError(e)) {
    fail(
      "crash",
      `${where} threw ${describeThrown(e)}, not a typed decoding error${
        e instanceof Error && e.stack ? `\n${e.stack}` : ""
      }`,
    );
  }
  const error = e as Error;
  const ok = (error instanceof FrameTooLargeError ||
      error instanceof TruncatedFrameError)
    ? error instanceof RangeError
    : error instanceof SyntaxError;
  if (!ok) {
    fail("invariant", `${where}: ${error.name} has the wrong base class`);
  }
  return errorRecord(error);
}

/** An error as plain data: class, name, message, own fields. */
interface ErrorRecord {
  class: string;
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

function errorRecord(e: Error): ErrorRecord {
  return {
    class: e.constructor.name,
    name: e.name,
    message: e.message,
    fields: { ...e },
  };
}

/** Stable JSON for comparisons (Uint8Arrays as hex, -0 as 0). */
function json(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => v instanceof Uint8Array ? toHex(v) : v,
  );
}

/** Fails with the first difference between two JSON-able values. */
function assertSame(
  actual: unknown,
  expected: unknown,
  what: string,
  kind: FailureKind = "divergence",
): void {
  const a = json(actual);
  const b = json(expected);
  if (a === b) return;
  fail(kind, `${what}\n${firstDifference(actual, expected)}`);
}

/** The path and values of the first difference of two JSON-able values. */
function firstDifference(a: unknown, b: unknown, path = "$"): string {
  if (json(a) === json(b)) return "";
  if (
    Array.isArray(a) && Array.isArray(b)
  ) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (json(a[i]) !== json(b[i])) {
        return firstDifference(a[i], b[i], `${path}[${i}]`);
      }
    }
    return `${path}: length ${a.length} vs ${b.length}; first extra: ${
      clip(json(a.length > b.length ? a[n] : b[n]))
    }`;
  }
  if (
    a !== null && b !== null && typeof a === "object" &&
    typeof b === "object" && !(a instanceof Uint8Array) &&
    !(b instanceof Uint8Array)
  ) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (json(x) !== json(y)) return firstDifference(x, y, `${path}.${k}`);
    }
  }
  return `${path}: ${clip(json(a))} vs ${clip(json(b))}`;
}

function clip(s: string | undefined): string {
  if (s === undefined) return "undefined";
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

// ---------------------------------------------------------------------------
// Options.

/** A case's options, checked as the constructors check them. */
function readOptions(
  o: DecoderCase["options"],
):
  | { options: ModelOptions; decoder: FrameDecoderOptions }
  | { error: "TypeError" | "RangeError" } {
  const max = o.maxFrameLength === undefined ? 1_048_576 : o.maxFrameLength;
  const oversize = o.oversize === undefined ? "error" : o.oversize;
  if (typeof max !== "number" || !Number.isInteger(max)) {
    return { error: "TypeError" };
  }
  if (max < 1 || max > 0xffff_ffff) return { error: "RangeError" };
  if (oversize !== "error" && oversize !== "skip") {
    return { error: "TypeError" };
  }
  const decoder: FrameDecoderOptions = {};
  if (o.maxFrameLength !== undefined) decoder.maxFrameLength = max;
  if (o.oversize !== undefined) decoder.oversize = oversize;
  if (o.strict !== undefined) decoder.strict = o.strict;
  return {
    options: {
      maxFrameLength: max,
      skipOversize: oversize === "skip",
      strict: o.strict === true,
    },
    decoder,
  };
}

/** The options as the constructors get them, invalid values included. */
function rawOptions(o: DecoderCase["options"]): FrameDecoderOptions {
  const out: Record<string, unknown> = {};
  if (o.maxFrameLength !== undefined) out.maxFrameLength = o.maxFrameLength;
  if (o.oversize !== undefined) out.oversize = o.oversize;
  if (o.strict !== undefined) out.strict = o.strict;
  return out as FrameDecoderOptions;
}

/** Checks that making `what` with invalid options throws `expected`, only. */
function expectOptionsError(
  make: () => unknown,
  expected: "TypeError" | "RangeError",
  what: string,
): void {
  try {
    make();
  } catch (e) {
    const ok = expected === "TypeError"
      ? e instanceof TypeError
      : e instanceof RangeError;
    if (!ok || !(e as Error).message.startsWith("Cannot create")) {
      fail(
        "crash",
        `${what} with invalid options threw ${
          describeThrown(e)
        }, expected a ${expected}`,
      );
    }
    return;
  }
  fail(
    "invariant",
    `${what} accepted invalid options (expected a ${expected})`,
  );
}

// ---------------------------------------------------------------------------
// The decoder target.

/** A frame as observed, comparable across paths. */
type ObservedFrame =
  & { round: number; offset: number }
  & (
    | { kind: "data"; data: string; view: boolean }
    | { kind: "control"; type: number; contentTypes: string[] }
  );

interface Counters {
  dataFrames: number;
  controlFrames: number;
  skippedFrames: number;
  oversizedFrames: number;
  started: boolean;
  stopped: boolean;
  contentType: string | null;
}

interface Observed {
  frames: ObservedFrame[];
  error: ErrorRecord | null;
  /** After an error: whether next() throws the very same error again. */
  sticky: boolean | null;
  /** Counters after each chunk, then at the end. */
  counters: Counters[];
}

function decoderCounters(d: FrameDecoder): Counters {
  return {
    dataFrames: d.dataFrames,
    controlFrames: d.controlFrames,
    skippedFrames: d.skippedFrames,
    oversizedFrames: d.oversizedFrames,
    started: d.started,
    stopped: d.stopped,
    contentType: d.contentType === null ? null : toHex(d.contentType),
  };
}

/** Where the input is cut: chunks (views of `bytes`) and their starts. */
interface Chunks {
  chunks: Uint8Array[];
  starts: number[];
  /** Bytes pushed once chunk i is in. */
  pushed: number[];
}

function cutChunks(bytes: Uint8Array, cuts: readonly number[]): Chunks {
  const points = [...new Set(cuts.filter((x) => x > 0 && x < bytes.length))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  const starts: number[] = [];
  const pushed: number[] = [];
  let last = 0;
  for (const cut of [...points, bytes.length]) {
    chunks.push(bytes.subarray(last, cut));
    starts.push(last);
    pushed.push(cut);
    last = cut;
  }
  return { chunks, starts, pushed };
}

/** The chunk that holds stream bytes [from, to), or -1 if they span chunks. */
function chunkOf(ch: Chunks, from: number, to: number): number {
  for (let i = 0; i < ch.chunks.length; i++) {
    const s = ch.starts[i]!;
    const e = s + ch.chunks[i]!.length;
    if (from >= s && from < e) return to <= e ? i : -1;
  }
  return -1;
}

const SENTINEL = new Error("onData throws on purpose");

/**
 * Decodes the case with one engine and one API, checking the invariants
 * that hold frame by frame; returns everything observable.
 */
function observe(
  bytes: Uint8Array,
  ch: Chunks,
  pulls: readonly boolean[],
  options: FrameDecoderOptions,
  model: ModelResult,
  maxFrameLength: number,
  engine: Engine,
  api: "next" | "nextControl",
  throwEvery: number,
): Observed {
  const where = `FrameDecoder [${engine}] ${api}()`;
  const decoder = new FrameDecoder({ ...options, engine });
  if (decoder.engine !== engine) {
    fail(
      "invariant",
      `${where}: engine ${engine} asked for, ${decoder.engine} runs`,
    );
  }
  const frames: ObservedFrame[] = [];
  const counters: Counters[] = [];
  let error: ErrorRecord | null = null;
  let sticky: boolean | null = null;
  let dataIndex = 0;
  let round = 0;
  // Checks one data frame against the input: a view of its chunk if it lies
  // in one, else a buffer of its own no larger than the frame plus 8.
  const checkData = (
    data: Uint8Array,
    offset: number | null,
    window: Uint8Array | null,
  ) => {
    const len = data.length;
    const view = data.buffer === bytes.buffer;
    if (len === 0) fail("invariant", `${where}: an empty data frame`);
    if (view) {
      const at = data.byteOffset - bytes.byteOffset - 4;
      if (offset !== null && at !== offset) {
        fail(
          "invariant",
          `${where}: data frame at ${offset} is a view of byte ${at + 4}`,
        );
      }
      if (u32(bytes, at) !== len) {
        fail(
          "invariant",
          `${where}: data frame view at ${at} does not follow its length word`,
        );
      }
      if (chunkOf(ch, at, at + 4 + len) < 0) {
        fail(
          "invariant",
          `${where}: data frame at ${at} spans chunks yet is a view of the input`,
        );
      }
      if (window !== null && !ch.chunks.includes(window)) {
        fail(
          "invariant",
          `${where}: onData's window at ${at} is not the pushed chunk`,
        );
      }
    } else {
      const own = window ?? data;
      if (
        own.buffer.byteLength > len + 8 ||
        own.buffer.byteLength > maxFrameLength + 8
      ) {
        fail(
          "alloc",
          `${where}: a ${len}-byte frame assembled in a buffer of ${own.buffer.byteLength} bytes (limit ${
            Math.min(len, maxFrameLength) + 8
          })`,
        );
      }
      if (offset !== null && chunkOf(ch, offset, offset + 4 + len) >= 0) {
        fail(
          "invariant",
          `${where}: data frame at ${offset} lies in one chunk yet is a copy`,
        );
      }
    }
    // Every data frame the decoder hands out has all its bytes pushed.
    const expected = model.frames[frames.length];
    if (
      expected !== undefined &&
      expected.end > ch.pushed[Math.min(round, ch.pushed.length - 1)]!
    ) {
      fail(
        "invariant",
        `${where}: frame at ${expected.offset} handed out before its bytes were pushed`,
      );
    }
    return view;
  };
  const onData = (w: Uint8Array, o: number, n: number) => {
    if (!(w instanceof Uint8Array) || o < 0 || n < 1 || o + n > w.length) {
      fail(
        "invariant",
        `${where}: onData(${typeof w}, ${o}, ${n}) out of its window`,
      );
    }
    const data = w.subarray(o, o + n);
    const view = checkData(data, null, w);
    frames.push({ round, offset: -1, kind: "data", data: short(data), view });
    if (throwEvery > 0 && dataIndex++ % throwEvery === 0) throw SENTINEL;
  };
  const pull = api === "next"
    ? () => decoder.next()
    : () => decoder.nextControl(onData);
  const drain = () => {
    for (;;) {
      let f: Frame | null;
      try {
        f = pull();
      } catch (e) {
        if (e === SENTINEL) continue;
        throw e;
      }
      if (f === null) return;
      if (f.kind === "data") {
        if (api === "nextControl") {
          fail("invariant", `${where} returned a data frame`);
        }
        const view = checkData(f.data, f.offset, null);
        frames.push({
          round,
          offset: f.offset,
          kind: "data",
          data: short(f.data),
          view,
        });
      } else {
        for (const t of f.contentTypes) {
          if (t.buffer === bytes.buffer) {
            fail(
              "invariant",
              `${where}: a content type of the control frame at ${f.offset} is a view of the input`,
            );
          }
        }
        frames.push({
          round,
          offset: f.offset,
          kind: "control",
          type: f.type,
          contentTypes: f.contentTypes.map(toHex),
        });
      }
    }
  };
  // Liveness: after pulling with `pushed` bytes in, every frame complete
  // in them is out, and an error due by then has been thrown.
  const live = (pushed: number) => {
    const due = model.frames.filter((f) => f.end <= pushed).length;
    const out = Math.min(frames.length, model.frames.length);
    if (out < due) {
      const f = model.frames[out]!;
      fail(
        "invariant",
        `${where}: after ${pushed} bytes pushed and pulled, the frame at ${f.offset} (ending at ${f.end}) is still not out`,
      );
    }
    if (model.error !== null && model.error.dueAt <= pushed) {
      fail(
        "invariant",
        `${where}: after ${pushed} bytes pushed and pulled, no ${model.error.class} yet (due at byte ${model.error.dueAt})`,
      );
    }
  };
  try {
    for (round = 0; round < ch.chunks.length; round++) {
      decoder.push(ch.chunks[round]!);
      if (pulls[round]) {
        drain();
        live(ch.pushed[round]!);
      }
      counters.push(decoderCounters(decoder));
    }
    round = ch.chunks.length;
    decoder.end();
    drain();
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    error = decodeErrorRecord(e, where);
    try {
      decoder.next();
      sticky = false;
    } catch (again) {
      sticky = again === e;
    }
    if (!sticky) {
      fail(
        "invariant",
        `${where}: after ${error.name}, next() does not throw it again`,
      );
    }
  }
  counters.push(decoderCounters(decoder));
  return { frames, error, sticky, counters };
}

/** Fails unless what the decoder gave matches the model. */
function assertModel(
  bytes: Uint8Array,
  run: Observed,
  model: ModelResult,
  where: string,
): void {
  const got = run.frames.map((f) =>
    f.kind === "data" ? { kind: "data", offset: f.offset, data: f.data } : {
      kind: "control",
      offset: f.offset,
      type: f.type,
      contentTypes: f.contentTypes,
    }
  );
  const expected = model.frames.map((f) =>
    f.kind === "data"
      ? { kind: "data", offset: f.offset, data: short(f.data) }
      : {
        kind: "control",
        offset: f.offset,
        type: f.type,
        contentTypes: f.contentTypes.map(toHex),
      }
  );
  const input = `input ${short(bytes)}`;
  assertSame(
    got,
    expected,
    `${where} and the reference model disagree on the frames (${input})`,
  );
  const error = run.error === null ? null : {
    class: run.error.class,
    fields: pick(run.error.fields, model.error?.fields),
  };
  const expectedError = model.error === null
    ? null
    : { class: model.error.class, fields: model.error.fields };
  assertSame(
    error,
    expectedError,
    `${where} and the reference model disagree on the error (${input})`,
  );
  const m = model.counters;
  assertSame(run.counters.at(-1), {
    dataFrames: m.dataFrames,
    controlFrames: m.controlFrames,
    skippedFrames: m.skippedFrames,
    oversizedFrames: m.oversizedFrames,
    started: m.started,
    stopped: m.stopped,
    contentType: m.contentType === null ? null : toHex(m.contentType),
  }, `${where} and the reference model disagree on the counters (${input})`);
}

/** The fields of `fields` that `like` names (all of them if it is absent). */
function pick(
  fields: Record<string, unknown>,
  like: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (like === undefined) return fields;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(like)) out[k] = fields[k];
  return out;
}

function checkDecoder(c: DecoderCase): void {
  const bytes = caseInput(c);
  const opts = readOptions(c.options);
  if ("error" in opts) {
    for (const engine of ["ts", "wasm"] as const) {
      expectOptionsError(
        () => new FrameDecoder({ ...rawOptions(c.options), engine }),
        opts.error,
        `FrameDecoder [${engine}]`,
      );
    }
    return;
  }
  const ch = cutChunks(bytes, c.cuts);
  const pulls = ch.chunks.map((_, i) => (c.pulls[i] ?? "1") !== "0");
  const model = decodeModel(bytes, opts.options);
  const max = opts.options.maxFrameLength;
  const run = (engine: Engine, api: "next" | "nextControl") =>
    observe(
      bytes,
      ch,
      pulls,
      opts.decoder,
      model,
      max,
      engine,
      api,
      api === "nextControl" ? c.throwEvery ?? 0 : 0,
    );
  const ts = run("ts", "next");
  assertModel(bytes, ts, model, "FrameDecoder [ts] next()");
  const wasm = run("wasm", "next");
  assertSame(wasm, ts, "FrameDecoder engines wasm and ts disagree (next())");
  // nextControl gives what next() gives, data frames without their offset.
  const expected: Observed = {
    ...ts,
    frames: ts.frames.map((f) => f.kind === "data" ? { ...f, offset: -1 } : f),
  };
  for (const engine of ["ts", "wasm"] as const) {
    assertSame(
      run(engine, "nextControl"),
      expected,
      `FrameDecoder [${engine}] nextControl() and next() disagree`,
    );
  }
}

// ---------------------------------------------------------------------------
// The reader target.

/** A source handing out the input in reads of the case's sizes. */
class CaseSource {
  #bytes: Uint8Array;
  #reads: number[];
  #at = 0;
  #i = 0;
  constructor(bytes: Uint8Array, reads: number[]) {
    this.#bytes = bytes;
    this.#reads = reads.length === 0
      ? [1 << 30]
      : reads.map((r) => Math.max(1, r));
  }
  take(buffer: Uint8Array): number | null {
    if (this.#at === this.#bytes.length) return null;
    const size = this.#reads[this.#i++ % this.#reads.length]!;
    const n = Math.min(size, buffer.length, this.#bytes.length - this.#at);
    buffer.set(this.#bytes.subarray(this.#at, this.#at + n));
    this.#at += n;
    return n;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    return Promise.resolve(this.take(buffer));
  }
}

class SyncCaseSource extends CaseSource {
  readSync(buffer: Uint8Array): number | null {
    return this.take(buffer);
  }
}

/** A frame (of FrameReader's or of the model) as ReaderObserved records it. */
function readerFrame(f: Frame | ModelFrame): ObservedFrame {
  return f.kind === "data"
    ? {
      round: 0,
      offset: f.offset,
      kind: "data",
      data: short(f.data),
      view: false,
    }
    : {
      round: 0,
      offset: f.offset,
      kind: "control",
      type: f.type,
      contentTypes: f.contentTypes.map(toHex),
    };
}

interface ReaderObserved {
  frames: ObservedFrame[] | null;
  payloads: string[];
  error: ErrorRecord | null;
  summary:
    & {
      -readonly [
        K in Exclude<keyof FrameReaderSummary, "engine" | "contentType">
      ]: FrameReaderSummary[K];
    }
    & { contentType: string | null };
}

async function observeReader(
  bytes: Uint8Array,
  c: ReaderCase,
  options: FrameDecoderOptions,
  engine: Engine,
): Promise<ReaderObserved> {
  const where = `FrameReader [${engine}] ${c.how}`;
  const source = c.readSync
    ? new SyncCaseSource(bytes, c.reads)
    : new CaseSource(bytes, c.reads);
  const readerOptions: FrameReaderOptions = {
    ...options,
    engine,
    windowSize: c.windowSize,
    copyPayloads: c.copyPayloads,
  };
  const reader = new FrameReader(source, readerOptions);
  if (reader.engine !== engine) {
    fail(
      "invariant",
      `${where}: engine ${engine} asked for, ${reader.engine} runs`,
    );
  }
  let frames: Frame[] | null = null;
  const payloads: Uint8Array[] = [];
  let error: ErrorRecord | null = null;
  // Views (copyPayloads: false) are copied at once; copies are kept as
  // they are, to prove they stay valid.
  const keep = (f: Frame): Frame =>
    c.copyPayloads || f.kind !== "data" ? f : { ...f, data: f.data.slice() };
  const awaitEvery = c.awaitEvery ?? 0;
  const stopAt = c.stopAt ?? -1;
  try {
    if (c.how === "forEachFrame") {
      // The payload is read when the callback's promise settles, if it
      // returns one: the window must hold it until then.
      const take = (window: Uint8Array, offset: number, length: number) => {
        if (
          offset < 4 || length < 1 || offset + length > window.length ||
          u32(window, offset - 4) !== length
        ) {
          fail(
            "invariant",
            `${where}: payload at ${offset} (${length} bytes) does not follow its length word`,
          );
        }
        if (window.length > Math.max(c.windowSize, length + 4)) {
          fail(
            "alloc",
            `${where}: a window of ${window.length} bytes (windowSize ${c.windowSize}, frame ${length})`,
          );
        }
        payloads.push(window.slice(offset, offset + length));
      };
      await reader.forEachFrame((window, offset, length) => {
        const index = payloads.length;
        if (awaitEvery > 0 && index % awaitEvery === 0) {
          // Settles a few microtasks later (a timer per frame would make
          // the case slow, not the reader).
          return Promise.resolve().then(() => {}).then(() => {
            take(window, offset, length);
            if (index === stopAt) throw SENTINEL;
          });
        }
        take(window, offset, length);
        if (index === stopAt) throw SENTINEL;
        return undefined;
      });
    } else if (c.how === "forEachRun") {
      // A run must hold exactly its count of whole data frames, within the
      // window (or a buffer of its own for a frame larger than the window).
      const takeRun = (
        window: Uint8Array,
        start: number,
        end: number,
        n: number,
      ) => {
        if (n < 1 || start < 0 || end > window.length || start >= end) {
          fail(
            "invariant",
            `${where}: a run of ${n} frames at [${start}, ${end}) in a window of ${window.length}`,
          );
        }
        if (window.length > Math.max(c.windowSize, end - start)) {
          fail(
            "alloc",
            `${where}: a window of ${window.length} bytes (windowSize ${c.windowSize}, run ${
              end - start
            })`,
          );
        }
        let at = start;
        for (let k = 0; k < n; k++) {
          const length = at + 4 <= end ? u32(window, at) : 0;
          if (length < 1 || at + 4 + length > end) {
            fail(
              "invariant",
              `${where}: frame ${k} of a run of ${n} at [${start}, ${end}) is not whole`,
            );
          }
          payloads.push(window.slice(at + 4, at + 4 + length));
          at += 4 + length;
        }
        if (at !== end) {
          fail(
            "invariant",
            `${where}: a run of ${n} frames ends at ${at}, not ${end}`,
          );
        }
      };
      let runIndex = 0;
      await reader.forEachRun((window, start, end, n) => {
        const index = runIndex++;
        if (awaitEvery > 0 && index % awaitEvery === 0) {
          return Promise.resolve().then(() => {}).then(() => {
            takeRun(window, start, end, n);
            if (stopAt >= 0 && payloads.length > stopAt) throw SENTINEL;
          });
        }
        takeRun(window, start, end, n);
        if (stopAt >= 0 && payloads.length > stopAt) throw SENTINEL;
        return undefined;
      });
    } else if (c.how === "batches") {
      frames = [];
      for await (const batch of reader.batches()) {
        for (const f of batch) frames.push(keep(f));
        if (stopAt >= 0 && frames.length >= Math.max(1, stopAt)) break;
      }
    } else {
      frames = [];
      for await (const f of reader) {
        frames.push(keep(f));
        if (stopAt >= 0 && frames.length >= Math.max(1, stopAt)) break;
      }
    }
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    error = e === SENTINEL
      ? { class: "Sentinel", name: "", message: "", fields: {} }
      : decodeErrorRecord(e, where);
  }
  if (frames !== null) {
    for (const f of frames) if (f.kind === "data") payloads.push(f.data);
  }
  const s = reader.summary;
  if (s.engine !== engine) {
    fail("invariant", `${where}: summary.engine is ${s.engine}`);
  }
  return {
    frames: frames === null ? null : frames.map(readerFrame),
    payloads: payloads.map(short),
    error,
    summary: {
      started: s.started,
      stopped: s.stopped,
      dataFrames: s.dataFrames,
      payloadBytes: s.payloadBytes,
      controlFrames: s.controlFrames,
      skippedFrames: s.skippedFrames,
      oversizedFrames: s.oversizedFrames,
      bytesRead: s.bytesRead,
      contentType: s.contentType === null ? null : toHex(s.contentType),
    },
  };
}

async function checkReader(c: ReaderCase): Promise<void> {
  const bytes = caseInput(c);
  const opts = readOptions(c.options);
  if ("error" in opts) {
    for (const engine of ["ts", "wasm"] as const) {
      expectOptionsError(
        () =>
          new FrameReader(new CaseSource(bytes, c.reads), {
            ...rawOptions(c.options),
            engine,
            windowSize: c.windowSize,
          }),
        opts.error,
        `FrameReader [${engine}]`,
      );
    }
    return;
  }
  const model = decodeModel(bytes, opts.options);
  // FrameDecoder, one chunk: the errors' messages to match.
  const one = observe(
    bytes,
    cutChunks(bytes, []),
    [true],
    opts.decoder,
    model,
    opts.options.maxFrameLength,
    "ts",
    "next",
    0,
  );
  assertModel(bytes, one, model, "FrameDecoder [ts] next() in one chunk");
  const m = model.counters;
  const byCallback = c.how === "forEachFrame" || c.how === "forEachRun";
  const expected: ReaderObserved = {
    frames: byCallback ? null : model.frames.map(readerFrame),
    payloads: model.frames.flatMap((f) =>
      f.kind === "data" ? [short(f.data)] : []
    ),
    error: one.error,
    summary: {
      started: m.started,
      stopped: m.stopped,
      dataFrames: m.dataFrames,
      payloadBytes: m.payloadBytes,
      controlFrames: m.controlFrames,
      skippedFrames: m.skippedFrames,
      oversizedFrames: m.oversizedFrames,
      bytesRead: bytes.length,
      contentType: m.contentType === null ? null : toHex(m.contentType),
    },
  };
  const allPayloads = expected.payloads;
  // Stopped early: the frames up to there, no error but the callback's,
  // and a summary that says how far the reader got (compared across engines
  // only).
  const stopAt = c.stopAt ?? -1;
  let early = false;
  if (stopAt >= 0) {
    if (byCallback) {
      if (expected.payloads.length > stopAt) {
        early = true;
        expected.payloads = expected.payloads.slice(0, stopAt + 1);
        expected.error = {
          class: "Sentinel",
          name: "",
          message: "",
          fields: {},
        };
      }
    } else if (expected.frames!.length >= Math.max(1, stopAt)) {
      early = true;
      expected.error = null;
    }
  }
  const runs: ReaderObserved[] = [];
  for (const engine of ["ts", "wasm"] as const) {
    const got = await observeReader(bytes, c, opts.decoder, engine);
    if (early && c.how === "forEachRun") {
      // Stopped at the run holding frame stopAt: whole runs, so at least
      // stopAt + 1 payloads, a prefix.
      expected.payloads = allPayloads.slice(
        0,
        Math.max(
          stopAt + 1,
          Math.min(got.payloads.length, allPayloads.length),
        ),
      );
    }
    // After an error the reader may not have read everything.
    if (got.error !== null && got.summary.bytesRead <= bytes.length) {
      expected.summary.bytesRead = got.summary.bytesRead;
    }
    if (early) {
      expected.summary = got.summary;
      if (got.frames !== null) {
        // batches: whole batches, so at least stopAt frames, a prefix.
        const n = Math.max(
          Math.max(1, stopAt),
          Math.min(got.frames.length, expected.frames!.length),
        );
        expected.frames = expected.frames!.slice(0, n);
        expected.payloads = expected.frames.flatMap((f) =>
          f.kind === "data" ? [f.data] : []
        );
      }
    }
    assertSame(
      got,
      expected,
      `FrameReader [${engine}] ${c.how} and FrameDecoder (with the reference model) disagree (input ${
        short(bytes)
      })`,
    );
    runs.push(got);
  }
  assertSame(
    runs[1],
    runs[0],
    `FrameReader engines wasm and ts disagree (${c.how})`,
  );
}

// ---------------------------------------------------------------------------
// The handshake target.

function frameFromJson(f: FrameJson): Frame {
  return f.kind === "data"
    ? { kind: "data", data: fromHex(f.data), offset: 0 }
    : {
      kind: "control",
      type: f.type,
      contentTypes: f.contentTypes.map(fromHex),
      offset: 0,
    };
}

/** Things that are not Frames, for receive() to refuse with a TypeError. */
const JUNK: readonly unknown[] = [
  null,
  undefined,
  42,
  "frame",
  {},
  { kind: "data", data: "x" },
  { kind: "data" },
  { kind: "control", type: "2", contentTypes: [] },
  { kind: "control", type: 2, contentTypes: ["x"] },
  { kind: "control", type: 2 },
  { kind: "other", data: new Uint8Array(1) },
  [new Uint8Array(1)],
];

function includes(list: readonly Uint8Array[], item: Uint8Array): boolean {
  return list.some((x) => bytesEqual(x, item));
}

function dedup(list: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const t of list) if (!includes(out, t)) out.push(t);
  return out;
}

/** The content types of a case as the constructors get them. */
function typesOf(v: string[] | number | null): unknown {
  return Array.isArray(v) ? v.map(fromHex) : v;
}

/** What a constructor given `types` must do: accept them, or throw. */
function expectedTypes(
  v: string[] | number | null,
  limit503: boolean,
): Uint8Array[] | "TypeError" | "RangeError" {
  if (!Array.isArray(v)) return "TypeError";
  const list = v.map(fromHex);
  if (list.some((t) => t.length > 256)) return "RangeError";
  const ours = dedup(list);
  let clen = 4;
  for (const t of ours) clen += 8 + t.length;
  if (limit503 && clen > 503) return "RangeError";
  return ours;
}

/** Decodes bytes a handshake asks to send: exactly one valid control frame. */
function sentFrame(bytes: Uint8Array, where: string): ControlFrame {
  if (!(bytes instanceof Uint8Array)) {
    fail("invariant", `${where}: send without bytes`);
  }
  let frame: ControlFrame;
  try {
    frame = decodeControlFrame(bytes);
  } catch (e) {
    return fail(
      "invariant",
      `${where}: sent bytes ${short(bytes)} are not one valid control frame: ${
        describeThrown(e)
      }`,
    );
  }
  if (bytes.length - 8 > 503) {
    fail(
      "invariant",
      `${where}: sent a control frame of ${bytes.length - 8} bytes, over 503`,
    );
  }
  return frame;
}

/** An event as expected: type and what matters of it. */
type Expected =
  | { type: "send"; control: number; contentTypes: Uint8Array[] }
  | { type: "started"; mode?: string; contentType: Uint8Array | null }
  | { type: "data"; data: Uint8Array }
  | { type: "stopped" }
  | { type: "finished" }
  | { type: "failed"; reason: string };

/** Fails unless `events` are exactly `expected`. */
function assertEvents(
  events: readonly (ReaderEvent | WriterEvent)[],
  expected: readonly Expected[],
  where: string,
): void {
  if (!Array.isArray(events)) fail("invariant", `${where}: returned no array`);
  const shape = (e: ReaderEvent | WriterEvent | Expected) => e.type;
  if (
    events.length !== expected.length ||
    events.some((e, i) => e.type !== expected[i]!.type)
  ) {
    fail(
      "invariant",
      `${where}: events [${events.map(shape).join(", ")}], expected [${
        expected.map(shape).join(", ")
      }]${
        events.find((e) => e.type === "failed") !== undefined
          ? ` (failed: ${
            (events.find((e) => e.type === "failed") as { error: Error }).error
              .message
          })`
          : ""
      }`,
    );
  }
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const x = expected[i]!;
    if (e.type === "send" && x.type === "send") {
      const f = sentFrame(e.bytes, where);
      assertSame(
        { type: f.type, contentTypes: f.contentTypes },
        { type: x.control, contentTypes: x.contentTypes },
        `${where}: sent the wrong control frame`,
        "invariant",
      );
    } else if (e.type === "started" && x.type === "started") {
      const got: Record<string, unknown> = { contentType: e.contentType };
      if ("mode" in e) got.mode = e.mode;
      const want: Record<string, unknown> = { contentType: x.contentType };
      if (x.mode !== undefined) want.mode = x.mode;
      assertSame(got, want, `${where}: "started" is wrong`, "invariant");
    } else if (e.type === "data" && x.type === "data") {
      if (e.data !== x.data) {
        fail(
          "invariant",
          `${where}: "data" does not hand over the frame's payload`,
        );
      }
    } else if (e.type === "failed" && x.type === "failed") {
      if (!(e.error instanceof HandshakeError) || e.error.reason !== x.reason) {
        fail(
          "invariant",
          `${where}: "failed" with ${describeThrown(e.error)} (reason ${
            (e.error as HandshakeError).reason
          }), expected reason ${x.reason}`,
        );
      }
    }
  }
}

/** Counts the one-time events of one state machine. */
class OnceEvents {
  #seen = new Map<string, number>();
  #final: string | null = null;
  constructor(readonly where: string) {}
  add(events: readonly (ReaderEvent | WriterEvent)[]): void {
    for (const e of events) {
      if (this.#final !== null) {
        fail("invariant", `${this.where}: "${e.type}" after "${this.#final}"`);
      }
      if (e.type === "send" || e.type === "data") continue;
      const n = (this.#seen.get(e.type) ?? 0) + 1;
      this.#seen.set(e.type, n);
      if (n > 1) fail("invariant", `${this.where}: "${e.type}" twice`);
      if (e.type === "failed" || e.type === "finished") this.#final = e.type;
    }
  }
}

/** A ReaderHandshake and its oracle, checking every call. */
class CheckedReader {
  readonly hs: ReaderHandshake;
  readonly where: string;
  readonly events: ReaderEvent[] = [];
  #ours: Uint8Array[];
  #state: ReaderHandshakeState = "waiting";
  #mode: "bidirectional" | "unidirectional" | null = null;
  #accepted: Uint8Array[] = [];
  #contentType: Uint8Array | null = null;
  #once: OnceEvents;
  #calls = 0;

  constructor(hs: ReaderHandshake, ours: Uint8Array[], where: string) {
    this.hs = hs;
    this.#ours = ours;
    this.where = where;
    this.#once = new OnceEvents(where);
  }

  get state(): ReaderHandshakeState {
    return this.#state;
  }

  receive(frame: Frame): ReaderEvent[] {
    const where = `${this.where} receive() in "${this.#state}" (call ${++this
      .#calls} with ${describeFrame(frame)})`;
    const expected = this.#expect(frame);
    let events: ReaderEvent[];
    try {
      events = this.hs.receive(frame);
    } catch (e) {
      return fail("crash", `${where} threw ${describeThrown(e)}`);
    }
    assertEvents(events, expected, where);
    this.#once.add(events);
    this.events.push(...events);
    this.#verifyState(where);
    return events;
  }

  junk(value: unknown): void {
    const where = `${this.where} receive() of no Frame (call ${++this
      .#calls} with ${json(value) ?? "undefined"})`;
    try {
      this.hs.receive(value as Frame);
    } catch (e) {
      if (
        !(e instanceof TypeError) ||
        !e.message.startsWith("Cannot handle frame")
      ) {
        fail(
          "crash",
          `${where} threw ${describeThrown(e)}, expected its TypeError`,
        );
      }
      this.#verifyState(where);
      return;
    }
    fail("invariant", `${where} did not throw a TypeError`);
  }

  #verifyState(where: string): void {
    const hs = this.hs;
    if (hs.state !== this.#state) {
      fail(
        "invariant",
        `${where}: state "${hs.state}", expected "${this.#state}"`,
      );
    }
    if (hs.mode !== this.#mode) {
      fail("invariant", `${where}: mode ${hs.mode}, expected ${this.#mode}`);
    }
    assertSame(
      hs.contentType,
      this.#contentType,
      `${where}: contentType`,
      "invariant",
    );
    assertSame(
      hs.acceptedContentTypes,
      this.#accepted,
      `${where}: acceptedContentTypes`,
      "invariant",
    );
    // The getters hand out copies: scribbling on them changes nothing.
    const ct = hs.contentType;
    if (ct !== null && ct.length > 0) {
      ct[0] = ct[0]! ^ 0xff;
      assertSame(
        hs.contentType,
        this.#contentType,
        `${where}: contentType is not a copy`,
        "invariant",
      );
    }
  }

  #fail(reason: string): Expected[] {
    this.#state = "failed";
    return [{ type: "failed", reason }];
  }

  /** What PROTOCOL.md §3 and §5 say the reader does with `frame`. */
  #expect(frame: Frame): Expected[] {
    const s = this.#state;
    if (s === "failed") return [];
    if (frame.kind === "data") {
      if (s === "data") return [{ type: "data", data: frame.data }];
      return this.#fail("unexpected-frame");
    }
    const type = frame.type;
    if (!(type >= 1 && type <= 5)) return [];
    if (s === "stopped") return this.#fail("unexpected-frame");
    const offered = frame.contentTypes;
    if (type === 4) {
      // READY: only first.
      if (s !== "waiting") return this.#fail("unexpected-frame");
      this.#mode = "bidirectional";
      const ours = this.#ours;
      let matched: Uint8Array[];
      if (ours.length === 0) {
        // Anything goes: echo READY's types (no duplicates, none over 256
        // bytes), as many as fit in 503 bytes.
        matched = [];
        let clen = 4;
        for (const t of offered) {
          if (t.length > 256 || includes(matched, t)) continue;
          if (clen + 8 + t.length > 503) break;
          clen += 8 + t.length;
          matched.push(t.slice());
        }
      } else if (offered.length === 0) {
        matched = ours;
      } else {
        matched = ours.filter((t) => includes(offered, t));
        if (matched.length === 0) return this.#fail("no-common-content-type");
      }
      this.#accepted = matched.map((t) => t.slice());
      this.#state = "accepted";
      return [{ type: "send", control: 1, contentTypes: matched }];
    }
    if (type === 2) {
      // START: first (unidirectional) or after ACCEPT.
      if (s === "data") return this.#fail("unexpected-frame");
      const bidirectional = s === "accepted";
      if (!bidirectional) this.#mode = "unidirectional";
      if (offered.length > 1) return this.#fail("unexpected-frame");
      const ct = offered[0] ?? null;
      const allowed = bidirectional ? this.#accepted : this.#ours;
      if (ct !== null && allowed.length > 0 && !includes(allowed, ct)) {
        return this.#fail("content-type-mismatch");
      }
      this.#contentType = ct === null ? null : ct.slice();
      this.#state = "data";
      return [{
        type: "started",
        mode: bidirectional ? "bidirectional" : "unidirectional",
        contentType: ct,
      }];
    }
    if (type === 3) {
      if (s !== "data") return this.#fail("unexpected-frame");
      this.#state = "stopped";
      return this.#mode === "bidirectional"
        ? [{ type: "send", control: 5, contentTypes: [] }, { type: "stopped" }]
        : [{ type: "stopped" }];
    }
    // ACCEPT and FINISH go to writers only.
    return this.#fail("unexpected-frame");
  }
}

/** A WriterHandshake and its oracle, checking every call. */
class CheckedWriter {
  readonly hs: WriterHandshake;
  readonly where: string;
  readonly events: WriterEvent[] = [];
  #ours: Uint8Array[];
  #bidirectional: boolean;
  #state: WriterHandshakeState = "idle";
  #contentType: Uint8Array | null = null;
  #once: OnceEvents;
  #calls = 0;

  constructor(
    hs: WriterHandshake,
    ours: Uint8Array[],
    bidirectional: boolean,
    where: string,
  ) {
    this.hs = hs;
    this.#ours = ours;
    this.#bidirectional = bidirectional;
    this.where = where;
    this.#once = new OnceEvents(where);
  }

  get state(): WriterHandshakeState {
    return this.#state;
  }

  start(): WriterEvent[] {
    return this.#call("start()", "", () => this.hs.start(), () => {
      if (this.#state !== "idle") return null;
      if (this.#bidirectional) {
        this.#state = "ready-sent";
        return [{ type: "send", control: 4, contentTypes: this.#ours }];
      }
      return this.#sendStart(this.#ours[0] ?? null);
    });
  }

  stop(): WriterEvent[] {
    return this.#call("stop()", "", () => this.hs.stop(), () => {
      if (this.#state !== "data") return null;
      if (this.#bidirectional) {
        this.#state = "stopping";
        return [{ type: "send", control: 3, contentTypes: [] }];
      }
      this.#state = "finished";
      return [{ type: "send", control: 3, contentTypes: [] }, {
        type: "finished",
      }];
    });
  }

  receive(frame: Frame): WriterEvent[] {
    return this.#call(
      "receive()",
      describeFrame(frame),
      () => this.hs.receive(frame),
      () => this.#expect(frame),
    );
  }

  junk(value: unknown): void {
    const where = `${this.where} receive() of no Frame (call ${++this
      .#calls} with ${json(value) ?? "undefined"})`;
    try {
      this.hs.receive(value as Frame);
    } catch (e) {
      if (
        !(e instanceof TypeError) ||
        !e.message.startsWith("Cannot handle frame")
      ) {
        fail(
          "crash",
          `${where} threw ${describeThrown(e)}, expected its TypeError`,
        );
      }
      this.#verifyState(where);
      return;
    }
    fail("invariant", `${where} did not throw a TypeError`);
  }

  /**
   * Calls `run`; `expect` gives the events due, or null when the call must
   * throw its documented TypeError (start twice, stop out of "data").
   */
  #call(
    what: string,
    arg: string,
    run: () => WriterEvent[],
    expect: () => Expected[] | null,
  ): WriterEvent[] {
    const where = `${this.where} ${what} in "${this.#state}" (call ${++this
      .#calls}${arg === "" ? "" : ` with ${arg}`})`;
    const expected = expect();
    let events: WriterEvent[];
    try {
      events = run();
    } catch (e) {
      if (
        expected === null && e instanceof TypeError &&
        e.message.startsWith("Cannot")
      ) {
        this.#verifyState(where);
        return [];
      }
      return fail("crash", `${where} threw ${describeThrown(e)}`);
    }
    if (expected === null) {
      fail("invariant", `${where} did not throw its TypeError`);
    }
    assertEvents(events, expected, where);
    this.#once.add(events);
    this.events.push(...events);
    this.#verifyState(where);
    return events;
  }

  #verifyState(where: string): void {
    const hs = this.hs;
    if (hs.state !== this.#state) {
      fail(
        "invariant",
        `${where}: state "${hs.state}", expected "${this.#state}"`,
      );
    }
    assertSame(
      hs.contentType,
      this.#contentType,
      `${where}: contentType`,
      "invariant",
    );
  }

  #sendStart(ct: Uint8Array | null): Expected[] {
    this.#contentType = ct === null ? null : ct.slice();
    this.#state = "data";
    return [
      { type: "send", control: 2, contentTypes: ct === null ? [] : [ct] },
      { type: "started", contentType: ct },
    ];
  }

  #fail(reason: string): Expected[] {
    this.#state = "failed";
    return [{ type: "failed", reason }];
  }

  /** What PROTOCOL.md §3 and §5 say the writer does with `frame`. */
  #expect(frame: Frame): Expected[] {
    const s = this.#state;
    if (s === "failed" || s === "finished") return [];
    if (frame.kind === "data") return this.#fail("unexpected-frame");
    const type = frame.type;
    if (!(type >= 1 && type <= 5)) return [];
    if (type === 1) {
      // ACCEPT: only after READY. The first of ours it lists.
      if (s !== "ready-sent") return this.#fail("unexpected-frame");
      const listed = frame.contentTypes;
      const ours = this.#ours;
      if (listed.length === 0) return this.#sendStart(ours[0] ?? null);
      if (ours.length === 0) return this.#sendStart(null);
      const chosen = ours.find((t) => includes(listed, t));
      if (chosen === undefined) return this.#fail("no-common-content-type");
      return this.#sendStart(chosen);
    }
    if (type === 5) {
      // FINISH: only after STOP.
      if (s !== "stopping") return this.#fail("unexpected-frame");
      this.#state = "finished";
      return [{ type: "finished" }];
    }
    return this.#fail("unexpected-frame");
  }
}

function describeFrame(f: Frame): string {
  if (f.kind === "data") return `data ${short(f.data)}`;
  return `control ${f.type} [${f.contentTypes.map(short).join(", ")}]`;
}

/** Makes a state machine as the case says; null if its constructor must throw (and did). */
function makeReader(c: HandshakeCase): CheckedReader | null {
  const expected = expectedTypes(c.readerTypes, true);
  const where = "ReaderHandshake";
  let hs: ReaderHandshake;
  try {
    hs = new ReaderHandshake({
      contentTypes: typesOf(c.readerTypes) as Uint8Array[],
    });
  } catch (e) {
    if (
      typeof expected === "string" && e instanceof Error &&
      e.constructor.name === expected
    ) {
      return null;
    }
    return fail(
      "crash",
      `new ${where} threw ${describeThrown(e)}, expected ${json(expected)}`,
    );
  }
  if (typeof expected === "string") {
    fail(
      "invariant",
      `new ${where} accepted content types it must refuse (${expected})`,
    );
  }
  return new CheckedReader(hs, expected, where);
}

function makeWriter(c: HandshakeCase): CheckedWriter | null {
  const expected = expectedTypes(c.writerTypes, c.bidirectional);
  const where = `WriterHandshake (${
    c.bidirectional ? "bidirectional" : "unidirectional"
  })`;
  let hs: WriterHandshake;
  try {
    hs = new WriterHandshake({
      contentTypes: typesOf(c.writerTypes) as Uint8Array[],
      bidirectional: c.bidirectional,
    });
  } catch (e) {
    if (
      typeof expected === "string" && e instanceof Error &&
      e.constructor.name === expected
    ) {
      return null;
    }
    return fail(
      "crash",
      `new ${where} threw ${describeThrown(e)}, expected ${json(expected)}`,
    );
  }
  if (typeof expected === "string") {
    fail(
      "invariant",
      `new ${where} accepted content types it must refuse (${expected})`,
    );
  }
  return new CheckedWriter(hs, expected, c.bidirectional, where);
}

/** Drains `decoder` into `take`; false once it threw (a typed error). */
function drainInto(
  decoder: FrameDecoder,
  take: (f: Frame) => void,
  where: string,
): boolean {
  try {
    for (let f = decoder.next(); f !== null; f = decoder.next()) take(f);
    return true;
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    decodeErrorRecord(e, where);
    return false;
  }
}

function checkHandshake(c: HandshakeCase): void {
  if (c.role === "pair") return checkPair(c);
  const machine = c.role === "reader" ? makeReader(c) : makeWriter(c);
  if (machine === null) return;
  const decoder = new FrameDecoder({
    engine: c.steps.length % 2 === 0 ? "ts" : "wasm",
  });
  let open = true;
  for (const step of c.steps as Step[]) {
    switch (step.op) {
      case "frame":
        machine.receive(frameFromJson(step.frame));
        break;
      case "junk":
        machine.junk(JUNK[step.value % JUNK.length]);
        break;
      case "bytes":
        if (!open) break;
        decoder.push(fromHex(step.hex));
        open = drainInto(
          decoder,
          (f) => machine.receive(f),
          `${machine.where}'s FrameDecoder`,
        );
        break;
      case "start":
        if (machine instanceof CheckedWriter) machine.start();
        break;
      case "stop":
        if (machine instanceof CheckedWriter) machine.stop();
        break;
    }
  }
}

/**
 * A writer and a reader talking through bytes: each message encoded, cut
 * into pieces, decoded by the peer's FrameDecoder. Perturbations drop,
 * duplicate or prefix messages. Honest peers must complete and agree.
 */
function checkPair(c: HandshakeCase): void {
  const reader = makeReader(c);
  const writer = makeWriter(c);
  if (reader === null || writer === null) return;
  const payloads = (c.payloads ?? []).map(fromHex).filter((p) => p.length > 0);
  const toReader = new FrameDecoder({
    engine: payloads.length % 2 ? "wasm" : "ts",
  });
  const toWriter = new FrameDecoder({
    engine: payloads.length % 2 ? "ts" : "wasm",
  });
  const queue: { to: "reader" | "writer"; bytes: Uint8Array }[] = [];
  let readerOpen = true;
  let writerOpen = true;
  const received: Uint8Array[] = [];
  const fromWriter = (events: WriterEvent[]) => {
    for (const e of events) {
      if (e.type === "send") queue.push({ to: "reader", bytes: e.bytes });
      else if (e.type === "started") {
        for (const p of payloads) {
          queue.push({ to: "reader", bytes: encodeDataFrame(p) });
        }
        fromWriter(writer.stop());
      } else if (e.type === "failed" || e.type === "finished") {
        writerOpen = false;
      }
    }
  };
  const fromReader = (events: ReaderEvent[]) => {
    for (const e of events) {
      if (e.type === "send") queue.push({ to: "writer", bytes: e.bytes });
      else if (e.type === "data") received.push(e.data.slice());
      else if (e.type === "failed" || e.type === "stopped") readerOpen = false;
    }
  };
  const perturb = c.perturb ?? [];
  const piece = c.piece ?? 0;
  const deliver = (to: "reader" | "writer", bytes: Uint8Array) => {
    if (to === "reader" ? !readerOpen : !writerOpen) return;
    const decoder = to === "reader" ? toReader : toWriter;
    const step = piece > 0 ? piece : Math.max(1, bytes.length);
    for (let at = 0; at < bytes.length; at += step) {
      decoder.push(bytes.subarray(at, at + step));
      const ok = drainInto(
        decoder,
        (f) => {
          if (to === "reader") {
            if (readerOpen) fromReader(reader.receive(f));
          } else if (writerOpen) fromWriter(writer.receive(f));
        },
        `${to === "reader" ? reader.where : writer.where}'s FrameDecoder`,
      );
      if (!ok) {
        if (to === "reader") readerOpen = false;
        else writerOpen = false;
        return;
      }
    }
  };
  fromWriter(writer.start());
  let m = 0;
  while (queue.length > 0) {
    if (m > 1_000) {
      fail("invariant", "the conversation does not end (over 1,000 messages)");
    }
    const msg = queue.shift()!;
    let copies = 1;
    for (const p of perturb) {
      if (p.at !== m) continue;
      if (p.op === "drop") copies = 0;
      else if (p.op === "duplicate") copies++;
      else if (p.hex !== undefined) deliver(msg.to, fromHex(p.hex));
    }
    for (let i = 0; i < copies; i++) deliver(msg.to, msg.bytes);
    m++;
  }
  if (perturb.length > 0) return;
  // Honest peers: complete, unless their content types do not meet.
  const R = expectedTypes(c.readerTypes, true) as Uint8Array[];
  const W = expectedTypes(c.writerTypes, c.bidirectional) as Uint8Array[];
  let mismatch: string | null = null;
  if (c.bidirectional) {
    if (R.length > 0 && W.length > 0 && !W.some((t) => includes(R, t))) {
      mismatch = "no-common-content-type";
    }
  } else if (W.length > 0 && R.length > 0 && !includes(R, W[0]!)) {
    mismatch = "content-type-mismatch";
  }
  const failed = reader.events.find((e) => e.type === "failed");
  if (mismatch !== null) {
    if (failed === undefined || failed.error.reason !== mismatch) {
      fail(
        "invariant",
        `honest peers with no common content type: the reader did not fail with ${mismatch}`,
      );
    }
    return;
  }
  if (reader.state !== "stopped" || writer.state !== "finished") {
    fail(
      "invariant",
      `honest peers did not complete: reader "${reader.state}", writer "${writer.state}"${
        failed !== undefined ? ` (reader failed: ${failed.error.message})` : ""
      }`,
    );
  }
  assertSame(
    reader.hs.contentType,
    writer.hs.contentType,
    "honest peers disagree on the content type",
    "invariant",
  );
  const ct = writer.hs.contentType;
  if (ct !== null && R.length > 0 && !includes(R, ct)) {
    fail(
      "invariant",
      "the stream's content type is not one the reader accepts",
    );
  }
  assertSame(
    received,
    payloads,
    "the reader did not receive the writer's data frames",
    "invariant",
  );
}
