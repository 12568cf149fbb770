// `fstrm dump`: the same stdout and stderr as fstrm_dump (fstrm-bin 0.6.1)
// byte for byte, the same copy file, the deliberate differences (truncated
// files, data after STOP, errors), JSON lines, --limit, stdin, a closed
// stdout, and one clear line for every kind of bad input. The CLI runs as a
// subprocess, as users run it.
import assert from "node:assert/strict";
import { rng, withTempDir } from "./_support.ts";
import { concat, hex } from "./_util.ts";
import { FINISH, HELLO, READY, START, STOP, UNKNOWN } from "./_vectors.ts";
import { interopTest } from "./_peers.ts";
import { decodeFrames, encodeDataFrame, encodeFrameStream } from "../mod.ts";
import { dumpQuote, fstrmDumpText } from "../src/cli/_dump_format.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { notFrameStreams } from "../src/cli/_file_input.ts";

/** Bytes of a string of one-byte characters. */
const latin1Bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** Lowercase hex, the reference for --json's default. */
const encodeHex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
/** Standard base64, the reference for --encoding base64. */
const encodeBase64 = (b: Uint8Array) => btoa(latin1(b));

import { CLI } from "./_cli.ts";
const DNSTAP = new TextEncoder().encode("protobuf:dnstap.Dnstap");
const latin1 = (b: Uint8Array) => {
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 8192) {
    parts.push(String.fromCharCode(...b.subarray(i, i + 8192)));
  }
  return parts.join("");
};

// ---------------------------------------------------------------------------
// Helpers

interface Run {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command; stdin from `input` if given. */
async function exec(
  cmd: string,
  args: string[],
  input?: Uint8Array,
): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Feed stdin while the output is collected: the child may fill its
  // stdout pipe before it has read all of its input.
  const feeding = input === undefined ? Promise.resolve() : (async () => {
    const w = child.stdin.getWriter();
    try {
      await w.write(input);
      await w.close();
    } catch {
      // The child stopped reading (it failed early): its output says why.
    }
  })();
  const { code, stdout, stderr } = await child.output();
  await feeding;
  return { code, stdout, stderr: latin1(stderr) };
}

/** Runs `fstrm ...args` as a subprocess. */
function fstrm(args: string[], input?: Uint8Array): Promise<Run> {
  return exec(Deno.execPath(), ["run", "-A", CLI, ...args], input);
}

/** Asserts a failed run: `code`, exactly one line `line` on stderr. */
function assertFails(run: Run, code: number, line: string): void {
  assert.equal(run.stderr, line + "\n");
  assert.equal(run.code, code);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
}

/** Payloads that exercise fstrm_dump's quoting, and sizes up to 70 KB. */
function payloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const out: Uint8Array[] = [
    all, // every byte value
    new TextEncoder().encode('"quoted" \\ back\\slash \\x41 \\"'),
    Uint8Array.of(0x22),
    Uint8Array.of(0x5c),
    Uint8Array.of(0x00),
    Uint8Array.of(0x7f),
    Uint8Array.of(0xff),
    Uint8Array.of(0x0a),
    Uint8Array.of(0x20),
  ];
  while (out.length < count) {
    const pick = r() % 20;
    const length = pick < 17
      ? 1 + (r() % 400)
      : pick < 19
      ? 400 + (r() % 5000)
      : 5000 + (r() % 65_000);
    const p = new Uint8Array(length);
    const printable = r() % 2 === 0;
    for (let i = 0; i < length; i++) {
      p[i] = printable ? 0x20 + (r() % 95) : r();
    }
    out.push(p);
  }
  return out;
}

/** The files both tools dump alike: name, content type, payloads. */
const SAME: [string, Uint8Array | null, Uint8Array[]][] = [
  ["no content type", null, payloads(20, 1)],
  ["an empty content type", new Uint8Array(0), payloads(20, 2)],
  ["the dnstap content type", DNSTAP, payloads(20, 3)],
  // a content type of every byte value
  ["a 256-byte content type", Uint8Array.from({ length: 256 }, (_, i) => i), [
    HELLO.subarray(4),
  ]],
  ["no data frames", DNSTAP, []],
  ["many frames", DNSTAP, payloads(5000, 4)],
];

// ---------------------------------------------------------------------------
// Against fstrm_dump

interopTest(
  "fstrm dump prints what fstrm_dump prints, byte for byte, and writes the same copy",
  ["fstrm_dump"],
  async (t) => {
    await withTempDir(async (dir) => {
      for (const [name, ct, ps] of SAME) {
        await t.step(name, async () => {
          const path = `${dir}/in.fstrm`;
          await Deno.writeFile(
            path,
            encodeFrameStream(ps, { contentType: ct }),
          );
          const ref = await exec("fstrm_dump", [path, `${dir}/ref.fstrm`]);
          const ours = await fstrm(["dump", path, `${dir}/ours.fstrm`]);
          assert.equal(ref.code, 0);
          assert.equal(ours.code, 0);
          assert.ok(ours.stderr === ref.stderr, "stderr differs");
          assert.deepEqual(ours.stdout, ref.stdout);
          assert.deepEqual(
            await Deno.readFile(`${dir}/ours.fstrm`),
            await Deno.readFile(`${dir}/ref.fstrm`),
          );
          // And the reference text says the same.
          const want = fstrmDumpText(ct, ps);
          assert.ok(ours.stderr === want.stderr);
          assert.ok(latin1(ours.stdout) === want.stdout);
        });
      }
    });
  },
);

interopTest(
  "fstrm dump interleaves stdout and stderr as fstrm_dump does when both go to one pipe",
  ["fstrm_dump"],
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/in.fstrm`;
      await Deno.writeFile(
        path,
        encodeFrameStream(payloads(300, 5), { contentType: DNSTAP }),
      );
      const merged = (cmd: string) =>
        exec("sh", ["-c", `${cmd} "$1" 2>&1`, "sh", path]);
      const ref = await merged("fstrm_dump");
      const ours = await merged(`'${Deno.execPath()}' run -A '${CLI}' dump`);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, ref.stdout);
    });
  },
);

interopTest(
  "fstrm dump with OUT '-' writes fstrm_dump's copy alone to stdout, its lines to stderr",
  ["fstrm_dump"],
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/in.fstrm`;
      await Deno.writeFile(
        path,
        encodeFrameStream(payloads(50, 6), { contentType: DNSTAP }),
      );
      // fstrm_dump mixes payloads and copy on stdout with '-': ours is the
      // copy fstrm_dump writes to a file, and nothing else.
      const ref = await exec("fstrm_dump", [path, `${dir}/ref.fstrm`]);
      const ours = await fstrm(["dump", path, "-"]);
      assert.equal(ref.code, 0);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, await Deno.readFile(`${dir}/ref.fstrm`));
      assert.ok(ours.stderr === ref.stderr, "stderr differs");
    });
  },
);

Deno.test("fstrm dump with OUT '-' keeps stdout for the copy: with 2>&1, with --limit, and refuses --json", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    const ps = payloads(40, 7);
    await Deno.writeFile(path, encodeFrameStream(ps, { contentType: DNSTAP }));
    const want = (n: number) =>
      encodeFrameStream(ps.slice(0, n), { contentType: DNSTAP });
    // stderr into stdout: the lines would spoil the copy, so they go.
    const merged = await exec("sh", [
      "-c",
      `'${Deno.execPath()}' run -A '${CLI}' dump "$1" - 2>&1`,
      "sh",
      path,
    ]);
    assert.equal(merged.code, 0);
    assert.deepEqual(merged.stdout, want(ps.length));
    // --limit: the first frames, a whole file.
    const limited = await fstrm(["dump", "--limit", "5", path, "-"]);
    assert.equal(limited.code, 0);
    assert.deepEqual(limited.stdout, want(5));
    assert.equal(limited.stderr.match(/^Data frame/gm)?.length, 5);
    // From stdin to stdout.
    const piped = await fstrm(["dump", "-", "-"], want(ps.length));
    assert.equal(piped.code, 0);
    assert.deepEqual(piped.stdout, want(ps.length));
    // --json prints on stdout: a usage error, nothing written.
    const json = await fstrm(["dump", "--json", path, "-"]);
    assertFails(
      json,
      2,
      "fstrm dump: --json prints on stdout, which OUT - takes for the copy: give OUT a file (see 'fstrm dump --help')",
    );
    assert.equal(json.stdout.length, 0);
  });
});

/** A stream cut or extended: fstrm_dump's output and ours, on one file. */
async function both(
  dir: string,
  bytes: Uint8Array,
): Promise<
  {
    ref: Run;
    ours: Run;
    refCopy: Uint8Array;
    oursCopy: Uint8Array;
    path: string;
  }
> {
  const path = `${dir}/in.fstrm`;
  await Deno.writeFile(path, bytes);
  const ref = await exec("fstrm_dump", [path, `${dir}/ref.fstrm`]);
  const ours = await fstrm(["dump", path, `${dir}/ours.fstrm`]);
  return {
    ref,
    ours,
    path,
    refCopy: await Deno.readFile(`${dir}/ref.fstrm`),
    oursCopy: await Deno.readFile(`${dir}/ours.fstrm`),
  };
}

/** stderr without its last line. */
const allButLast = (s: string) => s.replace(/[^\n]*\n$/, "");

interopTest(
  "fstrm dump prints every complete frame of a truncated file as fstrm_dump does, then an error instead of a STOP that is not there",
  ["fstrm_dump"],
  async (t) => {
    const ps = payloads(200, 7);
    const whole = encodeFrameStream(ps, { contentType: DNSTAP });
    const frames = decodeFrames(whole);
    const mid = frames[100]!;
    const stop = frames.at(-1)!;
    const cuts: [string, number, string][] = [
      // [case, cut at, our error]
      [
        "inside a payload",
        mid.offset + 7,
        `input ended inside the frame at byte ${mid.offset} after 7 of ${
          4 + (mid.kind === "data" ? mid.data.length : 0)
        } bytes`,
      ],
      [
        "inside a length word",
        mid.offset + 2,
        `input ended inside the frame at byte ${mid.offset} after 2 of at least 3 bytes`,
      ],
      [
        "inside STOP",
        stop.offset + 9,
        `input ended inside the frame at byte ${stop.offset} after 9 of 12 bytes`,
      ],
    ];
    await withTempDir(async (dir) => {
      for (const [name, cut, message] of cuts) {
        await t.step(name, async () => {
          const { ref, ours, refCopy, oursCopy, path } = await both(
            dir,
            whole.subarray(0, cut),
          );
          // fstrm_dump: exit 0 and "FSTRM_CONTROL_STOP." as if STOP were there.
          assert.equal(ref.code, 0);
          assert.match(ref.stderr, /FSTRM_CONTROL_STOP\.\n$/);
          assert.deepEqual(ours.stdout, ref.stdout);
          assert.equal(
            ours.stderr,
            allButLast(ref.stderr) +
              `fstrm dump: ${path}: cannot decode frame: ${message}\n`,
          );
          assert.equal(ours.code, 1);
          // Both copies hold every complete frame, then STOP.
          assert.deepEqual(oursCopy, refCopy);
        });
      }
    });
  },
);

interopTest(
  "fstrm dump stops at the first STOP as fstrm_dump does, and says that more follows",
  ["fstrm_dump"],
  async () => {
    const one = encodeFrameStream(payloads(30, 8), { contentType: DNSTAP });
    const bytes = concat(one, one, encodeDataFrame("after"));
    await withTempDir(async (dir) => {
      const { ref, ours, refCopy, oursCopy, path } = await both(dir, bytes);
      assert.equal(ref.code, 0);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, ref.stdout);
      assert.equal(
        ours.stderr,
        ref.stderr +
          `fstrm dump: ${path}: ${
            one.length + 9
          } more bytes follow the STOP frame at byte ${
            one.length - 12
          }: not read (fstrm_dump stops there too)\n`,
      );
      assert.deepEqual(oursCopy, refCopy);
      assert.deepEqual(oursCopy, one);
    });
  },
);

interopTest(
  "fstrm dump says a file ends without STOP where fstrm_dump prints a STOP line",
  ["fstrm_dump"],
  async () => {
    const whole = encodeFrameStream(payloads(30, 9), { contentType: DNSTAP });
    const bytes = whole.subarray(0, whole.length - 12);
    await withTempDir(async (dir) => {
      const { ref, ours, refCopy, oursCopy, path } = await both(dir, bytes);
      assert.equal(ref.code, 0);
      assert.equal(ours.code, 0);
      assert.deepEqual(ours.stdout, ref.stdout);
      assert.equal(
        ours.stderr,
        allButLast(ref.stderr) +
          `fstrm dump: ${path}: no STOP frame: the input ended at byte ${bytes.length}, after a complete frame\n`,
      );
      assert.deepEqual(oursCopy, refCopy);
    });
  },
);

interopTest(
  "fstrm dump fails on a bad control frame where fstrm_dump does, naming it",
  ["fstrm_dump"],
  async () => {
    // escape, clen 3: too short for a control type
    const bad = hex("00000000 00000003 000000");
    const bytes = concat(START, HELLO, HELLO, bad, HELLO, STOP);
    const at = START.length + 2 * HELLO.length;
    await withTempDir(async (dir) => {
      const { ref, ours, refCopy, oursCopy, path } = await both(dir, bytes);
      assert.equal(ref.code, 1);
      assert.equal(
        ref.stderr.split("\n").at(-2),
        "Error: fstrm_reader_read() failed.",
      );
      assert.deepEqual(ours.stdout, ref.stdout);
      assert.equal(
        ours.stderr,
        allButLast(ref.stderr) +
          `fstrm dump: ${path}: cannot decode control frame at byte ${at}: its length is 3, it must be from 4 to 512 (at byte ${
            at + 4
          })\n`,
      );
      assert.equal(ours.code, 1);
      assert.deepEqual(oursCopy, refCopy);
    });
  },
);

// ---------------------------------------------------------------------------
// Deliberate differences that need no peer

Deno.test("fstrm dump reports an oversized frame without printing a bogus one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/big.fstrm`;
    const big = new Uint8Array((1 << 20) + 1).fill(0x41);
    await Deno.writeFile(
      path,
      concat(START, HELLO, encodeDataFrame(big), HELLO, STOP),
    );
    const run = await fstrm(["dump", path]);
    assert.equal(latin1(run.stdout), ' "hello"\n');
    const at = START.length + HELLO.length;
    assert.equal(
      run.stderr,
      fstrmDumpText(DNSTAP, [HELLO.subarray(4)]).stderr.replace(
        "FSTRM_CONTROL_STOP.\n",
        "",
      ) +
        `fstrm dump: ${path}: cannot decode frame: data frame at byte ${at} is 1048577 bytes, limit 1048576\n`,
    );
    assert.equal(run.code, 1);
    // --max-frame-length lets it through.
    const raised = await fstrm(["dump", "--max-frame-length", "2000000", path]);
    assert.equal(raised.code, 0);
    assert.equal(raised.stdout.length, 2 * 9 + 4 + big.length); // two hellos and the big one
  });
});

Deno.test("fstrm dump skips what the decoder skips: READY and FINISH before START, unknown control frames, a second START", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    await Deno.writeFile(
      path,
      concat(READY, FINISH, START, HELLO, UNKNOWN, START, HELLO, STOP),
    );
    const run = await fstrm(["dump", path]);
    const want = fstrmDumpText(DNSTAP, [HELLO.subarray(4), HELLO.subarray(4)]);
    assert.equal(run.code, 0);
    assert.equal(run.stderr, want.stderr);
    assert.equal(latin1(run.stdout), want.stdout);
  });
});

// ---------------------------------------------------------------------------
// Our own features

Deno.test("fstrm dump reads stdin with '-'", async () => {
  const ps = payloads(100, 10);
  const bytes = encodeFrameStream(ps, { contentType: DNSTAP });
  const run = await fstrm(["dump", "-"], bytes);
  const want = fstrmDumpText(DNSTAP, ps);
  assert.equal(run.code, 0);
  assert.equal(run.stderr, want.stderr);
  assert.equal(latin1(run.stdout), want.stdout);
});

Deno.test("fstrm dump --json prints one object per data frame, payload in hex or base64", async () => {
  await withTempDir(async (dir) => {
    const ps = payloads(200, 11);
    const path = `${dir}/in.fstrm`;
    const bytes = encodeFrameStream(ps, { contentType: DNSTAP });
    await Deno.writeFile(path, bytes);
    const offsets = decodeFrames(bytes).filter((f) => f.kind === "data")
      .map((f) => f.offset);
    for (const encoding of ["hex", "base64"]) {
      const args = encoding === "hex"
        ? ["dump", "--json", path]
        : ["dump", "--json", "--encoding", encoding, path];
      const run = await fstrm(args);
      assert.equal(run.code, 0);
      assert.equal(run.stderr, "");
      const lines = new TextDecoder().decode(run.stdout).split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, ps.length);
      lines.forEach((line, i) => {
        const p = ps[i]!;
        assert.equal(
          line,
          JSON.stringify({
            index: i,
            offset: offsets[i],
            length: p.length,
            payload: encoding === "hex" ? encodeHex(p) : encodeBase64(p),
          }),
        );
      });
    }
  });
});

Deno.test("fstrm dump --limit stops after N data frames; the copy is a valid file of them", async () => {
  await withTempDir(async (dir) => {
    const ps = payloads(50, 12);
    const path = `${dir}/in.fstrm`;
    await Deno.writeFile(path, encodeFrameStream(ps, { contentType: DNSTAP }));
    for (const n of [0, 1, 7, 50, 1000]) {
      const run = await fstrm([
        "dump",
        "--limit",
        `${n}`,
        path,
        `${dir}/copy.fstrm`,
      ]);
      const kept = ps.slice(0, n);
      let want = fstrmDumpText(DNSTAP, kept);
      assert.equal(run.code, 0);
      assert.equal(latin1(run.stdout), want.stdout);
      // STOP is printed only when it was reached.
      if (n < ps.length) want = { ...want, stderr: allButLast(want.stderr) };
      assert.equal(run.stderr, want.stderr, `--limit ${n}`);
      assert.deepEqual(
        await Deno.readFile(`${dir}/copy.fstrm`),
        encodeFrameStream(kept, { contentType: DNSTAP }),
      );
    }
  });
});

Deno.test("fstrm dump --engine ts and wasm print the same", async () => {
  await withTempDir(async (dir) => {
    const ps = payloads(300, 13);
    const path = `${dir}/in.fstrm`;
    await Deno.writeFile(path, encodeFrameStream(ps, { contentType: DNSTAP }));
    const ts = await fstrm(["dump", "--engine", "ts", path]);
    const wasm = await fstrm(["dump", "--engine", "wasm", path]);
    assert.equal(ts.code, 0);
    assert.deepEqual(ts.stdout, wasm.stdout);
    assert.equal(ts.stderr, wasm.stderr);
  });
});

Deno.test("fstrm dump ends quietly with exit 0 when stdout closes early (| head)", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    // About 12 MB of output: far more than a pipe and our buffer hold.
    const big = payloads(2000, 14);
    await Deno.writeFile(path, encodeFrameStream(big, { contentType: DNSTAP }));
    const run = await exec("bash", [
      "-c",
      `'${Deno.execPath()}' run -A '${CLI}' dump "$1" 2>/dev/null | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      "bash",
      path,
    ]);
    assert.equal(latin1(run.stdout), "0\n");
    const json = await exec("bash", [
      "-c",
      `'${Deno.execPath()}' run -A '${CLI}' dump --json "$1" | head -n 1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
      "bash",
      path,
    ]);
    assert.equal(latin1(json.stdout), "0\n");
    assert.equal(json.stderr, "");
  });
});

Deno.test("fstrm dump --help lists every flag", async () => {
  const run = await fstrm(["dump", "--help"]);
  assert.equal(run.code, 0);
  const text = latin1(run.stdout);
  assert.match(text, /^Usage: fstrm dump \[options\] FILE\|- \[OUT\]/);
  for (
    const flag of [
      "--json",
      "--encoding",
      "--limit",
      "--engine",
      "--max-frame-length",
      "--help",
    ]
  ) {
    assert.ok(text.includes(flag), flag);
  }
});

// ---------------------------------------------------------------------------
// Bad input: one line, no stack trace

Deno.test("fstrm dump rejects bad input with one clear line and a non-zero exit", async (t) => {
  await withTempDir(async (dir) => {
    const file = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(`${dir}/${name}`, bytes);
      return `${dir}/${name}`;
    };
    const good = await file("good.fstrm", encodeFrameStream(["x"]));
    const empty = await file("empty.fstrm", new Uint8Array());
    const zip = await file("a.zip", latin1Bytes("PK\x03\x04\x14\x00\x00\x00"));
    const gz = await file("a.gz", hex("1f8b0800 00000000 0003"));
    const pcap = await file("a.pcap", hex("d4c3b2a1 02000400 00000000"));
    const txt = await file("a.txt", latin1Bytes("hello, world\n"));
    const dataFirst = await file("d.fstrm", concat(HELLO, START, STOP));
    const cutStart = await file("c.fstrm", START.subarray(0, 10));
    const noStart = await file("n.fstrm", UNKNOWN);
    const nope = `${dir}/nope.fstrm`;
    const noDir = `${dir}/no/such/dir/out.fstrm`;
    const u = (m: string) => `fstrm dump: ${m} (see 'fstrm dump --help')`;
    const notFstrm = (path: string, what: string) =>
      `fstrm dump: ${path}: not a Frame Streams file: ${what}`;
    const cases: [string, string[], number, string][] = [
      // [case, arguments, exit code, the line]
      ["no FILE", ["dump"], 2, u("missing FILE")],
      [
        "too many arguments",
        ["dump", good, "b", "c"],
        2,
        u("too many arguments: 'c' (one FILE and at most one OUT)"),
      ],
      [
        "an unknown flag",
        ["dump", "--bogus", good],
        2,
        u("Unknown option '--bogus'"),
      ],
      [
        "--limit without a number",
        ["dump", "--limit", "x", good],
        2,
        u("--limit wants a whole number of frames, got 'x'"),
      ],
      [
        "--limit without its value",
        ["dump", good, "--limit"],
        2,
        u("Option '--limit <value>' argument missing"),
      ],
      [
        "a bad engine",
        ["dump", "--engine", "gpu", good],
        2,
        u("--engine wants auto, wasm or ts, got 'gpu'"),
      ],
      [
        "a bad encoding",
        ["dump", "--json", "--encoding", "b32", good],
        2,
        u("--encoding wants hex or base64, got 'b32'"),
      ],
      [
        "--encoding without --json",
        ["dump", "--encoding", "hex", good],
        2,
        u("--encoding goes with --json"),
      ],
      [
        "a zero --max-frame-length",
        ["dump", "--max-frame-length", "0", good],
        2,
        u("--max-frame-length wants an integer from 1 to 4294967295, got '0'"),
      ],
      [
        "a missing file",
        ["dump", nope],
        1,
        `fstrm dump: ${nope}: no such file or directory`,
      ],
      ["a directory", ["dump", dir], 1, `fstrm dump: ${dir}: is a directory`],
      ["an empty file", ["dump", empty], 1, notFstrm(empty, "it is empty")],
      ["empty stdin", ["dump", "-"], 1, notFstrm("stdin", "it is empty")],
      [
        "a ZIP archive",
        ["dump", zip],
        1,
        notFstrm(
          zip,
          'starts with 50 4b 03 04 ("PK.."), which looks like a ZIP archive',
        ),
      ],
      [
        "gzip",
        ["dump", gz],
        1,
        notFstrm(
          gz,
          'starts with 1f 8b 08 00 ("...."), which looks like gzip data: decompress it first',
        ),
      ],
      [
        "a pcap capture",
        ["dump", pcap],
        1,
        notFstrm(
          pcap,
          'starts with d4 c3 b2 a1 ("...."), which looks like a pcap capture',
        ),
      ],
      [
        "text",
        ["dump", txt],
        1,
        notFstrm(
          txt,
          'starts with 68 65 6c 6c ("hell"), which looks like text',
        ),
      ],
      [
        "a data frame first",
        ["dump", dataFirst],
        1,
        notFstrm(
          dataFirst,
          'starts with 00 00 00 05 ("...."): a 5-byte data frame where a START frame should be',
        ),
      ],
      [
        "a file cut inside START",
        ["dump", cutStart],
        1,
        `fstrm dump: ${cutStart}: cannot decode frame: input ended inside the frame at byte 0 after 10 of 42 bytes`,
      ],
      [
        "no START frame",
        ["dump", noStart],
        1,
        `fstrm dump: ${noStart}: no START frame in the input`,
      ],
      [
        "OUT is the input",
        ["dump", good, good],
        1,
        `fstrm dump: ${good}: OUT is the input file; writing it would destroy what is read`,
      ],
      [
        "OUT cannot be written",
        ["dump", good, noDir],
        1,
        `fstrm dump: ${noDir}: no such file or directory`,
      ],
    ];
    // Root reads anything: the case needs an ordinary user, so probe.
    const secret = await file("secret.fstrm", encodeFrameStream(["x"]));
    await Deno.chmod(secret, 0o000);
    const readable = await Deno.open(secret).then((f) => {
      f.close();
      return true;
    }, () => false);
    if (!readable) {
      cases.push([
        "an unreadable file",
        ["dump", secret],
        1,
        `fstrm dump: ${secret}: permission denied`,
      ]);
    }
    for (const [name, args, code, line] of cases) {
      await t.step(name, async () => {
        const run = await fstrm(
          args,
          args.includes("-") ? new Uint8Array() : undefined,
        );
        assertFails(run, code, line);
        assert.equal(run.stdout.length, 0);
      });
    }
    // The input itself is untouched by a refused OUT.
    assert.deepEqual(await Deno.readFile(good), encodeFrameStream(["x"]));
  });
});

Deno.test("fstrm dump without read permission says so in one line", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    await Deno.writeFile(path, encodeFrameStream(["x"]));
    const run = await exec(Deno.execPath(), [
      "run",
      "--no-prompt",
      CLI,
      "dump",
      path,
    ]);
    assertFails(
      run,
      1,
      `fstrm dump: ${path}: Deno has no permission for it (run with --allow-read)`,
    );
  });
});

// ---------------------------------------------------------------------------
// The pieces, in process

Deno.test('dumpQuote quotes as fstrm_dump: printable as is, \\" for a quote, a bare backslash, \\xNN', () => {
  assert.equal(dumpQuote(new TextEncoder().encode('a"b\\c')), '"a\\"b\\c"');
  assert.equal(
    dumpQuote(Uint8Array.of(0, 0x1f, 0x20, 0x7e, 0x7f, 0xff)),
    '"\\x00\\x1f ~\\x7f\\xff"',
  );
  assert.equal(dumpQuote(new Uint8Array()), '""');
});

Deno.test("OutputBuffer writes escapes, hex, base64, numbers and UTF-8 text the same at any buffer size", () => {
  const r = rng(99);
  const data = Uint8Array.from({ length: 3001 }, () => r());
  // A sink that takes a random part of what it is offered, as a pipe may.
  const chunks: Uint8Array[] = [];
  const sink = {
    writeSync(p: Uint8Array): number {
      const n = Math.min(p.length, 1 + (r() % 50));
      chunks.push(p.slice(0, n));
      return n;
    },
  };
  for (const size of [64, 100, 1000, 1 << 16]) {
    for (const length of [0, 1, 2, 3, 4, 5, 63, 64, 65, 1000, 3001]) {
      chunks.length = 0;
      const out = new OutputBuffer(sink, size);
      const p = data.subarray(0, length);
      out.escaped(p, 0, length);
      out.byte(0x7c);
      out.hex(p, 0, length);
      out.byte(0x7c);
      out.base64(p, 0, length);
      out.byte(0x7c);
      out.decimal(length);
      out.decimal(0);
      out.decimal(2 ** 53 - 1);
      out.text(" é ✓ 😀 |");
      out.raw(p, 0, length);
      out.flush();
      const got = concat(...chunks);
      const want = concat(
        new TextEncoder().encode(
          dumpQuote(p).slice(1, -1) + "|" + encodeHex(p) + "|" +
            encodeBase64(p) +
            "|" + length + "0" + (2 ** 53 - 1) + " é ✓ 😀 |",
        ),
        p,
      );
      assert.deepEqual(got, want, `size ${size}, length ${length}`);
    }
  }
});

Deno.test("notFrameStreams accepts an escape first and names what else a file looks like", () => {
  const max = 1 << 20;
  assert.equal(notFrameStreams(START.subarray(0, 12), max), null);
  assert.equal(notFrameStreams(hex("00 00"), max), null); // too short to tell: the reader will
  assert.equal(notFrameStreams(new Uint8Array(), max), "it is empty");
  assert.match(notFrameStreams(hex("28b52ffd 00"), max)!, /zstd/);
  assert.match(notFrameStreams(hex("0a0d0d0a 00"), max)!, /pcapng/);
  assert.match(notFrameStreams(hex("7f454c46 02"), max)!, /ELF/);
  assert.match(notFrameStreams(hex("1603 0100"), max)!, /TLS/);
  assert.equal(notFrameStreams(hex("ff"), max), 'starts with ff (".")');
  assert.equal(
    notFrameStreams(hex("00200000 0000"), max),
    'starts with 00 20 00 00 (". ..")', // too long to be a data frame
  );
  assert.equal(
    notFrameStreams(hex("00010000 0000"), max),
    'starts with 00 01 00 00 ("...."): a 65536-byte data frame where a START frame should be',
  );
});
