// Scan engines: one object per decoder, owning its result table.
import { ENTRY_WORDS, scanFramesTs } from "./_scan.ts";

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

/** The pure-TypeScript engine. */
export class TsScanEngine implements ScanEngine {
  readonly name = "ts" as const;
  readonly table: Uint32Array = new Uint32Array(TABLE_CAPACITY * ENTRY_WORDS);
  readonly out: Uint32Array = new Uint32Array(8);

  scan(
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrameLength: number,
  ): number {
    return scanFramesTs(
      buf,
      start,
      end,
      maxFrameLength,
      this.table,
      TABLE_CAPACITY,
      this.out,
    );
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
