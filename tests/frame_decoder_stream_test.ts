import assert from "node:assert/strict";
import {
  encodeDataFrame,
  encodeFrameStream,
  type Frame,
  FrameDecoderStream,
  FrameEncoderStream,
  NotFrameStreamsError,
  TruncatedFrameError,
} from "../mod.ts";
import {
  concat,
  decodeWhole,
  ENGINES,
  hex,
  plain,
  plainError,
} from "./_util.ts";
import { FIRST_BYTES_CASES } from "./_control_cases.ts";

/** Splits `bytes` into chunks at `cuts`. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let last = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(last, cut));
    last = cut;
  }
  return out;
}

/** Pipes chunks through a FrameDecoderStream; frames read, then the error. */
async function run(
  parts: Uint8Array[],
  stream: FrameDecoderStream,
): Promise<{ frames: Frame[]; error: unknown }> {
  const frames: Frame[] = [];
  let error: unknown = null;
  try {
    for await (const f of ReadableStream.from(parts).pipeThrough(stream)) {
      frames.push(f);
    }
  } catch (e) {
    error = e;
  }
  return { frames, error };
}

const STREAM = encodeFrameStream(["hello", "x".repeat(300), "world"], {
  contentType: "protobuf:dnstap.Dnstap",
});

Deno.test("FrameEncoderStream output equals encodeFrameStream", async () => {
  const payloads = ["hello", new Uint8Array([0, 1, 2]), "world"];
  const encoded = await Array.fromAsync(
    ReadableStream.from(payloads).pipeThrough(
      new FrameEncoderStream({ contentType: "protobuf:dnstap.Dnstap" }),
    ),
  );
  assert.deepEqual(
    concat(...encoded),
    encodeFrameStream(payloads, { contentType: "protobuf:dnstap.Dnstap" }),
  );
  // A START with no content type.
  const bare = await Array.fromAsync(
    ReadableStream.from(["a"]).pipeThrough(
      new FrameEncoderStream({ contentType: null }),
    ),
  );
  assert.deepEqual(concat(...bare), encodeFrameStream(["a"]));
  // No control frames at all.
  const raw = await Array.fromAsync(
    ReadableStream.from(["a"]).pipeThrough(new FrameEncoderStream()),
  );
  assert.deepEqual(concat(...raw), hex(`00000001 "a"`));
});

Deno.test("FrameEncoderStream errors on an empty payload", async () => {
  await assert.rejects(
    Array.fromAsync(
      ReadableStream.from(["a", ""]).pipeThrough(new FrameEncoderStream()),
    ),
    RangeError,
  );
});

for (const engine of ENGINES) {
  Deno.test(`FrameDecoderStream [${engine}] gives the one-shot decoder's frames at every split point`, async () => {
    const expected = decodeWhole(STREAM, { engine }).frames;
    for (let i = 0; i <= STREAM.length; i++) {
      const { frames, error } = await run(
        chunks(STREAM, i === 0 ? [] : [i]),
        new FrameDecoderStream({ engine }),
      );
      assert.equal(error, null);
      assert.deepEqual(frames.map(plain), expected, `cut at ${i}`);
    }
    const oneByte = Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(
      (await run(chunks(STREAM, oneByte), new FrameDecoderStream({ engine })))
        .frames.map(plain),
      expected,
    );
  });

  Deno.test(`FrameDecoderStream [${engine}] delivers every complete frame before a truncation error`, async () => {
    // Three whole frames in one chunk, then a cut one: none of the three may be lost.
    const bytes = concat(
      STREAM.subarray(0, STREAM.length - 12),
      hex("00000009 0102"),
    );
    const { frames, error } = await run(
      [bytes],
      new FrameDecoderStream({ engine }),
    );
    assert.equal(frames.length, 4);
    assert.ok(error instanceof TruncatedFrameError);
    assert.equal(error.offset, STREAM.length - 12);
  });

  Deno.test(`FrameDecoderStream [${engine}] delivers every complete frame before a malformed one`, async () => {
    const bytes = concat(
      STREAM.subarray(0, STREAM.length - 12),
      hex("00000000 00000002"),
    );
    const { frames, error } = await run(
      [bytes],
      new FrameDecoderStream({ engine }),
    );
    assert.equal(frames.length, 4);
    assert.equal((error as Error).name, "ControlFrameError");
  });

  Deno.test(`FrameDecoderStream [${engine}] gives the shared table's error at byte 0, however chunked`, async () => {
    for (const c of FIRST_BYTES_CASES) {
      const options = { ...c.options, engine };
      const expected = decodeWhole(c.bytes, options);
      for (const cuts of [[], [1], [3], [2, 5]]) {
        const parts = chunks(c.bytes, cuts.filter((x) => x < c.bytes.length));
        const stream = new FrameDecoderStream(options);
        const { frames, error } = await run(parts, stream);
        assert.equal(frames.length, 0, c.name);
        assert.deepEqual(plainError(error), expected.error, c.name);
        for (const [key, value] of Object.entries(c.error)) {
          assert.deepEqual(
            (error as Record<string, unknown>)[key],
            value,
            `${c.name}: error.${key}`,
          );
        }
      }
    }
    // A text file, the way a user pipes one in.
    const text = new TextEncoder().encode("just some text\n".repeat(50));
    const { error } = await run([text], new FrameDecoderStream({ engine }));
    assert.ok(error instanceof NotFrameStreamsError);
    assert.equal(error.offset, 0);
  });

  Deno.test(`FrameDecoderStream [${engine}] exposes the decoder's state`, async () => {
    const stream = new FrameDecoderStream({
      maxFrameLength: 10,
      oversize: "skip",
      engine,
    });
    const { frames } = await run([STREAM], stream);
    assert.equal(frames.length, 4);
    assert.equal(stream.frames, 2);
    assert.equal(stream.oversizedFrames, 1);
    assert.equal(stream.skippedFrames, 0);
    assert.ok(stream.stopped);
    assert.deepEqual(
      stream.contentType,
      new TextEncoder().encode("protobuf:dnstap.Dnstap"),
    );
    assert.equal(stream.engine, engine);
  });

  Deno.test(`FrameDecoderStream [${engine}] holds back the writer until frames are read`, async () => {
    const stream = new FrameDecoderStream({ engine });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    let written = false;
    const write = writer.write(
      concat(encodeDataFrame("a"), encodeDataFrame("b")),
    )
      .then(() => {
        written = true;
      });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(written, false, "the chunk is not consumed before a read");
    assert.equal(((await reader.read()).value as Frame).kind, "data");
    assert.equal(((await reader.read()).value as Frame).kind, "data");
    await write;
    assert.equal(written, true);
    const close = writer.close();
    assert.equal((await reader.read()).done, true);
    await close;
  });

  Deno.test(`FrameDecoderStream [${engine}] cancel rejects the writer`, async () => {
    const stream = new FrameDecoderStream({ engine });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    const write = writer.write(encodeDataFrame("a"));
    await reader.cancel(new Error("enough"));
    await assert.rejects(write, /enough/);
  });

  Deno.test(`FrameDecoderStream [${engine}] abort errors the reader`, async () => {
    const stream = new FrameDecoderStream({ engine });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    await writer.abort(new Error("source failed"));
    await assert.rejects(reader.read(), /source failed/);
  });

  Deno.test(`FrameDecoderStream [${engine}] rejects a chunk that is not bytes`, async () => {
    const stream = new FrameDecoderStream({ engine });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    await assert.rejects(
      writer.write("text" as unknown as Uint8Array),
      TypeError,
    );
    await assert.rejects(reader.read(), TypeError);
  });

  Deno.test(`FrameEncoderStream piped into FrameDecoderStream [${engine}] round-trips`, async () => {
    const payloads = Array.from(
      { length: 500 },
      (_, i) => "p".repeat(1 + (i * 37) % 400),
    );
    const frames = await Array.fromAsync(
      ReadableStream.from(payloads)
        .pipeThrough(new FrameEncoderStream({ contentType: "t" }))
        .pipeThrough(new FrameDecoderStream({ engine })),
    );
    const data = frames.flatMap((f) =>
      f.kind === "data" ? [new TextDecoder().decode(f.data)] : []
    );
    assert.deepEqual(data, payloads);
  });
}
