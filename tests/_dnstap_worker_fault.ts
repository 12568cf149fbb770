// Runs `fstrm ARGS...` (as cli.ts does) with one of its worker threads made
// to fail mid-run from outside, for tests/cli_dnstap_worker_fault_test.ts:
// `deno run -A tests/_dnstap_worker_fault.ts MODE ARGS...`. The Worker
// constructor is replaced by a subclass that passes everything through but
// the second batch sent to the second worker, which (MODE):
// - `error`: is replaced by a batch the worker cannot format (it answers
//   with an error);
// - `throw`: is replaced by a message the worker throws on, uncaught (the
//   worker dies, with an error event);
// - `terminate`: is sent, then the worker is terminated (it dies without
//   any event).
import { main } from "../cli.ts";

const mode = Deno.args[0];
if (mode !== "error" && mode !== "throw" && mode !== "terminate") {
  throw new TypeError(`unknown mode ${mode}`);
}
const Original = globalThis.Worker;
let started = 0;

class FaultyWorker extends Original {
  #index = started++;
  #batches = 0;

  override postMessage(
    message: unknown,
    transfer?: Transferable[] | StructuredSerializeOptions,
  ): void {
    const isBatch = typeof message === "object" && message !== null &&
      "seq" in message;
    if (this.#index !== 1 || !isBatch || ++this.#batches !== 2) {
      super.postMessage(message, transfer as Transferable[]);
      return;
    }
    const { seq } = message as { seq: number };
    if (mode === "error") {
      // A "buffer" that cannot be transferred back: the answer fails.
      super.postMessage({ seq, buffer: "not a buffer", length: 0 });
    } else if (mode === "throw") {
      // `"settings" in null` throws outside the worker's try.
      super.postMessage(null);
    } else {
      super.postMessage(message, transfer as Transferable[]);
      this.terminate();
    }
  }
}
globalThis.Worker = FaultyWorker;

Deno.exit(await main(Deno.args.slice(1)));
