import assert from "node:assert/strict";
import fc from "fast-check";
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
  plain,
  plainError,
} from "./_util.ts";
import { ACCEPT, FINISH, HELLO, READY, START, STOP } from "./_vectors.ts";

const DNSTAP = [...new TextEncoder().encode("protobuf:dnstap.Dnstap")];

/** Every single cut point, plus every pair of cut points for short inputs. */
function* splits(length: number): Generator<number[]> {
  yield [];
  for (let i = 1; i < length; i++) yield [i];
  if (length <= 80) {
    for (let i = 1; i < length; i++) {
      for (let j = i + 1; j < length; j++) yield [i, j];
    }
  }
  yield Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
}

/** Asserts that every chunking of `bytes` decodes to `expected`. */
function assertEveryChunking(
  bytes: Uint8Array,
  expected: Outcome,
  options: FrameDecoderOptions,
): void {
  for (const cuts of splits(bytes.length)) {
    assert.deepEqual(
      decodeSplit(bytes, cuts, options),
      expected,
      `cuts ${cuts}`,
    );
  }
}

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

/** A violation: bytes after START + "hello" (51 bytes), and what it must give. */
interface Violation {
  name: string;
  tail: Uint8Array;
  options?: { maxFrameLength?: number; strict?: boolean };
  error: Record<string, unknown>;
  /** Frames delivered before the error, beyond START and hello. */
  before?: number;
}

const AT = 51; // offset of the offending frame: after START (42) and HELLO (9)

const violations: Violation[] = [
  // clen 3: too short to hold a control type.
  {
    name: "control length 3",
    tail: hex("00000000 00000003 000000"),
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // clen 0.
  {
    name: "control length 0",
    tail: hex("00000000 00000000"),
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // clen 513: rejected from its header, before its payload arrives.
  {
    name: "control length 513",
    tail: hex("00000000 00000201 00000004"),
    error: {
      name: "ControlFrameError",
      reason: "length",
      offset: AT,
      errorOffset: AT + 4,
    },
  },
  // READY with 4 stray bytes after its type: a field header needs 8.
  {
    name: "truncated field header",
    tail: hex("00000000 00000008 00000004 00000001"),
    error: {
      name: "ControlFrameError",
      reason: "field-header",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A field announcing 6 bytes where 5 remain.
  {
    name: "field running past the frame",
    tail: hex(`00000000 00000011 00000004 00000001 00000006 "abcde"`),
    error: {
      name: "ControlFrameError",
      reason: "field-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // Field type 2 is not defined.
  {
    name: "unknown field type",
    tail: hex(`00000000 0000000d 00000004 00000002 00000001 "a"`),
    error: {
      name: "ControlFrameError",
      reason: "field-type",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A 257-byte content type.
  {
    name: "content type of 257 bytes",
    tail: concat(
      hex("00000000 0000010d 00000004 00000001 00000101"),
      new Uint8Array(257),
    ),
    error: {
      name: "ControlFrameError",
      reason: "content-type-length",
      offset: AT,
      errorOffset: AT + 16,
    },
  },
  // START with two content types: the second field is the offence.
  {
    name: "START with two content types",
    tail: hex(
      `00000000 00000016 00000002 00000001 00000001 "a" 00000001 00000001 "b"`,
    ),
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 21,
    },
  },
  // STOP with a field.
  {
    name: "STOP with a content type",
    tail: hex(`00000000 0000000d 00000003 00000001 00000001 "a"`),
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // FINISH with a field.
  {
    name: "FINISH with a content type",
    tail: hex(`00000000 0000000d 00000005 00000001 00000001 "a"`),
    error: {
      name: "ControlFrameError",
      reason: "content-type-count",
      offset: AT,
      errorOffset: AT + 12,
    },
  },
  // A data frame one byte over the limit, rejected from its length word.
  {
    name: "data frame over maxFrameLength",
    tail: concat(hex("00000011"), new Uint8Array(17)),
    options: { maxFrameLength: 16 },
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 17,
      maxFrameLength: 16,
    },
  },
  // A length near 2^32.
  {
    name: "length 2^32 - 1",
    tail: hex("ffffffff 00"),
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 0xffffffff,
      maxFrameLength: 1048576,
    },
  },
  // Input ends inside a data frame's payload.
  {
    name: "end inside a payload",
    tail: hex("0000000a 0102"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 6,
      expected: 14,
    },
  },
  // Input ends inside a length word.
  {
    name: "end inside a length word",
    tail: hex("0000"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 2,
      expected: null,
    },
  },
  // Input ends inside a control frame.
  {
    name: "end inside a control frame",
    tail: hex("00000000 00000004 00"),
    error: {
      name: "TruncatedFrameError",
      reason: "frame",
      offset: AT,
      received: 9,
      expected: 12,
    },
  },
  // Strict: an unknown control type.
  {
    name: "strict: unknown control type",
    tail: hex("00000000 00000004 00000009"),
    options: { strict: true },
    error: {
      name: "ControlFrameError",
      reason: "unknown-type",
      offset: AT,
      errorOffset: AT + 8,
    },
  },
  // Strict: READY inside a stream.
  {
    name: "strict: READY inside a stream",
    tail: READY,
    options: { strict: true },
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 4 },
  },
  // Strict: a second START.
  {
    name: "strict: START inside a stream",
    tail: START,
    options: { strict: true },
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 2 },
  },
  // Strict: end of input without STOP.
  {
    name: "strict: no STOP",
    tail: encodeDataFrame("x"),
    options: { strict: true },
    before: 1,
    error: {
      name: "TruncatedFrameError",
      reason: "missing-stop",
      offset: AT + 5,
    },
  },
];

// Property tests.

/** A random valid sequence of streams: [READY ACCEPT] START data* STOP [FINISH], repeated. */
const contentTypeArb = fc.uint8Array({ maxLength: 40 });
const streamArb = fc.record({
  handshake: fc.boolean(),
  contentType: fc.option(contentTypeArb, { nil: null }),
  offered: fc.array(contentTypeArb, { maxLength: 3 }),
  payloads: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), {
    maxLength: 20,
  }),
  stop: fc.boolean(),
});

interface StreamSpec {
  handshake: boolean;
  contentType: Uint8Array | null;
  offered: Uint8Array[];
  payloads: Uint8Array[];
  stop: boolean;
}
type ExpectedFrame =
  | { kind: "data"; data: number[] }
  | { kind: "control"; type: number; contentTypes: number[][] };

function encodeStreams(
  streams: StreamSpec[],
): { bytes: Uint8Array; frames: ExpectedFrame[] } {
  const parts: Uint8Array[] = [];
  const frames: ExpectedFrame[] = [];
  const control = (type: number, cts: Uint8Array[]) => {
    parts.push(encodeControlFrame(type, cts));
    frames.push({
      kind: "control",
      type,
      contentTypes: cts.map((c) => [...c]),
    });
  };
  streams.forEach((s, i) => {
    const last = i === streams.length - 1;
    if (s.handshake) {
      control(4, s.offered);
      control(1, s.offered);
    }
    control(2, s.contentType === null ? [] : [s.contentType]);
    for (const p of s.payloads) {
      parts.push(encodeDataFrame(p));
      frames.push({ kind: "data", data: [...p] });
    }
    // Only the last stream may lack its STOP.
    if (s.stop || !last) {
      control(3, []);
      if (s.handshake) control(5, []);
    }
  });
  return { bytes: concat(...parts), frames };
}

const cutsArb = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), {
    maxLength: 30,
  })
    .map((cuts) => cuts.filter((c) => c < length).sort((a, b) => a - b));

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

  for (const v of violations) {
    Deno.test(`FrameDecoder [${engine}] rejects ${v.name} at its exact offset, under every chunking`, () => {
      const bytes = concat(START, HELLO, v.tail);
      const options = { ...v.options, engine };
      const whole = decodeWhole(bytes, options);
      assert.equal(
        whole.frames.length,
        2 + (v.before ?? 0),
        "frames before the error",
      );
      assert.ok(whole.error !== null, "an error");
      for (const [key, value] of Object.entries(v.error)) {
        assert.deepEqual(whole.error[key], value, `error.${key}`);
      }
      assert.match(String(whole.error.message), /^Cannot decode/);
      assertEveryChunking(bytes, whole, options);
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

  Deno.test(`FrameDecoder [${engine}] gives back random encoded streams under random chunking`, () => {
    fc.assert(
      fc.property(
        fc.array(streamArb, { minLength: 1, maxLength: 3 }).chain((streams) => {
          const encoded = encodeStreams(streams);
          return fc.tuple(fc.constant(encoded), cutsArb(encoded.bytes.length));
        }),
        ([{ bytes, frames }, cuts]) => {
          const outcome = decodeSplit(bytes, cuts, { engine });
          assert.equal(outcome.error, null);
          assert.equal(outcome.skipped, 0);
          const got = outcome.frames.map((f) => {
            const { offset: _, ...rest } = f;
            return rest;
          });
          assert.deepEqual(got, frames);
        },
      ),
      { numRuns: 300 },
    );
  });

  Deno.test(`FrameDecoder [${engine}] gives the same frames and error for mutated input however chunked`, () => {
    const mutated = fc.array(streamArb, { minLength: 1, maxLength: 2 }).chain(
      (streams) => {
        const { bytes } = encodeStreams(streams);
        return fc.tuple(
          fc.constant(bytes),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
            maxLength: 4,
          }),
          fc.nat(),
        ).map(([b, flips, cut]) => {
          const out = b.slice(
            0,
            b.length - (cut % Math.max(1, Math.min(b.length, 20))),
          );
          for (const [at, value] of flips) {
            if (out.length) out[at % out.length] = value;
          }
          return out;
        });
      },
    ).chain((bytes) => fc.tuple(fc.constant(bytes), cutsArb(bytes.length)));
    fc.assert(
      fc.property(mutated, fc.boolean(), ([bytes, cuts], strict) => {
        const options = { strict, maxFrameLength: 200, engine };
        const whole = decodeWhole(bytes, options);
        assert.deepEqual(decodeSplit(bytes, cuts, options), whole);
        if (whole.error !== null) {
          assert.match(String(whole.error.message), /^Cannot decode/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  Deno.test(`plain() [${engine}] keeps offsets`, () => {
    const [frame] = decodeFrames(HELLO, { engine });
    assert.deepEqual(plain(frame!), {
      kind: "data",
      data: [104, 101, 108, 108, 111],
      offset: 0,
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder.nextControl (${engine}): data to the callback, control frames returned, views of the chunk`, () => {
    const bytes = encodeFrameStream(["ab", "cde", "f"], {
      contentType: "protobuf:dnstap.Dnstap",
    });
    const decoder = new FrameDecoder({ engine });
    // Cut inside the second data frame: it is assembled in its own buffer.
    const cut = 42 + 6 + 5;
    decoder.push(bytes.subarray(0, cut));
    decoder.push(bytes.subarray(cut));
    decoder.end();
    const seen: string[] = [];
    const onData = (w: Uint8Array, o: number, n: number) => {
      seen.push(
        `${new TextDecoder().decode(w.subarray(o, o + n))}:${
          w.buffer === bytes.buffer
        }`,
      );
    };
    const start = decoder.nextControl(onData);
    assert.equal(start?.offset, 0);
    assert.deepEqual(seen, []);
    const stop = decoder.nextControl(onData);
    assert.equal(stop?.offset, bytes.length - 12);
    assert.deepEqual(seen, ["ab:true", "cde:false", "f:true"]);
    assert.equal(decoder.nextControl(onData), null);
    assert.equal(decoder.dataFrames, 3);
    assert.equal(decoder.stopped, true);
  });

  Deno.test(`FrameDecoder.nextControl (${engine}): a throwing callback does not poison the decoder`, () => {
    const decoder = new FrameDecoder({ engine });
    decoder.push(encodeFrameStream(["a", "b", "c"]));
    decoder.end();
    const seen: string[] = [];
    const boom = new Error("boom");
    const onData = (w: Uint8Array, o: number) => {
      const s = String.fromCharCode(w[o]!);
      seen.push(s);
      if (s === "b") throw boom;
    };
    assert.equal(decoder.nextControl(onData)?.offset, 0); // START
    assert.throws(() => decoder.nextControl(onData), (e) => e === boom);
    // It goes on after "b".
    assert.equal(decoder.nextControl(onData)?.type, 3); // STOP
    assert.deepEqual(seen, ["a", "b", "c"]);
    assert.equal(decoder.nextControl(onData), null);
  });

  Deno.test(`FrameDecoder.nextControl (${engine}): frames before a fault first, then the sticky error`, () => {
    const decoder = new FrameDecoder({ engine, maxFrameLength: 8 });
    decoder.push(
      concat(encodeDataFrame("ok"), encodeDataFrame("way too long")),
    );
    const seen: number[] = [];
    const onData = (_w: Uint8Array, _o: number, n: number) => seen.push(n);
    assert.throws(() => decoder.nextControl(onData), FrameTooLargeError);
    assert.deepEqual(seen, [2]);
    assert.throws(() => decoder.next(), FrameTooLargeError);
    assert.throws(
      () => decoder.nextControl(null as unknown as () => void),
      FrameTooLargeError,
    );
  });
}

Deno.test("FrameDecoder.nextControl refuses a callback that is not a function", () => {
  const decoder = new FrameDecoder();
  assert.throws(
    () => decoder.nextControl("x" as unknown as () => void),
    TypeError,
  );
});

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder [${engine}] partialFrame tells the frame being assembled`, () => {
    const decoder = new FrameDecoder({
      engine,
      oversize: "skip",
      maxFrameLength: 1000,
    });
    assert.equal(decoder.partialFrame, null);
    // Two bytes of a first word: kind unknown yet.
    decoder.push(new Uint8Array([0, 0]));
    assert.equal(decoder.next(), null);
    assert.deepEqual(decoder.partialFrame, {
      kind: null,
      offset: 0,
      length: null,
      received: 2,
    });
    // The escape: a control frame, its length not yet known.
    decoder.push(new Uint8Array([0, 0]));
    assert.equal(decoder.next(), null);
    assert.deepEqual(decoder.partialFrame, {
      kind: "control",
      offset: 0,
      length: null,
      received: 4,
    });
    // Its length: 12 bytes in all (START with no field).
    decoder.push(new Uint8Array([0, 0, 0, 4]));
    assert.equal(decoder.next(), null);
    assert.deepEqual(decoder.partialFrame, {
      kind: "control",
      offset: 0,
      length: 12,
      received: 8,
    });
    decoder.push(new Uint8Array([0, 0, 0, 2])); // START
    assert.equal(decoder.next()?.kind, "control");
    assert.equal(decoder.partialFrame, null);
    // A data frame of 500 bytes, 10 here.
    decoder.push(concat(hex("00 00 01 f4"), new Uint8Array(6)));
    assert.equal(decoder.next(), null);
    assert.deepEqual(decoder.partialFrame, {
      kind: "data",
      offset: 12,
      length: 504,
      received: 10,
    });
    decoder.push(new Uint8Array(494));
    assert.equal((decoder.next() as { data: Uint8Array }).data.length, 500);
    assert.equal(decoder.partialFrame, null);
    // Being skipped (over maxFrameLength): not assembled.
    decoder.push(concat(hex("00 00 10 00"), new Uint8Array(10)));
    assert.equal(decoder.next(), null);
    assert.equal(decoder.partialFrame, null);
  });
}

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder [${engine}] holds memory in proportion to what arrived, not to the length a frame announces`, () => {
    // 200 decoders each told of a 16 MiB frame, given 4 bytes of it: were
    // the whole frame reserved up front, 3.2 GB.
    const before = Deno.memoryUsage().external;
    const decoders: FrameDecoder[] = [];
    for (let i = 0; i < 200; i++) {
      const decoder = new FrameDecoder({ engine, maxFrameLength: 16 << 20 });
      decoder.push(concat(hex("01 00 00 00"), new Uint8Array(4)));
      assert.equal(decoder.next(), null);
      assert.equal(decoder.partialFrame?.length, 4 + (16 << 20));
      decoders.push(decoder);
    }
    const grew = Deno.memoryUsage().external - before;
    assert.ok(grew < 64 << 20, `external memory grew by ${grew} bytes`);
    // And the frame still assembles whole when its bytes come.
    const d = decoders[0]!;
    const rest = new Uint8Array((16 << 20) - 4).fill(7);
    for (let p = 0; p < rest.length; p += 1 << 20) {
      d.push(rest.subarray(p, p + (1 << 20)));
    }
    const frame = d.next();
    assert.equal(frame?.kind, "data");
    assert.equal((frame as { data: Uint8Array }).data.length, 16 << 20);
    assert.equal((frame as { data: Uint8Array }).data[16 << 19], 7);
  });
}
