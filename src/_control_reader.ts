// Private: reads a byte stream that may hold control frames only (what a
// collector sends a writer: ACCEPT, FINISH), in any chunking, with the
// scanner's checks and stream offsets. A data frame is refused at its length
// word, its payload never awaited; at most one control frame (8 + 512
// bytes) is held between chunks. No phase rules: which frame may come when
// is the session's to decide.
import type { ControlFrame } from "./frame.ts";
import { HandshakeError } from "./errors.ts";
import {
  ENTRY_WORDS,
  KIND_UNKNOWN_CONTROL,
  scanFramesTs,
  STATUS_CONTROL_ERROR,
  STATUS_TOO_LARGE,
} from "./_scan.ts";
import { controlFrame, controlFrameError } from "./_control.ts";

/** Entries of the scan table: the peer sends few frames. */
const TABLE_ENTRIES = 16;
const EMPTY = new Uint8Array(0);

/** Control frames out of a stream of chunks; see the module comment. */
export class ControlReader {
  /** Known control frames handed out. */
  frames = 0;
  /** Control frames of unknown type, skipped. */
  skipped = 0;
  /** Bytes of a control frame not wholly arrived. */
  #held: Uint8Array = EMPTY;
  /** Stream offset of the first byte of `#held` (or of the next chunk). */
  #offset = 0;
  #table = new Uint32Array(TABLE_ENTRIES * ENTRY_WORDS);
  #out = new Uint32Array(8);

  /**
   * Reads `chunk` (not kept: what is held is copied), calling `onFrame`
   * with each known control frame in order while it returns true. Returns
   * the error that ends the stream (a data frame: HandshakeError; malformed
   * bytes: ControlFrameError), or null.
   */
  push(
    chunk: Uint8Array,
    onFrame: (frame: ControlFrame) => boolean,
  ): Error | null {
    let window = chunk;
    if (this.#held.length > 0) {
      window = new Uint8Array(this.#held.length + chunk.length);
      window.set(this.#held);
      window.set(chunk, this.#held.length);
    }
    const table = this.#table;
    const out = this.#out;
    const end = window.length;
    let pos = 0;
    for (;;) {
      // Limit 0: any data frame stops the scan at its length word.
      const n = scanFramesTs(window, pos, end, 0, table, TABLE_ENTRIES, out);
      for (let i = 0; i < n; i++) {
        const e = i * ENTRY_WORDS;
        const at = table[e]!;
        const kind = table[e + 2]!;
        if (kind === KIND_UNKNOWN_CONTROL) {
          this.skipped++;
          continue;
        }
        this.frames++;
        const frame = controlFrame(
          window,
          at,
          table[e + 1]!,
          kind,
          this.#offset + at,
        );
        if (!onFrame(frame)) return this.#stop();
      }
      const status = out[0]!;
      pos = out[1]!;
      if (status === STATUS_TOO_LARGE) {
        const offset = this.#offset + pos;
        this.#stop();
        return new HandshakeError(
          "unexpected-frame",
          `data frame at byte ${offset}: a writer never receives data frames`,
        );
      }
      if (status === STATUS_CONTROL_ERROR) {
        const offset = this.#offset;
        this.#stop();
        return controlFrameError(
          window,
          offset,
          pos,
          out[2]!,
          out[3]!,
          out[4]!,
        );
      }
      if (n < TABLE_ENTRIES || pos === end) break; // need more, or all read
    }
    // What is left is the start of one control frame (under 8 + 512 bytes:
    // the scan checked its length once 8 bytes were there).
    this.#held = pos === end ? EMPTY : window.slice(pos);
    this.#offset += pos;
    return null;
  }

  #stop(): null {
    this.#held = EMPTY;
    return null;
  }
}
