// `fstrm replay` end to end: the command runs as a subprocess of cli.ts
// (with the permissions of `deno task fstrm`) and sends to our
// FrameReceiver, to `fstrm capture` and to fstrm_capture; what arrives is
// checked frame for frame. Payloads carry their index in their first four
// bytes. Rates are checked by counting frames (and a lower bound on the
// time they must take), never by an upper bound on time.
import assert from "node:assert/strict";
import { rng, waitFor, withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import { interopTest } from "./_peers.ts";
import { encodeDataFrame, encodeFrameStream } from "../src/encode.ts";
import { openFrameReader } from "../src/file.ts";
import {
  type ConnectionEvent,
  FrameReceiver,
  type ListenTarget,
} from "../src/frame_receiver.ts";

import { CLI, PERMISSIONS } from "./_cli.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";
const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Helpers

/** `count` payloads of 80 to 400 bytes, the index (u32 BE) first. */
function makePayloads(count: number, seed: number, from = 0): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(80 + (r() % 321));
    new DataView(p.buffer).setUint32(0, from + i);
    for (let j = 4; j < p.length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  return out;
}

/** Writes a Frame Streams file of `payloads`. */
async function writeStream(
  path: string,
  payloads: Uint8Array[],
  contentType: string | null = DNSTAP,
): Promise<string> {
  await Deno.writeFile(path, encodeFrameStream(payloads, { contentType }));
  return path;
}

function assertFrames(actual: Uint8Array[], expected: Uint8Array[]): void {
  assert.equal(actual.length, expected.length, "frame count");
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `frame ${i}`);
  }
}

/** A file's data frames (copies) and whether STOP ends it. */
async function readFile(
  path: string,
): Promise<{ frames: Uint8Array[]; stopped: boolean }> {
  await using reader = await openFrameReader(path, { strict: true });
  const frames: Uint8Array[] = [];
  const s = await reader.forEachFrame((w, o, l) => {
    frames.push(w.slice(o, o + l));
  });
  return { frames, stopped: s.stopped };
}

/** A FrameReceiver that keeps every frame (copied) and every event. */
async function collector(
  target: ListenTarget,
  contentTypes: string[] = [DNSTAP],
): Promise<{
  receiver: FrameReceiver;
  frames: Uint8Array[];
  arrivals: number[];
  events: ConnectionEvent[];
  where: string[];
}> {
  const frames: Uint8Array[] = [];
  const arrivals: number[] = [];
  const events: ConnectionEvent[] = [];
  const receiver = await FrameReceiver.listen(target, {
    contentTypes,
    onData: (w, o, l) => {
      frames.push(w.slice(o, o + l));
      arrivals.push(performance.now());
    },
    onConnection: (e) => events.push(e),
  });
  const where = target.transport === "unix"
    ? ["-u", target.path]
    : ["-a", "127.0.0.1", "-p", `${(receiver.addr as Deno.NetAddr).port}`];
  return { receiver, frames, arrivals, events, where };
}

function closed(events: ConnectionEvent[]) {
  return events.filter((e) => e.type === "closed");
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

/** Starts the command; stderr collected. */
function spawnCli(args: string[]): {
  child: Deno.ChildProcess;
  result: Promise<{ code: number; stderr: string }>;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, CLI, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const result = child.output().then(({ code, stderr }) => ({
    code,
    stderr: dec.decode(stderr),
  }));
  return { child, result };
}

async function hasOpenssl(): Promise<boolean> {
  try {
    await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return true;
  } catch {
    // The TLS cases need openssl; CI installs it (apt package openssl).
    if (Deno.env.get("CI")) throw new Error("openssl is missing");
    return false;
  }
}

// ---------------------------------------------------------------------------
// Sending

Deno.test("replay sends several files, in order, as one bidirectional stream over a Unix socket", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(6_000, 1);
    const a = await writeStream(`${dir}/a.fstrm`, payloads.slice(0, 1_000));
    const b = await writeStream(`${dir}/b.fstrm`, payloads.slice(1_000, 4_000));
    // A START without a content type matches any, as in libfstrm.
    const c = await writeStream(`${dir}/c.fstrm`, payloads.slice(4_000), null);
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const r = await runCli([
      "replay",
      "-t",
      DNSTAP,
      ...where,
      "-r",
      a,
      "-r",
      b,
      c,
    ]);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    assertFrames(frames, payloads);
    const [end] = closed(events);
    assert.equal(end!.type === "closed" && end!.stopped, true);
    assert.equal(end!.connection.mode, "bidirectional");
  });
});

Deno.test("replay over TCP, TLS (with --tls-ca, --tls-hostname) and unidirectionally", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(2_000, 2);
    const file = await writeStream(`${dir}/in.fstrm`, payloads);
    const tls = await hasOpenssl();
    const pem = tls ? await selfSignedCert(dir) : null;
    // Each case: the target, the extra flags, the mode expected.
    const cases: [ListenTarget, string[], string][] = [
      [{ transport: "tcp", port: 0 }, [], "bidirectional"],
      [{ transport: "tcp", port: 0 }, ["--unidirectional"], "unidirectional"],
    ];
    if (pem !== null) {
      const target: ListenTarget = { transport: "tls", port: 0, ...pem };
      cases.push(
        [target, ["--tls", "--tls-ca", `${dir}/cert.pem`], "bidirectional"],
        [target, [
          "--tls",
          "--tls-ca",
          `${dir}/cert.pem`,
          "--tls-hostname",
          "localhost",
        ], "bidirectional"],
      );
    }
    for (const [target, flags, mode] of cases) {
      const { receiver, frames, events, where } = await collector(target);
      let args = [...where, ...flags];
      if (flags.includes("--tls-hostname")) {
        args = args.filter((x, i) => x !== "-a" && args[i - 1] !== "-a");
      }
      const r = await runCli(["replay", "-t", DNSTAP, ...args, "-r", file]);
      assert.equal(r.stderr, "", flags.join(" "));
      assert.equal(r.code, 0);
      await waitFor(() => closed(events).length === 1, "the stream's end");
      await receiver.close();
      assertFrames(frames, payloads);
      const [end] = closed(events);
      assert.equal(end!.connection.mode, mode, flags.join(" "));
      assert.equal(end!.type === "closed" && end!.stopped, true);
    }
  });
});

Deno.test("replay into fstrm capture: the captured file is the file sent", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(10_000, 3);
    const input = await writeStream(`${dir}/in.fstrm`, payloads);
    const out = `${dir}/out.fstrm`;
    const sock = `${dir}/s.sock`;
    const capture = spawnCli(["capture", "-t", DNSTAP, "-u", sock, "-w", out]);
    await waitFor(() => {
      try {
        return Deno.lstatSync(sock).isSocket === true;
      } catch {
        return false;
      }
    }, "capture to listen");
    const r = await runCli(["replay", "-t", DNSTAP, "-u", sock, "-r", input]);
    assert.equal(r.code, 0, r.stderr);
    capture.child.kill("SIGTERM");
    assert.equal((await capture.result).code, 0);
    assert.deepEqual(await Deno.readFile(out), await Deno.readFile(input));
  });
});

interopTest(
  "replay into fstrm_capture: the captured file holds exactly the frames; a content type it refuses fails",
  ["fstrm_capture"],
  async () => {
    await withTempDir(async (dir) => {
      const payloads = makePayloads(10_000, 4);
      const input = await writeStream(`${dir}/in.fstrm`, payloads);
      const out = `${dir}/out.fstrm`;
      const sock = `${dir}/s.sock`;
      const capture = new Deno.Command("fstrm_capture", {
        args: ["-t", DNSTAP, "-u", sock, "-w", out],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitFor(() => {
          try {
            return Deno.lstatSync(sock).isSocket === true;
          } catch {
            return false;
          }
        }, "fstrm_capture to listen");
        // fstrm_capture binds after it has removed an old socket file: wait
        // until it accepts.
        for (let i = 0; i < 200; i++) {
          try {
            (await Deno.connect({ transport: "unix", path: sock })).close();
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 10));
          }
        }
        const r = await runCli([
          "replay",
          "-t",
          DNSTAP,
          "-u",
          sock,
          "-r",
          input,
        ]);
        assert.equal(r.code, 0, r.stderr);
        // Another content type: fstrm_capture closes without ACCEPT.
        const other = await writeStream(`${dir}/x.fstrm`, payloads, "x");
        const refused = await runCli([
          "replay",
          "-t",
          "x",
          "-u",
          sock,
          "-r",
          other,
        ]);
        assert.equal(
          refused.stderr,
          `fstrm replay: cannot connect to unix:${sock}: the collector closed the connection before ACCEPT: does it accept content type "x"?\n`,
        );
        assert.equal(refused.code, 1);
      } finally {
        capture.kill("SIGTERM");
        await capture.status;
      }
      const file = await readFile(out);
      assert.ok(file.stopped);
      assertFrames(file.frames, payloads);
      assert.deepEqual(await Deno.readFile(out), await Deno.readFile(input));
    });
  },
);

Deno.test("replay --rate paces the frames; all of them arrive, in order", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(200, 5);
    const file = await writeStream(`${dir}/in.fstrm`, payloads);
    const { receiver, frames, arrivals, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const r = await runCli(
      ["replay", "-t", DNSTAP, ...where, "-r", file, "--rate", "400"],
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    assertFrames(frames, payloads);
    // 200 frames at 400 per second: the last is due 0.4975 s after the
    // first. A lower bound only: a loaded machine is slower, never faster.
    const spread = arrivals.at(-1)! - arrivals[0]!;
    assert.ok(spread >= 400, `${spread.toFixed(0)} ms`);
  });
});

Deno.test("replay --loop --limit sends the files again and stops at the count", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(100, 6);
    const file = await writeStream(`${dir}/in.fstrm`, payloads);
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const r = await runCli([
      "replay",
      "-t",
      DNSTAP,
      ...where,
      "-r",
      file,
      "--loop",
      "--limit",
      "250",
    ]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    assertFrames(frames, [...payloads, ...payloads, ...payloads.slice(0, 50)]);
    // --limit alone: the first frames.
    const again = await collector({
      transport: "unix",
      path: `${dir}/t.sock`,
    });
    const r2 = await runCli(
      ["replay", "-t", DNSTAP, ...again.where, "-r", file, "--limit", "30"],
    );
    assert.equal(r2.code, 0, r2.stderr);
    await waitFor(() => closed(again.events).length === 1, "the stream's end");
    await again.receiver.close();
    assertFrames(again.frames, payloads.slice(0, 30));
  });
});

Deno.test("replay --loop runs until SIGTERM, then closes the stream and exits 0", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(100, 7);
    const file = await writeStream(`${dir}/in.fstrm`, payloads);
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const replay = spawnCli(
      ["replay", "-t", DNSTAP, ...where, "-r", file, "--loop"],
    );
    await waitFor(() => frames.length >= 1_000, "ten passes");
    replay.child.kill("SIGTERM");
    const r = await replay.result;
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    const [end] = closed(events);
    assert.equal(end!.type === "closed" && end!.stopped, true);
    // A prefix of the file, again and again.
    for (const [i, f] of frames.entries()) {
      assert.deepEqual(f, payloads[i % 100], `frame ${i}`);
    }
  });
});

Deno.test("replay interrupted by SIGINT closes the stream cleanly and exits 130", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(5_000, 8);
    const file = await writeStream(`${dir}/in.fstrm`, payloads);
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const replay = spawnCli(
      ["replay", "-t", DNSTAP, ...where, "-r", file, "--rate", "1000"],
    );
    await waitFor(() => frames.length >= 50, "the first frames");
    replay.child.kill("SIGINT");
    const r = await replay.result;
    const m = r.stderr.match(
      /^fstrm replay: interrupted by SIGINT after (\d+) frames \(stream closed with STOP\)\n$/,
    );
    assert.ok(m !== null, r.stderr);
    assert.equal(r.code, 130);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    const n = Number(m[1]);
    assert.ok(n < payloads.length);
    assertFrames(frames, payloads.slice(0, n));
  });
});

Deno.test("replay sends the frames before a cut, then fails with one line", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(50, 9);
    const whole = encodeFrameStream(payloads, { contentType: DNSTAP });
    const file = `${dir}/cut.fstrm`;
    // Cut inside the last data frame: 49 frames whole.
    await Deno.writeFile(file, whole.subarray(0, whole.length - 12 - 10));
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const r = await runCli(["replay", "-t", DNSTAP, ...where, "-r", file]);
    assert.match(
      r.stderr,
      new RegExp(
        `^fstrm replay: ${file}: Cannot decode frame: input ended inside the frame at byte \\d+ .*; the 49 frames before it were sent\\n$`,
      ),
    );
    assert.equal(r.code, 1);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    assertFrames(frames, payloads.slice(0, 49));
  });
});

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
      "--tls-ca and --tls-hostname go with --tls",
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
  ];
  const results = await Promise.all(
    cases.map(([args]) => runCli(["replay", ...args])),
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
      const r = await runCli(["replay", "-t", DNSTAP, ...args]);
      assert.equal(r.stderr, `fstrm replay: ${line}\n`, args.join(" "));
      assert.equal(r.code, 1, args.join(" "));
    }
    await picky.receiver.close();
    // Nothing was sent: the picky collector saw only the refused handshake.
    assert.equal(picky.frames.length, 0);
    assert.equal(picky.events.filter((e) => e.type === "opened").length, 1);
  });
});

Deno.test("replay --help prints the options on stdout, exit 0", async () => {
  const r = await runCli(["replay", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: fstrm replay -t TYPE/);
  for (const flag of ["--rate", "--loop", "--unidirectional", "--tls-ca"]) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});
