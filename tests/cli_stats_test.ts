// `fstrm stats`: exact counts and frame-size quantiles, how each file ends
// (STOP, no STOP, truncated, an error, with offsets), several files at once,
// JSON lines, the progress bar (only when asked or on a terminal), and one
// clear line for bad input. The CLI runs as a subprocess, as users run it.
import assert from "node:assert/strict";
import { rng, withTempDir } from "./_support.ts";
import { concat, hex } from "./_util.ts";
import { HELLO, START, STOP, UNKNOWN } from "./_vectors.ts";
import { encodeDataFrame, encodeFrameStream, FrameReader } from "../mod.ts";
import { DENSE_LIMIT, SizeHistogram } from "../src/cli/_stats_histogram.ts";
import { renderProgress } from "../src/cli/_progress.ts";
import { grouped } from "../src/cli/stats.ts";

import { DNSTAP, fstrm, type Run } from "./_cli.ts";

// ---------------------------------------------------------------------------
// Helpers

/** The JSON objects of a --json run, one per line. */
function objects(run: Run): Record<string, unknown>[] {
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "");
  return lines.map((l) => JSON.parse(l));
}

/** Nearest-rank quantile of sorted `xs`: the ceil(q n)-th smallest. */
function rank(xs: readonly number[], num: number, den: number): number {
  return xs[Math.ceil((num * xs.length) / den) - 1]!;
}

/** Payload sizes: dnstap-like, a few large, one above the dense range. */
function sizes(count: number, seed: number): number[] {
  const r = rng(seed);
  const out = [1, DENSE_LIMIT - 1, DENSE_LIMIT, 200_000];
  while (out.length < count) {
    out.push(r() % 50 === 0 ? 1 + (r() % 300_000) : 80 + (r() % 321));
  }
  return out;
}

const payloadsOf = (lengths: readonly number[]) =>
  lengths.map((n) => new Uint8Array(n).fill(0x61));

/** The fields of a report that do not depend on time. */
function stable(o: Record<string, unknown>): Record<string, unknown> {
  const { seconds: _s, mbPerSecond: _m, framesPerSecond: _f, ...rest } = o;
  return rest;
}

// ---------------------------------------------------------------------------
// The statistics

Deno.test("SizeHistogram gives exact nearest-rank min, median, p99 and max, large sizes included", () => {
  for (
    const [count, seed] of [[1, 1], [2, 2], [99, 3], [100, 4], [101, 5], [
      5000,
      6,
    ]]
  ) {
    const xs = sizes(count!, seed!).slice(0, count);
    const h = new SizeHistogram();
    for (const x of xs) h.add(x);
    const sorted = [...xs].sort((a, b) => a - b);
    assert.deepEqual(h.summary(), {
      min: sorted[0],
      median: rank(sorted, 1, 2),
      p99: rank(sorted, 99, 100),
      max: sorted.at(-1),
    }, `${count} sizes`);
    assert.equal(h.count, xs.length);
    // With the count given, the same; with one too large, noticed.
    assert.deepEqual(h.summary(xs.length), h.summary(), `${count} sizes`);
    assert.deepEqual(h.summary(xs.length + 1), h.summary(), `${count} sizes`);
  }
  assert.deepEqual(new SizeHistogram().summary(), {
    min: null,
    median: null,
    p99: null,
    max: null,
  });
  // A huge size costs one map entry, not an array as long as it.
  const h = new SizeHistogram();
  h.add(0xffff_fffe);
  assert.equal(h.sparse.size, 1);
  assert.equal(h.summary().max, 0xffff_fffe);
});

Deno.test("grouped prints whole numbers as toLocaleString('en-US') does", () => {
  const r = rng(11);
  const xs = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 99_999, 100_000, 999_999];
  xs.push(1_000_000, 1_234_567, 2 ** 32, Number.MAX_SAFE_INTEGER);
  for (let i = 0; i < 1000; i++) xs.push(r() * 10 ** (i % 16) >>> 0);
  for (let i = 0; i < 100; i++) xs.push(Math.floor(r() * 2 ** 21) * 2 ** 30);
  // Not whole, negative or too large: toLocaleString itself.
  xs.push(-1234, 1234.5, 2 ** 60, Infinity, NaN);
  for (const x of xs) {
    assert.equal(
      grouped(x),
      x.toLocaleString("en-US", { maximumFractionDigits: 0 }),
      String(x),
    );
  }
});

Deno.test("fstrm stats --json reports counts, exact sizes and STOP for each file", async () => {
  await withTempDir(async (dir) => {
    const lengths = sizes(3000, 7);
    const path = `${dir}/a.fstrm`;
    const bytes = encodeFrameStream(payloadsOf(lengths), {
      contentType: DNSTAP,
    });
    await Deno.writeFile(path, bytes);
    const sorted = [...lengths].sort((a, b) => a - b);
    for (const engine of ["ts", "wasm"]) {
      const run = await fstrm([
        "stats",
        "--json",
        "--engine",
        engine,
        "--max-frame-length",
        "400000",
        path,
      ]);
      assert.equal(run.stderr, "");
      assert.equal(run.code, 0);
      const [o] = objects(run);
      assert.deepEqual(stable(o!), {
        file: path,
        contentType: DNSTAP,
        contentTypeHex: Array.from(
          new TextEncoder().encode(DNSTAP),
          (b) => b.toString(16).padStart(2, "0"),
        ).join(""),
        dataFrames: lengths.length,
        payloadBytes: lengths.reduce((a, b) => a + b, 0),
        frameSize: {
          min: sorted[0],
          median: rank(sorted, 1, 2),
          p99: rank(sorted, 99, 100),
          max: sorted.at(-1),
        },
        controlFrames: 2,
        skippedFrames: 0,
        started: true,
        stopped: true,
        end: "stop",
        error: null,
        bytesRead: bytes.length,
        engine,
      });
      assert.equal(typeof o!.seconds, "number");
      assert.equal(typeof o!.mbPerSecond, "number");
      assert.equal(typeof o!.framesPerSecond, "number");
    }
  });
});

Deno.test("fstrm stats counts a frame larger than its 1 MiB window, both engines alike", async () => {
  await withTempDir(async (dir) => {
    // Read into a buffer of its own, not scanned in the window: counted
    // all the same, in the sparse counts.
    const lengths = [100, 1_500_000, 200, 300, 2_000_000, 150];
    const path = `${dir}/big.fstrm`;
    await Deno.writeFile(path, encodeFrameStream(payloadsOf(lengths)));
    for (const engine of ["ts", "wasm"]) {
      const run = await fstrm([
        "stats",
        "--json",
        "--engine",
        engine,
        "--max-frame-length",
        "3000000",
        path,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const o = objects(run)[0]!;
      assert.equal(o.engine, engine);
      assert.equal(o.dataFrames, 6);
      assert.deepEqual(o.frameSize, {
        min: 100,
        median: 200,
        p99: 2_000_000,
        max: 2_000_000,
      });
    }
  });
});

Deno.test("fstrm stats on the real-server captures: the sizes FrameReader sees, the same with both engines", async () => {
  for (const server of ["bind", "dnsdist", "knot", "unbound"]) {
    const path = new URL(`./data/dnstap/${server}.fstrm`, import.meta.url)
      .pathname;
    const bytes = await Deno.readFile(path);
    const lengths: number[] = [];
    await new FrameReader(ReadableStream.from([bytes])).forEachFrame(
      (_w, _o, length) => {
        lengths.push(length);
      },
    );
    const sorted = lengths.sort((a, b) => a - b);
    assert.ok(sorted.length > 100, server);
    const reports = [];
    for (const engine of ["ts", "wasm"]) {
      const run = await fstrm(["stats", "--json", "--engine", engine, path]);
      assert.equal(run.code, 0, run.stderr);
      const { engine: used, ...o } = stable(objects(run)[0]!);
      assert.equal(used, engine);
      assert.equal(o.dataFrames, sorted.length, server);
      assert.deepEqual(o.frameSize, {
        min: sorted[0],
        median: rank(sorted, 1, 2),
        p99: rank(sorted, 99, 100),
        max: sorted.at(-1),
      }, server);
      reports.push(o);
    }
    assert.deepEqual(reports[1], reports[0], server);
  }
});

Deno.test("fstrm stats prints a readable report", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/a.fstrm`;
    const bytes = concat(
      encodeFrameStream(payloadsOf([5, 1, 300, 70_000]), {
        contentType: 't\x00"',
      }).subarray(0, -12),
      UNKNOWN,
      STOP,
    );
    await Deno.writeFile(path, bytes);
    const run = await fstrm(["stats", "--engine", "ts", path]);
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    const lines = run.stdout.split("\n");
    assert.deepEqual(lines.slice(0, 7), [
      path,
      `  content type    "t\\x00\\""`,
      "  data frames     4",
      "  payload bytes   70,306",
      "  frame size      min 1, median 5, p99 70,000, max 70,000 bytes",
      "  control frames  2 (and 1 skipped)",
      "  end             STOP frame seen",
    ]);
    assert.match(
      lines[7]!,
      new RegExp(
        `^  read            ${
          bytes.length.toLocaleString("en-US")
        } bytes in \\d+\\.\\d{3} s: \\d+\\.\\d MB/s, [\\d,]+ frames/s \\(ts engine\\)$`,
      ),
    );
    assert.deepEqual(lines.slice(8), [""]);
  });
});

Deno.test("fstrm stats reports a truncated file: what was read, where and why it ends, exit 1", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/cut.fstrm`;
    const whole = encodeFrameStream(payloadsOf([10, 20, 30]), {
      contentType: DNSTAP,
    });
    const cut = whole.length - 12 - 34 + 5; // 5 bytes into the last frame
    await Deno.writeFile(path, whole.subarray(0, cut));
    const at = cut - 5;
    const message =
      `cannot decode frame: input ended inside the frame at byte ${at} after 5 of 34 bytes`;
    const run = await fstrm(["stats", "--json", path]);
    assert.equal(run.stderr, `fstrm stats: ${path}: ${message}\n`);
    assert.equal(run.code, 1);
    const [o] = objects(run);
    assert.equal(o!.dataFrames, 2);
    assert.equal(o!.payloadBytes, 30);
    assert.deepEqual(o!.frameSize, { min: 10, median: 10, p99: 20, max: 20 });
    assert.equal(o!.stopped, false);
    assert.equal(o!.end, "truncated");
    assert.deepEqual(o!.error, { message, offset: at });
    const text = await fstrm(["stats", path]);
    assert.match(
      text.stdout,
      new RegExp(`  end             truncated: ${message}\n`),
    );
    assert.equal(text.code, 1);
  });
});

Deno.test("fstrm stats reports a file without STOP as such, exit 0", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/open.fstrm`;
    const bytes = concat(START, HELLO, HELLO);
    await Deno.writeFile(path, bytes);
    const run = await fstrm(["stats", path]);
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.match(
      run.stdout,
      new RegExp(
        `  end             no STOP frame: the input ends at byte ${bytes.length}, after a complete frame\n`,
      ),
    );
  });
});

Deno.test("fstrm stats reports errors mid-way (bad control frame, oversize frame) after what was read, exit 1", async (t) => {
  await withTempDir(async (dir) => {
    const cases: [string, Uint8Array, string, number][] = [
      // [case, file, error, offset]
      [
        "a control frame too short",
        concat(START, HELLO, hex("00000000 00000003 000000"), HELLO, STOP),
        `cannot decode control frame at byte ${
          START.length + HELLO.length
        }: its length is 3, it must be from 4 to 512 (at byte ${
          START.length + HELLO.length + 4
        })`,
        START.length + HELLO.length,
      ],
      [
        "a frame over the limit",
        concat(START, HELLO, encodeDataFrame(new Uint8Array(2_000_000)), STOP),
        `cannot decode frame: data frame at byte ${
          START.length + HELLO.length
        } is 2000000 bytes, limit 1048576`,
        START.length + HELLO.length,
      ],
    ];
    for (const [name, bytes, message, offset] of cases) {
      await t.step(name, async () => {
        const path = `${dir}/bad.fstrm`;
        await Deno.writeFile(path, bytes);
        const run = await fstrm(["stats", "--json", path]);
        assert.equal(run.stderr, `fstrm stats: ${path}: ${message}\n`);
        assert.equal(run.code, 1);
        const [o] = objects(run);
        assert.equal(o!.dataFrames, 1);
        assert.equal(o!.payloadBytes, 5);
        assert.equal(o!.end, "error");
        assert.deepEqual(o!.error, { message, offset });
      });
    }
  });
});

Deno.test("fstrm stats goes through every file, reports each, and exits 1 if any failed", async () => {
  await withTempDir(async (dir) => {
    const good = `${dir}/good.fstrm`;
    const bad = `${dir}/bad.fstrm`;
    const missing = `${dir}/missing.fstrm`;
    await Deno.writeFile(good, encodeFrameStream(["a", "bb"]));
    await Deno.writeFile(bad, new TextEncoder().encode("just text\n"));
    const run = await fstrm(["stats", "--json", good, missing, bad, good]);
    assert.equal(
      run.stderr,
      `fstrm stats: ${missing}: no such file or directory\n` +
        `fstrm stats: ${bad}: not a Frame Streams file: starts with 6a 75 73 74 ("just"), which looks like text\n`,
    );
    assert.equal(run.code, 1);
    const os = objects(run);
    assert.deepEqual(os.map((o) => o.file), [good, missing, bad, good]);
    assert.equal(os[0]!.dataFrames, 2);
    assert.deepEqual(os[1], {
      file: missing,
      error: { message: "no such file or directory", offset: null },
    });
    assert.equal(os[3]!.dataFrames, 2);
    // Text: one report per file read, a blank line between them.
    const text = await fstrm(["stats", good, missing, good]);
    assert.equal(text.code, 1);
    assert.equal(text.stdout.split(`${good}\n`).length, 3);
    assert.match(text.stdout, /\n\n/);
  });
});

Deno.test("fstrm stats reads stdin with '-'", async () => {
  const run = await fstrm(
    ["stats", "--json", "-"],
    { input: encodeFrameStream(["a", "bb", "ccc"], { contentType: DNSTAP }) },
  );
  assert.equal(run.code, 0);
  const [o] = objects(run);
  assert.equal(o!.file, "stdin");
  assert.equal(o!.dataFrames, 3);
  assert.deepEqual(o!.frameSize, { min: 1, median: 2, p99: 3, max: 3 });
});

// ---------------------------------------------------------------------------
// The progress bar

Deno.test("fstrm stats draws a progress bar only when asked or on a terminal", async () => {
  await withTempDir(async (dir) => {
    // 64 MiB: big enough for a bar in auto mode, were stderr a terminal.
    const path = `${dir}/big.fstrm`;
    const frame = encodeDataFrame(new Uint8Array(1 << 20));
    const parts = [START];
    for (let i = 0; i < 64; i++) parts.push(frame);
    parts.push(STOP);
    await Deno.writeFile(path, concat(...parts));
    const auto = await fstrm(["stats", "--json", path]);
    assert.equal(auto.stderr, "", "no bar when stderr is not a terminal");
    assert.equal(auto.code, 0);
    const always = await fstrm([
      "stats",
      "--json",
      "--progress",
      "always",
      path,
    ]);
    assert.equal(always.code, 0);
    assert.match(always.stderr, /^\r.*big\.fstrm \[[#-]{24}\] +\d+% /);
    assert.ok(always.stderr.endsWith("\r\x1b[K"), "the bar is erased");
    assert.equal(objects(always)[0]!.dataFrames, 64);
    const never = await fstrm(["stats", "--progress", "never", path]);
    assert.equal(never.stderr, "");
  });
});

Deno.test("renderProgress shows the name, a bar, the percentage, megabytes and rate", () => {
  assert.equal(
    renderProgress("a.fstrm", 500e6, 1000e6, 1000),
    "a.fstrm [############------------]  50% 500/1000 MB 500 MB/s",
  );
  assert.equal(
    renderProgress("a.fstrm", 0, 0, 0),
    "a.fstrm [########################] 100% 0.0/0.0 MB 0 MB/s",
  );
  assert.match(renderProgress("x".repeat(100), 1, 2, 1), /^…x{39} \[/);
});

// ---------------------------------------------------------------------------
// Usage and bad input

Deno.test("fstrm stats --help lists every flag", async () => {
  const run = await fstrm(["stats", "--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: fstrm stats \[options\] FILE\.\.\./);
  for (
    const flag of [
      "--json",
      "--progress",
      "--engine",
      "--max-frame-length",
      "--help",
    ]
  ) {
    assert.ok(run.stdout.includes(flag), flag);
  }
});

Deno.test("fstrm stats rejects bad input with one clear line and a non-zero exit", async (t) => {
  await withTempDir(async (dir) => {
    const good = `${dir}/good.fstrm`;
    await Deno.writeFile(good, encodeFrameStream(["x"]));
    const empty = `${dir}/empty.fstrm`;
    await Deno.writeFile(empty, new Uint8Array());
    const zip = `${dir}/a.zip`;
    await Deno.writeFile(zip, new TextEncoder().encode("PK\x03\x04\x14\x00"));
    const u = (m: string) => `fstrm stats: ${m} (see 'fstrm stats --help')`;
    const cases: [string, string[], number, string][] = [
      // [case, arguments, exit code, the line]
      ["no FILE", ["stats"], 2, u("missing FILE")],
      ["an unknown flag", ["stats", "-x", good], 2, u("Unknown option '-x'")],
      [
        "a bad engine",
        ["stats", "--engine", "js", good],
        2,
        u("--engine wants auto, wasm or ts, got 'js'"),
      ],
      [
        "a bad progress mode",
        ["stats", "--progress", "yes", good],
        2,
        u("--progress wants auto, always or never, got 'yes'"),
      ],
      [
        "a bad frame limit",
        ["stats", "--max-frame-length", "5000000000", good],
        2,
        u("--max-frame-length wants an integer from 1 to 4294967295, got '5000000000'"),
      ],
      [
        "stdin twice",
        ["stats", "-", "-"],
        2,
        u("stdin (-) can be read only once"),
      ],
      [
        "a missing file",
        ["stats", `${dir}/nope`],
        1,
        `fstrm stats: ${dir}/nope: no such file or directory`,
      ],
      ["a directory", ["stats", dir], 1, `fstrm stats: ${dir}: is a directory`],
      [
        "an empty file",
        ["stats", empty],
        1,
        `fstrm stats: ${empty}: not a Frame Streams file: it is empty`,
      ],
      [
        "a ZIP archive",
        ["stats", zip],
        1,
        `fstrm stats: ${zip}: not a Frame Streams file: starts with 50 4b 03 04 ("PK.."), which looks like a ZIP archive`,
      ],
    ];
    for (const [name, args, code, line] of cases) {
      await t.step(name, async () => {
        const run = await fstrm(args);
        assert.equal(run.stderr, line + "\n");
        assert.equal(run.code, code);
        assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
        assert.equal(run.stdout, "");
      });
    }
  });
});
