// `fstrm dnstap -u SOCKET` and `-l HOST:PORT`: writers (our FrameWriter,
// fstrm_replay) send frames, the command writes what passes its filters,
// SIGTERM stops it with the summary; --limit stops it by itself.
import assert from "node:assert/strict";
import { DNSTAP, fstrmArgs, sendAll } from "./_cli.ts";
import { withTempDir } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { dnstapFile, PAYLOADS, readBack, summaryOf } from "./_cli_dnstap.ts";
import type { ListenTarget } from "../src/frame_receiver.ts";
import { FrameWriter } from "../src/frame_writer.ts";

const dec = new TextDecoder();

/** A running `fstrm dnstap`, its stderr read as it comes. */
class Live {
  readonly child: Deno.ChildProcess;
  #stderr = "";
  #stdout: Promise<Uint8Array>;
  #errDone: Promise<void>;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: fstrmArgs(["dnstap", ...args]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    this.#stdout = new Response(child.stdout).bytes();
    this.#errDone = (async () => {
      for await (const chunk of child.stderr) {
        this.#stderr += dec.decode(chunk, { stream: true });
      }
    })();
  }

  /** Waits for a line of stderr matching `re`; its match. */
  async line(re: RegExp): Promise<RegExpMatchArray> {
    for (let i = 0; i < 600; i++) {
      const m = this.#stderr.match(re);
      if (m !== null) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${re} on stderr: ${this.#stderr}`);
  }

  /** Waits for the end; code, stdout, stderr. */
  async end(): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
    const [status, stdout] = await Promise.all([
      this.child.status,
      this.#stdout,
    ]);
    await this.#errDone;
    return { code: status.code, stdout, stderr: this.#stderr };
  }
}

/** The frames and records a run expects, and the receiver's summary part. */
async function sendAndStop(
  args: string[],
  target: (live: Live) => Promise<ListenTarget>,
  payloads: Uint8Array[],
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const live = new Live(args);
  try {
    const where = await target(live);
    await sendAll(where, payloads);
    // FINISH came: every frame was taken. Now stop it.
    live.child.kill("SIGTERM");
    return await live.end();
  } catch (error) {
    try {
      live.child.kill("SIGKILL");
    } catch {
      // gone
    }
    await live.end();
    throw error;
  }
}

Deno.test("fstrm dnstap -u: frames from a writer, filtered, written; SIGTERM stops it with the summary", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const garbage = new Uint8Array([0xff, 0xff]);
    const run = await sendAndStop(
      ["-u", path, "-w", "-", "--type", "CR"],
      async (live) => {
        await live.line(/listening on unix socket /);
        return { transport: "unix", path };
      },
      [...PAYLOADS, garbage],
    );
    assert.equal(run.code, 0, run.stderr);
    // The CLIENT_RESPONSE records: 1, 3, 5, 11.
    const back = readBack(run.stdout);
    assert.deepEqual(back.payloads, [1, 3, 5, 11].map((i) => PAYLOADS[i]));
    assert.deepEqual(summaryOf(run.stderr), {
      frames: 13,
      output: 4,
      filtered: 8,
      malformed: 1,
      unprintable: 0,
    });
    assert.match(run.stderr, /received SIGTERM, stopping/);
    assert.match(
      run.stderr,
      /; 1 connection; dropped: 0 oversized frames, 0 connections for protocol errors, 0 for I\/O errors, 0 rejected\n$/,
    );
    // The socket file is gone.
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  });
});

Deno.test("fstrm dnstap -l 127.0.0.1:0: two writers over TCP, the port printed", async () => {
  const run = await sendAndStop(
    ["-l", "127.0.0.1:0", "-w", "-", "--client", "2001:db8::/32"],
    async (live) => {
      const m = await live.line(/listening on tcp 127\.0\.0\.1:(\d+)\n/);
      const target: ListenTarget = {
        transport: "tcp",
        hostname: "127.0.0.1",
        port: Number(m[1]),
      };
      await sendAll(target, PAYLOADS.slice(0, 6));
      return target;
    },
    PAYLOADS.slice(6),
  );
  assert.equal(run.code, 0, run.stderr);
  // 2001:db8::/32 clients: records 4, 5 (first writer), 11 (second).
  assert.deepEqual(readBack(run.stdout).payloads, [
    PAYLOADS[4],
    PAYLOADS[5],
    PAYLOADS[11],
  ]);
  assert.equal(summaryOf(run.stderr).frames, 12);
  assert.match(run.stderr, /; 2 connections; /);
});

Deno.test("fstrm dnstap -u with --limit stops by itself after N records", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const live = new Live(["-u", path, "-w", "-", "--limit", "2"]);
    await live.line(/listening on unix socket /);
    await sendAll({ transport: "unix", path }, PAYLOADS.slice(0, 5));
    const run = await live.end();
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readBack(run.stdout).payloads, PAYLOADS.slice(0, 2));
    assert.equal(summaryOf(run.stderr).output, 2);
    assert.doesNotMatch(run.stderr, /received SIG/);
  });
});

Deno.test("fstrm dnstap -u counts a writer of another content type, and oversized frames", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const live = new Live([
      "-u",
      path,
      "-w",
      "-",
      "--max-frame-length",
      "100",
    ]);
    await live.line(/listening on unix socket /);
    const target: ListenTarget = { transport: "unix", path };
    await assert.rejects(
      sendAll(target, [PAYLOADS[0]!], { contentTypes: ["protobuf:other"] }),
    );
    // PAYLOADS are 52 to 132 bytes: those over 100 are skipped and counted.
    const over = PAYLOADS.filter((p) => p.length > 100).length;
    assert.ok(over > 0 && over < PAYLOADS.length);
    await sendAll(target, [...PAYLOADS]);
    live.child.kill("SIGTERM");
    const run = await live.end();
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      readBack(run.stdout).payloads.length,
      PAYLOADS.length - over,
    );
    assert.match(
      run.stderr,
      new RegExp(
        `; 2 connections; dropped: ${over} oversized frames, 1 connections for protocol errors, 0 for I/O errors, 0 rejected\n$`,
      ),
    );
  });
});

Deno.test("fstrm dnstap -u on a path that is a directory: exit 1, one line", async () => {
  await withTempDir(async (dir) => {
    const live = new Live(["-u", dir, "-w", "-"]);
    const run = await live.end();
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^fstrm dnstap: cannot listen on unix socket /);
    assert.equal(run.stderr.split("\n").length, 2, run.stderr);
  });
});

interopTest(
  "fstrm dnstap -u takes fstrm_replay's stream",
  ["fstrm_replay"],
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/dnstap.sock`;
      const file = `${dir}/in.fstrm`;
      await Deno.writeFile(file, dnstapFile(PAYLOADS));
      const live = new Live(["-u", path, "-w", "-", "--rcode", "NXDOMAIN"]);
      try {
        await live.line(/listening on unix socket /);
        const replay = await new Deno.Command("fstrm_replay", {
          args: ["-t", DNSTAP, "-u", path, "-r", file],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(replay.code, 0, dec.decode(replay.stderr));
        // fstrm_replay ends after FINISH: every frame was taken.
        live.child.kill("SIGTERM");
      } catch (error) {
        live.child.kill("SIGKILL");
        await live.end();
        throw error;
      }
      const run = await live.end();
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(readBack(run.stdout).payloads, [
        PAYLOADS[3],
        PAYLOADS[5],
      ]);
      assert.equal(summaryOf(run.stderr).frames, 12);
    });
  },
);

Deno.test("fstrm dnstap -u: a second SIGTERM stops at once, a stream still open", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const live = new Live(["-u", path, "-w", "-", "--grace", "600"]);
    await live.line(/listening on unix socket /);
    const writer = await FrameWriter.connect({ transport: "unix", path }, {
      contentTypes: [DNSTAP],
      reconnect: false,
    });
    try {
      await writer.write(PAYLOADS[0]!);
      await writer.flush();
      live.child.kill("SIGTERM");
      await live.line(/received SIGTERM, stopping/);
      // The stream stays open: without a second signal it would wait 600 s.
      live.child.kill("SIGTERM");
      const run = await live.end();
      assert.equal(run.code, 0, run.stderr);
      // Whatever came, the output is a whole Frame Streams file.
      const back = readBack(run.stdout);
      assert.equal(back.contentType, DNSTAP);
      assert.ok(back.payloads.length <= 1);
      assert.equal(summaryOf(run.stderr).output, back.payloads.length);
      await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    } finally {
      await writer.close().catch(() => {});
    }
  });
});

Deno.test("fstrm dnstap -u --progress always keeps a status line, erased before the summary", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const live = new Live(["-u", path, "-w", "-", "--progress", "always"]);
    try {
      await live.line(/listening on unix socket /);
      await sendAll({ transport: "unix", path }, [...PAYLOADS]);
      // Drawn every half second: wait for one that has the frames.
      await live.line(
        // deno-lint-ignore no-control-regex
        /\r12 frames read, 12 records written, 0 filtered out, 0 malformed dnstap, 0 not printable; 0 open, \d+ frames\/s\x1b\[K/,
      );
      live.child.kill("SIGTERM");
    } catch (error) {
      live.child.kill("SIGKILL");
      await live.end();
      throw error;
    }
    const run = await live.end();
    assert.equal(run.code, 0, run.stderr);
    assert.ok(
      run.stderr.includes("\r\x1b[Kfstrm dnstap: received SIGTERM"),
      run.stderr,
    );
    assert.equal(summaryOf(run.stderr).frames, 12);
  });
});
