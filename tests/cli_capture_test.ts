// `fstrm capture` end to end: the command runs as a subprocess of cli.ts
// (with the permissions of `deno task fstrm`), fed by our FrameWriter and by
// fstrm_replay; what it writes is read back frame for frame. Payloads carry
// their index in their first four bytes, so order, loss and duplication
// show. No assertion is about timing: every wait is for a condition.
import assert from "node:assert/strict";
import { rng, waitFor, withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import { interopTest } from "./_peers.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { openFrameReader } from "../src/file.ts";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";
import { strftime, strftimeProblem } from "../src/cli/_strftime.ts";
import { withCounter } from "../src/cli/_capture_session.ts";

import { CLI, PERMISSIONS } from "./_cli.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";
const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Helpers

/** `count` payloads of 80 to 400 bytes, the index (u32 BE) first. */
function makePayloads(count: number, seed: number, tag = 0): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(80 + (r() % 321));
    new DataView(p.buffer).setUint32(0, i);
    p[4] = tag;
    for (let j = 5; j < p.length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  return out;
}

function indexOf(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0);
}

/** A file's data frames (copies), content type, and whether STOP ends it. */
async function readFile(
  path: string,
): Promise<
  { frames: Uint8Array[]; contentType: string | null; stopped: boolean }
> {
  await using reader = await openFrameReader(path, { strict: true });
  const frames: Uint8Array[] = [];
  const summary = await reader.forEachFrame((w, o, l) => {
    frames.push(w.slice(o, o + l));
  });
  return {
    frames,
    contentType: summary.contentType === null
      ? null
      : dec.decode(summary.contentType),
    stopped: summary.stopped,
  };
}

/** Asserts `actual` holds exactly `expected`, in order. */
function assertFrames(actual: Uint8Array[], expected: Uint8Array[]): void {
  assert.equal(actual.length, expected.length, "frame count");
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `frame ${i}`);
  }
}

/** A running `fstrm capture`, its stderr read line by line as it comes. */
class Capture {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly stdout: Promise<Uint8Array>;
  readonly #stderrDone: Promise<void>;

  constructor(args: string[], stdout: "piped" | "null" = "null") {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, CLI, "capture", ...args],
      stdin: "null",
      stdout,
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.stdout = stdout === "piped"
      ? new Response(child.stdout).bytes()
      : Promise.resolve(new Uint8Array());
    this.#stderrDone = (async () => {
      let rest = "";
      for await (
        const chunk of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        this.lines.push(...parts);
      }
      if (rest !== "") this.lines.push(rest);
    })();
  }

  /** Waits for a line matching `re`; the match. */
  async line(re: RegExp): Promise<RegExpMatchArray> {
    let m: RegExpMatchArray | null = null;
    await waitFor(() => {
      for (const l of this.lines) {
        m = l.match(re);
        if (m !== null) return true;
      }
      return false;
    }, `a line ${re} from capture (got ${JSON.stringify(this.lines)})`);
    return m!;
  }

  /** Lines matching `re`, in order. */
  matching(re: RegExp): RegExpMatchArray[] {
    return this.lines.map((l) => l.match(re)).filter((m) => m !== null);
  }

  /** The files opened, in order (from the "opened output file" lines). */
  get opened(): string[] {
    return this.matching(/opened output file (.*)$/).map((m) => m[1]!);
  }

  signal(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Stops it with SIGTERM; the exit code, with stderr fully read. */
  async stop(): Promise<number> {
    this.child.kill("SIGTERM");
    return await this.exited();
  }

  async exited(): Promise<number> {
    const { code } = await this.child.status;
    await this.#stderrDone;
    return code;
  }
}

/** Starts capture on a Unix socket in `dir`; waits until it listens. */
async function captureUnix(
  dir: string,
  extra: string[],
  stdout: "piped" | "null" = "null",
): Promise<{ capture: Capture; path: string }> {
  const path = `${dir}/dnstap.sock`;
  const capture = new Capture(["-t", DNSTAP, "-u", path, ...extra], stdout);
  await capture.line(/listening on unix socket/);
  return { capture, path };
}

/** Connects a writer and sends `payloads`, then closes (STOP, FINISH). */
async function sendAll(
  target: Parameters<typeof FrameWriter.connect>[0],
  payloads: Uint8Array[],
  options: FrameWriterOptions = {},
): Promise<void> {
  const writer = await FrameWriter.connect(target, {
    contentTypes: [DNSTAP],
    reconnect: false,
    ...options,
  });
  for (const p of payloads) if (!writer.tryWrite(p)) await writer.write(p);
  await writer.close();
  assert.equal(writer.stats.framesWritten, payloads.length);
}

/** Runs the command to its end: exit code, stdout, stderr. */
async function runCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, CLI, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

// ---------------------------------------------------------------------------
// strftime, as glibc's (checked against GNU date, which shares its
// conversions)

Deno.test("strftime matches GNU date in UTC on every conversion", async () => {
  const formats = [
    "%a %A %b %B %h",
    "%c",
    "%C %d %D %e %F",
    "%g %G %V",
    "%H %I %j %k %l",
    "%m %M %p %P %r %R",
    "%s %S %T %u %U %w %W",
    "%x %X %y %Y %z %%",
    "%-d %-m %_H %05Y %^a %^B %10A %-j %_3d %EY %Od",
  ];
  const times = [
    0, // 1970-01-01, a Thursday
    951_782_400, // 2000-02-29, leap day of a century leap year
    978_307_199, // 2000-12-31 23:59:59: day 366
    1_104_537_600, // 2005-01-01: ISO week 53 of 2004
    1_230_768_000, // 2009-01-01: ISO week 1 of 2009
    1_262_217_600, // 2009-12-31: ISO week 53
    1_609_459_200, // 2021-01-01: a Friday, ISO week 53 of 2020
    1_703_980_800, // 2023-12-31: a Sunday, %U 53
    1_735_603_200, // 2024-12-31: ISO week 1 of 2025
    1_798_761_600, // 2027-01-01
    4_102_444_799, // 2099-12-31 23:59:59
  ];
  const script = formats.map((f) =>
    times.map((t) => `date -u -d @${t} '+${f}'`).join("\n")
  ).join("\n");
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: { LC_ALL: "C" },
    stdout: "piped",
  }).output();
  const lines = dec.decode(out.stdout).split("\n");
  let i = 0;
  for (const f of formats) {
    for (const t of times) {
      assert.equal(
        strftime(f, new Date(t * 1000), "utc"),
        lines[i++],
        `${f} at ${t}`,
      );
    }
  }
});

Deno.test("strftime in local time follows the process's time zone", () => {
  const d = new Date(2026, 11, 2, 3, 4, 5); // local
  assert.equal(strftime("%Y%m%d-%H%M%S", d, "local"), "20261202-030405");
  assert.equal(strftime("%s", d, "local"), String(d.getTime() / 1000));
  // GMT time names its zone as glibc's gmtime_r does.
  assert.equal(strftime("%Z %z", new Date(0), "utc"), "GMT +0000");
});

Deno.test("strftimeProblem refuses unknown conversions and a trailing %", () => {
  // Each case: pattern, problem (null: fine).
  const cases: [string, string | null][] = [
    ["dnstap-%F-%T.fstrm", null],
    ["%%Y", null],
    ["no conversion at all", null],
    ["x-%Q.fstrm", 'unknown conversion "%Q"'],
    ["x-%#Y", 'unknown conversion "%#"'],
    ["x-%", "a lone % at the end"],
  ];
  for (const [pattern, problem] of cases) {
    assert.equal(strftimeProblem(pattern), problem, pattern);
  }
});

Deno.test("withCounter puts the counter before the extension", () => {
  assert.equal(withCounter("/a/cap.fstrm", 1), "/a/cap.1.fstrm");
  assert.equal(withCounter("/a.d/cap", 2), "/a.d/cap.2");
  assert.equal(withCounter("/a/.hidden", 3), "/a/.hidden.3");
  assert.equal(withCounter("cap.x.fstrm", 12), "cap.x.12.fstrm");
});

// ---------------------------------------------------------------------------
// Receiving

Deno.test("capture writes what a FrameWriter sends over a Unix socket, frame for frame", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await captureUnix(dir, ["-w", out]);
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
    const { capture, path } = await captureUnix(dir, ["-w", out, "-d"]);
    const sets = [0, 1, 2].map((tag) => makePayloads(2_000, 10 + tag, tag));
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

async function hasOpenssl(): Promise<boolean> {
  try {
    await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return true;
  } catch {
    // The TLS case needs openssl; CI installs it (apt package openssl).
    if (Deno.env.get("CI")) throw new Error("openssl is missing");
    return false;
  }
}

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
          const started = await captureUnix(dir, ["-w", out]);
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
    const { capture, path } = await captureUnix(dir, ["-w", "-"], "piped");
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
    const { capture, path } = await captureUnix(dir, ["-w", out, "-b", "1004"]);
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
    const { capture, path } = await captureUnix(dir, [
      "-w",
      `${dir}/out.fstrm`,
      "--stats-interval",
      "0.1",
      "-b",
      "300",
    ]);
    await sendAll({ transport: "unix", path }, makePayloads(100, 5));
    const m = await capture.line(
      /stats: 0 connections open, 1 total; \d+ frames\/s, [\d.]+ MB\/s; (\d+) frames in all; (\d+) oversized frames dropped, 0 connections rejected, 0 connection errors$/,
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
    const { capture, path } = await captureUnix(dir, ["-w", out, "-c", "1"]);
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
  });
});

// ---------------------------------------------------------------------------
// Rotation: every file whole, their union every frame in order

/** Reads the files in the order opened; asserts each is whole. */
async function readAll(files: string[]): Promise<Uint8Array[]> {
  const all: Uint8Array[] = [];
  for (const f of files) {
    const file = await readFile(f);
    assert.equal(file.contentType, DNSTAP, f);
    assert.ok(file.stopped, `${f} ends with STOP`);
    all.push(...file.frames);
  }
  return all;
}

Deno.test("capture -s 1 --gmtime rotates every second into strftime-named files", async () => {
  await withTempDir(async (dir) => {
    const pattern = `${dir}/cap-%Y%m%d-%H%M%S.fstrm`;
    const { capture, path } = await captureUnix(dir, [
      "-w",
      pattern,
      "-s",
      "1",
      "--gmtime",
    ]);
    const payloads = makePayloads(6_000, 7);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    // 20 frames every 20 ms or so, until two rotations have happened.
    let i = 0;
    while (i < payloads.length && capture.opened.length < 3) {
      for (const end = i + 20; i < end; i++) await writer.write(payloads[i]!);
      await writer.flush();
      await new Promise((r) => setTimeout(r, 20));
    }
    // And some more into the third file.
    for (const end = i + 20; i < end; i++) await writer.write(payloads[i]!);
    const sent = payloads.slice(0, i);
    await writer.close();
    assert.equal(await capture.stop(), 0);
    const files = capture.opened;
    assert.ok(files.length >= 3, `${files.length} files`);
    for (const f of files) {
      assert.match(f, /\/cap-\d{8}-\d{6}(\.\d+)?\.fstrm$/);
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("cap-"))
        .length,
      files.length,
    );
    assertFrames(await readAll(files), sent);
  });
});

Deno.test("capture --max-size rotates before a frame would pass the size", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await captureUnix(dir, [
      "-w",
      out,
      "--max-size",
      "20000",
    ]);
    const payloads = makePayloads(1_000, 8);
    await sendAll({ transport: "unix", path }, payloads);
    assert.equal(await capture.stop(), 0);
    const files = capture.opened;
    assert.ok(files.length >= 12, `${files.length} files`);
    assert.deepEqual(
      files.slice(0, 3),
      [out, `${dir}/cap.1.fstrm`, `${dir}/cap.2.fstrm`],
    );
    for (const f of files) {
      assert.ok((await Deno.stat(f)).size <= 20_000, `${f} size`);
    }
    assertFrames(await readAll(files), payloads);
  });
});

Deno.test("capture rotates on SIGUSR1 and writes out on SIGHUP", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await captureUnix(dir, ["-w", out]);
    const payloads = makePayloads(400, 9);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    for (const p of payloads.slice(0, 200)) await writer.write(p);
    await writer.flush();
    // SIGHUP until the file holds the first 200 (they are in memory until
    // then: the capture writes in large buffers, or once a second).
    const frameCount = async () => {
      await using reader = await openFrameReader(out);
      return (await reader.forEachFrame(() => {})).dataFrames;
    };
    let n = 0;
    for (let tries = 0; n < 200 && tries < 400; tries++) {
      capture.signal("SIGHUP");
      await new Promise((r) => setTimeout(r, 50));
      n = await frameCount();
    }
    assert.equal(n, 200);
    capture.signal("SIGUSR1");
    await waitFor(() => capture.opened.length === 2, "the second file");
    for (const p of payloads.slice(200)) await writer.write(p);
    await writer.close();
    assert.equal(await capture.stop(), 0);
    // -w has no pattern and the first file is still there: a counter.
    assert.deepEqual(capture.opened, [out, `${dir}/cap.1.fstrm`]);
    assertFrames((await readFile(out)).frames, payloads.slice(0, 200));
    assertFrames(
      (await readFile(`${dir}/cap.1.fstrm`)).frames,
      payloads.slice(200),
    );
  });
});

Deno.test("capture reopens the same name on SIGUSR2 (as on SIGUSR1) once the file was moved away (logrotate)", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/cap.fstrm`;
    const { capture, path } = await captureUnix(dir, ["-w", out]);
    const payloads = makePayloads(100, 10);
    await sendAll({ transport: "unix", path }, payloads.slice(0, 50));
    await Deno.rename(out, `${dir}/cap.fstrm.old`);
    capture.signal("SIGUSR2");
    await waitFor(() => capture.opened.length === 2, "the second file");
    await sendAll({ transport: "unix", path }, payloads.slice(50));
    assert.equal(await capture.stop(), 0);
    assert.deepEqual(capture.opened, [out, out]);
    assertFrames(
      await readAll([`${dir}/cap.fstrm.old`, out]),
      payloads,
    );
  });
});

Deno.test("capture survives SIGTERM mid-stream: a whole file holding a prefix of the frames", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, path } = await captureUnix(dir, [
      "-w",
      out,
      "--grace",
      "0.2",
    ]);
    const payloads = makePayloads(50_000, 11);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    const sending = (async () => {
      for (const p of payloads) {
        if (!writer.tryWrite(p)) await writer.write(p);
      }
    })().catch(() => {}); // the capture goes away under it
    await waitFor(
      () => writer.stats.framesWritten >= 5_000,
      "frames on the wire",
    );
    assert.equal(await capture.stop(), 0);
    await sending;
    await writer.close();
    const file = await readFile(out);
    assert.ok(file.stopped);
    assert.ok(file.frames.length >= 1_000, `${file.frames.length} frames`);
    assertFrames(file.frames, payloads.slice(0, file.frames.length));
    assert.equal(indexOf(file.frames.at(-1)!), file.frames.length - 1);
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
    cases.map(([args]) => runCli(["capture", ...args])),
  );
  for (const [i, [args, line]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.stderr, `fstrm capture: ${line}${see}\n`, args.join(" "));
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

Deno.test("capture --help prints the options on stdout, exit 0", async () => {
  const r = await runCli(["capture", "--help"]);
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
      const r = await runCli(["capture", "-t", DNSTAP, ...args]);
      assert.equal(r.stderr, `fstrm capture: ${line}\n`, args.join(" "));
      assert.equal(r.code, 1, args.join(" "));
    }
    // Nothing clobbered, nothing left behind.
    assert.equal(await Deno.readTextFile(plain), "keep me");
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["live.sock", "plain"]);
  });
});
