// FrameReceiver over real sockets, the handshake and the connections' lives:
// hand-written peers that follow or break the protocol, many connections,
// shutdown, options, Unix socket paths. (Real writers:
// frame_receiver_interop_test.ts; TLS: frame_receiver_tls_test.ts; flow
// control and the ways of taking frames: frame_receiver_delivery_test.ts;
// the protocol decisions themselves: reader_session_test.ts.) No assertion
// is about timing: timeouts are set small and the tests assert what
// happened, not how fast.
import assert from "node:assert/strict";
import { delay, waitFor, withTempDir } from "./_support.ts";
import {
  ControlType,
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
} from "../mod.ts";
import {
  FrameReceiver,
  type FrameReceiverOptions,
} from "../src/frame_receiver.ts";
import { HandshakeError, SessionTimeoutError } from "../src/errors.ts";
import { concat, hex } from "./_util.ts";
import {
  ACCEPT,
  assertSamePayloads,
  closedEvents,
  connect,
  DNSTAP,
  DNSTAP_BYTES,
  FINISH,
  listen,
  makePayloads,
  readExactly,
  readToEnd,
  READY,
  sendReady,
  START,
  STOP,
  take,
  takeRun,
  TCP,
  writeAll,
} from "./_receiver.ts";

// ---------------------------------------------------------------------------
// Hand-written peers: the handshake

Deno.test("FrameReceiver answers READY with ACCEPT and STOP with FINISH", async () => {
  const { receiver, events } = await listen(TCP, {
    contentTypes: ["other", DNSTAP],
  });
  const conn = await connect(receiver);
  // READY offers two types; ACCEPT lists ours that READY offers.
  await writeAll(
    conn,
    encodeControlFrame(ControlType.READY, ["x-unknown", DNSTAP]),
  );
  assert.deepEqual(await readExactly(conn, ACCEPT.length), ACCEPT);
  await writeAll(conn, concat(START, encodeDataFrame("hello"), STOP));
  assert.deepEqual(await readToEnd(conn), FINISH);
  conn.close();
  const [frame] = await take(receiver[Symbol.asyncIterator](), 1);
  assert.deepEqual(frame!.data, new TextEncoder().encode("hello"));
  assert.equal(frame!.connection.mode, "bidirectional");
  assert.deepEqual(frame!.connection.contentTypeBytes, DNSTAP_BYTES);
  assert.equal(frame!.connection.contentType, "protobuf:dnstap.Dnstap");
  await waitFor(() => closedEvents(events).length === 1, "the close");
  assert.deepEqual(events.map((e) => e.type), ["opened", "started", "closed"]);
  assert.equal(closedEvents(events)[0]!.stopped, true);
  await receiver.close();
});

Deno.test("FrameReceiver closes a READY with no common content type, without ACCEPT", async () => {
  const { receiver, events } = await listen(TCP, { contentTypes: [DNSTAP] });
  const conn = await connect(receiver);
  await writeAll(conn, encodeControlFrame(ControlType.READY, ["other"]));
  assert.equal((await readToEnd(conn)).length, 0, "nothing sent back");
  conn.close();
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const [closed] = closedEvents(events);
  assert.ok(closed!.error instanceof HandshakeError);
  assert.equal(closed!.error.reason, "no-common-content-type");
  assert.match(closed!.error.message, /"other"/);
  const stats = receiver.stats;
  assert.equal(stats.handshakeFailures, 1);
  assert.deepEqual(stats.protocolErrors, {
    "handshake:no-common-content-type": 1,
  });
  await receiver.close();
});

Deno.test("FrameReceiver takes a START-first stream as unidirectional and sends nothing", async () => {
  const { receiver, events } = await listen(TCP, { contentTypes: [DNSTAP] });
  const conn = await connect(receiver);
  // START and data in one write, as real servers' first reads often have.
  await writeAll(
    conn,
    concat(START, encodeDataFrame("a"), encodeDataFrame("b"), STOP),
  );
  assert.equal((await readToEnd(conn)).length, 0, "no FINISH");
  conn.close();
  const frames = await take(receiver[Symbol.asyncIterator](), 2);
  assert.deepEqual(frames.map((f) => f.data[0]), [0x61, 0x62]);
  assert.equal(frames[0]!.connection.mode, "unidirectional");
  await waitFor(() => closedEvents(events).length === 1, "the close");
  assert.equal(closedEvents(events)[0]!.stopped, true);
  assert.equal(closedEvents(events)[0]!.error, null);
  await receiver.close();
});

Deno.test("FrameReceiver closes a connection whose first frame is data, and delivers nothing", async () => {
  const { receiver, events } = await listen(TCP);
  const conn = await connect(receiver);
  await writeAll(conn, concat(encodeDataFrame("early"), START));
  assert.equal((await readToEnd(conn)).length, 0);
  conn.close();
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const [closed] = closedEvents(events);
  assert.ok(closed!.error instanceof HandshakeError);
  assert.equal(receiver.stats.frames, 0);
  assert.equal(receiver.stats.handshakeFailures, 1);
  assert.deepEqual(receiver.stats.protocolErrors, {
    "handshake:unexpected-frame": 1,
  });
  await receiver.close();
  const it = receiver[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});

Deno.test("FrameReceiver closes a silent connection after handshakeTimeout", async () => {
  const { receiver, events } = await listen(TCP, { handshakeTimeout: 200 });
  // 1. Connects and sends nothing.
  const silent = await connect(receiver);
  assert.equal((await readToEnd(silent)).length, 0);
  silent.close();
  // 2. READY, then no START after ACCEPT.
  const halfway = await connect(receiver);
  await writeAll(halfway, READY);
  assert.deepEqual(await readToEnd(halfway), ACCEPT);
  halfway.close();
  await waitFor(() => closedEvents(events).length === 2, "the closes");
  for (const closed of closedEvents(events)) {
    assert.ok(closed.error instanceof SessionTimeoutError);
    assert.equal(closed.error.reason, "handshake");
  }
  assert.equal(receiver.stats.handshakeFailures, 2);
  assert.deepEqual(receiver.stats.protocolErrors, { "handshake-timeout": 2 });
  await receiver.close();
});

Deno.test("FrameReceiver closes a started stream that stays silent past idleTimeout", async () => {
  const { receiver, events } = await listen(TCP, { idleTimeout: 200 });
  const conn = await connect(receiver);
  await writeAll(conn, concat(START, encodeDataFrame("x")));
  assert.equal((await readToEnd(conn)).length, 0);
  conn.close();
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const idle = closedEvents(events)[0]!.error;
  assert.ok(idle instanceof SessionTimeoutError);
  assert.equal(idle.reason, "idle");
  assert.equal(idle.timeout, 200);
  assert.deepEqual(receiver.stats.protocolErrors, { "idle-timeout": 1 });
  assert.equal(receiver.stats.handshakeFailures, 0);
  assert.equal(receiver.stats.frames, 1);
  await receiver.close();
});

// ---------------------------------------------------------------------------
// How streams end

Deno.test("FrameReceiver takes EOF without STOP as a normal end (dnsdist)", async () => {
  const { receiver, events } = await listen(TCP);
  const conn = await connect(receiver);
  await sendReady(conn);
  await writeAll(
    conn,
    concat(START, encodeDataFrame("1"), encodeDataFrame("2")),
  );
  conn.close();
  const frames = await take(receiver[Symbol.asyncIterator](), 2);
  assert.deepEqual(frames.map((f) => f.data[0]), [0x31, 0x32]);
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const [closed] = closedEvents(events);
  assert.equal(closed!.error, null);
  assert.equal(closed!.stopped, false);
  assert.deepEqual(receiver.stats.protocolErrors, {});
  await receiver.close();
});

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReceiver [${engine}] onRun delivers the complete frames before an EOF mid-frame, or bad bytes, with the error's offset`, async () => {
    const first = concat(START, encodeDataFrame("1"), encodeDataFrame("2"));
    const cases: [Uint8Array, string, number][] = [
      // Cut inside the third frame.
      [encodeDataFrame("cut short").subarray(0, 7), "TruncatedFrameError", 0],
      // A control frame that is not one (an escape with a bad length).
      [hex("00000000 00000001 00000002"), "ControlFrameError", 0],
    ];
    for (const [tail, name, at] of cases) {
      const got: Uint8Array[] = [];
      const { receiver, events } = await listen(TCP, {
        engine,
        onRun: (w, a, b, n) => void got.push(...takeRun(w, a, b, n)),
      });
      const conn = await connect(receiver);
      await writeAll(conn, concat(first, tail));
      conn.close();
      await waitFor(() => closedEvents(events).length === 1, "the close");
      await receiver.close();
      assert.deepEqual(got.map((p) => p[0]), [0x31, 0x32], name);
      const error = closedEvents(events)[0]!.error as
        | (Error & { offset?: number })
        | null;
      assert.equal(error?.name, name);
      assert.equal(error?.offset, first.length + at, `${name} offset`);
      assert.equal(receiver.stats.frames, 2);
    }
  });
}

Deno.test("FrameReceiver delivers the complete frames before an EOF mid-frame and counts the truncation", async () => {
  const { receiver, events } = await listen(TCP);
  const conn = await connect(receiver);
  const last = encodeDataFrame("cut short");
  await writeAll(
    conn,
    concat(
      START,
      encodeDataFrame("1"),
      encodeDataFrame("2"),
      last.subarray(0, 7),
    ),
  );
  conn.close();
  const frames = await take(receiver[Symbol.asyncIterator](), 2);
  assert.deepEqual(frames.map((f) => f.data[0]), [0x31, 0x32]);
  await waitFor(() => closedEvents(events).length === 1, "the close");
  assert.equal(closedEvents(events)[0]!.error?.name, "TruncatedFrameError");
  assert.deepEqual(receiver.stats.protocolErrors, { truncated: 1 });
  assert.equal(receiver.stats.frames, 2);
  await receiver.close();
});

Deno.test("FrameReceiver does not mind a peer gone before FINISH (unbound)", async () => {
  const { receiver, events } = await listen(TCP);
  for (let i = 0; i < 20; i++) {
    const conn = await connect(receiver);
    await sendReady(conn);
    await writeAll(conn, concat(START, encodeDataFrame("x"), STOP));
    conn.close();
  }
  await waitFor(() => closedEvents(events).length === 20, "the closes");
  for (const closed of closedEvents(events)) {
    assert.equal(closed.error, null);
    assert.equal(closed.stopped, true);
  }
  assert.equal(receiver.stats.ioErrors, 0);
  assert.equal(receiver.stats.frames, 20);
  await receiver.close();
});

Deno.test('FrameReceiver skips oversized frames under oversize: "skip" and closes on them by default', async () => {
  const big = encodeDataFrame(new Uint8Array(200));
  const stream = concat(
    START,
    encodeDataFrame("a"),
    big,
    encodeDataFrame("b"),
    STOP,
  );
  {
    const { receiver, events } = await listen(TCP, {
      maxFrameLength: 100,
      oversize: "skip",
    });
    const conn = await connect(receiver);
    await writeAll(conn, stream);
    await readToEnd(conn);
    conn.close();
    const frames = await take(receiver[Symbol.asyncIterator](), 2);
    assert.deepEqual(frames.map((f) => f.data[0]), [0x61, 0x62]);
    await waitFor(() => closedEvents(events).length === 1, "the close");
    assert.equal(receiver.stats.oversizedFrames, 1);
    await receiver.close();
  }
  {
    const { receiver, events } = await listen(TCP, { maxFrameLength: 100 });
    const conn = await connect(receiver);
    await writeAll(conn, stream);
    await readToEnd(conn);
    conn.close();
    await waitFor(() => closedEvents(events).length === 1, "the close");
    assert.equal(closedEvents(events)[0]!.error?.name, "FrameTooLargeError");
    assert.deepEqual(receiver.stats.protocolErrors, { "frame-too-large": 1 });
    assert.equal(receiver.stats.frames, 1);
    await receiver.close();
  }
});

// ---------------------------------------------------------------------------
// Many connections

Deno.test("FrameReceiver keeps a good stream whole while bad peers come and go", async () => {
  const { receiver, events } = await listen(TCP, {
    contentTypes: [DNSTAP],
    handshakeTimeout: 300,
  });
  const payloads = makePayloads(2_000, 4);
  const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
  const good = await connect(receiver);
  await sendReady(good);
  const writer = (async () => {
    // Odd-sized writes, so frames straddle reads.
    for (let p = 0; p < bytes.length; p += 7_919) {
      await writeAll(good, bytes.subarray(p, p + 7_919));
      if (p % 5 === 0) await delay(0);
    }
    return await readToEnd(good);
  })();
  const bad = [
    // plain TCP against what looks like TLS: not Frame Streams
    Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc),
    encodeDataFrame("data first"),
    encodeControlFrame(ControlType.READY, ["nothing we take"]),
    concat(START, Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2, 0, 0)), // clen 2
    encodeControlFrame(ControlType.ACCEPT), // a writer's frame first
    new Uint8Array(0), // silent: handshake timeout
  ];
  const badRuns = bad.map(async (b) => {
    const conn = await connect(receiver);
    if (b.length > 0) await writeAll(conn, b);
    await readToEnd(conn);
    conn.close();
  });
  const frames = await take(receiver[Symbol.asyncIterator](), payloads.length);
  assert.deepEqual(await writer, FINISH);
  good.close();
  await Promise.all(badRuns);
  await waitFor(() => closedEvents(events).length === 1 + bad.length, "closes");
  const goodFrames = frames.filter((f) => f.connection.id === 1);
  assertSamePayloads(goodFrames.map((f) => f.data), payloads);
  const stats = receiver.stats;
  assert.equal(stats.connectionsTotal, 1 + bad.length);
  // All but the malformed control frame, which came after START.
  assert.equal(stats.handshakeFailures, bad.length - 1);
  assert.deepEqual(stats.protocolErrors, {
    "not-frame-streams": 1,
    "handshake:unexpected-frame": 2,
    "handshake:no-common-content-type": 1,
    "control-frame:length": 1,
    "handshake-timeout": 1,
  });
  await receiver.close();
});

Deno.test("FrameReceiver closes connections beyond maxConnections at once", async () => {
  const { receiver } = await listen(TCP, { maxConnections: 1 });
  const first = await connect(receiver);
  await sendReady(first);
  const second = await connect(receiver);
  assert.equal((await readToEnd(second)).length, 0);
  second.close();
  await waitFor(() => receiver.stats.connectionsRejected === 1, "rejection");
  assert.equal(receiver.stats.connectionsOpen, 1);
  await writeAll(first, concat(START, STOP));
  assert.deepEqual(await readToEnd(first), FINISH);
  first.close();
  await receiver.close();
});

Deno.test("FrameReceiver.close gives an open stream the grace period, then closes it", async () => {
  const { receiver, events } = await listen(TCP, { gracePeriod: 200 });
  // One stream reaches STOP during the grace period, one never does.
  const finishing = await connect(receiver);
  const stuck = await connect(receiver);
  await sendReady(finishing);
  await writeAll(finishing, concat(START, encodeDataFrame("a")));
  await writeAll(stuck, concat(START, encodeDataFrame("b")));
  await waitFor(() => receiver.stats.frames === 2, "both frames");
  const closing = receiver.close();
  // Closed to newcomers at once.
  await assert.rejects(connect(receiver));
  await writeAll(finishing, STOP);
  assert.deepEqual(await readToEnd(finishing), FINISH);
  assert.equal((await readToEnd(stuck)).length, 0);
  await closing;
  finishing.close();
  stuck.close();
  const closed = closedEvents(events);
  assert.equal(closed.length, 2);
  const byId = new Map(closed.map((e) => [e.connection.id, e]));
  assert.equal(byId.get(1)!.error, null);
  assert.ok(byId.get(2)!.error instanceof Deno.errors.Interrupted);
  // Frames buffered before the close are still there.
  const frames = await take(receiver[Symbol.asyncIterator](), 3);
  assert.deepEqual(frames.map((f) => f.data[0]).sort(), [0x61, 0x62]);
});

Deno.test("FrameReceiver closes on abort and with await using", async () => {
  const controller = new AbortController();
  const receiver = await FrameReceiver.listen(TCP, {
    signal: controller.signal,
    gracePeriod: 100,
  });
  const conn = await connect(receiver);
  await writeAll(conn, concat(START, encodeDataFrame("z")));
  const iterating = take(receiver[Symbol.asyncIterator](), 10);
  await waitFor(() => receiver.stats.frames === 1, "the frame");
  controller.abort();
  assert.equal((await iterating).length, 1, "iteration ends after the close");
  conn.close();

  let port = 0;
  {
    await using scoped = await FrameReceiver.listen(TCP, { gracePeriod: 100 });
    port = (scoped.addr as Deno.NetAddr).port;
    const c = await connect(scoped);
    await sendReady(c);
    c.close();
  }
  await assert.rejects(
    Deno.connect({ port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("FrameReceiver.listen checks its options before listening", async () => {
  const cases: [FrameReceiverOptions, ErrorConstructor][] = [
    [{ handshakeTimeout: -1 }, RangeError],
    [{ highWaterMark: 0 }, RangeError],
    [{ maxConnections: 1.5 }, TypeError],
    [{ maxFrameLength: 0 }, RangeError],
    [{ oversize: "drop" as "skip" }, TypeError],
    [{ contentTypes: ["x".repeat(257)] }, RangeError],
    [{ onData: 1 as unknown as () => void }, TypeError],
    [{ onRun: 1 as unknown as () => void }, TypeError],
    [{ onConnection: 1 as unknown as () => void }, TypeError],
    [{ readSize: 65_535 }, RangeError],
    [{ readSize: 2 ** 26 + 1 }, RangeError],
    [{ readSize: 100_000.5 }, TypeError],
  ];
  for (const [options, type] of cases) {
    await assert.rejects(FrameReceiver.listen(TCP, options), type);
  }
});

// ---------------------------------------------------------------------------
// Unix socket paths

Deno.test("FrameReceiver replaces a stale Unix socket and refuses a live one or a regular file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    // A stale socket: a hard link to a socket whose listener is gone.
    const old = Deno.listen({ transport: "unix", path: `${dir}/old.sock` });
    await Deno.link(`${dir}/old.sock`, path);
    old.close();
    assert.ok((await Deno.lstat(path)).isSocket);
    const receiver = await FrameReceiver.listen({
      transport: "unix",
      path,
      mode: 0o600,
    });
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    // Live: our own receiver holds it.
    await assert.rejects(
      FrameReceiver.listen({ transport: "unix", path }),
      (e) =>
        e instanceof Deno.errors.AddrInUse &&
        /another process is listening/.test(e.message),
    );
    // Still serving after the refused attempt probed it.
    const conn = await connect(receiver);
    await writeAll(conn, concat(START, encodeDataFrame("u"), STOP));
    await readToEnd(conn);
    conn.close();
    const [frame] = await take(receiver[Symbol.asyncIterator](), 1);
    assert.equal(frame!.data[0], 0x75);
    await receiver.close();
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    // A regular file is never removed.
    await Deno.writeTextFile(path, "precious");
    await assert.rejects(
      FrameReceiver.listen({ transport: "unix", path }),
      (e) =>
        e instanceof Deno.errors.AlreadyExists &&
        /not a socket/.test(e.message),
    );
    assert.equal(await Deno.readTextFile(path), "precious");
  });
});

Deno.test("FrameReceiver writes FINISH into a closed Unix peer (EPIPE) and takes it as a normal end", async () => {
  await withTempDir(async (dir) => {
    let release: (() => void) | null = null;
    const held = new Promise<void>((resolve) => release = resolve);
    let calls = 0;
    const { receiver, events } = await listen(
      { transport: "unix", path: `${dir}/r.sock` },
      {
        // The data frame holds the connection until the peer is gone, so
        // STOP is handled, and FINISH written, after the peer's close: on a
        // Unix socket that write fails with EPIPE.
        onData: () => {
          calls++;
          return held;
        },
      },
    );
    const conn = await connect(receiver);
    await sendReady(conn);
    await writeAll(conn, concat(START, encodeDataFrame("x"), STOP));
    await waitFor(() => calls === 1, "the data frame");
    conn.close();
    release!();
    await waitFor(() => closedEvents(events).length === 1, "the close");
    const [closed] = closedEvents(events);
    assert.equal(closed!.error, null);
    assert.equal(closed!.stopped, true);
    assert.equal(receiver.stats.ioErrors, 0);
    assert.equal(receiver.stats.frames, 1);
    // The receiver goes on serving.
    const again = await connect(receiver);
    await writeAll(again, encodeFrameStream(["y"]));
    again.close();
    await waitFor(() => closedEvents(events).length === 2, "the second close");
    assert.equal(receiver.stats.frames, 2);
    await receiver.close();
  });
});
