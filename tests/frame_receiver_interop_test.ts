// FrameReceiver over real sockets with real writers: the C tool
// fstrm_replay (libfstrm) and the Go `dnstap` CLI.
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { encodeFrameStream } from "../mod.ts";
import type { ListenTarget } from "../src/frame_receiver.ts";
import { interopTest } from "./_peers.ts";
import {
  assertSamePayloads,
  closedEvents,
  DNSTAP,
  DNSTAP_BYTES,
  listen,
  makePayloads,
  run,
  take,
  takeRun,
  TCP,
} from "./_receiver.ts";

// ---------------------------------------------------------------------------
// Real writers

for (
  const [transport, consumer, engine] of [
    ["unix", "iterator", "auto"],
    ["tcp", "iterator", "auto"],
    ["unix", "onData", "auto"],
    ["tcp", "onData", "auto"],
    ["unix", "onRun", "ts"],
    ["unix", "onRun", "wasm"],
    ["tcp", "onRun", "ts"],
    ["tcp", "onRun", "wasm"],
  ] as const
) {
  interopTest(
    `FrameReceiver receives fstrm_replay's frames byte for byte over ${transport} (${consumer}, engine ${engine})`,
    ["fstrm_replay"],
    async () => {
      await withTempDir(async (dir) => {
        const payloads = makePayloads(3_000, transport === "unix" ? 1 : 2);
        const file = `${dir}/in.fstrm`;
        await Deno.writeFile(
          file,
          encodeFrameStream(payloads, { contentType: DNSTAP }),
        );
        const target: ListenTarget = transport === "unix"
          ? { transport, path: `${dir}/dnstap.sock` }
          : TCP;
        // With onData or onRun, payloads are copied out of the read buffer
        // here.
        const copies: Uint8Array[] = [];
        const { receiver, events } = await listen(target, {
          contentTypes: [DNSTAP],
          engine,
          ...(consumer === "onData"
            ? {
              onData: (w: Uint8Array, o: number, n: number) =>
                void copies.push(w.slice(o, o + n)),
            }
            : consumer === "onRun"
            ? {
              onRun: (w: Uint8Array, a: number, b: number, n: number) =>
                void copies.push(...takeRun(w, a, b, n)),
            }
            : {}),
        });
        const where = transport === "unix" ? ["-u", `${dir}/dnstap.sock`] : [
          "-a",
          "127.0.0.1",
          "-p",
          `${(receiver.addr as Deno.NetAddr).port}`,
        ];
        // fstrm_replay exits only after our FINISH.
        const replay = run("fstrm_replay", [
          "-t",
          DNSTAP,
          ...where,
          "-r",
          file,
        ]);
        const frames = consumer === "iterator"
          ? (await take(receiver[Symbol.asyncIterator](), payloads.length))
            .map((f) => f.data)
          : copies;
        const { code, stderr } = await replay;
        await waitFor(() => closedEvents(events).length === 1, "the close");
        await receiver.close();
        assert.equal(code, 0, stderr);
        assertSamePayloads(frames, payloads);
        const [closed] = closedEvents(events);
        assert.equal(closed!.error, null);
        assert.equal(closed!.stopped, true);
        assert.equal(closed!.connection.mode, "bidirectional");
        assert.deepEqual(closed!.connection.contentTypeBytes, DNSTAP_BYTES);
        const stats = receiver.stats;
        assert.equal(stats.frames, payloads.length);
        assert.equal(
          stats.bytes,
          payloads.reduce((n, p) => n + p.length, 0),
        );
        assert.deepEqual(stats.protocolErrors, {});
        assert.equal(stats.connectionsTotal, 1);
        assert.equal(stats.connectionsOpen, 0);
      });
    },
  );
}

// The Go CLI re-frames payloads without decoding them when it writes to a
// socket, so random payloads pass; its reader refuses frames over 96 KiB.
interopTest(
  "FrameReceiver receives the Go dnstap CLI's frames (dnstap -r FILE -U SOCK)",
  ["dnstap"],
  async () => {
    await withTempDir(async (dir) => {
      const payloads = makePayloads(2_000, 3);
      const file = `${dir}/in.fstrm`;
      await Deno.writeFile(
        file,
        encodeFrameStream(payloads, { contentType: DNSTAP }),
      );
      const path = `${dir}/dnstap.sock`;
      const { receiver, events } = await listen({ transport: "unix", path }, {
        contentTypes: [DNSTAP],
      });
      const cli = run("timeout", ["30", "dnstap", "-r", file, "-U", path]);
      const frames = await take(
        receiver[Symbol.asyncIterator](),
        payloads.length,
      );
      const { code, stderr } = await cli;
      await waitFor(() => closedEvents(events).length === 1, "the close");
      await receiver.close();
      assert.equal(code, 0, stderr);
      assertSamePayloads(frames.map((f) => f.data), payloads);
      const [closed] = closedEvents(events);
      assert.equal(closed!.error, null);
      assert.equal(closed!.connection.mode, "bidirectional");
      assert.deepEqual(closed!.connection.contentTypeBytes, DNSTAP_BYTES);
      assert.deepEqual(receiver.stats.protocolErrors, {});
    });
  },
);
