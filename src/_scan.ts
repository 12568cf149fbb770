// The frame scanner's contract, and its pure-TypeScript implementation.
//
// A scanner walks a window of bytes from `start` to `end` and fills a result
// table with one entry per complete frame, three u32 words each:
//   [frameOffset, length, kind]
// frameOffset is the window offset of the frame's first byte (the length word
// of a data frame, the escape of a control frame); length is the payload
// length of a data frame (payload at frameOffset + 4) or the `clen` of a
// control frame (control type at frameOffset + 8); kind is KIND_DATA, a known
// control type (1..5), or KIND_UNKNOWN_CONTROL.
//
// It stops at the end of the window, when the table is full, or at the first
// frame it cannot take, and says why in the `out` words:
//   out[0] status, out[1] stop position (window offset of the frame it stopped
//   at, or `end`), out[2] value, out[3] reason or flag, out[4] error position.
// Control frames are validated structurally here (docs/protocol.md §5.1) so that
// every engine rejects exactly the same bytes at exactly the same offsets.
// The WebAssembly scanner (wasm/assembly) implements the same contract.

/** The window was consumed up to `end`, at a frame boundary. */
export const STATUS_END = 0;
/** A frame starts at out[1] but is not complete. out[3] says what is known:
 * NEED_HEADER (out[2] is the header size, 4 or 8, the scanner needs to go
 * on), NEED_DATA (out[2] is the data frame's payload length) or NEED_CONTROL
 * (out[2] is the control frame's clen). */
export const STATUS_NEED_MORE = 1;
/** The table is full; scanning may resume at out[1]. */
export const STATUS_TABLE_FULL = 2;
/** The data frame at out[1] announces out[2] bytes, over the limit. */
export const STATUS_TOO_LARGE = 3;
/** The control frame at out[1] is malformed: out[3] is the reason code,
 * out[4] the window offset of the offending word, out[2] its value. */
export const STATUS_CONTROL_ERROR = 4;

export const NEED_HEADER = 0;
export const NEED_DATA = 1;
export const NEED_CONTROL = 2;

export const KIND_DATA = 0;
export const KIND_UNKNOWN_CONTROL = 6;

export const REASON_LENGTH = 1;
export const REASON_FIELD_HEADER = 2;
export const REASON_FIELD_LENGTH = 3;
export const REASON_FIELD_TYPE = 4;
export const REASON_CONTENT_TYPE_LENGTH = 5;
export const REASON_CONTENT_TYPE_COUNT = 6;

/** Words per table entry. */
export const ENTRY_WORDS = 3;

/** Scans `buf[start, end)`; returns the number of table entries filled. */
export function scanFramesTs(
  buf: Uint8Array,
  start: number,
  end: number,
  maxFrameLength: number,
  table: Uint32Array,
  capacity: number,
  out: Uint32Array,
): number {
  let pos = start;
  let n = 0;
  for (;;) {
    const avail = end - pos;
    if (avail === 0) {
      out[0] = STATUS_END;
      out[1] = pos;
      return n;
    }
    if (n === capacity) {
      out[0] = STATUS_TABLE_FULL;
      out[1] = pos;
      return n;
    }
    if (avail < 4) return needMore(out, pos, 4, NEED_HEADER, n);
    const len = ((buf[pos]! << 24) | (buf[pos + 1]! << 16) |
      (buf[pos + 2]! << 8) | buf[pos + 3]!) >>> 0;
    if (len !== 0) {
      if (len > maxFrameLength) {
        out[0] = STATUS_TOO_LARGE;
        out[1] = pos;
        out[2] = len;
        return n;
      }
      if (avail - 4 < len) return needMore(out, pos, len, NEED_DATA, n);
      const e = n * ENTRY_WORDS;
      table[e] = pos;
      table[e + 1] = len;
      table[e + 2] = KIND_DATA;
      n++;
      pos += 4 + len;
      continue;
    }
    if (avail < 8) return needMore(out, pos, 8, NEED_HEADER, n);
    const clen = u32(buf, pos + 4);
    if (clen < 4 || clen > 512) {
      return controlError(out, pos, REASON_LENGTH, pos + 4, clen, n);
    }
    if (avail - 8 < clen) return needMore(out, pos, clen, NEED_CONTROL, n);
    const type = u32(buf, pos + 8);
    let kind = type;
    if (type >= 1 && type <= 5) {
      // START takes at most one content type, STOP and FINISH none.
      const max = type === 2 ? 1 : type === 3 || type === 5 ? 0 : 0xffffffff;
      const fend = pos + 8 + clen;
      let p = pos + 12;
      let count = 0;
      while (p < fend) {
        if (fend - p < 8) {
          return controlError(out, pos, REASON_FIELD_HEADER, p, fend - p, n);
        }
        const ftype = u32(buf, p);
        if (ftype !== 1) {
          return controlError(out, pos, REASON_FIELD_TYPE, p, ftype, n);
        }
        const flen = u32(buf, p + 4);
        if (flen > fend - p - 8) {
          return controlError(out, pos, REASON_FIELD_LENGTH, p + 4, flen, n);
        }
        if (flen > 256) {
          return controlError(
            out,
            pos,
            REASON_CONTENT_TYPE_LENGTH,
            p + 4,
            flen,
            n,
          );
        }
        count++;
        if (count > max) {
          return controlError(
            out,
            pos,
            REASON_CONTENT_TYPE_COUNT,
            p,
            count,
            n,
          );
        }
        p += 8 + flen;
      }
    } else {
      kind = KIND_UNKNOWN_CONTROL;
    }
    const e = n * ENTRY_WORDS;
    table[e] = pos;
    table[e + 1] = clen;
    table[e + 2] = kind;
    n++;
    pos += 8 + clen;
  }
}

function u32(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) |
    buf[p + 3]!) >>> 0;
}

function needMore(
  out: Uint32Array,
  pos: number,
  value: number,
  what: number,
  n: number,
): number {
  out[0] = STATUS_NEED_MORE;
  out[1] = pos;
  out[2] = value;
  out[3] = what;
  return n;
}

function controlError(
  out: Uint32Array,
  pos: number,
  reason: number,
  errorPos: number,
  value: number,
  n: number,
): number {
  out[0] = STATUS_CONTROL_ERROR;
  out[1] = pos;
  out[2] = value;
  out[3] = reason;
  out[4] = errorPos;
  return n;
}
