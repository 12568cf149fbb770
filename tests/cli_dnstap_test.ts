// `fstrm dnstap` on files and stdin: the filters and --limit with exact
// counts, -w (Frame Streams out, re-read), malformed frames counted and
// not fatal, usage errors and exit codes.
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { withTempDir } from "./_support.ts";
import { dnstapFile, PAYLOADS, readBack, summaryOf } from "./_cli_dnstap.ts";
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";

const enc = new TextEncoder();

/** Runs `fstrm dnstap -r - -w - ...args` on `payloads`; the frames out. */
async function filtered(
  args: string[],
  payloads: readonly Uint8Array[] = PAYLOADS,
): Promise<{ indexes: number[]; stderr: string }> {
  const { execRaw, fstrmArgs } = await import("./_cli.ts");
  const run = await execRaw(
    Deno.execPath(),
    fstrmArgs(["dnstap", "-r", "-", "-w", "-", ...args]),
    dnstapFile(payloads),
  );
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, stderr);
  const back = readBack(run.stdout);
  assert.equal(back.contentType, DNSTAP_CONTENT_TYPE);
  const indexes = back.payloads.map((p) => {
    const i = payloads.findIndex((q) =>
      q.length === p.length && q.every((b, k) => b === p[k])
    );
    assert.ok(i >= 0, "every frame written is one of the input's, unchanged");
    return i;
  });
  return { indexes, stderr };
}

// Each case: the filter flags, and the indexes of RECORDS that pass them
// (see tests/_cli_dnstap.ts for what each record is).
const CASES: [string, string[], number[]][] = [
  ["no filter: everything", [], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
  ["--type by name", ["--type", "CLIENT_QUERY"], [0, 2, 4, 10]],
  ["--type mnemonics, any case, comma list", ["--type", "cq,CR"], [
    0,
    1,
    2,
    3,
    4,
    5,
    10,
    11,
  ]],
  ["--type repeated, a number and a mnemonic", [
    "--type",
    "1",
    "--type",
    "AR",
  ], [6, 7]],
  ["--qname-suffix label-wise and case-insensitive", [
    "--qname-suffix",
    "example.com",
  ], [0, 1, 4, 5, 6, 7]],
  ["--qname-suffix with the final dot, upper case, a list", [
    "--qname-suffix",
    "EXAMPLE.com.,example.org",
  ], [0, 1, 4, 5, 6, 7, 8, 9]],
  ["--qname-suffix . matches every record with a question", [
    "--qname-suffix",
    ".",
  ], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11]],
  ["--qname-suffix .example.com reads as example.com", [
    "--qname-suffix",
    ".example.com",
  ], [0, 1, 4, 5, 6, 7]],
  ["--rcode NXDOMAIN (header only, and with an OPT)", ["--rcode", "NXDOMAIN"], [
    3,
    5,
  ]],
  ["--rcode names in any case", ["--rcode", "servfail,Refused"], [7, 11]],
  ["--rcode BADVERS: the OPT's extended bits", ["--rcode", "BADVERS"], [9]],
  ["--rcode 16 as a number", ["--rcode", "16"], [9]],
  ["--rcode NOERROR: not the BADVERS response, no query", [
    "--rcode",
    "NOERROR",
  ], [1]],
  ["--client an IPv4 network", ["--client", "192.0.2.0/24"], [0, 1, 6, 7, 10]],
  ["--client a /25", ["--client", "192.0.2.0/25"], [0, 1, 10]],
  ["--client an IPv6 network", ["--client", "2001:db8::/32"], [4, 5, 11]],
  ["--client a single address", ["--client", "198.51.100.9"], [8, 9]],
  ["--client two networks", ["--client", "198.51.100.9,2001:db8::5"], [
    4,
    5,
    8,
    9,
  ]],
  ["filters are ANDed", [
    "--type",
    "CR",
    "--qname-suffix",
    "example.com",
    "--client",
    "2001:db8::/32",
  ], [5]],
  ["--limit counts records output", ["--limit", "3"], [0, 1, 2]],
  ["--limit after a filter", ["--type", "CQ", "--limit", "2"], [0, 2]],
  ["--limit 0", ["--limit", "0"], []],
];

for (const [name, args, expected] of CASES) {
  Deno.test(`fstrm dnstap ${name}`, async () => {
    const { indexes, stderr } = await filtered(args);
    assert.deepEqual(indexes, expected);
    const s = summaryOf(stderr);
    assert.equal(s.output, expected.length);
    assert.equal(s.malformed, 0);
    assert.equal(s.unprintable, 0);
    if (!args.includes("--limit")) {
      assert.equal(s.frames, PAYLOADS.length);
      assert.equal(s.filtered, PAYLOADS.length - expected.length);
    }
  });
}

Deno.test("fstrm dnstap --limit stops reading: frames read up to the last record", async () => {
  const { stderr } = await filtered(["--type", "CQ", "--limit", "2"]);
  // Records 0 (CQ), 1 (CR, filtered out), 2 (CQ): then it stops.
  assert.deepEqual(summaryOf(stderr), {
    frames: 3,
    output: 2,
    filtered: 1,
    malformed: 0,
    unprintable: 0,
  });
});

Deno.test("fstrm dnstap counts malformed frames and goes on", async () => {
  const garbage = [
    new Uint8Array([0x0a, 0x05, 0x61]), // identity cut short
    new Uint8Array([0xff]), // a bad tag
    new Uint8Array([0x0a, 0x01, 0x61]), // identity only: no type (required)
  ];
  const payloads = [
    garbage[0]!,
    ...PAYLOADS.slice(0, 6),
    garbage[1]!,
    ...PAYLOADS.slice(6),
    garbage[2]!,
  ];
  const { indexes, stderr } = await filtered(["--type", "CQ"], payloads);
  // The CLIENT_QUERY records, where they now are.
  assert.deepEqual(indexes, [1, 3, 5, 12]);
  assert.deepEqual(summaryOf(stderr), {
    frames: 15,
    output: 4,
    filtered: 8,
    malformed: 3,
    unprintable: 0,
  });
});

Deno.test("fstrm dnstap -w FILE writes the filtered frames as a dnstap Frame Streams file", async () => {
  await withTempDir(async (dir) => {
    const input = `${dir}/in.fstrm`;
    const out = `${dir}/out.fstrm`;
    await Deno.writeFile(input, dnstapFile(PAYLOADS));
    const run = await fstrm([
      "dnstap",
      "-r",
      input,
      "-w",
      out,
      "--rcode",
      "NXDOMAIN",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    const back = readBack(await Deno.readFile(out));
    assert.deepEqual(back.payloads, [PAYLOADS[3], PAYLOADS[5]]);
    // Byte for byte what encodeFrameStream makes of those frames.
    assert.deepEqual(
      await Deno.readFile(out),
      encodeFrameStream([PAYLOADS[3]!, PAYLOADS[5]!], {
        contentType: DNSTAP_CONTENT_TYPE,
      }),
    );
    assert.match(run.stderr, /2 records written, 10 filtered out/);
  });
});

Deno.test("fstrm dnstap -w refuses to overwrite its input", async () => {
  await withTempDir(async (dir) => {
    const input = `${dir}/in.fstrm`;
    const bytes = dnstapFile(PAYLOADS);
    await Deno.writeFile(input, bytes);
    const run = await fstrm(["dnstap", "-r", input, "-w", input]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /-w names an input file/);
    assert.deepEqual(await Deno.readFile(input), bytes);
  });
});

Deno.test("fstrm dnstap refuses a file of another content type", async () => {
  await withTempDir(async (dir) => {
    const input = `${dir}/in.fstrm`;
    await Deno.writeFile(
      input,
      encodeFrameStream(PAYLOADS, { contentType: "protobuf:other" }),
    );
    const run = await fstrm(["dnstap", "-r", input, "-w", `${dir}/o`]);
    assert.equal(run.code, 1);
    assert.ok(
      run.stderr.startsWith(
        `fstrm dnstap: ${input}: the content type is "protobuf:other", not protobuf:dnstap.Dnstap\n`,
      ),
      run.stderr,
    );
    assert.equal(summaryOf(run.stderr).frames, 0);
  });
});

Deno.test("fstrm dnstap on a file cut inside a frame: the records before it, then exit 1", async () => {
  const bytes = dnstapFile(PAYLOADS.slice(0, 3));
  // Cut inside the third frame (STOP is 12 bytes, the frame's tail 5 more).
  const cut = bytes.subarray(0, bytes.length - 12 - 5);
  const { execRaw, fstrmArgs } = await import("./_cli.ts");
  const run = await execRaw(
    Deno.execPath(),
    fstrmArgs(["dnstap", "-r", "-", "-w", "-"]),
    cut,
  );
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 1, stderr);
  assert.deepEqual(readBack(run.stdout).payloads, PAYLOADS.slice(0, 2));
  assert.equal(summaryOf(stderr).output, 2);
  assert.match(
    stderr,
    /^fstrm dnstap: stdin: cannot decode frame: input ended inside the frame at byte 235.*\nfstrm dnstap: 2 frames read, /,
  );
});

// Usage errors: exit 2, one line naming the problem.
const USAGE: [string[], RegExp][] = [
  [[], /no input: give -r FILE, -u SOCKET or -l HOST:PORT/],
  [["-r", "-", "-"], /stdin \(-\) can be read only once/],
  [["-r", "a", "-u", "/tmp/s"], /give files \(-r\) or one socket/],
  [["-u", "/tmp/s", "-l", ":1"], /give files \(-r\) or one socket/],
  [["-r", "a", "-q", "-j"], /at most one of -q, -y and -j/],
  [["-r", "a", "-a"], /-a \(--append\) needs -w FILE/],
  [["-r", "a", "-a", "-w", "f"], /-a \(--append\) needs -w FILE/],
  [["-r", "a", "--type", "CLIENT_QUERYX"], /--type: 'CLIENT_QUERYX'/],
  [["-r", "a", "--rcode", "NXDOMAINX"], /--rcode: 'NXDOMAINX'/],
  [["-r", "a", "--client", "192.0.2.0/33"], /--client: '192.0.2.0\/33'/],
  [["-r", "a", "--client", "example.com"], /--client: 'example.com'/],
  [["-r", "a", "--qname-suffix", "a..b"], /empty label/],
  [["-r", "a", "--limit", "x"], /--limit wants an integer/],
  [["-l", "6000"], /-l wants HOST:PORT/],
];

for (const [args, expected] of USAGE) {
  Deno.test(`fstrm dnstap ${args.join(" ")}: usage error`, async () => {
    const run = await fstrm(["dnstap", ...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, expected);
    assert.match(run.stderr, /see 'fstrm dnstap --help'/);
    assert.equal(run.stdout, "");
  });
}

Deno.test("fstrm dnstap --help prints the help on stdout", async () => {
  const run = await fstrm(["dnstap", "--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: fstrm dnstap /);
  assert.match(run.stdout, /--qname-suffix/);
});

Deno.test("fstrm dnstap on a missing file: exit 1, one line", async () => {
  const run = await fstrm(["dnstap", "-r", "/nonexistent/x.fstrm"]);
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "fstrm dnstap: /nonexistent/x.fstrm: no such file or directory\n",
  );
});

Deno.test("fstrm lists dnstap among its commands", async () => {
  const run = await fstrm(["--help"]);
  assert.match(run.stdout, /\n {2}dnstap {3}print dnstap records/);
  void enc;
});

Deno.test("fstrm dnstap ends quietly with exit 0 when stdout closes early (| head)", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    // About 1 MB of frames out: more than a pipe holds.
    const many = Array.from({ length: 6000 }, (_, i) => PAYLOADS[i % 12]!);
    await Deno.writeFile(path, dnstapFile(many));
    const { CLI } = await import("./_cli.ts");
    const run = await new Deno.Command("bash", {
      args: [
        "-c",
        `'${Deno.execPath()}' run -A '${CLI}' dnstap -r "$1" -w - | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`,
        "bash",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(run.stdout), "0\n");
    assert.equal(new TextDecoder().decode(run.stderr), "");
  });
});

Deno.test("fstrm dnstap --progress always draws a bar on stderr and erases it", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/in.fstrm`;
    await Deno.writeFile(path, dnstapFile(PAYLOADS));
    const run = await fstrm([
      "dnstap",
      "-r",
      path,
      "-w",
      `${dir}/out.fstrm`,
      "--progress",
      "always",
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^\r.*in\.fstrm \[#{24}\] 100% /);
    assert.ok(
      run.stderr.includes("\r\x1b[Kfstrm dnstap: 12 frames read, "),
      "the bar is erased before the summary",
    );
    const auto = await fstrm(["dnstap", "-r", path, "-w", `${dir}/o2`]);
    assert.doesNotMatch(auto.stderr, /\r/);
  });
});

Deno.test("fstrm dnstap reads several files one after another, -r repeated or as arguments", async () => {
  await withTempDir(async (dir) => {
    const a = `${dir}/a.fstrm`;
    const b = `${dir}/b.fstrm`;
    const c = `${dir}/c.fstrm`;
    await Deno.writeFile(a, dnstapFile(PAYLOADS.slice(0, 5)));
    await Deno.writeFile(b, dnstapFile(PAYLOADS.slice(5)));
    // c is cut inside its second frame: its first record, then a line.
    const full = dnstapFile(PAYLOADS.slice(0, 2));
    await Deno.writeFile(c, full.subarray(0, full.length - 14));
    const out = `${dir}/out.fstrm`;
    const run = await fstrm([
      "dnstap",
      "-r",
      a,
      "-r",
      `${dir}/missing.fstrm`,
      b,
      c,
      "-w",
      out,
      "--type",
      "CQ,CR",
    ]);
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stderr.split("\n");
    assert.equal(
      lines[0],
      `fstrm dnstap: ${dir}/missing.fstrm: no such file or directory`,
    );
    assert.match(
      lines[1]!,
      new RegExp(
        `^fstrm dnstap: ${c}: cannot decode frame: input ended inside the frame`,
      ),
    );
    // Records 0-5, 10, 11 are CQ or CR; then record 0 again from c.
    assert.deepEqual(
      readBack(await Deno.readFile(out)).payloads,
      [0, 1, 2, 3, 4, 5, 10, 11, 0].map((i) => PAYLOADS[i]),
    );
    assert.deepEqual(summaryOf(run.stderr), {
      frames: 13,
      output: 9,
      filtered: 4,
      malformed: 0,
      unprintable: 0,
    });
    // --limit stops before the next file.
    const limited = await fstrm([
      "dnstap",
      "-r",
      a,
      b,
      "-w",
      out,
      "--limit",
      "5",
    ]);
    assert.equal(limited.code, 0, limited.stderr);
    assert.equal(summaryOf(limited.stderr).frames, 5);
    assert.deepEqual(
      readBack(await Deno.readFile(out)).payloads,
      PAYLOADS.slice(0, 5),
    );
    // -w that names any input is refused, nothing written.
    const clobber = await fstrm(["dnstap", "-r", a, b, "-w", b]);
    assert.equal(clobber.code, 1);
    assert.match(clobber.stderr, /-w names an input file/);
    assert.deepEqual(
      readBack(await Deno.readFile(b)).payloads,
      PAYLOADS.slice(5),
    );
  });
});
