// Output safety: no byte of output is lost by a buffer too small for what a
// caller writes in place, and no input is destroyed by an output file that
// is that input under another name (a link), whatever permissions the
// command runs with.
import assert from "node:assert/strict";
import { CLI, fstrm, fstrmArgs } from "./_cli.ts";
import { withTempDir } from "./_support.ts";
import { dnstapFile, PAYLOADS, readBack } from "./_cli_dnstap.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { RecordSink } from "../src/cli/_dnstap_records.ts";
import { formatDnstapQuiet } from "../src/dnstap.ts";
import { openOutputFile, UNKNOWN_STDIN } from "../src/cli/_open_output.ts";
import { CliError } from "../src/cli/_cli_error.ts";

/** An OutputBuffer of `size` bytes that keeps everything written. */
function collect(size?: number): { out: OutputBuffer; text: () => string } {
  const parts: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync: (p) => {
      // A short write now and then, as a pipe may do.
      const n = p.length > 7 ? p.length - 3 : p.length;
      parts.push(p.slice(0, n));
      return n;
    },
  }, size);
  const dec = new TextDecoder("utf-8", { fatal: true });
  return {
    out,
    text: () => {
      out.flush();
      return parts.map((p) => dec.decode(p, { stream: true })).join("") +
        dec.decode();
    },
  };
}

Deno.test("OutputBuffer.reserve grows the buffer when asked more than its size, so nothing written in place is lost", () => {
  const { out, text } = collect(64);
  out.text("head|");
  const want = "x".repeat(1000) + "y".repeat(536);
  const buf = out.reserve(1536);
  const at = out.position;
  assert.ok(buf.length - at >= 1536, `room for ${buf.length - at}`);
  for (let i = 0; i < want.length; i++) buf[at + i] = want.charCodeAt(i);
  out.position = at + want.length;
  out.text("|tail");
  // A second, smaller reserve: the grown buffer serves it.
  const again = out.reserve(10);
  again[out.position] = 0x21;
  out.position++;
  assert.equal(text(), `head|${want}|tail!`);
});

Deno.test("OutputBuffer.position refuses a position past the buffer's end (bytes written where there was no room)", () => {
  const { out, text } = collect(64);
  const buf = out.reserve(10);
  buf[0] = 0x61;
  out.position = 1;
  assert.throws(
    () => out.position = buf.length,
    (e: unknown) =>
      e instanceof RangeError &&
      e.message ===
        `Cannot move past the output buffer's end: position ${buf.length}, size 64`,
  );
  out.position = 64; // the end itself is fine
  assert.equal(text().length, 64);
});

Deno.test("OutputBuffer.text keeps every byte of short non-ASCII text in a 64-byte buffer", () => {
  // 60 UTF-16 units, 180 UTF-8 bytes: more than the buffer holds.
  const cases = ["€".repeat(60), "a" + "é".repeat(62), "x😀".repeat(21)];
  for (const s of cases) {
    const { out, text } = collect(64);
    out.text("<");
    out.text(s);
    out.text(">");
    assert.equal(text(), `<${s}>`);
  }
});

Deno.test("RecordSink prints -q lines through a 64-byte buffer exactly as through a large one", () => {
  const run = (size: number | undefined, engine: "ts" | "wasm") => {
    const { out, text } = collect(size);
    const sink = new RecordSink(out, {
      output: { kind: "text", format: formatDnstapQuiet },
      filter: { types: null, suffixes: null, rcodes: null, clients: null },
      limit: Infinity,
      engine,
    });
    for (let i = 0; i < 200; i++) {
      const p = PAYLOADS[i % PAYLOADS.length]!;
      sink.take(p, 0, p.length);
    }
    sink.finish();
    assert.equal(sink.counts.output, 200);
    return text();
  };
  for (const engine of ["ts", "wasm"] as const) {
    const want = run(undefined, engine);
    assert.equal(want.split("\n").length, 201);
    assert.equal(run(64, engine), want, engine);
  }
});

// ---------------------------------------------------------------------------
// An output that is an input under another name

/** The commands that write an output file, and how each names it. */
const WRITERS = [
  {
    name: "dump FILE OUT",
    args: (input: string, out: string) => ["dump", input, out],
    isInput: /OUT is the input file/,
  },
  {
    name: "dnstap -r FILE -w OUT",
    args: (input: string, out: string) => ["dnstap", "-r", input, "-w", out],
    isInput: /-w names an input file/,
  },
  {
    name: "dnstap -r FILE -w OUT -a -y",
    args: (input: string, out: string) => [
      "dnstap",
      "-r",
      input,
      "-w",
      out,
      "-a",
      "-y",
    ],
    isInput: /-w names an input file/,
  },
] as const;

const LINKS = {
  "a hard link": (target: string, path: string) => Deno.link(target, path),
  "a symbolic link": (target: string, path: string) =>
    Deno.symlink(target, path),
} as const;

Deno.test("fstrm dump and dnstap -w refuse an OUT that links to the input, with or without read on OUT, and leave the input intact", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const writer of WRITERS) {
    for (const [kind, link] of Object.entries(LINKS)) {
      await withTempDir(async (dir) => {
        const input = `${dir}/in.fstrm`;
        const out = `${dir}/out.fstrm`;
        await Deno.writeFile(input, bytes);
        await link(input, out);
        const what = `${writer.name}, OUT ${kind}`;
        // Least privilege: the identity of OUT cannot be read.
        const blind = await fstrm(writer.args(input, out), {
          permissions: [`--allow-read=${input}`, `--allow-write=${out}`],
        });
        assert.equal(blind.code, 1, `${what}: ${blind.stderr}`);
        assert.equal(
          blind.stderr,
          `fstrm ${writer.args(input, out)[0]}: ${out}: cannot check that ${
            writer.name.startsWith("dump") ? "OUT" : "-w"
          } is not an input without --allow-read=${out}; nothing written\n`,
          what,
        );
        assert.deepEqual(await Deno.readFile(input), bytes, what);
        // With read on OUT: it is found to be the input.
        const seen = await fstrm(writer.args(input, out), {
          permissions: [
            `--allow-read=${input},${out}`,
            `--allow-write=${out}`,
          ],
        });
        assert.equal(seen.code, 1, `${what}: ${seen.stderr}`);
        assert.match(seen.stderr, writer.isInput, what);
        assert.equal(seen.stderr.split("\n").length, 2, what);
        assert.deepEqual(await Deno.readFile(input), bytes, what);
      });
    }
  }
});

Deno.test("fstrm dump and dnstap -w write a new OUT with write permission alone, and replace an existing one only with read on it too", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const writer of WRITERS.slice(0, 2)) {
    await withTempDir(async (dir) => {
      const input = `${dir}/in.fstrm`;
      const out = `${dir}/out.fstrm`;
      await Deno.writeFile(input, bytes);
      const least = [`--allow-read=${input}`, `--allow-write=${out}`];
      // A new OUT: write permission is enough.
      const fresh = await fstrm(writer.args(input, out), {
        permissions: least,
      });
      assert.equal(fresh.code, 0, fresh.stderr);
      const written = await Deno.readFile(out);
      assert.deepEqual(readBack(written).payloads, PAYLOADS);
      // An existing OUT (another file) longer than what replaces it.
      const old = new Uint8Array(written.length + 1000).fill(7);
      await Deno.writeFile(out, old);
      const refused = await fstrm(writer.args(input, out), {
        permissions: least,
      });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /without --allow-read=/);
      assert.deepEqual(await Deno.readFile(out), old, "left as it was");
      const replaced = await fstrm(writer.args(input, out), {
        permissions: [`--allow-read=${input},${out}`, `--allow-write=${out}`],
      });
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.deepEqual(await Deno.readFile(out), written, writer.name);
      assert.deepEqual(await Deno.readFile(input), bytes);
    });
  }
});

Deno.test("fstrm dump and dnstap -w write to /dev/null with write permission on it alone", async () => {
  await withTempDir(async (dir) => {
    const input = `${dir}/in.fstrm`;
    await Deno.writeFile(input, dnstapFile(PAYLOADS));
    for (const writer of WRITERS.slice(0, 2)) {
      const run = await fstrm(writer.args(input, "/dev/null"), {
        permissions: [`--allow-read=${input}`, "--allow-write=/dev/null"],
      });
      assert.equal(run.code, 0, `${writer.name}: ${run.stderr}`);
    }
  });
});

Deno.test("fstrm dnstap -w -a appends to an existing OUT that is not an input", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a.fstrm`;
    const out = `${dir}/out.yaml`;
    await Deno.writeFile(a, dnstapFile(PAYLOADS.slice(0, 2)));
    const once = await fstrm(["dnstap", "-r", a, "-y"]);
    assert.equal(once.code, 0, once.stderr);
    assert.ok(once.stdout.length > 0);
    const args = ["dnstap", "-r", a, "-w", out, "-a", "-y"];
    const permissions = [`--allow-read=${a},${out}`, `--allow-write=${out}`];
    for (let i = 0; i < 2; i++) {
      const run = await fstrm(args, { permissions });
      assert.equal(run.code, 0, run.stderr);
    }
    assert.equal(await Deno.readTextFile(out), once.stdout + once.stdout);
  });
});

Deno.test("fstrm dump - OUT and dnstap -r - -w OUT refuse an OUT that standard input reads (< OUT), with all permissions", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const args of [["dump", "-"], ["dnstap", "-r", "-", "-w"]]) {
    await withTempDir(async (dir) => {
      const input = `${dir}/in.fstrm`;
      await Deno.writeFile(input, bytes);
      const run = await new Deno.Command("sh", {
        args: [
          "-c",
          'deno="$0" cli="$1" in="$2"; shift 2; exec "$deno" run -A "$cli" "$@" "$in" < "$in"',
          Deno.execPath(),
          CLI,
          input,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 1, stderr);
      assert.match(stderr, /is the input file|names an input file/);
      assert.deepEqual(await Deno.readFile(input), bytes, args.join(" "));
    });
  }
});

/**
 * Runs `fstrm ...args` with standard input redirected from the file
 * `stdin` (`< FILE`, as a shell does: a regular file, not a pipe).
 */
async function fstrmFromFile(
  args: string[],
  stdin: string,
  permissions: string[],
): Promise<{ code: number; stderr: string }> {
  const run = await new Deno.Command("sh", {
    args: [
      "-c",
      'deno="$0" in="$1"; shift 2; exec "$deno" "$@" < "$in"',
      Deno.execPath(),
      stdin,
      ...fstrmArgs(args, permissions),
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: run.code, stderr: new TextDecoder().decode(run.stderr) };
}

/** The commands that read standard input and write OUT. */
const STDIN_WRITERS = [
  { name: "OUT", args: (out: string) => ["dump", "-", out] },
  { name: "-w", args: (out: string) => ["dnstap", "-r", "-", "-w", out] },
] as const;

Deno.test("fstrm dump - OUT and dnstap -r - -w OUT refuse an OUT that standard input reads (< OUT) with write permission alone, or read and write on OUT, and leave it intact", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const writer of STDIN_WRITERS) {
    await withTempDir(async (dir) => {
      const out = `${dir}/out.fstrm`;
      await Deno.writeFile(out, bytes);
      const what = writer.args(out).join(" ");
      // Write alone: stdin is a file, so an existing OUT might be it; its
      // identity cannot be read, so it is refused, untouched.
      const blind = await fstrmFromFile(writer.args(out), out, [
        `--allow-write=${out}`,
      ]);
      assert.equal(blind.code, 1, `${what}: ${blind.stderr}`);
      assert.equal(
        blind.stderr,
        `fstrm ${
          writer.args(out)[0]
        }: ${out}: cannot check that ${writer.name} is not an input without --allow-read=${out}; nothing written\n`,
        what,
      );
      assert.deepEqual(await Deno.readFile(out), bytes, what);
      // Read and write on OUT (none on /proc): found to be standard input.
      const seen = await fstrmFromFile(writer.args(out), out, [
        `--allow-read=${out}`,
        `--allow-write=${out}`,
      ]);
      assert.equal(seen.code, 1, `${what}: ${seen.stderr}`);
      assert.match(seen.stderr, /is the input file|names an input file/, what);
      assert.equal(seen.stderr.split("\n").length, 2, what);
      assert.deepEqual(await Deno.readFile(out), bytes, what);
    });
  }
});

Deno.test("fstrm dump - OUT and dnstap -r - -w OUT with stdin from another file write a new OUT with write permission alone, and replace an existing one with read on it", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const writer of STDIN_WRITERS) {
    await withTempDir(async (dir) => {
      const input = `${dir}/in.fstrm`;
      const out = `${dir}/out.fstrm`;
      await Deno.writeFile(input, bytes);
      const fresh = await fstrmFromFile(writer.args(out), input, [
        `--allow-write=${out}`,
      ]);
      assert.equal(fresh.code, 0, fresh.stderr);
      const written = await Deno.readFile(out);
      assert.deepEqual(readBack(written).payloads, PAYLOADS);
      const old = new Uint8Array(written.length + 1000).fill(7);
      await Deno.writeFile(out, old);
      const refused = await fstrmFromFile(writer.args(out), input, [
        `--allow-write=${out}`,
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /without --allow-read=/);
      assert.deepEqual(await Deno.readFile(out), old, "left as it was");
      const replaced = await fstrmFromFile(writer.args(out), input, [
        `--allow-read=${out}`,
        `--allow-write=${out}`,
      ]);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.deepEqual(await Deno.readFile(out), written, writer.name);
      assert.deepEqual(await Deno.readFile(input), bytes);
    });
  }
});

Deno.test("fstrm dump - OUT and dnstap -r - -w OUT with stdin from a pipe replace an existing OUT with write permission alone (a pipe cannot be OUT)", async () => {
  const bytes = dnstapFile(PAYLOADS);
  for (const writer of STDIN_WRITERS) {
    await withTempDir(async (dir) => {
      const out = `${dir}/out.fstrm`;
      await Deno.writeFile(out, new Uint8Array(5000).fill(7));
      const run = await fstrm(writer.args(out), {
        input: bytes,
        permissions: [`--allow-write=${out}`],
      });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(readBack(await Deno.readFile(out)).payloads, PAYLOADS);
    });
  }
});

Deno.test("openOutputFile refuses an existing OUT when standard input is a file of unknown identity, and creates a new one", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const options = {
      inputs: [UNKNOWN_STDIN],
      name: "OUT",
      isInput: "OUT is the input file",
    };
    // New: it cannot be what stdin reads.
    const fresh = openOutputFile(out, options);
    fresh.writeSync(new Uint8Array([1, 2, 3]));
    fresh.close();
    // Existing: it might be; refused, left as it is.
    assert.throws(
      () => openOutputFile(out, options),
      (e: unknown) =>
        e instanceof CliError &&
        e.message ===
          `${out}: cannot check that OUT is not standard input (a file whose identity Deno does not give) without --allow-read=/proc/self/fd/0; nothing written`,
    );
    assert.deepEqual(await Deno.readFile(out), new Uint8Array([1, 2, 3]));
    // An identity that is known and differs: replaced.
    const other = openOutputFile(out, { ...options, inputs: ["1:2"] });
    other.close();
    assert.equal((await Deno.readFile(out)).length, 0);
  });
});
