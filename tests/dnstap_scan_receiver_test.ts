// DnstapRunScanner (src/_dnstap_run_scanner.ts): the columns a FrameReceiver's
// runs give equal forEachDnstapBatch's on the same frames (the four
// captures, malformed frames among them, through a real Unix socket, both
// engines; offsets compared as the bytes they point at); with its
// readBuffers, runs are scanned in the buffer they were read into (the
// columns point there); each batch comes with its connection; promises are awaited, runs longer than a batch
// split; runs that do not hold their frames are refused.
import assert from "node:assert/strict";
import {
  DNSTAP_CONTENT_TYPE,
  encodeDataFrame,
  encodeFrameStream,
  FrameReader,
} from "../mod.ts";
import {
  DnstapRunScanner,
  forEachDnstapBatch,
  SCAN_BAD_PROTOBUF,
  SCAN_CAPACITY,
  SCAN_OK,
} from "../src/dnstap_scan.ts";
import { type ConnectionInfo, FrameReceiver } from "../src/frame_receiver.ts";
import { decodeFrames } from "../src/frame_decoder.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { canonicalRow } from "./_dnstap_scan.ts";
import { sendAll } from "./_cli.ts";
import { rng, withTempDir } from "./_support.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["knot", "bind", "unbound", "dnsdist"] as const;
const ENGINES = ["ts", "wasm"] as const;

/** A capture's data payloads, with two frames that are no dnstap. */
async function payloadsOf(name: string): Promise<Uint8Array[]> {
  const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
  const payloads = decodeFrames(bytes).flatMap((f) =>
    f.kind === "data" ? [f.data] : []
  );
  // Not protobuf (a field of wire type 7), and a DNS message cut short.
  payloads.splice(3, 0, new Uint8Array([0xff, 0xff]));
  payloads.push(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: new Uint8Array(5) },
  }));
  return payloads;
}

/** The canonical rows forEachDnstapBatch gives for `payloads`. */
async function fileRows(
  payloads: Uint8Array[],
  engine: "ts" | "wasm",
): Promise<string[]> {
  const rows: string[] = [];
  const bytes = encodeFrameStream(payloads, {
    contentType: DNSTAP_CONTENT_TYPE,
  });
  await forEachDnstapBatch(ReadableStream.from([bytes]), (c, n, w) => {
    for (let i = 0; i < n; i++) rows.push(canonicalRow(c, i, w));
  }, { engine });
  return rows;
}

for (
  const [engine, lend] of ENGINES.flatMap((e) =>
    [[e, false], [e, true]] as const
  )
) {
  Deno.test(`DnstapRunScanner on a FrameReceiver gives forEachDnstapBatch's columns for the four captures (${engine}${lend ? ", read into its readBuffers" : ""})`, async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/dnstap.sock`;
      const rows = new Map<number, string[]>();
      // The buffer each connection holds, and the rows whose message lies
      // in it: scanned where the connection read it, not copied.
      const holds = new Map<number, Uint8Array>();
      let inPlace = 0;
      const scanner = new DnstapRunScanner<ConnectionInfo>((c, n, w, conn) => {
        let list = rows.get(conn.id);
        if (list === undefined) rows.set(conn.id, list = []);
        for (let i = 0; i < n; i++) list.push(canonicalRow(c, i, w));
        const held = holds.get(conn.id);
        if (held === undefined || held.buffer !== w.buffer) return;
        for (let i = 0; i < n; i++) {
          if (c.queryMessageLength[i]! === 0) continue;
          const at = w.byteOffset + c.queryMessageOffset[i]!;
          const length = c.queryMessageLength[i]!;
          if (
            at >= held.byteOffset &&
            at + length <= held.byteOffset + held.length
          ) {
            inPlace++;
          }
        }
      }, { engine });
      assert.equal(scanner.engine, engine);
      // Its read buffers, counted as connections take them.
      const pool = scanner.readBuffers;
      let lent = 0;
      const receiver = await FrameReceiver.listen({ transport: "unix", path }, {
        contentTypes: [DNSTAP_CONTENT_TYPE],
        onRun: scanner.onRun,
        ...(lend
          ? {
            readBuffers: {
              acquire: (size: number, c: ConnectionInfo) => {
                const buffer = pool.acquire(size, c);
                if (buffer !== null) {
                  lent++;
                  holds.set(c.id, buffer);
                }
                return buffer;
              },
              release: (buffer: Uint8Array, c: ConnectionInfo) => {
                assert.equal(holds.get(c.id), buffer);
                holds.delete(c.id);
                pool.release(buffer, c);
              },
            },
          }
          : {}),
      });
      const all: Uint8Array[][] = [];
      try {
        // One connection per capture, one after another: ids 1 to 4.
        for (const name of CAPTURES) {
          const payloads = await payloadsOf(name);
          all.push(payloads);
          await sendAll({ transport: "unix", path }, payloads);
        }
      } finally {
        await receiver.close();
      }
      let total = 0;
      for (const [k, payloads] of all.entries()) {
        const expected = await fileRows(payloads, engine);
        assert.equal(expected.length, payloads.length);
        assert.deepEqual(rows.get(k + 1), expected, CAPTURES[k]);
        total += payloads.length;
        // The frame that is no dnstap is a row, counted.
        assert.ok(expected[3]!.includes(`"status":${SCAN_BAD_PROTOBUF}`));
      }
      assert.equal(scanner.messages, total);
      assert.equal(receiver.stats.frames, total);
      assert.ok(scanner.batches >= CAPTURES.length);
      assert.ok(lend ? lent >= CAPTURES.length : lent === 0, `${lent} lent`);
      // With them, runs were scanned in the buffers they were read into.
      assert.ok(lend ? inPlace > 0 : inPlace === 0, `${inPlace} in place`);
      assert.equal(holds.size, 0);
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`DnstapRunScanner on FrameReader.forEachRun gives forEachDnstapBatch's columns (${engine})`, async () => {
    for (const name of CAPTURES) {
      const payloads = await payloadsOf(name);
      const bytes = encodeFrameStream(payloads, {
        contentType: DNSTAP_CONTENT_TYPE,
      });
      const rows: string[] = [];
      const scanner = new DnstapRunScanner((c, n, w) => {
        for (let i = 0; i < n; i++) rows.push(canonicalRow(c, i, w));
      }, { engine });
      // Small windows: many runs, frames across window edges.
      const reader = new FrameReader(ReadableStream.from([bytes]), {
        windowSize: 65536,
        reuseWindow: true,
      });
      await reader.forEachRun(scanner.onRun);
      assert.deepEqual(rows, await fileRows(payloads, engine), name);
      assert.ok(scanner.batches > 2);
    }
  });
}

Deno.test("DnstapRunScanner keeps the batches of concurrent connections apart", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const rows = new Map<number, string[]>();
    const scanner = new DnstapRunScanner<ConnectionInfo>((c, n, w, conn) => {
      let list = rows.get(conn.id);
      if (list === undefined) rows.set(conn.id, list = []);
      for (let i = 0; i < n; i++) list.push(canonicalRow(c, i, w));
    });
    const receiver = await FrameReceiver.listen({ transport: "unix", path }, {
      contentTypes: [DNSTAP_CONTENT_TYPE],
      onRun: scanner.onRun,
    });
    const sets = await Promise.all(CAPTURES.map(payloadsOf));
    try {
      await Promise.all(
        sets.map((payloads) => sendAll({ transport: "unix", path }, payloads)),
      );
    } finally {
      await receiver.close();
    }
    // Connections got ids in the order they were accepted: match each
    // connection's rows to a capture by their count and first row.
    const expected = await Promise.all(
      sets.map((p) => fileRows(p, scanner.engine)),
    );
    const got = [...rows.values()].sort((a, b) => a.length - b.length);
    expected.sort((a, b) => a.length - b.length);
    assert.equal(got.length, 4);
    assert.deepEqual(got, expected);
  });
});

Deno.test("DnstapRunScanner gives forEachDnstapBatch's rows however the frames are cut into runs, mutated and cut messages among them (both engines)", async () => {
  const next = rng(14);
  const pool = (await Promise.all(CAPTURES.map(payloadsOf))).flat();
  let malformed = 0;
  for (let round = 0; round < 60; round++) {
    // Some messages, some of them with bytes flipped or cut short.
    const payloads: Uint8Array[] = [];
    const n = 1 + (next() % 300);
    for (let k = 0; k < n; k++) {
      const p = pool[next() % pool.length]!.slice();
      const what = next() % 4;
      if (what === 0 && p.length > 0) p[next() % p.length] = next() & 0xff;
      // Cut short (never to nothing: an empty frame is the control escape).
      payloads.push(what === 1 ? p.subarray(0, 1 + (next() % p.length)) : p);
    }
    const frames = payloads.map((p) => encodeDataFrame(p));
    const bytes = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
    const starts: number[] = [];
    let at = 0;
    for (const f of frames) {
      starts.push(at);
      bytes.set(f, at);
      at += f.length;
    }
    for (const engine of ENGINES) {
      const rows: string[] = [];
      const scanner = new DnstapRunScanner((c, count, w) => {
        for (let i = 0; i < count; i++) rows.push(canonicalRow(c, i, w));
      }, { engine });
      // Runs of 1 to 40 frames, each in a window of its own bytes with
      // others around (as a read buffer holds them).
      for (let k = 0; k < frames.length;) {
        const m = Math.min(frames.length - k, 1 + (next() % 40));
        const from = starts[k]!;
        const to = k + m < frames.length ? starts[k + m]! : bytes.length;
        const pad = next() % 8;
        const window = new Uint8Array(pad + (to - from) + 3).fill(0xee);
        window.set(bytes.subarray(from, to), pad);
        scanner.onRun(window, pad, pad + to - from, m);
        k += m;
      }
      assert.deepEqual(
        rows,
        await fileRows(payloads, engine),
        `round ${round}`,
      );
      malformed += rows.filter((r) => !r.includes(`"status":${SCAN_OK},`))
        .length;
    }
  }
  // The mutations reached the error paths.
  assert.ok(malformed > 500, `${malformed} malformed rows`);
});

/** `count` tiny dnstap frames in one run. */
function tinyRun(count: number): Uint8Array {
  const frame = encodeDataFrame(encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  }));
  const run = new Uint8Array(frame.length * count);
  for (let k = 0; k < count; k++) run.set(frame, k * frame.length);
  return run;
}

for (const engine of ENGINES) {
  Deno.test(`DnstapRunScanner splits a run longer than a batch and awaits the callback's promises (${engine})`, async () => {
    const count = 2 * SCAN_CAPACITY + 5;
    const run = tinyRun(count);
    const window = new Uint8Array(run.length + 10);
    window.set(run, 7);
    const sizes: number[] = [];
    let ports = 0;
    let pending = 0;
    const scanner = new DnstapRunScanner<string>(async (c, n, _w, conn) => {
      assert.equal(conn, "peer");
      assert.equal(pending, 0, "a batch before the last one's promise settled");
      pending++;
      for (let i = 0; i < n; i++) ports += c.queryPort[i]!;
      sizes.push(n);
      await new Promise((r) => setTimeout(r, 1));
      pending--;
    }, { engine });
    const returned = scanner.onRun(window, 7, 7 + run.length, count, "peer");
    assert.ok(returned instanceof Promise);
    // Only the first batch has run before the promise is awaited.
    assert.deepEqual(sizes, [SCAN_CAPACITY]);
    await returned;
    assert.deepEqual(sizes, [SCAN_CAPACITY, SCAN_CAPACITY, 5]);
    assert.equal(ports, 53 * count);
    assert.equal(scanner.messages, count);
    assert.equal(scanner.batches, 3);
  });
}

Deno.test("DnstapRunScanner refuses a connection's run passed before its last run's promise settled", async () => {
  const count = SCAN_CAPACITY + 5; // two batches
  const run = tinyRun(count);
  const small = tinyRun(3);
  // Each connection's pending batch, settled by `release`.
  const settle = new Map<string, () => void>();
  const release = (conn: string): void => {
    const f = settle.get(conn);
    assert.ok(f !== undefined, `no batch of ${conn} pending`);
    settle.delete(conn);
    f();
  };
  let fail = false;
  const seen: string[] = [];
  const scanner = new DnstapRunScanner<string>((_c, n, _w, conn) => {
    seen.push(`${conn}:${n}`);
    return new Promise<void>((resolve, reject) => {
      settle.set(
        conn,
        () => fail ? reject(new Error("callback failed")) : resolve(),
      );
    });
  }, { engine: "ts" });
  const first = scanner.onRun(run, 0, run.length, count, "a");
  assert.ok(first !== undefined);
  // Its second batch still reads `run`: no run of "a" until it settles.
  assert.throws(
    () => scanner.onRun(small, 0, small.length, 3, "a"),
    (e) => e instanceof TypeError && /settled/.test(e.message),
  );
  // Another connection's run goes on (as a receiver's connections do).
  const other = scanner.onRun(small, 0, small.length, 3, "b");
  release("b");
  await other;
  release("a"); // its first batch; then its second is scanned
  await new Promise((r) => setTimeout(r, 0));
  assert.throws(
    () => scanner.onRun(small, 0, small.length, 3, "a"),
    TypeError,
  );
  release("a");
  await first;
  assert.deepEqual(seen, [`a:${SCAN_CAPACITY}`, "b:3", "a:5"]);
  // Settled: "a" may pass runs again; a rejected promise settles too.
  fail = true;
  const again = scanner.onRun(small, 0, small.length, 3, "a");
  release("a");
  await assert.rejects(Promise.resolve(again), /callback failed/);
  fail = false;
  const last = scanner.onRun(small, 0, small.length, 3, "a");
  release("a");
  await last;
  assert.equal(scanner.messages, count + 9);
  // Sources of one stream (no connection) count as one.
  const single = new DnstapRunScanner(() => Promise.resolve(), {
    engine: "ts",
  });
  const pending = single.onRun(small, 0, small.length, 3);
  assert.throws(() => single.onRun(small, 0, small.length, 3), TypeError);
  await pending;
  await single.onRun(small, 0, small.length, 3);
});

Deno.test("DnstapRunScanner refuses a run that does not hold its frames whole", () => {
  const run = tinyRun(3);
  const one = run.length / 3;
  const scanner = new DnstapRunScanner(() => {}, { engine: "ts" });
  const cases: [string, number, number, number][] = [
    // More frames said than the run holds.
    ["4 frames said, 3 there", 0, run.length, 4],
    // Fewer: bytes left over.
    ["2 frames said, 3 there", 0, run.length, 2],
    // The last frame cut by the run's end.
    ["the end inside a frame", 0, run.length - 1, 3],
    // A run beyond the window.
    ["past the window", 0, run.length + 1, 3],
    // No frames said, bytes there.
    ["0 frames said", 0, one, 0],
  ];
  for (const [what, start, end, frames] of cases) {
    assert.throws(
      () => scanner.onRun(run, start, end, frames),
      RangeError,
      what,
    );
  }
  // An empty run is nothing.
  scanner.onRun(run, one, one, 0);
  assert.throws(
    () => new DnstapRunScanner(null as unknown as () => void),
    TypeError,
  );
  assert.throws(
    () => new DnstapRunScanner(() => {}, { engine: "x" as "ts" }),
    TypeError,
  );
  // Read buffers: a count of them, and FrameReceiver's read sizes.
  for (
    const [options, error] of [
      [{ slots: -1 }, RangeError],
      [{ slots: 1.5 }, TypeError],
      [{ slotSize: 65_535 }, RangeError],
      [{ slotSize: "1" as unknown as number }, TypeError],
    ] as const
  ) {
    assert.throws(() => new DnstapRunScanner(() => {}, options), error);
  }
  // At most 1 GiB of slots in all, refused before any memory is taken.
  for (const engine of ["auto", ...ENGINES] as const) {
    for (
      const [slots, slotSize] of [
        [1_024, 1 << 26],
        [17, 1 << 26],
        [1_024, (1 << 20) + 1],
      ] as const
    ) {
      assert.throws(
        () => new DnstapRunScanner(() => {}, { engine, slots, slotSize }),
        (e) =>
          e instanceof RangeError &&
          /slots × slotSize must be at most 1073741824/.test(e.message),
        `${engine} ${slots} × ${slotSize}`,
      );
    }
  }
  assert.equal(
    new DnstapRunScanner(() => {}, { slots: 0 }).readBuffers.acquire(
      65_536,
      undefined!,
    ),
    null,
  );
});
