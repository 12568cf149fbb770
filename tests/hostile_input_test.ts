// FrameReceiver under hostile input, over real sockets: the cases about the
// shell (timers, memory, descriptors, resets, flow control, many
// connections) and a few protocol cases that prove it carries the session's
// decisions; the other protocol-level cases are pure ReaderSession tests in
// tests/reader_session_hostile_test.ts. One live receiver per
// case, a good FrameWriter streaming at least 20,000 frames of 80..400 random
// bytes on its own connection for the whole case, and a hostile peer written
// by hand. Every case checks (in tests/_hostile.ts, Case.finish): the good
// frames all arrived, in order, byte-identical; the good connection ended
// cleanly, after the hostile ones; memory stayed under MEMORY_BOUND_MIB.
// Each test then checks the hostile connection's "closed" event (the
// documented error class and reason, or the documented tolerance) and every
// counter, exactly. What is documented is the JSDoc in src/ and PROTOCOL.md.
//
// Timeouts are short (handshakeTimeout 400 ms, idleTimeout 400 ms where it
// applies) and no assertion is about speed, except that close() and the
// timeouts do end.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  encodeDataFrame,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  SessionTimeoutError,
} from "../mod.ts";
import { waitFor } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  ACCEPT,
  assertCounters,
  Case,
  closeQuietly,
  concat,
  drip,
  FINISH,
  rawControl,
  readExactly,
  readToEnd,
  READY,
  send,
  START,
  STOP,
  words,
} from "./_hostile.ts";
import { assertGoodLive, only, report } from "./_hostile.ts";

const NAME = "FrameReceiver under hostile input: ";
const CONTENT_TYPE = 1;
const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;

// ---------------------------------------------------------------------------
// Not Frame Streams at all

Deno.test(NAME + "a TLS ClientHello on a plain port", async () => {
  await using c = await Case.open();
  await c.startGood({ seed: 12 });
  // A real TLS client: its ClientHello is 16 03 01 LL LL ...
  const tls = await Deno.connectTls({ hostname: "127.0.0.1", port: c.port });
  await assert.rejects(tls.handshake());
  closeQuietly(tls);
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  // Not Frame Streams at all: its own error (the record header, read as a
  // length, is over the limit and the bytes look like TLS).
  assert.ok(e.error instanceof NotFrameStreamsError);
  assert.equal(e.error.offset, 0);
  assert.match(e.error.message, /data frame of 369\d{6} bytes/);
  assert.match(
    e.error.message,
    /TLS handshake: is the peer using TLS on a plain port\?/,
  );
  assert.equal(e.stopped, false);
  assertCounters(result, {
    hostileConnections: 1,
    handshakeFailures: 1,
    protocolErrors: { "not-frame-streams": 1 },
  });
  await report("TLS ClientHello on a plain port", result);
});

interopTest(
  NAME + "plain Frame Streams on a TLS port, and a silent plain client",
  ["openssl"],
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "fstrm-hostile-tls-" });
    try {
      const tls = await selfSignedCert(dir);
      await using c = await Case.open({ transport: "tls", tls });
      // A plain client that says nothing holds a TLS handshake open: it must
      // not stop the receiver accepting (the good writer connects after it),
      // and it ends at handshakeTimeout.
      const silent = await c.connect();
      await c.startGood({ seed: 13, caCert: tls.cert });
      // A plain writer speaking Frame Streams to the TLS port.
      const plain = await c.connect();
      await send(plain, concat(READY, START, encodeDataFrame("plain")));
      const answer = await readToEnd(plain);
      plain.close();
      assert.ok(
        answer.length === 0 || answer[0] === 0x15, // nothing, or a TLS alert
        `the plain client got ${answer.length} bytes starting ${answer[0]}`,
      );
      const closed = await c.waitHostileClosed(2);
      // Not readToEnd(silent): the receiver's side of it stays open (see the
      // BUG test below), so the peer would wait for ever.
      silent.close();
      const result = await c.finish();
      const timedOut = closed.filter((e) =>
        e.error instanceof SessionTimeoutError
      );
      const io = closed.filter((e) =>
        !(e.error instanceof SessionTimeoutError)
      );
      assert.equal(timedOut.length, 1);
      assert.match(
        timedOut[0]!.error!.message,
        /no READY or START within 400 ms/,
      );
      assert.equal(io.length, 1);
      // A TLS failure is an I/O error: not one of the codec's.
      const ioError = io[0]!.error;
      assert.ok(ioError !== null);
      assert.ok(
        !(ioError instanceof FrameTooLargeError ||
          ioError instanceof ControlFrameError ||
          ioError instanceof HandshakeError),
        `an I/O error, got ${ioError}`,
      );
      assertCounters(result, {
        hostileConnections: 2,
        handshakeFailures: 2,
        ioErrors: 1,
        protocolErrors: { "handshake-timeout": 1 },
      });
      await report("plain on a TLS port", result, { ioError: ioError.name });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// ---------------------------------------------------------------------------
// Lengths

Deno.test(NAME + "a length near 2^32", async () => {
  // Two peers announce a 4 GiB data frame: as the first frame, and inside a
  // started stream. Both are closed with FrameTooLargeError when the length
  // word arrives; nothing of the declared length is allocated (external
  // memory, which counts every ArrayBuffer, touched or not, stays under the
  // case's bound of 48 MiB: one allocation would add 4,096 MiB).
  await using c = await Case.open();
  await c.startGood({ seed: 15 });
  const first = await c.connect();
  await send(
    first,
    concat(words(0xffff_fffc), new Uint8Array(1024).fill(0xaa)),
  );
  const inStream = await c.connect();
  const before = encodeDataFrame("before");
  await send(
    inStream,
    concat(START, before, words(0xffff_ffff), new Uint8Array(1024).fill(0xbb)),
  );
  await Promise.all([readToEnd(first), readToEnd(inStream)]);
  first.close();
  inStream.close();
  const closed = await c.waitHostileClosed(2);
  assertGoodLive(c);
  const result = await c.finish();
  const byLength = new Map(
    closed.map((e) => [(e.error as FrameTooLargeError).length, e]),
  );
  const a = byLength.get(0xffff_fffc)!.error as FrameTooLargeError;
  const b = byLength.get(0xffff_ffff)!.error as FrameTooLargeError;
  assert.ok(a instanceof FrameTooLargeError && b instanceof FrameTooLargeError);
  assert.equal(a.offset, 0);
  assert.equal(b.offset, START.length + before.length);
  assert.equal(a.maxFrameLength, DEFAULT_MAX_FRAME_LENGTH);
  assert.ok(result.memory.externalDeltaMiB < 48);
  assertCounters(result, {
    hostileConnections: 2,
    handshakeFailures: 1,
    protocolErrors: { "frame-too-large": 2 },
  }, 1);
  await report("length near 2^32", result);
});

Deno.test(
  NAME + 'a length near 2^32 under oversize: "skip", its bytes dripping in',
  async () => {
    // Skipped without buffering: the peer sends 8 MiB of the 4 GiB frame, then
    // goes quiet; idleTimeout ends it. External memory stays under the bound
    // (the 8 MiB pass through the 64 KiB read buffer and are dropped).
    await using c = await Case.open({
      receiver: { oversize: "skip", idleTimeout: 400 },
    });
    await c.startGood({ seed: 16 });
    const conn = await c.connect();
    await send(
      conn,
      concat(START, encodeDataFrame("before"), words(0xffff_fff0)),
    );
    const chunk = new Uint8Array(65_536).fill(0xcc);
    for (let i = 0; i < 128; i++) await send(conn, chunk);
    assert.equal((await readToEnd(conn)).length, 0);
    conn.close();
    const e = only(await c.waitHostileClosed(1));
    assertGoodLive(c);
    const result = await c.finish();
    assert.ok(e.error instanceof SessionTimeoutError);
    assert.match(e.error.message, /idle for 400 ms/);
    assert.ok(result.memory.externalDeltaMiB < 48);
    assertCounters(result, {
      hostileConnections: 1,
      oversizedFrames: 1,
      protocolErrors: { "idle-timeout": 1 },
    }, 1);
    await report("length near 2^32, oversize skip", result);
  },
);

// ---------------------------------------------------------------------------
// Control frames of unknown type (malformed ones: tests/reader_session_hostile_test.ts)

Deno.test(NAME + "an unknown control type", async () => {
  // Skipped and counted, before the handshake and inside the stream, as the
  // spec asks for forward compatibility: the hostile stream itself goes on.
  await using c = await Case.open({ delivery: "iterate" });
  await c.startGood({ seed: 18 });
  const conn = await c.connect();
  await send(
    conn,
    concat(rawControl(0x2a, [[CONTENT_TYPE, Uint8Array.of(1)]]), READY),
  );
  assert.deepEqual(await readExactly(conn, ACCEPT.length), ACCEPT);
  await send(
    conn,
    concat(
      START,
      encodeDataFrame("a"),
      rawControl(0xdead_beef, [[0x77, new Uint8Array(300)]]),
      encodeDataFrame("b"),
      STOP,
    ),
  );
  assert.deepEqual(await readToEnd(conn), FINISH);
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.equal(e.error, null);
  assert.equal(e.stopped, true);
  assertCounters(result, { hostileConnections: 1, skippedFrames: 2 }, 2);
  await report("unknown control type", result);
});

// ---------------------------------------------------------------------------
// Frames out of place

Deno.test(NAME + "a data frame before READY/START", async () => {
  // First frame data; and data after ACCEPT, before START. Closed, nothing
  // of them delivered.
  await using c = await Case.open();
  await c.startGood({ seed: 21 });
  const first = await c.connect();
  await send(first, concat(encodeDataFrame("early"), START));
  const afterAccept = await c.connect();
  await send(afterAccept, READY);
  assert.deepEqual(await readExactly(afterAccept, ACCEPT.length), ACCEPT);
  await send(afterAccept, encodeDataFrame("still early"));
  await Promise.all([readToEnd(first), readToEnd(afterAccept)]);
  first.close();
  afterAccept.close();
  const closed = await c.waitHostileClosed(2);
  assertGoodLive(c);
  const result = await c.finish();
  for (const e of closed) {
    assert.ok(e.error instanceof HandshakeError);
    assert.equal(e.error.reason, "unexpected-frame");
    assert.match(e.error.message, /data frame before START/);
  }
  assertCounters(result, {
    hostileConnections: 2,
    handshakeFailures: 2,
    protocolErrors: { "handshake:unexpected-frame": 2 },
  });
  await report("data frame before READY/START", result);
});

Deno.test(NAME + "a second READY mid-stream", async () => {
  // Inside the stream: the stream is refused ("READY frame after START"),
  // as ReaderSession decides (it was skipped before 0.2). Before START
  // (after ACCEPT): "READY frame received twice". The data frame before the
  // second READY is delivered.
  await using c = await Case.open({ delivery: "iterate" });
  await c.startGood({ seed: 25 });
  const mid = await c.connect();
  await send(mid, READY);
  await readExactly(mid, ACCEPT.length);
  await send(
    mid,
    concat(START, encodeDataFrame("1"), READY, encodeDataFrame("2"), STOP),
  );
  assert.equal((await readToEnd(mid)).length, 0, "no FINISH");
  mid.close();
  const twice = await c.connect();
  await send(twice, READY);
  await readExactly(twice, ACCEPT.length);
  await send(twice, READY);
  assert.equal((await readToEnd(twice)).length, 0);
  twice.close();
  const closed = await c.waitHostileClosed(2);
  assertGoodLive(c);
  const result = await c.finish();
  const [a, b] = closed;
  assert.ok(a!.error instanceof HandshakeError);
  assert.equal(a!.error.reason, "unexpected-frame");
  assert.match(a!.error.message, /READY frame after START/);
  assert.equal(a!.stopped, false);
  assert.ok(b!.error instanceof HandshakeError);
  assert.equal(b!.error.reason, "unexpected-frame");
  assert.match(b!.error.message, /READY frame received twice/);
  assertCounters(result, {
    hostileConnections: 2,
    handshakeFailures: 1,
    protocolErrors: { "handshake:unexpected-frame": 2 },
  }, 1);
  await report("second READY mid-stream", result);
});

// ---------------------------------------------------------------------------
// Slow, silent and stuck peers

Deno.test(NAME + "a writer that never sends START", async () => {
  await using c = await Case.open();
  await c.startGood({ seed: 26 });
  const conn = await c.connect();
  await send(conn, READY);
  assert.deepEqual(await readToEnd(conn), ACCEPT);
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.ok(e.error instanceof SessionTimeoutError);
  assert.match(e.error.message, /no START within 400 ms after ACCEPT/);
  assertCounters(result, {
    hostileConnections: 1,
    handshakeFailures: 1,
    protocolErrors: { "handshake-timeout": 1 },
  });
  await report("writer never sends START", result);
});

Deno.test(NAME + "one byte per second (slowloris)", async () => {
  // 1. In the handshake, dripping READY faster than the timeout (a byte
  //    every 100 ms): handshakeTimeout counts from the connection's opening,
  //    not from the last byte, so it is cut after a few bytes of 42.
  // 2. In the data phase, a data frame announcing 1 MiB, then its payload
  //    at one byte per second: idleTimeout (400 ms of silence) closes it
  //    after the first gap. The frame being assembled is the documented
  //    per-connection memory (at most maxFrameLength).
  // 3. In the data phase, a byte every 50 ms (never silent 400 ms): the
  //    documented tolerance; it is not cut, its frame arrives whole, and
  //    idleTimeout ends it once it goes quiet.
  await using c = await Case.open({ receiver: { idleTimeout: 400 } });
  await c.startGood({ seed: 27 });
  const handshake = (async () => {
    const conn = await c.connect();
    const sent = await drip(conn, READY, 100);
    await readToEnd(conn);
    conn.close();
    return sent;
  })();
  const perSecond = (async () => {
    const conn = await c.connect();
    await send(conn, READY);
    await readExactly(conn, ACCEPT.length);
    await send(conn, concat(START, words(DEFAULT_MAX_FRAME_LENGTH)));
    const sent = await drip(conn, Uint8Array.of(1, 2, 3), 1_000);
    await readToEnd(conn);
    conn.close();
    return sent;
  })();
  const fast = (async () => {
    const conn = await c.connect();
    await send(conn, START);
    const frame = encodeDataFrame("twelve bytes");
    const sent = await drip(conn, frame, 50);
    assert.equal(sent, frame.length, "the whole frame went in");
    await readToEnd(conn);
    conn.close();
  })();
  const [handshakeSent, perSecondSent] = await Promise.all([
    handshake,
    perSecond,
    fast,
  ]);
  assert.ok(
    handshakeSent < READY.length,
    `READY cut after ${handshakeSent} bytes`,
  );
  assert.ok(perSecondSent <= 2, `cut after ${perSecondSent} bytes`);
  const closed = await c.waitHostileClosed(3);
  assertGoodLive(c);
  const result = await c.finish();
  const messages = closed.map((e) => {
    assert.ok(e.error instanceof SessionTimeoutError);
    return e.error.message;
  }).sort();
  assert.deepEqual(messages, [
    "Timed out: connection idle for 400 ms",
    "Timed out: connection idle for 400 ms",
    "Timed out: no READY or START within 400 ms",
  ]);
  assertCounters(result, {
    hostileConnections: 3,
    handshakeFailures: 1,
    protocolErrors: { "handshake-timeout": 1, "idle-timeout": 2 },
  }, 1);
  await report("slowloris", result, { handshakeSent, perSecondSent });
});

Deno.test(
  NAME +
    "a writer that never reads (FINISH blocked), and close() with the grace period",
  async () => {
    // 1. READY, START, data, STOP, and never a read (ACCEPT and FINISH stay
    //    unread in its receive buffer) nor a close: the receiver writes
    //    FINISH and closes at once, a normal end.
    // 2. READY, START, data, then nothing, never a read, never a close: it
    //    holds the receiver's close() for gracePeriod (300 ms) only, then is
    //    closed with Deno.errors.Interrupted, counted nowhere.
    await using c = await Case.open({ receiver: { gracePeriod: 300 } });
    await c.startGood({ seed: 28 });
    const stops = await c.connect();
    await send(stops, concat(READY, START, encodeDataFrame("s"), STOP));
    const stuck = await c.connect();
    await send(stuck, concat(READY, START, encodeDataFrame("t")));
    const [stopped] = await c.waitHostileClosed(1);
    assert.equal(stopped!.error, null);
    assert.equal(stopped!.stopped, true);
    await waitFor(() => c.checker.others.size === 2, "both hostile frames");
    const result = await c.finish();
    assert.ok(result.closeMs >= 250, `close() took ${result.closeMs} ms`);
    assert.ok(
      result.closeMs < 300 + 2_000,
      `close() took ${result.closeMs} ms`,
    );
    const held = c.hostileClosed().find((e) =>
      e.connection.id !== stopped!.connection.id
    )!;
    assert.ok(held.error instanceof Deno.errors.Interrupted);
    assert.match(held.error.message, /grace period \(300 ms\)/);
    assert.equal(held.stopped, false);
    assertCounters(result, { hostileConnections: 2 }, 2);
    // What the receiver wrote is all there, unread: ACCEPT and FINISH.
    assert.deepEqual(await readToEnd(stops), concat(ACCEPT, FINISH));
    assert.deepEqual(await readToEnd(stuck), ACCEPT);
    stops.close();
    stuck.close();
    await report("never reads / grace period", result);
  },
);
