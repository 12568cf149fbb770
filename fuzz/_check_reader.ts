// Private: the reader fuzz target. The input goes through FrameReader
// (engines "ts" and "wasm", small windows, reads of the case's sizes,
// readSync or not, forEachFrame, forEachRun, batches or iteration, copies or
// views; a callback that returns promises and reads its payload (run) only
// once they settle, or throws; iteration stopped early). It must give the
// same frames, payloads, error (class, fields, message) and summary as
// FrameDecoder and the reference model, and the same everything under both
// engines; windows stay within windowSize (or one frame), and a run holds
// exactly its count of whole frames.
import fc from "fast-check";
import {
  type Engine,
  type Frame,
  type FrameDecoderOptions,
  FrameReader,
  type FrameReaderOptions,
  type FrameReaderSummary,
} from "../mod.ts";
import {
  assertSame,
  decodeErrorRecord,
  type ErrorRecord,
  fail,
  FuzzFailure,
  SENTINEL,
  short,
  u32,
} from "./_assert.ts";
import {
  caseInput,
  type FuzzCase,
  type InputSpelling,
  toHex,
} from "./_case.ts";
import {
  decoderBytesArb,
  overWindowArb,
  WINDOW,
  windowedArb,
} from "./_input_arbs.ts";
import { reduceBytes } from "./_minimise.ts";
import { decodeModel, type ModelFrame } from "./_model.ts";
import {
  assertModel,
  cutChunks,
  observe,
  type ObservedFrame,
} from "./_observe_decoder.ts";
import {
  type CaseOptions,
  frameAllowance,
  fuzzOptionsArb,
  validOptions,
} from "./_options.ts";
import { defineTarget, type FuzzTarget } from "./_target.ts";

/** Bytes through FrameReader (both engines), against FrameDecoder. */
export interface ReaderCase extends FuzzCase, InputSpelling {
  target: "reader";
  /** Sizes of successive reads, cycled (each at least 1). */
  reads: number[];
  options: CaseOptions;
  windowSize: number;
  how: "forEachFrame" | "forEachRun" | "batches" | "iterator";
  reuseWindow: boolean;
  readSync: boolean;
  /** forEachFrame (forEachRun): the callback returns a promise on every data frame (run) whose index is a multiple of this (0: never), and reads the payload (run) once it settles. */
  awaitEvery?: number;
  /** Stop early: forEachFrame's callback throws at this data frame (forEachRun's at the run that holds it); batches and iteration break once they have this many frames (-1 or absent: never). */
  stopAt?: number;
}

// ---------------------------------------------------------------------------
// Cases.

const readerOptionsArb: fc.Arbitrary<CaseOptions> = fc.oneof(
  { weight: 4, arbitrary: fuzzOptionsArb },
  {
    weight: 1,
    arbitrary: fc.record({
      maxFrameLength: fc.oneof(
        fc.integer({ min: WINDOW - 16, max: WINDOW + 16 }),
        fc.integer({ min: 1, max: 3 * WINDOW }),
      ),
      oversize: fc.constantFrom("error", "skip"),
      strict: fc.boolean(),
    }),
  },
);

/** Cases of the reader target. */
const readerCaseArb: fc.Arbitrary<ReaderCase> = fc.record({
  bytes: fc.oneof(
    { weight: 3, arbitrary: decoderBytesArb },
    { weight: 4, arbitrary: windowedArb },
    { weight: 2, arbitrary: overWindowArb },
  ),
  reads: fc.array(
    fc.oneof(
      fc.integer({ min: 1, max: 16 }),
      fc.integer({ min: 1, max: 70_000 }),
      fc.constantFrom(WINDOW, 1 << 30),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  options: readerOptionsArb,
  windowSize: fc.constantFrom(WINDOW, WINDOW, 2 * WINDOW),
  how: fc.constantFrom(
    "forEachFrame" as const,
    "forEachRun" as const,
    "batches" as const,
    "iterator" as const,
  ),
  reuseWindow: fc.boolean(),
  readSync: fc.boolean(),
  awaitEvery: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }) },
  ),
  stopAt: fc.oneof(
    { weight: 4, arbitrary: fc.constant(-1) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
  ),
}).map((r) => {
  // At most about 2,000 reads per input, so that large inputs stay fast.
  const least = Math.ceil(r.bytes.length / 2_000);
  return {
    target: "reader",
    ...r,
    reads: r.reads.map((n) => Math.max(n, least)),
  } satisfies ReaderCase & { bytes: Uint8Array };
});

// ---------------------------------------------------------------------------
// Checks.

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
        K in Exclude<
          keyof FrameReaderSummary,
          "engine" | "contentType" | "contentTypeBytes"
        >
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
    reuseWindow: c.reuseWindow,
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
  // Views of the window (reuseWindow) are copied at once; frames that own
  // their payloads are kept as they are, to prove they stay valid.
  const keep = (f: Frame): Frame =>
    !c.reuseWindow || f.kind !== "data" ? f : { ...f, data: f.data.slice() };
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
  const text = s.contentTypeBytes === null
    ? null
    : new TextDecoder().decode(s.contentTypeBytes);
  if (s.contentType !== text) {
    fail(
      "invariant",
      `${where}: summary.contentType ${s.contentType} is not its bytes as text`,
    );
  }
  return {
    frames: frames === null ? null : frames.map(readerFrame),
    payloads: payloads.map(short),
    error,
    summary: {
      started: s.started,
      stopped: s.stopped,
      frames: s.frames,
      bytes: s.bytes,
      controlFrames: s.controlFrames,
      skippedFrames: s.skippedFrames,
      oversizedFrames: s.oversizedFrames,
      bytesRead: s.bytesRead,
      contentType: s.contentTypeBytes === null
        ? null
        : toHex(s.contentTypeBytes),
    },
  };
}

async function checkReader(c: ReaderCase): Promise<void> {
  const bytes = caseInput(c);
  const opts = validOptions(
    c.options,
    "FrameReader",
    (options) =>
      new FrameReader(new CaseSource(bytes, c.reads), {
        ...options,
        windowSize: c.windowSize,
      }),
  );
  if (opts === null) return;
  const model = decodeModel(bytes, opts.options);
  // FrameDecoder, one chunk: the errors' messages to match.
  const one = observe({
    bytes,
    chunks: cutChunks(bytes, []),
    pulls: [true],
    options: opts.decoder,
    model,
    maxFrameLength: opts.options.maxFrameLength,
  }, { engine: "ts", api: "next", throwEvery: 0 });
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
      frames: m.frames,
      bytes: m.bytes,
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

/** The reader target. */
export const readerTarget: FuzzTarget = defineTarget<ReaderCase>({
  name: "reader",
  about: "FrameReader, both engines, every way to take frames",
  arb: readerCaseArb,
  sync: false,
  check: checkReader,
  allowance: frameAllowance,
  minimise: reduceBytes,
});
