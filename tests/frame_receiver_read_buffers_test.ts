// FrameReceiver's readBuffers: started connections read into buffers the
// application lends (slots of one memory, as a WebAssembly engine gives), so
// that runs lie where the application can scan them in place. Frames are
// byte-identical with and without it, with long frames and more connections
// than slots; buffers are lent to one connection at a time and all given
// back; a pool that lends a wrong buffer, throws, or lets a lent buffer's
// memory grow fails the receiver with a TypeError (or its error).
import assert from "node:assert/strict";
import { delay, waitFor } from "./_support.ts";
import { ControlFrameError, encodeFrameStream } from "../mod.ts";
import {
  type ConnectionEvent,
  type ConnectionInfo,
  FrameReceiver,
  type ReadBufferPool,
} from "../src/frame_receiver.ts";
import {
  assertSamePayloads,
  closedEvents,
  connect,
  DNSTAP,
  makePayloads,
  readToEnd,
  takeRun,
  TCP,
  writeAll,
} from "./_receiver.ts";

const SLOT = 262_144; // the receiver's default readSize

/** A pool of `slots` slots of one memory, recording what it does. */
class SlotPool implements ReadBufferPool {
  readonly memory: Uint8Array;
  /** Slot of each connection holding one. */
  readonly holder = new Map<number, number>();
  readonly free: number[];
  acquired = 0;
  declined = 0;
  released = 0;
  readonly sizes = new Set<number>();

  constructor(slots: number) {
    this.memory = new Uint8Array(slots * SLOT);
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  acquire(size: number, connection: ConnectionInfo): Uint8Array | null {
    assert.equal(connection.mode, "unidirectional", "a started connection");
    assert.ok(!this.holder.has(connection.id), "two buffers at once");
    this.sizes.add(size);
    const slot = this.free.pop();
    if (slot === undefined) {
      this.declined++;
      return null;
    }
    this.acquired++;
    this.holder.set(connection.id, slot);
    return this.memory.subarray(slot * SLOT, slot * SLOT + size);
  }

  release(buffer: Uint8Array, connection: ConnectionInfo): void {
    const slot = this.holder.get(connection.id);
    assert.ok(slot !== undefined, "released by a connection holding none");
    assert.equal(buffer.byteOffset, this.memory.byteOffset + slot * SLOT);
    this.holder.delete(connection.id);
    this.free.push(slot);
    this.released++;
  }

  /** Whether window[start, end) lies in the slot `connection` holds. */
  lent(window: Uint8Array, start: number, end: number, id: number): boolean {
    if (window.buffer !== this.memory.buffer) return false;
    const slot = this.holder.get(id);
    assert.ok(slot !== undefined, "a run in the memory, but no slot lent");
    const at = window.byteOffset - this.memory.byteOffset;
    assert.ok(
      at + start >= slot * SLOT && at + end <= (slot + 1) * SLOT,
      "a run outside its connection's slot",
    );
    return true;
  }
}

/** Payloads with some longer than a read (up to 900 KB). */
function payloadsOf(seed: number): Uint8Array[] {
  const payloads = makePayloads(1_200, seed);
  for (const [at, size] of [[100, 300_000], [600, 900_000], [601, 270_000]]) {
    payloads.splice(at!, 0, new Uint8Array(size!).fill(seed + at!));
  }
  return payloads;
}

/** Streams each set over a connection of its own, all at once; waits until all are closed. */
async function streamAll(
  receiver: FrameReceiver,
  sets: Uint8Array[][],
  pause = 0,
): Promise<void> {
  await Promise.all(sets.map(async (payloads) => {
    const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
    const conn = await connect(receiver);
    for (let p = 0; p < bytes.length; p += 100_000) {
      await writeAll(conn, bytes.subarray(p, p + 100_000));
      if (pause > 0) await delay(pause);
    }
    conn.close();
  }));
  await waitFor(
    () =>
      receiver.stats.connectionsTotal === sets.length &&
      receiver.stats.connectionsOpen === 0,
    "all closed",
  );
}

/** Matches each received list to the set it starts like. */
function assertSets(got: Map<number, Uint8Array[]>, sets: Uint8Array[][]) {
  assert.equal(got.size, sets.length);
  for (const list of got.values()) {
    const set = sets.find((s) => s[0]!.length === list[0]!.length)!;
    assertSamePayloads(list, set);
  }
}

for (const how of ["onRun", "onData"] as const) {
  Deno.test(`FrameReceiver readBuffers [${how}]: frames byte-identical to without it, in lent slots, six connections on three slots, long frames`, async () => {
    // Distinct first-frame lengths tell the sets apart.
    const sets = [1, 2, 3, 4, 5, 6].map((k) => {
      const s = payloadsOf(70 + k);
      s.unshift(new Uint8Array(10 + k).fill(k));
      return s;
    });
    for (const lend of [false, true]) {
      const pool = new SlotPool(3);
      const got = new Map<number, Uint8Array[]>();
      // Frames of each connection in a lent slot, and outside.
      const inSlots = new Map<number, number>();
      const outside = new Map<number, number>();
      const add = (id: number, frames: Uint8Array[], lent: boolean) => {
        const list = got.get(id) ?? [];
        list.push(...frames);
        got.set(id, list);
        const m = lent ? inSlots : outside;
        m.set(id, (m.get(id) ?? 0) + frames.length);
      };
      const receiver = await FrameReceiver.listen(TCP, {
        contentTypes: [DNSTAP],
        ...(lend ? { readBuffers: pool } : {}),
        ...(how === "onRun"
          ? {
            onRun: (
              window: Uint8Array,
              start: number,
              end: number,
              frames: number,
              connection: ConnectionInfo,
            ) => {
              add(
                connection.id,
                takeRun(window, start, end, frames),
                pool.lent(window, start, end, connection.id),
              );
            },
          }
          : {
            onData: (
              window: Uint8Array,
              offset: number,
              length: number,
              connection: ConnectionInfo,
            ) => {
              add(
                connection.id,
                [window.slice(offset, offset + length)],
                pool.lent(window, offset, offset + length, connection.id),
              );
            },
          }),
      });
      await streamAll(receiver, sets);
      await receiver.close();
      assertSets(got, sets);
      const what = `lend ${lend}`;
      if (!lend) {
        assert.equal(inSlots.size, 0, what);
        assert.equal(pool.acquired + pool.declined, 0, what);
        continue;
      }
      // The connections that got a slot took nearly all their frames in
      // it (a frame that spans reads is assembled outside); some, declined,
      // none.
      const ids = [...got.keys()];
      const mostly = ids.filter((id) =>
        (inSlots.get(id) ?? 0) > 10 * (outside.get(id) ?? 0)
      );
      const never = ids.filter((id) => !inSlots.has(id));
      assert.ok(
        mostly.length >= 3 && never.length >= 1,
        `${what}: ${JSON.stringify([...inSlots])} in slots, ${
          JSON.stringify([...outside])
        } outside`,
      );
      assert.ok(pool.declined >= 3, what);
      // Every buffer lent came back; the read size grew through the pool.
      assert.equal(pool.released, pool.acquired, what);
      assert.equal(pool.holder.size, 0, what);
      assert.equal(pool.free.length, 3, what);
      assert.ok(pool.sizes.has(65_536) && pool.sizes.has(SLOT), what);
      assert.ok([...pool.sizes].every((s) => s >= 65_536 && s <= SLOT));
    }
  });
}

Deno.test("FrameReceiver readBuffers: a lent buffer detached by its memory's growth fails the receiver with a TypeError", async () => {
  const memory = new WebAssembly.Memory({ initial: 8, maximum: 64 }); // 512 KiB
  const pool: ReadBufferPool = {
    acquire: (size) => new Uint8Array(memory.buffer, 0, size),
    release: () => {},
  };
  let frames = 0;
  let grown = false;
  const receiver = await FrameReceiver.listen(TCP, {
    readBuffers: pool,
    onRun: (window, start, end, n) => {
      takeRun(window, start, end, n);
      frames += n;
      if (!grown && window.buffer === memory.buffer) {
        grown = true;
        // While the connection reads into it.
        setTimeout(() => memory.grow(1), 0);
      }
    },
  });
  const conn = await connect(receiver);
  const bytes = encodeFrameStream(makePayloads(2_000, 81));
  for (let p = 0; p < bytes.length; p += 50_000) {
    await writeAll(conn, bytes.subarray(p, p + 50_000)).catch(() => {});
    await delay(2);
  }
  conn.close();
  await assert.rejects(
    receiver.close(),
    (e) => e instanceof TypeError && /detached/.test(e.message),
  );
  assert.ok(grown && frames < 2_000, `${frames} frames`);
});

for (const how of ["onRun", "onRun's promise", "onData"] as const) {
  Deno.test(`FrameReceiver readBuffers: a lent buffer detached inside ${how} fails the receiver with a TypeError, not a decoding error`, async () => {
    const memory = new WebAssembly.Memory({ initial: 8, maximum: 64 }); // 512 KiB
    const pool: ReadBufferPool = {
      // From the memory's current buffer: after the growth, a good one.
      acquire: (size) => new Uint8Array(memory.buffer, 0, size),
      release: () => {},
    };
    const got: Uint8Array[] = [];
    let grown = false;
    const grow = (window: Uint8Array): void => {
      if (!grown && window.buffer === memory.buffer) {
        grown = true;
        memory.grow(1); // detaches the buffer the connection reads into
      }
    };
    const events: ConnectionEvent[] = [];
    const onConnection = (e: ConnectionEvent) => void events.push(e);
    const receiver = await FrameReceiver.listen(
      TCP,
      how === "onData"
        ? {
          readBuffers: pool,
          onConnection,
          onData: (window, offset, length) => {
            got.push(window.slice(offset, offset + length));
            grow(window);
          },
        }
        : {
          readBuffers: pool,
          onConnection,
          onRun: (window, start, end, n) => {
            got.push(...takeRun(window, start, end, n));
            if (how === "onRun") return grow(window);
            return Promise.resolve().then(() => grow(window));
          },
        },
    );
    const conn = await connect(receiver);
    const payloads = makePayloads(20_000, 82);
    const bytes = encodeFrameStream(payloads);
    for (let p = 0; p < bytes.length && !grown; p += 50_000) {
      await writeAll(conn, bytes.subarray(p, p + 50_000)).catch(() => {});
      await delay(2);
    }
    conn.close();
    await assert.rejects(
      receiver.close(),
      (e) => e instanceof TypeError && /detached/.test(e.message),
    );
    assert.ok(grown);
    // The frames before it, as sent; none after.
    assert.ok(got.length > 0 && got.length < payloads.length);
    assertSamePayloads(got, payloads.slice(0, got.length));
    // The peer is not blamed.
    const closed = closedEvents(events);
    assert.equal(closed.length, 1);
    assert.ok(
      !(closed[0]!.error instanceof ControlFrameError),
      String(closed[0]!.error),
    );
  });
}

Deno.test("FrameReceiver readBuffers: a wrong buffer (TypeError) or a throwing pool fails the receiver; bad options are refused", async () => {
  const boom = new Error("boom");
  const pools: [string, ReadBufferPool, (e: unknown) => boolean][] = [
    ["one byte short", {
      acquire: (size) => new Uint8Array(size - 1),
      release: () => {},
    }, (e) => e instanceof TypeError && /65536 bytes/.test(e.message)],
    ["one byte long", {
      acquire: (size) => new Uint8Array(size + 1),
      release: () => {},
    }, (e) => e instanceof TypeError],
    ["not a Uint8Array", {
      acquire: (size) => new ArrayBuffer(size) as unknown as Uint8Array,
      release: () => {},
    }, (e) => e instanceof TypeError],
    ["acquire throws", {
      acquire: () => {
        throw boom;
      },
      release: () => {},
    }, (e) => e === boom],
    ["release throws", {
      acquire: (size) => new Uint8Array(size),
      release: () => {
        throw boom;
      },
    }, (e) => e === boom],
  ];
  for (const [what, pool, check] of pools) {
    let frames = 0;
    const receiver = await FrameReceiver.listen(TCP, {
      readBuffers: pool,
      onRun: (_w, _s, _e, n) => void (frames += n),
    });
    const conn = await connect(receiver);
    const stream = encodeFrameStream(makePayloads(2_000, 82));
    await writeAll(conn, stream).catch(() => {});
    await readToEnd(conn).catch(() => {});
    conn.close();
    await assert.rejects(receiver.close(), check, what);
    if (what !== "release throws") {
      // Only the handshake's read (its own buffer) was delivered.
      assert.ok(frames < 300, `${what}: ${frames} frames`);
    }
  }
  const onRun = () => {};
  for (
    const [what, readBuffers, more] of [
      ["not an object", 1, { onRun }],
      ["no release", { acquire: () => null }, { onRun }],
      ["no onData or onRun", { acquire: () => null, release: () => {} }, {}],
    ] as const
  ) {
    await assert.rejects(
      FrameReceiver.listen(TCP, {
        readBuffers: readBuffers as unknown as ReadBufferPool,
        ...more,
      }),
      TypeError,
      what,
    );
  }
});
