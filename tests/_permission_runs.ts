// The runner of the permission tests (tests/cli_permissions_test.ts,
// tests/api_permissions_test.ts): each row of tests/_permissions.ts is run
// as a subprocess with exactly its flags, in a temp dir of its own, with the
// placeholders (FILE, SOCK, PORT, …) bound to real paths and ports; then
// once per flag, and once per path or host of a flag, with that one taken
// away. The runs go a few at a time; each row's Deno.test waits for its
// own.
import assert from "node:assert/strict";
import { CLI, DNSTAP } from "./_cli.ts";
import { selfSignedCert } from "./_tls.ts";
import { delay } from "./_support.ts";
import { freePort } from "./_frame_writer.ts";
import type { PermissionRow } from "./_permissions.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { FrameReceiver, type ListenTarget } from "../src/frame_receiver.ts";
import type { ConnectTarget } from "../src/frame_writer.ts";

/** The repository's root directory. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(
  /\/$/,
  "",
);
/** The input file: unbound's dnstap capture (489 messages). */
export const INPUT: string = `${ROOT}/tests/data/dnstap/unbound.fstrm`;
/** Its bytes (FILE is a copy; stdin gets them). */
export const INPUT_BYTES: Uint8Array = Deno.readFileSync(INPUT);
/** Its data frames' payloads. */
export const PAYLOADS: Uint8Array[] = decodeFrames(INPUT_BYTES).flatMap((f) =>
  f.kind === "data" ? [f.data.slice()] : []
);
/** The payloads the socket rows send (a few: the flags are the point). */
export const SENT: Uint8Array[] = PAYLOADS.slice(0, 20);
/** What Deno says when a permission is missing (or ours, which cites it). */
export const DENIED: RegExp =
  /[Rr]equires (read|write|net|env|ffi|sys|run|all) access|NotCapable|Deno has no permission|needs --allow-ffi/;
/** Runs at once. */
const CONCURRENCY = 4;
/** UTF-8 text of bytes. */
export const dec: TextDecoder = new TextDecoder();

/** The values of the placeholders in one run, in its own temp dir. */
export type Bindings = Record<string, string>;

/** What one run came to. */
export interface Outcome {
  code: number;
  stderr: string;
  /** Whether the command did its whole job (output checked). */
  ok: boolean;
}

/** One run of a row: the filled-in flags and the bindings, its outcome. */
export type Scenario = (flags: string[], b: Bindings) => Promise<Outcome>;

// ---------------------------------------------------------------------------
// Running `fstrm`

export interface Child {
  child: Deno.ChildProcess;
  stderr: () => string;
  done: Promise<{ code: number; stdout: Uint8Array; stderr: string }>;
}

export function spawn(
  flags: string[],
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Child {
  return spawnWith(["run", ...flags, CLI, ...args], options.stdin, options.env);
}

/** Runs `deno denoArgs`, its stderr gathered as it comes. */
export function spawnWith(
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
export function once(
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
export function served(
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
export async function send(target: ConnectTarget): Promise<void> {
  const writer = await FrameWriter.connect(target, {
    contentTypes: [DNSTAP],
    signal: AbortSignal.timeout(10_000),
  });
  for (const p of SENT) await writer.write(p);
  await writer.close();
}

export function unixPeer(b: Bindings): Promise<void> {
  return send({ transport: "unix", path: b.SOCK! });
}

export function tcpPeer(_b: Bindings, listening: string): Promise<void> {
  const port = Number(listening.match(/:(\d+)$/)![1]);
  return send({ transport: "tcp", hostname: "127.0.0.1", port });
}

export function dataFrames(bytes: Uint8Array): number {
  return decodeFrames(bytes).filter((f) => f.kind === "data").length;
}

export function lines(bytes: Uint8Array): number {
  return dec.decode(bytes).split("\n").length - 1;
}

/**
 * Runs a client command against a FrameReceiver of this process; ok when
 * every frame of INPUT arrived.
 */
export function toReceiver(
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

/** The files in `dir`, sorted. */
export function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) =>
    `${dir}/${e.name}`
  ).sort();
}

// ---------------------------------------------------------------------------
// Placeholders and variants

/**
 * The zone ZONE copies (TZ names it by path: where the engine's zone differs
 * from Go's).
 */
const ZONE = "/usr/share/zoneinfo/America/New_York";

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
    // Ours, from the directory we made (Deno.uid() needs --allow-sys, which
    // `deno task test` does not give).
    USER: nameOf("/etc/passwd", Deno.statSync(dir).uid!),
    GROUP: nameOf("/etc/group", Deno.statSync(dir).gid!),
  };
  Deno.writeFileSync(b.FILE!, INPUT_BYTES);
  Deno.mkdirSync(b.DIR!);
  Deno.copyFileSync(ZONE, b.ZONE!);
  if (/CERT|CA/.test(row.command)) {
    tls ??= selfSignedCert(tlsDir);
    await tls;
    b.CERT = `${tlsDir}/cert.pem`;
    b.KEY = `${tlsDir}/key.pem`;
    // The same certificate as a file of its own, so that CA and CERT are
    // two paths of one flag.
    b.CA = `${dir}/ca.pem`;
    Deno.copyFileSync(b.CERT, b.CA);
    b.NAME = "localhost"; // the certificate names it (and 127.0.0.1)
  }
  return b;
}

/** `flags` with each placeholder replaced by its binding. */
export function fill(flags: string[], b: Bindings): string[] {
  return flags.map((f) => f.replace(/\b[A-Z]+\b/g, (name) => b[name] ?? name));
}

/** The row's flags with one flag, or one item of one, taken away. */
export function variants(flags: readonly string[]): Variant[] {
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
export interface Variant {
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
  scenario: Scenario,
): Promise<Result> {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-perm-" });
  try {
    const b = await bindings(dir, row);
    const filled = fill(variant.flags, b);
    const outcome = await scenario(filled, b);
    return { variant, flags: filled, outcome };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts all runs of `rows`, a few at a time; each row's results. */
function start(
  rows: readonly PermissionRow[],
  scenarios: Record<string, Scenario>,
): Map<PermissionRow, Promise<Result[]>> {
  const queue: (() => Promise<void>)[] = [];
  const map = new Map<PermissionRow, Promise<Result[]>>();
  for (const row of rows) {
    const scenario = scenarios[row.command]!;
    const jobs = [
      { name: "as documented", flags: [...row.flags] },
      ...variants(row.flags),
    ].map((variant) =>
      new Promise<Result>((resolve, reject) => {
        queue.push(() =>
          runVariant(row, variant, scenario).then(resolve, reject)
        );
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

/** Lines of a crash rather than a message: an uncaught error, a stack. */
const CRASH = /Uncaught|^\s+at /m;

/**
 * One Deno.test per row: with its flags it works (the scenario's check);
 * without any one flag, path or host it fails with Deno's permission error
 * and a non-zero exit, or shows the row's documented fallback. With
 * `messages` (the CLI), stderr must hold messages, never a crash.
 */
export function permissionTests(
  rows: readonly PermissionRow[],
  scenarios: Record<string, Scenario>,
  { messages = false }: { messages?: boolean } = {},
): void {
  let all: Map<PermissionRow, Promise<Result[]>> | undefined;
  for (const row of rows) {
    Deno.test({
      name: `${row.command}: works with ${
        row.flags.join(" ") || "no flags"
      }, fails without any one of them`,
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        assert(scenarios[row.command], `no scenario for ${row.command}`);
        all ??= start(rows, scenarios);
        const [documented, ...dropped] = await all.get(row)!;
        const o = documented!.outcome;
        assert(
          o.code === 0 && o.ok,
          `with ${
            documented!.flags.join(" ")
          }: exit ${o.code}, ok ${o.ok}\n${o.stderr}`,
        );
        for (const r of [documented!, ...dropped]) {
          const e = r.outcome.stderr;
          assert(
            !messages || !CRASH.test(e),
            `${r.variant.name}: a crash\n${e}`,
          );
        }
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
}

globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(tlsDir, { recursive: true });
  } catch {
    // gone
  }
});
