// FrameReader delivery: batches, the iterator, callbacks that throw or
// return promises (backpressure), payloads that stay valid.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  decodeFrames,
  encodeControlFrame,
  encodeFrameStream,
  type Frame,
  FrameReader,
  UnexpectedFrameError,
} from "../mod.ts";
import { concat, hex } from "./_util.ts";
import { HELLO, START, STOP } from "./_vectors.ts";
import {
  assertSameFrames,
  assertSamePayloads,
  bytesEqual,
  dataFrame,
  DNSTAP,
  drain,
  join,
  MemorySource,
  MIN_WINDOW,
  own,
  pattern,
  SyncMemorySource,
  u32,
} from "./_reader_harness.ts";

// ---------------------------------------------------------------------------
// batches(), the iterator, forEachFrame.

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] batches yield the frames before a mid-window error, then throw`, async () => {
    // One window: START, 5,000 frames (more than one scan's table), a bad
    // control frame, more frames that must never come.
    const frames = Array.from({ length: 5_000 }, (_, i) => dataFrame(3, i));
    const bad = hex("00000000 00000002");
    const bytes = join([START, ...frames, bad, HELLO, STOP]);
    const badOffset = 42 + 5_000 * 7;
    for (const reuseWindow of [false, true]) {
      const reader = new FrameReader(
        new SyncMemorySource(bytes, Infinity, 0),
        { engine, reuseWindow },
      );
      const events: string[] = [];
      const kept: Frame[] = [];
      try {
        for await (const batch of reader.batches()) {
          events.push(`batch of ${batch.length}`);
          for (const f of batch) kept.push(reuseWindow ? own(f) : f);
        }
      } catch (e) {
        assert.ok(e instanceof ControlFrameError);
        assert.equal(e.offset, badOffset);
        events.push("error");
      }
      assert.deepEqual(events, ["batch of 5001", "error"]);
      assert.equal(reader.summary.frames, 5_000);
      assertSameFrames(
        kept,
        decodeFrames(bytes.subarray(0, badOffset)),
        `reuseWindow ${reuseWindow}`,
      );
    }
    // The iterator too: every frame, then the error.
    const reader = new FrameReader(new MemorySource(bytes, 1000, 1), {
      engine,
    });
    let count = 0;
    await assert.rejects(async () => {
      for await (const _ of reader) count++;
    }, ControlFrameError);
    assert.equal(count, 5_001);
  });

  Deno.test(`FrameReader [${engine}] batches and the iterator hand out payloads of their own, not views of the window`, async () => {
    // Several windows of frames, a large frame among them.
    const payloads = Array.from(
      { length: 3_000 },
      (_, i) => pattern(i === 1_500 ? 100_000 : 1 + (i * 37) % 400, i),
    );
    const bytes = encodeFrameStream(payloads, { contentType: "c" });
    const windowSize = MIN_WINDOW;
    for (const how of ["batches", "iterator"] as const) {
      const source = new SyncMemorySource(bytes.slice(), 5_000, 1);
      const reader = new FrameReader(source, { engine, windowSize });
      const kept: Frame[] = [];
      if (how === "batches") {
        for await (const batch of reader.batches()) kept.push(...batch);
      } else {
        for await (const f of reader) kept.push(f);
      }
      // The source's bytes change afterwards: the payloads do not.
      source.bytes.fill(0xee);
      const data = kept.flatMap((f) => f.kind === "data" ? [f] : []);
      assertSamePayloads(data.map((f) => f.data), payloads, how);
      for (const f of data) {
        // A copy of (part of) one window, or the large frame's own buffer;
        // WebAssembly memory is larger than a window plus 64 KiB.
        assert.ok(!(f.data.buffer instanceof SharedArrayBuffer));
        assert.ok(
          f.data.buffer.byteLength <= Math.max(windowSize, f.data.length + 4),
          `${how}: payload at ${f.offset} lives in a ${f.data.buffer.byteLength}-byte buffer`,
        );
      }
      // And their content types are copies too.
      const start = kept[0]!;
      assert.ok(start.kind === "control");
      assert.deepEqual(start.contentTypes, [new TextEncoder().encode("c")]);
      assert.equal(start.contentTypes[0]!.buffer.byteLength, 1);
    }
  });

  Deno.test(`FrameReader [${engine}] iterator stops reading when the loop breaks`, async () => {
    const bytes = encodeFrameStream(
      Array.from({ length: 20_000 }, (_, i) => pattern(10, i)),
    );
    const source = new MemorySource(bytes, 1000, 1);
    const reader = new FrameReader(source, { engine, windowSize: MIN_WINDOW });
    let n = 0;
    for await (const _ of reader) {
      if (++n === 10) break;
    }
    const reads = source.asyncReads;
    assert.ok(reads < 5, `${reads} reads`);
    await assert.rejects(reader.forEachFrame(() => {}), TypeError);
    assert.equal(source.asyncReads, reads);
  });

  Deno.test(`FrameReader [${engine}] forEachFrame stops at a callback that throws`, async () => {
    const payloads = [
      ...Array.from({ length: 30_000 }, (_, i) => pattern(1 + (i % 20), i)),
      pattern(100_000, 1),
      pattern(5, 2),
    ];
    const bytes = encodeFrameStream(payloads);
    // The throw in a frame inside a window, and in the frame larger than it.
    for (const at of [10, 20_000, 30_001]) {
      const source = new SyncMemorySource(bytes, Infinity, 0);
      const reader = new FrameReader(source, {
        engine,
        windowSize: MIN_WINDOW,
      });
      const failure = new Error("enough");
      let calls = 0;
      let reads = -1;
      await assert.rejects(
        reader.forEachFrame(() => {
          if (++calls === at) {
            reads = source.syncReads;
            throw failure;
          }
        }),
        (e) => e === failure,
      );
      assert.equal(calls, at);
      // Frames delivered up to then, the failing one included.
      assert.equal(reader.summary.frames, at);
      // No read after the throw.
      assert.equal(source.syncReads, reads);
      await assert.rejects(reader.forEachFrame(() => {}), TypeError);
      assert.equal(source.syncReads, reads);
    }
  });

  // A regression test: an error thrown while a scan's frames are delivered
  // (the callback's, or a strict UnexpectedFrameError / unknown-type
  // ControlFrameError) once dropped the bytes of the frames that scan
  // delivered before it from bytes, though frames counted them.
  Deno.test({
    name:
      `FrameReader [${engine}] counts the payload bytes of frames delivered before an error`,
    fn: async () => {
      // Strict: a data frame after STOP, the frames before it in one scan.
      const bytes = concat(encodeFrameStream(["abc", "de"]), HELLO);
      const strict = new FrameReader(new MemorySource(bytes, Infinity, 0), {
        engine,
        strict: true,
      });
      assert.ok(await drain(strict) instanceof UnexpectedFrameError);
      assert.equal(strict.summary.frames, 2);
      assert.equal(strict.summary.bytes, 5);
      // A callback that throws at the third frame.
      const reader = new FrameReader(
        new MemorySource(
          encodeFrameStream(["aaa", "bb", "c", "dddd"]),
          Infinity,
          0,
        ),
        { engine },
      );
      let calls = 0;
      await assert.rejects(reader.forEachFrame(() => {
        if (++calls === 3) throw new Error("stop");
      }));
      assert.equal(reader.summary.frames, 3);
      assert.equal(reader.summary.bytes, 6);
    },
  });
}

/**
 * 3,000 frames over several 64 KiB windows, one larger than the window,
 * and a reader of them (reads of at most 5,000 bytes).
 */
function severalWindows(
  engine: "ts" | "wasm",
): { payloads: Uint8Array[]; reader: FrameReader } {
  const payloads = Array.from(
    { length: 3000 },
    (_, i) => pattern(i === 1234 ? 70_000 : 20 + (i * 37) % 400, i),
  );
  const bytes = encodeFrameStream(payloads, { contentType: DNSTAP });
  const reader = new FrameReader(new MemorySource(bytes, 5000, 1), {
    engine,
    windowSize: MIN_WINDOW,
  });
  return { payloads, reader };
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] forEachFrame waits for a returned promise, the window intact meanwhile`, async () => {
    const { payloads, reader } = severalWindows(engine);
    let i = 0;
    let pending = 0;
    const summary = await reader.forEachFrame((window, offset, length) => {
      const k = i++;
      assert.equal(pending, 0, `frame ${k} delivered while one was pending`);
      assert.ok(
        bytesEqual(window.subarray(offset, offset + length), payloads[k]!),
      );
      if (k % 7 === 3) {
        // A promise: the next frame waits; the view must still hold after.
        pending++;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            pending--;
            assert.ok(
              bytesEqual(
                window.subarray(offset, offset + length),
                payloads[k]!,
              ),
              `frame ${k} changed while its promise was pending`,
            );
            resolve();
          }, 0)
        );
      }
      // A thenable that is not a Promise counts too.
      if (k % 11 === 5) {
        pending++;
        return {
          then(resolve: () => void) {
            pending--;
            resolve();
          },
        } as unknown as PromiseLike<void>;
      }
      return undefined;
    });
    assert.equal(i, payloads.length);
    assert.equal(summary.frames, payloads.length);
    assert.equal(summary.stopped, true);
  });

  Deno.test(`FrameReader [${engine}] forEachFrame rejects with a returned promise's rejection`, async () => {
    const bytes = encodeFrameStream(["a", "b", "c"]);
    const reader = new FrameReader(new MemorySource(bytes, Infinity, 1), {
      engine,
    });
    const seen: number[] = [];
    const boom = new Error("boom");
    await assert.rejects(
      reader.forEachFrame((window, offset) => {
        seen.push(window[offset]!);
        return seen.length === 2 ? Promise.reject(boom) : undefined;
      }),
      (e) => e === boom,
    );
    assert.deepEqual(seen, [0x61, 0x62]);
    assert.equal(reader.summary.frames, 2);
  });
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`FrameReader [${engine}] forEachRun waits for a returned promise, the run intact meanwhile`, async () => {
    const { payloads, reader } = severalWindows(engine);
    let next = 0; // the next payload expected
    let runs = 0;
    let pending = 0;
    /** Checks the run's frames against the payloads from `first` on. */
    const check = (run: Uint8Array, first: number, n: number) => {
      let at = 0;
      for (let k = first; k < first + n; k++) {
        const length = u32(run, at);
        assert.ok(
          bytesEqual(run.subarray(at + 4, at + 4 + length), payloads[k]!),
          `frame ${k}`,
        );
        at += 4 + length;
      }
      assert.equal(at, run.length);
    };
    const summary = await reader.forEachRun((window, start, end, n) => {
      assert.equal(pending, 0, `run ${runs} delivered while one was pending`);
      const first = next;
      const run = window.subarray(start, end);
      check(run, first, n);
      next += n;
      if (runs++ % 2 === 0) {
        pending++;
        return new Promise<void>((resolve) =>
          setTimeout(() => {
            pending--;
            check(run, first, n); // still the same bytes
            resolve();
          }, 0)
        );
      }
      return undefined;
    });
    assert.equal(next, payloads.length);
    assert.ok(runs > 3, `${runs} runs`);
    assert.equal(summary.frames, payloads.length);
    assert.equal(summary.stopped, true);
  });

  Deno.test(`FrameReader [${engine}] forEachRun ends runs at control frames and stops at a callback's rejection`, async () => {
    // Data before START and after STOP (accepted unless strict), and a
    // second START: four runs in one window.
    const bytes = concat(
      dataFrame(5, 1),
      START,
      dataFrame(6, 2),
      dataFrame(7, 3),
      STOP,
      dataFrame(8, 4),
      encodeControlFrame(2, []),
      dataFrame(9, 5),
    );
    const reader = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
    });
    const runs: [number, number, number][] = [];
    await reader.forEachRun((_window, start, end, n) => {
      runs.push([start, end, n]);
    });
    const d1 = 9, s = START.length, d2 = 10, d3 = 11, p = STOP.length;
    const d4 = 12, s2 = encodeControlFrame(2, []).length;
    const at4 = d1 + s + d2 + d3 + p;
    assert.deepEqual(runs, [
      [0, d1, 1],
      [d1 + s, d1 + s + d2 + d3, 2],
      [at4, at4 + d4, 1],
      [at4 + d4 + s2, at4 + d4 + s2 + 13, 1],
    ]);
    assert.equal(at4 + d4 + s2 + 13, bytes.length);
    assert.equal(reader.summary.frames, 5);
    // Strict: the run before the out-of-place frame, then the error.
    const strict = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
      strict: true,
    });
    const seen: number[] = [];
    await assert.rejects(
      strict.forEachRun((_w, _s, _e, n) => {
        seen.push(n);
      }),
      (e) => e instanceof UnexpectedFrameError && e.offset === 0,
    );
    assert.equal(seen.length, 0);
    const later = concat(
      START,
      dataFrame(6, 2),
      dataFrame(7, 3),
      STOP,
      dataFrame(8, 4),
    );
    const strict2 = new FrameReader(new MemorySource(later, Infinity, 0), {
      engine,
      strict: true,
    });
    await assert.rejects(
      strict2.forEachRun((_w, _s, _e, n) => {
        seen.push(n);
      }),
      (e) =>
        e instanceof UnexpectedFrameError &&
        e.offset === later.length - 12,
    );
    assert.deepEqual(seen, [2]);
    // A rejection stops the reading there.
    const boom = new Error("boom");
    const stopped = new FrameReader(new MemorySource(bytes, Infinity, 0), {
      engine,
    });
    let calls = 0;
    await assert.rejects(
      stopped.forEachRun(() =>
        ++calls === 2 ? Promise.reject(boom) : undefined
      ),
      (e) => e === boom,
    );
    assert.equal(calls, 2);
    assert.equal(stopped.summary.frames, 3);
  });
}
