// Test helpers: hex vectors and decoding under arbitrary chunking.
import {
  type Engine,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
} from "../mod.ts";

/**
 * The engines every decoder suite runs under. A suite asserts that the engine
 * it asked for is the one that ran (see {@linkcode decodeSplit}), so a broken
 * WebAssembly build fails loudly instead of hiding behind a fallback.
 */
export const ENGINES: readonly Engine[] = ["ts", "wasm"];

/** Bytes from hex; spaces ignored, and "quoted" ASCII allowed. */
export function hex(text: string): Uint8Array {
  const out: number[] = [];
  const re = /"([^"]*)"|([0-9a-fA-F]{2})|\s+/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && re.lastIndex <= text.length) {
    if (m[1] !== undefined) { for (const c of m[1]) out.push(c.charCodeAt(0)); }
    else if (m[2] !== undefined) out.push(parseInt(m[2], 16));
    if (re.lastIndex === text.length) break;
  }
  if (re.lastIndex !== text.length) {
    throw new Error(`bad hex at ${re.lastIndex}: ${text}`);
  }
  return new Uint8Array(out);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A frame as plain data, comparable with deepEqual whatever its buffer. */
export type PlainFrame =
  | { kind: "data"; data: number[]; offset: number }
  | { kind: "control"; type: number; contentTypes: number[][]; offset: number };

/** Turns a frame into plain data. */
export function plain(frame: Frame): PlainFrame {
  return frame.kind === "data"
    ? { kind: "data", data: [...frame.data], offset: frame.offset }
    : {
      kind: "control",
      type: frame.type,
      contentTypes: frame.contentTypes.map((c) => [...c]),
      offset: frame.offset,
    };
}

/** What decoding gave: the frames, then the error if any (as a plain record). */
export interface Outcome {
  frames: PlainFrame[];
  error: Record<string, unknown> | null;
  skipped: number;
  oversized: number;
  stopped: boolean;
}

/** An error as its class name and public fields, for deepEqual. */
export function plainError(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { thrown: String(e) };
  return { ...e, name: e.name, message: e.message };
}

/** Decodes `bytes` cut at `cuts` (sorted offsets), collecting frames and the error. */
export function decodeSplit(
  bytes: Uint8Array,
  cuts: number[],
  options: FrameDecoderOptions = {},
): Outcome {
  const decoder = new FrameDecoder(options);
  // An explicit engine must be the one that runs: never a silent fallback.
  if (
    (options.engine === "ts" || options.engine === "wasm") &&
    decoder.engine !== options.engine
  ) {
    throw new Error(
      `engine ${options.engine} was asked for, ${decoder.engine} runs`,
    );
  }
  const frames: PlainFrame[] = [];
  let error: Record<string, unknown> | null = null;
  let last = 0;
  try {
    for (const cut of [...cuts, bytes.length]) {
      decoder.push(bytes.subarray(last, cut));
      last = cut;
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        frames.push(plain(f));
      }
    }
    decoder.end();
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      frames.push(plain(f));
    }
  } catch (e) {
    error = plainError(e);
  }
  return {
    frames,
    error,
    skipped: decoder.skippedFrames,
    oversized: decoder.oversizedFrames,
    stopped: decoder.stopped,
  };
}

/** Decodes `bytes` in one chunk. */
export function decodeWhole(
  bytes: Uint8Array,
  options: FrameDecoderOptions = {},
): Outcome {
  return decodeSplit(bytes, [], options);
}
