// FrameDecoder callbacks (nextControl), partial frames, and memory held in
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
