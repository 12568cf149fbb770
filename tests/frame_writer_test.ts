// FrameWriter over real sockets: the handshake and the shape of the stream,
// connecting (errors naming the target, the first connect waiting for a
// collector), options, TLS. The queue, reconnection and interop with C and
// Go collectors have files of their own (frame_writer_*_test.ts); the
// protocol decisions themselves are tested without sockets in
// writer_session_test.ts.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { ControlType, HandshakeError, SessionTimeoutError } from "../mod.ts";
import { FrameWriter, type FrameWriterOptions } from "../src/frame_writer.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  dec,
  DNSTAP,
  enc,
  FAST_RECONNECT,
  frame,
  frames,
  freePort,
  listenUnix,
  serveOnce,
  sleep,
  until,
} from "./_frame_writer.ts";

// ---------------------------------------------------------------------------
// Handshake and stream shape

Deno.test("FrameWriter sends READY, START, the data in order and STOP, and waits for FINISH", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/c.sock`;
    using listener = listenUnix(path);
    const served = serveOnce(listener);
    const writer = await FrameWriter.connect({ transport: "unix", path });
    assert.deepEqual(writer.contentTypeBytes, DNSTAP);
    assert.equal(writer.contentType, "protobuf:dnstap.Dnstap");
    assert.equal(writer.stats.connected, true);
    for (let i = 0; i < 100; i++) await writer.write(frame(i));
    await writer.write(enc.encode(frame(100)));
    await writer.close();
    const got = await served;
    const kinds = got.frames.map((f) =>
      f.kind === "data" ? "data" : `control ${f.type}`
    );
    assert.deepEqual(kinds, [
      `control ${ControlType.READY}`,
      `control ${ControlType.START}`,
      ...Array(101).fill("data"),
      `control ${ControlType.STOP}`,
    ]);
    const ready = got.frames[0]!, start = got.frames[1]!;
    assert.ok(ready.kind === "control" && start.kind === "control");
    assert.deepEqual(ready.contentTypes, [DNSTAP]);
    assert.deepEqual(start.contentTypes, [DNSTAP]);
    assert.deepEqual(got.payloads, frames(0, 101));
    const stats = writer.stats;
    assert.equal(stats.frames, 101);
    // Payload bytes only, as every counter named `bytes`: no length words.
    assert.equal(stats.bytes, 101 * 12);
    assert.equal(stats.connected, false);
    assert.equal(stats.queued, 0);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.reconnects, 0);
    // close() is idempotent, and the writer is closed for writing.
    await writer.close();
    await assert.rejects(writer.write("late"), TypeError);
  });
});

Deno.test("FrameWriter picks its first content type that ACCEPT lists", async (t) => {
  const cases: {
    name: string;
    ours: string[];
    accept: string[];
    chosen: string | null;
  }[] = [
    // the first of ours is listed
    { name: "first listed", ours: ["a", "b"], accept: ["b", "a"], chosen: "a" },
    // our first is not listed, a later one is (libfstrm 0.6.1 fails here)
    {
      name: "first not listed",
      ours: ["x", "y", "z"],
      accept: ["z", "y"],
      chosen: "y",
    },
    // ACCEPT lists none: our own first
    { name: "ACCEPT empty", ours: ["p", "q"], accept: [], chosen: "p" },
    // we offer none: START with none
    { name: "we offer none", ours: [], accept: ["any"], chosen: null },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      let offered: string[] = [];
      const served = serveOnce(listener, {
        accept: (o) => {
          offered = o.map((x) => dec.decode(x));
          return c.accept.map((x) => enc.encode(x));
        },
      });
      const writer = await FrameWriter.connect(
        { transport: "tcp", port: listener.addr.port },
        { contentTypes: c.ours },
      );
      assert.deepEqual(
        writer.contentTypeBytes,
        c.chosen === null ? null : enc.encode(c.chosen),
      );
      assert.equal(writer.contentType, c.chosen);
      await writer.write("x");
      await writer.close();
      const got = await served;
      assert.deepEqual(offered, c.ours);
      const start = got.frames[1]!;
      assert.ok(start.kind === "control" && start.type === ControlType.START);
      assert.deepEqual(
        start.contentTypes.map((x) => dec.decode(x)),
        c.chosen === null ? [] : [c.chosen],
      );
    });
  }
});

Deno.test("FrameWriter.connect rejects with HandshakeError when no content type is common", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(listener, { accept: () => [enc.encode("other")] });
  await assert.rejects(
    FrameWriter.connect({ transport: "tcp", port: listener.addr.port }),
    (e) => e instanceof HandshakeError && e.reason === "no-common-content-type",
  );
  const got = await served;
  assert.equal(got.started, false); // no START was sent
});

Deno.test("FrameWriter.connect rejects when the collector closes or stays silent, with the session's errors", async (t) => {
  await t.step(
    'closed before ACCEPT: HandshakeError "closed", not retried',
    async () => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const served = serveOnce(listener, { accept: () => null });
      await assert.rejects(
        FrameWriter.connect({ transport: "tcp", port: listener.addr.port }),
        (e) =>
          e instanceof HandshakeError && e.reason === "closed" &&
          /before ACCEPT/.test(e.message),
      );
      await served;
    },
  );
  await t.step(
    "no ACCEPT within handshakeTimeout: SessionTimeoutError",
    async () => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const accepted = listener.accept();
      const t0 = performance.now();
      await assert.rejects(
        FrameWriter.connect(
          { transport: "tcp", port: listener.addr.port },
          { handshakeTimeout: 100 },
        ),
        (e) =>
          e instanceof SessionTimeoutError && e.reason === "handshake" &&
          e.timeout === 100,
      );
      assert.ok(performance.now() - t0 >= 95, "the deadline was kept");
      (await accepted).close();
    },
  );
});

Deno.test("FrameWriter.connect errors name the target and keep the class of the socket error", async (t) => {
  await t.step("unix: NotFound", async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/none.sock`;
      const error = await FrameWriter.connect(
        { transport: "unix", path },
        { connectTimeout: 0 },
      ).catch((e) => e);
      assert.ok(error instanceof Deno.errors.NotFound);
      assert.equal(error.name, "NotFound");
      assert.match(
        error.message,
        new RegExp(`^Cannot connect to unix:${path}: No such file`),
      );
      assert.ok(error.cause instanceof Deno.errors.NotFound);
    });
  });
  await t.step("tcp: ConnectionRefused", async () => {
    const port = freePort();
    const error = await FrameWriter.connect(
      { transport: "tcp", port },
      { reconnect: false },
    ).catch((e) => e);
    assert.ok(error instanceof Deno.errors.ConnectionRefused);
    assert.match(
      error.message,
      new RegExp(`^Cannot connect to tcp:127\\.0\\.0\\.1:${port}: `),
    );
  });
});

Deno.test("FrameWriter.connect waits for a collector that is not up yet, within connectTimeout", async (t) => {
  await t.step(
    "the collector comes up: connected, the refusals reported",
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/late.sock`;
        const failures: Error[] = [];
        const connecting = FrameWriter.connect({ transport: "unix", path }, {
          reconnect: FAST_RECONNECT,
          onError: (e) => failures.push(e),
        });
        await until(() => failures.length >= 2, "two failed attempts");
        using listener = listenUnix(path);
        const served = serveOnce(listener);
        const writer = await connecting;
        await writer.write("late but there");
        await writer.close();
        assert.deepEqual((await served).payloads, ["late but there"]);
        assert.ok(failures.every((e) => e instanceof Deno.errors.NotFound));
        assert.equal(writer.stats.reconnects, 0); // the first connection
      });
    },
  );
  await t.step(
    "it never does: the last error after connectTimeout",
    async () => {
      await withTempDir(async (dir) => {
        const t0 = performance.now();
        let attempts = 0;
        await assert.rejects(
          FrameWriter.connect({ transport: "unix", path: `${dir}/none.sock` }, {
            connectTimeout: 300,
            reconnect: FAST_RECONNECT,
            onError: () => attempts++,
          }),
          Deno.errors.NotFound,
        );
        const ms = performance.now() - t0;
        assert.ok(ms >= 290 && ms < 3000, `${ms} ms`);
        assert.ok(attempts >= 3, `${attempts} retried attempts`);
      });
    },
  );
  await t.step("reconnect: false makes one attempt", async () => {
    await withTempDir(async (dir) => {
      let attempts = 0;
      await assert.rejects(
        FrameWriter.connect({ transport: "unix", path: `${dir}/none.sock` }, {
          reconnect: false,
          onError: () => attempts++,
        }),
        Deno.errors.NotFound,
      );
      assert.equal(attempts, 0);
    });
  });
  await t.step("an abort ends the wait with its reason", async () => {
    await withTempDir(async (dir) => {
      const controller = new AbortController();
      const connecting = FrameWriter.connect(
        { transport: "unix", path: `${dir}/none.sock` },
        { signal: controller.signal },
      );
      await sleep(50);
      controller.abort(new Error("shutting down"));
      await assert.rejects(connecting, /shutting down/);
    });
  });
});

Deno.test("FrameWriter unidirectional sends START … STOP without READY and does not wait", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/c.sock`;
    using listener = listenUnix(path);
    // A collector that never answers anything: it would hang a bidirectional
    // close() for finishTimeout.
    const served = serveOnce(listener, { finish: false });
    const writer = await FrameWriter.connect(
      { transport: "unix", path },
      { bidirectional: false, finishTimeout: 60_000 },
    );
    for (let i = 0; i < 10; i++) await writer.write(frame(i));
    await writer.close();
    const got = await served;
    const bytes = got.frames;
    assert.ok(bytes[0]?.kind === "control");
    assert.equal(bytes[0].type, ControlType.START);
    assert.deepEqual(bytes[0].contentTypes, [DNSTAP]);
    assert.equal(bytes.length, 12);
    assert.ok(got.stopped && got.ended);
    assert.deepEqual(got.payloads, frames(0, 10));
  });
});

Deno.test("FrameWriter.close returns without FINISH after finishTimeout and closes the socket", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(listener, { finish: false });
  const errors: Error[] = [];
  const writer = await FrameWriter.connect(
    { transport: "tcp", port: listener.addr.port },
    { finishTimeout: 200, onError: (e) => errors.push(e) },
  );
  await writer.write("last");
  const t0 = performance.now();
  await writer.close();
  assert.ok(performance.now() - t0 >= 190, "it waited for FINISH");
  // The missing FINISH is reported, as the session's timeout.
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof SessionTimeoutError);
  assert.equal(errors[0].reason, "finish");
  const got = await served;
  // The collector saw STOP, sent no FINISH, and then saw the socket close.
  assert.ok(got.stopped);
  assert.ok(got.ended);
  assert.deepEqual(got.payloads, ["last"]);
});

Deno.test("FrameWriter.write rejects an empty payload with RangeError and a non-payload with TypeError", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = serveOnce(listener);
  const writer = await FrameWriter.connect({
    transport: "tcp",
    port: listener.addr.port,
  });
  await assert.rejects(writer.write(new Uint8Array(0)), RangeError);
  await assert.rejects(writer.write(""), RangeError);
  await assert.rejects(writer.write(42 as unknown as string), TypeError);
  await writer.write("ok");
  await writer.close();
  assert.deepEqual((await served).payloads, ["ok"]);
});

Deno.test("FrameWriter.connect rejects bad targets and options before connecting", async (t) => {
  const tcp = { transport: "tcp", port: 9 } as const;
  const cases: [
    string,
    unknown,
    unknown,
    ErrorConstructor | RangeErrorConstructor,
  ][] = [
    ["unknown transport", { transport: "udp", port: 9 }, {}, TypeError],
    ["unix without a path", { transport: "unix", path: "" }, {}, TypeError],
    ["port 0", { transport: "tcp", port: 0 }, {}, RangeError],
    ["port 70000", { transport: "tls", port: 70000 }, {}, RangeError],
    ["port not an integer", { transport: "tcp", port: "9" }, {}, TypeError],
    [
      "caCerts not strings",
      { transport: "tls", port: 9, caCerts: [1] },
      {},
      TypeError,
    ],
    ["options not an object", tcp, null, TypeError],
    ["contentTypes not an array", tcp, { contentTypes: "x" }, TypeError],
    [
      "content type over 256 bytes",
      tcp,
      { contentTypes: ["x".repeat(257)] },
      RangeError,
    ],
    ["READY over 503 bytes", tcp, {
      contentTypes: ["a".repeat(250), "b".repeat(250)],
    }, RangeError],
    ["bidirectional not a boolean", tcp, { bidirectional: 1 }, TypeError],
    ["negative handshakeTimeout", tcp, { handshakeTimeout: -1 }, RangeError],
    ["finishTimeout a string", tcp, { finishTimeout: "5" }, TypeError],
    ["bufferSize 0", tcp, { bufferSize: 0 }, RangeError],
    ["bufferSize fractional", tcp, { bufferSize: 1000.5 }, TypeError],
    ["flushInterval NaN", tcp, { flushInterval: NaN }, TypeError],
    ["queueSize 0", tcp, { queueSize: 0 }, RangeError],
    ["queueMode unknown", tcp, { queueMode: "wait" }, TypeError],
    ["resendWindow negative", tcp, { resendWindow: -1 }, RangeError],
    ["resendWindow a string", tcp, { resendWindow: "1" }, TypeError],
    ["reconnect true", tcp, { reconnect: true }, TypeError],
    ["maxDelay < initialDelay", tcp, {
      reconnect: { initialDelay: 100, maxDelay: 10 },
    }, RangeError],
    ["signal not an AbortSignal", tcp, { signal: {} }, TypeError],
    ["onError not a function", tcp, { onError: "log" }, TypeError],
  ];
  for (const [name, target, options, type] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        FrameWriter.connect(
          target as Parameters<typeof FrameWriter.connect>[0],
          options as FrameWriterOptions,
        ),
        type,
      );
    });
  }
});

// ---------------------------------------------------------------------------
// TLS

Deno.test("FrameWriter over TLS, trusting a self-signed certificate", async () => {
  await withTempDir(async (dir) => {
    const { cert, key } = await selfSignedCert(dir);
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert,
      key,
    });
    const served = serveOnce(listener);
    const writer = await FrameWriter.connect({
      transport: "tls",
      hostname: "127.0.0.1",
      port: listener.addr.port,
      caCerts: [cert],
    });
    for (let i = 0; i < 1000; i++) await writer.write(frame(i));
    await writer.close();
    const got = await served;
    assert.deepEqual(got.payloads, frames(0, 1000));
    assert.ok(got.stopped);
  });
});

Deno.test("FrameWriter over TLS: a certificate it does not trust fails connect() with the target named", async () => {
  await withTempDir(async (dir) => {
    const { cert, key } = await selfSignedCert(dir);
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert,
      key,
    });
    const accepted = listener.accept().then(async (conn) => {
      // The handshake fails on the client's side; the server just ends.
      await conn.handshake().catch(() => {});
      conn.close();
    });
    const port = listener.addr.port;
    const error = await FrameWriter.connect(
      { transport: "tls", hostname: "127.0.0.1", port }, // no caCerts
      { connectTimeout: 0 },
    ).catch((e) => e);
    await accepted;
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      new RegExp(`^Cannot connect to tls:127\\.0\\.0\\.1:${port}: `),
    );
    assert.ok(error.cause instanceof Error);
    assert.equal(error.constructor, error.cause.constructor);
  });
});
