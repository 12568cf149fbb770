// Private: the one place that walks frames already encoded on the wire,
// outside the decoder and the scanner (which parse untrusted input with
// their own tables). Everything that forwards, cuts or counts encoded frames
// (the writer's runs, capture, replay, the output file) walks them here.
//
// Wire format (docs/protocol.md): a data frame is a big-endian u32 length
// (> 0) and that many payload bytes; a control frame is a 0 escape word, a
// u32 length and that many bytes.
import { TruncatedFrameError, UnexpectedFrameError } from "./errors.ts";

/** Reads the big-endian u32 at `at` (the caller checks the bounds). */
export function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) |
    (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Writes `value` as a big-endian u32 at `at` (the caller checks the bounds). */
export function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/**
 * The number of data frames in `bytes`, which must hold whole encoded data
 * frames and nothing else, at least one. Else the error a decoder would
 * give, with offsets in `bytes`: {@linkcode UnexpectedFrameError} for a
 * control frame, {@linkcode TruncatedFrameError} for a frame cut short,
 * `RangeError` for no frame at all, `TypeError` for something that is not
 * bytes.
 */
export function countDataFrames(bytes: unknown, what = "write frames"): number {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot ${what}: expected a Uint8Array, got ${
        bytes === null ? "null" : typeof bytes
      }`,
    );
  }
  const end = bytes.length;
  let at = 0;
  let frames = 0;
  while (end - at >= 4) {
    const length = readU32(bytes, at);
    if (length === 0) {
      throw new UnexpectedFrameError(
        at,
        end - at >= 12 ? readU32(bytes, at + 8) : 0,
        "a control frame among the data frames to write",
      );
    }
    if (end - at - 4 < length) {
      throw new TruncatedFrameError(at, end - at, 4 + length);
    }
    at += 4 + length;
    frames++;
  }
  if (at < end) throw new TruncatedFrameError(at, end - at, null);
  if (frames === 0) {
    throw new RangeError(`Cannot ${what}: no frame in empty bytes`);
  }
  return frames;
}

/**
 * The end of the first `frames` data frames of a run that starts at `start`
 * in `bytes` (a run already checked: whole data frames back to back).
 */
export function dataRunEnd(
  bytes: Uint8Array,
  start: number,
  frames: number,
): number {
  let at = start;
  for (let k = 0; k < frames; k++) at += 4 + readU32(bytes, at);
  return at;
}

/**
 * Calls `visit(payloadOffset, length)` for each of the `frames` data frames
 * of a checked run that starts at `start` in `bytes`; the last promise a
 * visit returned, if any (a run is taken whole).
 */
export function forEachDataFrame(
  bytes: Uint8Array,
  start: number,
  frames: number,
  visit: (offset: number, length: number) => void | Promise<void>,
): void | Promise<void> {
  let wait: void | Promise<void> = undefined;
  for (let at = start, k = 0; k < frames; k++) {
    const length = readU32(bytes, at);
    const returned = visit(at + 4, length);
    if (returned !== undefined) wait = returned;
    at += 4 + length;
  }
  return wait;
}

/**
 * The whole frames, data and control, at the start of `bytes[0, end)`: the
 * length they take and how many of them are data frames. Bytes of a frame
 * not wholly there are left out.
 */
export function wholeFrames(
  bytes: Uint8Array,
  end: number,
): { length: number; frames: number } {
  let at = 0;
  let frames = 0;
  while (at + 4 <= end) {
    const length = readU32(bytes, at);
    let next: number;
    if (length !== 0) next = at + 4 + length;
    else if (at + 8 <= end) next = at + 8 + readU32(bytes, at + 4);
    else break;
    if (next > end) break;
    if (length !== 0) frames++;
    at = next;
  }
  return { length: at, frames };
}
