// Least privilege (issue 15): each row of tests/_permissions.ts, the table
// docs/cli.md shows, is run as `deno run <exactly its flags> cli.ts ...`
// against real inputs (a dnstap capture of unbound, temp dirs, loopback
// sockets with a FrameWriter or FrameReceiver of this process as the peer)
// and must do its job; then once per flag, and once per path or host of a
// flag, with that one taken away, and must fail with Deno's permission
// error and a non-zero exit (or, for the rows with a documented fallback,
// show that fallback). So the documented set is both enough and needed.
// The runs go a few at a time; each Deno.test waits for its row's.
import assert from "node:assert/strict";
import { DNSTAP, PERMISSIONS } from "./_cli.ts";
import { delay } from "./_support.ts";
import type { ListenTarget } from "../src/frame_receiver.ts";
import { cells, CLI_PERMISSIONS, markdownRow } from "./_permissions.ts";
import {
  type Bindings,
  dataFrames,
  dec,
  DENIED,
  files,
  INPUT_BYTES,
  lines,
  once,
  permissionTests,
  ROOT,
  type Scenario,
  send,
  SENT,
  served,
  spawn,
  spawnWith,
  tcpPeer,
  toReceiver,
  unixPeer,
  variants,
} from "./_permission_runs.ts";

// ---------------------------------------------------------------------------
// The scenarios, one per row

const expected = new Map<string, Promise<string>>();

/** The output of `fstrm args` with every permission (what a row must print). */
function reference(
  args: string[],
  env: Record<string, string>,
  stdin = false,
): Promise<string> {
  const key = JSON.stringify([args, env, stdin]);
  if (!expected.has(key)) {
    expected.set(
      key,
      spawn(["-A"], args, { env, ...(stdin ? { stdin: INPUT_BYTES } : {}) })
        .done.then((r) => {
          assert.equal(r.code, 0, r.stderr);
          return dec.decode(r.stdout);
        }),
    );
  }
  return expected.get(key)!;
}

const TZ_ARGS = (b: Bindings) => ["dnstap", "-r", b.FILE!, "-q"];

/** A TLS collector on 127.0.0.1:PORT with the test certificate. */
async function tlsListen(b: Bindings): Promise<ListenTarget> {
  return {
    transport: "tls",
    hostname: "127.0.0.1",
    port: Number(b.PORT),
    cert: await Deno.readTextFile(b.CERT!),
    key: await Deno.readTextFile(b.KEY!),
  };
}

const SCENARIOS: Record<string, Scenario> = {
  "fstrm --help": once(
    () => ["stats", "--help"],
    (out) => dec.decode(out).startsWith("Usage: fstrm stats"),
  ),
  "fstrm stats FILE": once(
    (b) => ["stats", b.FILE!],
    (out) => /data frames\s+489\n/.test(dec.decode(out)),
  ),
  "fstrm stats -": once(
    () => ["stats", "-"],
    (out) => /data frames\s+489\n/.test(dec.decode(out)),
    { stdin: true },
  ),
  "fstrm dump FILE": once(
    (b) => ["dump", b.FILE!],
    (_out, _b, err) => err.split("Data frame (").length - 1 === 489,
  ),
  "fstrm dump FILE OUT": once(
    (b) => ["dump", b.FILE!, b.OUT!],
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === 489,
  ),
  "fstrm dump - -": once(
    () => ["dump", "-", "-"],
    (out) => dataFrames(out) === 489,
    { stdin: true },
  ),
  // top's report as with every permission (489 messages; the wording is
  // top's own).
  "fstrm top -r FILE": once(
    (b) => ["top", "-r", b.FILE!],
    async (out, b) =>
      /\b489\b/.test(dec.decode(out)) &&
      dec.decode(out) === await reference(["top", "-r", b.FILE!], {}),
  ),
  "fstrm top -r -": once(
    () => ["top", "-r", "-"],
    async (out) =>
      /\b489\b/.test(dec.decode(out)) &&
      dec.decode(out) === await reference(["top", "-r", "-"], {}, true),
    { stdin: true },
  ),
  "fstrm top -u SOCK": served(
    (b) => ["top", "-u", b.SOCK!, "--json"],
    unixPeer,
    (out) => JSON.parse(dec.decode(out)).live.messages === SENT.length,
  ),
  "fstrm top -l HOST:PORT --allow NET": served(
    (b) => [
      "top",
      "-l",
      `${b.HOST}:${b.PORT}`,
      "--allow",
      "127.0.0.0/8",
      "--json",
    ],
    tcpPeer,
    (out) => JSON.parse(dec.decode(out)).live.messages === SENT.length,
  ),
  "fstrm dnstap -r FILE": once(
    (b) => ["dnstap", "-r", b.FILE!],
    (out) => lines(out) === 489,
  ),
  // TZ names a zone file by path: Go's zone (daylight saving included)
  // only when the zone file may be read, else the engine's fixed offset.
  "fstrm dnstap -r FILE -q": once(
    TZ_ARGS,
    async (out, b) =>
      lines(out) === 489 &&
      dec.decode(out) === await reference(TZ_ARGS(b), { TZ: b.ZONE! }),
    { env: (b) => ({ TZ: b.ZONE! }) },
  ),
  "fstrm dnstap -r FILE -y --threads N": once(
    (b) => ["dnstap", "-r", b.FILE!, "-y", "--threads", "2"],
    async (out, b, err) =>
      !err.includes("no worker threads") &&
      dec.decode(out) ===
        await reference(["dnstap", "-r", b.FILE!, "-y"], {}),
  ),
  "fstrm dnstap -r FILE -w OUT": once(
    (b) => ["dnstap", "-r", b.FILE!, "-w", b.OUT!],
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === 489,
  ),
  "fstrm dnstap -r - -w -": once(
    () => ["dnstap", "-r", "-", "-w", "-"],
    (out) => dataFrames(out) === 489,
    { stdin: true },
  ),
  "fstrm dnstap -u SOCK": served(
    (b) => ["dnstap", "-u", b.SOCK!],
    unixPeer,
    (out) => lines(out) === SENT.length,
  ),
  "fstrm dnstap -l HOST:PORT": served(
    (b) => ["dnstap", "-l", `${b.HOST}:${b.PORT}`],
    tcpPeer,
    (out) => lines(out) === SENT.length,
  ),
  "fstrm dnstap -l HOST:PORT --allow NET": served(
    (b) => [
      "dnstap",
      "-l",
      `${b.HOST}:${b.PORT}`,
      "--allow",
      "127.0.0.0/8",
      "--max-conns-per-source",
      "2",
    ],
    tcpPeer,
    (out) => lines(out) === SENT.length,
  ),
  "fstrm capture -u SOCK -w OUT": served(
    (b) => ["capture", "-t", DNSTAP, "-u", b.SOCK!, "-w", b.OUT!],
    unixPeer,
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm capture -u SOCK -w - --unsafe-sigusr1": served(
    (
      b,
    ) => [
      "capture",
      "-t",
      DNSTAP,
      "-u",
      b.SOCK!,
      "-w",
      "-",
      "--unsafe-sigusr1",
    ],
    unixPeer,
    (out) => dataFrames(out) === SENT.length,
  ),
  "fstrm capture -u SOCK -w DIR/F-%s.fstrm --gmtime -s SECONDS": async (
    flags,
    b,
  ) => {
    return await served(
      (b) => [
        "capture",
        "-t",
        DNSTAP,
        "-u",
        b.SOCK!,
        "-w",
        `${b.DIR}/F-%s.fstrm`,
        "--gmtime",
        "-s",
        "3600",
      ],
      async (b, _line, child) => {
        await unixPeer(b);
        // Rotate on SIGUSR2 (a new file), then send again.
        const before = files(b.DIR!).length;
        child.kill("SIGUSR2");
        for (let i = 0; i < 400 && files(b.DIR!).length === before; i++) {
          await delay(10);
        }
        await unixPeer(b);
      },
      (_out, b) => {
        const all = files(b.DIR!);
        let frames = 0;
        for (const f of all) frames += dataFrames(Deno.readFileSync(f));
        return all.length >= 2 && frames === 2 * SENT.length;
      },
    )(flags, b);
  },
  "fstrm capture -u SOCK -w OUT --unix-owner USER --unix-group GROUP": served(
    (b) => [
      "capture",
      "-t",
      DNSTAP,
      "-u",
      b.SOCK!,
      "-w",
      b.OUT!,
      "--unix-owner",
      b.USER!,
      "--unix-group",
      b.GROUP!,
    ],
    async (b) => {
      const info = Deno.lstatSync(b.SOCK!);
      const ours = Deno.statSync(b.DIR!);
      assert.equal(info.uid, ours.uid);
      assert.equal(info.gid, ours.gid);
      await unixPeer(b);
    },
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm capture -a HOST -p PORT -w OUT": served(
    (
      b,
    ) => ["capture", "-t", DNSTAP, "-a", b.HOST!, "-p", b.PORT!, "-w", b.OUT!],
    tcpPeer,
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm capture -a HOST -p PORT --allow NET -w OUT": served(
    (b) => [
      "capture",
      "-t",
      DNSTAP,
      "-a",
      b.HOST!,
      "-p",
      b.PORT!,
      "--allow",
      "127.0.0.0/8",
      "--max-conns-per-source",
      "2",
      "-w",
      b.OUT!,
    ],
    tcpPeer,
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm capture -a HOST -p 0 -w OUT": served(
    (b) => ["capture", "-t", DNSTAP, "-a", b.HOST!, "-p", "0", "-w", b.OUT!],
    tcpPeer,
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm capture -a HOST -p PORT --tls-cert CERT --tls-key KEY -w OUT": served(
    (b) => [
      "capture",
      "-t",
      DNSTAP,
      "-a",
      b.HOST!,
      "-p",
      b.PORT!,
      "--tls-cert",
      b.CERT!,
      "--tls-key",
      b.KEY!,
      "-w",
      b.OUT!,
    ],
    (b) =>
      send({
        transport: "tls",
        hostname: "127.0.0.1",
        port: Number(b.PORT),
        caCerts: [Deno.readTextFileSync(b.CERT!)],
      }),
    (_out, b) => dataFrames(Deno.readFileSync(b.OUT!)) === SENT.length,
  ),
  "fstrm replay -t TYPE -u SOCK -r FILE": toReceiver(
    (b) => Promise.resolve({ transport: "unix", path: b.SOCK! }),
    (b) => ["replay", "-t", DNSTAP, "-u", b.SOCK!, "-r", b.FILE!],
  ),
  "fstrm replay -t TYPE -u SOCK -r -": toReceiver(
    (b) => Promise.resolve({ transport: "unix", path: b.SOCK! }),
    (b) => ["replay", "-t", DNSTAP, "-u", b.SOCK!, "-r", "-"],
    true,
  ),
  "fstrm replay -t TYPE -a HOST -p PORT -r FILE": toReceiver(
    (b) =>
      Promise.resolve({
        transport: "tcp",
        hostname: "127.0.0.1",
        port: Number(b.PORT),
      }),
    (
      b,
    ) => ["replay", "-t", DNSTAP, "-a", b.HOST!, "-p", b.PORT!, "-r", b.FILE!],
  ),
  "fstrm replay -t TYPE -a HOST -p PORT --tls --tls-ca CA -r FILE": toReceiver(
    tlsListen,
    (b) => [
      "replay",
      "-t",
      DNSTAP,
      "-a",
      b.HOST!,
      "-p",
      b.PORT!,
      "--tls",
      "--tls-ca",
      b.CA!,
      "-r",
      b.FILE!,
    ],
  ),
  "fstrm replay -t TYPE -p PORT --tls --tls-ca CA --tls-hostname NAME -r FILE":
    toReceiver(tlsListen, (b) => [
      "replay",
      "-t",
      DNSTAP,
      "-p",
      b.PORT!,
      "--tls",
      "--tls-ca",
      b.CA!,
      "--tls-hostname",
      b.NAME!,
      "-r",
      b.FILE!,
    ]),
  "fstrm replay -t TYPE -a HOST -p PORT --tls --tls-ca CA --tls-cert CERT --tls-key KEY -r FILE":
    toReceiver(tlsListen, (b) => [
      "replay",
      "-t",
      DNSTAP,
      "-a",
      b.HOST!,
      "-p",
      b.PORT!,
      "--tls",
      "--tls-ca",
      b.CA!,
      "--tls-cert",
      b.CERT!,
      "--tls-key",
      b.KEY!,
      "-r",
      b.FILE!,
    ]),
};

permissionTests(CLI_PERMISSIONS, SCENARIOS, { messages: true });

Deno.test("docs/cli.md shows the permission table of tests/_permissions.ts verbatim", async () => {
  const text = await Deno.readTextFile(`${ROOT}/docs/cli.md`);
  const section = text.split("\n## Permissions\n")[1]?.split("\n## ")[0];
  assert(section !== undefined, "no ## Permissions in docs/cli.md");
  const table = section.split("\n").filter((l) => l.startsWith("|"));
  const shown = table.slice(2).map(cells);
  const want = CLI_PERMISSIONS.map((row) => cells(markdownRow(row)));
  assert.deepEqual(shown, want);
  assert.deepEqual(cells(table[0]!), ["command", "flags", "note"]);
});

Deno.test("deno task fstrm grants each kind of flag the commands need, no other", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const task = (tasks.fstrm as string).split(" ").filter((w) =>
    w.startsWith("--")
  );
  // Each kind unscoped (the paths and hosts are the user's), but env: the
  // variables are ours.
  const needed = new Set<string>();
  for (const row of CLI_PERMISSIONS) {
    for (const flag of row.flags) {
      needed.add(flag.startsWith("--allow-env=") ? flag : flag.split("=")[0]!);
    }
  }
  assert.deepEqual(task.toSorted(), [...needed].sort());
  assert.deepEqual(PERMISSIONS.toSorted(), task.toSorted());
});

Deno.test("deno task demo fails without any one of its flags", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const flags = (tasks.demo as string).split(" ").filter((w) =>
    w.startsWith("--")
  );
  assert(flags.length > 0);
  for (const { name, flags: fewer } of variants(flags)) {
    const tmp = await Deno.makeTempDir({ prefix: "fstrm-perm-demo-" });
    try {
      const run = await spawnWith(
        ["run", ...fewer, `${ROOT}/demo.ts`],
        undefined,
        { TMPDIR: tmp },
      ).done;
      assert(
        run.code !== 0 && DENIED.test(run.stderr),
        `${name}: exit ${run.code}\n${run.stderr}`,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
});
