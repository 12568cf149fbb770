// The public columnar scan (src/dnstap_scan.ts): every frame comes once, in
// order, with the name and address the reference decoders give; callbacks
// that return promises are waited for (runs longer than a batch included);
// re-chunked input gives the same rows; bad arguments.
import assert from "node:assert/strict";
import { decodeFrames, encodeFrameStream, FrameReader } from "../mod.ts";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapAddress,
} from "../src/dnstap.ts";
import { parseDnsMessage } from "../src/dns.ts";
import {
  dnstapAddress,
  dnstapQname,
  forEachDnstapBatch,
  SCAN_CAPACITY,
  SCAN_OK,
} from "../src/dnstap_scan.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);

/** Per row: status, qname, client, as the API gives them. */
async function rowsOf(
  source: ReadableStream<Uint8Array> | FrameReader,
  engine: "ts" | "wasm",
): Promise<string[]> {
  const rows: string[] = [];
  await forEachDnstapBatch(source, (cols, count, window) => {
    for (let i = 0; i < count; i++) {
      rows.push(
        `${cols.status[i]} ${dnstapQname(cols, i, window)} ${
          cols.queryAddressLength[i] === 0 ? "-" : dnstapAddress(cols, i)
        }`,
      );
    }
  }, { engine });
  return rows;
}

for (const name of ["knot", "bind", "unbound", "dnsdist"]) {
  Deno.test(`forEachDnstapBatch gives every frame of ${name}.fstrm once, with decodeDnstap's name and address`, async () => {
    const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    const expected: string[] = [];
    for (const frame of decodeFrames(bytes)) {
      if (frame.kind !== "data") continue;
      const m = decodeDnstap(frame.data).message!;
      const t = String(m.type);
      const dns = t.endsWith("RESPONSE") ? m.responseMessage! : m.queryMessage!;
      const q = parseDnsMessage(dns).question;
      expected.push(
        `${SCAN_OK} ${q === null ? null : q.name} ${
          m.queryAddress === undefined
            ? "-"
            : formatDnstapAddress(m.queryAddress)
        }`,
      );
    }
    for (const engine of ["ts", "wasm"] as const) {
      assert.deepEqual(
        await rowsOf(ReadableStream.from([bytes]), engine),
        expected,
      );
      // Re-chunked: random splits give the same rows.
      let seed = 5;
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length;) {
        seed = (seed * 48271) % 2147483647;
        const n = 1 + (seed % 700);
        chunks.push(bytes.slice(at, at + n));
        at += n;
      }
      assert.deepEqual(
        await rowsOf(ReadableStream.from(chunks), engine),
        expected,
      );
    }
  });
}

Deno.test("forEachDnstapBatch waits for a callback's promise, also inside a run longer than a batch", async () => {
  const frames: Uint8Array[] = [];
  const total = 2 * SCAN_CAPACITY + 100;
  for (let k = 0; k < total; k++) {
    frames.push(encodeDnstap({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryPort: k },
    }));
  }
  const bytes = encodeFrameStream(frames);
  for (const engine of ["ts", "wasm"] as const) {
    const ports: number[] = [];
    let busy = false;
    const summary = await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      async (cols, count) => {
        assert.ok(!busy, "no batch while the last one's promise is pending");
        busy = true;
        // Read the columns before and after a pause: they must stay intact.
        const first = cols.queryPort[0]!;
        await new Promise((r) => setTimeout(r, 1));
        assert.equal(cols.queryPort[0], first);
        for (let i = 0; i < count; i++) ports.push(cols.queryPort[i]!);
        busy = false;
      },
      { engine },
    );
    assert.equal(ports.length, total);
    assert.ok(ports.every((p, k) => p === k));
    assert.equal(summary.frames, total);
    assert.ok(summary.batches >= 3);
    assert.equal(summary.scanEngine, engine);
  }
});

Deno.test("forEachDnstapBatch reads a FrameReader made elsewhere, with its options", async () => {
  const bytes = await Deno.readFile(new URL("knot.fstrm", DIR));
  const reader = new FrameReader(ReadableStream.from([bytes]), {
    engine: "ts",
  });
  const rows = await rowsOf(reader, "wasm");
  assert.equal(rows.length, 266);
  await assert.rejects(() => rowsOf(reader, "ts"), TypeError);
});

Deno.test("forEachDnstapBatch rejects a bad callback and a bad engine", async () => {
  const source = ReadableStream.from([encodeFrameStream([])]);
  await assert.rejects(
    () => forEachDnstapBatch(source, 1 as never),
    TypeError,
  );
  await assert.rejects(
    () => forEachDnstapBatch(source, () => {}, { engine: "fast" as never }),
    TypeError,
  );
});

Deno.test("dnstapAddress gives IPv4, IPv6 and response addresses", async () => {
  const v6 = new Uint8Array(16);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
  const bytes = encodeFrameStream([encodeDnstap({
    type: "MESSAGE",
    message: {
      type: "CLIENT_QUERY",
      queryAddress: new Uint8Array([192, 0, 2, 1]),
      responseAddress: v6,
    },
  })]);
  const got: string[] = [];
  await forEachDnstapBatch(ReadableStream.from([bytes]), (cols) => {
    got.push(dnstapAddress(cols, 0), dnstapAddress(cols, 0, "response"));
  });
  assert.deepEqual(got, ["192.0.2.1", "2001:db8::1"]);
});

Deno.test("forEachDnstapBatch reads frames larger than its window, skips oversized ones when asked, and reads strictly through a FrameReader", async () => {
  // Small queries around two of 100,000 bytes (a long identity): each large
  // frame comes alone, in a buffer of its own, scanned by the TS scanner.
  const query = (port: number, identity = 0): Uint8Array =>
    encodeDnstap({
      type: "MESSAGE",
      ...(identity > 0 ? { identity: new Uint8Array(identity).fill(97) } : {}),
      message: {
        type: "CLIENT_QUERY",
        queryPort: port,
        queryMessage: new Uint8Array([
          0,
          1,
          1,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          1,
          97,
          0,
          0,
          1,
          0,
          1,
        ]),
      },
    });
  const frames = [query(1), query(2, 100_000), query(3), query(4, 100_000)];
  for (let k = 5; k < 3000; k++) frames.push(query(k));
  const bytes = encodeFrameStream(frames);
  for (const engine of ["ts", "wasm"] as const) {
    const ports: number[] = [];
    const names = new Set<string | null>();
    const summary = await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      (cols, count, window) => {
        for (let i = 0; i < count; i++) {
          assert.equal(cols.status[i], SCAN_OK);
          ports.push(cols.queryPort[i]!);
          names.add(dnstapQname(cols, i, window));
        }
      },
      { engine, windowSize: 65_536 },
    );
    assert.deepEqual(ports, frames.map((_, k) => k + 1));
    assert.deepEqual([...names], ["a."]);
    assert.equal(summary.scanEngine, engine);
    assert.equal(summary.frames, frames.length);
    // Oversized frames skipped and counted.
    const skipped: number[] = [];
    const s2 = await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      (cols, count) => {
        for (let i = 0; i < count; i++) skipped.push(cols.queryPort[i]!);
      },
      { engine, maxFrameLength: 50_000, oversize: "skip" },
    );
    assert.equal(s2.oversizedFrames, 2);
    assert.deepEqual(skipped, ports.filter((p) => p !== 2 && p !== 4));
    // strict: read by a FrameReader, the same rows.
    const strict: number[] = [];
    await forEachDnstapBatch(
      ReadableStream.from([bytes]),
      (cols, count) => {
        for (let i = 0; i < count; i++) strict.push(cols.queryPort[i]!);
      },
      { engine, strict: true },
    );
    assert.deepEqual(strict, ports);
  }
});
