// FrameWriter's counters when a connection failure cuts a batch: the whole
// frames the socket took before the failure are counted as written (and as
// put back, since the batch is written again whole on the next
// connection), exactly, whatever the cut point and the write sizes.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import {
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
} from "../mod.ts";
import { BatchQueue } from "../src/_batch_queue.ts";
import { writeAll } from "../src/_io.ts";
import { WriterLoop } from "../src/_writer_loop.ts";
import {
  type FrameWriterOptions,
  resolveWriterOptions,
} from "../src/_writer_options.ts";
import { FrameWriter, type WriterStats } from "../src/frame_writer.ts";
import { listenUnix } from "./_frame_writer.ts";

/** Payloads of 1 to 200 bytes, `i` in the first byte. */
function payloads(n: number): Uint8Array[] {
  return Array.from(
    { length: n },
    (_, i) => new Uint8Array(1 + (i * 37) % 200).fill(i & 0xff),
  );
}

/** The encoded frames of `list`, back to back. */
function encoded(list: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of list) size += 4 + p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of list) {
    view.setUint32(at, p.length);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/**
 * The whole data frames in `bytes` (a unidirectional stream: START first,
 * then data frames, maybe cut): how many, their payload bytes, and those
 * payloads.
 */
function wholeFrames(
  bytes: Uint8Array,
): { frames: number; payload: number; payloads: Uint8Array[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0), 0, "starts with a control frame");
  let at = 8 + view.getUint32(4);
  const payloads: Uint8Array[] = [];
  let payload = 0;
  while (at + 4 <= bytes.length) {
    const length = view.getUint32(at);
    if (length === 0) break; // STOP
    if (at + 4 + length > bytes.length) break;
    payloads.push(bytes.slice(at + 4, at + 4 + length));
    payload += length;
    at += 4 + length;
  }
  return { frames: payloads.length, payload, payloads };
}

/** The START frame of a unidirectional dnstap writer. */
const START_LENGTH =
  encodeControlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]).length;

/**
 * A connection whose peer takes at most `limit` bytes, `chunk` at a time
 * (short writes), then is gone (BrokenPipe).
 */
class CutConn {
  readonly taken: Uint8Array[] = [];
  #limit: number;
  #chunk: number;
  #count = 0;
  #closed = Promise.withResolvers<null>();

  constructor(limit: number, chunk: number) {
    this.#limit = limit;
    this.#chunk = chunk;
  }

  /** Everything the peer took. */
  get bytes(): Uint8Array {
    const out = new Uint8Array(this.#count);
    let at = 0;
    for (const part of this.taken) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  write(p: Uint8Array): Promise<number> {
    const room = this.#limit - this.#count;
    if (room <= 0) {
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe"));
    }
    const n = Math.min(p.length, this.#chunk, room);
    this.taken.push(p.slice(0, n));
    this.#count += n;
    return Promise.resolve(n);
  }

  read(_buf: Uint8Array): Promise<number | null> {
    return this.#closed.promise;
  }

  close(): void {
    this.#closed.resolve(null);
  }
}

/**
 * A WriterLoop and its BatchQueue, wired as FrameWriter wires them, on the
 * connections `conns` hands out one after the other.
 */
function harness(
  options: FrameWriterOptions,
  conns: CutConn[],
): { queue: BatchQueue; loop: WriterLoop } {
  const settings = resolveWriterOptions({
    bidirectional: false,
    flushInterval: 60_000,
    ...options,
  });
  let next = 0;
  const wake = { loop: null as WriterLoop | null };
  const queue = new BatchQueue(settings, () => wake.loop?.wake());
  const loop = new WriterLoop(
    { transport: "unix", path: "/nonexistent" },
    settings,
    queue,
    () => {
      const conn = conns[next++];
      if (conn === undefined) {
        return Promise.reject(new Deno.errors.ConnectionRefused("no more"));
      }
      return Promise.resolve(conn as unknown as Deno.Conn);
    },
  );
  wake.loop = loop;
  return { queue, loop };
}

/** Frames written, less those counted twice, plus those thrown away. */
function accounted(
  s: Pick<
    WriterStats,
    "frames" | "resent" | "discarded" | "queued"
  >,
): number {
  return s.frames - s.resent + s.discarded + s.queued;
}

const N = 300;
const DATA = encoded(payloads(N));

/** Where the peer stops taking bytes, after START. */
const CUTS = [
  0, // before the first data frame
  1, // inside the first length word
  4, // after the first length word, before its payload
  5 + (0 * 37) % 200, // right after the first frame
  DATA.length / 2, // somewhere in the middle
  DATA.length - 1, // inside the last frame's payload
];

Deno.test("FrameWriter.stats.frames counts the whole frames of a batch a failure cut, exactly (reconnect: false)", async () => {
  for (const cut of CUTS) {
    for (const chunk of [7, 1000, Infinity]) {
      const what = `cut at ${cut}, writes of ${chunk}`;
      const conn = new CutConn(START_LENGTH + cut, chunk);
      const { queue, loop } = harness({ reconnect: false }, [conn]);
      await loop.open();
      for (const p of payloads(N)) await queue.write(p);
      queue.sealTail();
      while (loop.stopped() === null) await loop.progress.wait();
      await loop.close();
      const peer = wholeFrames(conn.bytes);
      assert.equal(queue.frames, peer.frames, what);
      assert.equal(queue.bytes, peer.payload, what);
      assert.deepEqual(peer.payloads, payloads(peer.frames), what);
      // The cut batch is no completed write, and is thrown away whole.
      assert.equal(queue.batches, 0, what);
      assert.equal(queue.discarded, N, what);
      assert.equal(queue.resent, peer.frames, what);
      assert.equal(accounted({ ...queue }), N, what);
    }
  }
});

Deno.test("FrameWriter.stats counts a cut batch's whole frames once more when the batch is written again on the next connection", async () => {
  for (const cut of CUTS) {
    const what = `cut at ${cut}`;
    const first = new CutConn(START_LENGTH + cut, 1000);
    const second = new CutConn(Infinity, 4096);
    const { queue, loop } = harness(
      { reconnect: { initialDelay: 1, maxDelay: 1 } },
      [first, second],
    );
    await loop.open();
    for (const p of payloads(N)) await queue.write(p);
    queue.sealTail();
    await loop.close();
    const cutFrames = wholeFrames(first.bytes).frames;
    const all = wholeFrames(second.bytes);
    assert.deepEqual(all.payloads, payloads(N), what);
    assert.equal(queue.frames, cutFrames + N, what);
    assert.equal(queue.resent, cutFrames, what);
    assert.equal(queue.batches, 1, what);
    assert.equal(queue.discarded, 0, what);
    assert.equal(accounted({ ...queue }), N, what);
  }
});

Deno.test("FrameWriter.stats.frames counts at least the frames a collector read whole before it closed mid-batch (Unix socket)", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/c.sock`;
    using listener = listenUnix(path);
    // Reads 300,000 bytes, more than a Unix socket holds, then closes.
    const READ = 300_000;
    const peer = (async () => {
      const conn = await listener.accept();
      const got = new Uint8Array(READ);
      let n = 0;
      while (n < READ) {
        const r = await conn.read(got.subarray(n));
        if (r === null) break;
        n += r;
      }
      conn.close();
      return got.subarray(0, n);
    })();
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      bidirectional: false,
      reconnect: false,
      flushInterval: 60_000,
      bufferSize: 4 << 20,
      queueSize: 100_000,
    });
    const COUNT = 20_000;
    const payload = new Uint8Array(100).fill(1);
    for (let i = 0; i < COUNT; i++) await writer.write(payload);
    await assert.rejects(writer.flush());
    const read = wholeFrames(await peer);
    await writer.close();
    const stats = writer.stats;
    assert.ok(read.frames > 0);
    // The socket took what the peer read, and maybe some of what sat in its
    // buffer when it closed: never fewer.
    assert.ok(
      stats.frames >= read.frames,
      `${stats.frames} counted, ${read.frames} read whole`,
    );
    assert.ok(stats.frames < COUNT, `${stats.frames}`);
    assert.equal(stats.bytes, 100 * stats.frames);
    assert.equal(accounted(stats), COUNT);
  });
});

Deno.test("writeAll reports the bytes the connection took before a write failed, whatever the write sizes", async () => {
  const bytes = new Uint8Array(1000).map((_, i) => i);
  for (const limit of [0, 1, 7, 500, 999, 1000]) {
    for (const chunk of [1, 7, 64, Infinity]) {
      const what = `limit ${limit}, writes of ${chunk}`;
      const conn = new CutConn(limit, chunk);
      const progress = { written: 0 };
      let error: unknown = null;
      await writeAll(conn, bytes, progress).catch((e) => error = e);
      if (limit < bytes.length) {
        assert.ok(error instanceof Deno.errors.BrokenPipe, what);
      } else assert.equal(error, null, what);
      assert.equal(progress.written, limit, what);
      assert.deepEqual(conn.bytes, bytes.subarray(0, limit), what);
    }
  }
});
