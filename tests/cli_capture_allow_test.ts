// `fstrm capture` and who may connect: --allow, --max-conns-per-source, the
// lines about refused peers (one per source a minute at most), and the Unix
// socket file's --unix-mode, --unix-owner and --unix-group.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertFrames,
  Capture,
  DNSTAP,
  fstrm,
  makePayloads,
  readFile,
} from "./_cli.ts";

/** Starts a capture on 127.0.0.1, any port; resolves once it listens. */
async function tcpCapture(
  args: string[],
): Promise<{ capture: Capture; port: number }> {
  const capture = new Capture([
    "-t",
    DNSTAP,
    "-a",
    "127.0.0.1",
    "-p",
    "0",
    ...args,
  ]);
  const m = await capture.line(/listening on tcp 127\.0\.0\.1:(\d+)/);
  return { capture, port: Number(m[1]) };
}

/** Connects and reads to the end: the bytes the capture sent back. */
async function knock(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let got = 0;
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
  } catch {
    // reset: nothing read either
  }
  conn.close();
  return got;
}

/** The uid and gid owning `path` (made by this process: ours). */
async function ownerOf(path: string): Promise<{ uid: number; gid: number }> {
  const info = await Deno.stat(path);
  return { uid: info.uid!, gid: info.gid! };
}

Deno.test("capture --allow closes peers off the list, says so once per source, counts them", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, port } = await tcpCapture([
      "-w",
      out,
      "--allow",
      "10.0.0.0/8,2001:db8::/32",
      "--allow",
      "192.0.2.1",
      "--stats-interval",
      "0.1",
    ]);
    for (let i = 0; i < 3; i++) assert.equal(await knock(port), 0);
    await capture.line(/stats: .* 3 refused, /);
    assert.equal(await capture.stop(), 0);
    const refused = capture.matching(/refused .*/).filter((m) =>
      !m[0].includes("stats:")
    );
    // One line: the next two are within the minute.
    assert.equal(refused.length, 1);
    assert.match(
      capture.lines.find((l) => l.includes("refused a connection"))!,
      /^fstrm capture: refused a connection from 127\.0\.0\.1:\d+ \(not on --allow\)$/,
    );
    assert.deepEqual((await readFile(out)).frames, []);
    capture.assertNoCrash();
  });
});

Deno.test("capture --allow serves a peer on the list", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, port } = await tcpCapture([
      "-w",
      out,
      "--allow",
      "::1, 127.0.0.0/8",
    ]);
    const writer = await FrameWriter.connect(
      { transport: "tcp", hostname: "127.0.0.1", port },
      { contentTypes: [DNSTAP], reconnect: false },
    );
    const payloads = makePayloads(20, 3);
    for (const p of payloads) await writer.write(p);
    await writer.close();
    assert.equal(await capture.stop(), 0);
    assertFrames((await readFile(out)).frames, payloads);
    assert.equal(capture.matching(/refused/).length, 0);
  });
});

Deno.test("capture --max-conns-per-source 1 closes a second connection from the same address", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.fstrm`;
    const { capture, port } = await tcpCapture([
      "-w",
      out,
      "--max-conns-per-source",
      "1",
    ]);
    const target = { transport: "tcp", hostname: "127.0.0.1", port } as const;
    const first = await FrameWriter.connect(target, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    await assert.rejects(
      FrameWriter.connect(target, { contentTypes: [DNSTAP], reconnect: false }),
    );
    await capture.line(
      /refused a connection from 127\.0\.0\.1:\d+ \(--max-conns-per-source reached\)$/,
    );
    const payloads = makePayloads(10, 4);
    for (const p of payloads) await first.write(p);
    await first.close();
    assert.equal(await capture.stop(), 0);
    assertFrames((await readFile(out)).frames, payloads);
  });
});

/** The name of group `gid` in /etc/group, if it has one. */
async function groupName(gid: number): Promise<string | null> {
  const text = await Deno.readTextFile("/etc/group").catch(() => "");
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f[2] === String(gid)) return f[0]!;
  }
  return null;
}

Deno.test("capture --unix-mode, --unix-owner and --unix-group set the socket file's", async () => {
  await withTempDir(async (dir) => {
    // Our uid and gid from a directory we made (Deno.uid() needs --allow-sys,
    // which the test task does not grant).
    const { uid, gid } = await ownerOf(dir);
    const group = await groupName(gid) ?? String(gid);
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      `${dir}/out.fstrm`,
      "--unix-mode",
      "640",
      "--unix-owner",
      String(uid),
      "--unix-group",
      group,
    ]);
    const info = await Deno.lstat(path);
    assert.equal(info.mode! & 0o7777, 0o640);
    assert.equal(info.uid, uid);
    assert.equal(info.gid, gid);
    assert.equal(await capture.stop(), 0);
    // Removed on a clean stop.
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  });
});

Deno.test("capture rejects bad --allow, --max-conns-per-source and --unix-* usage", async () => {
  const see = " (see 'fstrm capture --help')";
  const tcp = ["-t", "a", "-a", "127.0.0.1", "-p", "0", "-w", "f"];
  const unix = ["-t", "a", "-u", "s", "-w", "f"];
  // Each case: arguments, the line on stderr, the exit code.
  const cases: [string[], string, number][] = [
    [
      [...tcp, "--allow", "10.0.0.0/33"],
      "--allow wants IPv4 or IPv6 networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1), got '10.0.0.0/33'" +
      see,
      2,
    ],
    [
      [...tcp, "--allow", "10.0.0.0/8,example.com"],
      "--allow wants IPv4 or IPv6 networks (10.0.0.0/8, 2001:db8::/32, 127.0.0.1), got 'example.com'" +
      see,
      2,
    ],
    [[...unix, "--allow", "::1"], "--allow needs -a and -p, not -u" + see, 2],
    [
      [...unix, "--max-conns-per-source", "2"],
      "--max-conns-per-source needs -a and -p, not -u" + see,
      2,
    ],
    [
      [...tcp, "--max-conns-per-source", "0"],
      "--max-conns-per-source wants an integer from 1 to 1000000, got '0'" +
      see,
      2,
    ],
    [
      [...tcp, "--unix-mode", "660"],
      "--unix-mode, --unix-owner and --unix-group go with -u" + see,
      2,
    ],
    [
      [...unix, "--unix-mode", "u+rw"],
      "--unix-mode wants octal permission bits such as 660, got 'u+rw'" + see,
      2,
    ],
    [
      [...unix, "--unix-owner", "no-such-user-fstrm"],
      "--unix-owner no-such-user-fstrm: no such name in /etc/passwd",
      1,
    ],
    [
      [...unix, "--unix-group", "no-such-group-fstrm"],
      "--unix-group no-such-group-fstrm: no such name in /etc/group",
      1,
    ],
  ];
  const results = await Promise.all(
    cases.map(([args]) => fstrm(["capture", ...args])),
  );
  for (const [i, [args, line, code]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.stderr, `fstrm capture: ${line}\n`, args.join(" "));
    assert.equal(r.code, code, args.join(" "));
  }
});
