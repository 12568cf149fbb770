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
import { CLI, DNSTAP, PERMISSIONS } from "./_cli.ts";
import { selfSignedCert } from "./_tls.ts";
import { delay } from "./_support.ts";
import { freePort } from "./_frame_writer.ts";
import {
  API_PERMISSIONS,
  cells,
  CLI_PERMISSIONS,
  markdownRow,
  type PermissionRow,
} from "./_permissions.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { FrameReceiver, type ListenTarget } from "../src/frame_receiver.ts";
import type { ConnectTarget } from "../src/frame_writer.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const INPUT = `${ROOT}/tests/data/dnstap/unbound.fstrm`;
const INPUT_BYTES = Deno.readFileSync(INPUT);
const PAYLOADS = decodeFrames(INPUT_BYTES).flatMap((f) =>
  f.kind === "data" ? [f.data.slice()] : []
);
/** The payloads the socket rows send (a few: the flags are the point). */
const SENT = PAYLOADS.slice(0, 20);
/** What Deno says when a permission is missing (or ours, which cites it). */
const DENIED =
  /[Rr]equires (read|write|net|env|ffi|sys|run|all) access|NotCapable|Deno has no permission|needs --allow-ffi/;
/** Runs at once. */
const CONCURRENCY = 4;
const dec = new TextDecoder();

/** The values of the placeholders in one run, in its own temp dir. */
type Bindings = Record<string, string>;

/** What one run came to. */
interface Outcome {
  code: number;
  stderr: string;
  /** Whether the command did its whole job (output checked). */
  ok: boolean;
}

/** One run of a row: the filled-in flags and the bindings, its outcome. */
type Scenario = (flags: string[], b: Bindings) => Promise<Outcome>;

// ---------------------------------------------------------------------------
// Running `fstrm`

interface Child {
  child: Deno.ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number; stdout: Uint8Array; stderr: string }>;
}

function spawn(
  flags: string[],
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Child {
  return spawnWith(["run", ...flags, CLI, ...args], options.stdin, options.env);
}

/** Runs `deno denoArgs`, its stderr gathered as it comes. */
function spawnWith(
  denoArgs: string[],
  input?: Uint8Array,
  env: Record<string, string> = {},
): Child {
  const options = { stdin: input };
  const child = new Deno.Command(Deno.execPath(), {
    args: denoArgs,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1", ...env },
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    w.write(options.stdin).then(() => w.close()).catch(() => {});
  }
  let err = "";
  const errDone = (async () => {
    for await (const s of child.stderr.pipeThrough(new TextDecoderStream())) {
      err += s;
    }
  })();
  const outDone = new Response(child.stdout).bytes();
  const done = (async () => {
    const { code } = await child.status;
    await errDone;
    return { code, stdout: await outDone, stderr: err };
  })();
  return { child, stderr: () => err, done };
}

/** Runs to the end; `check` judges stdout and the files. */
function once(
  args: (b: Bindings) => string[],
  check: (
    stdout: Uint8Array,
    b: Bindings,
    stderr: string,
  ) => boolean | Promise<boolean>,
  options: { stdin?: boolean; env?: (b: Bindings) => Record<string, string> } =
    {},
): Scenario {
  return async (flags, b) => {
    const run = spawn(flags, args(b), {
      ...(options.stdin ? { stdin: INPUT_BYTES } : {}),
      ...(options.env ? { env: options.env(b) } : {}),
    });
    const { code, stdout, stderr } = await run.done;
    let ok = false;
    if (code === 0) {
      try {
        ok = await check(stdout, b, stderr);
      } catch {
        ok = false;
      }
    }
    return { code, stderr, ok };
  };
}

/**
 * Starts a server command, waits for its "listening" line (or its end),
 * runs `peer`, stops it with SIGTERM; `check` judges the rest.
 */
function served(
  args: (b: Bindings) => string[],
  peer: (
    b: Bindings,
    listening: string,
    child: Deno.ChildProcess,
  ) => Promise<void>,
  check: (stdout: Uint8Array, b: Bindings) => boolean,
): Scenario {
  return async (flags, b) => {
    const run = spawn(flags, args(b));
    let exited = false;
    void run.done.then(() => exited = true);
    let line: string | undefined;
    for (let i = 0; i < 3000 && !exited && line === undefined; i++) {
      line = run.stderr().match(/listening on [^\n]*/)?.[0];
      if (line === undefined) await delay(5);
    }
    let peerOk = false;
    if (line !== undefined && !exited) {
      try {
        await peer(b, line, run.child);
        peerOk = true;
      } catch {
        // judged below: the run failed
      }
    }
    try {
      run.child.kill("SIGTERM");
    } catch {
      // exited already
    }
    const { code, stdout, stderr } = await run.done;
    let ok = false;
    if (code === 0 && peerOk) {
      try {
        ok = check(stdout, b);
      } catch {
        ok = false;
      }
    }
    return { code, stderr, ok };
  };
}

/** Sends SENT with a FrameWriter (bidirectional) and closes it. */
async function send(target: ConnectTarget): Promise<void> {
  const writer = await FrameWriter.connect(target, {
    contentTypes: [DNSTAP],
    signal: AbortSignal.timeout(10_000),
  });
  for (const p of SENT) await writer.write(p);
  await writer.close();
}

function unixPeer(b: Bindings): Promise<void> {
  return send({ transport: "unix", path: b.SOCK! });
}

function tcpPeer(_b: Bindings, listening: string): Promise<void> {
  const port = Number(listening.match(/:(\d+)$/)![1]);
  return send({ transport: "tcp", hostname: "127.0.0.1", port });
}

function dataFrames(bytes: Uint8Array): number {
  return decodeFrames(bytes).filter((f) => f.kind === "data").length;
}

function lines(bytes: Uint8Array): number {
  return dec.decode(bytes).split("\n").length - 1;
}

/**
 * Runs a client command against a FrameReceiver of this process; ok when
 * every frame of INPUT arrived.
 */
function toReceiver(
  target: (b: Bindings) => Promise<ListenTarget>,
  args: (b: Bindings) => string[],
  stdin = false,
): Scenario {
  return async (flags, b) => {
    let frames = 0;
    await using _receiver = await FrameReceiver.listen(await target(b), {
      onData: () => void frames++,
    });
    const run = spawn(flags, args(b), stdin ? { stdin: INPUT_BYTES } : {});
    const { code, stderr } = await run.done;
    for (let i = 0; i < 200 && frames < PAYLOADS.length && code === 0; i++) {
      await delay(10);
    }
    return { code, stderr, ok: frames === PAYLOADS.length };
  };
}

// ---------------------------------------------------------------------------
// The scenarios, one per row

const expected = new Map<string, Promise<string>>();

/** The output of `fstrm args` with every permission (what a row must print). */
function reference(
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  const key = JSON.stringify([args, env]);
  if (!expected.has(key)) {
    expected.set(
      key,
      spawn(["-A"], args, { env }).done.then((r) => {
        assert.equal(r.code, 0, r.stderr);
        return dec.decode(r.stdout);
      }),
    );
  }
  return expected.get(key)!;
}

const TZ_ARGS = (b: Bindings) => ["dnstap", "-r", b.FILE!, "-q"];
/** A zone read by path: where the engine's zone differs from Go's. */
const ZONE = "/usr/share/zoneinfo/America/New_York";

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
  "fstrm top -r FILE": once(
    (b) => ["top", "-r", b.FILE!],
    (out) => dec.decode(out).includes(": 489 messages, 245 queries"),
  ),
  "fstrm top -r -": once(
    () => ["top", "-r", "-"],
    (out) => dec.decode(out).includes(": 489 messages, 245 queries"),
    { stdin: true },
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
      assert.equal(info.uid, Deno.uid());
      assert.equal(info.gid, Deno.gid());
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
    async (b) => ({
      transport: "tls",
      hostname: "127.0.0.1",
      port: Number(b.PORT),
      cert: await Deno.readTextFile(b.CERT!),
      key: await Deno.readTextFile(b.KEY!),
    }),
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
};

// ---------------------------------------------------------------------------
// The APIs: a tiny program each, run with exactly the row's flags

const SRC = (path: string) => JSON.stringify(`${ROOT}/${path}`);

function spawnProgram(
  flags: string[],
  path: string,
  args: string[],
  stdin: boolean,
): Child {
  return spawnWith(
    ["run", ...flags, path, ...args],
    stdin ? INPUT_BYTES : undefined,
  );
}

/** Runs a program to its end; ok when its stdout is `want`. */
function api(
  code: string,
  want: string,
  options: { args?: (b: Bindings) => string[]; stdin?: boolean } = {},
): Scenario {
  return async (flags, b) => {
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(
      flags,
      b.PROG!,
      options.args?.(b) ?? [],
      options.stdin ?? false,
    );
    const { code: exit, stdout, stderr } = await run.done;
    return {
      code: exit,
      stderr,
      ok: exit === 0 && dec.decode(stdout) === want,
    };
  };
}

/** Starts a program that listens; sends SENT to it; ok when it got them. */
function apiServer(
  code: string,
  target: (b: Bindings) => ConnectTarget,
): Scenario {
  return async (flags, b) => {
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(flags, b.PROG!, [b.SOCK!, b.PORT!], false);
    let exited = false;
    void run.done.then(() => exited = true);
    for (
      let i = 0;
      i < 3000 && !exited && !run.stderr().includes("listening");
      i++
    ) {
      await delay(5);
    }
    if (!exited) await send(target(b)).catch(() => {});
    const { code: exit, stdout, stderr } = await run.done;
    return {
      code: exit,
      stderr,
      ok: exit === 0 && dec.decode(stdout) === `${SENT.length}\n`,
    };
  };
}

/** Runs a writer program against a FrameReceiver here; ok when SENT came. */
function apiClient(
  code: string,
  target: (b: Bindings) => ListenTarget,
): Scenario {
  return async (flags, b) => {
    let frames = 0;
    await using _receiver = await FrameReceiver.listen(target(b), {
      onData: () => void frames++,
    });
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(flags, b.PROG!, [b.SOCK!, b.PORT!], true);
    const { code: exit, stderr } = await run.done;
    for (let i = 0; i < 200 && frames < SENT.length && exit === 0; i++) {
      await delay(10);
    }
    return { code: exit, stderr, ok: frames === SENT.length };
  };
}

const RECEIVER = (target: string) => `
import { FrameReceiver } from ${SRC("src/frame_receiver.ts")};
const [sock, port] = Deno.args;
const receiver = await FrameReceiver.listen(${target});
console.error("listening");
let n = 0;
for await (const _ of receiver) if (++n === ${SENT.length}) break;
await receiver.close();
console.log(n);
`;

const WRITER = (target: string) => `
import { FrameWriter } from ${SRC("src/frame_writer.ts")};
import { decodeFrames } from ${SRC("mod.ts")};
const [sock, port] = Deno.args;
const bytes = await new Response(Deno.stdin.readable).bytes();
const writer = await FrameWriter.connect(${target}, {
  contentTypes: ["protobuf:dnstap.Dnstap"],
});
let n = 0;
for (const f of decodeFrames(bytes)) {
  if (f.kind === "data" && n++ < ${SENT.length}) await writer.write(f.data);
}
await writer.close();
`;

const API_SCENARIOS: Record<string, Scenario> = {
  "@fstrm/fstrm, /dnstap, /dns, /dnstap-scan": api(
    `
import { decodeFrames } from ${SRC("mod.ts")};
import { decodeDnstap, formatDnstapQuiet } from ${SRC("src/dnstap.ts")};
import { parseDnsMessage } from ${SRC("src/dns.ts")};
import { forEachDnstapBatch } from ${SRC("src/dnstap_scan.ts")};
const bytes = await new Response(Deno.stdin.readable).bytes();
let parsed = 0, lines = 0, scanned = 0;
for (const f of decodeFrames(bytes)) {
  if (f.kind !== "data") continue;
  const d = decodeDnstap(f.data);
  const m = d.message?.queryMessage ?? d.message?.responseMessage;
  if (m !== undefined) parsed += parseDnsMessage(m).questions.length;
  if (formatDnstapQuiet(d) !== null) lines++;
}
const summary = await forEachDnstapBatch(
  ReadableStream.from([bytes]),
  (_columns, count) => void (scanned += count),
  { engine: "wasm" },
);
console.log(parsed, lines, scanned, summary.engine);
`,
    "489 489 489 wasm\n",
    { stdin: true },
  ),
  "openFrameReader(FILE)": api(
    `
import { openFrameReader } from ${SRC("src/file.ts")};
await using reader = await openFrameReader(Deno.args[0]!);
console.log((await reader.forEachFrame(() => {})).frames);
`,
    "489\n",
    { args: (b) => [b.FILE!] },
  ),
  'FrameReceiver.listen({ transport: "unix", path: SOCK })': apiServer(
    RECEIVER('{ transport: "unix", path: sock! }'),
    (b) => ({ transport: "unix", path: b.SOCK! }),
  ),
  'FrameReceiver.listen({ transport: "tcp", port: PORT })': apiServer(
    RECEIVER('{ transport: "tcp", port: Number(port) }'),
    (b) => ({ transport: "tcp", hostname: "127.0.0.1", port: Number(b.PORT) }),
  ),
  'FrameWriter.connect({ transport: "unix", path: SOCK })': apiClient(
    WRITER('{ transport: "unix", path: sock! }'),
    (b) => ({ transport: "unix", path: b.SOCK! }),
  ),
  'FrameWriter.connect({ transport: "tcp", hostname: HOST, port: PORT })':
    apiClient(
      WRITER('{ transport: "tcp", hostname: "127.0.0.1", port: Number(port) }'),
      (b) => ({
        transport: "tcp",
        hostname: "127.0.0.1",
        port: Number(b.PORT),
      }),
    ),
};

/** The files in `dir`, sorted. */
function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) =>
    `${dir}/${e.name}`
  ).sort();
}

// ---------------------------------------------------------------------------
// Placeholders and variants

/** The name of a uid or gid in /etc/passwd or /etc/group. */
function nameOf(file: string, id: number): string {
  const line = Deno.readTextFileSync(file).split("\n").find((l) =>
    l.split(":")[2] === String(id)
  );
  assert(line !== undefined, `no name for ${id} in ${file}`);
  return line.split(":")[0]!;
}

let tls: Promise<{ cert: string; key: string }> | undefined;
const tlsDir = Deno.makeTempDirSync({ prefix: "fstrm-perm-tls-" });

/** Fresh bindings in `dir`. */
async function bindings(dir: string, row: PermissionRow): Promise<Bindings> {
  const b: Bindings = {
    FILE: `${dir}/in.fstrm`,
    OUT: `${dir}/out.fstrm`,
    SOCK: `${dir}/s.sock`,
    DIR: `${dir}/out`,
    HOST: "127.0.0.1",
    PORT: String(freePort()),
    SRC: `${ROOT}/src`,
    PROG: `${dir}/program.ts`,
    ZONE: `${dir}/zone`,
    USER: nameOf("/etc/passwd", Deno.uid()!),
    GROUP: nameOf("/etc/group", Deno.gid()!),
  };
  Deno.writeFileSync(b.FILE!, INPUT_BYTES);
  Deno.mkdirSync(b.DIR!);
  Deno.copyFileSync(ZONE, b.ZONE!);
  if (/CERT|CA/.test(row.command)) {
    tls ??= selfSignedCert(tlsDir);
    await tls;
    b.CERT = b.CA = `${tlsDir}/cert.pem`;
    b.KEY = `${tlsDir}/key.pem`;
  }
  return b;
}

/** `flags` with each placeholder replaced by its binding. */
function fill(flags: string[], b: Bindings): string[] {
  return flags.map((f) => f.replace(/\b[A-Z]+\b/g, (name) => b[name] ?? name));
}

/** The row's flags with one flag, or one item of one, taken away. */
function variants(flags: readonly string[]): Variant[] {
  const out: Variant[] = [];
  flags.forEach((flag, i) => {
    const rest = flags.filter((_, j) => j !== i);
    out.push({ name: `without ${flag}`, removed: flag, flags: rest });
    const [name, list] = flag.split("=");
    const items = list?.split(",") ?? [];
    if (items.length < 2) return;
    for (const item of items) {
      const kept = items.filter((x) => x !== item).join(",");
      out.push({
        name: `${name} without ${item}`,
        removed: item,
        flags: [...rest.slice(0, i), `${name}=${kept}`, ...rest.slice(i)],
      });
    }
  });
  return out;
}

/** The flags of one run; `removed`: what was taken away. */
interface Variant {
  name: string;
  removed?: string;
  flags: string[];
}

interface Result {
  variant: Variant;
  flags: string[];
  outcome: Outcome;
}

async function runVariant(
  row: PermissionRow,
  variant: Variant,
): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-perm-" });
  try {
    const b = await bindings(dir, row);
    const filled = fill(variant.flags, b);
    const outcome = await (SCENARIOS[row.command] ??
      API_SCENARIOS[row.command])!(filled, b);
    return { variant, flags: filled, outcome };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// All runs, a few at a time, started by the first test.
let all: Map<PermissionRow, Promise<Result[]>> | undefined;

function start(): Map<PermissionRow, Promise<Result[]>> {
  const queue: (() => Promise<void>)[] = [];
  const map = new Map<PermissionRow, Promise<Result[]>>();
  for (const row of [...CLI_PERMISSIONS, ...API_PERMISSIONS]) {
    const jobs = [
      { name: "as documented", flags: [...row.flags] },
      ...variants(row.flags),
    ].map((variant) =>
      new Promise<Result>((resolve, reject) => {
        queue.push(() => runVariant(row, variant).then(resolve, reject));
      })
    );
    map.set(row, Promise.all(jobs));
  }
  const worker = async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      await job().catch(() => {});
    }
  };
  for (let i = 0; i < CONCURRENCY; i++) void worker();
  return map;
}

for (const row of [...CLI_PERMISSIONS, ...API_PERMISSIONS]) {
  Deno.test({
    name: `${row.command}: works with ${
      row.flags.join(" ") || "no flags"
    }, fails without any one of them`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      assert(
        SCENARIOS[row.command] ?? API_SCENARIOS[row.command],
        `no scenario for ${row.command}`,
      );
      all ??= start();
      const [documented, ...dropped] = await all.get(row)!;
      const o = documented!.outcome;
      assert(
        o.code === 0 && o.ok,
        `with ${
          documented!.flags.join(" ")
        }: exit ${o.code}, ok ${o.ok}\n${o.stderr}`,
      );
      for (const r of dropped) {
        const d = r.outcome;
        if (row.fallback?.includes(r.variant.removed!)) {
          assert(
            d.code === 0 && !d.ok,
            `${r.variant.name}: should fall back (exit 0, other output): exit ${d.code}, ok ${d.ok}\n${d.stderr}`,
          );
        } else {
          assert(
            d.code !== 0 && DENIED.test(d.stderr),
            `${r.variant.name}: should fail with a permission error: exit ${d.code}, ok ${d.ok}\n${d.stderr}`,
          );
        }
      }
    },
  });
}

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

Deno.test("each API's module doc states the permissions of tests/_permissions.ts", async () => {
  for (const row of API_PERMISSIONS) {
    const want = row.flags.length === 0
      ? "Permissions: none"
      : `\`${row.flags.join(" ")}\``;
    for (const module of row.modules) {
      const text = await Deno.readTextFile(`${ROOT}/${module}`);
      const doc = text.split("@module")[0]!.replace(/\n \* ?/g, " ");
      assert(
        doc.includes("Permissions"),
        `${module}: no Permissions paragraph`,
      );
      assert(doc.includes(want), `${module}: does not say ${want}`);
    }
  }
});

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(tlsDir, { recursive: true });
  } catch {
    // gone
  }
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
