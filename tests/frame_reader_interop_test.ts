// FrameReader on files written by libfstrm.
import assert from "node:assert/strict";
import { compilePeer, interopTest } from "./_peers.ts";
import { openFrameReader } from "../src/file.ts";
import { DNSTAP, MIN_WINDOW } from "./_reader_harness.ts";

// ---------------------------------------------------------------------------
// Interop: files written by libfstrm (peers/fstrm_gen.c).

/** fstrm-gen runs: the shapes of the peers' data set, fewer frames. */
const SHAPES = [
  { name: "small", seed: 2, frames: 5_000, min: 16, max: 16 },
  { name: "dnstap-like", seed: 1, frames: 3_000, min: 80, max: 400 },
  { name: "large", seed: 3, frames: 60, min: 262_144, max: 262_144 },
];

/** Runs a command that must succeed; its stdout. */
async function runOk(cmd: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(code, 0, `${cmd} exited ${code}: ${text.decode(stderr)}`);
  return text.decode(stdout);
}

/** The peers' summary line: FNV-1a over each payload's first and last byte. */
class Checksum {
  frames = 0;
  bytes = 0;
  #h = 0x811c9dc5;

  add(first: number, last: number, length: number): void {
    this.frames++;
    this.bytes += length;
    this.#h = Math.imul(this.#h ^ first, 16777619) >>> 0;
    this.#h = Math.imul(this.#h ^ last, 16777619) >>> 0;
  }

  line(): string {
    return `frames=${this.frames} bytes=${this.bytes} check=0x${
      this.#h.toString(16).padStart(8, "0")
    }`;
  }
}

for (const engine of ["ts", "wasm"] as const) {
  interopTest(
    `FrameReader [${engine}] reads files written by libfstrm, checksum for checksum`,
    ["gcc", "/usr/include/fstrm.h"],
    async (t) => {
      const dir = await Deno.makeTempDir({ prefix: "fstrm-reader-" });
      try {
        const gen = await compilePeer("fstrm_gen");
        for (const shape of SHAPES) {
          await t.step(
            `${shape.name}: ${shape.frames} frames of ${shape.min}..${shape.max} bytes`,
            async () => {
              const path = `${dir}/${shape.name}.fstrm`;
              const expected = (await runOk(gen, [
                "-s",
                `${shape.seed}`,
                `${shape.frames}`,
                `${shape.min}`,
                `${shape.max}`,
                path,
              ])).trim();
              assert.match(
                expected,
                /^frames=\d+ bytes=\d+ check=0x[0-9a-f]{8}$/,
              );
              for (const windowSize of [MIN_WINDOW, 1 << 20]) {
                for (const readSync of [true, false]) {
                  const options = { engine, windowSize, readSync };
                  const what = `window ${windowSize}, readSync ${readSync}`;
                  // forEachFrame.
                  {
                    await using reader = await openFrameReader(path, options);
                    assert.equal(reader.engine, engine);
                    const sum = new Checksum();
                    const summary = await reader.forEachFrame((w, o, l) => {
                      sum.add(w[o]!, w[o + l - 1]!, l);
                    });
                    assert.equal(sum.line(), expected, what);
                    assert.equal(summary.frames, shape.frames, what);
                    assert.equal(summary.bytes, sum.bytes, what);
                    assert.deepEqual(summary.contentTypeBytes, DNSTAP, what);
                    assert.equal(
                      summary.contentType,
                      "protobuf:dnstap.Dnstap",
                      what,
                    );
                    assert.ok(summary.started && summary.stopped, what);
                    assert.equal(
                      summary.bytesRead,
                      (await Deno.stat(path)).size,
                    );
                  }
                  // The iterator.
                  {
                    await using reader = await openFrameReader(path, options);
                    const sum = new Checksum();
                    for await (const f of reader) {
                      if (f.kind === "data") {
                        sum.add(
                          f.data[0]!,
                          f.data[f.data.length - 1]!,
                          f.data.length,
                        );
                      }
                    }
                    assert.equal(sum.line(), expected, `iterator, ${what}`);
                  }
                }
              }
            },
          );
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
