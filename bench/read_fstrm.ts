// Our reader under the reader contract of peers/README.md: prints
//   frames=N bytes=B check=0xHHHHHHHH
// for a Frame Streams file, then an in-process timing line. bench/read_bench.ts
// times it beside the C readers of peers/.
//
//   deno run --allow-read bench/read_fstrm.ts [--engine auto|wasm|ts]
//     [--api callback|run|batches|iterator|stream|default] [--copy]
//     [--window BYTES] FILE
//
// --api: forEachFrame (callback), forEachRun (run: walks each run's length
// words itself), batches(), `for await (const frame of reader)` (iterator),
// FrameDecoderStream over the file's readable (stream), or `for await` with
// no option at all (default).
// --copy makes batches/iterator own their payloads (the library's default);
// the bench reads each payload at once, so it runs without by default.
// Options not given are left to the library's defaults.
//
// check is FNV-1a over each data frame's first and last payload byte. Exits 1
// on a truncated file, a missing STOP or a content type other than dnstap's.
import { parseArgs } from "node:util";
import {
  DNSTAP_CONTENT_TYPE,
  type EngineOption,
  type Frame,
  FrameDecoderStream,
} from "../mod.ts";
import { openFrameReader } from "../src/file.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    engine: { type: "string", default: "auto" },
    api: { type: "string", default: "callback" },
    window: { type: "string" },
    copy: { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const path = positionals.at(-1);
if (path === undefined) {
  console.error(
    "usage: read_fstrm.ts [--engine auto|wasm|ts] [--api callback|run|batches|iterator|stream|default] [--copy] [--window BYTES] FILE",
  );
  Deno.exit(2);
}
const engine = values.engine as EngineOption;
const t0 = performance.now();

let frames = 0;
let bytes = 0;
let h = 0x811c9dc5;
let contentType: Uint8Array | null = null;
let stopped = false;
let used = engine as string;

// Counters in typed arrays: a captured or module-level number that leaves the
// small-integer range is boxed on every store, which would dominate here.
const acc = new Float64Array(2);
const hash = new Uint32Array([h]);
function fold(data: Uint8Array): void {
  acc[0]!++;
  acc[1]! += data.length;
  hash[0] = Math.imul(hash[0]! ^ data[0]!, 16777619);
  hash[0] = Math.imul(hash[0]! ^ data[data.length - 1]!, 16777619);
}

try {
  if (values.api === "stream") {
    using file = await Deno.open(path);
    const stream = new FrameDecoderStream({ engine });
    for await (const frame of file.readable.pipeThrough(stream)) {
      if (frame.kind === "data") fold(frame.data);
    }
    contentType = stream.contentType;
    stopped = stream.stopped;
    used = stream.engine;
  } else {
    await using reader = values.api === "default"
      ? await openFrameReader(path)
      : await openFrameReader(path, {
        engine,
        ...(values.window === undefined
          ? {}
          : { windowSize: Number(values.window) }),
        reuseWindow: !values.copy,
      });
    used = reader.engine;
    if (values.api === "callback") {
      await reader.forEachFrame((window, offset, length) => {
        acc[0]!++;
        acc[1]! += length;
        hash[0] = Math.imul(hash[0]! ^ window[offset]!, 16777619);
        hash[0] = Math.imul(hash[0]! ^ window[offset + length - 1]!, 16777619);
      });
    } else if (values.api === "run") {
      await reader.forEachRun((window, start, end) => {
        let frames = 0;
        let h = hash[0]!;
        for (let at = start; at < end;) {
          const length = ((window[at]! << 24) | (window[at + 1]! << 16) |
            (window[at + 2]! << 8) | window[at + 3]!) >>> 0;
          h = Math.imul(h ^ window[at + 4]!, 16777619);
          h = Math.imul(h ^ window[at + 3 + length]!, 16777619);
          at += 4 + length;
          frames++;
        }
        hash[0] = h;
        acc[0]! += frames;
        acc[1]! += end - start - 4 * frames;
      });
    } else if (values.api === "batches") {
      for await (const batch of reader.batches()) {
        for (const frame of batch) if (frame.kind === "data") fold(frame.data);
      }
    } else if (values.api === "iterator" || values.api === "default") {
      for await (const frame of reader as AsyncIterable<Frame>) {
        if (frame.kind === "data") fold(frame.data);
      }
    } else {
      throw new TypeError(`unknown --api ${values.api}`);
    }
    contentType = reader.summary.contentTypeBytes;
    stopped = reader.summary.stopped;
  }
} catch (error) {
  console.error(
    `read_fstrm: ${error instanceof Error ? error.message : error}`,
  );
  Deno.exit(1);
}
frames = acc[0]!;
bytes = acc[1]!;
h = hash[0]!;
const elapsed = (performance.now() - t0) / 1000;
console.log(
  `frames=${frames} bytes=${bytes} check=0x${h.toString(16).padStart(8, "0")}`,
);
console.log(
  `reader=deno-${used}-${values.api} elapsed_s=${
    elapsed.toFixed(6)
  } frames_per_s=${Math.round(frames / elapsed)} MB_per_s=${
    (bytes / elapsed / 1e6).toFixed(1)
  }`,
);
if (!stopped) {
  console.error("read_fstrm: no STOP frame");
  Deno.exit(1);
}
if (
  contentType === null ||
  new TextDecoder().decode(contentType) !== DNSTAP_CONTENT_TYPE
) {
  console.error("read_fstrm: wrong content type");
  Deno.exit(1);
}
