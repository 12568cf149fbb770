// Private: the Web Worker of `fstrm dnstap --threads N`. Takes one `init`
// message (the format, the filters, whether to use Go's local zone as the
// main thread does), then batches of encoded data frames; answers each with
// its output bytes and counts, the input buffer given back (all
// transferred, not copied). Any failure is answered, with the batch's
// number, as an error message. Says "ready" once it has taken `init`.
import { BatchFormatter } from "./_dnstap_batch.ts";
import type { BatchSettings } from "./_dnstap_batch.ts";
import { useGoLocalZone } from "./_go_local_zone.ts";

/** The first message: how to format. */
export interface WorkerInit {
  /** The format and filters. */
  settings: BatchSettings;
  /** Whether to read the local zone as Go does (the main thread did). */
  goZone: boolean;
}

/** A batch to format: `buffer[0, length)`, frames with length words. */
export interface WorkerBatch {
  /** The batch's number, from 0, in input order. */
  seq: number;
  /** The frames' bytes. */
  buffer: ArrayBuffer;
  /** How many bytes of `buffer` hold frames. */
  length: number;
}

/** A batch formatted. */
export interface WorkerOutput {
  /** The batch's number. */
  seq: number;
  /** The input buffer, given back for reuse. */
  buffer: ArrayBuffer;
  /** The output, `output[0, outputLength)`. */
  output: ArrayBuffer;
  /** How many bytes of `output` are the output. */
  outputLength: number;
  /** frames, output, filtered, malformed, unprintable. */
  counts: [number, number, number, number, number];
}

/** The answer to a batch: its output, or why it failed (`seq` -1: no batch). */
export type WorkerReply = WorkerOutput | { seq: number; error: string };

let formatter: BatchFormatter | null = null;

/** The worker's global scope, as far as this module uses it (no triple-slash
 * lib directive: JSR refuses those). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerInit | WorkerBatch>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event: MessageEvent<WorkerInit | WorkerBatch>) => {
  const data = event.data as unknown;
  // Nothing escapes: every failure is answered (an uncaught error would
  // end the worker, and Deno would print its stack).
  let seq = -1;
  try {
    if (typeof data !== "object" || data === null) {
      throw new TypeError(`not a message of fstrm dnstap: ${String(data)}`);
    }
    if ("settings" in data) {
      const init = data as WorkerInit;
      formatter = new BatchFormatter(init.settings);
      if (init.goZone) useGoLocalZone();
      scope.postMessage("ready");
      return;
    }
    const batch = data as WorkerBatch;
    seq = batch.seq;
    if (formatter === null) throw new Error("no init message");
    const { bytes, counts } = formatter.format(
      new Uint8Array(batch.buffer),
      batch.length,
    );
    const output = bytes.buffer as ArrayBuffer;
    const reply: WorkerReply = {
      seq: batch.seq,
      buffer: batch.buffer,
      output,
      outputLength: bytes.length,
      counts: [
        counts.frames,
        counts.output,
        counts.filtered,
        counts.malformed,
        counts.unprintable,
      ],
    };
    scope.postMessage(reply, [batch.buffer, output]);
  } catch (error) {
    const reply: WorkerReply = {
      seq,
      error: error instanceof Error ? error.message : String(error),
    };
    scope.postMessage(reply);
  }
};
