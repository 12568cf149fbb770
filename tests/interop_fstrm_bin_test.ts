// Interop with the C reference: Debian's fstrm-bin 0.6.1 (`fstrm_dump`) and
// libfstrm-dev (the generator and the tight reader of peers/, compiled with
// gcc by tests/_peers.ts).
//
// What `fstrm_dump FILE [COPY]` prints (found by experiment on 0.6.1):
// - stderr: "FSTRM_CONTROL_START.", then, if START has a content type,
//   "FSTRM_CONTROL_FIELD_CONTENT_TYPE (N bytes)." and " " + quoted content
//   type; "Data frame (N) bytes." per data frame; "FSTRM_CONTROL_STOP." at
//   the end (also when the file is truncated, see below). Each line ends in
//   "\n".
// - stdout: " " + quoted payload + "\n" per data frame, never shortened
//   (70,000-byte payloads print whole).
// - quoting: '"' + bytes + '"', where 0x20..0x7e print as themselves except
//   '"' which prints as \" (a backslash prints bare, unescaped), and every
//   other byte prints as \x followed by two lowercase hex digits.
// - with COPY it also writes the frames back through libfstrm's file writer.
import assert from "node:assert/strict";
import { rng, withTempDir } from "./_support.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { decodeFrames, FrameDecoder } from "../src/frame_decoder.ts";
import { TruncatedFrameError } from "../src/errors.ts";
import type { Frame } from "../src/frame.ts";
import { compilePeer, interopTest } from "./_peers.ts";
import { BENCH_DATA, writeDataFile } from "../bench/make_data.ts";
// fstrm_dump's text, as `fstrm dump` writes it (and as the tests below
// check against the real tool).
import { fstrmDumpText } from "../src/cli/_dump_format.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";
const DNSTAP_BYTES = new TextEncoder().encode(DNSTAP);
const DUMP = ["fstrm_dump"];
const C_LIB = ["gcc", "/usr/include/fstrm.h"];

// ---------------------------------------------------------------------------
// Helpers

/** Runs a command; its exit code, stdout and stderr. */
async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout, stderr };
}

/** Bytes as text, one character per byte (fstrm_dump prints only ASCII). */
function text(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) {
    parts.push(String.fromCharCode(...bytes.subarray(i, i + 8192)));
  }
  return parts.join("");
}

/** Runs a command that must succeed; its stdout as text. */
async function runOk(cmd: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await run(cmd, args);
  assert.equal(
    code,
    0,
    `${cmd} ${args.join(" ")} exited ${code}: ${text(stderr)}`,
  );
  return text(stdout);
}

/**
 * Asserts two long texts are equal; on failure shows the first differing
 * line around its first differing column (fstrm_dump's output is printable
 * ASCII, so it is shown as is).
 */
function assertSameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  const a = actual.split("\n");
  const e = expected.split("\n");
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  const al = a[i] ?? "";
  const el = e[i] ?? "";
  let col = 0;
  while (col < al.length && al[col] === el[col]) col++;
  const from = Math.max(0, col - 40);
  const show = (line: string | undefined) =>
    line === undefined ? "(no such line)" : line.slice(from, col + 80);
  assert.fail(
    `${what} differs at line ${i + 1}, column ${col + 1} ` +
      `(${a.length} lines, expected ${e.length}); from column ${from + 1}:\n` +
      `  actual:   ${show(a[i])}\n  expected: ${show(e[i])}`,
  );
}

/** The reader contract's summary of a list of payloads. */
function summary(payloads: Iterable<Uint8Array>): string {
  let frames = 0;
  let bytes = 0;
  let h = 0x811c9dc5;
  for (const p of payloads) {
    frames++;
    bytes += p.length;
    h = Math.imul(h ^ p[0]!, 16777619) >>> 0;
    h = Math.imul(h ^ p[p.length - 1]!, 16777619) >>> 0;
  }
  return `frames=${frames} bytes=${bytes} check=0x${
    h.toString(16).padStart(8, "0")
  }`;
}

/** Payloads of the data frames among `frames`. */
function payloadsOf(frames: readonly Frame[]): Uint8Array[] {
  return frames.flatMap((f) => f.kind === "data" ? [f.data] : []);
}

/**
 * Feeds `bytes` to a FrameDecoder in chunks of `chunkSize()` bytes and pulls
 * frames after each; returns the decoder, the frames delivered, and the
 * error thrown, if any.
 */
function decodeChunked(
  bytes: Uint8Array,
  chunkSize: () => number,
): { decoder: FrameDecoder; frames: Frame[]; error: unknown } {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  try {
    for (let p = 0; p < bytes.length;) {
      const n = Math.max(1, chunkSize());
      decoder.push(bytes.subarray(p, p + n));
      p += n;
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        frames.push(f);
      }
    }
    decoder.end();
    for (let f = decoder.next(); f !== null; f = decoder.next()) {
      frames.push(f);
    }
  } catch (error) {
    return { decoder, frames, error };
  }
  return { decoder, frames, error: null };
}

/** Chunk sizes from 1 byte to 128 KiB, small ones as likely as large. */
function randomChunks(seed: number): () => number {
  const r = rng(seed);
  return () => 1 + (r() % (1 << (r() % 18)));
}

/** The ways the tests feed a decoder. */
function chunkings(bytes: Uint8Array): [string, () => number][] {
  return [
    ["one chunk", () => bytes.length],
    ["random chunks", randomChunks(bytes.length)],
  ];
}

/**
 * A few hundred payloads of 1 to 70,000 bytes: the bytes fstrm_dump escapes
 * (0x00, '"', '\\', 0x7f, 0xff, newline), printable text, random bytes.
 */
function makePayloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const special = [0x00, 0x22, 0x5c, 0x7f, 0xff, 0x0a];
  const tricky = new TextEncoder().encode('\\x41 \\" \\\\ "" \\');
  const fill = (shape: number, length: number): Uint8Array => {
    const p = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      switch (shape) {
        case 0: // only the bytes that need escaping, and a backslash
          p[i] = special[(i + r()) % special.length]!;
          break;
        case 1: // printable ASCII, quote and backslash included
          p[i] = 0x20 + (r() % 95);
          break;
        case 2: // random bytes
          p[i] = r() & 0xff;
          break;
        case 3: // every byte value in order
          p[i] = i & 0xff;
          break;
        default: // text that looks like escapes already
          p[i] = tricky[i % tricky.length]!;
      }
    }
    return p;
  };
  const payloads = [
    Uint8Array.of(0x00),
    Uint8Array.of(0x22),
    Uint8Array.of(0x5c),
    Uint8Array.of(0x7f),
    Uint8Array.of(0xff),
    Uint8Array.of(0x0a),
    new TextEncoder().encode("printable text: hello, world!"),
    fill(3, 256),
    fill(2, 70_000),
    fill(0, 65_536),
    fill(1, 70_000),
  ];
  while (payloads.length < count) {
    const pick = r() % 10;
    const length = pick < 7
      ? 1 + (r() % 300)
      : pick < 9
      ? 300 + (r() % 4_700)
      : 5_000 + (r() % 65_001);
    payloads.push(fill(r() % 5, length));
  }
  return payloads;
}

// ---------------------------------------------------------------------------
// Our writer, libfstrm's reader

interopTest(
  "encodeFrameStream output is read by fstrm_dump frame for frame",
  DUMP,
  async () => {
    const payloads = makePayloads(300, 1);
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    await withTempDir(async (dir) => {
      const path = `${dir}/ours.fstrm`;
      await Deno.writeFile(path, bytes);
      const { code, stdout, stderr } = await run("fstrm_dump", [path]);
      assert.equal(code, 0, text(stderr).slice(-500));
      const expected = fstrmDumpText(DNSTAP_BYTES, payloads);
      assertSameText(text(stderr), expected.stderr, "fstrm_dump stderr");
      assertSameText(text(stdout), expected.stdout, "fstrm_dump stdout");
    });
  },
);

interopTest(
  "encodeFrameStream output is rewritten byte for byte by libfstrm's writer",
  DUMP,
  async () => {
    const payloads = makePayloads(300, 2);
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    await withTempDir(async (dir) => {
      const ours = `${dir}/ours.fstrm`;
      const copy = `${dir}/copy.fstrm`;
      await Deno.writeFile(ours, bytes);
      const { code, stderr } = await run("fstrm_dump", [ours, copy]);
      assert.equal(code, 0, text(stderr).slice(-500));
      const written = await Deno.readFile(copy);
      assert.equal(written.length, bytes.length);
      assert.ok(
        written.every((b, i) => b === bytes[i]),
        "libfstrm's copy differs from our encoding",
      );
      const frames = decodeFrames(written);
      assert.deepEqual(frames, decodeFrames(bytes));
      assert.deepEqual(payloadsOf(frames), payloads);
    });
  },
);

// ---------------------------------------------------------------------------
// libfstrm's writer, our reader

/** fstrm_gen runs: the shapes of bench/make_data.ts (fewer frames) and extremes. */
const GENERATED: { seed: number; frames: number; min: number; max: number }[] =
  [
    { seed: 1, frames: 2_000, min: 80, max: 400 }, // dnstap.fstrm's shape
    { seed: 2, frames: 5_000, min: 16, max: 16 }, // small.fstrm's shape
    { seed: 3, frames: 12, min: 262_144, max: 262_144 }, // large.fstrm's shape
    { seed: 4, frames: 100, min: 1, max: 1 }, // one-byte payloads
    { seed: 5, frames: 200, min: 1, max: 70_000 }, // 1 byte to 70 KB
  ];

interopTest(
  "FrameDecoder reads a file written by libfstrm",
  [...DUMP, ...C_LIB],
  async (t) => {
    await withTempDir(async (dir) => {
      const gen = await compilePeer("fstrm_gen");
      const tight = await compilePeer("read_tight");
      for (const { seed, frames, min, max } of GENERATED) {
        await t.step(
          `seed ${seed}, ${frames} frames of ${min}..${max} bytes`,
          async () => {
            const path = `${dir}/gen-${seed}.fstrm`;
            const args = [
              "-s",
              `${seed}`,
              `${frames}`,
              `${min}`,
              `${max}`,
              path,
            ];
            const expected = (await runOk(gen, args)).trim();
            const oracle = (await runOk(tight, [path])).split("\n")[0];
            assert.equal(
              oracle,
              expected,
              "read_tight disagrees with fstrm_gen",
            );
            const bytes = await Deno.readFile(path);
            for (const [how, chunkSize] of chunkings(bytes)) {
              const { decoder, frames: got, error } = decodeChunked(
                bytes,
                chunkSize,
              );
              assert.equal(error, null, `${how}: ${error}`);
              assert.equal(summary(payloadsOf(got)), expected, how);
              assert.equal(decoder.frames, frames, how);
              assert.deepEqual(decoder.contentType, DNSTAP_BYTES, how);
              assert.ok(decoder.started && decoder.stopped, how);
              assert.equal(got.length, frames + 2, how);
            }
            // libfstrm's reader sees the same payloads as ours, byte for byte.
            const payloads = payloadsOf(decodeFrames(bytes));
            const dump = await run("fstrm_dump", [path]);
            assert.equal(dump.code, 0);
            const want = fstrmDumpText(DNSTAP_BYTES, payloads);
            assertSameText(text(dump.stderr), want.stderr, "fstrm_dump stderr");
            assertSameText(text(dump.stdout), want.stdout, "fstrm_dump stdout");
          },
        );
      }
    });
  },
);

/**
 * Cut points in a C-written file: the frame cut, and how far into it. The
 * header is the length word (4 bytes) of a data frame, or escape and length
 * (8 bytes) of a control frame.
 */
function cutPoints(frames: readonly Frame[]): { frame: Frame; into: number }[] {
  const start = frames[0]!;
  const data = frames[Math.floor(frames.length / 2)]!;
  const stop = frames[frames.length - 1]!;
  assert.ok(data.kind === "data" && stop.kind === "control");
  return [
    { frame: start, into: 20 }, // inside START
    { frame: data, into: 2 }, // inside the length word
    { frame: data, into: 4 }, // the length word only
    { frame: data, into: 4 + (data.data.length >> 1) }, // mid payload
    { frame: data, into: 4 + data.data.length - 1 }, // one byte short
    { frame: stop, into: 2 }, // inside STOP's escape
    { frame: stop, into: 6 }, // inside STOP's length
    { frame: stop, into: 8 }, // STOP's header only
    { frame: stop, into: 11 }, // one byte short
  ];
}

/** A C-written file of 300 dnstap-sized frames, and its frames. */
async function generated(
  dir: string,
): Promise<{ tight: string; bytes: Uint8Array; frames: Frame[] }> {
  const gen = await compilePeer("fstrm_gen");
  const tight = await compilePeer("read_tight");
  const path = `${dir}/gen.fstrm`;
  const expected = (await runOk(gen, ["-s", "6", "300", "80", "400", path]))
    .trim();
  const bytes = await Deno.readFile(path);
  const frames = decodeFrames(bytes);
  assert.equal(summary(payloadsOf(frames)), expected);
  return { tight, bytes, frames };
}

interopTest(
  "FrameDecoder delivers every complete frame of a truncated libfstrm file, then throws TruncatedFrameError",
  C_LIB,
  async (t) => {
    await withTempDir(async (dir) => {
      const { tight, bytes, frames } = await generated(dir);
      const stopFrame = bytes.subarray(frames[frames.length - 1]!.offset);
      for (const { frame, into } of cutPoints(frames)) {
        const cut = frame.offset + into;
        await t.step(
          `cut at byte ${cut}, ${into} bytes into a frame`,
          async () => {
            // Oracle: read_tight on the frames before the cut one, then STOP.
            const prefix = `${dir}/prefix.fstrm`;
            const head = bytes.subarray(0, frame.offset);
            const closed = new Uint8Array(head.length + stopFrame.length);
            closed.set(head);
            closed.set(stopFrame, head.length);
            await Deno.writeFile(prefix, closed);
            const oracle = (await runOk(tight, [prefix])).split("\n")[0];
            const header = frame.kind === "data" ? 4 : 8;
            const next = frames.find((f) => f.offset > frame.offset);
            const total = (next?.offset ?? bytes.length) - frame.offset;
            const truncated = bytes.subarray(0, cut);
            for (const [how, chunkSize] of chunkings(truncated)) {
              const { decoder, frames: got, error } = decodeChunked(
                truncated,
                chunkSize,
              );
              assert.equal(summary(payloadsOf(got)), oracle, how);
              assert.ok(
                error instanceof TruncatedFrameError,
                `${how}: ${error}`,
              );
              assert.equal(error.offset, frame.offset, how);
              assert.equal(error.received, into, how);
              assert.equal(error.expected, into < header ? null : total, how);
              assert.equal(error.reason, "frame", how);
              assert.equal(decoder.stopped, false, how);
              // Every complete frame came out, in order, before the error.
              assert.deepEqual(
                got.map((f) => f.offset),
                frames.filter((f) => f.offset < frame.offset).map((f) =>
                  f.offset
                ),
                how,
              );
            }
          },
        );
      }
    });
  },
);

interopTest(
  "fstrm_dump treats a truncated file as a clean end (libfstrm 0.6.1)",
  [...DUMP, ...C_LIB],
  async () => {
    await withTempDir(async (dir) => {
      const { bytes, frames } = await generated(dir);
      const path = `${dir}/truncated.fstrm`;
      for (const { frame, into } of cutPoints(frames)) {
        await Deno.writeFile(path, bytes.subarray(0, frame.offset + into));
        const { code, stdout, stderr } = await run("fstrm_dump", [path]);
        if (frame.offset === 0) {
          // Cut inside START: libfstrm cannot open the stream.
          assert.equal(code, 1);
          assert.equal(text(stderr), "Error: fstrm_reader_open() failed.\n");
          assert.equal(text(stdout), "");
          continue;
        }
        // Otherwise: exit 0 and "FSTRM_CONTROL_STOP." as if STOP were there.
        const payloads = payloadsOf(
          frames.filter((f) => f.offset < frame.offset),
        );
        const want = fstrmDumpText(DNSTAP_BYTES, payloads);
        assert.equal(code, 0, `cut at ${frame.offset + into}`);
        assertSameText(text(stderr), want.stderr, "fstrm_dump stderr");
        assertSameText(text(stdout), want.stdout, "fstrm_dump stdout");
      }
    });
  },
);

// ---------------------------------------------------------------------------
// The harness itself: the C readers keep the reader contract, and
// bench/make_data.ts writes what fstrm_gen writes.

interopTest(
  "bench/make_data.ts writes the bytes fstrm_gen writes through libfstrm",
  C_LIB,
  async (t) => {
    const gen = await compilePeer("fstrm_gen");
    const shapes = [
      ...Object.entries(BENCH_DATA).map(([name, shape]) => ({
        name,
        ...shape,
        frames: Math.min(shape.frames, name === "large" ? 9 : 3_000),
      })),
      {
        name: "seed over 2^32",
        seed: 2 ** 40 + 3,
        frames: 500,
        min: 1,
        max: 9,
      },
      { name: "no frames", seed: 7, frames: 0, min: 1, max: 1 },
      { name: "1 byte to 70 KB", seed: 8, frames: 60, min: 1, max: 70_000 },
      { name: "span over 2^16", seed: 9, frames: 40, min: 3, max: 200_003 },
    ];
    await withTempDir(async (dir) => {
      for (const { name, ...shape } of shapes) {
        await t.step(
          `${name}: seed ${shape.seed}, ${shape.frames} frames`,
          async () => {
            const { seed, frames, min, max } = shape;
            const c = `${dir}/c.fstrm`;
            const ts = `${dir}/ts.fstrm`;
            const args = ["-s", `${seed}`, `${frames}`, `${min}`, `${max}`, c];
            const expected = (await runOk(gen, args)).trim();
            assert.equal(await writeDataFile(ts, shape), expected);
            const want = await Deno.readFile(c);
            const got = await Deno.readFile(ts);
            assert.equal(got.length, want.length);
            assert.ok(got.every((b, i) => b === want[i]), "the bytes differ");
            const data = payloadsOf(decodeFrames(got));
            assert.equal(data.length, frames);
            assert.ok(data.every((p) => p.length >= min && p.length <= max));
            assert.equal(summary(data), expected);
          },
        );
      }
    });
  },
);

/** Damaged copies of a file, each of which a reader must refuse. */
function damaged(
  bytes: Uint8Array,
  frames: readonly Frame[],
): [string, Uint8Array][] {
  const stop = frames[frames.length - 1]!;
  const middle = frames[frames.length >> 1]!;
  const other = encodeFrameStream(payloadsOf(frames), {
    contentType: "protobuf:other.Type",
  });
  return [
    ["no STOP", bytes.subarray(0, stop.offset)],
    ["cut inside a data frame", bytes.subarray(0, middle.offset + 7)],
    ["cut inside STOP", bytes.subarray(0, stop.offset + 9)],
    ["another content type", other],
  ];
}

interopTest(
  "read_tight and read_libfstrm print the summary line and refuse damaged files",
  C_LIB,
  async (t) => {
    const gen = await compilePeer("fstrm_gen");
    const readers: [string, string, string[]][] = [
      ["read_tight -m read", await compilePeer("read_tight"), ["-m", "read"]],
      ["read_tight -m read -b 100", await compilePeer("read_tight"), [
        "-b",
        "100",
      ]],
      ["read_tight -m mmap", await compilePeer("read_tight"), ["-m", "mmap"]],
      ["read_libfstrm", await compilePeer("read_libfstrm"), []],
    ];
    await withTempDir(async (dir) => {
      const path = `${dir}/gen.fstrm`;
      // Frames of 1 byte to 300 KB: some longer than read_tight's -b 100.
      const expected =
        (await runOk(gen, ["-s", "11", "400", "1", "300000", path])).trim();
      const bytes = await Deno.readFile(path);
      const frames = decodeFrames(bytes);
      assert.equal(summary(payloadsOf(frames)), expected);
      const bad = `${dir}/bad.fstrm`;
      for (const [name, exe, options] of readers) {
        await t.step(name, async () => {
          const lines = (await runOk(exe, [...options, path])).split("\n");
          assert.equal(lines[0], expected);
          assert.match(lines[1]!, /^reader=c-\S+ elapsed_s=[\d.]+ /);
          for (const [what, file] of damaged(bytes, frames)) {
            await Deno.writeFile(bad, file);
            const { code, stdout, stderr } = await run(exe, [...options, bad]);
            assert.equal(code, 1, `${what}: exit ${code}`);
            assert.equal(text(stdout), "", what);
            assert.match(text(stderr), /^read_(tight|libfstrm): /, what);
          }
        });
      }
    });
  },
);
