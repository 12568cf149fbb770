// Portable: FrameReader over the sources a Node or Bun program has: a Web
// ReadableStream, an async generator, a node:stream Readable, and a file
// opened with node:fs (no Deno API), on both engines.
//
// TO EXTEND when FrameReader accepts a ReadableStream and an AsyncIterable
// directly (being added on the reader branch): next to each case below,
// pass the same input straight to `new FrameReader(input, options)` and
// assert the same frames. Keep the adapter cases: they pin the FrameSource
// read() contract that any other source can still implement.
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { FrameReader } from "../../mod.ts";
import { decodeWhole, ENGINES, plain, type PlainFrame } from "../_util.ts";
import { test } from "./_harness.ts";
import { random, validStream } from "./_gen.ts";
import { iterableSource, readableOf } from "./_sources.ts";

async function frames(reader: FrameReader): Promise<PlainFrame[]> {
  const out: PlainFrame[] = [];
  for await (const frame of reader) out.push(plain(frame));
  return out;
}

/** `bytes` as an async generator of chunks cut at random. */
async function* generated(
  bytes: Uint8Array,
  seed: number,
): AsyncGenerator<Uint8Array> {
  const r = random(seed);
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, 1 + r.int(3_000));
    yield bytes.slice(at, at + n);
    at += n;
  }
}

for (const engine of ENGINES) {
  const options = { engine, windowSize: 65_536 };

  test(`FrameReader [${engine}] reads a ReadableStream (FrameSource adapter)`, async () => {
    const r = random(0x5ca1e);
    for (let run = 0; run < 10; run++) {
      const bytes = validStream(r, run % 2 === 0);
      const expected = decodeWhole(bytes, { engine: "ts" }).frames;
      const source = iterableSource(readableOf(bytes, r));
      assert.deepEqual(
        await frames(new FrameReader(source, options)),
        expected,
      );
    }
  });

  test(`FrameReader [${engine}] reads an AsyncIterable (FrameSource adapter)`, async () => {
    const r = random(0xa51);
    for (let run = 0; run < 10; run++) {
      const bytes = validStream(r, run % 2 === 0);
      const expected = decodeWhole(bytes, { engine: "ts" }).frames;
      const source = iterableSource(generated(bytes, run));
      assert.deepEqual(
        await frames(new FrameReader(source, options)),
        expected,
      );
      // A node:stream Readable is an AsyncIterable of Buffers.
      const readable = Readable.from(generated(bytes, run + 100));
      assert.deepEqual(
        await frames(new FrameReader(iterableSource(readable), options)),
        expected,
      );
    }
  });

  test(`FrameReader [${engine}] reads a file through node:fs`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "fstrm-portable-"));
    try {
      const bytes = validStream(random(0xf11e), true);
      const path = join(dir, "stream.fstrm");
      await writeFile(path, bytes);
      const stream = createReadStream(path, { highWaterMark: 4_096 });
      try {
        assert.deepEqual(
          await frames(new FrameReader(iterableSource(stream), options)),
          decodeWhole(bytes, { engine: "ts" }).frames,
        );
      } finally {
        stream.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
