// FrameReceiver over real sockets: Unix sockets in a temporary directory,
// TCP and TLS on 127.0.0.1. Writers are the C tool fstrm_replay (libfstrm),
// the Go `dnstap` CLI, and hand-written peers that follow or break the
// protocol. No assertion is about timing: timeouts are set small and the
// tests assert what happened, not how fast.
import assert from "node:assert/strict";
import { delay, rng, waitFor, withTempDir } from "./_support.ts";
import {
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  encodeFrameStream,
  FrameWriter,
} from "../mod.ts";
import {
  type ConnectionEvent,
  FrameReceiver,
  type FrameReceiverOptions,
  type ListenTarget,
  type ReceivedFrame,
} from "../src/frame_receiver.ts";
import { HandshakeError } from "../src/errors.ts";
import { interopTest } from "./_peers.ts";
import { concat, hex } from "./_util.ts";
import { selfSignedCert } from "./_tls.ts";

const DNSTAP = DNSTAP_CONTENT_TYPE;
const DNSTAP_BYTES = new TextEncoder().encode(DNSTAP);
const READY = encodeControlFrame(ControlType.READY, [DNSTAP]);
const START = encodeControlFrame(ControlType.START, [DNSTAP]);
const ACCEPT = encodeControlFrame(ControlType.ACCEPT, [DNSTAP]);
const STOP = encodeControlFrame(ControlType.STOP);
const FINISH = encodeControlFrame(ControlType.FINISH);

// ---------------------------------------------------------------------------
// Helpers

/** `count` payloads: mostly dnstap-sized, some up to 60 KB, random bytes. */
function makePayloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const pick = r() % 20;
    const length = pick < 16
      ? 80 + (r() % 320)
      : pick < 19
      ? 400 + (r() % 4_600)
      : 5_000 + (r() % 55_001);
    const p = new Uint8Array(length);
    for (let j = 0; j < length; j++) p[j] = r() & 0xff;
    out.push(p);
  }
  out.push(new Uint8Array(60_000).fill(7), Uint8Array.of(1));
  return out;
}

/** A receiver that records its connection events. */
async function listen(
  target: ListenTarget,
  options: FrameReceiverOptions = {},
): Promise<{ receiver: FrameReceiver; events: ConnectionEvent[] }> {
  const events: ConnectionEvent[] = [];
  const receiver = await FrameReceiver.listen(target, {
    ...options,
    onConnection: (event) => events.push(event),
  });
  return { receiver, events };
}

const TCP: ListenTarget = { transport: "tcp", port: 0 };

/** Connects a client to the receiver's address (TCP or Unix). */
function connect(receiver: FrameReceiver): Promise<Deno.Conn> {
  const addr = receiver.addr;
  return addr.transport === "unix"
    ? Deno.connect({ transport: "unix", path: addr.path })
    : Deno.connect({ port: (addr as Deno.NetAddr).port });
}

/** Writes all of `bytes`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let p = 0;
  while (p < bytes.length) p += await conn.write(bytes.subarray(p));
}

/** Reads exactly `n` bytes (fails on EOF before). */
async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let p = 0;
  while (p < n) {
    const got = await conn.read(out.subarray(p));
    if (got === null) assert.fail(`EOF after ${p} of ${n} bytes`);
    p += got;
  }
  return out;
}

/** Reads until the peer closes (a reset counts as closing); the bytes read. */
async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) break;
      throw error;
    }
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return concat(...parts);
}

/** Takes `n` frames from the receiver's iterator (without ending it). */
async function take(
  iterator: AsyncIterator<ReceivedFrame>,
  n: number,
): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  while (out.length < n) {
    const r = await iterator.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** The "closed" events among `events`. */
function closedEvents(
  events: ConnectionEvent[],
): Extract<ConnectionEvent, { type: "closed" }>[] {
  return events.flatMap((e) => e.type === "closed" ? [e] : []);
}

/** Asserts two payload lists are byte-identical, naming the first difference. */
function assertSamePayloads(got: Uint8Array[], want: Uint8Array[]): void {
  assert.equal(got.length, want.length, "frame count");
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    if (a.length !== b.length || !a.every((x, j) => x === b[j])) {
      assert.fail(`frame ${i} differs (${a.length} vs ${b.length} bytes)`);
    }
  }
}

/** Runs a command to completion; exit code and stderr. */
async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

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
        assert.deepEqual(closed!.connection.contentType, DNSTAP_BYTES);
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
      assert.deepEqual(closed!.connection.contentType, DNSTAP_BYTES);
      assert.deepEqual(receiver.stats.protocolErrors, {});
    });
  },
);

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
  assert.deepEqual(frame!.connection.contentType, DNSTAP_BYTES);
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
    assert.ok(closed.error instanceof Deno.errors.TimedOut);
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
  assert.ok(closedEvents(events)[0]!.error instanceof Deno.errors.TimedOut);
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
  await writeAll(conn, READY);
  await readExactly(conn, ACCEPT.length);
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
    await writeAll(conn, READY);
    await readExactly(conn, ACCEPT.length);
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
  await writeAll(good, READY);
  await readExactly(good, ACCEPT.length);
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
  await writeAll(first, READY);
  await readExactly(first, ACCEPT.length);
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

// ---------------------------------------------------------------------------
// Flow control, callbacks, shutdown

for (const readSize of [65_536, undefined]) {
  Deno.test(`FrameReceiver stops reading while the application does not keep up (readSize ${readSize ?? "default"})`, async () => {
    const highWaterMark = 16;
    const { receiver } = await listen(TCP, {
      highWaterMark,
      ...(readSize === undefined ? {} : { readSize }),
    });
    const payloads = Array.from(
      { length: 8_000 },
      (_, i) => new Uint8Array(4_000).fill(i & 0xff),
    );
    const bytes = encodeFrameStream(payloads); // 32 MB: more than any socket buffer
    const conn = await connect(receiver);
    let written = 0;
    const writer = (async () => {
      while (written < bytes.length) {
        written += await conn.write(bytes.subarray(written, written + 65_536));
      }
    })();
    // One read is at most readSize (default 256 KiB): that many 4 KB frames.
    const bound = highWaterMark + Math.ceil((readSize ?? 262_144) / 4_004) + 1;
    await waitFor(
      () => receiver.stats.bufferedFrames >= highWaterMark,
      "fill",
    );
    let before = -1;
    // The writer stalls: what it has written stops growing, short of the end.
    for (let i = 0; i < 1_000 && written !== before; i++) {
      before = written;
      await delay(50);
      assert.ok(receiver.stats.bufferedFrames <= bound, "buffer bounded");
    }
    assert.ok(written < bytes.length, "the writer is blocked");
    assert.ok(receiver.stats.bufferedFrames <= bound);
    // Reading everything lets the writer finish.
    const it = receiver[Symbol.asyncIterator]();
    const frames = await take(it, payloads.length);
    await writer;
    assert.equal(frames.length, payloads.length);
    assert.ok(frames.every((f, i) => f.data[0] === (i & 0xff)));
    conn.close();
    await receiver.close();
  });
}

Deno.test("FrameReceiver hands frames to onFrame one at a time, in order", async () => {
  const seen: number[] = [];
  let busy = false;
  const receiver = await FrameReceiver.listen(TCP, {
    highWaterMark: 4,
    onFrame: async (frame) => {
      assert.ok(!busy, "one call at a time");
      busy = true;
      await delay(1);
      seen.push(frame.data[0]!);
      busy = false;
    },
  });
  assert.throws(() => receiver[Symbol.asyncIterator](), TypeError);
  const conn = await connect(receiver);
  const payloads = Array.from({ length: 50 }, (_, i) => Uint8Array.of(i));
  await writeAll(conn, encodeFrameStream(payloads));
  await readToEnd(conn);
  conn.close();
  await waitFor(() =>
    receiver.stats.connectionsTotal === 1 &&
    receiver.stats.connectionsOpen === 0, "the close");
  await receiver.close(); // resolves once every frame has been handled
  assert.deepEqual(seen, payloads.map((p) => p[0]));
});

Deno.test("FrameReceiver payloads are copies: kept frames outlive later reads, and each is its own", async () => {
  // Frames of one read share a copy (or the read buffer itself, handed
  // over): none may change when the socket is read again, or when another
  // frame is written into.
  const payloads = makePayloads(3_000, 41);
  const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
  for (
    const [label, step] of [["small writes", 700], [
      "large writes",
      1 << 20,
    ]] as const
  ) {
    const { receiver } = await listen(TCP, { highWaterMark: 64 });
    const conn = await connect(receiver);
    const writer = (async () => {
      for (let p = 0; p < bytes.length; p += step) {
        await writeAll(conn, bytes.subarray(p, p + step));
      }
      conn.close();
    })();
    const kept = (await take(receiver[Symbol.asyncIterator](), payloads.length))
      .map((f) => f.data);
    await writer;
    assertSamePayloads(kept, payloads);
    for (let i = 0; i < kept.length; i += 2) kept[i]!.fill(0xee);
    for (let i = 1; i < kept.length; i += 2) {
      assert.deepEqual(kept[i], payloads[i], `${label}: frame ${i}`);
    }
    await receiver.close();
  }
});

Deno.test("FrameReceiver hands frames to a synchronous onFrame in order, and fails on its throw", async () => {
  const seen: Uint8Array[] = [];
  const payloads = makePayloads(2_000, 42);
  const receiver = await FrameReceiver.listen(TCP, {
    highWaterMark: 8,
    onFrame: (frame) => void seen.push(frame.data),
  });
  const conn = await connect(receiver);
  await writeAll(conn, encodeFrameStream(payloads));
  conn.close();
  await waitFor(() =>
    receiver.stats.connectionsTotal === 1 &&
    receiver.stats.connectionsOpen === 0, "the close");
  await receiver.close();
  assertSamePayloads(seen, payloads);

  const boom = new Error("boom");
  let calls = 0;
  const failing = await FrameReceiver.listen(TCP, {
    onFrame: () => {
      if (++calls === 3) throw boom;
    },
  });
  const c2 = await connect(failing);
  await writeAll(c2, encodeFrameStream(payloads.slice(0, 50)));
  await assert.rejects(
    (async () => {
      await waitFor(() => calls >= 3, "the third call");
      await failing.close();
    })(),
    (e) => e === boom,
  );
  assert.equal(calls, 3);
  c2.close();
});

Deno.test("FrameReceiver.close rejects with the error of a failing onFrame", async () => {
  const receiver = await FrameReceiver.listen(TCP, {
    onFrame: () => {
      throw new Error("handler broke");
    },
  });
  const conn = await connect(receiver);
  await writeAll(conn, concat(START, encodeDataFrame("x")));
  await readToEnd(conn); // the receiver closes every connection
  conn.close();
  await assert.rejects(receiver.close(), /handler broke/);
});

Deno.test("FrameReceiver.close gives an open stream the grace period, then closes it", async () => {
  const { receiver, events } = await listen(TCP, { gracePeriod: 200 });
  // One stream reaches STOP during the grace period, one never does.
  const finishing = await connect(receiver);
  const stuck = await connect(receiver);
  await writeAll(finishing, READY);
  await readExactly(finishing, ACCEPT.length);
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
    await writeAll(c, READY);
    await readExactly(c, ACCEPT.length);
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
    [{ onFrame: 1 as unknown as () => void }, TypeError],
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

// ---------------------------------------------------------------------------
// TLS

interopTest(
  "FrameReceiver speaks Frame Streams over TLS",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const { receiver, events } = await listen(
        { transport: "tls", port: 0, cert, key },
        { contentTypes: [DNSTAP] },
      );
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: (receiver.addr as Deno.NetAddr).port,
        caCerts: [cert],
      });
      await writeAll(conn, READY);
      assert.deepEqual(await readExactly(conn, ACCEPT.length), ACCEPT);
      const payloads = makePayloads(200, 5);
      await writeAll(
        conn,
        encodeFrameStream(payloads, { contentType: DNSTAP }),
      );
      const frames = await take(
        receiver[Symbol.asyncIterator](),
        payloads.length,
      );
      assert.deepEqual(await readToEnd(conn), FINISH);
      conn.close();
      assertSamePayloads(frames.map((f) => f.data), payloads);
      await waitFor(() => closedEvents(events).length === 1, "the close");
      assert.equal(closedEvents(events)[0]!.error, null);
      await receiver.close();
    });
  },
);

// ---------------------------------------------------------------------------
// onData: the zero-copy path

/**
 * Streams `sets[0]` from a bidirectional writer in pieces of 777 bytes
 * (frames split across reads) and `sets[1]` from a unidirectional one in
 * one write (START and frames in the first read), at the same time; waits
 * for both connections to end, then closes the receiver.
 */
async function streamTwo(
  receiver: FrameReceiver,
  sets: Uint8Array[][],
): Promise<void> {
  const bidi = (async () => {
    const conn = await connect(receiver);
    await writeAll(conn, READY);
    assert.deepEqual(await readExactly(conn, ACCEPT.length), ACCEPT);
    const bytes = concat(
      START,
      ...sets[0]!.map((p) => encodeDataFrame(p)),
      STOP,
    );
    for (let p = 0; p < bytes.length; p += 777) {
      await writeAll(conn, bytes.subarray(p, p + 777));
    }
    assert.deepEqual(await readExactly(conn, FINISH.length), FINISH);
    conn.close();
  })();
  const uni = (async () => {
    const conn = await connect(receiver);
    await writeAll(
      conn,
      encodeFrameStream(sets[1]!, { contentType: DNSTAP }),
    );
    conn.close();
  })();
  await Promise.all([bidi, uni]);
  await waitFor(() =>
    receiver.stats.connectionsTotal === 2 &&
    receiver.stats.connectionsOpen === 0, "both connections to end");
  await receiver.close();
}

Deno.test("FrameReceiver onData hands every frame of every connection, in order, byte-identical", async () => {
  const sets = [makePayloads(1_500, 51), makePayloads(1_500, 52)];
  const got = new Map<number, Uint8Array[]>();
  const modes = new Map<number, string | null>();
  const receiver = await FrameReceiver.listen(TCP, {
    contentTypes: [DNSTAP],
    onData: (window, offset, length, connection) => {
      // The view is valid during the call only: keep a copy.
      const list = got.get(connection.id) ?? [];
      list.push(window.slice(offset, offset + length));
      got.set(connection.id, list);
      modes.set(connection.id, connection.mode);
    },
  });
  assert.throws(() => receiver[Symbol.asyncIterator](), TypeError);
  await streamTwo(receiver, sets);
  const [a, b] = [...got.keys()].sort();
  const lists = [got.get(a!)!, got.get(b!)!];
  // Which connection got which id depends on accept order: match by size.
  const first = lists.find((l) =>
    l[0]!.length === sets[0]![0]!.length &&
    l[0]!.every((x, j) => x === sets[0]![0]![j])
  )!;
  const second = lists.find((l) => l !== first)!;
  assertSamePayloads(first, sets[0]!);
  assertSamePayloads(second, sets[1]!);
  assert.deepEqual(
    [...modes.values()].sort(),
    ["bidirectional", "unidirectional"],
  );
  const total = sets[0]!.length + sets[1]!.length;
  assert.equal(receiver.stats.frames, total);
  assert.equal(
    receiver.stats.bytes,
    [...sets[0]!, ...sets[1]!].reduce((n, p) => n + p.length, 0),
  );
});

for (const readSize of [65_536, 1 << 20]) {
  Deno.test(`FrameReceiver onData takes a 20 MB stream byte-identical with readSize ${readSize}`, async () => {
    // Frames of 1 byte to 70 KB, so that reads of every size cut them.
    const payloads = Array.from(
      { length: 3_000 },
      (_, i) =>
        new Uint8Array(i % 100 === 7 ? 70_000 : 1 + (i * 7_919) % 12_000)
          .fill(i & 0xff),
    );
    let got = 0;
    let bad = 0;
    const receiver = await FrameReceiver.listen(TCP, {
      readSize,
      onData: (window, offset, length) => {
        const want = payloads[got++]!;
        if (
          length !== want.length || window[offset] !== want[0] ||
          window[offset + length - 1] !== want[0]
        ) bad++;
      },
    });
    const conn = await connect(receiver);
    await writeAll(conn, encodeFrameStream(payloads));
    conn.close();
    await waitFor(() =>
      receiver.stats.connectionsTotal === 1 &&
      receiver.stats.connectionsOpen === 0, "the stream to end");
    await receiver.close();
    assert.equal(got, payloads.length);
    assert.equal(bad, 0);
    assert.equal(
      receiver.stats.bytes,
      payloads.reduce((n, p) => n + p.length, 0),
    );
  });
}

Deno.test("FrameReceiver onData: a returned promise stops that connection's reads until it settles", async () => {
  let release: (() => void) | null = null;
  const gate = new Promise<void>((resolve) => release = resolve);
  let calls = 0;
  let held = false;
  const lengths: number[] = [];
  const receiver = await FrameReceiver.listen(TCP, {
    onData: (_w, _o, length) => {
      calls++;
      lengths.push(length);
      if (held) return undefined;
      held = true;
      return gate; // the first frame holds the connection
    },
  });
  const payloads = Array.from(
    { length: 8_000 },
    (_, i) => new Uint8Array(4_000).fill(i & 0xff),
  );
  const bytes = encodeFrameStream(payloads); // 32 MB
  const conn = await connect(receiver);
  let written = 0;
  const writer = (async () => {
    while (written < bytes.length) {
      written += await conn.write(bytes.subarray(written, written + 65_536));
    }
    conn.close();
  })();
  let before = -1;
  for (let i = 0; i < 1_000 && written !== before; i++) {
    before = written;
    await delay(50);
  }
  assert.ok(written < bytes.length, "the writer is blocked");
  // No frame after the one that holds the connection.
  assert.equal(calls, 1);
  release!();
  await writer;
  await waitFor(() => receiver.stats.connectionsOpen === 0, "the end");
  await receiver.close();
  assert.equal(calls, payloads.length);
  assert.ok(lengths.every((n) => n === 4_000));
});

Deno.test("FrameReceiver onData: a throw or a rejection fails the receiver; onFrame with onData is refused", async () => {
  for (const how of ["throw", "reject"] as const) {
    const boom = new Error(`boom (${how})`);
    let calls = 0;
    const receiver = await FrameReceiver.listen(TCP, {
      onData: () => {
        if (++calls !== 3) return undefined;
        if (how === "throw") throw boom;
        return Promise.reject(boom);
      },
    });
    const conn = await connect(receiver);
    await writeAll(conn, encodeFrameStream(makePayloads(50, 53)));
    await readToEnd(conn); // the receiver closes every connection
    conn.close();
    await assert.rejects(receiver.close(), (e) => e === boom);
    assert.equal(calls, 3, `${how}: no frame after the failure`);
  }
  await assert.rejects(
    FrameReceiver.listen(TCP, { onData: () => {}, onFrame: () => {} }),
    TypeError,
  );
  await assert.rejects(
    FrameReceiver.listen(TCP, { onData: 1 as unknown as () => void }),
    TypeError,
  );
});

/**
 * Streams `payloads` (START first) from one connection in pieces of 5,000
 * bytes, waits for the connection to end, then closes the receiver.
 */
async function streamInPieces(
  receiver: FrameReceiver,
  payloads: Uint8Array[],
): Promise<void> {
  const conn = await connect(receiver);
  const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
  for (let p = 0; p < bytes.length; p += 5_000) {
    await writeAll(conn, bytes.subarray(p, p + 5_000));
  }
  conn.close();
  await waitFor(() =>
    receiver.stats.connectionsTotal === 1 &&
    receiver.stats.connectionsOpen === 0, "the close");
  await receiver.close();
}

Deno.test("FrameReceiver onData: frames wait one by one for returned promises, their views intact", async () => {
  const payloads = makePayloads(1_000, 54);
  const got: Uint8Array[] = [];
  let pending = 0;
  const receiver = await FrameReceiver.listen(TCP, {
    onData: (window, offset, length) => {
      assert.equal(pending, 0, "a frame came while one was pending");
      const k = got.length;
      got.push(window.slice(offset, offset + length));
      if (k % 5 !== 2) return undefined;
      pending++;
      return delay(k % 3).then(() => {
        pending--;
        // The view still holds the payload: nothing was read over it.
        assert.deepEqual(window.subarray(offset, offset + length), got[k]);
      });
    },
  });
  await streamInPieces(receiver, payloads);
  assertSamePayloads(got, payloads);
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
    await writeAll(conn, READY);
    await readExactly(conn, ACCEPT.length);
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

interopTest(
  "FrameReceiver over TLS: failed TLS handshakes close only their connection, counted; a good TLS writer streams alongside",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const got: Uint8Array[] = [];
      const { receiver, events } = await listen(
        { transport: "tls", port: 0, cert, key },
        { onData: (w, o, n) => void got.push(w.slice(o, o + n)) },
      );
      const port = (receiver.addr as Deno.NetAddr).port;
      const payloads = makePayloads(2_000, 61);
      const good = (async () => {
        const writer = await FrameWriter.connect(
          { transport: "tls", hostname: "localhost", port, caCerts: [cert] },
          { reconnect: false },
        );
        for (const p of payloads) await writer.write(p);
        await writer.close();
        return writer.stats.framesWritten;
      })();
      // Plain Frame Streams on the TLS port: not a ClientHello.
      const plain = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(plain, concat(READY, START, encodeDataFrame("plain")));
      const answer = await readToEnd(plain);
      plain.close();
      assert.ok(
        answer.length === 0 || answer[0] === 0x15, // nothing, or a TLS alert
        `plain client got ${answer.length} bytes starting ${answer[0]}`,
      );
      // A TLS client that does not trust the certificate.
      const distrust = await Deno.connectTls({ hostname: "localhost", port });
      await assert.rejects(distrust.handshake(), /certificate|UnknownIssuer/i);
      distrust.close();
      // A FrameWriter that does not trust it: connect() fails, says why.
      await assert.rejects(
        FrameWriter.connect(
          { transport: "tls", hostname: "localhost", port },
          { reconnect: false, handshakeTimeout: 2_000 },
        ),
        /certificate|UnknownIssuer/i,
      );
      assert.equal(await good, payloads.length);
      await waitFor(() => closedEvents(events).length === 4, "four closes");
      await receiver.close();
      assertSamePayloads(got, payloads);
      const closed = closedEvents(events);
      assert.equal(closed.filter((e) => e.error === null).length, 1);
      assert.equal(closed.filter((e) => e.error !== null).length, 3);
      assert.equal(receiver.stats.handshakeFailures, 3);
      assert.equal(receiver.stats.frames, payloads.length);
    });
  },
);

/** The payloads of a run of encoded frames; fails unless it is whole. */
function takeRun(
  window: Uint8Array,
  start: number,
  end: number,
  frames: number,
): Uint8Array[] {
  const view = new DataView(window.buffer, window.byteOffset, window.length);
  const out: Uint8Array[] = [];
  let at = start;
  for (let k = 0; k < frames; k++) {
    assert.ok(at + 4 <= end, "a run cut inside a length word");
    const length = view.getUint32(at);
    assert.ok(length > 0 && at + 4 + length <= end, "a run cut inside a frame");
    out.push(window.slice(at + 4, at + 4 + length));
    at += 4 + length;
  }
  assert.equal(at, end, "a run longer than its frames");
  return out;
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReceiver [${engine}] onRun hands every frame of every connection, in runs, in order, byte-identical`, async () => {
    const sets = [makePayloads(1_500, 61), makePayloads(1_500, 62)];
    const got = new Map<number, Uint8Array[]>();
    let runs = 0;
    const receiver = await FrameReceiver.listen(TCP, {
      engine,
      contentTypes: [DNSTAP],
      onRun: (window, start, end, frames, connection) => {
        runs++;
        const list = got.get(connection.id) ?? [];
        list.push(...takeRun(window, start, end, frames));
        got.set(connection.id, list);
      },
    });
    assert.throws(() => receiver[Symbol.asyncIterator](), TypeError);
    await streamTwo(receiver, sets);
    const lists = [...got.values()];
    assert.equal(lists.length, 2);
    const first = lists.find((l) =>
      l.length > 0 && l[0]!.length === sets[0]![0]!.length &&
      l[0]!.every((x, j) => x === sets[0]![0]![j])
    )!;
    const second = lists.find((l) => l !== first)!;
    assertSamePayloads(first, sets[0]!);
    assertSamePayloads(second, sets[1]!);
    const total = sets[0]!.length + sets[1]!.length;
    assert.ok(runs < total / 4, `${runs} runs for ${total} frames`);
    assert.equal(receiver.stats.frames, total);
    assert.equal(
      receiver.stats.bytes,
      [...sets[0]!, ...sets[1]!].reduce((n, p) => n + p.length, 0),
    );
  });
}

Deno.test("FrameReceiver onRun: runs wait one by one for returned promises, their views intact; a throw fails the receiver", async () => {
  const payloads = makePayloads(1_000, 63);
  const got: Uint8Array[] = [];
  let pending = 0;
  let calls = 0;
  const receiver = await FrameReceiver.listen(TCP, {
    onRun: (window, start, end, frames) => {
      assert.equal(pending, 0, "a run came while one was pending");
      const taken = takeRun(window, start, end, frames);
      got.push(...taken);
      if (calls++ % 2 === 0) return undefined;
      pending++;
      return delay(1).then(() => {
        pending--;
        // The view still holds the run: nothing was read over it.
        assert.deepEqual(takeRun(window, start, end, frames), taken);
      });
    },
  });
  await streamInPieces(receiver, payloads);
  assertSamePayloads(got, payloads);
  assert.ok(calls > 4, `${calls} runs`);
  // A throw (or rejection) fails the receiver; nothing after it.
  for (const how of ["throw", "reject"] as const) {
    const boom = new Error(`boom (${how})`);
    let n = 0;
    const failing = await FrameReceiver.listen(TCP, {
      onRun: () => {
        if (++n !== 2) return undefined;
        if (how === "throw") throw boom;
        return Promise.reject(boom);
      },
    });
    const c = await connect(failing);
    const stream = encodeFrameStream(makePayloads(3_000, 64));
    for (let p = 0; p < stream.length; p += 20_000) {
      await writeAll(c, stream.subarray(p, p + 20_000)).catch(() => {});
    }
    await readToEnd(c); // the receiver closes every connection
    c.close();
    await assert.rejects(failing.close(), (e) => e === boom);
    assert.equal(n, 2, `${how}: no run after the failure`);
  }
  for (
    const options of [
      { onRun: () => {}, onData: () => {} },
      { onRun: () => {}, onFrame: () => {} },
      { onRun: 1 as unknown as () => void },
    ]
  ) {
    await assert.rejects(FrameReceiver.listen(TCP, options), TypeError);
  }
});
