// The hostile-input suite's good stream (a FrameWriter streaming seeded
// frames that a checker derives again, so nothing is stored) and its memory
// sampler; tests/_hostile.ts builds the cases on them.
import type { FrameWriter } from "../src/frame_writer.ts";
import { delay, rng } from "./_support.ts";

// ---------------------------------------------------------------------------
// The good stream: frame i is 80..400 bytes, its index (u32) then bytes of a
// seeded random pool at a seeded random offset. The writer and the checker
// derive the same sequence from the seed, so nothing is stored.

const POOL_SIZE = 1 << 20;

/** The good stream's frames, one after the other. */
export class GoodFrames {
  readonly pool: Uint8Array;
  #r: () => number;

  constructor(seed: number) {
    const r = rng(seed);
    this.pool = new Uint8Array(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++) this.pool[i] = r() & 0xff;
    this.#r = rng(seed ^ 0x5bd1e995);
  }

  /** The next frame's [pool offset, length]. */
  next(): [number, number] {
    const length = 80 + (this.#r() % 321);
    return [this.#r() % (POOL_SIZE - length), length];
  }
}

/** Checks the good connection's frames as they arrive, without storing them. */
export class GoodChecker {
  #frames: GoodFrames;
  /** The good connection's id, once its first frame has been recognised. */
  goodId: number | null = null;
  received = 0;
  mismatch: string | null = null;
  /** Data frames from every other connection, by connection id. */
  readonly others = new Map<number, number>();
  #firstOffset: number;
  #firstLength: number;
  #pending: [number, number];

  constructor(seed: number) {
    this.#frames = new GoodFrames(seed);
    this.#pending = this.#frames.next();
    [this.#firstOffset, this.#firstLength] = this.#pending;
  }

  /** One data frame from connection `id`: `window[offset, offset + length)`. */
  check(window: Uint8Array, offset: number, length: number, id: number): void {
    if (this.goodId === null && this.#isFirst(window, offset, length)) {
      this.goodId = id;
    }
    if (id !== this.goodId) {
      this.others.set(id, (this.others.get(id) ?? 0) + 1);
      return;
    }
    if (this.mismatch !== null) return;
    const i = this.received;
    const [at, want] = this.#pending;
    if (length !== want) {
      this.mismatch = `good frame ${i}: ${length} bytes, expected ${want}`;
      return;
    }
    const index = ((window[offset]! << 24) | (window[offset + 1]! << 16) |
      (window[offset + 2]! << 8) | window[offset + 3]!) >>> 0;
    if (index !== i) {
      this.mismatch = `good frame ${i}: carries index ${index} (out of order)`;
      return;
    }
    const pool = this.#frames.pool;
    for (let j = 4; j < length; j++) {
      if (window[offset + j] !== pool[at + j]) {
        this.mismatch = `good frame ${i}: byte ${j} differs`;
        return;
      }
    }
    this.received++;
    this.#pending = this.#frames.next();
  }

  #isFirst(window: Uint8Array, offset: number, length: number): boolean {
    if (length !== this.#firstLength) return false;
    for (let j = 0; j < 4; j++) if (window[offset + j] !== 0) return false;
    const pool = this.#frames.pool;
    for (let j = 4; j < length; j++) {
      if (window[offset + j] !== pool[this.#firstOffset + j]) return false;
    }
    return true;
  }
}

/** The good writer: at least `minFrames`, and on until told to stop. */
export class GoodWriter {
  readonly writer: FrameWriter;
  #frames: GoodFrames;
  #stop = false;
  #loop: Promise<number>;

  constructor(writer: FrameWriter, seed: number, minFrames: number) {
    this.writer = writer;
    this.#frames = new GoodFrames(seed);
    this.#loop = this.#run(minFrames);
    // Awaited by stop(); a failed case may never get there.
    this.#loop.catch(() => {});
  }

  async #run(minFrames: number): Promise<number> {
    const scratch = new Uint8Array(400);
    const pool = this.#frames.pool;
    let i = 0;
    while (i < minFrames || !this.#stop) {
      const [at, length] = this.#frames.next();
      const p = scratch.subarray(0, length);
      p.set(pool.subarray(at, at + length));
      p[0] = i >>> 24;
      p[1] = (i >>> 16) & 0xff;
      p[2] = (i >>> 8) & 0xff;
      p[3] = i & 0xff;
      // Both copy the payload before they return or resolve.
      if (!this.writer.tryWrite(p)) await this.writer.write(p);
      i++;
      // Spread the stream over the case: bursts, then a trickle once the
      // minimum is written, so it is live whenever the hostile peer acts.
      if (i >= minFrames) await delay(5);
      else if (i % 250 === 0) await delay(1);
    }
    return i;
  }

  /** Stops writing, closes (STOP, FINISH); the number of frames written. */
  async stop(): Promise<number> {
    this.#stop = true;
    try {
      return await this.#loop;
    } finally {
      await this.writer.close();
    }
  }
}

// ---------------------------------------------------------------------------
// Memory

/** Peak memory over a case, sampled every 10 ms. */
export class MemorySampler {
  readonly baseline: Deno.MemoryUsage;
  peakRss: number;
  peakExternal: number;
  peakHeapUsed: number;
  #timer: ReturnType<typeof setInterval>;

  constructor() {
    this.baseline = Deno.memoryUsage();
    this.peakRss = this.baseline.rss;
    this.peakExternal = this.baseline.external;
    this.peakHeapUsed = this.baseline.heapUsed;
    this.#timer = setInterval(() => this.sample(), 10);
  }

  sample(): void {
    const m = Deno.memoryUsage();
    if (m.rss > this.peakRss) this.peakRss = m.rss;
    if (m.external > this.peakExternal) this.peakExternal = m.external;
    if (m.heapUsed > this.peakHeapUsed) this.peakHeapUsed = m.heapUsed;
  }

  /** Stops sampling; the peaks over the baseline, in MiB. */
  stop(): MemoryReport {
    clearInterval(this.#timer);
    this.sample();
    const mib = (n: number) => Math.round(n / 2 ** 20 * 10) / 10;
    return {
      rssDeltaMiB: mib(this.peakRss - this.baseline.rss),
      externalDeltaMiB: mib(this.peakExternal - this.baseline.external),
      heapDeltaMiB: mib(this.peakHeapUsed - this.baseline.heapUsed),
    };
  }
}

/** Peak growth over a case's baseline, in MiB. */
export interface MemoryReport {
  /** Resident set (pages touched). */
  rssDeltaMiB: number;
  /** V8's external memory: every ArrayBuffer's bytes, touched or not. */
  externalDeltaMiB: number;
  /** V8's JavaScript heap. */
  heapDeltaMiB: number;
}

/**
 * The bound every case asserts: the good stream (a writer queue of 10,000
 * frames, 64 KiB batches and read buffers) and the hostile peers stay well
 * under it; one allocation of a declared 4 GiB length (or of 2^32 - 4 bytes
 * anywhere) would be far over it, in `external` at once, in RSS once touched.
 */
export const MEMORY_BOUND_MIB = { rss: 96, external: 48 } as const;
