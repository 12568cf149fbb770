// `fstrm capture -w - | fstrm replay -r -` as a relay: a sender (our
// FrameWriter, or fstrm_replay) sends into the first capture, whose stdout
// is piped into replay, which sends on to a collector (`fstrm capture`, or
// fstrm_capture). The collector's file must be START, every frame sent, byte
// for byte and in order, and STOP; the frames must go through while the
// relay runs, not only when it stops. Waits are for conditions.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { encodeFrameStream } from "../src/encode.ts";
import {
  Capture,
  DNSTAP,
  fstrmArgs,
  makePayloads,
  sendAll,
  socketAt,
  writeStream,
} from "./_cli.ts";

const dec = new TextDecoder();

/** A relay: `fstrm capture -w -` on `path`, piped into `fstrm replay -r -`. */
class Relay {
  readonly capture: Capture;
  readonly replay: Deno.ChildProcess;
  readonly #piped: Promise<void>;
  readonly #replayed: Promise<Deno.CommandOutput>;

  private constructor(capture: Capture, replay: Deno.ChildProcess) {
    this.capture = capture;
    this.replay = replay;
    this.#piped = capture.child.stdout.pipeTo(replay.stdin);
    this.#replayed = replay.output();
  }

  /**
   * Starts the relay from the Unix socket `path` to `to` (replay's target
   * flags); resolves once its capture listens.
   */
  static async start(path: string, to: string[]): Promise<Relay> {
    const capture = new Capture(
      ["-t", DNSTAP, "-u", path, "-w", "-"],
      "stream",
    );
    await capture.line(/listening on unix socket/);
    const replay = new Deno.Command(Deno.execPath(), {
      args: fstrmArgs(["replay", "-t", DNSTAP, ...to, "-r", "-"]),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new Relay(capture, replay);
  }

  /**
   * Stops the capture (SIGTERM: STOP on its stdout, exit 0); replay then
   * reads to the end, closes its stream and exits. Asserts both ended
   * cleanly, saying nothing on stdout.
   */
  async stop(): Promise<void> {
    assert.equal(await this.capture.stop(), 0, this.capture.lines.join("\n"));
    await this.#piped;
    const { code, stdout, stderr } = await this.#replayed;
    assert.equal(dec.decode(stderr), "");
    assert.equal(code, 0);
    assert.equal(stdout.length, 0);
  }
}

/** The size a file has once it holds `payloads` after START (no STOP yet). */
function sizeBeforeStop(payloads: Uint8Array[]): number {
  return encodeFrameStream(payloads, { contentType: DNSTAP }).length - 12;
}

/** The size of the file at `path`, 0 while there is none. */
function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

Deno.test("capture -w - | replay -r -: a FrameWriter's frames reach fstrm capture byte for byte, in order, while the relay runs", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/in`);
    await Deno.mkdir(`${dir}/out`);
    const out = `${dir}/out.fstrm`;
    const sink = await Capture.unix(`${dir}/out`, ["-w", out]);
    const relay = await Relay.start(`${dir}/in/relay.sock`, ["-u", sink.path]);
    const payloads = makePayloads(20_000, 21);
    // Two streams one after the other: the relay carries both as one.
    await sendAll(
      { transport: "unix", path: `${dir}/in/relay.sock` },
      payloads.slice(0, 5_000),
    );
    await sendAll(
      { transport: "unix", path: `${dir}/in/relay.sock` },
      payloads.slice(5_000),
    );
    // Every frame reaches the collector's file before the relay stops.
    const want = sizeBeforeStop(payloads);
    await waitFor(() => sizeOf(out) >= want, "the frames through the relay");
    await relay.stop();
    assert.equal(await sink.capture.stop(), 0);
    assert.deepEqual(
      await Deno.readFile(out),
      encodeFrameStream(payloads, { contentType: DNSTAP }),
    );
    // One stream came into the collector: the relay's.
    assert.deepEqual(sink.capture.opened, [out]);
  });
});

interopTest(
  "capture -w - | replay -r -: fstrm_replay's frames reach fstrm_capture byte for byte, in order",
  ["fstrm_replay", "fstrm_capture"],
  async () => {
    await withTempDir(async (dir) => {
      const payloads = makePayloads(10_000, 22);
      const input = await writeStream(`${dir}/in.fstrm`, payloads);
      const out = `${dir}/out.fstrm`;
      const sinkPath = `${dir}/sink.sock`;
      const sink = new Deno.Command("fstrm_capture", {
        args: ["-t", DNSTAP, "-u", sinkPath, "-w", out],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const sinkDone = sink.output();
      try {
        await socketAt(sinkPath);
        const relayPath = `${dir}/relay.sock`;
        const relay = await Relay.start(relayPath, ["-u", sinkPath]);
        const sent = await new Deno.Command("fstrm_replay", {
          args: ["-t", DNSTAP, "-u", relayPath, "-r", input],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(sent.code, 0, dec.decode(sent.stderr));
        await relay.stop();
      } finally {
        sink.kill("SIGTERM");
        await sinkDone;
      }
      // fstrm_capture's file: START, every frame, STOP, as the input.
      assert.deepEqual(await Deno.readFile(out), await Deno.readFile(input));
    });
  },
);
