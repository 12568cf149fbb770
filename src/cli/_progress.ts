// Private: a progress bar on stderr for long reads. It is driven by the
// reads themselves (one check per window read, never per frame), so it
// costs nothing on the hot path.
import type { FrameSource } from "../frame_reader.ts";
import type { SyncWriter } from "./_dump_output.ts";

/** In `auto` mode, files smaller than this get no bar. */
export const PROGRESS_MIN_BYTES = 64 << 20;
/** The least time between two redraws, in milliseconds. */
const REDRAW_MS = 200;
const BAR_WIDTH = 24;

/**
 * One line of progress: the name, a bar, the percentage, the megabytes
 * done of the total and the rate so far.
 *
 * @param name What is read.
 * @param done Bytes read so far.
 * @param total Bytes in all.
 * @param elapsedMs Time since the start.
 * @returns The line, without a line ending.
 */
export function renderProgress(
  name: string,
  done: number,
  total: number,
  elapsedMs: number,
): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
  const mb = (n: number) => (n / 1e6).toFixed(n < 10e6 ? 1 : 0);
  const rate = elapsedMs > 0 ? done / 1e6 / (elapsedMs / 1000) : 0;
  const shown = name.length > 40 ? "…" + name.slice(-39) : name;
  return `${shown} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${
    mb(done)
  }/${mb(total)} MB ${rate.toFixed(0)} MB/s`;
}

/**
 * A progress bar that redraws itself on `out` (with `\r`), at most every
 * 200 ms, as bytes are reported.
 */
export class ProgressBar {
  #out: SyncWriter;
  #name: string;
  #total: number;
  #done = 0;
  #start = performance.now();
  #last = -Infinity; // draw at the first report
  #drawn = false;
  #encoder = new TextEncoder();

  /**
   * Makes a bar; nothing is drawn until bytes are reported.
   *
   * @param out Where to draw (stderr).
   * @param name What is read.
   * @param total Bytes in all.
   */
  constructor(out: SyncWriter, name: string, total: number) {
    this.#out = out;
    this.#name = name;
    this.#total = total;
  }

  /** Counts `n` more bytes read, redrawing if it is time. */
  advance(n: number): void {
    this.#done += n;
    const now = performance.now();
    if (now - this.#last < REDRAW_MS) return;
    this.#last = now;
    this.#draw(
      "\r" +
        renderProgress(this.#name, this.#done, this.#total, now - this.#start) +
        "\x1b[K",
    );
  }

  /** Erases the bar, if it was drawn. */
  clear(): void {
    if (this.#drawn) this.#draw("\r\x1b[K");
    this.#drawn = false;
  }

  #draw(text: string): void {
    try {
      const bytes = this.#encoder.encode(text);
      let p = 0;
      while (p < bytes.length) p += this.#out.writeSync(bytes.subarray(p));
      this.#drawn = true;
    } catch {
      // A bar that cannot be drawn is no reason to stop reading.
    }
  }
}

/**
 * A source that reports every read to a {@linkcode ProgressBar}. The inner
 * source must read synchronously too (files and stdin do).
 */
export class ProgressSource implements FrameSource {
  #inner: Required<FrameSource>;
  #bar: ProgressBar;

  /**
   * Wraps `inner`.
   *
   * @param inner The source read.
   * @param bar The bar told of each read.
   */
  constructor(inner: Required<FrameSource>, bar: ProgressBar) {
    this.#inner = inner;
    this.#bar = bar;
  }

  /** Reads, as the inner source does, and reports it. */
  async read(buffer: Uint8Array): Promise<number | null> {
    const n = await this.#inner.read(buffer);
    if (n !== null) this.#bar.advance(n);
    return n;
  }

  /** Reads synchronously, as the inner source does, and reports it. */
  readSync(buffer: Uint8Array): number | null {
    const n = this.#inner.readSync(buffer);
    if (n !== null) this.#bar.advance(n);
    return n;
  }
}
