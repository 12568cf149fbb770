// Private: `fstrm replay`'s progress line on stderr, redrawn in place (with
// \r) at most every 250 ms from a timer, never from the per-frame path.

/** What the progress line reads, each time it is drawn. */
export interface ReplayProgressSource {
  /** Data frames sent so far. */
  frames(): number;
  /** Bytes of the files sent so far (payloads and their lengths). */
  bytes(): number;
  /** The file being read. */
  file(): string;
  /** Bytes in all the files (one pass), or 0 when not known or looping. */
  total: number;
}

/** A progress line on a terminal; `stop()` erases it. */
export class ReplayProgress {
  #source: ReplayProgressSource;
  #timer: ReturnType<typeof setInterval>;
  #start = performance.now();
  #encoder = new TextEncoder();
  #drawn = false;

  /** Starts drawing on stderr. */
  constructor(source: ReplayProgressSource) {
    this.#source = source;
    this.#timer = setInterval(() => this.#draw(), 250);
  }

  /** Stops and erases the line. */
  stop(): void {
    clearInterval(this.#timer);
    if (this.#drawn) this.#write("\r\x1b[K");
  }

  #draw(): void {
    const s = this.#source;
    const seconds = (performance.now() - this.#start) / 1000;
    const frames = s.frames();
    const bytes = s.bytes();
    const pct = s.total > 0
      ? ` ${Math.min(100, (bytes / s.total) * 100).toFixed(0)}%`
      : "";
    const name = s.file();
    const shown = name.length > 40 ? "…" + name.slice(-39) : name;
    this.#write(
      `\r\x1b[Kfstrm replay: ${shown}${pct} ${frames} frames, ${
        (bytes / 1e6).toFixed(1)
      } MB, ${Math.round(frames / Math.max(seconds, 1e-3))} frames/s`,
    );
    this.#drawn = true;
  }

  #write(text: string): void {
    try {
      Deno.stderr.writeSync(this.#encoder.encode(text));
    } catch {
      // stderr gone
    }
  }
}
