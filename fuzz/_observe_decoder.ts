// Private: a FrameDecoder run observed, and held to the reference model.
// observe() decodes an input cut into chunks with one engine and one API
// (next() or next(onData)), checking the invariants that hold frame by
// frame, and returns everything observable; assertModel() compares that with
// what the model (_model.ts) makes of the input. The decoder target compares
// engines and APIs with these; the reader target holds FrameReader to them.
//
// Invariants checked frame by frame: every complete frame is delivered as
// soon as its bytes are pushed and pulled, and every error thrown as soon as
// its bytes are there; frames inside one chunk are views of it, frames
// across chunks live in a buffer of their own of at most length + 8 bytes
// (the carry buffer: never more than maxFrameLength + 8); content types are
// copies; an error is one of the documented typed errors, thrown again by
// every later call.
import {
  type Engine,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
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
import { toHex } from "./_case.ts";
import type { ModelCounters, ModelResult } from "./_model.ts";

/** A frame as observed, comparable across paths. */
export type ObservedFrame =
  & { round: number; offset: number }
  & (
    | { kind: "data"; data: string; view: boolean }
    | { kind: "control"; type: number; contentTypes: string[] }
  );

/** A decoder's counters, comparable across paths (the content type in hex). */
export type Counters =
  & Omit<ModelCounters, "contentType">
  & { contentType: string | null };

/** Everything observable of one decoding run. */
export interface Observed {
  frames: ObservedFrame[];
  error: ErrorRecord | null;
  /** After an error: whether next() throws the very same error again. */
  sticky: boolean | null;
  /** Counters after each chunk, then at the end. */
  counters: Counters[];
}

/** The counters of `d` now. */
function decoderCounters(d: FrameDecoder): Counters {
  return {
    frames: d.frames,
    bytes: d.bytes,
    controlFrames: d.controlFrames,
    skippedFrames: d.skippedFrames,
    oversizedFrames: d.oversizedFrames,
    started: d.started,
    stopped: d.stopped,
    contentType: d.contentType === null ? null : toHex(d.contentType),
  };
}

/** Where the input is cut: chunks (views of `bytes`) and their starts. */
export interface Chunks {
  chunks: Uint8Array[];
  starts: number[];
  /** Bytes pushed once chunk i is in. */
  pushed: number[];
}

/** `bytes` cut at `cuts` (out-of-range and repeated cuts ignored). */
export function cutChunks(bytes: Uint8Array, cuts: readonly number[]): Chunks {
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

/** An input to decode as a case says, and what the model makes of it. */
export interface DecoderInput {
  bytes: Uint8Array;
  /** Where the input is cut. */
  chunks: Chunks;
  /** Whether to pull frames after each chunk. */
  pulls: readonly boolean[];
  /** The decoder's options (the engine aside). */
  options: FrameDecoderOptions;
  model: ModelResult;
  maxFrameLength: number;
}

/** How one run decodes: the engine, the API, and onData's throws. */
export interface DecoderRun {
  engine: Engine;
  api: "next" | "nextOnData";
  /** next(onData)'s onData throws on every data frame whose index is a multiple of this (0: never). */
  throwEvery: number;
}

/**
 * Decodes the input with one engine and one API, checking the invariants
 * that hold frame by frame; returns everything observable.
 */
export function observe(input: DecoderInput, run: DecoderRun): Observed {
  const { bytes, chunks: ch, pulls, options, model, maxFrameLength } = input;
  const { engine, api, throwEvery } = run;
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
    : () => decoder.next(onData);
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
        if (api === "nextOnData") {
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
export function assertModel(
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
    frames: m.frames,
    bytes: m.bytes,
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
