// `fstrm replay` end to end: the command runs as a subprocess of cli.ts
// (with the permissions of `deno task fstrm`) and sends to our
// FrameReceiver, to `fstrm capture` and to fstrm_capture; what arrives is
// checked frame for frame. Payloads carry their index in their first four
// bytes. Rates are checked by counting frames (and a lower bound on the
// time they must take), never by an upper bound on time.
// Bad input is in cli_replay_errors_test.ts.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import { interopTest } from "./_peers.ts";
import { encodeControlFrame, encodeFrameStream } from "../src/encode.ts";
import { ControlType } from "../src/constants.ts";
import { readReplayStdin } from "../src/cli/_replay_files.ts";
import type { ListenTarget } from "../src/frame_receiver.ts";
import {
  assertFrames,
  closed,
  collector,
  DNSTAP,
  fstrm,
  hasOpenssl,
  makePayloads,
  readFile,
  socketAt,
  spawnFstrm,
  writeStream,
} from "./_cli.ts";

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
    const r = await fstrm([
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

Deno.test("replay -r - reads standard input, after the files before it, as one stream", async () => {
  await withTempDir(async (dir) => {
    const payloads = makePayloads(3_000, 4);
    const a = await writeStream(`${dir}/a.fstrm`, payloads.slice(0, 1_000));
    // Standard input's START names no content type: it matches any.
    const input = encodeFrameStream(payloads.slice(1_000), {
      contentType: null,
    });
    const { receiver, frames, events, where } = await collector({
      transport: "unix",
      path: `${dir}/s.sock`,
    });
    const r = await fstrm(
      ["replay", "-t", DNSTAP, ...where, "-r", a, "-r", "-", "-d"],
      { input },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^fstrm replay: sent 3000 frames /);
    await waitFor(() => closed(events).length === 1, "the stream's end");
    await receiver.close();
    assertFrames(frames, payloads);
    const [end] = closed(events);
    assert.equal(end!.type === "closed" && end!.stopped, true);
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
      const r = await fstrm(["replay", "-t", DNSTAP, ...args, "-r", file]);
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
    const capture = spawnFstrm([
      "capture",
      "-t",
      DNSTAP,
      "-u",
      sock,
      "-w",
      out,
    ]);
    await socketAt(sock);
    const r = await fstrm(["replay", "-t", DNSTAP, "-u", sock, "-r", input]);
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
        const r = await fstrm([
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
        const refused = await fstrm([
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
    const r = await fstrm(
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
    const r = await fstrm([
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
    const r2 = await fstrm(
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
    const replay = spawnFstrm(
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
    const replay = spawnFstrm(
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
    const r = await fstrm(["replay", "-t", DNSTAP, ...where, "-r", file]);
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

Deno.test("readReplayStdin reads START and not a byte more, however stdin is chunked", async () => {
  const stream = encodeFrameStream(makePayloads(3, 12), {
    contentType: DNSTAP,
  });
  const start = encodeControlFrame(ControlType.START, [DNSTAP]);
  for (const chunk of [1, 3, 8, 13, 4096]) {
    let at = 0;
    const stdin = {
      read(p: Uint8Array): Promise<number | null> {
        if (at === stream.length) return Promise.resolve(null);
        const n = Math.min(chunk, p.length, stream.length - at);
        p.set(stream.subarray(at, at + n));
        at += n;
        return Promise.resolve(n);
      },
    };
    const head = await readReplayStdin(
      new TextEncoder().encode(DNSTAP),
      stdin,
    );
    assert.deepEqual(head, start, `chunks of ${chunk}`);
    assert.equal(at, start.length, `read no further (chunks of ${chunk})`);
  }
});
