// FrameReceiver under hostile input, over real sockets, part 2: connections
// that end badly, many connections, and the regression tests (part 1, and
// the suite's description: hostile_input_test.ts).
import assert from "node:assert/strict";
import net from "node:net";
import {
  encodeDataFrame,
  HandshakeError,
  SessionTimeoutError,
  TruncatedFrameError,
} from "../mod.ts";
import { delay, waitFor } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  ACCEPT,
  assertCounters,
  Case,
  concat,
  readExactly,
  readToEnd,
  READY,
  send,
  START,
  STOP,
  words,
} from "./_hostile.ts";
import { assertGoodLive, openFds, report } from "./_hostile.ts";

const NAME = "FrameReceiver under hostile input: ";
const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;

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
  const eof = byName.get("HandshakeError")!.error;
  assert.ok(eof instanceof HandshakeError);
  assert.equal(eof.reason, "closed");
  assert.match(eof.message, /after READY, before START/);
  assert.equal(byName.get("null")!.stopped, false);
  assert.match(
    byName.get("SessionTimeoutError")!.error!.message,
    /idle for 400 ms/,
  );
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
// event, SessionTimeoutError, connectionsOpen back down) but Deno's TlsConn.close()
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
      assert.ok(e!.error instanceof SessionTimeoutError);
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
        JSON.stringify(
          new URL("../src/frame_receiver.ts", import.meta.url).href,
        )
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
