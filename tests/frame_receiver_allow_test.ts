// Who may connect to a FrameReceiver, over real sockets on loopback: the
// allow-list (TCP, TLS, IPv6, a dual-stack listener's IPv4-mapped peers),
// its counter and rate-limited reports, the per-source limit, and a Unix
// socket's mode, owner and group. (The list itself: allow_list_test.ts.)
import assert from "node:assert/strict";
import { waitFor, withTempDir } from "./_support.ts";
import { FrameReceiver, type Refusal } from "../src/frame_receiver.ts";
import { interopTest } from "./_peers.ts";
import { selfSignedCert } from "./_tls.ts";
import {
  closedEvents,
  DNSTAP,
  FINISH,
  listen,
  readToEnd,
  READY,
  sendReady,
  START,
  STOP,
  take,
  writeAll,
} from "./_receiver.ts";
import { concat } from "./_util.ts";

/** Connects to the receiver's port at `hostname`. */
function dial(receiver: FrameReceiver, hostname = "127.0.0.1") {
  return Deno.connect({ hostname, port: (receiver.addr as Deno.NetAddr).port });
}

/** Streams one frame with the handshake; asserts FINISH. */
async function streamOne(conn: Deno.Conn): Promise<void> {
  await sendReady(conn);
  await writeAll(conn, concat(START, Uint8Array.of(0, 0, 0, 1, 42), STOP));
  assert.deepEqual(await readToEnd(conn), FINISH);
  conn.close();
}

/** Whether this host can listen on ::1. */
function hasIpv6(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

/** The uid and gid owning `path` (made by this process: ours). */
async function ownerOf(path: string): Promise<{ uid: number; gid: number }> {
  const info = await Deno.stat(path);
  return { uid: info.uid!, gid: info.gid! };
}

Deno.test("FrameReceiver serves a TCP peer its allow-list names", async () => {
  const { receiver } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: [DNSTAP],
    allow: ["10.0.0.0/8", "127.0.0.0/8"],
  });
  const frames = take(receiver[Symbol.asyncIterator](), 1);
  await streamOne(await dial(receiver));
  assert.deepEqual([...(await frames)[0]!.data], [42]);
  assert.equal(receiver.stats.connectionsRefused, 0);
  await receiver.close();
});

Deno.test("FrameReceiver closes a TCP peer off its allow-list before reading, counts and reports it once a minute", async () => {
  const refusals: Refusal[] = [];
  const { receiver, events } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: [DNSTAP],
    allow: ["10.0.0.0/8", "::1"],
    onRefused: (r) => refusals.push(r),
  });
  for (let i = 0; i < 3; i++) {
    const conn = await dial(receiver);
    // What it sends is never read: READY gets no ACCEPT, only the end.
    await writeAll(conn, READY).catch(() => {});
    assert.equal((await readToEnd(conn)).length, 0);
    conn.close();
    await waitFor(
      () => receiver.stats.connectionsRefused === i + 1,
      "the refusal",
    );
  }
  // Counted, never served: no connection event, no handshake failure.
  assert.equal(receiver.stats.connectionsTotal, 0);
  assert.equal(receiver.stats.handshakeFailures, 0);
  assert.equal(events.length, 0);
  // Reported once: the next two fall within the minute.
  assert.equal(refusals.length, 1);
  assert.equal(refusals[0]!.source, "127.0.0.1");
  assert.equal(refusals[0]!.reason, "not-allowed");
  assert.equal(refusals[0]!.count, 1);
  assert.equal((refusals[0]!.remoteAddr as Deno.NetAddr).hostname, "127.0.0.1");
  await receiver.close();
});

Deno.test("FrameReceiver reports the refusals held back after refusalInterval", async () => {
  const refusals: Refusal[] = [];
  const receiver = await FrameReceiver.listen({ transport: "tcp", port: 0 }, {
    allow: [],
    refusalInterval: 50,
    onRefused: (r) => refusals.push(r),
  });
  for (let i = 0; i < 2; i++) (await dial(receiver)).close();
  await waitFor(() => receiver.stats.connectionsRefused === 2, "refusals");
  await new Promise((resolve) => setTimeout(resolve, 60));
  (await dial(receiver)).close();
  // Every refusal is reported, the second one within the third's report
  // (or on its own, on a machine slow enough to take 50 ms between them).
  await waitFor(
    () => refusals.reduce((n, r) => n + r.count, 0) === 3,
    "the reports",
  );
  assert.ok(refusals.length === 2 || refusals.length === 3);
  assert.equal(refusals[0]!.count, 1);
  await receiver.close();
});

interopTest(
  "FrameReceiver closes a TLS peer off its allow-list before reading from it",
  ["openssl"],
  async () => {
    await withTempDir(async (dir) => {
      const { cert, key } = await selfSignedCert(dir);
      const refusals: Refusal[] = [];
      const receiver = await FrameReceiver.listen(
        { transport: "tls", port: 0, cert, key },
        { allow: ["192.0.2.0/24"], onRefused: (r) => refusals.push(r) },
      );
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: (receiver.addr as Deno.NetAddr).port,
        caCerts: [cert],
      });
      // Deno's TLS listener may answer the ClientHello before the receiver
      // is handed the connection, so the TLS handshake may succeed; then
      // the peer gets end of input (or a reset), never an ACCEPT.
      const got = await conn.handshake().then(
        () => readToEnd(conn).catch(() => new Uint8Array()),
        () => new Uint8Array(),
      );
      assert.equal(got.length, 0);
      conn.close();
      await waitFor(() => receiver.stats.connectionsRefused === 1, "refusal");
      assert.equal(receiver.stats.ioErrors, 0);
      assert.equal(receiver.stats.connectionsTotal, 0);
      assert.equal(refusals[0]?.reason, "not-allowed");
      await receiver.close();
      // Allowed, the same client completes the handshake.
      const open = await FrameReceiver.listen(
        { transport: "tls", port: 0, cert, key },
        { allow: ["127.0.0.1"], contentTypes: [DNSTAP] },
      );
      const ok = await Deno.connectTls({
        hostname: "localhost",
        port: (open.addr as Deno.NetAddr).port,
        caCerts: [cert],
      });
      await ok.handshake();
      await sendReady(ok);
      ok.close();
      await open.close();
    });
  },
);

Deno.test({
  name:
    "FrameReceiver matches IPv6 peers, and a dual-stack listener's IPv4 peers as IPv4",
  ignore: !hasIpv6(),
  fn: async () => {
    const refusals: Refusal[] = [];
    const { receiver, events } = await listen(
      { transport: "tcp", hostname: "::", port: 0 },
      {
        contentTypes: [DNSTAP],
        allow: ["::1/128", "10.0.0.0/8"],
        onRefused: (r) => refusals.push(r),
      },
    );
    // ::1 is listed.
    await streamOne(await dial(receiver, "::1"));
    await waitFor(() => closedEvents(events).length === 1, "the stream");
    // 127.0.0.1 arrives as ::ffff:127.0.0.1, matched as 127.0.0.1: refused.
    const v4 = await dial(receiver, "127.0.0.1");
    assert.equal((await readToEnd(v4)).length, 0);
    v4.close();
    await waitFor(() => receiver.stats.connectionsRefused === 1, "refusal");
    assert.equal(refusals[0]!.source, "127.0.0.1");
    assert.equal(
      (refusals[0]!.remoteAddr as Deno.NetAddr).hostname,
      "::ffff:127.0.0.1",
    );
    await receiver.close();
    // And 127.0.0.0/8 lets it in.
    const { receiver: open } = await listen(
      { transport: "tcp", hostname: "::", port: 0 },
      { contentTypes: [DNSTAP], allow: ["127.0.0.0/8"] },
    );
    const frames = take(open[Symbol.asyncIterator](), 1);
    await streamOne(await dial(open, "127.0.0.1"));
    assert.equal((await frames).length, 1);
    await open.close();
  },
});

Deno.test("FrameReceiver closes connections beyond maxConnectionsPerSource, and takes more once one closes", async () => {
  const refusals: Refusal[] = [];
  const { receiver, events } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: [DNSTAP],
    maxConnectionsPerSource: 2,
    onRefused: (r) => refusals.push(r),
  });
  const first = await dial(receiver);
  await sendReady(first);
  const second = await dial(receiver);
  await sendReady(second);
  const third = await dial(receiver);
  assert.equal((await readToEnd(third)).length, 0);
  third.close();
  await waitFor(() => receiver.stats.connectionsRejected === 1, "rejection");
  assert.equal(receiver.stats.connectionsRefused, 0);
  assert.equal(receiver.stats.connectionsOpen, 2);
  assert.equal(refusals[0]?.reason, "per-source-limit");
  assert.equal(refusals[0]?.source, "127.0.0.1");
  // One ends: a new one from the same source is served.
  await writeAll(first, concat(START, STOP));
  assert.deepEqual(await readToEnd(first), FINISH);
  first.close();
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const fourth = await dial(receiver);
  await sendReady(fourth);
  assert.equal(receiver.stats.connectionsTotal, 3);
  for (const conn of [second, fourth]) {
    await writeAll(conn, concat(START, STOP));
    assert.deepEqual(await readToEnd(conn), FINISH);
    conn.close();
  }
  await receiver.close();
});

Deno.test("FrameReceiver.listen refuses allow and maxConnectionsPerSource on a Unix socket, and bad networks", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/s.sock`;
    await assert.rejects(
      FrameReceiver.listen({ transport: "unix", path }, { allow: ["::1"] }),
      TypeError,
    );
    await assert.rejects(
      FrameReceiver.listen({ transport: "unix", path }, {
        maxConnectionsPerSource: 1,
      }),
      TypeError,
    );
    await assert.rejects(
      FrameReceiver.listen({ transport: "tcp", port: 0 }, {
        allow: ["10.0.0.0/33"],
      }),
      /allow wants IPv4 or IPv6 networks .* got '10\.0\.0\.0\/33'/,
    );
    await assert.rejects(
      FrameReceiver.listen({ transport: "tcp", port: 0 }, {
        maxConnectionsPerSource: 0,
      }),
      RangeError,
    );
    // Nothing was left behind.
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  });
});

Deno.test("FrameReceiver sets a Unix socket's mode, owner and group", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/s.sock`;
    // Our uid and gid from a directory we made (Deno.uid() needs --allow-sys,
    // which the test task does not grant).
    const { uid, gid } = await ownerOf(dir);
    const receiver = await FrameReceiver.listen(
      { transport: "unix", path, mode: 0o660, owner: uid, group: gid },
    );
    const info = await Deno.lstat(path);
    assert.equal(info.mode! & 0o7777, 0o660);
    assert.equal(info.uid, uid);
    assert.equal(info.gid, gid);
    await receiver.close();
    if (uid === 0) {
      // As root, the file can be given away (65534: nobody, nogroup).
      const given = await FrameReceiver.listen(
        { transport: "unix", path, owner: 65534, group: 65534 },
      );
      const away = await Deno.lstat(path);
      assert.equal(away.uid, 65534);
      assert.equal(away.gid, 65534);
      await given.close();
    } else {
      // Not root: giving it away fails, and leaves no socket behind.
      await assert.rejects(
        FrameReceiver.listen({ transport: "unix", path, owner: uid + 1 }),
        Deno.errors.PermissionDenied,
      );
      await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
    }
    await assert.rejects(
      FrameReceiver.listen({ transport: "unix", path, group: -1 }),
      /group must be a numeric gid/,
    );
  });
});
