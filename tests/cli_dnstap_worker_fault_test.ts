// `fstrm dnstap --threads N` when a worker fails mid-run: it answers a
// batch with an error, gets a message it cannot take, or is terminated
// (Deno sends no event for that). The run must end, non-zero, with one line
// saying so, and what it printed before must be the start of the full
// output, in order: never a hang, never a silent gap. The failures are
// made from outside the production code: tests/_dnstap_worker_fault.ts
// (a Worker subclass around the CLI) and, here, the same subclass around a
// ParallelSink.
import assert from "node:assert/strict";
import { execRaw, fstrm } from "./_cli.ts";
import { withTempDir } from "./_support.ts";
import { dnstapFile, PAYLOADS } from "./_cli_dnstap.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { ParallelSink } from "../src/cli/_dnstap_parallel.ts";
import { CliError } from "../src/cli/_cli_error.ts";

const dec = new TextDecoder();

/** 20,000 records: several batches for each of two workers. */
const RECORDS = Array.from(
  { length: 20_000 },
  (_, i) => PAYLOADS[i % PAYLOADS.length]!,
);
const FILE = dnstapFile(RECORDS);

const FAULT = new URL("./_dnstap_worker_fault.ts", import.meta.url).pathname;

/** Asserts that `part` is `whole` cut after a whole YAML record, and shorter. */
function assertRecordPrefix(part: string, whole: string): void {
  assert.ok(part.length < whole.length, "the output stops short");
  assert.equal(whole.slice(0, part.length), part, "a prefix, in order");
  assert.ok(
    part.length === 0 || whole.startsWith("type:", part.length),
    "cut between records",
  );
}

for (
  const [mode, what] of [
    ["error", "a batch the worker cannot answer"],
    ["throw", "a message the worker cannot take"],
  ] as const
) {
  Deno.test(`fstrm dnstap -y --threads 2 fails in one line, its output a prefix of the whole, on ${what}`, async () => {
    await withTempDir(async (dir) => {
      const input = `${dir}/in.fstrm`;
      await Deno.writeFile(input, FILE);
      const args = ["dnstap", "-r", input, "-y", "--threads", "2"];
      const whole = await fstrm(args);
      assert.equal(whole.code, 0, whole.stderr);
      assert.equal(whole.stdout.split("\ntype:").length, RECORDS.length);
      const run = await execRaw(Deno.execPath(), [
        "run",
        "-A",
        FAULT,
        mode,
        ...args,
      ]);
      const stderr = dec.decode(run.stderr).split("\n");
      assert.equal(run.code, 1, stderr.join("\n"));
      assert.match(stderr[0]!, /^fstrm dnstap: a worker thread failed: \S/);
      assert.match(stderr[1]!, /^fstrm dnstap: [\d,]+ frames read, /);
      assert.deepEqual(stderr.slice(2), [""], "two lines, no stack trace");
      assertRecordPrefix(dec.decode(run.stdout), whole.stdout);
    });
  });
}

/** Frames `[start, end)` of FILE: between START and STOP. */
function dataRun(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return [8 + view.getUint32(4), bytes.length - 12];
}

/** Formats FILE with a two-worker ParallelSink; its output, or its error. */
async function runSink(
  stallMs?: number,
): Promise<{ text: string; error: unknown }> {
  const parts: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync: (p) => {
      parts.push(p.slice());
      return p.length;
    },
  });
  const sink = new ParallelSink(out, {
    threads: 2,
    format: "-y",
    filter: { types: null, suffixes: null, rcodes: null, clients: null },
    limit: Infinity,
    goZone: false,
    ...(stallMs === undefined ? {} : { stallMs }),
  });
  let error: unknown = null;
  try {
    sink.sizeFor(FILE.length);
    const [start, end] = dataRun(FILE);
    // Runs of 100 frames, as a reader's windows would bring them.
    let p = start;
    const view = new DataView(FILE.buffer, FILE.byteOffset);
    while (p < end) {
      let q = p;
      for (let i = 0; i < 100 && q < end; i++) q += 4 + view.getUint32(q);
      await sink.takeRun(FILE, p, q);
      p = q;
    }
    await sink.drain();
  } catch (e) {
    error = e;
  } finally {
    sink.close();
  }
  out.flush();
  return {
    text: parts.map((b) => dec.decode(b, { stream: true })).join(""),
    error,
  };
}

Deno.test("ParallelSink fails, not hangs, when a worker is terminated mid-run, its output a prefix of the whole", async () => {
  const whole = await runSink();
  assert.equal(whole.error, null);
  assert.equal(whole.text.split("\ntype:").length, RECORDS.length);
  const Original = globalThis.Worker;
  let started = 0;
  // The second worker ends right after its second batch is sent.
  class Terminated extends Original {
    #index = started++;
    #batches = 0;
    override postMessage(
      message: unknown,
      transfer?: Transferable[] | StructuredSerializeOptions,
    ): void {
      super.postMessage(message, transfer as Transferable[]);
      const isBatch = typeof message === "object" && message !== null &&
        "seq" in message;
      if (this.#index === 1 && isBatch && ++this.#batches === 2) {
        this.terminate();
      }
    }
  }
  globalThis.Worker = Terminated;
  try {
    const faulty = await runSink(300);
    assert.equal(started, 2);
    assert.ok(faulty.error instanceof CliError, String(faulty.error));
    assert.match(
      faulty.error.message,
      /^a worker thread stopped answering: no batch back in 0\.6 s$/,
    );
    assertRecordPrefix(faulty.text, whole.text);
  } finally {
    globalThis.Worker = Original;
  }
});
