// FrameReceiver under hostile input, over real sockets: one live receiver per
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
import net from "node:net";
import {
  ControlFrameError,
  ControlType,
  encodeControlFrame,
  encodeDataFrame,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  TruncatedFrameError,
} from "../mod.ts";
import { delay, rng, waitFor } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  ACCEPT,
  assertCounters,
  Case,
  type CaseResult,
  type ClosedEvent,
  closeQuietly,
  concat,
  DNSTAP,
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

const NAME = "FrameReceiver under hostile input: ";
const CONTENT_TYPE = 1;
const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;

/** With HOSTILE_REPORT=path, appends a line of numbers per case (for the README). */
async function report(
  name: string,
  result: CaseResult,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const path = Deno.env.get("HOSTILE_REPORT");
  if (path === undefined) return;
  const line = {
    name,
    goodFrames: result.written,
    ...result.memory,
    closeMs: Math.round(result.closeMs),
    elapsedMs: Math.round(result.elapsedMs),
    ...extra,
  };
  await Deno.writeTextFile(path, JSON.stringify(line) + "\n", { append: true });
}

/**
 * Open file descriptors of this process (Linux), counted by `ls` (reading
 * /proc/self directly needs --allow-all, `deno task test` has --allow-run).
 */
async function openFds(): Promise<number> {
  const { code, stdout } = await new Deno.Command("sh", {
    args: ["-c", `ls /proc/${Deno.pid}/fd | wc -l`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(code, 0, "ls /proc/PID/fd");
  return Number(new TextDecoder().decode(stdout).trim());
}

/** The closed event of one hostile connection, checked to be alone. */
function only(closed: ClosedEvent[]): ClosedEvent {
  assert.equal(closed.length, 1, "one hostile connection closed");
  return closed[0]!;
}

/** Asserts every hostile close happened while the good stream was live. */
function assertGoodLive(c: Case): void {
  assert.ok(
    c.goodLiveAtHostileClose.every((x) => x),
    "every hostile connection closed while the good stream was live",
  );
}

// ---------------------------------------------------------------------------
// Not Frame Streams at all

Deno.test(NAME + "random garbage", async () => {
  // Seeded garbage (the same bytes every run), 1..8 KiB a connection, in four
  // shapes of five connections each, every one ending with a typed protocol
  // error, never an I/O error or a hang:
  // - garbage from the first byte: its first word is over 1 MiB
  //   (FrameTooLargeError);
  // - an escape, then garbage: clen is over 512 (ControlFrameError "length");
  // - a plausible length word (1..4096), then more garbage than that: a
  //   data frame before START (HandshakeError "unexpected-frame");
  // - a valid START, then garbage: FrameTooLargeError inside the stream
  //   (not a handshake failure).
  await using c = await Case.open();
  await c.startGood({ seed: 11 });
  const r = rng(7);
  const garbage = (n: number) =>
    Uint8Array.from({ length: n }, () => r() & 0xff);
  const shapes: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) shapes.push(garbage(1 + r() % 8192));
  for (let i = 0; i < 5; i++) {
    shapes.push(concat(words(0), garbage(1 + r() % 8192)));
  }
  for (let i = 0; i < 5; i++) {
    const length = 1 + r() % 4096;
    shapes.push(concat(words(length), garbage(length + 1 + r() % 4096)));
  }
  for (let i = 0; i < 5; i++) {
    shapes.push(concat(START, garbage(1 + r() % 8192)));
  }
  await Promise.all(shapes.map(async (bytes) => {
    const conn = await c.connect();
    await send(conn, bytes);
    await readToEnd(conn); // the receiver closes it
    conn.close();
  }));
  const closed = await c.waitHostileClosed(shapes.length);
  assertGoodLive(c);
  const result = await c.finish();
  const names = closed.map((e) => e.error?.name ?? "none");
  assert.deepEqual(
    Object.fromEntries(
      ["FrameTooLargeError", "ControlFrameError", "HandshakeError"].map(
        (n) => [n, names.filter((x) => x === n).length],
      ),
    ),
    { FrameTooLargeError: 10, ControlFrameError: 5, HandshakeError: 5 },
  );
  assertCounters(result, {
    hostileConnections: shapes.length,
    handshakeFailures: 15,
    protocolErrors: {
      "frame-too-large": 10,
      "control-frame:length": 5,
      "handshake:unexpected-frame": 5,
    },
  });
  await report("random garbage", result);
});

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
        e.error instanceof Deno.errors.TimedOut
      );
      const io = closed.filter((e) =>
        !(e.error instanceof Deno.errors.TimedOut)
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

Deno.test(
  NAME + "a PowerDNS-protobuf 2-byte-length stream (dnsdist RemoteLogger)",
  async () => {
    await using c = await Case.open();
    await c.startGood({ seed: 14 });
    // PBDNSMessage as dnsdist's newRemoteLogger sends it: a 2-byte length,
    // then protobuf (field 1 varint: type; field 2 bytes: message id; ...).
    const r = rng(3);
    const message = (n: number) =>
      concat(
        Uint8Array.of(0x08, 0x01, 0x12, 0x10),
        Uint8Array.from({ length: 16 }, () => r() & 0xff),
        Uint8Array.of(0x1a, n - 22),
        Uint8Array.from({ length: n - 22 }, () => 0x61 + r() % 26),
      );
    const stream = concat(
      ...[120, 140, 96].map((n) => concat(Uint8Array.of(0, n), message(n))),
    );
    const conn = await c.connect();
    await send(conn, stream);
    assert.equal((await readToEnd(conn)).length, 0);
    conn.close();
    const e = only(await c.waitHostileClosed(1));
    assertGoodLive(c);
    const result = await c.finish();
    assert.ok(e.error instanceof NotFrameStreamsError);
    assert.equal(e.error.offset, 0);
    // 00 78 | 08 01, read as a length.
    assert.match(e.error.message, new RegExp(`${0x00780801} bytes`));
    assert.match(
      e.error.message,
      /2-byte length followed by protobuf, as dnsdist's RemoteLogger sends/,
    );
    assertCounters(result, {
      hostileConnections: 1,
      handshakeFailures: 1,
      protocolErrors: { "not-frame-streams": 1 },
    });
    await report("PowerDNS protobuf stream", result);
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
    assert.ok(e.error instanceof Deno.errors.TimedOut);
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
// Malformed control frames

Deno.test(
  NAME + "a control frame of 513 bytes and one of 3 bytes",
  async () => {
    // clen 513 as the first frame; clen 3 inside a started stream.
    await using c = await Case.open();
    await c.startGood({ seed: 17 });
    const long = await c.connect();
    await send(
      long,
      rawControl(ControlType.READY, [[CONTENT_TYPE, new Uint8Array(501)]]),
    );
    const short = await c.connect();
    const one = encodeDataFrame("one");
    await send(short, concat(START, one, words(0, 3), Uint8Array.of(0, 0, 4)));
    await Promise.all([readToEnd(long), readToEnd(short)]);
    long.close();
    short.close();
    const closed = await c.waitHostileClosed(2);
    assertGoodLive(c);
    const result = await c.finish();
    const [e513, e3] = closed.map((e) => e.error as ControlFrameError)
      .sort((x, y) => x.offset - y.offset);
    assert.ok(
      e513 instanceof ControlFrameError && e3 instanceof ControlFrameError,
    );
    assert.equal(e513.reason, "length");
    assert.equal(e513.offset, 0);
    assert.equal(e513.errorOffset, 4);
    assert.match(e513.message, /its length is 513, it must be from 4 to 512/);
    assert.equal(e3.reason, "length");
    assert.equal(e3.offset, START.length + one.length);
    assert.match(e3.message, /its length is 3/);
    assertCounters(result, {
      hostileConnections: 2,
      handshakeFailures: 1,
      protocolErrors: { "control-frame:length": 2 },
    }, 1);
    await report("control frame of 513 and of 3 bytes", result);
  },
);

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

Deno.test(NAME + "an unknown field type", async () => {
  await using c = await Case.open();
  await c.startGood({ seed: 19 });
  const conn = await c.connect();
  const ready = rawControl(ControlType.READY, [
    [CONTENT_TYPE, new TextEncoder().encode(DNSTAP)],
    [2, Uint8Array.of(1, 2, 3)],
  ]);
  await send(conn, ready);
  assert.equal((await readToEnd(conn)).length, 0, "no ACCEPT");
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.ok(e.error instanceof ControlFrameError);
  assert.equal(e.error.reason, "field-type");
  assert.equal(e.error.offset, 0);
  assert.equal(e.error.errorOffset, 12 + 8 + DNSTAP.length);
  assertCounters(result, {
    hostileConnections: 1,
    handshakeFailures: 1,
    protocolErrors: { "control-frame:field-type": 1 },
  });
  await report("unknown field type", result);
});

Deno.test(NAME + "a content type of 257 bytes", async () => {
  await using c = await Case.open();
  await c.startGood({ seed: 20 });
  const conn = await c.connect();
  await send(
    conn,
    rawControl(ControlType.READY, [[
      CONTENT_TYPE,
      new Uint8Array(257).fill(0x41),
    ]]),
  );
  assert.equal((await readToEnd(conn)).length, 0);
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.ok(e.error instanceof ControlFrameError);
  assert.equal(e.error.reason, "content-type-length");
  assert.equal(e.error.errorOffset, 16);
  assert.match(e.error.message, /content type is 257 bytes, limit 256/);
  assertCounters(result, {
    hostileConnections: 1,
    handshakeFailures: 1,
    protocolErrors: { "control-frame:content-type-length": 1 },
  });
  await report("content type of 257 bytes", result);
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

Deno.test(NAME + "READY with no common content type", async () => {
  await using c = await Case.open();
  await c.startGood({ seed: 22 });
  const conn = await c.connect();
  await send(
    conn,
    encodeControlFrame(ControlType.READY, ["application/x-other", ""]),
  );
  assert.equal((await readToEnd(conn)).length, 0, "no ACCEPT");
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.ok(e.error instanceof HandshakeError);
  assert.equal(e.error.reason, "no-common-content-type");
  assertCounters(result, {
    hostileConnections: 1,
    handshakeFailures: 1,
    protocolErrors: { "handshake:no-common-content-type": 1 },
  });
  await report("READY with no common content type", result);
});

Deno.test(NAME + "START with two content types", async () => {
  // Unidirectional (START first), and after READY / ACCEPT.
  await using c = await Case.open();
  await c.startGood({ seed: 23 });
  const dnstap = new TextEncoder().encode(DNSTAP);
  const start2 = rawControl(ControlType.START, [[CONTENT_TYPE, dnstap], [
    CONTENT_TYPE,
    dnstap,
  ]]);
  const uni = await c.connect();
  await send(uni, start2);
  const bi = await c.connect();
  await send(bi, READY);
  await readExactly(bi, ACCEPT.length);
  await send(bi, start2);
  await Promise.all([readToEnd(uni), readToEnd(bi)]);
  uni.close();
  bi.close();
  const closed = await c.waitHostileClosed(2);
  assertGoodLive(c);
  const result = await c.finish();
  for (const e of closed) {
    assert.ok(e.error instanceof ControlFrameError);
    assert.equal(e.error.reason, "content-type-count");
    assert.match(e.error.message, /START may carry at most 1 content type/);
  }
  assertCounters(result, {
    hostileConnections: 2,
    handshakeFailures: 2,
    protocolErrors: { "control-frame:content-type-count": 2 },
  });
  await report("START with two content types", result);
});

Deno.test(NAME + "STOP with a field", async () => {
  await using c = await Case.open({ delivery: "iterate" });
  await c.startGood({ seed: 24 });
  const conn = await c.connect();
  await send(conn, READY);
  await readExactly(conn, ACCEPT.length);
  const data = encodeDataFrame("data");
  const stop = rawControl(ControlType.STOP, [[
    CONTENT_TYPE,
    Uint8Array.of(0x78),
  ]]);
  await send(conn, concat(START, data, stop));
  assert.equal((await readToEnd(conn)).length, 0, "no FINISH");
  conn.close();
  const e = only(await c.waitHostileClosed(1));
  assertGoodLive(c);
  const result = await c.finish();
  assert.ok(e.error instanceof ControlFrameError);
  assert.equal(e.error.reason, "content-type-count");
  assert.equal(e.error.offset, READY.length + START.length + data.length);
  assert.equal(e.stopped, false);
  assertCounters(result, {
    hostileConnections: 1,
    protocolErrors: { "control-frame:content-type-count": 1 },
  }, 1);
  await report("STOP with a field", result);
});

Deno.test(NAME + "a second READY mid-stream", async () => {
  // Inside the stream: skipped and counted, the stream goes on to STOP and
  // FINISH. Before START (after ACCEPT): the handshake fails.
  await using c = await Case.open({ delivery: "iterate" });
  await c.startGood({ seed: 25 });
  const mid = await c.connect();
  await send(mid, READY);
  await readExactly(mid, ACCEPT.length);
  await send(
    mid,
    concat(START, encodeDataFrame("1"), READY, encodeDataFrame("2"), STOP),
  );
  assert.deepEqual(await readToEnd(mid), FINISH);
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
  assert.equal(a!.error, null);
  assert.equal(a!.stopped, true);
  assert.ok(b!.error instanceof HandshakeError);
  assert.equal(b!.error.reason, "unexpected-frame");
  assert.match(b!.error.message, /READY frame received twice/);
  assertCounters(result, {
    hostileConnections: 2,
    handshakeFailures: 1,
    skippedFrames: 1,
    protocolErrors: { "handshake:unexpected-frame": 1 },
  }, 2);
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
  assert.ok(e.error instanceof Deno.errors.TimedOut);
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
    assert.ok(e.error instanceof Deno.errors.TimedOut);
    return e.error.message;
  }).sort();
  assert.deepEqual(messages, [
    "Connection idle for 400 ms",
    "Connection idle for 400 ms",
    "Handshake timed out: no READY or START within 400 ms",
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

// ---------------------------------------------------------------------------
// Connections that end badly

Deno.test(NAME + "half-open connections", async () => {
  // 1. READY, ACCEPT, then the write side shut (FIN): "handshake-eof".
  // 2. START, two frames, FIN at a frame boundary: a normal end (dnsdist).
  // 3. START, a frame, then silence with the socket open (a peer gone
  //    without FIN): idleTimeout.
  await using c = await Case.open({ receiver: { idleTimeout: 400 } });
  await c.startGood({ seed: 29 });
  const afterReady = await c.connect();
  await send(afterReady, READY);
  await readExactly(afterReady, ACCEPT.length);
  await afterReady.closeWrite();
  const atBoundary = await c.connect();
  await send(
    atBoundary,
    concat(START, encodeDataFrame("1"), encodeDataFrame("2")),
  );
  await atBoundary.closeWrite();
  const gone = await c.connect();
  await send(gone, concat(START, encodeDataFrame("3")));
  for (const conn of [afterReady, atBoundary, gone]) {
    assert.equal((await readToEnd(conn)).length, 0);
    conn.close();
  }
  const closed = await c.waitHostileClosed(3);
  assertGoodLive(c);
  const result = await c.finish();
  const byName = new Map(closed.map((e) => [e.error?.name ?? "null", e]));
  assert.match(
    byName.get("UnexpectedEof")!.error!.message,
    /after READY, before START/,
  );
  assert.equal(byName.get("null")!.stopped, false);
  assert.match(byName.get("TimedOut")!.error!.message, /idle for 400 ms/);
  assertCounters(result, {
    hostileConnections: 3,
    handshakeFailures: 1,
    protocolErrors: { "handshake-eof": 1, "idle-timeout": 1 },
  }, 3);
  await report("half-open", result);
});

Deno.test(NAME + "reset connections", async () => {
  // A TCP RST (node:net's resetAndDestroy, SO_LINGER 0; Deno's own close()
  // sends FIN first, which the receiver rightly reads as an end of input):
  // 1. in the handshake, after READY and ACCEPT;
  // 2. in the data phase, after three frames were delivered;
  // 3. in the middle of a data frame.
  // Each is an I/O error (Deno.errors.ConnectionReset), the first also a
  // handshake failure; the frames delivered before a reset stay delivered.
  await using c = await Case.open();
  await c.startGood({ seed: 30 });
  const three = concat(
    START,
    ...["a", "b", "c"].map((s) => encodeDataFrame(s)),
  );
  const half = encodeDataFrame("half of me").subarray(0, 8);
  // [bytes, data frames to wait for, whether to wait for START]
  const plans: [Uint8Array, number, boolean][] = [
    [READY, 0, false],
    [concat(READY, three), 3, true],
    [concat(READY, START, half), 0, true],
  ];
  for (const [bytes, frames, started] of plans) {
    const before = c.checker.others.size;
    const startedBefore = c.started;
    const socket = net.connect(c.port, "127.0.0.1");
    const accepted = new Promise<void>((resolve, reject) => {
      socket.once("data", () => resolve());
      socket.once("error", reject);
    });
    socket.write(bytes);
    await accepted; // ACCEPT came: the receiver has read READY
    if (started) await waitFor(() => c.started > startedBefore, "START");
    if (frames > 0) {
      await waitFor(
        () =>
          c.checker.others.size > before &&
          [...c.checker.others.values()].at(-1) === frames,
        "the frames",
      );
    }
    await delay(20); // the rest of the bytes reach the receiver
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.resetAndDestroy();
    await closed;
  }
  const closed = await c.waitHostileClosed(3);
  assertGoodLive(c);
  const result = await c.finish();
  for (const e of closed) {
    assert.ok(e.error instanceof Deno.errors.ConnectionReset, `got ${e.error}`);
    assert.equal(e.stopped, false);
  }
  assertCounters(result, {
    hostileConnections: 3,
    handshakeFailures: 1,
    ioErrors: 3,
  }, 3);
  await report("reset", result);
});

Deno.test(NAME + "a close in the middle of a frame", async () => {
  // 1. Half a data frame after two whole ones: the two are delivered.
  // 2. Half a READY.
  // 3. Two bytes of a length word after START.
  await using c = await Case.open({ transport: "unix", delivery: "iterate" });
  await c.startGood({ seed: 31 });
  const one = encodeDataFrame("1"), two = encodeDataFrame("2");
  const cut = encodeDataFrame("cut short, this one");
  const cases = [
    concat(START, one, two, cut.subarray(0, 9)),
    READY.subarray(0, 20),
    concat(START, Uint8Array.of(0, 0)),
  ];
  for (const bytes of cases) {
    const conn = await c.connect();
    await send(conn, bytes);
    conn.close();
  }
  const closed = await c.waitHostileClosed(3);
  assertGoodLive(c);
  const result = await c.finish();
  const errors = closed.map((e) => e.error as TruncatedFrameError)
    .sort((a, b) => a.received - b.received);
  for (const e of errors) {
    assert.ok(e instanceof TruncatedFrameError);
    assert.equal(e.reason, "frame");
  }
  assert.deepEqual(
    errors.map((e) => [e.offset, e.received, e.expected]),
    [
      [START.length, 2, null],
      [START.length + one.length + two.length, 9, cut.length],
      [0, 20, READY.length],
    ],
  );
  assertCounters(result, {
    hostileConnections: 3,
    handshakeFailures: 1,
    protocolErrors: { truncated: 3 },
  }, 2);
  await report("close mid-frame", result);
});

// ---------------------------------------------------------------------------
// Many connections

Deno.test(NAME + "10,000 connect-and-close in a loop", async () => {
  // Eight loops of connect-then-close on a Unix socket (no TCP TIME_WAIT),
  // in two rounds of 5,000, while the good stream runs. Each is a plain end
  // before any frame: closed with no error, counted in no failure counter.
  // Deno's op and resource sanitizers (on) check that nothing leaks in this
  // process, /proc/self/fd that no descriptor is left behind, and the two
  // rounds that memory levels off instead of growing with the count.
  //
  // The bound is wider than other cases': each connection allocates its
  // 64 KiB read buffer and a 48 KiB scan table when accepted, before any
  // byte, and closed connections are garbage that V8 frees when it gets to
  // it: measured +95 MiB RSS under `deno run`, +250..285 MiB under
  // `deno test` (same code; GC timing), and level between the two rounds.
  await using c = await Case.open({ transport: "unix" });
  await c.startGood({ seed: 32 });
  const fds = await openFds();
  const round = 5_000, loops = 8;
  const t0 = performance.now();
  const peaks: number[] = [];
  for (let r = 1; r <= 2; r++) {
    await Promise.all(
      Array.from({ length: loops }, async () => {
        for (let i = 0; i < round / loops; i++) (await c.connect()).close();
      }),
    );
    await c.waitHostileClosed(r * round);
    c.memory.sample();
    peaks.push((c.memory.peakRss - c.memory.baseline.rss) / 2 ** 20);
  }
  const loopMs = Math.round(performance.now() - t0);
  assertGoodLive(c);
  assert.equal(
    c.receiver.stats.connectionsOpen,
    1,
    "only the good connection is open",
  );
  const after = await openFds();
  assert.ok(after <= fds, `descriptors: ${fds} before, ${after} after`);
  const result = await c.finish({ rss: 512, external: 512 });
  assert.ok(
    peaks[1]! < peaks[0]! + 128, // a leak of 112 KiB each: +550 MiB
    `RSS peak after 5,000: +${peaks[0]} MiB, after 10,000: +${peaks[1]} MiB`,
  );
  assert.equal(result.hostileClosed.length, 2 * round);
  for (const e of result.hostileClosed) {
    assert.equal(e.error, null);
    assert.equal(e.stopped, false);
  }
  assertCounters(result, { hostileConnections: 2 * round });
  await report("10,000 connect-and-close", result, {
    loopMs,
    rssPeakAfter5000: Math.round(peaks[0]!),
    rssPeakAfter10000: Math.round(peaks[1]!),
  });
});

Deno.test(NAME + "more connections than maxConnections", async () => {
  // maxConnections 4: the good stream and three silent holders fill it; 50
  // more are closed at once (EOF, no byte), counted in connectionsRejected,
  // with no event. Once the holders leave, a newcomer is served again.
  await using c = await Case.open({
    receiver: { maxConnections: 4, handshakeTimeout: 0 },
  });
  await c.startGood({ seed: 33 });
  const holders = await Promise.all([1, 2, 3].map(() => c.connect()));
  await waitFor(() => c.receiver.stats.connectionsOpen === 4, "four open");
  const rejected = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const conn = await c.connect();
      const got = await readToEnd(conn);
      conn.close();
      return got.length;
    }),
  );
  assert.deepEqual(rejected, new Array(50).fill(0));
  await waitFor(
    () => c.receiver.stats.connectionsRejected === 50,
    "rejections",
  );
  assert.equal(c.receiver.stats.connectionsOpen, 4);
  for (const h of holders) h.close();
  await c.waitHostileClosed(3);
  const late = await c.connect();
  await send(late, concat(START, encodeDataFrame("late"), STOP));
  assert.equal((await readToEnd(late)).length, 0);
  late.close();
  const closed = await c.waitHostileClosed(4);
  assertGoodLive(c);
  const result = await c.finish();
  assert.equal(closed.length, 4, "the rejected connections made no event");
  for (const e of closed) assert.equal(e.error, null);
  assert.equal(closed.filter((e) => e.stopped).length, 1);
  assertCounters(result, { hostileConnections: 4, connectionsRejected: 50 }, 1);
  await report("more connections than maxConnections", result);
});

// ---------------------------------------------------------------------------
// Found by this suite, and fixed (regression tests).

// Fixed: a data frame's length word before START is enough to know the
// connection is broken ("A data frame first is a protocol error: close, do
// not store it", PROTOCOL.md §5), but the receiver waits for the whole
// declared payload (up to maxFrameLength) before deciding, and allocates it
// at once: 4 bytes from a peer reserve 1 MiB for handshakeTimeout (5 s by
// default), so 1,024 peers (maxConnections) reserve 1 GiB with 4 KiB, and
// the error becomes a handshake timeout instead of "unexpected-frame".
Deno.test({
  name: NAME +
    "a data frame's length word before START is refused at once, unallocated",
  fn: async () => {
    await using c = await Case.open({ receiver: { handshakeTimeout: 3_000 } });
    await c.startGood({ seed: 34 });
    const peers = await Promise.all(
      Array.from({ length: 32 }, async () => {
        const conn = await c.connect();
        await send(conn, words(DEFAULT_MAX_FRAME_LENGTH));
        return conn;
      }),
    );
    await waitFor(() => c.receiver.stats.connectionsTotal === 33, "the peers");
    await delay(100);
    c.memory.sample();
    const external = (c.memory.peakExternal - c.memory.baseline.external) /
      2 ** 20;
    for (const p of peers) {
      await readToEnd(p);
      p.close();
    }
    const closed = await c.waitHostileClosed(32);
    const result = await c.finish();
    assert.ok(external < 16, `32 length words reserved ${external} MiB`);
    for (const e of closed) {
      assert.ok(e.error instanceof HandshakeError, `got ${e.error}`);
      assert.equal(e.error.reason, "unexpected-frame");
    }
    assertCounters(result, {
      hostileConnections: 32,
      handshakeFailures: 32,
      protocolErrors: { "handshake:unexpected-frame": 32 },
    });
  },
});

// Known, upstream: on a TLS port, a client that never completes the TLS
// handshake (a plain TCP client that says nothing, a port scanner, a stalled
// TLS client) keeps its socket after the receiver closes it at
// handshakeTimeout. The receiver reports the connection closed ("closed"
// event, TimedOut, connectionsOpen back down) but Deno's TlsConn.close()
// defers closing the TCP socket until the TLS handshake is over
// (denoland/deno#14547), which here is never: the descriptor stays open as
// long as the peer keeps its end open, and maxConnections cannot count it
// (Deno gives no way to see when it goes: following handshake() does not
// work, it rejects at close()). Measured: 20 silent clients, 20 server
// descriptors still open 1.5 s after their 400 ms timeouts, released only
// when the clients closed. Documented in FrameReceiver's JSDoc and the
// README; this test is what should pass once Deno closes such sockets.
Deno.test({
  name: NAME +
    "a silent plain client on a TLS port is disconnected at handshakeTimeout",
  ignore: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fstrm-hostile-tls-" });
    try {
      const tls = await selfSignedCert(dir);
      await using c = await Case.open({ transport: "tls", tls });
      const silent = await c.connect();
      await c.startGood({ seed: 35, caCert: tls.cert });
      const [e] = await c.waitHostileClosed(1);
      assert.ok(e!.error instanceof Deno.errors.TimedOut);
      // The peer must see the close (EOF or reset) soon after.
      const seen = await Promise.race([
        readToEnd(silent).then(() => "closed"),
        delay(2_000).then(() => "still open 2 s after the timeout"),
      ]);
      silent.close();
      assert.equal(seen, "closed");
      const result = await c.finish();
      assertCounters(result, {
        hostileConnections: 1,
        handshakeFailures: 1,
        protocolErrors: { "handshake-timeout": 1 },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Fixed: when accept() fails for lack of descriptors (EMFILE), the accept loop
// retries at once, with no pause ("Transient (out of descriptors, aborted
// connection): go on."): while connections wait in the backlog it spins,
// measured at 60..70 % of a core for as long as the descriptors stay short
// (a receiver with `ulimit -n 48` and 80 clients: 125..140 ticks of CPU in
// 2 s; with 20 clients: 0). Servers usually back off (Go's net/http: 5 ms
// doubling to 1 s). Linux only: the receiver runs in a child process under
// `ulimit -n 64`, and its CPU time is read from /proc.
Deno.test({
  name: NAME +
    "out of descriptors, the accept loop backs off instead of spinning",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fstrm-hostile-emfile-" });
    const script = `${dir}/receiver.ts`;
    await Deno.writeTextFile(
      script,
      `import { FrameReceiver } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
const r = await FrameReceiver.listen({ transport: "tcp", port: 0 }, {
  handshakeTimeout: 0, gracePeriod: 100, onData: () => {},
});
import process from "node:process";
console.log((r.addr as Deno.NetAddr).port);
// "start" then "stop" on stdin: prints the CPU microseconds used between.
let start: ReturnType<typeof process.cpuUsage> | null = null;
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  for (let i; (i = buf.indexOf("\\n")) >= 0;) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line === "start") start = process.cpuUsage();
    if (line === "stop") {
      const d = process.cpuUsage(start ?? undefined);
      console.log(d.user + d.system);
    }
  }
}
await r.close();
`,
    );
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        'ulimit -n 64 && exec "$0" run -A "$1"',
        Deno.execPath(),
        script,
      ],
      // No update check: it would want descriptors too.
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const conns: Deno.Conn[] = [];
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      const line = async (): Promise<string> => {
        while (!out.includes("\n")) {
          const { value, done } = await reader.read();
          if (done) break;
          out += value;
        }
        const i = out.indexOf("\n");
        const text = out.slice(0, i);
        out = out.slice(i + 1);
        return text;
      };
      const port = Number((await line()).trim());
      // Deno 2.9.6 itself panics if it runs out of descriptors while it is
      // still starting (ext/signals): let it settle first.
      await delay(1_000);
      for (let i = 0; i < 150; i++) {
        conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      await delay(300);
      // The receiver measures its own CPU time (reading another process's
      // /proc entries needs --allow-all).
      const stdin = child.stdin.getWriter();
      const say = (text: string) => stdin.write(new TextEncoder().encode(text));
      await say("start\n");
      await delay(1_000);
      await say("stop\n");
      // A spinning receiver may never get to answer: that fails too.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const answer = await Promise.race([
        line(),
        new Promise<string>((resolve) => {
          timer = setTimeout(() => resolve("no answer within 10 s"), 10_000);
        }),
      ]);
      clearTimeout(timer);
      const micros = Number(answer.trim());
      assert.ok(
        micros < 200_000,
        `the receiver used ${micros / 1000} ms of CPU in 1 s, idle (${answer})`,
      );
      await stdin.close();
      await reader.cancel();
    } finally {
      for (const conn of conns) conn.close();
      await child.stdin.close().catch(() => {});
      // A spinning receiver may not see its stdin close: end it anyway.
      const stopped = await Promise.race([
        child.status.then(() => true),
        delay(2_000).then(() => false),
      ]);
      if (!stopped) child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
