// Load-test helpers shared by tests/load_test.ts, tests/fault_test.ts and
// bench/load_bench.ts: payloads that say who wrote them, and a ledger that
// checks every frame.
import type { ConnectionInfo } from "../src/frame_receiver.ts";

/** The length of writer `writer`'s frame `seq`: 80 to 400 bytes. */
function lengthOf(writer: number, seq: number): number {
  return 80 +
    ((Math.imul(writer, 7919) + Math.imul(seq, 104_729)) >>> 0) % 321;
}

/**
 * The payload writer `writer` sends as its frame `seq`: 8 bytes naming them
 * (both big-endian u32), then bytes that depend on both, so a frame lost,
 * repeated, reordered, cut or mixed with another shows.
 */
export function loadPayload(writer: number, seq: number): Uint8Array {
  const length = lengthOf(writer, seq);
  const out = new Uint8Array(length);
  fill(out, length, writer, seq);
  return out;
}

/** Writes the payload of (writer, seq) into `out[0, length)`. */
function fill(
  out: Uint8Array,
  length: number,
  writer: number,
  seq: number,
): void {
  out[0] = writer >>> 24;
  out[1] = writer >>> 16;
  out[2] = writer >>> 8;
  out[3] = writer;
  out[4] = seq >>> 24;
  out[5] = seq >>> 16;
  out[6] = seq >>> 8;
  out[7] = seq;
  let s =
    (Math.imul(writer + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b)) >>>
    0;
  for (let i = 8; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s;
  }
}

/** What a writer's stream looked like at the receiver. */
interface WriterRecord {
  /** The sequence number after the last frame seen. */
  next: number;
  /** Which frames arrived intact (1 per sequence number). */
  seen: Uint8Array;
  /** How many distinct frames arrived intact. */
  received: number;
}

/**
 * Checks every frame a receiver hands to `onData` against
 * {@linkcode loadPayload}: byte for byte, and in order per writer. It
 * records facts (frames, duplicates, gaps, rewinds, corrupt frames); each
 * test decides which are allowed.
 */
export class LoadLedger {
  readonly #frames: number;
  readonly #writers = new Map<number, WriterRecord>();
  readonly #scratch = new Uint8Array(400);
  /** Frames that arrived intact (duplicates included). */
  frames = 0;
  /** Payload bytes of those. */
  bytes = 0;
  /** Intact frames seen before. */
  duplicates = 0;
  /** Times a writer's frames skipped ahead (a frame or more missing there). */
  gaps = 0;
  /** Times a writer's frames went back (a resend). */
  rewinds = 0;
  /** Frames that were not what their writer sent (or named no writer). */
  corrupt = 0;
  /** The first problems seen (at most 20), as text. */
  readonly problems: string[] = [];

  /** @param frames The frames each writer sends (sequence numbers below it). */
  constructor(frames: number) {
    this.#frames = frames;
  }

  /** For `FrameReceiverOptions.onData`. */
  readonly onData = (
    window: Uint8Array,
    offset: number,
    length: number,
    _connection?: ConnectionInfo,
  ): void => {
    const w = window;
    const o = offset;
    if (length < 8) return this.#corrupt(`a ${length}-byte frame`);
    const writer =
      (w[o]! << 24 | w[o + 1]! << 16 | w[o + 2]! << 8 | w[o + 3]!) >>>
      0;
    const seq =
      (w[o + 4]! << 24 | w[o + 5]! << 16 | w[o + 6]! << 8 | w[o + 7]!) >>>
      0;
    if (seq >= this.#frames || length !== lengthOf(writer, seq)) {
      return this.#corrupt(`writer ${writer} frame ${seq}: ${length} bytes`);
    }
    const expected = this.#scratch;
    fill(expected, length, writer, seq);
    for (let i = 8; i < length; i++) {
      if (w[o + i] !== expected[i]) {
        return this.#corrupt(
          `writer ${writer} frame ${seq}: byte ${i} differs`,
        );
      }
    }
    let record = this.#writers.get(writer);
    if (record === undefined) {
      record = { next: 0, seen: new Uint8Array(this.#frames), received: 0 };
      this.#writers.set(writer, record);
    }
    if (seq > record.next) {
      this.gaps++;
      this.#note(`writer ${writer}: frame ${seq} where ${record.next} was due`);
    } else if (seq < record.next) this.rewinds++;
    record.next = seq + 1;
    if (record.seen[seq] === 1) this.duplicates++;
    else {
      record.seen[seq] = 1;
      record.received++;
    }
    this.frames++;
    this.bytes += length;
  };

  #corrupt(text: string): void {
    this.corrupt++;
    this.#note(text);
  }

  #note(text: string): void {
    if (this.problems.length < 20) this.problems.push(text);
  }

  /**
   * Writers 0 to `writers - 1` short of their frames, as
   * "writer: got/expected" (distinct frames); empty when nothing is lost.
   */
  missing(writers: number): string[] {
    const out: string[] = [];
    for (let w = 0; w < writers; w++) {
      const got = this.#writers.get(w)?.received ?? 0;
      if (got !== this.#frames) out.push(`${w}: ${got}/${this.#frames}`);
    }
    return out;
  }

  /** Distinct frames of writers 0 to `writers - 1` that never arrived. */
  lost(writers: number): number {
    let lost = 0;
    for (let w = 0; w < writers; w++) {
      lost += this.#frames - (this.#writers.get(w)?.received ?? 0);
    }
    return lost;
  }
}
