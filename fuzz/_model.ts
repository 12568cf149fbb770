// Private: a reference decoder, written from PROTOCOL.md §1 and §5 and the
// errors' documentation, as plainly as possible: the whole input at once, one
// frame after another, no chunks, no carry buffer, no scan table, no engine.
// The fuzzer holds FrameDecoder and FrameReader to it, so that a bug that
// both engines share (they share everything but the scan) is still caught.
//
// It gives frames (with where their bytes end, for the liveness check), the
// error as its class and public fields, and the counters at the end (or at
// the error).

import { describeForeignBytes } from "../src/_bytes.ts";

/** Options the model understands (already checked). */
export interface ModelOptions {
  maxFrameLength: number;
  skipOversize: boolean;
  strict: boolean;
}

/** A frame the model delivers. */
export type ModelFrame =
  | {
    kind: "data";
    offset: number;
    /** The payload: a view of the input. */
    data: Uint8Array;
    /** Stream offset just past the frame. */
    end: number;
  }
  | {
    kind: "control";
    offset: number;
    type: number;
    contentTypes: Uint8Array[];
    end: number;
  };

/** An error as the model expects it: class name and public fields. */
export interface ModelError {
  class:
    | "FrameTooLargeError"
    | "NotFrameStreamsError"
    | "TruncatedFrameError"
    | "ControlFrameError"
    | "UnexpectedFrameError";
  fields: Record<string, unknown>;
  /**
   * Stream offset from which the error is due: once this many bytes have
   * been pushed, pulling must throw it (Infinity: only after end()).
   */
  dueAt: number;
}

/** The counters every decoding path keeps. */
export interface ModelCounters {
  frames: number;
  controlFrames: number;
  skippedFrames: number;
  oversizedFrames: number;
  started: boolean;
  stopped: boolean;
  contentType: Uint8Array | null;
  bytes: number;
}

/** What the model makes of an input. */
export interface ModelResult {
  frames: ModelFrame[];
  error: ModelError | null;
  counters: ModelCounters;
}

const IDLE = 0;
const DATA = 1;
const STOPPED = 2;

const START = 2;
const STOP = 3;

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>>
    0;
}

/** Decodes `bytes` whole, as PROTOCOL.md §5 says a decoder must. */
export function decodeModel(
  bytes: Uint8Array,
  options: ModelOptions,
): ModelResult {
  const { maxFrameLength, skipOversize, strict } = options;
  const n = bytes.length;
  const frames: ModelFrame[] = [];
  const c: ModelCounters = {
    frames: 0,
    controlFrames: 0,
    skippedFrames: 0,
    oversizedFrames: 0,
    started: false,
    stopped: false,
    contentType: null,
    bytes: 0,
  };
  let phase = IDLE;
  const done = (error: ModelError | null): ModelResult => {
    c.started = phase !== IDLE;
    c.stopped = phase === STOPPED;
    return { frames, error, counters: c };
  };
  const truncated = (
    offset: number,
    received: number,
    expected: number | null,
  ) =>
    done({
      class: "TruncatedFrameError",
      fields: { offset, reason: "frame", received, expected },
      dueAt: Infinity,
    });
  const controlError = (
    offset: number,
    errorOffset: number,
    reason: string,
    dueAt: number,
  ) =>
    done({
      class: "ControlFrameError",
      fields: { offset, errorOffset, reason },
      dueAt,
    });
  let pos = 0;
  for (;;) {
    if (pos === n) {
      if (strict && phase !== STOPPED) {
        return done({
          class: "TruncatedFrameError",
          fields: {
            offset: n,
            reason: "missing-stop",
            received: 0,
            expected: null,
          },
          dueAt: Infinity,
        });
      }
      return done(null);
    }
    const avail = n - pos;
    if (avail < 4) return truncated(pos, avail, null);
    const len = u32(bytes, pos);
    if (len !== 0) {
      // A data frame.
      if (len > maxFrameLength) {
        // Foreign first bytes at byte 0: not Frame Streams, never skipped.
        if (pos === 0 && describeForeignBytes(bytes.subarray(0, 4))) {
          return done({
            class: "NotFrameStreamsError",
            fields: { offset: 0 },
            dueAt: 4,
          });
        }
        if (!skipOversize) {
          return done({
            class: "FrameTooLargeError",
            fields: { offset: pos, length: len, maxFrameLength },
            dueAt: pos + 4,
          });
        }
        c.oversizedFrames++;
        if (avail < 4 + len) return truncated(pos, avail, 4 + len);
        pos += 4 + len;
        continue;
      }
      if (avail < 4 + len) return truncated(pos, avail, 4 + len);
      if (phase !== DATA && strict) {
        return done({
          class: "UnexpectedFrameError",
          fields: { offset: pos, frameType: 0 },
          dueAt: pos + 4 + len,
        });
      }
      c.frames++;
      c.bytes += len;
      frames.push({
        kind: "data",
        offset: pos,
        data: bytes.subarray(pos + 4, pos + 4 + len),
        end: pos + 4 + len,
      });
      pos += 4 + len;
      continue;
    }
    // A control frame: escape, clen, type, fields.
    if (avail < 8) return truncated(pos, avail, null);
    const clen = u32(bytes, pos + 4);
    if (clen < 4 || clen > 512) {
      return controlError(pos, pos + 4, "length", pos + 8);
    }
    if (avail < 8 + clen) return truncated(pos, avail, 8 + clen);
    const end = pos + 8 + clen;
    const type = u32(bytes, pos + 8);
    const known = type >= 1 && type <= 5;
    const contentTypes: Uint8Array[] = [];
    if (known) {
      const max = type === START
        ? 1
        : type === STOP || type === 5
        ? 0
        : Infinity;
      let p = pos + 12;
      while (p < end) {
        if (end - p < 8) return controlError(pos, p, "field-header", end);
        if (u32(bytes, p) !== 1) return controlError(pos, p, "field-type", end);
        const flen = u32(bytes, p + 4);
        if (flen > end - p - 8) {
          return controlError(pos, p + 4, "field-length", end);
        }
        if (flen > 256) {
          return controlError(pos, p + 4, "content-type-length", end);
        }
        if (contentTypes.length + 1 > max) {
          return controlError(pos, p, "content-type-count", end);
        }
        contentTypes.push(bytes.slice(p + 8, p + 8 + flen));
        p += 8 + flen;
      }
    }
    if (!known) {
      if (strict) return controlError(pos, pos + 8, "unknown-type", end);
      c.skippedFrames++;
      pos = end;
      continue;
    }
    // Where it belongs: STOP inside a stream, every other type outside.
    const allowed = type === STOP ? phase === DATA : phase !== DATA;
    if (!allowed) {
      if (strict) {
        return done({
          class: "UnexpectedFrameError",
          fields: { offset: pos, frameType: type },
          dueAt: end,
        });
      }
      c.skippedFrames++;
      pos = end;
      continue;
    }
    if (type === START) {
      phase = DATA;
      c.contentType = contentTypes[0] ?? null;
    } else if (type === STOP) {
      phase = STOPPED;
    }
    c.controlFrames++;
    frames.push({ kind: "control", offset: pos, type, contentTypes, end });
    pos = end;
  }
}
