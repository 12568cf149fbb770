// Private: control frames from scanned bytes, and the errors the scanner reports.
import { ControlType } from "./constants.ts";
import type { ControlFrame } from "./frame.ts";
import { ControlFrameError, type ControlFrameErrorReason } from "./errors.ts";
import {
  REASON_CONTENT_TYPE_COUNT,
  REASON_CONTENT_TYPE_LENGTH,
  REASON_FIELD_HEADER,
  REASON_FIELD_LENGTH,
  REASON_FIELD_TYPE,
  REASON_LENGTH,
} from "./_scan.ts";

/** Names of the known control types. */
export const CONTROL_NAMES: Record<number, string> = {
  1: "ACCEPT",
  2: "START",
  3: "STOP",
  4: "READY",
  5: "FINISH",
};

const REASONS: Record<number, ControlFrameErrorReason> = {
  [REASON_LENGTH]: "length",
  [REASON_FIELD_HEADER]: "field-header",
  [REASON_FIELD_LENGTH]: "field-length",
  [REASON_FIELD_TYPE]: "field-type",
  [REASON_CONTENT_TYPE_LENGTH]: "content-type-length",
  [REASON_CONTENT_TYPE_COUNT]: "content-type-count",
};

/** Reads a big-endian u32. */
export function u32(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) |
    buf[p + 3]!) >>> 0;
}

/** Builds a control frame from bytes the scanner validated. */
export function controlFrame(
  window: Uint8Array,
  at: number,
  clen: number,
  type: number,
  offset: number,
): ControlFrame {
  const contentTypes: Uint8Array[] = [];
  const end = at + 8 + clen;
  for (let p = at + 12; p < end;) {
    const flen = u32(window, p + 4);
    contentTypes.push(window.slice(p + 8, p + 8 + flen));
    p += 8 + flen;
  }
  return { kind: "control", type, contentTypes, offset };
}

/**
 * The error for a scanner's STATUS_CONTROL_ERROR: the frame at window offset
 * `at`, reason code `reason`, the offending word at `errorAt` with `value`.
 */
export function controlFrameError(
  window: Uint8Array,
  base: number,
  at: number,
  value: number,
  reason: number,
  errorAt: number,
): ControlFrameError {
  const name = REASONS[reason] ?? "length";
  let detail: string;
  switch (name) {
    case "length":
      detail = `its length is ${value}, it must be from 4 to 512`;
      break;
    case "field-header":
      detail = `${value} bytes left for a field, a field header needs 8`;
      break;
    case "field-length":
      detail = `a field of ${value} bytes runs past the end of the frame`;
      break;
    case "field-type":
      detail = `unknown field type ${value}`;
      break;
    case "content-type-length":
      detail = `content type is ${value} bytes, limit 256`;
      break;
    default: {
      const type = u32(window, at + 8);
      const max = type === ControlType.START ? 1 : 0;
      detail = `${CONTROL_NAMES[type]} may carry at most ${max} content type${
        max === 1 ? "" : "s"
      }, this one carries ${value} or more`;
    }
  }
  return new ControlFrameError(base + at, base + errorAt, name, detail);
}
