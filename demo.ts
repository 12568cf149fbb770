// deno task demo: encode a dnstap-shaped stream, decode it back, say what was seen.
// (The CLI issue turns this into a real capture over a Unix socket.)
import {
  DNSTAP_CONTENT_TYPE,
  encodeFrameStream,
  FrameDecoderStream,
} from "./mod.ts";

const count = 100_000;
let seed = 1;
const random = (): number =>
  (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const payloads = Array.from({ length: count }, () => {
  const p = new Uint8Array(80 + Math.floor(random() * 321));
  for (let i = 0; i < p.length; i++) p[i] = random() * 256;
  return p;
});

const t0 = performance.now();
const bytes = encodeFrameStream(payloads, { contentType: DNSTAP_CONTENT_TYPE });
const t1 = performance.now();

// Feed the bytes in 64 KiB chunks, as a socket or file would.
const chunks = ReadableStream.from((function* () {
  for (let i = 0; i < bytes.length; i += 65536) {
    yield bytes.subarray(i, i + 65536);
  }
})());
const decoder = new FrameDecoderStream();
let frames = 0;
let payloadBytes = 0;
let min = Infinity;
let max = 0;
for await (const frame of chunks.pipeThrough(decoder)) {
  if (frame.kind !== "data") continue;
  frames++;
  payloadBytes += frame.data.length;
  min = Math.min(min, frame.data.length);
  max = Math.max(max, frame.data.length);
}
const t2 = performance.now();

console.log(
  `encoded  ${count} frames, ${bytes.length} bytes in ${
    (t1 - t0).toFixed(0)
  } ms`,
);
console.log(
  `decoded  ${frames} data frames, ${payloadBytes} payload bytes (min ${min}, max ${max}) in ${
    (t2 - t1).toFixed(0)
  } ms`,
);
console.log(
  `content type ${
    JSON.stringify(new TextDecoder().decode(decoder.contentType!))
  }, STOP seen: ${decoder.stopped}, engine: ${decoder.engine}`,
);
if (frames !== count || !decoder.stopped) {
  console.error("demo: decoded stream does not match what was encoded");
  Deno.exit(1);
}
