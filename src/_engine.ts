// Scan engines: one object per decoder, owning its result table.
import { ENTRY_WORDS, scanFramesTs, STATUS_TABLE_FULL } from "./_scan.ts";

/** A scanner with its own result table (see _scan.ts for the contract). */
export interface ScanEngine {
  /** Which implementation runs. */
  readonly name: "ts" | "wasm";
  /** The result table: ENTRY_WORDS words per frame. */
  readonly table: Uint32Array;
  /** The status words of the last scan. */
  readonly out: Uint32Array;
  /** Scans `buf[start, end)`; returns the number of entries filled. */
  scan(
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrameLength: number,
  ): number;
}

/** Frames per scan call. */
export const TABLE_CAPACITY = 4096;

/** Frames per scan call of a decoder's first scans (see TsScanEngine). */
export const FIRST_CAPACITY = 64;

/**
 * The pure-TypeScript engine. Its table may start small (`firstCapacity`:
 * a connection that never gets past its handshake then costs little) and
 * grow, at the start of the scan after one that filled it, up to
 * TABLE_CAPACITY: read `table` after each scan.
 */
export class TsScanEngine implements ScanEngine {
  readonly name = "ts" as const;
  readonly out: Uint32Array = new Uint32Array(8);
  #table: Uint32Array;
  #capacity: number;
  #grow = false;

  constructor(firstCapacity: number = TABLE_CAPACITY) {
    this.#capacity = Math.min(firstCapacity, TABLE_CAPACITY);
    this.#table = new Uint32Array(this.#capacity * ENTRY_WORDS);
  }

  get table(): Uint32Array {
    return this.#table;
  }

  scan(
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrameLength: number,
  ): number {
    if (this.#grow) {
      this.#grow = false;
      this.#capacity = Math.min(TABLE_CAPACITY, this.#capacity * 8);
      this.#table = new Uint32Array(this.#capacity * ENTRY_WORDS);
    }
    const n = scanFramesTs(
      buf,
      start,
      end,
      maxFrameLength,
      this.#table,
      this.#capacity,
      this.out,
    );
    if (this.out[0] === STATUS_TABLE_FULL && this.#capacity < TABLE_CAPACITY) {
      this.#grow = true;
    }
    return n;
  }
}

/**
 * An engine of the bulk path: it owns a window of a fixed size, which the
 * reader fills straight from its source, and scans it in place.
 */
export interface WindowEngine {
  /** Which implementation runs. */
  readonly name: "ts" | "wasm";
  /** The window. */
  readonly window: Uint8Array;
  /** The result table: ENTRY_WORDS words per frame. */
  readonly table: Uint32Array;
  /** The status words of the last scan. */
  readonly out: Uint32Array;
  /** Entries one scan fills at most. */
  readonly capacity: number;
  /** Scans `window[start, end)`; returns the number of entries filled. */
  scan(start: number, end: number, maxFrameLength: number): number;
}

/** The pure-TypeScript engine of the bulk path. */
export class TsWindowEngine implements WindowEngine {
  readonly name = "ts" as const;
  readonly window: Uint8Array;
  readonly table: Uint32Array = new Uint32Array(TABLE_CAPACITY * ENTRY_WORDS);
  readonly out: Uint32Array = new Uint32Array(8);
  readonly capacity: number = TABLE_CAPACITY;

  constructor(size: number) {
    this.window = new Uint8Array(size);
  }

  scan(start: number, end: number, maxFrameLength: number): number {
    return scanFramesTs(
      this.window,
      start,
      end,
      maxFrameLength,
      this.table,
      TABLE_CAPACITY,
      this.out,
    );
  }
}
