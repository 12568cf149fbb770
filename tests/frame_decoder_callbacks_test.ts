// FrameDecoder callbacks (next(onData)), partial frames, and memory held in
// proportion to what arrived.
import assert from "node:assert/strict";
import {
  encodeDataFrame,
  encodeFrameStream,
  FrameDecoder,
  FrameTooLargeError,
} from "../mod.ts";
import { concat, ENGINES, hex } from "./_util.ts";

for (const engine of ENGINES) {
  Deno.test(`FrameDecoder.next(onData) (${engine}): data to the callback, control frames returned, views of the chunk`, () => {
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
    const start = decoder.next(onData);
    assert.equal(start?.offset, 0);
    assert.deepEqual(seen, []);
    const stop = decoder.next(onData);
    assert.equal(stop?.offset, bytes.length - 12);
    assert.deepEqual(seen, ["ab:true", "cde:false", "f:true"]);
    assert.equal(decoder.next(onData), null);
    assert.equal(decoder.frames, 3);
    assert.equal(decoder.bytes, 6);
    assert.equal(decoder.stopped, true);
  });

  Deno.test(`FrameDecoder.next (${engine}): without a callback (or with undefined) every frame is an object`, () => {
    const bytes = encodeFrameStream(["ab", "cde"], { contentType: "t" });
    const decoder = new FrameDecoder({ engine });
    decoder.push(bytes);
    decoder.end();
    const kinds: string[] = [];
    for (let f = decoder.next(undefined); f !== null; f = decoder.next()) {
      kinds.push(f.kind);
    }
    assert.deepEqual(kinds, ["control", "data", "data", "control"]);
    assert.equal(decoder.frames, 2);
    assert.equal(decoder.bytes, 5);
  });

  Deno.test(`FrameDecoder (${engine}): frames and bytes count alike through next(), next(onData) and nextRun()`, () => {
    const payloads = ["a", "bb", "x".repeat(70_000), "ccc"];
    const bytes = encodeFrameStream(payloads, { contentType: "t" });
    const total = payloads.reduce((n, p) => n + p.length, 0);
    const ways: [string, (d: FrameDecoder) => unknown][] = [
      ["next()", (d) => d.next()],
      ["next(onData)", (d) => d.next(() => {})],
      ["nextRun()", (d) => d.nextRun(() => {})],
    ];
    for (const [name, pull] of ways) {
      for (const cut of [0, 1, 47, 60, 70_050]) {
        const decoder = new FrameDecoder({ engine, maxFrameLength: 80_000 });
        decoder.push(bytes.subarray(0, cut));
        decoder.push(bytes.subarray(cut));
        decoder.end();
        while (pull(decoder) !== null);
        assert.deepEqual(
          [decoder.frames, decoder.bytes],
          [payloads.length, total],
          `${name}, cut at ${cut}`,
        );
      }
    }
  });

  Deno.test(`FrameDecoder.next(onData) (${engine}): a throwing callback does not poison the decoder`, () => {
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
    assert.equal(decoder.next(onData)?.offset, 0); // START
    assert.throws(() => decoder.next(onData), (e) => e === boom);
    // It goes on after "b".
    assert.equal(decoder.next(onData)?.type, 3); // STOP
    assert.deepEqual(seen, ["a", "b", "c"]);
    assert.equal(decoder.next(onData), null);
  });

  Deno.test(`FrameDecoder.next(onData) (${engine}): frames before a fault first, then the sticky error`, () => {
    const decoder = new FrameDecoder({ engine, maxFrameLength: 8 });
    decoder.push(
      concat(encodeDataFrame("ok"), encodeDataFrame("way too long")),
    );
    const seen: number[] = [];
    const onData = (_w: Uint8Array, _o: number, n: number) => void seen.push(n);
    assert.throws(() => decoder.next(onData), FrameTooLargeError);
    assert.deepEqual(seen, [2]);
    assert.throws(() => decoder.next(), FrameTooLargeError);
    assert.throws(
      () => decoder.next(null as unknown as () => void),
      FrameTooLargeError,
    );
  });
}

Deno.test("FrameDecoder.next(onData) refuses a callback that is not a function", () => {
  const decoder = new FrameDecoder();
  assert.throws(
    () => decoder.next("x" as unknown as () => void),
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
