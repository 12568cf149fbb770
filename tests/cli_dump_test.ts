// `fstrm dump`: the same stdout and stderr as fstrm_dump (fstrm-bin 0.6.1)
// byte for byte, the same copy file, the deliberate differences (truncated
// files, data after STOP, errors), JSON lines, --limit, stdin, a closed
// stdout, and one clear line for every kind of bad input. The CLI runs as a
// subprocess, as users run it.
// fstrm_dump comparisons are in cli_dump_interop_test.ts, bad input in
// cli_dump_errors_test.ts.
import assert from "node:assert/strict";
import { rng, withTempDir } from "./_support.ts";
import { concat, hex } from "./_util.ts";
import { FINISH, HELLO, READY, START, STOP, UNKNOWN } from "./_vectors.ts";
import { decodeFrames, encodeDataFrame, encodeFrameStream } from "../mod.ts";
import { dumpQuote, fstrmDumpText } from "../src/cli/_dump_format.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { notFrameStreams } from "../src/cli/_file_input.ts";
import { CLI } from "./_cli.ts";
import {
  allButLast,
  DNSTAP_BYTES as DNSTAP,
  encodeBase64,
  encodeHex,
  exec,
  fstrmBytes,
  latin1,
  payloads,
} from "./_cli_dump.ts";

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
    const run = await fstrmBytes(["dump", path]);
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
    const raised = await fstrmBytes([
      "dump",
      "--max-frame-length",
      "2000000",
      path,
    ]);
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
    const run = await fstrmBytes(["dump", path]);
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
  const run = await fstrmBytes(["dump", "-"], bytes);
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
      const run = await fstrmBytes(args);
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
      const run = await fstrmBytes([
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
    const ts = await fstrmBytes(["dump", "--engine", "ts", path]);
    const wasm = await fstrmBytes(["dump", "--engine", "wasm", path]);
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
  const run = await fstrmBytes(["dump", "--help"]);
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
