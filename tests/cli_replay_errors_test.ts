// `fstrm replay` on bad input: one line on stderr, the exit code, nothing
// sent. The command runs as a subprocess of cli.ts.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { encodeDataFrame, encodeFrameStream } from "../src/encode.ts";
import { collector, DNSTAP, fstrm, makePayloads, writeStream } from "./_cli.ts";

// ---------------------------------------------------------------------------
// Bad input: one line on stderr, the exit code, nothing sent

Deno.test("replay rejects bad usage with one line and exit code 2", async () => {
  const see = " (see 'fstrm replay --help')";
  // Each case: arguments, the line on stderr.
  const cases: [string[], string][] = [
    [["--bogus"], "Unknown option '--bogus'"],
    [
      ["-u", "s", "-r", "f"],
      "-t (--type) is required: the content type, e.g. protobuf:dnstap.Dnstap",
    ],
    [["-t", "a", "-u", "s"], "no file to send: give -r FILE (--read-file)"],
    [["-t", "a", "-r", "f"], "give -u PATH (--unix) or -a ADDRESS -p PORT"],
    [
      ["-t", "a", "-u", "s", "-a", "h", "-p", "1", "-r", "f"],
      "give -u (--unix) or -a (--tcp), not both",
    ],
    [["-t", "a", "-a", "127.0.0.1", "-r", "f"], "-a (--tcp) needs -p (--port)"],
    [
      ["-t", "a", "-a", "127.0.0.1", "-p", "0", "-r", "f"],
      "-p wants an integer from 1 to 65535, got '0'",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "f", "--rate", "0"],
      "--rate wants frames per second, more than 0, got '0'",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "f", "--rate", "fast"],
      "--rate wants frames per second, more than 0, got 'fast'",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "f", "--limit", "0"],
      "--limit wants an integer from 1 to 9007199254740991, got '0'",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "f", "--tls"],
      "--tls needs -a and -p, not -u",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "f", "--tls-ca", "ca.pem"],
      "--tls-ca, --tls-hostname, --tls-server-name, --tls-cert and --tls-key go with --tls",
    ],
    [
      [
        "-t",
        "a",
        "-a",
        "127.0.0.1",
        "-p",
        "1",
        "-r",
        "f",
        "--tls",
        "--tls-hostname",
        "x",
      ],
      "give -a or --tls-hostname, not both: the TLS connection goes to the name it checks",
    ],
    [["-t", "a", "-u", "s", "-r", "-", "-"], "give -r - (standard input) once"],
    [
      ["-t", "x".repeat(257), "-u", "s", "-r", "f"],
      "-t: a content type is at most 256 bytes",
    ],
    [
      ["-t", "a", "-u", "s", "-r", "-", "--loop"],
      "--loop sends the files again, and standard input (-r -) can be read once",
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) => fstrm(["replay", ...args])),
  );
  for (const [i, [args, line]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.stderr, `fstrm replay: ${line}${see}\n`, args.join(" "));
    assert.equal(r.code, 2, args.join(" "));
  }
});

Deno.test("replay fails with one line, exit 1, on bad files and unreachable or refusing collectors", async () => {
  await withTempDir(async (dir) => {
    const good = await writeStream(`${dir}/good.fstrm`, makePayloads(10, 10));
    const other = await writeStream(
      `${dir}/other.fstrm`,
      makePayloads(10, 10),
      "x",
    );
    const dataFirst = `${dir}/data-first.fstrm`;
    await Deno.writeFile(dataFirst, encodeDataFrame("a data frame first"));
    const text = `${dir}/text.txt`;
    await Deno.writeTextFile(text, "hello, this is not Frame Streams\n");
    const empty = `${dir}/empty.fstrm`;
    await Deno.writeFile(empty, new Uint8Array());
    // A collector that takes only another content type.
    const picky = await collector(
      { transport: "unix", path: `${dir}/picky.sock` },
      ["other"],
    );
    // A closed TCP port.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = l.addr.port;
    l.close();
    const listening = ["-u", `${dir}/picky.sock`];
    const cases: [string[], string][] = [
      [
        [...listening, "-r", `${dir}/none.fstrm`],
        `cannot open ${dir}/none.fstrm: no such file or directory`,
      ],
      [
        [...listening, "-r", good, "-r", other],
        `${other} holds content type "x", not "${DNSTAP}" (-t)`,
      ],
      [
        [...listening, "-r", dataFirst],
        `${dataFirst} does not begin with a START frame: not a Frame Streams file`,
      ],
      [
        [...listening, "-r", text],
        `${text} does not begin with a START frame: not a Frame Streams file`,
      ],
      [
        [...listening, "-r", empty],
        `${empty} is empty: not a Frame Streams file`,
      ],
      [[...listening, "-r", dir], `${dir} is not a regular file`],
      [
        ["-u", `${dir}/none.sock`, "-r", good],
        `cannot connect to unix:${dir}/none.sock: no such socket`,
      ],
      [
        ["-a", "127.0.0.1", "-p", `${closedPort}`, "-r", good],
        `cannot connect to 127.0.0.1:${closedPort}: connection refused`,
      ],
      [
        [...listening, "-r", good],
        `cannot connect to unix:${dir}/picky.sock: the collector closed the connection before ACCEPT: does it accept content type "${DNSTAP}"?`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await fstrm(["replay", "-t", DNSTAP, ...args]);
      assert.equal(r.stderr, `fstrm replay: ${line}\n`, args.join(" "));
      assert.equal(r.code, 1, args.join(" "));
    }
    await picky.receiver.close();
    // Nothing was sent: the picky collector saw only the refused handshake.
    assert.equal(picky.frames.length, 0);
    assert.equal(picky.events.filter((e) => e.type === "opened").length, 1);
  });
});

Deno.test("replay -r - checks standard input's START before connecting: one line, exit 1", async () => {
  await withTempDir(async (dir) => {
    const picky = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const stream = (ct: string | null) =>
      encodeFrameStream(makePayloads(5, 11), { contentType: ct });
    // Each case: standard input, the line on stderr.
    const cases: [Uint8Array, string][] = [
      [stream("x"), `stdin holds content type "x", not "${DNSTAP}" (-t)`],
      [
        encodeDataFrame("a data frame first"),
        "stdin does not begin with a START frame: not a Frame Streams file",
      ],
      [
        new TextEncoder().encode("hello, this is not Frame Streams\n"),
        "stdin does not begin with a START frame: not a Frame Streams file",
      ],
      // START cut short.
      [
        stream(DNSTAP).subarray(0, 20),
        "stdin does not begin with a START frame: not a Frame Streams file",
      ],
      [new Uint8Array(), "stdin is empty: not a Frame Streams file"],
    ];
    for (const [input, line] of cases) {
      const r = await fstrm(
        ["replay", "-t", DNSTAP, ...picky.where, "-r", "-"],
        { input },
      );
      assert.equal(r.stderr, `fstrm replay: ${line}\n`, line);
      assert.equal(r.code, 1, line);
    }
    await picky.receiver.close();
    // Nothing was sent, no connection made.
    assert.equal(picky.events.length, 0);
  });
});

Deno.test("replay --help prints the options on stdout, exit 0", async () => {
  const r = await fstrm(["replay", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: fstrm replay -t TYPE/);
  for (const flag of ["--rate", "--loop", "--unidirectional", "--tls-ca"]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});
