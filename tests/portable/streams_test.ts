// Portable: FrameEncoderStream and FrameDecoderStream, the Web Streams every
// runtime has, on both engines and re-chunked.
import assert from "node:assert/strict";
import {
  DNSTAP_CONTENT_TYPE,
  encodeDataFrame,
  encodeFrameStream,
  type Frame,
  FrameDecoderStream,
  FrameEncoderStream,
  TruncatedFrameError,
} from "../../mod.ts";
import { HELLO, START } from "../_vectors.ts";
import {
  concat,
  decodeWhole,
  ENGINES,
  hex,
  plain,
  type PlainFrame,
} from "../_util.ts";
import { test } from "./_harness.ts";
import { cuts, random, validStream } from "./_gen.ts";

/** A stream of `bytes` cut at `at`. */
function pieces(bytes: Uint8Array, at: number[]): ReadableStream<Uint8Array> {
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...at, bytes.length]) {
    parts.push(bytes.subarray(last, cut));
    last = cut;
  }
  return ReadableStream.from(parts);
}

async function collectBytes(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return concat(...parts);
}

async function collectFrames(
  stream: ReadableStream<Frame>,
): Promise<PlainFrame[]> {
  const frames: PlainFrame[] = [];
  for await (const frame of stream) frames.push(plain(frame));
  return frames;
}

test("FrameEncoderStream writes what encodeFrameStream writes", async () => {
  const payloads = ["hello", new Uint8Array([1, 2, 3]), "world"];
  const encoded = await collectBytes(
    ReadableStream.from(payloads).pipeThrough(
      new FrameEncoderStream({ contentType: DNSTAP_CONTENT_TYPE }),
    ),
  );
  assert.deepEqual(
    encoded,
    encodeFrameStream(payloads, { contentType: DNSTAP_CONTENT_TYPE }),
  );
  // contentType null: START and STOP with no content type.
  assert.deepEqual(
    await collectBytes(
      ReadableStream.from(["a"]).pipeThrough(
        new FrameEncoderStream({ contentType: null }),
      ),
    ),
    encodeFrameStream(["a"]),
  );
  // No contentType option: data frames only.
  assert.deepEqual(
    await collectBytes(
      ReadableStream.from(["hello"]).pipeThrough(new FrameEncoderStream()),
    ),
    HELLO,
  );
});

test("FrameEncoderStream errors on an empty payload", async () => {
  await assert.rejects(
    collectBytes(
      ReadableStream.from(["a", ""]).pipeThrough(new FrameEncoderStream()),
    ),
    RangeError,
  );
});

for (const engine of ENGINES) {
  test(`FrameDecoderStream [${engine}] runs on the engine asked for`, () => {
    assert.equal(new FrameDecoderStream({ engine }).engine, engine);
  });

  test(`FrameEncoderStream into FrameDecoderStream [${engine}] round-trips`, async () => {
    const payloads = ["a", "bb", new Uint8Array(70_000).fill(7), "ccc"];
    const stream = new FrameDecoderStream({ engine });
    const frames = await collectFrames(
      ReadableStream.from(payloads)
        .pipeThrough(new FrameEncoderStream({ contentType: "t" }))
        .pipeThrough(stream),
    );
    const data = frames.flatMap((f) => f.kind === "data" ? [f.data] : []);
    assert.deepEqual(
      data,
      payloads.map((p) => [...encodeDataFrame(p).subarray(4)]),
    );
    assert.deepEqual(stream.contentType, new TextEncoder().encode("t"));
    assert.equal(stream.stopped, true);
    assert.equal(stream.frames, 4);
  });

  test(`FrameDecoderStream [${engine}] equals the one-shot decoder however chunked`, async () => {
    const r = random(0xc0ffee);
    for (let run = 0; run < 40; run++) {
      const bytes = validStream(r, run % 4 === 0);
      const whole = decodeWhole(bytes, { engine });
      const at = run % 10 === 0
        ? Array.from({ length: Math.min(bytes.length, 400) }, (_, i) => i)
        : cuts(r, bytes.length, 20);
      const frames = await collectFrames(
        pieces(bytes, at).pipeThrough(new FrameDecoderStream({ engine })),
      );
      assert.deepEqual(frames, whole.frames);
    }
  });

  test(`FrameDecoderStream [${engine}] delivers the frames before an error, then the error`, async () => {
    // START, "hello", then a payload cut short at offset 51.
    const bytes = concat(START, HELLO, hex("0000000a 0102"));
    const readable = pieces(bytes, [3, 44, 50]).pipeThrough(
      new FrameDecoderStream({ engine }),
    );
    const reader = readable.getReader();
    assert.equal((await reader.read()).value?.kind, "control");
    assert.equal((await reader.read()).value?.kind, "data");
    await assert.rejects(
      reader.read(),
      (e) => e instanceof TruncatedFrameError && e.offset === 51,
    );
  });
}
