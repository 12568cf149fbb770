// FrameReceiver's ways of handing frames to the application over real
// sockets: flow control, async iteration and onFrame (payload copies),
// onData (zero copy) and onRun (runs of encoded frames), with the promises
// they return.
import assert from "node:assert/strict";
import { delay, waitFor } from "./_support.ts";
import { encodeDataFrame, encodeFrameStream } from "../mod.ts";
import {
  FrameReceiver,
  type FrameReceiverOptions,
} from "../src/frame_receiver.ts";
import { concat } from "./_util.ts";
import {
  assertSamePayloads,
  connect,
  DNSTAP,
  FINISH,
  listen,
  makePayloads,
  readExactly,
  readToEnd,
  sendReady,
  START,
  STOP,
  take,
  takeRun,
  TCP,
  writeAll,
} from "./_receiver.ts";

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

Deno.test("FrameReceiver iteration takes frames one at a time, in order, a slow consumer holding the writer back", async () => {
  // (What the onFrame option did, before it went: the iterator does it.)
  const seen: number[] = [];
  const receiver = await FrameReceiver.listen(TCP, { highWaterMark: 4 });
  const conn = await connect(receiver);
  const payloads = Array.from({ length: 50 }, (_, i) => Uint8Array.of(i));
  const writer = (async () => {
    await writeAll(conn, encodeFrameStream(payloads));
    await readToEnd(conn);
    conn.close();
  })();
  for await (const frame of receiver) {
    await delay(1);
    seen.push(frame.data[0]!);
    if (seen.length === payloads.length) break;
  }
  await writer;
  await receiver.close();
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

Deno.test("FrameReceiver hands frames to a synchronous onData in order, and fails on its throw", async () => {
  const seen: Uint8Array[] = [];
  const payloads = makePayloads(2_000, 42);
  const receiver = await FrameReceiver.listen(TCP, {
    highWaterMark: 8,
    onData: (window, offset, length) =>
      void seen.push(window.slice(offset, offset + length)),
  });
  assert.throws(() => receiver[Symbol.asyncIterator](), TypeError);
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
    onData: () => {
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

Deno.test("FrameReceiver.close rejects with the error of a failing onRun", async () => {
  const receiver = await FrameReceiver.listen(TCP, {
    onRun: () => {
      throw new Error("handler broke");
    },
  });
  assert.throws(() => receiver[Symbol.asyncIterator](), TypeError);
  const conn = await connect(receiver);
  await writeAll(conn, concat(START, encodeDataFrame("x")));
  await readToEnd(conn); // the receiver closes every connection
  conn.close();
  await assert.rejects(receiver.close(), /handler broke/);
});

Deno.test("FrameReceiver.listen refuses the onFrame option, gone: it names the iterator and onData", async () => {
  await assert.rejects(
    FrameReceiver.listen(
      TCP,
      { onFrame: () => {} } as unknown as FrameReceiverOptions,
    ),
    TypeError,
    "iterate over the receiver",
  );
});

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
    await sendReady(conn);
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

Deno.test("FrameReceiver onData: a throw or a rejection fails the receiver; onRun with onData is refused", async () => {
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
    FrameReceiver.listen(TCP, { onData: () => {}, onRun: () => {} }),
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
