// Private: the phase of a unidirectional stream (docs/protocol.md §5.1), shared by
// every decoding path so that all of them apply one set of rules.
import { ControlType } from "./constants.ts";
import type { ControlFrame } from "./frame.ts";
import {
  ControlFrameError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "./errors.ts";
import { KIND_UNKNOWN_CONTROL } from "./_scan.ts";
import { CONTROL_NAMES, controlFrame, u32 } from "./_control.ts";

/** Before START (or before any frame). */
export const PHASE_IDLE = 0;
/** After START: data frames belong here. */
export const PHASE_DATA = 1;
/** After STOP. A new START may begin another stream. */
export const PHASE_STOPPED = 2;

/** The phase machine and its counters. */
export class StreamState {
  phase: number = PHASE_IDLE;
  contentType: Uint8Array | null = null;
  frames = 0;
  /** Payload bytes of the data frames counted (length words not included). */
  bytes = 0;
  controlFrames = 0;
  skippedFrames = 0;
  readonly strict: boolean;
  /** Known control frames out of place are delivered, for a caller keeping the phase. */
  readonly deliverOutOfPlace: boolean;

  constructor(strict: boolean, deliverOutOfPlace = false) {
    this.strict = strict;
    this.deliverOutOfPlace = deliverOutOfPlace;
  }

  /**
   * A data frame outside a stream, at `offset`: an error in strict mode,
   * delivered otherwise. Callers check `phase !== PHASE_DATA` first, so
   * the hot path costs one comparison.
   */
  dataOutOfPlace(offset: number): void {
    if (!this.strict) return;
    throw new UnexpectedFrameError(
      offset,
      0,
      this.phase === PHASE_IDLE
        ? "data frame before START"
        : "data frame after STOP",
    );
  }

  /**
   * A control frame the scanner validated, at window offset `at` (stream
   * offset `offset`): the frame to deliver, or null if policy skips it.
   */
  control(
    window: Uint8Array,
    at: number,
    clen: number,
    kind: number,
    offset: number,
  ): ControlFrame | null {
    if (kind === KIND_UNKNOWN_CONTROL) {
      if (this.strict) {
        throw new ControlFrameError(
          offset,
          offset + 8,
          "unknown-type",
          `unknown control type ${u32(window, at + 8)}`,
        );
      }
      this.skippedFrames++;
      return null;
    }
    const inStream = this.phase === PHASE_DATA;
    const allowed = kind === ControlType.STOP ? inStream : !inStream;
    if (!allowed && !this.deliverOutOfPlace) {
      if (this.strict) {
        throw new UnexpectedFrameError(
          offset,
          kind,
          `${CONTROL_NAMES[kind]} frame ${
            inStream ? "inside" : "outside"
          } a stream`,
        );
      }
      this.skippedFrames++;
      return null;
    }
    const frame = controlFrame(window, at, clen, kind, offset);
    if (kind === ControlType.START) {
      this.phase = PHASE_DATA;
      this.contentType = frame.contentTypes[0] ?? null;
    } else if (kind === ControlType.STOP) {
      this.phase = PHASE_STOPPED;
    }
    this.controlFrames++;
    return frame;
  }

  /** End of input at a frame boundary at `offset`: strict mode wants STOP. */
  end(offset: number): void {
    if (this.strict && this.phase !== PHASE_STOPPED) {
      throw new TruncatedFrameError(offset, 0, null, "missing-stop");
    }
  }
}
