// FrameDecoder: the byte-exact vectors, the shared case table
// (tests/_control_cases.ts) under every chunking, errors, policies, frames
// spanning chunks, arguments. Callbacks and partial frames are in
// frame_decoder_callbacks_test.ts, random streams in
// frame_decoder_property_test.ts.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  decodeFrames,
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
  type Frame,
  FrameDecoder,
  type FrameDecoderOptions,
  FrameTooLargeError,
  NotFrameStreamsError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import {
  concat,
  decodeSplit,
  decodeWhole,
  ENGINES,
  hex,
  type Outcome,
  plainError,
} from "./_util.ts";
import { ACCEPT, FINISH, HELLO, READY, START, STOP } from "./_vectors.ts";
import { FIRST_BYTES_CASES, STREAM_CASES } from "./_control_cases.ts";
import { assertEveryChunking } from "./_chunkings.ts";

const DNSTAP = [...new TextEncoder().encode("protobuf:dnstap.Dnstap")];

Deno.test("encodeControlFrame writes the byte-exact vectors", () => {
  const ct = "protobuf:dnstap.Dnstap";
  assert.deepEqual(encodeControlFrame(2, [ct]), START);
  assert.deepEqual(encodeControlFrame(4, [ct]), READY);
  assert.deepEqual(encodeControlFrame(1, [ct]), ACCEPT);
  assert.deepEqual(encodeControlFrame(3), STOP);
  assert.deepEqual(encodeControlFrame(5), FINISH);
  assert.deepEqual(encodeDataFrame("hello"), HELLO);
  assert.deepEqual(
    encodeFrameStream(["hello"], { contentType: ct }),
    concat(START, HELLO, STOP),
  );
});

Deno.test("encodeDataFrame refuses an empty payload", () => {
  assert.throws(() => encodeDataFrame(new Uint8Array(0)), RangeError);
  assert.throws(() => encodeDataFrame(""), RangeError);
  assert.throws(() => encodeFrameStream(["a", ""]), RangeError);
  assert.throws(() => encodeDataFrame(42 as unknown as Uint8Array), TypeError);
});

Deno.test("encodeControlFrame checks its limits", () => {
  // START takes one content type at most, STOP and FINISH none.
  assert.throws(() => encodeControlFrame(2, ["a", "b"]), RangeError);
  assert.throws(() => encodeControlFrame(3, ["a"]), RangeError);
  assert.throws(() => encodeControlFrame(5, ["a"]), RangeError);
  // 257-byte content type.
  assert.throws(() => encodeControlFrame(4, ["x".repeat(257)]), RangeError);
  // 256 bytes is fine; two of them make clen 4 + 2 * 264 = 532 > 512.
  assert.equal(
    encodeControlFrame(4, ["x".repeat(256)]).length,
    8 + 4 + 8 + 256,
  );
  assert.throws(
    () => encodeControlFrame(4, ["x".repeat(256), "y".repeat(256)]),
    RangeError,
  );
  assert.throws(() => encodeControlFrame(-1), TypeError);
  assert.throws(() => encodeControlFrame(1.5), TypeError);
  // Empty content type and one with a NUL are legal and distinct.
  assert.deepEqual(
    encodeControlFrame(4, [""]),
    hex("00000000 0000000c 00000004 00000001 00000000"),
  );
  assert.deepEqual(
    encodeControlFrame(4, [new Uint8Array([0x61, 0, 0x62])]),
    hex("00000000 0000000f 00000004 00000001 00000003 610062"),
  );
});

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder [${engine}] runs the engine it was asked for`, () => {
    // No silent fallback: a broken WebAssembly build must fail here.
    const decoder = new FrameDecoder({ engine });
    assert.equal(decoder.engine, engine);
    decoder.push(concat(START, HELLO, STOP));
    decoder.end();
    const kinds: string[] = [];
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      kinds.push(f.kind);
    }
    assert.deepEqual(kinds, ["control", "data", "control"]);
    assert.equal(decoder.engine, engine);
  });

  Deno.test(`FrameDecoder [${engine}] decodes the byte-exact vectors under every chunking`, () => {
    const ct = { kind: "control" as const, contentTypes: [DNSTAP] };
    // A bidirectional writer's view: READY, ACCEPT before the stream, FINISH after.
    const bytes = concat(READY, ACCEPT, START, HELLO, STOP, FINISH);
    const expected: Outcome = {
      frames: [
        { ...ct, type: 4, offset: 0 },
        { ...ct, type: 1, offset: 42 },
        { ...ct, type: 2, offset: 84 },
        {
          kind: "data",
          data: [...new TextEncoder().encode("hello")],
          offset: 126,
        },
        { kind: "control", type: 3, contentTypes: [], offset: 135 },
        { kind: "control", type: 5, contentTypes: [], offset: 147 },
      ],
      error: null,
      skipped: 0,
      oversized: 0,
      stopped: true,
    };
    assert.deepEqual(decodeWhole(bytes, { engine }), expected);
    assertEveryChunking(concat(START, HELLO, STOP), {
      ...expected,
      frames: expected.frames.slice(2, 5).map((f) => ({
        ...f,
        offset: f.offset - 84,
      })),
    }, { engine });
  });

  for (const c of STREAM_CASES) {
    Deno.test(`FrameDecoder [${engine}] on ${c.name}: the table's frames and error at its exact offset, under every chunking`, () => {
      const bytes = concat(START, HELLO, c.tail);
      const options = { ...c.options, engine };
      const whole = decodeWhole(bytes, options);
      assert.equal(whole.frames.length, c.frames, "frames");
      assert.equal(whole.skipped, c.skipped ?? 0, "skipped");
      assert.equal(whole.oversized, c.oversized ?? 0, "oversized");
      if (c.stopped !== undefined) assert.equal(whole.stopped, c.stopped);
      if (c.error === null) {
        assert.equal(whole.error, null);
      } else {
        assert.ok(whole.error !== null, "an error");
        for (const [key, value] of Object.entries(c.error)) {
          assert.deepEqual(whole.error[key], value, `error.${key}`);
        }
        assert.match(String(whole.error.message), /^Cannot decode/);
      }
      assertEveryChunking(bytes, whole, options);
    });
  }

  for (const c of FIRST_BYTES_CASES) {
    Deno.test(`FrameDecoder [${engine}] on ${c.name}: the table's error at byte 0, under every chunking`, () => {
      const options = { ...c.options, engine };
      const whole = decodeWhole(c.bytes, options);
      assert.equal(whole.frames.length, 0, "frames");
      assert.equal(whole.oversized, c.oversized ?? 0, "oversized");
      assert.ok(whole.error !== null, "an error");
      for (const [key, value] of Object.entries(c.error)) {
        assert.deepEqual(whole.error[key], value, `error.${key}`);
      }
      assert.match(String(whole.error.message), /^Cannot decode/);
      assertEveryChunking(c.bytes, whole, options);
    });
  }

  Deno.test(`FrameDecoder [${engine}] error classes extend the standard ones`, () => {
    const run = (bytes: Uint8Array, options: FrameDecoderOptions = {}) => {
      try {
        decodeFrames(bytes, { ...options, engine });
      } catch (e) {
        return e;
      }
      throw new Error("no error");
    };
    const tooLarge = run(hex("ffffffff"));
    assert.ok(
      tooLarge instanceof FrameTooLargeError && tooLarge instanceof RangeError,
    );
    const truncated = run(hex("00000002 00"));
    assert.ok(
      truncated instanceof TruncatedFrameError &&
        truncated instanceof RangeError,
    );
    const control = run(hex("00000000 00000001"));
    assert.ok(
      control instanceof ControlFrameError && control instanceof SyntaxError,
    );
    const unexpected = run(HELLO, { strict: true });
    assert.ok(
      unexpected instanceof UnexpectedFrameError &&
        unexpected instanceof SyntaxError,
    );
  });

  Deno.test(`FrameDecoder [${engine}] names TLS and dnsdist protobuf in its oversize message`, () => {
    // A TLS ClientHello on a plain port: not Frame Streams from byte 0.
    const tls = hex("16030100 f8010000 f40303");
    assert.throws(
      () => decodeFrames(tls, { engine }),
      (e) =>
        e instanceof NotFrameStreamsError && e.offset === 0 &&
        /TLS/.test(e.message),
    );
    // dnsdist's RemoteLogger: a 2-byte length, then protobuf (field 1, varint).
    const dnsdist = hex("009a 0801 1203 616263");
    assert.throws(
      () => decodeFrames(dnsdist, { engine }),
      (e) =>
        e instanceof NotFrameStreamsError && e.offset === 0 &&
        /protobuf/.test(e.message),
    );
    // The same bytes inside a stream: a frame too large, with the hint.
    assert.throws(
      () => decodeFrames(concat(START, tls), { engine }),
      (e) =>
        e instanceof FrameTooLargeError && e.offset === START.length &&
        /TLS/.test(e.message),
    );
    assert.throws(
      () => decodeFrames(concat(START, dnsdist), { engine }),
      (e) =>
        e instanceof FrameTooLargeError && e.offset === START.length &&
        /protobuf/.test(e.message),
    );
  });

  Deno.test(`FrameDecoder [${engine}] skips and counts control frames out of place`, () => {
    const unknown = hex("00000000 00000008 00000009 01020304");
    const bytes = concat(
      STOP, // STOP before START
      START,
      unknown, // an unknown control type, with a body we do not parse
      READY, // READY inside a stream
      ACCEPT,
      FINISH,
      START, // a second START
      HELLO,
      STOP,
    );
    const outcome = decodeWhole(bytes, { engine });
    assert.equal(outcome.error, null);
    assert.deepEqual(
      outcome.frames.map((f) => f.kind === "data" ? "data" : f.type),
      [2, "data", 3],
    );
    assert.equal(outcome.skipped, 6);
    assert.ok(outcome.stopped);
    assertEveryChunking(bytes.subarray(12), {
      ...outcome,
      skipped: 5,
      frames: outcome.frames.map((f) => ({ ...f, offset: f.offset - 12 })),
    }, { engine });
  });

  Deno.test(`FrameDecoder [${engine}] delivers data before START unless strict`, () => {
    const outcome = decodeWhole(concat(HELLO, START, STOP), { engine });
    assert.equal(outcome.error, null);
    assert.equal(outcome.frames[0]?.kind, "data");
    assert.ok(outcome.stopped);
  });

  Deno.test(`FrameDecoder [${engine}] reports a missing STOP without error unless strict`, () => {
    const outcome = decodeWhole(concat(START, HELLO), { engine });
    assert.equal(outcome.error, null);
    assert.equal(outcome.frames.length, 2);
    assert.equal(outcome.stopped, false);
    const empty = decodeWhole(new Uint8Array(0), { engine });
    assert.deepEqual(empty.frames, []);
    assert.equal(empty.error, null);
  });

  Deno.test(`FrameDecoder [${engine}] decodes concatenated streams`, () => {
    const a = encodeFrameStream(["a"], { contentType: "one" });
    const b = encodeFrameStream(["b"], { contentType: "two" });
    const decoder = new FrameDecoder({ strict: true, engine });
    decoder.push(concat(a, b));
    decoder.end();
    const types: string[] = [];
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      types.push(f.kind === "data" ? "data" : String(f.type));
    }
    assert.deepEqual(types, ["2", "data", "3", "2", "data", "3"]);
    assert.deepEqual(decoder.contentType, new TextEncoder().encode("two"));
  });

  Deno.test(`FrameDecoder [${engine}] skips oversized frames without buffering them`, () => {
    const big = encodeDataFrame(new Uint8Array(1000).fill(7));
    const bytes = concat(START, HELLO, big, HELLO, big, STOP);
    const options = {
      maxFrameLength: 100,
      oversize: "skip" as const,
      engine,
    };
    const outcome = decodeWhole(bytes, options);
    assert.equal(outcome.error, null);
    assert.equal(outcome.oversized, 2);
    assert.deepEqual(outcome.frames.map((f) => f.offset), [0, 42, 1055, 2068]);
    // Every split point would be slow to check at this size: cut every 7 bytes.
    const cuts = Array.from(
      { length: Math.floor(bytes.length / 7) },
      (_, i) => (i + 1) * 7,
    );
    assert.deepEqual(decodeSplit(bytes, cuts, options), outcome);
    // Cut inside the skipped frame, the input ending there: truncation.
    const cut = decodeWhole(bytes.subarray(0, 51 + 500), options);
    assert.equal(cut.error?.name, "TruncatedFrameError");
    assert.equal(cut.error?.offset, 51);
    assert.equal(cut.error?.expected, 1004);
    assert.equal(cut.error?.received, 500);
  });

  Deno.test(`FrameDecoder [${engine}] hands out views of a chunk and assembles spanning frames once`, () => {
    const bytes = concat(HELLO, HELLO);
    const decoder = new FrameDecoder({ engine });
    decoder.push(bytes.subarray(0, 12)); // the first frame whole, the second cut
    const first = decoder.next();
    assert.ok(first?.kind === "data");
    assert.equal(
      first.data.buffer,
      bytes.buffer,
      "a view of the caller's chunk",
    );
    assert.equal(first.data.byteOffset, 4);
    assert.equal(decoder.next(), null);
    decoder.push(bytes.subarray(12));
    const second = decoder.next();
    assert.ok(second?.kind === "data");
    assert.notEqual(second.data.buffer, bytes.buffer, "a buffer of its own");
    assert.equal(
      second.data.buffer.byteLength,
      9,
      "exactly the frame, allocated once",
    );
    assert.deepEqual([...second.data], [...new TextEncoder().encode("hello")]);
  });

  Deno.test(`FrameDecoder [${engine}] takes a 4 MiB frame one byte per chunk in linear time`, () => {
    // Quadratic copying would move about 8 TB here and never finish.
    const payload = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i * 31;
    const bytes = encodeDataFrame(payload);
    const decoder = new FrameDecoder({
      maxFrameLength: payload.length,
      engine,
    });
    let frame = null;
    for (let i = 0; i < bytes.length; i++) {
      decoder.push(bytes.subarray(i, i + 1));
      const f = decoder.next();
      if (f !== null) frame = f;
    }
    assert.ok(frame?.kind === "data");
    assert.deepEqual(frame.data, payload);
  });

  // A frame over 2 GiB being assembled needs a Uint8Array of 2^31 bytes or
  // more. On Deno 2.9.6 (V8 15.0) the Maglev tier computes `array.length - n`
  // in int32 for such an array once the code is warm (minimal repro:
  // `const f = (a, n) => a.length - n;` called 100,000 times on a small
  // Uint8Array, then `f(new Uint8Array(3943451853), 48)` gives -351515491),
  // and the decoder then takes its part-filled buffer for a whole frame: it
  // hands out a frame of about 4 GB of zeros from 304 bytes of input, then a
  // ControlFrameError at an offset past the input. The decoder now keeps
  // such lengths in fields instead of computing `array.length - n`.
  Deno.test({
    name:
      `FrameDecoder [${engine}] assembles a frame of nearly 4 GiB across chunks once the JIT is warm`,
    fn() {
      const frameOf = (length: number, have: number) => {
        const bytes = new Uint8Array(4 + have);
        new DataView(bytes.buffer).setUint32(0, length);
        return bytes;
      };
      // Frames as text, not bytes: the bad one is 4 GB.
      const describe = (f: Frame) =>
        f.kind === "data"
          ? `data at ${f.offset}, ${f.data.length} bytes`
          : `control ${f.type} at ${f.offset}`;
      const decode = (bytes: Uint8Array, size: number) => {
        const decoder = new FrameDecoder({
          maxFrameLength: 0xffff_ffff,
          engine,
        });
        const frames: string[] = [];
        try {
          for (let at = 0; at < bytes.length; at += size) {
            decoder.push(bytes.subarray(at, at + size));
            for (let f = decoder.next(); f !== null; f = decoder.next()) {
              frames.push(describe(f));
            }
          }
          decoder.end();
          for (let f = decoder.next(); f !== null; f = decoder.next()) {
            frames.push(describe(f));
          }
        } catch (e) {
          return { frames, error: plainError(e) };
        }
        return { frames, error: null };
      };
      for (const length of [0xeb0c_0000, 0xffff_fffb]) {
        const huge = frameOf(length, 300);
        // Warm up: huge lengths through the scanner (in one chunk, so that
        // the buffer is never filled), small frames through the assembly.
        for (let round = 0; round < 50; round++) {
          decode(huge, huge.length);
          for (let i = 0; i < 20; i++) decode(frameOf(40, 40), 17);
        }
        assert.deepEqual(decode(huge, 17), {
          frames: [],
          error: {
            name: "TruncatedFrameError",
            message:
              `Cannot decode frame: input ended inside the frame at byte 0 after 304 of ${
                4 + length
              } bytes`,
            offset: 0,
            reason: "frame",
            received: 304,
            expected: 4 + length,
          },
        }, `length ${length}`);
      }
    },
  });

  Deno.test(`FrameDecoder [${engine}] keeps throwing the same error`, () => {
    const decoder = new FrameDecoder({ engine });
    decoder.push(concat(HELLO, hex("00000000 00000002")));
    assert.equal(decoder.next()?.kind, "data");
    let first: unknown;
    try {
      decoder.next();
    } catch (e) {
      first = e;
    }
    assert.ok(first instanceof ControlFrameError);
    assert.throws(() => decoder.next(), (e) => e === first);
  });

  Deno.test(`FrameDecoder [${engine}] checks its arguments`, () => {
    assert.throws(
      () => new FrameDecoder({ maxFrameLength: 0, engine }),
      RangeError,
    );
    assert.throws(
      () => new FrameDecoder({ maxFrameLength: 2 ** 32, engine }),
      RangeError,
    );
    assert.throws(
      () => new FrameDecoder({ maxFrameLength: 1.5, engine }),
      TypeError,
    );
    assert.throws(
      () => new FrameDecoder({ oversize: "drop" as unknown as "skip", engine }),
      TypeError,
    );
    const decoder = new FrameDecoder({ engine });
    assert.throws(
      () => decoder.push("bytes" as unknown as Uint8Array),
      TypeError,
    );
    decoder.end();
    assert.throws(() => decoder.push(new Uint8Array(1)), TypeError);
  });
}
