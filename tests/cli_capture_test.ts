// `fstrm capture` end to end: the command runs as a subprocess of cli.ts
// (with the permissions of `deno task fstrm`), fed by our FrameWriter and by
// fstrm_replay; what it writes is read back frame for frame. Payloads carry
// their index in their first four bytes, so order, loss and duplication
// show. No assertion is about timing: every wait is for a condition.
// Rotation is in cli_capture_rotation_test.ts, strftime in
// cli_strftime_test.ts, faults in cli_fault_*_test.ts.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import { interopTest } from "./_peers.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertFrames,
  Capture,
  DNSTAP,
  fstrm,
  hasOpenssl,
  makePayloads,
  readFile,
  sendAll,
} from "./_cli.ts";

const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Receiving

Deno.test("capture writes what a FrameWriter sends over a Unix socket, frame for frame", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await Capture.unix(dir, ["-w", out]);
    const payloads = makePayloads(5_000, 1);
    await sendAll({ transport: "unix", path }, payloads);
    assert.equal(await capture.stop(), 0);
    const file = await readFile(out);
    assert.equal(file.contentType, DNSTAP);
    assert.ok(file.stopped);
    assertFrames(file.frames, payloads);
    assert.deepEqual(capture.opened, [out]);
    assert.match(
      capture.lines.at(-1)!,
      new RegExp(`closed output file ${out} \\(5000 frames, \\d+ bytes\\)$`),
    );
    // The socket file is gone.
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  });
});

Deno.test("capture takes START-first (unidirectional) writers and many connections into one file", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await Capture.unix(dir, ["-w", out, "-d"]);
    const sets = [0, 1, 2].map((tag) => makePayloads(2_000, 10 + tag, { tag }));
    await Promise.all(
      sets.map((payloads, tag) =>
        sendAll({ transport: "unix", path }, payloads, {
          bidirectional: tag !== 1,
        })
      ),
    );
    assert.equal(await capture.stop(), 0);
    const file = await readFile(out);
    assert.ok(file.stopped);
    assert.equal(file.frames.length, 6_000);
    // Each connection's frames arrive whole and in their order.
    for (const [tag, payloads] of sets.entries()) {
      assertFrames(file.frames.filter((f) => f[4] === tag), payloads);
    }
    assert.equal(capture.matching(/started: unidirectional/).length, 1);
    assert.equal(capture.matching(/started: bidirectional/).length, 2);
    assert.equal(
      capture.matching(/closed \(2000 frames\): after STOP/).length,
      3,
    );
  });
});

Deno.test("capture over TCP on a port it picks, and over TLS", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(3_000, 2);
    for (const tls of [false, true]) {
      if (tls && (await hasOpenssl()) === false) continue;
      const out = `${dir}/out-${tls}.fstrm`;
      const certArgs: string[] = [];
      let ca: string[] = [];
      if (tls) {
        const { cert } = await selfSignedCert(dir);
        certArgs.push(
          "--tls-cert",
          `${dir}/cert.pem`,
          "--tls-key",
          `${dir}/key.pem`,
        );
        ca = [cert];
      }
      const capture = new Capture([
        "-t",
        DNSTAP,
        "-a",
        "127.0.0.1",
        "-p",
        "0",
        "-w",
        out,
        ...certArgs,
      ]);
      const m = await capture.line(/listening on (tcp|tls) 127\.0\.0\.1:(\d+)/);
      assert.equal(m[1], tls ? "tls" : "tcp");
      const port = Number(m[2]);
      await sendAll(
        tls
          ? { transport: "tls", hostname: "127.0.0.1", port, caCerts: ca }
          : { transport: "tcp", port },
        payloads,
      );
      assert.equal(await capture.stop(), 0);
      const file = await readFile(out);
      assert.ok(file.stopped);
      assertFrames(file.frames, payloads);
    }
  });
});

for (const transport of ["unix", "tcp"] as const) {
  interopTest(
    `capture receives fstrm_replay over ${transport}, frame for frame`,
    ["fstrm_replay"],
    async () => {
      await withTempDir(async (dir) => {
        const payloads = makePayloads(20_000, 3);
        const input = `${dir}/in.fstrm`;
        await Deno.writeFile(
          input,
          encodeFrameStream(payloads, { contentType: DNSTAP }),
        );
        const out = `${dir}/out.fstrm`;
        let where: string[];
        let capture: Capture;
        if (transport === "unix") {
          const started = await Capture.unix(dir, ["-w", out]);
          capture = started.capture;
          where = ["-u", started.path];
        } else {
          capture = new Capture(
            ["-t", DNSTAP, "-a", "127.0.0.1", "-p", "0", "-w", out],
          );
          const m = await capture.line(/listening on tcp 127\.0\.0\.1:(\d+)/);
          where = ["-a", "127.0.0.1", "-p", m[1]!];
        }
        const replay = await new Deno.Command("fstrm_replay", {
          args: ["-t", DNSTAP, ...where, "-r", input],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(replay.code, 0, dec.decode(replay.stderr));
        assert.equal(await capture.stop(), 0);
        const file = await readFile(out);
        assert.ok(file.stopped);
        assertFrames(file.frames, payloads);
        // START and the frames are the input's own bytes: the files are equal.
        assert.deepEqual(await Deno.readFile(out), await Deno.readFile(input));
      });
    },
  );
}

Deno.test("capture -w - writes the stream to stdout", async () => {
  await withTempDir(async (dir) => {
    const { capture, path } = await Capture.unix(dir, ["-w", "-"], "piped");
    const payloads = makePayloads(500, 4);
    await sendAll({ transport: "unix", path }, payloads);
    assert.equal(await capture.stop(), 0);
    const bytes = await capture.stdout;
    const expected = encodeFrameStream(payloads, { contentType: DNSTAP });
    assert.deepEqual(bytes, expected);
  });
});

Deno.test("capture -b skips frames larger than the buffer and keeps the stream", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      out,
      "-b",
      "1004",
    ]);
    // 1000-byte payloads fit (1004 with their length), 1001 do not.
    const payloads = [
      new Uint8Array(1000).fill(1),
      new Uint8Array(1001).fill(2),
      new Uint8Array(5000).fill(3),
      new Uint8Array(10).fill(4),
    ];
    await sendAll({ transport: "unix", path }, payloads);
    assert.equal(await capture.stop(), 0);
    const file = await readFile(out);
    assertFrames(file.frames, [payloads[0]!, payloads[3]!]);
    // No stats line without -d or --stats-interval.
    assert.equal(capture.matching(/stats:/).length, 0);
  });
});

Deno.test("capture --stats-interval prints a stats line with connections, rates and drops", async () => {
  await withTempDir(async (dir) => {
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      `${dir}/out.fstrm`,
      "--stats-interval",
      "0.1",
      "-b",
      "300",
    ]);
    await sendAll({ transport: "unix", path }, makePayloads(100, 5));
    const m = await capture.line(
      /stats: 0 connections open, 1 total; \d+ frames\/s, [\d.]+ MB\/s; (\d+) frames in all; (\d+) oversized frames dropped, 0 connections rejected, 0 refused, 0 connection errors$/,
    );
    // Payloads of 297 bytes or more were dropped.
    const kept = makePayloads(100, 5).filter((p) => p.length <= 296).length;
    await waitFor(
      () =>
        capture.matching(new RegExp(`stats: .*; ${kept} frames in all`))
          .length > 0,
      "the stats to show every frame",
    );
    assert.ok(Number(m[1]) <= kept);
    assert.equal(await capture.stop(), 0);
    const last = capture.matching(/stats: .*/).at(-1)!;
    assert.match(
      last[0],
      new RegExp(`; ${100 - kept} oversized frames dropped`),
    );
  });
});

Deno.test("capture -c 1 closes a second connection while one is open", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await Capture.unix(dir, ["-w", out, "-c", "1"]);
    const first = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    await assert.rejects(
      FrameWriter.connect({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
        reconnect: false,
      }),
    );
    const payloads = makePayloads(10, 6);
    for (const p of payloads) await first.write(p);
    await first.close();
    assert.equal(await capture.stop(), 0);
    assertFrames((await readFile(out)).frames, payloads);
    // Said once (the receiver's rate limit: once per source a minute).
    assert.deepEqual(
      capture.lines.filter((l) => l.includes("refused")),
      ["fstrm capture: refused a connection from a unix socket peer (-c reached)"],
    );
  });
});

// ---------------------------------------------------------------------------
// Bad input: one line on stderr, the exit code, nothing left behind

Deno.test("capture rejects bad usage with one line and exit code 2", async () => {
  // Each case: arguments, the line on stderr.
  const see = " (see 'fstrm capture --help')";
  const cases: [string[], string][] = [
    [["--bogus"], "Unknown option '--bogus'"],
    [
      ["-u", "s", "-w", "f"],
      "-t (--type) is required: the content type, e.g. protobuf:dnstap.Dnstap",
    ],
    [["-t", "a", "-t", "b", "-u", "s", "-w", "f"], "give -t (--type) once"],
    [
      ["-t", "é".repeat(129), "-u", "s", "-w", "f"],
      "-t: a content type is at most 256 bytes",
    ],
    [["-t", "a", "-w", "f"], "give -u PATH (--unix) or -a ADDRESS -p PORT"],
    [
      ["-t", "a", "-u", "s", "-a", "127.0.0.1", "-p", "1", "-w", "f"],
      "give -u (--unix) or -a (--tcp), not both",
    ],
    [["-t", "a", "-a", "127.0.0.1", "-w", "f"], "-a (--tcp) needs -p (--port)"],
    [
      ["-t", "a", "-u", "s", "-p", "5", "-w", "f"],
      "-p (--port) goes with -a (--tcp), not -u",
    ],
    [
      ["-t", "a", "-a", "127.0.0.1", "-p", "70000", "-w", "f"],
      "-p wants an integer from 0 to 65535, got '70000'",
    ],
    [
      ["-t", "a", "-u", "s"],
      "-w (--write) is required: the output file, or - for stdout",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "-s", "5"],
      "-s (--split) needs --localtime or --gmtime",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "--localtime", "--gmtime"],
      "--localtime and --gmtime are mutually exclusive",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "-", "-s", "5", "--gmtime"],
      "cannot rotate stdout: -s and --max-size need a file (-w FILE)",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "-b", "abc"],
      "-b wants an integer from 5 to 4294967295, got 'abc'",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "--maxconns=-1"],
      "-c wants an integer from 0 to 1000000, got '-1'",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "x-%Q", "--gmtime"],
      '-w x-%Q: unknown conversion "%Q"',
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "--tls-cert", "c"],
      "--tls-cert and --tls-key go together",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "--tls-cert", "c", "--tls-key", "k"],
      "TLS (--tls-cert) needs -a and -p, not -u",
    ],
    [
      ["-t", "a", "-u", "s", "-w", "f", "--stats-interval", "x"],
      "--stats-interval wants seconds from 0 to 86400, got 'x'",
    ],
    [["-t", "a", "-u", "s", "-w", "f", "extra"], "unexpected argument 'extra'"],
  ];
  const results = await Promise.all(
    cases.map(([args]) => fstrm(["capture", ...args])),
  );
  for (const [i, [args, line]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.stderr, `fstrm capture: ${line}${see}\n`, args.join(" "));
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

Deno.test("capture --help prints the options on stdout, exit 0", async () => {
  const r = await fstrm(["capture", "--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^Usage: fstrm capture -t TYPE/);
  for (const flag of ["--split", "--max-size", "--tls-cert", "SIGUSR1"]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

Deno.test("capture refuses a socket path in use, a path that is no socket, a port in use, an unwritable file: one line, exit 1", async () => {
  await withTempDir(async (dir) => {
    // A live server on a socket.
    const live = `${dir}/live.sock`;
    using _server = Deno.listen({ transport: "unix", path: live });
    // A regular file where the socket would go.
    const plain = `${dir}/plain`;
    await Deno.writeTextFile(plain, "keep me");
    // A TCP port in use.
    using tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = tcp.addr.port;
    const cases: [string[], string][] = [
      [
        ["-u", live, "-w", `${dir}/a.fstrm`],
        `cannot listen on unix socket ${live}: another process is listening on it`,
      ],
      [
        ["-u", plain, "-w", `${dir}/b.fstrm`],
        `cannot listen on unix socket ${plain}: it exists and is not a socket`,
      ],
      [
        ["-a", "127.0.0.1", "-p", `${port}`, "-w", `${dir}/c.fstrm`],
        `cannot listen on tcp 127.0.0.1:${port}: the address is in use`,
      ],
      [
        ["-u", `${dir}/d.sock`, "-w", `${dir}/no/such/dir/d.fstrm`],
        `cannot open output file ${dir}/no/such/dir/d.fstrm: no such file or directory`,
      ],
      [
        [
          "-a",
          "127.0.0.1",
          "-p",
          "0",
          "--tls-cert",
          `${dir}/none.pem`,
          "--tls-key",
          `${dir}/none.pem`,
          "-w",
          `${dir}/e.fstrm`,
        ],
        `cannot read --tls-cert ${dir}/none.pem: no such file or directory`,
      ],
    ];
    for (const [args, line] of cases) {
      const r = await fstrm(["capture", "-t", DNSTAP, ...args]);
      assert.equal(r.stderr, `fstrm capture: ${line}\n`, args.join(" "));
      assert.equal(r.code, 1, args.join(" "));
    }
    // Nothing clobbered, nothing left behind.
    assert.equal(await Deno.readTextFile(plain), "keep me");
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["live.sock", "plain"]);
  });
});
