// Shared by the CLI tests: where the command is, how it is run (to its end,
// or as a running `fstrm capture` read line by line), the payloads the
// tests send, and how files and collectors are read back.
import assert from "node:assert/strict";
import { rng, waitFor } from "./_support.ts";
import { encodeFrameStream } from "../src/encode.ts";
import { openFrameReader } from "../src/file.ts";
import {
  type ConnectionEvent,
  FrameReceiver,
  type ListenTarget,
} from "../src/frame_receiver.ts";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";

/** The `fstrm` command's entry point. */
export const CLI: string = new URL("../cli.ts", import.meta.url).pathname;

/** The permissions of `deno task fstrm` (deno.json; a test checks). */
export const PERMISSIONS: string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env=TZ",
  "--allow-ffi",
];

/** The content type the tests use. */
export const DNSTAP = "protobuf:dnstap.Dnstap";

const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Running commands

/** A command run to its end, its output as bytes. */
export interface RawRun {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** A command run to its end, its output as UTF-8 text. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args` to its end; stdin from `input` if given, fed while the
 * output is collected (the child may fill its stdout pipe before it has
 * read all of its input).
 */
export async function execRaw(
  cmd: string,
  args: string[],
  input?: Uint8Array,
): Promise<RawRun> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const feeding = input === undefined ? Promise.resolve() : (async () => {
    const w = child.stdin.getWriter();
    try {
      await w.write(input);
      await w.close();
    } catch {
      // The child stopped reading (it failed early): its output says why.
    }
  })();
  const { code, stdout, stderr } = await child.output();
  await feeding;
  return { code, stdout, stderr };
}

/** The arguments that run `fstrm ...args` with `permissions`. */
export function fstrmArgs(
  args: string[],
  permissions: string[] = PERMISSIONS,
): string[] {
  return ["run", ...permissions, CLI, ...args];
}

/** Options of {@linkcode fstrm}. */
export interface FstrmOptions {
  /** Standard input's bytes; none: stdin is closed. */
  input?: Uint8Array;
  /** Deno's permissions. @default {PERMISSIONS} */
  permissions?: string[];
}

/** Runs `fstrm ...args` to its end as a subprocess; its output as text. */
export async function fstrm(
  args: string[],
  options: FstrmOptions = {},
): Promise<Run> {
  const { code, stdout, stderr } = await execRaw(
    Deno.execPath(),
    fstrmArgs(args, options.permissions),
    options.input,
  );
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

/** Starts `fstrm ...args`; stderr collected, stdout dropped. */
export function spawnFstrm(args: string[]): {
  child: Deno.ChildProcess;
  result: Promise<{ code: number; stderr: string }>;
} {
  const child = new Deno.Command(Deno.execPath(), {
    args: fstrmArgs(args),
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

/** Whether openssl runs (the TLS cases need it; CI installs it). */
export async function hasOpenssl(): Promise<boolean> {
  try {
    await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
      .output();
    return true;
  } catch {
    if (Deno.env.get("CI")) throw new Error("openssl is missing");
    return false;
  }
}

/** Waits until a Unix socket exists at `path`. */
export async function socketAt(path: string): Promise<void> {
  await waitFor(() => {
    try {
      return Deno.lstatSync(path).isSocket === true;
    } catch {
      return false;
    }
  }, `a socket at ${path}`);
}

// ---------------------------------------------------------------------------
// A running `fstrm capture`

/** Lines a crash would print: a stack frame, an uncaught error. */
const CRASH = /^\s+at |Uncaught|panicked|RUST_BACKTRACE/;
/** What Deno prints when SIGUSR1 starts its inspector. */
export const INSPECTOR_OPENED: RegExp =
  /^(Debugger listening on ws:\/\/127\.0\.0\.1:9229\/[-0-9a-f]+|Visit chrome:\/\/inspect to connect to the debugger\.)$/;
/**
 * What Deno prints when SIGUSR1 cannot start its inspector: the capture's
 * guard (src/cli/_sigusr1_guard.ts) denies the bind.
 */
export const INSPECTOR_REFUSED: RegExp =
  /^Failed to start inspector server: Failed to start inspector server at "127\.0\.0\.1:9229"$/;

/** Captures running, to be killed if a test fails before they end. */
const running = new Set<Capture>();

/** Kills (SIGKILL) the captures still running and waits for them. */
export async function killCaptures(): Promise<void> {
  for (const capture of running) {
    capture.signal("SIGKILL");
    await capture.status();
  }
}

/** What becomes of a capture's stdout: kept, left to the caller, dropped. */
export type CaptureStdout = "piped" | "stream" | "null";

/** A running `fstrm capture`, its stderr read line by line as it comes. */
export class Capture {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  /** Its stdout, whole, once it exits (empty unless `stdout` is "piped"). */
  readonly stdout: Promise<Uint8Array>;
  readonly #stderrDone: Promise<void>;

  /**
   * Starts `fstrm capture ...args`.
   *
   * @param args The arguments after `capture`.
   * @param stdout "piped" to keep stdout (`stdout`), "stream" to leave
   * `child.stdout` to the caller, "null" to drop it.
   * @param command The program that runs `fstrm` and its first arguments
   * (default: `deno run` with {@linkcode PERMISSIONS} and cli.ts).
   */
  constructor(
    args: string[],
    stdout: CaptureStdout = "null",
    command: readonly string[] = [Deno.execPath(), ...fstrmArgs([])],
  ) {
    const [program, ...first] = command;
    const child = new Deno.Command(program!, {
      args: [...first, "capture", ...args],
      stdin: "null",
      stdout: stdout === "null" ? "null" : "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    running.add(this);
    void child.status.then(() => running.delete(this));
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

  /**
   * Starts one of content type {@linkcode DNSTAP} on a Unix socket in
   * `dir`; resolves once it listens.
   */
  static async unix(
    dir: string,
    args: string[],
    stdout: CaptureStdout = "null",
  ): Promise<{ capture: Capture; path: string }> {
    const path = `${dir}/dnstap.sock`;
    const capture = new Capture(["-t", DNSTAP, "-u", path, ...args], stdout);
    await capture.line(/listening on unix socket/);
    return { capture, path };
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

  /** Sends `signal` (nothing if it has exited). */
  signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch {
      // exited already
    }
  }

  /** Stops it with SIGTERM; the exit code, with stderr fully read. */
  async stop(): Promise<number> {
    this.signal("SIGTERM");
    return await this.exited();
  }

  /** The exit code, with stderr read to its end. */
  async exited(): Promise<number> {
    return (await this.status()).code;
  }

  /** The exit status (code and signal), with stderr read to its end. */
  async status(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#stderrDone;
    return status;
  }

  /**
   * Asserts nothing on stderr looks like a crash, and V8's inspector never
   * opened: every line is one of ours. (Deno 2.9.2 and later try to start
   * the V8 inspector on SIGUSR1, on 127.0.0.1:9229, once the process is
   * 500 ms old; the capture's guard makes that fail, and Deno says so in a
   * line that is let through: it is not ours.)
   */
  assertNoCrash(): void {
    const bad = this.lines.filter((l) => CRASH.test(l));
    assert.deepEqual(bad, [], "a crash on stderr");
    for (const l of this.lines) {
      assert.doesNotMatch(l, INSPECTOR_OPENED, "V8's inspector opened");
      if (INSPECTOR_REFUSED.test(l)) continue;
      assert.match(l, /^fstrm capture: /);
    }
  }
}

// ---------------------------------------------------------------------------
// Frames sent and read back

/** Options of {@linkcode makePayloads}. */
export interface PayloadOptions {
  /** The first payload's index. @default {0} */
  from?: number;
  /** The fifth byte of every payload, to tell senders apart. @default {0} */
  tag?: number;
}

/**
 * `count` payloads of 80 to 400 bytes: the index (u32 BE) first, then the
 * tag, then bytes drawn from `seed`.
 */
export function makePayloads(
  count: number,
  seed: number,
  { from = 0, tag = 0 }: PayloadOptions = {},
): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(80 + (r() % 321));
    new DataView(p.buffer).setUint32(0, from + i);
    p[4] = tag;
    for (let j = 5; j < p.length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  return out;
}

/** A payload's index (see {@linkcode makePayloads}). */
export function indexOf(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0);
}

/** Asserts `actual` holds exactly `expected`, in order. */
export function assertFrames(
  actual: Uint8Array[],
  expected: Uint8Array[],
): void {
  assert.equal(actual.length, expected.length, "frame count");
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(actual[i], expected[i], `frame ${i}`);
  }
}

/** Writes a Frame Streams file of `payloads`; its path. */
export async function writeStream(
  path: string,
  payloads: Uint8Array[],
  contentType: string | null = DNSTAP,
): Promise<string> {
  await Deno.writeFile(path, encodeFrameStream(payloads, { contentType }));
  return path;
}

/** A file's data frames (copies), content type, and whether STOP ends it. */
export async function readFile(
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
    contentType: summary.contentTypeBytes === null
      ? null
      : dec.decode(summary.contentTypeBytes),
    stopped: summary.stopped,
  };
}

/** Connects a writer and sends `payloads`, then closes (STOP, FINISH). */
export async function sendAll(
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
  assert.equal(writer.stats.frames, payloads.length);
}

/** A FrameReceiver that keeps every frame (copied) and every event. */
export async function collector(
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

/** The "closed" events among `events`. */
export function closed(events: ConnectionEvent[]): ConnectionEvent[] {
  return events.filter((e) => e.type === "closed");
}
