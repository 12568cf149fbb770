// `fstrm dump` on bad input: one clear line for every kind of it, a
// non-zero exit, no stack trace. The CLI runs as a subprocess.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { concat, hex } from "./_util.ts";
import { HELLO, START, STOP, UNKNOWN } from "./_vectors.ts";
import { encodeFrameStream } from "../mod.ts";
import { CLI } from "./_cli.ts";
import { assertFails, exec, fstrmBytes, latin1Bytes } from "./_cli_dump.ts";

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
        const run = await fstrmBytes(
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
