// Shared by the `fstrm capture` fault tests (cli_fault_*_test.ts): the
// writers that feed a capture, how its files are read back and checked (by
// us and by `fstrm stats`), and a temp dir that leaves no capture running.
import assert from "node:assert/strict";
import { FrameDecoder } from "../src/frame_decoder.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { TruncatedFrameError } from "../src/errors.ts";
import { LoadLedger, loadPayload } from "./_load.ts";
import { delay, waitFor, withTempDir } from "./_support.ts";
import { DNSTAP, fstrm, killCaptures } from "./_cli.ts";

const dec = new TextDecoder();
/** START with DNSTAP: escape, length, type, field type, field length, the type. */
export const START_LENGTH: number = 4 + 4 + 4 + 4 + 4 + DNSTAP.length;

/** Runs `fn` with a fresh temp dir; kills the captures it leaves running. */
export async function withDir(
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    try {
      await fn(dir);
    } finally {
      await killCaptures();
    }
  });
}

/**
 * `writers` FrameWriters, each sending `frames` loadPayload frames as fast
 * as the capture takes them, then closing. A lost connection ends a writer
 * (reconnect is off): its error is kept, not thrown.
 */
export class Feed {
  readonly writers: FrameWriter[] = [];
  readonly errors: unknown[] = [];
  readonly done: Promise<void>;

  constructor(path: string, writers: number, frames: number) {
    this.done = Promise.all(
      Array.from({ length: writers }, (_, w) => this.#run(path, w, frames)),
    ).then(() => {});
  }

  async #run(path: string, w: number, frames: number): Promise<void> {
    let writer: FrameWriter | undefined;
    try {
      writer = await FrameWriter.connect({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
        reconnect: false,
      });
      this.writers.push(writer);
      for (let seq = 0; seq < frames; seq++) {
        const p = loadPayload(w, seq);
        if (!writer.tryWrite(p)) await writer.write(p);
      }
    } catch (error) {
      this.errors.push(error);
    } finally {
      await writer?.close();
    }
  }

  /** Frames the writers have put on the wire. */
  get written(): number {
    return this.writers.reduce((n, w) => n + w.stats.frames, 0);
  }
}

/** What a file holds, read by us (FrameDecoder, and a walk of its lengths). */
export interface Decoded {
  path: string;
  size: number;
  /** Complete data frames (views of the file's bytes). */
  frames: Uint8Array[];
  stopped: boolean;
  /** The offset of the frame the file ends inside, or null. */
  cutAt: number | null;
}

/** Reads a capture file through FrameDecoder, and checks it by hand. */
export async function decode(path: string): Promise<Decoded> {
  const bytes = await Deno.readFile(path);
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  decoder.end();
  const frames: Uint8Array[] = [];
  let controls = 0;
  let cutAt: number | null = null;
  for (;;) {
    let frame;
    try {
      frame = decoder.next();
    } catch (error) {
      assert.ok(
        error instanceof TruncatedFrameError && error.reason === "frame",
        `${path}: ${error}`,
      );
      cutAt = error.offset;
      break;
    }
    if (frame === null) break;
    if (frame.kind === "data") frames.push(frame.data);
    else controls++;
  }
  // The same by hand: length words, escape 0 for control frames.
  const view = new DataView(bytes.buffer);
  let p = 0;
  let data = 0;
  while (p < bytes.length) {
    const n = p + 4 <= bytes.length ? view.getUint32(p) : -1;
    const next = n > 0
      ? p + 4 + n
      : n === 0 && p + 8 <= bytes.length
      ? p + 8 + view.getUint32(p + 4)
      : Infinity;
    if (next > bytes.length) break;
    if (n > 0) data++;
    p = next;
  }
  assert.equal(data, frames.length, `${path}: data frames`);
  assert.equal(p === bytes.length ? null : p, cutAt, `${path}: the cut`);
  assert.ok(controls >= 1 && decoder.started, `${path}: START`);
  assert.equal(
    dec.decode(decoder.contentType!),
    DNSTAP,
    `${path}: content type`,
  );
  return {
    path,
    size: bytes.length,
    frames,
    stopped: decoder.stopped,
    cutAt,
  };
}

/**
 * Checks files read in order: every frame intact (byte for byte), each
 * writer's frames in order, from its first, without a gap or a repeat.
 * Returns the ledger.
 */
export function assertPrefix(files: Decoded[], frames: number): LoadLedger {
  const ledger = new LoadLedger(frames);
  for (const f of files) {
    for (const p of f.frames) ledger.onData(p, 0, p.length);
  }
  assert.equal(ledger.corrupt, 0, ledger.problems.join("; "));
  assert.equal(ledger.gaps, 0, ledger.problems.join("; "));
  assert.equal(ledger.rewinds, 0, "frames out of order");
  assert.equal(ledger.duplicates, 0, "frames repeated");
  return ledger;
}

/** What `fstrm stats --json` says of a file (the fields checked here). */
export interface StatsReport {
  file: string;
  dataFrames: number;
  payloadBytes: number;
  bytesRead: number;
  stopped: boolean;
  end: "stop" | "no-stop" | "truncated" | "error";
  error: { message: string; offset: number | null } | null;
}

/** `fstrm stats --json` on the files: the exit code and one object each. */
export async function statsJson(
  files: string[],
): Promise<{ code: number; stderr: string; reports: StatsReport[] }> {
  const run = await fstrm(["stats", "--json", ...files]);
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "");
  return {
    code: run.code,
    stderr: run.stderr,
    reports: lines.map((l) => JSON.parse(l)),
  };
}

/**
 * Checks `fstrm stats --json` on files left without STOP (or with it): it
 * reads each to its last complete frame (as many as we decoded), says how
 * it ends ("stop", "no-stop", or "truncated" with the cut frame's offset,
 * never "error"), and exits 1 exactly when one is truncated (with one line
 * on stderr for it).
 */
export async function assertStats(files: Decoded[]): Promise<void> {
  const { code, stderr, reports } = await statsJson(files.map((f) => f.path));
  assert.equal(reports.length, files.length);
  const cutLines: string[] = [];
  for (const [i, f] of files.entries()) {
    const r = reports[i]!;
    assert.equal(r.file, f.path);
    assert.equal(r.dataFrames, f.frames.length, `${f.path}: dataFrames`);
    assert.equal(
      r.payloadBytes,
      f.frames.reduce((n, p) => n + p.length, 0),
      `${f.path}: payloadBytes`,
    );
    assert.equal(r.bytesRead, f.size, `${f.path}: bytesRead`);
    assert.equal(r.stopped, f.stopped);
    if (f.cutAt !== null) {
      assert.equal(r.end, "truncated", f.path);
      assert.equal(r.error?.offset, f.cutAt, `${f.path}: the cut's offset`);
      assert.match(
        r.error!.message,
        new RegExp(
          `^cannot decode frame: input ended inside the frame at byte ${f.cutAt} after \\d+ of \\d+ bytes$`,
        ),
      );
      cutLines.push(`fstrm stats: ${f.path}: ${r.error!.message}`);
    } else {
      assert.equal(r.end, f.stopped ? "stop" : "no-stop", f.path);
      assert.equal(r.error, null, f.path);
    }
  }
  assert.equal(code, cutLines.length > 0 ? 1 : 0, "stats' exit code");
  assert.equal(stderr, cutLines.map((l) => l + "\n").join(""));
}

/** Files of `dir` named from `cap.fstrm`: cap.fstrm, cap.1.fstrm, … in order. */
export function rotated(dir: string): string[] {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => /^cap(\.\d+)?\.fstrm$/.test(n));
  const index = (n: string) => Number(n.match(/^cap\.(\d+)\./)?.[1] ?? 0);
  return names.sort((a, b) => index(a) - index(b)).map((n) => `${dir}/${n}`);
}

/**
 * A writer sending loadPayload(0, seq) frames in small batches, each
 * flushed, until stopped: a DNS server's steady trickle.
 */
export class Trickle {
  readonly writer: FrameWriter;
  /** Frames handed to the writer. */
  sent = 0;
  /** Payload bytes of those. */
  bytes = 0;
  /** The error that ended the sending, if one did. */
  error: unknown = null;
  #stop = false;
  #paused = false;
  #idle = false;
  readonly #running: Promise<void>;

  private constructor(writer: FrameWriter) {
    this.writer = writer;
    this.#running = (async () => {
      while (!this.#stop) {
        this.#idle = this.#paused;
        if (this.#paused) {
          await delay(5);
          continue;
        }
        for (let i = 0; i < 20; i++) {
          const p = loadPayload(0, this.sent);
          await writer.write(p);
          this.sent++;
          this.bytes += p.length;
        }
        await writer.flush();
        await delay(10);
      }
    })().catch((error) => {
      this.error = error;
    });
  }

  static async start(path: string): Promise<Trickle> {
    return new Trickle(
      await FrameWriter.connect({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
        reconnect: false,
      }),
    );
  }

  /** Sends until `cond` holds. */
  async until(cond: () => boolean, what: string): Promise<void> {
    await waitFor(cond, what);
  }

  /** Stops sending for now; resolves once every frame is on the wire. */
  async pause(): Promise<void> {
    this.#paused = true;
    await waitFor(() => this.#idle || this.error !== null, "a pause");
  }

  resume(): void {
    this.#paused = false;
  }

  /** Stops sending and closes (STOP, FINISH). */
  async close(): Promise<void> {
    this.#stop = true;
    await this.#running;
    await this.writer.close();
  }
}
