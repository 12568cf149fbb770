// `fstrm capture` under faults, run as a subprocess of cli.ts and fed by
// FrameWriters sending loadPayload frames (each names its writer and
// sequence number, and is checked byte for byte by a LoadLedger):
//
// - killed with SIGKILL mid-stream (several kill points, with and without
//   --max-size rotation): every file it leaves is read by `fstrm stats`
//   up to its last complete frame, reported as "no-stop" or "truncated"
//   (never an error), and holds intact frames that are, file after file, a
//   contiguous prefix of what each writer sent; `fstrm dump` says where a
//   file ends;
// - the next file cannot be opened at a rotation (its directory replaced
//   by a regular file, a name too long): one line each time, the frames go
//   on into the current file, the writer is served throughout;
// - the output cannot be written (/dev/full, a full tmpfs): one line, the
//   connections closed, every file cut back to its last whole frame and
//   closed with STOP, exit 1.
//
// The tests run as root (as CI does): permissions stop nothing, so the
// faults are made of things that fail for root too. Waits are for
// conditions, never for a time.
import assert from "node:assert/strict";
import { FrameDecoder } from "../src/frame_decoder.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import { TruncatedFrameError } from "../src/errors.ts";
import { LoadLedger, loadPayload } from "./_load.ts";
import { delay, waitFor, withTempDir } from "./_support.ts";

import { CLI, PERMISSIONS } from "./_cli.ts";

const DNSTAP = "protobuf:dnstap.Dnstap";
const dec = new TextDecoder();
/** START with DNSTAP: escape, length, type, field type, field length, the type. */
const START_LENGTH = 4 + 4 + 4 + 4 + 4 + DNSTAP.length;
/** Lines a crash would print: a stack frame, an uncaught error. */
const CRASH = /^\s+at |Uncaught|panicked|RUST_BACKTRACE/;
/** What Deno prints when SIGUSR1 starts its inspector. */
const INSPECTOR =
  /^(Debugger listening on ws:\/\/127\.0\.0\.1:9229\/[-0-9a-f]+|Visit chrome:\/\/inspect to connect to the debugger\.)$/;

// ---------------------------------------------------------------------------
// Helpers

/** Captures running, to be killed if a test fails before they end. */
const running = new Set<Capture>();

/** Runs `fn` with a fresh temp dir; kills the captures it leaves running. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    try {
      await fn(dir);
    } finally {
      for (const capture of running) {
        capture.signal("SIGKILL");
        await capture.exited();
      }
    }
  });
}

/** A running `fstrm capture`, its stderr read line by line as it comes. */
class Capture {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly #stderrDone: Promise<void>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMISSIONS, CLI, "capture", "-t", DNSTAP, ...args],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.child = child;
    running.add(this);
    void child.status.then(() => running.delete(this));
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

  /** Starts one on a Unix socket in `dir`; resolves once it listens. */
  static async unix(
    dir: string,
    args: string[],
  ): Promise<{ capture: Capture; path: string }> {
    const path = `${dir}/dnstap.sock`;
    const capture = new Capture(["-u", path, ...args]);
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

  signal(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch {
      // exited already
    }
  }

  /** The exit code (and signal), with stderr read to its end. */
  async exited(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#stderrDone;
    return status;
  }

  /**
   * Asserts nothing on stderr looks like a crash: every line is one of
   * ours. (Deno 2.9.2 and later also start the V8 inspector on SIGUSR1, on
   * 127.0.0.1:9229, once the process is 500 ms old, and say so in two
   * lines: those are let through, they are not ours.)
   */
  assertNoCrash(): void {
    const bad = this.lines.filter((l) => CRASH.test(l));
    assert.deepEqual(bad, [], "a crash on stderr");
    for (const l of this.lines) {
      if (INSPECTOR.test(l)) continue;
      assert.match(l, /^fstrm capture: /);
    }
  }
}

/**
 * `writers` FrameWriters, each sending `frames` loadPayload frames as fast
 * as the capture takes them, then closing. A lost connection ends a writer
 * (reconnect is off): its error is kept, not thrown.
 */
class Feed {
  readonly writers: FrameWriter[] = [];
  readonly errors: unknown[] = [];
  readonly done: Promise<void>;

  constructor(path: string, writers: number, frames: number) {
    this.done = Promise.all(
      Array.from({ length: writers }, (_, w) => this.#run(path, w, frames)),
    ).then(() => {});
  }

  async #run(path: string, w: number, frames: number): Promise<void> {
    let writer: FrameWriter | undefined;
    try {
      writer = await FrameWriter.connect({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
        reconnect: false,
      });
      this.writers.push(writer);
      for (let seq = 0; seq < frames; seq++) {
        const p = loadPayload(w, seq);
        if (!writer.tryWrite(p)) await writer.write(p);
      }
    } catch (error) {
      this.errors.push(error);
    } finally {
      await writer?.close();
    }
  }

  /** Frames the writers have put on the wire. */
  get written(): number {
    return this.writers.reduce((n, w) => n + w.stats.framesWritten, 0);
  }
}

/** What a file holds, read by us (FrameDecoder, and a walk of its lengths). */
interface Decoded {
  path: string;
  size: number;
  /** Complete data frames (views of the file's bytes). */
  frames: Uint8Array[];
  stopped: boolean;
  /** The offset of the frame the file ends inside, or null. */
  cutAt: number | null;
}

/** Reads a capture file through FrameDecoder, and checks it by hand. */
async function decode(path: string): Promise<Decoded> {
  const bytes = await Deno.readFile(path);
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  decoder.end();
  const frames: Uint8Array[] = [];
  let controls = 0;
  let cutAt: number | null = null;
  for (;;) {
    let frame;
    try {
      frame = decoder.next();
    } catch (error) {
      assert.ok(
        error instanceof TruncatedFrameError && error.reason === "frame",
        `${path}: ${error}`,
      );
      cutAt = error.offset;
      break;
    }
    if (frame === null) break;
    if (frame.kind === "data") frames.push(frame.data);
    else controls++;
  }
  // The same by hand: length words, escape 0 for control frames.
  const view = new DataView(bytes.buffer);
  let p = 0;
  let data = 0;
  while (p < bytes.length) {
    const n = p + 4 <= bytes.length ? view.getUint32(p) : -1;
    const next = n > 0
      ? p + 4 + n
      : n === 0 && p + 8 <= bytes.length
      ? p + 8 + view.getUint32(p + 4)
      : Infinity;
    if (next > bytes.length) break;
    if (n > 0) data++;
    p = next;
  }
  assert.equal(data, frames.length, `${path}: data frames`);
  assert.equal(p === bytes.length ? null : p, cutAt, `${path}: the cut`);
  assert.ok(controls >= 1 && decoder.started, `${path}: START`);
  assert.equal(
    dec.decode(decoder.contentType!),
    DNSTAP,
    `${path}: content type`,
  );
  return {
    path,
    size: bytes.length,
    frames,
    stopped: decoder.stopped,
    cutAt,
  };
}

/**
 * Checks files read in order: every frame intact (byte for byte), each
 * writer's frames in order, from its first, without a gap or a repeat.
 * Returns the ledger.
 */
function assertPrefix(files: Decoded[], frames: number): LoadLedger {
  const ledger = new LoadLedger(frames);
  for (const f of files) {
    for (const p of f.frames) ledger.onData(p, 0, p.length);
  }
  assert.equal(ledger.corrupt, 0, ledger.problems.join("; "));
  assert.equal(ledger.gaps, 0, ledger.problems.join("; "));
  assert.equal(ledger.rewinds, 0, "frames out of order");
  assert.equal(ledger.duplicates, 0, "frames repeated");
  return ledger;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `fstrm ...args` to its end (with `permissions`). */
async function fstrm(
  args: string[],
  permissions: string[] = PERMISSIONS,
): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, CLI, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

/** What `fstrm stats --json` says of a file (the fields checked here). */
interface StatsReport {
  file: string;
  dataFrames: number;
  payloadBytes: number;
  bytesRead: number;
  stopped: boolean;
  end: "stop" | "no-stop" | "truncated" | "error";
  error: { message: string; offset: number | null } | null;
}

/** `fstrm stats --json` on the files: the exit code and one object each. */
async function statsJson(
  files: string[],
): Promise<{ code: number; stderr: string; reports: StatsReport[] }> {
  const run = await fstrm(["stats", "--json", ...files]);
  const lines = run.stdout.split("\n");
  assert.equal(lines.pop(), "");
  return {
    code: run.code,
    stderr: run.stderr,
    reports: lines.map((l) => JSON.parse(l)),
  };
}

/**
 * Checks `fstrm stats --json` on files left without STOP (or with it): it
 * reads each to its last complete frame (as many as we decoded), says how
 * it ends ("stop", "no-stop", or "truncated" with the cut frame's offset,
 * never "error"), and exits 1 exactly when one is truncated (with one line
 * on stderr for it).
 */
async function assertStats(files: Decoded[]): Promise<void> {
  const { code, stderr, reports } = await statsJson(files.map((f) => f.path));
  assert.equal(reports.length, files.length);
  const cutLines: string[] = [];
  for (const [i, f] of files.entries()) {
    const r = reports[i]!;
    assert.equal(r.file, f.path);
    assert.equal(r.dataFrames, f.frames.length, `${f.path}: dataFrames`);
    assert.equal(
      r.payloadBytes,
      f.frames.reduce((n, p) => n + p.length, 0),
      `${f.path}: payloadBytes`,
    );
    assert.equal(r.bytesRead, f.size, `${f.path}: bytesRead`);
    assert.equal(r.stopped, f.stopped);
    if (f.cutAt !== null) {
      assert.equal(r.end, "truncated", f.path);
      assert.equal(r.error?.offset, f.cutAt, `${f.path}: the cut's offset`);
      assert.match(
        r.error!.message,
        new RegExp(
          `^cannot decode frame: input ended inside the frame at byte ${f.cutAt} after \\d+ of \\d+ bytes$`,
        ),
      );
      cutLines.push(`fstrm stats: ${f.path}: ${r.error!.message}`);
    } else {
      assert.equal(r.end, f.stopped ? "stop" : "no-stop", f.path);
      assert.equal(r.error, null, f.path);
    }
  }
  assert.equal(code, cutLines.length > 0 ? 1 : 0, "stats' exit code");
  assert.equal(stderr, cutLines.map((l) => l + "\n").join(""));
}

/** Files of `dir` named from `cap.fstrm`: cap.fstrm, cap.1.fstrm, … in order. */
function rotated(dir: string): string[] {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => /^cap(\.\d+)?\.fstrm$/.test(n));
  const index = (n: string) => Number(n.match(/^cap\.(\d+)\./)?.[1] ?? 0);
  return names.sort((a, b) => index(a) - index(b)).map((n) => `${dir}/${n}`);
}

// ---------------------------------------------------------------------------
// SIGKILL mid-stream

const KILL_WRITERS = 2;
/** Frames each writer would send: more than any kill point lets through. */
const KILL_FRAMES = 200_000;

/** When to kill: all of these. */
interface KillPoint {
  /** Frames the writers have put on the wire. */
  frames: number;
  /** Bytes in the first file (`dir/cap.fstrm`). */
  fileBytes?: number;
  /** Files closed (rotated), by the capture's lines. */
  closed?: number;
}

/**
 * Starts capture with `args` into `dir`, two writers, and kills it with
 * SIGKILL at `when` (the writers still writing, frames in the capture's
 * buffers and in its writes). The files it left, in order, read and
 * checked.
 */
async function killMidStream(
  dir: string,
  args: string[],
  when: KillPoint,
): Promise<Decoded[]> {
  const { capture, path } = await Capture.unix(dir, args);
  const feed = new Feed(path, KILL_WRITERS, KILL_FRAMES);
  const size = (f: string) => {
    try {
      return Deno.statSync(f).size;
    } catch {
      return 0;
    }
  };
  await waitFor(
    () =>
      feed.writers.length === KILL_WRITERS && feed.written >= when.frames &&
      size(`${dir}/cap.fstrm`) >= (when.fileBytes ?? 0) &&
      capture.matching(/closed output file/).length >= (when.closed ?? 0),
    `the kill point ${JSON.stringify(when)}`,
  );
  capture.signal("SIGKILL");
  const status = await capture.exited();
  assert.equal(status.signal, "SIGKILL");
  await feed.done; // the writers see the connection go, and stop
  assert.ok(feed.written < KILL_WRITERS * KILL_FRAMES, "killed mid-stream");
  capture.assertNoCrash();
  const files: Decoded[] = [];
  for (const f of rotated(dir)) files.push(await decode(f));
  assert.ok(files.length >= 1);
  // Every file is a valid prefix of the stream it was being written: what
  // a reader gets is exactly the complete frames, all intact, and all
  // files in order hold a contiguous prefix of each writer's frames.
  assertPrefix(files, KILL_FRAMES);
  // Files are written one after another: once one lacks STOP (the one
  // being written when the kill came), the later ones hold no frame; a
  // file the capture said it closed is whole.
  const open = files.findIndex((f) => !f.stopped);
  for (const f of files.slice(open === -1 ? files.length : open + 1)) {
    assert.equal(f.frames.length, 0, `${f.path} holds frames after a cut`);
    assert.equal(f.cutAt, null);
  }
  for (const m of capture.matching(/closed output file (.*) \((\d+) frames/)) {
    const f = files.find((f) => f.path === m[1])!;
    assert.ok(f.stopped, `${f.path} said closed, without STOP`);
    assert.equal(f.frames.length, Number(m[2]));
  }
  // Each file's START is in it (a rotated file is named only once START
  // is written): a file is never empty. At most one START being staged
  // under a temporary name is left.
  for (const f of files) assert.ok(f.size >= START_LENGTH, f.path);
  const staged = [...Deno.readDirSync(dir)].filter((e) =>
    /^\.fstrm-[0-9a-f]+\.tmp$/.test(e.name)
  );
  assert.ok(staged.length <= 1, `${staged.length} staged files left`);
  await assertStats(files);
  return files;
}

Deno.test("capture killed (SIGKILL) mid-stream leaves a file stats reads to its last complete frame: intact frames, a prefix of what was sent", async () => {
  const lengths: number[] = [];
  const points: KillPoint[] = [
    { frames: 0 }, // both writers connected
    { frames: 2_000 }, // about 0.5 MB sent: in memory (1 MiB buffers)
    { frames: 15_000, fileBytes: 1 << 20 }, // a first buffer written
    { frames: 40_000, fileBytes: 3 << 20 }, // more, more in flight
  ];
  for (const when of points) {
    await withDir(async (dir) => {
      const [file, ...more] = await killMidStream(
        dir,
        ["-w", `${dir}/cap.fstrm`],
        when,
      );
      assert.equal(more.length, 0);
      assert.ok(!file!.stopped, "no STOP after SIGKILL");
      lengths.push(file!.frames.length);
    });
  }
  // The last kill finds frames written (1 MiB buffers).
  assert.ok(lengths.at(-1)! > 10_000, `frames kept: ${lengths}`);
});

Deno.test("capture killed (SIGKILL) while rotating with --max-size: whole files, then one without STOP, together a prefix of what was sent", async () => {
  const points: KillPoint[] = [
    { frames: 1_000, closed: 1 },
    { frames: 30_000, closed: 20 },
  ];
  for (const when of points) {
    await withDir(async (dir) => {
      const files = await killMidStream(
        dir,
        ["-w", `${dir}/cap.fstrm`, "--max-size", "100000"],
        when,
      );
      // Rotated files before the last ones are whole and within the size.
      const whole = files.filter((f) => f.stopped);
      assert.ok(whole.length >= 1, `${files.length} files, none whole`);
      for (const f of whole) assert.ok(f.size <= 100_000, f.path);
      assert.ok(files.some((f) => !f.stopped), "one without STOP");
    });
  }
});

Deno.test("a capture file cut inside a frame (a write cut by the kill): stats and dump say where, after every complete frame", async () => {
  await withDir(async (dir) => {
    const [file] = await killMidStream(dir, ["-w", `${dir}/cap.fstrm`], {
      frames: 10_000,
      fileBytes: 1 << 20,
    });
    const killed = file!;
    assert.ok(killed.frames.length >= 1000, `${killed.frames.length} frames`);
    // A kill during the write of a buffer can leave a part of it (Linux
    // stops a write at a page when a fatal signal is pending): the file
    // then ends inside a frame. Make one: the first 500 frames of the
    // killed file and 10 bytes of the 501st.
    const bytes = await Deno.readFile(killed.path);
    const last = killed.frames[500]!;
    const cutAt = last.byteOffset - 4;
    const cutPath = `${dir}/cut.fstrm`;
    await Deno.writeFile(cutPath, bytes.subarray(0, cutAt + 10));
    const cut = await decode(cutPath);
    assert.equal(cut.cutAt, cutAt);
    assert.equal(cut.frames.length, 500);
    assertPrefix([cut], KILL_FRAMES);
    await assertStats([cut]);
    const message =
      `cannot decode frame: input ended inside the frame at byte ${cutAt} after 10 of ${
        last.length + 4
      } bytes`;
    // stats as text: the end line, and the error on stderr, exit 1.
    const text = await fstrm(["stats", cutPath]);
    assert.equal(text.code, 1);
    assert.ok(text.stdout.includes("  data frames     500\n"));
    assert.ok(
      text.stdout.includes(`  end             truncated: ${message}\n`),
    );
    assert.equal(text.stderr, `fstrm stats: ${cutPath}: ${message}\n`);
    // dump: every complete frame as fstrm_dump prints it, then the error in
    // place of the STOP line, exit 1.
    const dump = await fstrm(["dump", cutPath]);
    assert.equal(dump.code, 1);
    const err = dump.stderr.split("\n");
    assert.equal(err.pop(), "");
    assert.equal(err[0], "FSTRM_CONTROL_START.");
    assert.equal(err.filter((l) => l.startsWith("Data frame (")).length, 500);
    assert.equal(err.at(-1), `fstrm dump: ${cutPath}: ${message}`);
    assert.ok(!dump.stderr.includes("FSTRM_CONTROL_STOP."));
    assert.equal(dump.stdout.split("\n").length - 1, 500);
    // dump on the killed file itself: every frame, then the no-STOP line in
    // place of the STOP line, exit 0 (or, if the kill did cut a write,
    // the cut's line, exit 1); --json gives each frame's offset.
    const whole = await fstrm(["dump", "--json", killed.path]);
    if (killed.cutAt === null) {
      assert.equal(whole.code, 0);
      assert.equal(
        whole.stderr,
        `fstrm dump: ${killed.path}: no STOP frame: the input ended at byte ${killed.size}, after a complete frame\n`,
      );
    } else {
      assert.equal(whole.code, 1);
      assert.match(
        whole.stderr,
        new RegExp(
          `^fstrm dump: ${killed.path}: cannot decode frame: input ended inside the frame at byte ${killed.cutAt} after \\d+ of \\d+ bytes\n$`,
        ),
      );
    }
    const objects = whole.stdout.trimEnd().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(objects.length, killed.frames.length);
    for (const [i, o] of objects.entries()) {
      const p = killed.frames[i]!;
      assert.equal(o.offset, p.byteOffset - 4);
      assert.equal(o.length, p.length);
    }
  });
});

// ---------------------------------------------------------------------------
// Rotation into an output that cannot be opened

/**
 * A writer sending loadPayload(0, seq) frames in small batches, each
 * flushed, until stopped: a DNS server's steady trickle.
 */
class Trickle {
  readonly writer: FrameWriter;
  /** Frames handed to the writer. */
  sent = 0;
  /** Payload bytes of those. */
  bytes = 0;
  /** The error that ended the sending, if one did. */
  error: unknown = null;
  #stop = false;
  #paused = false;
  #idle = false;
  readonly #running: Promise<void>;

  private constructor(writer: FrameWriter) {
    this.writer = writer;
    this.#running = (async () => {
      while (!this.#stop) {
        this.#idle = this.#paused;
        if (this.#paused) {
          await delay(5);
          continue;
        }
        for (let i = 0; i < 20; i++) {
          const p = loadPayload(0, this.sent);
          await writer.write(p);
          this.sent++;
          this.bytes += p.length;
        }
        await writer.flush();
        await delay(10);
      }
    })().catch((error) => {
      this.error = error;
    });
  }

  static async start(path: string): Promise<Trickle> {
    return new Trickle(
      await FrameWriter.connect({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
        reconnect: false,
      }),
    );
  }

  /** Sends until `cond` holds. */
  async until(cond: () => boolean, what: string): Promise<void> {
    await waitFor(cond, what);
  }

  /** Stops sending for now; resolves once every frame is on the wire. */
  async pause(): Promise<void> {
    this.#paused = true;
    await waitFor(() => this.#idle || this.error !== null, "a pause");
  }

  resume(): void {
    this.#paused = false;
  }

  /** Stops sending and closes (STOP, FINISH). */
  async close(): Promise<void> {
    this.#stop = true;
    await this.#running;
    await this.writer.close();
  }
}

Deno.test("capture -s 1: the next file's directory replaced by a regular file: one line per try, the frames go on into the current file, then it rotates again", async () => {
  await withDir(async (dir) => {
    const sub = `${dir}/sub`;
    await Deno.mkdir(sub);
    const pattern = `${sub}/cap-%Y%m%d%H%M%S.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      pattern,
      "-s",
      "1",
      "--gmtime",
      "-d",
    ]);
    const trickle = await Trickle.start(path);
    await trickle.until(() => trickle.sent >= 100, "100 frames");
    const first = capture.opened[0]!;
    // The directory moves away (the open file with it) and a regular file
    // takes its name: opening sub/cap-….fstrm fails with ENOTDIR, for root
    // too.
    await Deno.rename(sub, `${dir}/moved`);
    await Deno.writeTextFile(sub, "not a directory");
    const failed =
      /^fstrm capture: cannot open output file (.*): not a directory; still writing to (.*)$/;
    await trickle.until(
      () => capture.matching(failed).length >= 2,
      "two failed rotations",
    );
    assert.equal(capture.opened.length, 1, "no file opened meanwhile");
    for (const m of capture.matching(failed)) {
      assert.match(m[1]!, /^.*\/sub\/cap-\d{14}\.fstrm$/);
      assert.equal(m[2], first);
    }
    // The writer was served all along.
    assert.equal(trickle.writer.stats.connected, true);
    assert.equal(trickle.writer.stats.reconnects, 0);
    // The directory is back: the next try opens a file there.
    await Deno.remove(sub);
    await Deno.mkdir(sub);
    await trickle.until(() => capture.opened.length >= 2, "a rotation");
    await trickle.until(() => trickle.sent >= 100 + 200, "more frames");
    await trickle.close();
    await capture.line(/connection \d+ closed \(\d+ frames\): after STOP$/);
    capture.signal("SIGTERM");
    const status = await capture.exited();
    assert.equal(status.code, 0);
    capture.assertNoCrash();
    assert.equal(trickle.error, null);
    assert.equal(trickle.writer.stats.framesWritten, trickle.sent);
    // Every file whole, holding together every frame sent, in order.
    const files = capture.opened.map((f, i) =>
      i === 0 ? f.replace(`${dir}/sub/`, `${dir}/moved/`) : f
    );
    const decoded: Decoded[] = [];
    for (const f of files) decoded.push(await decode(f));
    for (const f of decoded) assert.ok(f.stopped, `${f.path} ends with STOP`);
    const ledger = assertPrefix(decoded, trickle.sent);
    assert.deepEqual(ledger.missing(1), []);
    assert.equal(ledger.frames, trickle.sent);
    await assertStats(decoded);
    // The first file kept the frames of the failed rotations.
    assert.ok(decoded[0]!.frames.length >= 100);
  });
});

Deno.test("capture --max-size: a next name too long (ENAMETOOLONG) keeps the frames in the current file, tried again every --max-size bytes", async () => {
  await withDir(async (dir) => {
    // A 255-byte name: fine; with a counter (cap….1.fstrm) 257: too long.
    const out = `${dir}/${"c".repeat(249)}.fstrm`;
    const { capture, path } = await Capture.unix(dir, [
      "-w",
      out,
      "--max-size",
      "20000",
    ]);
    const feed = new Feed(path, 1, 2_000);
    await feed.done;
    assert.deepEqual(feed.errors, []);
    capture.signal("SIGTERM");
    assert.equal((await capture.exited()).code, 0);
    capture.assertNoCrash();
    const next = out.replace(/\.fstrm$/, ".1.fstrm");
    const failures = capture.matching(
      /^fstrm capture: cannot open output file (.*): (.*); still writing to (.*)$/,
    );
    assert.ok(failures.length >= 10, `${failures.length} failed rotations`);
    for (const m of failures) {
      assert.deepEqual(m.slice(1), [next, "file name too long", out]);
    }
    assert.deepEqual(capture.opened, [out]);
    const file = await decode(out);
    assert.ok(file.stopped);
    assert.ok(file.size > 20 * 20_000, "past --max-size");
    const ledger = assertPrefix([file], 2_000);
    assert.deepEqual(ledger.missing(1), []);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      out.slice(dir.length + 1),
    ]);
  });
});

// ---------------------------------------------------------------------------
// A full disk

Deno.test("capture -w /dev/full: one line, exit 1, nothing left behind", async () => {
  await withDir(async (dir) => {
    const args = ["capture", "-t", DNSTAP, "-u", `${dir}/dnstap.sock`];
    // Installed (deno install -gA): START cannot be written, ENOSPC.
    const all = await fstrm([...args, "-w", "/dev/full"], ["-A"]);
    assert.equal(
      all.stderr,
      "fstrm capture: cannot write output file /dev/full: no space left on device\n",
    );
    assert.equal(all.code, 1);
    // With the permissions of `deno task fstrm`, Deno refuses to open a
    // device at all: one line too.
    const task = await fstrm([...args, "-w", "/dev/full"]);
    assert.equal(
      task.stderr,
      'fstrm capture: cannot open output file /dev/full: requires all access to "/dev/full", run again with the --allow-all flag\n',
    );
    assert.equal(task.code, 1);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

/** Whether a tmpfs can be mounted here (root, and allowed to mount). */
async function canMountTmpfs(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-mount-probe-" });
  try {
    const { success } = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) await umount(dir);
    return success;
  } catch {
    return false;
  } finally {
    await Deno.remove(dir);
  }
}

/** Unmounts `dir` (lazily if it is still busy: a test failed). */
async function umount(dir: string): Promise<void> {
  const { success } = await new Deno.Command("umount", {
    args: [dir],
    stderr: "null",
  }).output();
  if (!success) {
    await new Deno.Command("umount", { args: ["-l", dir] }).output();
  }
}

/** Runs `fn` with a 1 MiB tmpfs mounted at `dir/mnt`. */
async function withTmpfs(
  fn: (mnt: string, dir: string) => Promise<void>,
): Promise<void> {
  await withDir(async (dir) => {
    const mnt = `${dir}/mnt`;
    await Deno.mkdir(mnt);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
    }).output();
    assert.ok(mounted.success, dec.decode(mounted.stderr));
    try {
      await fn(mnt, dir);
    } finally {
      for (const capture of running) {
        capture.signal("SIGKILL");
        await capture.exited();
      }
      await umount(mnt);
    }
  });
}

const TMPFS = await canMountTmpfs();
if (!TMPFS) {
  console.warn(
    "cli_fault_test.ts: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): the disk-full tests are skipped",
  );
}

/**
 * Writes 2 × `frames` frames into a capture writing `args` on a full-to-be
 * tmpfs, until the disk fills and it stops. Checks what a write error
 * must do, and returns the files left and the frames they hold.
 */
async function fillUp(
  mnt: string,
  dir: string,
  args: string[],
  frames: number,
): Promise<{ capture: Capture; files: Decoded[] }> {
  const { capture, path } = await Capture.unix(dir, args);
  const feed = new Feed(path, 2, frames);
  // The capture stops by itself: exit 1, and the writers see their
  // connections closed (without FINISH), never a hang.
  const status = await capture.exited();
  assert.equal(status.code, 1);
  await feed.done;
  capture.assertNoCrash();
  // One line for the write error; before it maybe one for a rotation
  // whose new file could not take START (the disk full already).
  const errors = capture.matching(
    /^fstrm capture: cannot write output file (.*): (.*); closing the connections and stopping$/,
  );
  assert.equal(errors.length, 1, capture.lines.join("\n"));
  assert.equal(errors[0]![2], "no space left on device");
  for (const m of capture.matching(/cannot write (.*)$/)) {
    assert.match(
      m[1]!,
      /: no space left on device; (closing the connections and stopping|still writing to .*)$/,
    );
  }
  const last = capture.lines.at(-1)!.match(
    /^fstrm capture: stopped after a write error: (\d+) of (\d+) frames received were not written$/,
  );
  assert.ok(last !== null, capture.lines.at(-1));
  // The socket is gone.
  await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  // Every file: a whole Frame Streams file (cut back to its last whole
  // frame, STOP appended), together a contiguous prefix of each writer. The
  // failed file lacks STOP only when its last whole frame ends less than
  // STOP's 12 bytes before the end of the disk: then it says so.
  const files: Decoded[] = [];
  for (const f of rotated(mnt)) files.push(await decode(f));
  assert.deepEqual(files.map((f) => f.path), capture.opened);
  const failed = errors[0]![1]!;
  for (const f of files) {
    assert.equal(f.cutAt, null, `${f.path} cut inside a frame`);
    if (f.stopped) continue;
    assert.equal(f.path, failed, `${f.path} ends without STOP`);
    await capture.line(
      new RegExp(
        `^fstrm capture: closed output file ${
          escape(f.path)
        } \\(\\d+ frames, ${f.size} bytes\\): cut back to its last whole frame after the write error, no room for STOP$`,
      ),
    );
    // tmpfs gives whole 4 KiB pages: the file's last one had less than 12
    // bytes left, and there was no other.
    assert.ok((4096 - f.size % 4096) % 4096 < 12, `${f.size} bytes`);
  }
  assertPrefix(files, frames);
  await assertStats(files);
  // The counts said: frames received, and not written, match the files.
  const kept = files.reduce((n, f) => n + f.frames.length, 0);
  assert.equal(Number(last[2]) - Number(last[1]), kept);
  // The writers lost what the disk did not take (their writes failed,
  // close() threw their queue away, or the frames were in the socket
  // buffers, which they cannot see: no FINISH came for those).
  assert.ok(kept < feed.written, `${kept} of ${feed.written} frames kept`);
  // Each closed line gives the file's frames and bytes.
  for (const f of files) {
    const closed = capture.matching(
      new RegExp(
        `^fstrm capture: closed output file ${
          escape(f.path)
        } \\((\\d+) frames, (\\d+) bytes\\)`,
      ),
    );
    assert.equal(closed.length, 1, f.path);
    assert.deepEqual(
      [Number(closed[0]![1]), Number(closed[0]![2])],
      [f.frames.length, f.size],
      f.path,
    );
  }
  return { capture, files };
}

Deno.test({
  name:
    "capture on a disk that fills up (1 MiB tmpfs): one line, connections closed, each file cut back to its last whole frame with STOP, exit 1",
  ignore: !TMPFS,
  fn: async () => {
    // One file.
    await withTmpfs(async (mnt, dir) => {
      const { files, capture } = await fillUp(
        mnt,
        dir,
        ["-w", `${mnt}/cap.fstrm`],
        20_000,
      );
      assert.equal(files.length, 1);
      // About 1 MiB of frames: the disk, but for the cut frame.
      assert.ok(files[0]!.size > (1 << 20) - 4096, `${files[0]!.size} bytes`);
      assert.equal(
        capture.matching(/cut back to its last whole frame/).length,
        1,
      );
    });
    // Rotating: the files before the failed one are whole, untouched.
    await withTmpfs(async (mnt, dir) => {
      const { files } = await fillUp(
        mnt,
        dir,
        ["-w", `${mnt}/cap.fstrm`, "--max-size", "300000"],
        10_000,
      );
      assert.ok(files.length >= 3, `${files.length} files`);
      for (const f of files.slice(0, 3)) {
        assert.ok(f.size > 290_000 && f.size <= 300_000, f.path);
      }
    });
  },
});

Deno.test({
  name:
    "capture rotating (SIGUSR1) onto a full disk: the next file cannot take START, one line, the current file goes on until it cannot be written",
  ignore: !TMPFS,
  fn: async () => {
    await withTmpfs(async (mnt, dir) => {
      const out = `${mnt}/cap.fstrm`;
      const { capture, path } = await Capture.unix(dir, ["-w", out]);
      const trickle = await Trickle.start(path);
      await trickle.until(() => trickle.sent >= 100, "100 frames");
      // Everything sent so far on disk (SIGHUP writes it out), so that
      // nothing is left to write when the disk fills up.
      await trickle.pause();
      const expected = START_LENGTH + 4 * trickle.sent + trickle.bytes;
      for (let tries = 0; Deno.statSync(out).size < expected; tries++) {
        assert.ok(tries < 400, "the frames sent reach the file");
        capture.signal("SIGHUP");
        await delay(50);
      }
      assert.equal(Deno.statSync(out).size, expected);
      // Fill the disk.
      const filler = await Deno.open(`${mnt}/filler`, {
        write: true,
        createNew: true,
      });
      await assert.rejects(async () => {
        for (;;) await filler.write(new Uint8Array(65_536));
      }, (e) => /no space left on device/i.test(String(e)));
      filler.close();
      capture.signal("SIGUSR1");
      await capture.line(
        new RegExp(
          `^fstrm capture: cannot write output file ${
            escape(mnt)
          }/cap\\.1\\.fstrm: no space left on device; still writing to ${
            escape(out)
          }$`,
        ),
      );
      // The new file is not left behind; the writer is still served.
      await assert.rejects(Deno.lstat(`${mnt}/cap.1.fstrm`));
      assert.equal(trickle.writer.stats.connected, true);
      // The next frames cannot be written (at the latest at the flush a
      // second later): the capture stops.
      trickle.resume();
      const status = await capture.exited();
      await trickle.close(); // the connection is gone: no hang
      assert.equal(status.code, 1);
      capture.assertNoCrash();
      await capture.line(
        new RegExp(
          `^fstrm capture: cannot write output file ${
            escape(out)
          }: no space left on device; closing the connections and stopping$`,
        ),
      );
      // The file holds every frame written before the disk filled, whole.
      const file = await decode(out);
      assert.equal(file.cutAt, null);
      const ledger = assertPrefix([file], trickle.sent);
      assert.ok(ledger.frames >= 100);
      await assertStats([file]);
    });
  },
});

/** `s` as a regular expression that matches it literally. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
