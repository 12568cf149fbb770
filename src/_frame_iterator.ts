// Private: frame-by-frame async iteration over batches. `for await` awaits
// every result anyway; this iterator adds nothing to that: next() hands out
// the current batch's frames as already-resolved promises, and asks the
// batches for more only when the batch is used up (one await per window).
import type { Frame } from "./frame.ts";

/** Iterates over the frames of a generator of frame arrays. */
export class FrameIterator implements AsyncIterator<Frame> {
  #batches: AsyncGenerator<Frame[], void, undefined>;
  #batch: Frame[] = [];
  #index = 0;

  constructor(batches: AsyncGenerator<Frame[], void, undefined>) {
    this.#batches = batches;
  }

  next(): Promise<IteratorResult<Frame>> {
    const index = this.#index;
    if (index < this.#batch.length) {
      this.#index = index + 1;
      return Promise.resolve({ value: this.#batch[index]!, done: false });
    }
    return this.#refill();
  }

  async #refill(): Promise<IteratorResult<Frame>> {
    for (;;) {
      const result = await this.#batches.next();
      if (result.done) return { value: undefined, done: true };
      this.#batch = result.value;
      this.#index = 0;
      if (this.#batch.length > 0) {
        return { value: this.#batch[this.#index++]!, done: false };
      }
    }
  }

  async return(): Promise<IteratorResult<Frame>> {
    this.#batch = [];
    this.#index = 0;
    await this.#batches.return();
    return { value: undefined, done: true };
  }
}
