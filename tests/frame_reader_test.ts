// FrameReader, the bulk path, against FrameDecoder, the reference: engines,
// errors before any frame, arguments, read paths, sources and files. The
// other frame_reader_*_test.ts files cover the case table, windows, frame
// delivery, random streams and files written by libfstrm.
import assert from "node:assert/strict";
import { openFrameReader } from "../src/file.ts";
import {
  decodeFrames,
  encodeFrameStream,
  type Frame,
  FrameReader,
  type FrameReaderOptions,
  type FrameSource,
  isWasmAvailable,
  NotFrameStreamsError,
  TruncatedFrameError,
} from "../mod.ts";
import { concat, hex } from "./_util.ts";
import { HELLO, START } from "./_vectors.ts";
import { FIRST_BYTES_CASES } from "./_control_cases.ts";
import {
  assertParity,
  assertSameFrames,
  assertSamePayloads,
  DNSTAP,
  drain,
  errorRecord,
  feedSource,
  HOWS,
  type Input,
  MemorySource,
  MIN_WINDOW,
  pattern,
  SHORT_FEEDS,
  SyncMemorySource,
} from "./_reader_harness.ts";

// ---------------------------------------------------------------------------
// Engines

Deno.test("FrameReader engine auto resolves to a real engine", () => {
  const empty: FrameSource = { read: () => Promise.resolve(null) };
  const want = isWasmAvailable() ? "wasm" : "ts";
  assert.equal(new FrameReader(empty).engine, want);
  assert.equal(new FrameReader(empty, { engine: "auto" }).engine, want);
  assert.equal(new FrameReader(empty, { engine: "auto" }).summary.engine, want);
  // WebAssembly loads here: the bulk path must take it.
  assert.ok(isWasmAvailable(), "WebAssembly loads in Deno");
  assert.equal(want, "wasm");
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] runs the engine it was asked for`, async () => {
    const bytes = encodeFrameStream(["a", "bb"], { contentType: "t" });
    const reader = new FrameReader(
      new SyncMemorySource(bytes, Infinity, 0),
      { engine },
    );
    assert.equal(reader.engine, engine);
    const summary = await reader.forEachFrame(() => {});
    assert.equal(summary.engine, engine);
    assert.equal(summary.frames, 2);
    assert.equal(summary.bytes, 3);
    assert.equal(summary.controlFrames, 2);
    assert.equal(summary.bytesRead, bytes.length);
    assert.ok(summary.started && summary.stopped);
    assert.equal(summary.contentType, "t");
    assert.deepEqual(summary.contentTypeBytes, new TextEncoder().encode("t"));
  });
}

// ---------------------------------------------------------------------------
// Errors before any frame, empty input, missing STOP.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] reports an error before any frame`, async () => {
    for (const c of FIRST_BYTES_CASES) {
      for (const how of HOWS) {
        for (const feed of SHORT_FEEDS) {
          const expected = await assertParity(
            c.bytes,
            { ...c.options, engine },
            how,
            feed,
            `${c.name}: `,
          );
          assert.equal(expected.frames.length, 0);
          const record = errorRecord(expected.error)!;
          for (const [key, value] of Object.entries(c.error)) {
            assert.deepEqual(record[key], value, `${c.name}: error.${key}`);
          }
          assert.equal(
            expected.counts.oversizedFrames,
            c.oversized ?? 0,
            `${c.name}: oversized`,
          );
        }
      }
    }
    // The TLS hint reaches the reader's message too.
    const tls = new FrameReader(
      new MemorySource(FIRST_BYTES_CASES[0]!.bytes, Infinity, 0),
      { engine },
    );
    const error = await drain(tls);
    assert.ok(error instanceof NotFrameStreamsError);
    assert.match(error.message, /TLS/);
    const s = tls.summary;
    assert.deepEqual(
      [s.frames, s.controlFrames, s.bytes, s.started, s.stopped],
      [0, 0, 0, false, false],
    );
  });

  Deno.test(`FrameReader [${engine}] reads an empty source: no frames, no STOP, no error unless strict`, async () => {
    for (const feed of SHORT_FEEDS) {
      for (const how of HOWS) {
        const expected = await assertParity(
          new Uint8Array(0),
          { engine },
          how,
          feed,
        );
        assert.equal(expected.error, null);
      }
      const { input, options } = feedSource(new Uint8Array(0), feed);
      const reader = new FrameReader(input, { ...options, engine });
      const summary = await reader.forEachFrame(() => {
        throw new Error("no frame expected");
      });
      assert.deepEqual(summary, {
        engine,
        contentType: null,
        contentTypeBytes: null,
        started: false,
        stopped: false,
        frames: 0,
        bytes: 0,
        controlFrames: 0,
        skippedFrames: 0,
        oversizedFrames: 0,
        bytesRead: 0,
      });
      // Strict: a stream must end with STOP.
      const strict = new FrameReader(
        feedSource(new Uint8Array(0), feed).input,
        { ...options, engine, strict: true },
      );
      const error = await drain(strict);
      assert.ok(error instanceof TruncatedFrameError);
      assert.equal(error.reason, "missing-stop");
      assert.equal(error.offset, 0);
      assert.equal(strict.summary.stopped, false);
    }
  });

  Deno.test(`FrameReader [${engine}] reports a missing STOP in the summary, an error only if strict`, async () => {
    const bytes = concat(START, HELLO);
    const reader = new FrameReader(new MemorySource(bytes, 5, 1), { engine });
    const summary = await reader.forEachFrame(() => {});
    assert.equal(summary.stopped, false);
    assert.equal(summary.started, true);
    assert.equal(summary.frames, 1);
    assert.deepEqual(summary.contentTypeBytes, DNSTAP);
    assert.equal(summary.contentType, "protobuf:dnstap.Dnstap");
    const strict = new FrameReader(new MemorySource(bytes, 5, 1), {
      engine,
      strict: true,
    });
    const error = await drain(strict);
    assert.ok(error instanceof TruncatedFrameError);
    assert.equal(error.reason, "missing-stop");
    assert.equal(error.offset, bytes.length);
    assert.equal(strict.summary.frames, 1);
  });
}

// ---------------------------------------------------------------------------
// Arguments and single use.

Deno.test("FrameReader checks its arguments", async () => {
  const empty: FrameSource = { read: () => Promise.resolve(null) };
  const bad: {
    source?: unknown;
    options?: Record<string, unknown>;
    error: ErrorConstructor;
  }[] = [
    // Not a source.
    { source: {}, error: TypeError },
    { source: null, error: TypeError },
    { source: { read: 1 }, error: TypeError },
    // Windows under 64 KiB or over 1 GiB, or not integers.
    { options: { windowSize: 1000 }, error: RangeError },
    { options: { windowSize: 65_535 }, error: RangeError },
    { options: { windowSize: 2 ** 30 + 1 }, error: RangeError },
    { options: { windowSize: 65_536.5 }, error: TypeError },
    // Limits out of 1..2^32 - 1, or not integers.
    { options: { maxFrameLength: 0 }, error: RangeError },
    { options: { maxFrameLength: 2 ** 32 }, error: RangeError },
    { options: { maxFrameLength: 1.5 }, error: TypeError },
    // Unknown policy, unknown engine.
    { options: { oversize: "drop" }, error: TypeError },
    { options: { engine: "gpu" }, error: TypeError },
  ];
  for (const { source = empty, options = {}, error } of bad) {
    const make = () =>
      new FrameReader(source as FrameSource, options as FrameReaderOptions);
    const what = JSON.stringify({ source, options });
    assert.throws(make, error, what);
    assert.throws(make, /^\w*Error: Cannot create FrameReader/, what);
  }
  // The extremes are accepted.
  assert.equal(
    new FrameReader(empty, { windowSize: MIN_WINDOW, engine: "wasm" }).engine,
    "wasm",
  );
  new FrameReader(empty, { maxFrameLength: 1 });
  new FrameReader(empty, { maxFrameLength: 0xffff_ffff });
  // A callback that is not a function is refused before the reader is used.
  const reader = new FrameReader(
    new MemorySource(encodeFrameStream(["a"]), Infinity, 0),
  );
  await assert.rejects(
    reader.forEachFrame("nope" as unknown as () => void),
    TypeError,
  );
  await assert.rejects(
    reader.forEachFrame(undefined as unknown as () => void),
    TypeError,
  );
  await assert.rejects(
    reader.forEachRun(42 as unknown as () => void),
    TypeError,
  );
  assert.equal((await reader.forEachFrame(() => {})).frames, 1);
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] refuses to be read twice`, async () => {
    const bytes = encodeFrameStream(["a", "b"]);
    const make = () =>
      new FrameReader(new MemorySource(bytes, Infinity, 0), { engine });
    const takers: [string, (r: FrameReader) => Promise<unknown>][] = [
      ["forEachFrame", (r) => r.forEachFrame(() => {})],
      ["forEachRun", (r) => r.forEachRun(() => {})],
      ["batches", async (r) => {
        for await (const _ of r.batches());
      }],
      ["iterator", async (r) => {
        for await (const _ of r);
      }],
    ];
    for (const [first, takeFirst] of takers) {
      for (const [second, takeSecond] of takers) {
        const reader = make();
        await takeFirst(reader);
        await assert.rejects(
          () => takeSecond(reader),
          (e) => e instanceof TypeError && /already read/.test(e.message),
          `${first} then ${second}`,
        );
        assert.equal(reader.summary.frames, 2, `${first} then ${second}`);
      }
    }
    // Also while the first is under way.
    const reader = make();
    const it = reader[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await assert.rejects(reader.forEachFrame(() => {}), TypeError);
    let rest = 1;
    while (!(await it.next()).done) rest++;
    assert.equal(rest, 4);
    // And after an error.
    const failed = new FrameReader(new MemorySource(hex("0000"), 1, 0), {
      engine,
    });
    assert.ok(await drain(failed) instanceof TruncatedFrameError);
    await assert.rejects(failed.forEachFrame(() => {}), TypeError);
  });
}

// ---------------------------------------------------------------------------
// The read paths.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] uses readSync when the source has it, unless readSync is false`, async () => {
    // Frames larger than the window too: they are read on their own path.
    const bytes = encodeFrameStream(
      [pattern(100, 1), pattern(200_000, 2), pattern(5, 3)],
    );
    const options = { engine, windowSize: MIN_WINDOW };
    const sync = new SyncMemorySource(bytes, 10_000, 1);
    assert.equal(
      (await new FrameReader(sync, options).forEachFrame(() => {}))
        .bytesRead,
      bytes.length,
    );
    assert.equal(sync.asyncReads, 0);
    assert.ok(sync.syncReads > 20);
    const off = new SyncMemorySource(bytes, 10_000, 1);
    await new FrameReader(off, { ...options, readSync: false }).forEachFrame(
      () => {},
    );
    assert.equal(off.syncReads, 0);
    assert.ok(off.asyncReads > 20);
    // readSync: true on a source without readSync: read() it is.
    const plainSource = new MemorySource(bytes, 10_000, 1);
    await new FrameReader(plainSource, { ...options, readSync: true })
      .forEachFrame(() => {});
    assert.ok(plainSource.asyncReads > 20);
  });
}

// ---------------------------------------------------------------------------
// Files.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] reads a file opened with open() and closes it`, async () => {
    const payloads = Array.from(
      { length: 2_000 },
      (_, i) => pattern(1 + i % 500, i),
    );
    payloads.push(pattern(150_000, 1));
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    const path = await Deno.makeTempFile({ suffix: ".fstrm" });
    try {
      await Deno.writeFile(path, bytes);
      for (const readSync of [true, false]) {
        // The sanitizers fail the test if a file is left open.
        {
          await using reader = await openFrameReader(path, {
            engine,
            readSync,
            windowSize: MIN_WINDOW,
          });
          assert.equal(reader.engine, engine);
          const got: Uint8Array[] = [];
          const summary = await reader.forEachFrame((w, o, l) => {
            got.push(w.slice(o, o + l));
          });
          assertSamePayloads(got, payloads, `readSync ${readSync}`);
          assert.equal(summary.bytesRead, bytes.length);
          assert.ok(summary.stopped);
          assert.deepEqual(summary.contentTypeBytes, DNSTAP);
          assert.equal(summary.contentType, "protobuf:dnstap.Dnstap");
        }
        // A URL, and the iterator.
        {
          await using reader = await openFrameReader(
            new URL(`file://${path}`),
            { engine, readSync },
          );
          const frames: Frame[] = [];
          for await (const f of reader) frames.push(f);
          assertSameFrames(frames, decodeFrames(bytes), "iterator");
          // close() twice is harmless (await using closes again).
          reader.close();
        }
      }
      // Leaving the loop early: await using still closes.
      {
        await using reader = await openFrameReader(path, { engine });
        for await (const f of reader) if (f.kind === "data") break;
      }
      // A truncated file: the error, and the file closed.
      await Deno.writeFile(path, bytes.subarray(0, bytes.length - 100));
      {
        await using reader = await openFrameReader(path, { engine });
        const error = await drain(reader);
        assert.ok(error instanceof TruncatedFrameError);
        assert.equal(reader.summary.frames, payloads.length - 1);
      }
      // Bad options: open() closes the file it opened before throwing.
      await assert.rejects(
        openFrameReader(path, { engine, windowSize: 1000 }),
        RangeError,
      );
      await assert.rejects(
        openFrameReader(`${path}.missing`),
        Deno.errors.NotFound,
      );
    } finally {
      await Deno.remove(path);
    }
  });

  Deno.test(`FrameReader [${engine}] does not close a source it did not open`, async () => {
    const bytes = encodeFrameStream(["one", "two"]);
    const path = await Deno.makeTempFile();
    try {
      await Deno.writeFile(path, bytes);
      using file = await Deno.open(path);
      {
        await using reader = new FrameReader(file, { engine });
        assert.equal((await reader.forEachFrame(() => {})).frames, 2);
        reader.close();
      }
      // Still open: it can be read again from the start.
      await file.seek(0, Deno.SeekMode.Start);
      const again = new FrameReader(file, { engine, readSync: false });
      assert.equal((await again.forEachFrame(() => {})).frames, 2);
    } finally {
      await Deno.remove(path);
    }
  });
}

// ---------------------------------------------------------------------------
// Sources other than read(buffer): streams and async iterables.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] reads a file's ReadableStream, Node's fs.createReadStream and an iterable of Buffers`, async () => {
    const payloads = Array.from(
      { length: 2_000 },
      (_, i) => pattern(1 + (i * 53) % 700, i),
    );
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    const path = await Deno.makeTempFile();
    try {
      await Deno.writeFile(path, bytes);
      const { createReadStream } = await import("node:fs");
      const { Buffer } = await import("node:buffer");
      const inputs: [string, () => Promise<Input>][] = [
        ["Deno file readable", async () => (await Deno.open(path)).readable],
        // Node streams are async iterables of Buffers (64 KiB each here).
        ["fs.createReadStream", () => Promise.resolve(createReadStream(path))],
        ["Buffers", () =>
          Promise.resolve(
            (async function* () {
              for (let i = 0; i < bytes.length; i += 1_000) {
                yield Buffer.from(bytes.subarray(i, i + 1_000));
              }
            })(),
          )],
      ];
      for (const [name, open] of inputs) {
        for (const how of ["forEachFrame", "iterator"] as const) {
          const reader = new FrameReader(await open(), { engine });
          const got: Uint8Array[] = [];
          if (how === "forEachFrame") {
            await reader.forEachFrame((window, offset, length) => {
              got.push(window.slice(offset, offset + length));
            });
          } else {
            for await (const f of reader) {
              if (f.kind === "data") got.push(f.data);
            }
          }
          assertSamePayloads(got, payloads, `${name}, ${how}`);
          const s = reader.summary;
          assert.ok(s.stopped, name);
          assert.equal(s.bytesRead, bytes.length, name);
          assert.deepEqual(s.contentTypeBytes, DNSTAP);
          assert.equal(s.contentType, "protobuf:dnstap.Dnstap");
        }
      }
    } finally {
      await Deno.remove(path);
    }
  });

  Deno.test(`FrameReader [${engine}] refuses a stream chunk that is not bytes, after the frames before it`, async () => {
    const good = encodeFrameStream(["a"]);
    const reader = new FrameReader(
      ReadableStream.from([
        good.subarray(0, 20),
        "text" as unknown as Uint8Array,
      ]),
      { engine },
    );
    await assert.rejects(
      () => reader.forEachFrame(() => {}),
      (e) =>
        e instanceof TypeError &&
        /a chunk must be a Uint8Array, got string/.test(e.message),
    );
  });

  Deno.test(`FrameReader [${engine}] tells a text stream from Frame Streams on every path`, async () => {
    const text = new TextEncoder().encode("# a text file\n".repeat(100));
    for (const how of HOWS) {
      for (const oversize of ["error", "skip"] as const) {
        const reader = new FrameReader(ReadableStream.from([text]), {
          engine,
          oversize,
        });
        let error: unknown = null;
        try {
          if (how === "forEachFrame") await reader.forEachFrame(() => {});
          else if (how === "forEachRun") await reader.forEachRun(() => {});
          else if (how === "batches") {
            for await (const _ of reader.batches());
          } else for await (const _ of reader);
        } catch (e) {
          error = e;
        }
        assert.ok(error instanceof NotFrameStreamsError, `${how}, ${oversize}`);
        assert.ok(error instanceof SyntaxError);
        assert.equal(error.offset, 0);
        assert.match(error.message, /not Frame Streams.*text/);
        assert.equal(reader.summary.oversizedFrames, 0);
      }
    }
  });
}

Deno.test("FrameReader summary gives the content type as text (U+FFFD for a bad byte) beside its exact bytes", async () => {
  const type = new Uint8Array([0x61, 0xff, 0x62]);
  const bytes = encodeFrameStream(["x"], { contentType: type });
  const summary = await new FrameReader(ReadableStream.from([bytes]))
    .forEachFrame(() => {});
  assert.equal(summary.contentType, "a\uFFFDb");
  assert.deepEqual(summary.contentTypeBytes, type);
  // No START: neither.
  const bare = await new FrameReader(ReadableStream.from([hex("00000001 2a")]))
    .forEachFrame(() => {});
  assert.equal(bare.contentType, null);
  assert.equal(bare.contentTypeBytes, null);
});
