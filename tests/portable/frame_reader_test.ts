// Portable: FrameReader over the FrameSource read() contract, on both
// engines, through each of its ways to take frames.
import assert from "node:assert/strict";
import {
  FrameReader,
  type FrameReaderSummary,
  TruncatedFrameError,
} from "../../mod.ts";
import { HELLO, START, STOP } from "../_vectors.ts";
import {
  concat,
  decodeWhole,
  ENGINES,
  hex,
  plain,
  type PlainFrame,
} from "../_util.ts";
import { test } from "./_harness.ts";
import { random, validStream } from "./_gen.ts";
import { bytesSource } from "./_sources.ts";

/** The smallest window, so that large inputs take many reads and windows. */
const WINDOW = 65_536;

/** Frames, the way each of the reader's paths hands them out. */
async function viaIterator(reader: FrameReader): Promise<PlainFrame[]> {
  const out: PlainFrame[] = [];
  for await (const frame of reader) out.push(plain(frame));
  return out;
}

async function viaBatches(reader: FrameReader): Promise<PlainFrame[]> {
  const out: PlainFrame[] = [];
  for await (const batch of reader.batches()) {
    for (const frame of batch) out.push(plain(frame));
  }
  return out;
}

/** The data payloads forEachFrame hands out, copied at once. */
async function viaForEachFrame(
  reader: FrameReader,
): Promise<{ payloads: number[][]; summary: FrameReaderSummary }> {
  const payloads: number[][] = [];
  const summary = await reader.forEachFrame((window, offset, length) => {
    payloads.push([...window.subarray(offset, offset + length)]);
  });
  return { payloads, summary };
}

for (const engine of ENGINES) {
  test(`FrameReader [${engine}] runs on the engine asked for`, () => {
    const reader = new FrameReader(bytesSource(HELLO, random(1)), { engine });
    assert.equal(reader.engine, engine);
  });

  test(`FrameReader [${engine}] iterator and batches() give the decoder's frames over short reads`, async () => {
    const r = random(0xfeed);
    for (let run = 0; run < 24; run++) {
      const bytes = validStream(r, run % 3 === 0);
      const expected = decodeWhole(bytes, { engine: "ts" }).frames;
      const options = { engine, windowSize: WINDOW };
      assert.deepEqual(
        await viaIterator(new FrameReader(bytesSource(bytes, r), options)),
        expected,
      );
      assert.deepEqual(
        await viaBatches(new FrameReader(bytesSource(bytes, r), options)),
        expected,
      );
    }
  });

  test(`FrameReader [${engine}] forEachFrame and forEachRun see every payload, summary right`, async () => {
    const r = random(0xbead);
    for (let run = 0; run < 24; run++) {
      const bytes = validStream(r, run % 3 === 0);
      const whole = decodeWhole(bytes, { engine: "ts" });
      const data = whole.frames.flatMap((f) =>
        f.kind === "data" ? [f.data] : []
      );
      const options = { engine, windowSize: WINDOW };
      const { payloads, summary } = await viaForEachFrame(
        new FrameReader(bytesSource(bytes, r), options),
      );
      assert.deepEqual(payloads, data);
      assert.equal(summary.engine, engine);
      assert.equal(summary.frames, data.length);
      assert.equal(
        summary.bytes,
        data.reduce((n, d) => n + d.length, 0),
      );
      assert.equal(summary.bytesRead, bytes.length);
      assert.equal(summary.stopped, true);
      // Runs: whole encoded data frames, back to back.
      const encoded: number[] = [];
      let frames = 0;
      const runs = await new FrameReader(bytesSource(bytes, r), options)
        .forEachRun((window, start, end, n) => {
          encoded.push(...window.subarray(start, end));
          frames += n;
        });
      assert.equal(frames, data.length);
      assert.equal(runs.frames, data.length);
      const expected = data.flatMap((d) => [
        d.length >>> 24,
        (d.length >>> 16) & 0xff,
        (d.length >>> 8) & 0xff,
        d.length & 0xff,
        ...d,
      ]);
      assert.deepEqual(encoded, expected);
    }
  });

  test(`FrameReader [${engine}] uses readSync when the source has it, unless told not to`, async () => {
    const bytes = concat(START, HELLO, HELLO, STOP);
    const sync = bytesSource(bytes, random(2), true);
    await new FrameReader(sync, { engine }).forEachFrame(() => {});
    assert.ok(sync.calls.readSync > 0);
    assert.equal(sync.calls.read, 0);
    const plainRead = bytesSource(bytes, random(2), true);
    await new FrameReader(plainRead, { engine, readSync: false }).forEachFrame(
      () => {},
    );
    assert.equal(plainRead.calls.readSync, 0);
    assert.ok(plainRead.calls.read > 0);
  });

  test(`FrameReader [${engine}] delivers the frames before a truncation, then the error`, async () => {
    const bytes = concat(START, HELLO, hex("0000000a 0102"));
    const frames: PlainFrame[] = [];
    await assert.rejects(
      (async () => {
        const reader = new FrameReader(bytesSource(bytes, random(3)), {
          engine,
        });
        for await (const frame of reader) frames.push(plain(frame));
      })(),
      (e) => e instanceof TruncatedFrameError && e.offset === 51,
    );
    assert.deepEqual(frames, decodeWhole(concat(START, HELLO)).frames);
  });

  test(`FrameReader [${engine}] is read once`, async () => {
    const reader = new FrameReader(bytesSource(HELLO, random(4)), { engine });
    await reader.forEachFrame(() => {});
    await assert.rejects(reader.forEachFrame(() => {}), TypeError);
  });
}

test("FrameReader refuses a source without read()", () => {
  assert.throws(
    () =>
      new FrameReader(
        {} as unknown as ConstructorParameters<typeof FrameReader>[0],
      ),
    TypeError,
  );
});
