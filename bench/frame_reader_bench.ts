// The bulk path and the decoder, per engine and frame-size shape, on 32 MiB
// of frames held in memory (so the numbers are the library's, not the disk's):
//   FrameReader.forEachFrame: the zero-allocation callback path;
//   FrameDecoder: push 64 KiB chunks, pull frame objects.
// The TS engine is the baseline of each group.
import {
  encodeFrameStream,
  type Engine,
  FrameDecoder,
  FrameReader,
  type FrameSource,
} from "../mod.ts";

const TOTAL = 32 * 1024 * 1024;

let seed = 1;
function random(): number {
  seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
  return seed / 2 ** 32;
}

/** A whole stream of about TOTAL bytes of frames sized by `size`. */
function stream(size: () => number): Uint8Array {
  const payloads: Uint8Array[] = [];
  for (let total = 0; total < TOTAL;) {
    const p = new Uint8Array(size()).fill(payloads.length & 0xff);
    payloads.push(p);
    total += 4 + p.length;
  }
  return encodeFrameStream(payloads, { contentType: "protobuf:dnstap.Dnstap" });
}

/** A source serving `bytes` through readSync, as a file does. */
function source(bytes: Uint8Array): FrameSource {
  let at = 0;
  const readSync = (buffer: Uint8Array): number | null => {
    if (at === bytes.length) return null;
    const n = Math.min(buffer.length, bytes.length - at);
    buffer.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
  return { readSync, read: (buffer) => Promise.resolve(readSync(buffer)) };
}

const shapes: [string, Uint8Array][] = [
  ["dnstap-like 80-400 B", stream(() => 80 + Math.floor(random() * 321))],
  ["16 B", stream(() => 16)],
  ["256 KiB", stream(() => 256 * 1024)],
];
const engines: Engine[] = ["ts", "wasm"];

for (const [shape, bytes] of shapes) {
  for (const engine of engines) {
    Deno.bench({
      name: `FrameReader.forEachFrame [${engine}]`,
      group: `reader ${shape}`,
      baseline: engine === "ts",
      async fn() {
        const reader = new FrameReader(source(bytes), {
          engine,
          maxFrameLength: 1 << 20,
        });
        const sum = new Float64Array(1);
        await reader.forEachFrame((window, offset) => {
          sum[0]! += window[offset]!;
        });
        if (!reader.summary.stopped) throw new Error("no STOP");
      },
    });
    Deno.bench({
      name: `FrameDecoder, 64 KiB chunks [${engine}]`,
      group: `decoder ${shape}`,
      baseline: engine === "ts",
      fn() {
        const decoder = new FrameDecoder({ engine, maxFrameLength: 1 << 20 });
        for (let at = 0; at < bytes.length; at += 65536) {
          decoder.push(bytes.subarray(at, at + 65536));
          while (decoder.next() !== null);
        }
        decoder.end();
        while (decoder.next() !== null);
        if (!decoder.stopped) throw new Error("no STOP");
      },
    });
  }
}
