// The WebAssembly scanner against the TS scanner: the module, the engine,
// hand-made edge cases, windows, table capacity, copy pieces.
import assert from "node:assert/strict";
import { TABLE_CAPACITY } from "../src/_engine.ts";
import {
  ENTRY_WORDS,
  NEED_CONTROL,
  NEED_DATA,
  NEED_HEADER,
  REASON_CONTENT_TYPE_COUNT,
  REASON_CONTENT_TYPE_LENGTH,
  REASON_FIELD_HEADER,
  REASON_FIELD_LENGTH,
  REASON_FIELD_TYPE,
  REASON_LENGTH,
  STATUS_CONTROL_ERROR,
  STATUS_END,
  STATUS_NEED_MORE,
  STATUS_TABLE_FULL,
  STATUS_TOO_LARGE,
} from "../src/_scan.ts";
import {
  wasmAvailable,
  wasmModule,
  WasmScanEngine,
} from "../src/_wasm_engine.ts";
import { SCANNER_WASM } from "../src/_wasm_scanner_bytes.ts";
import { concat, hex } from "./_util.ts";
import { ACCEPT, FINISH, HELLO, READY, START, STOP } from "./_vectors.ts";

import { assertSame, control, data, engines } from "./_scanner_harness.ts";

// ---------------------------------------------------------------------------
// The module and the engine

Deno.test("WasmScanEngine module has no imports", () => {
  const module = wasmModule();
  assert.equal(WebAssembly.Module.imports(module).length, 0);
  assert.deepEqual(
    WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`)
      .sort(),
    [
      "function ensureInput",
      "function inputCapacity",
      "function inputOffset",
      "function outOffset",
      "function scan",
      "function scanInPlace",
      "function scanSizes",
      "function sizesBytes",
      "function tableCapacity",
      "function tableOffset",
      "memory memory",
    ],
  );
  // Compiled once, shared by every engine.
  assert.equal(wasmModule(), module);
});

Deno.test("WasmScanEngine runs the committed WebAssembly build", async () => {
  assert.ok(wasmAvailable());
  const engine = new WasmScanEngine();
  assert.equal(engine.name, "wasm");
  // Its table and out words live in WebAssembly memory, not a JS array.
  assert.ok(engine.table.buffer.byteLength >= 2 * 65_536);
  assert.equal(engine.table.buffer, engine.out.buffer);
  assert.equal(engine.table.length, TABLE_CAPACITY * ENTRY_WORDS);
  const bytes = concat(START, HELLO, STOP);
  assert.equal(engine.scan(bytes, 0, bytes.length, 100), 3);
  assert.deepEqual(Array.from(engine.table.subarray(0, 9)), [
    0,
    34,
    2,
    42,
    5,
    0,
    51,
    4,
    3,
  ]);
  assert.deepEqual(Array.from(engine.out.subarray(0, 2)), [STATUS_END, 63]);
  // The embedded bytes are the committed wasm/build/scanner.wasm.
  const file = await Deno.readFile(
    new URL("../wasm/build/scanner.wasm", import.meta.url),
  );
  assert.deepEqual(SCANNER_WASM, file);
});

Deno.test("WasmScanEngine instances are independent", () => {
  const a = new WasmScanEngine();
  const b = new WasmScanEngine();
  assert.notEqual(a.table.buffer, b.table.buffer);
  assert.equal(a.scan(concat(HELLO, HELLO), 0, 18, 100), 2);
  assert.equal(b.scan(STOP, 0, 12, 100), 1);
  assert.deepEqual(Array.from(a.table.subarray(0, 6)), [0, 5, 0, 9, 5, 0]);
  assert.deepEqual(Array.from(b.table.subarray(0, 3)), [0, 4, 3]);
});

// ---------------------------------------------------------------------------
// Hand-made edge cases (PROTOCOL.md §5), table-driven: each is scanned whole
// by both engines, fresh, and must give the same count, entries and out
// words; the expected status pins what the TS scanner says.

interface Case {
  name: string;
  bytes: Uint8Array;
  max?: number;
  /** out[0], and out[3] (need/what or reason) when it matters. */
  status: number;
  detail?: number;
  /** out[4], the error position, for control errors. */
  errorAt?: number;
  n?: number;
}

const cases: Case[] = [
  // Empty window: end at once.
  { name: "empty", bytes: new Uint8Array(0), status: STATUS_END, n: 0 },
  // The vectors of §2, one by one and together.
  { name: "START", bytes: START, status: STATUS_END, n: 1 },
  { name: "READY", bytes: READY, status: STATUS_END, n: 1 },
  { name: "ACCEPT", bytes: ACCEPT, status: STATUS_END, n: 1 },
  { name: "FINISH", bytes: FINISH, status: STATUS_END, n: 1 },
  {
    name: "a whole stream",
    bytes: concat(READY, ACCEPT, START, HELLO, HELLO, STOP, FINISH),
    status: STATUS_END,
    n: 7,
  },
  // 1 to 3 bytes: a header is needed.
  {
    name: "1 byte",
    bytes: hex("00"),
    status: STATUS_NEED_MORE,
    detail: NEED_HEADER,
  },
  {
    name: "3 bytes",
    bytes: hex("000000"),
    status: STATUS_NEED_MORE,
    detail: NEED_HEADER,
  },
  // A bare escape: the control header (8 bytes) is needed.
  {
    name: "escape only",
    bytes: hex("00000000"),
    status: STATUS_NEED_MORE,
    detail: NEED_HEADER,
  },
  {
    name: "escape and 3 bytes of clen",
    bytes: hex("00000000 000000"),
    status: STATUS_NEED_MORE,
    detail: NEED_HEADER,
  },
  // A control frame cut short: its clen is known.
  {
    name: "START cut short",
    bytes: START.subarray(0, 20),
    status: STATUS_NEED_MORE,
    detail: NEED_CONTROL,
  },
  // clen 0, 3: under the minimum of 4.
  {
    name: "clen 0",
    bytes: hex("00000000 00000000"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_LENGTH,
    errorAt: 4,
  },
  {
    name: "clen 3",
    bytes: hex("00000000 00000003 000000"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_LENGTH,
    errorAt: 4,
  },
  // clen 4: the smallest, no fields.
  { name: "clen 4 (STOP)", bytes: STOP, status: STATUS_END, n: 1 },
  // clen 512: the largest (READY with 256 + 236 bytes of content types).
  {
    name: "clen 512",
    bytes: control(4, 256, 236),
    status: STATUS_END,
    n: 1,
  },
  // clen 513: one over, rejected before its bytes arrive.
  {
    name: "clen 513",
    bytes: hex("00000000 00000201 00000004"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_LENGTH,
    errorAt: 4,
  },
  {
    name: "clen 0xffffffff",
    bytes: hex("00000000 ffffffff"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_LENGTH,
    errorAt: 4,
  },
  // A field header cut by the frame's end (5 bytes left).
  {
    name: "field header of 5 bytes",
    bytes: hex("00000000 00000009 00000004 0000000100"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_HEADER,
    errorAt: 12,
  },
  {
    name: "field header of 1 byte after a field",
    bytes: hex(`00000000 0000000e 00000004 00000001 00000001 "x" 00`),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_HEADER,
    errorAt: 21,
  },
  // Unknown field type.
  {
    name: "field type 2",
    bytes: hex("00000000 0000000c 00000002 00000002 00000000"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_TYPE,
    errorAt: 12,
  },
  {
    name: "field type 0 in STOP",
    bytes: hex("00000000 0000000c 00000003 00000000 00000000"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_TYPE,
    errorAt: 12,
  },
  // A field longer than the frame.
  {
    name: "field length past the frame",
    bytes: hex(`00000000 0000000d 00000002 00000001 00000002 "x"`),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_LENGTH,
    errorAt: 16,
  },
  {
    name: "field length 0xffffffff",
    bytes: hex("00000000 0000000c 00000004 00000001 ffffffff"),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_FIELD_LENGTH,
    errorAt: 16,
  },
  // Content types: 256 bytes is the limit, 257 is over, 0 is fine.
  {
    name: "content type of 256 bytes",
    bytes: control(2, 256),
    status: STATUS_END,
    n: 1,
  },
  {
    name: "content type of 257 bytes",
    bytes: control(2, 257),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_CONTENT_TYPE_LENGTH,
    errorAt: 16,
  },
  {
    name: "content type of 0 bytes",
    bytes: control(2, 0),
    status: STATUS_END,
    n: 1,
  },
  // START takes one content type; STOP and FINISH none.
  {
    name: "START with two content types",
    bytes: control(2, 1, 1),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_CONTENT_TYPE_COUNT,
    errorAt: 21,
  },
  {
    name: "STOP with a content type",
    bytes: control(3, 0),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_CONTENT_TYPE_COUNT,
    errorAt: 12,
  },
  {
    name: "FINISH with a content type",
    bytes: control(5, 3),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_CONTENT_TYPE_COUNT,
    errorAt: 12,
  },
  // READY and ACCEPT take any number.
  {
    name: "READY with none",
    bytes: control(4),
    status: STATUS_END,
    n: 1,
  },
  {
    name: "ACCEPT with 20",
    bytes: control(1, ...new Array(20).fill(10)),
    status: STATUS_END,
    n: 1,
  },
  // Unknown control types: not validated, kind UNKNOWN.
  {
    name: "control type 0 with junk",
    bytes: hex("00000000 00000007 00000000 ffffff"),
    status: STATUS_END,
    n: 1,
  },
  {
    name: "control type 6",
    bytes: control(6, 300),
    status: STATUS_END,
    n: 1,
  },
  {
    name: "control type 0xffffffff",
    bytes: hex("00000000 00000004 ffffffff"),
    status: STATUS_END,
    n: 1,
  },
  // Data frames near 2^32 and the limit.
  {
    name: "length 0xffffffff, max 0xffffffff",
    bytes: hex("ffffffff 00"),
    max: 0xffff_ffff,
    status: STATUS_NEED_MORE,
    detail: NEED_DATA,
  },
  {
    name: "length 0xffffffff, max 0xfffffffe",
    bytes: hex("ffffffff 00"),
    max: 0xffff_fffe,
    status: STATUS_TOO_LARGE,
  },
  {
    name: "length 0xfffffffe, max 0xfffffffe",
    bytes: hex("fffffffe"),
    max: 0xffff_fffe,
    status: STATUS_NEED_MORE,
    detail: NEED_DATA,
  },
  {
    name: "length 0xfffffffe, max 0xffffffff",
    bytes: hex("fffffffe"),
    max: 0xffff_ffff,
    status: STATUS_NEED_MORE,
    detail: NEED_DATA,
  },
  // maxFrameLength 1: a 1-byte frame passes, a 2-byte one does not.
  {
    name: "max 1, length 1",
    bytes: hex("00000001 2a"),
    max: 1,
    status: STATUS_END,
    n: 1,
  },
  {
    name: "max 1, length 2",
    bytes: hex("00000001 2a 00000002"),
    max: 1,
    status: STATUS_TOO_LARGE,
    n: 1,
  },
  // Too large wins over incomplete; the frames before are kept.
  {
    name: "too large after frames",
    bytes: concat(START, HELLO, hex("00100001")),
    max: 0x10_0000,
    status: STATUS_TOO_LARGE,
    n: 2,
  },
  // TLS and the 2-byte-length protocol look like absurd lengths.
  {
    name: "a TLS ClientHello",
    bytes: hex("16030100 a5010000 a10303"),
    max: 0x10_0000,
    status: STATUS_TOO_LARGE,
  },
  // Frames after an error are not scanned.
  {
    name: "error then a valid frame",
    bytes: concat(HELLO, hex("00000000 00000003"), STOP),
    status: STATUS_CONTROL_ERROR,
    detail: REASON_LENGTH,
    errorAt: 13,
    n: 1,
  },
];

Deno.test("WasmScanEngine agrees with the TS scanner on edge cases", () => {
  for (const c of cases) {
    const [ts, wasm] = engines();
    const max = c.max ?? 0x10_0000;
    const [r] = assertSame(ts, wasm, c.bytes, 0, c.bytes.length, max, c.name);
    assert.equal(r!.out[0], c.status, c.name);
    if (c.detail !== undefined) assert.equal(r!.out[3], c.detail, c.name);
    if (c.errorAt !== undefined) assert.equal(r!.out[4], c.errorAt, c.name);
    if (c.n !== undefined) assert.equal(r!.n, c.n, c.name);
  }
});

Deno.test("WasmScanEngine agrees on every window of a small stream", () => {
  const stream = concat(
    READY,
    ACCEPT,
    START,
    HELLO,
    data(1),
    control(4, 0, 3),
    control(9, 2),
    data(30),
    STOP,
    FINISH,
    hex("00000000 00000002"),
  );
  // Both engines are reused across windows: stale out words must agree too.
  const [ts, wasm] = engines();
  for (const max of [1, 5, 29, 0x10_0000]) {
    for (let start = 0; start <= stream.length; start++) {
      for (let end = start; end <= stream.length; end++) {
        assertSame(ts, wasm, stream, start, end, max);
      }
    }
  }
});

Deno.test("WasmScanEngine agrees on table capacity limits", () => {
  const tiny = data(1);
  for (
    const count of [
      TABLE_CAPACITY - 1,
      TABLE_CAPACITY,
      TABLE_CAPACITY + 1,
      2 * TABLE_CAPACITY,
      5000,
    ]
  ) {
    for (const tail of [new Uint8Array(0), hex("0000"), STOP, hex("ffffff")]) {
      const bytes = concat(...new Array(count).fill(tiny), tail);
      const [ts, wasm] = engines();
      const results = assertSame(ts, wasm, bytes, 0, bytes.length, 10);
      assert.equal(
        results.reduce((n, r) => n + r.n, 0),
        count + (tail === STOP ? 1 : 0),
      );
      if (count > TABLE_CAPACITY || (count === TABLE_CAPACITY && tail.length)) {
        assert.equal(results[0]!.out[0], STATUS_TABLE_FULL);
      }
    }
  }
  // A full table with nothing after it ends, it is not full.
  const exact = concat(...new Array(TABLE_CAPACITY).fill(tiny));
  const [ts, wasm] = engines();
  const [r] = assertSame(ts, wasm, exact, 0, exact.length, 10);
  assert.equal(r!.out[0], STATUS_END);
});

Deno.test("WasmScanEngine agrees across its copy pieces", () => {
  // Control frames (valid and not) at every offset around 16 KiB and 32 KiB,
  // the ends of the first copied pieces, after small and large data frames.
  const probes = [
    control(2, 22),
    control(4, 256, 236),
    control(3, 1),
    hex("00000000 00000200"),
    control(7, 100),
  ];
  const [ts, wasm] = engines();
  for (const lead of [data(1), data(100), data(70_000)]) {
    for (const probe of probes) {
      for (const around of [16_384, 32_768, lead.length + 16_384]) {
        for (let at = around - 530; at <= around + 10; at += 7) {
          const fill = at - lead.length - 4;
          if (fill < 1) continue;
          const bytes = concat(lead, data(fill), probe, HELLO, STOP);
          assertSame(ts, wasm, bytes, 0, bytes.length, 0xffff_ffff);
          assertSame(ts, wasm, bytes, 1, bytes.length, 0xffff_ffff);
          assertSame(ts, wasm, bytes, 0, at + 9, 0xffff_ffff);
        }
      }
    }
  }
  // Large frames, frames that end inside a piece, and a window offset.
  const big = concat(
    START,
    data(262_144),
    data(16_384),
    data(16_383),
    data(20),
    data(65_536),
    STOP,
    data(70_000),
    STOP,
  );
  for (const max of [0xffff_ffff, 65_536, 16_383]) {
    for (const start of [0, 1, 38]) {
      assertSame(ts, wasm, big, start, big.length, max);
      assertSame(ts, wasm, big, start, big.length - 1, max);
      assertSame(ts, wasm, big.subarray(3), start, big.length - 3, max);
    }
  }
});

Deno.test("WasmScanEngine treats odd arguments as the TS engine does", () => {
  const bytes = concat(START, HELLO, data(10), STOP);
  const [ts, wasm] = engines();
  // Limits that are not integers from 1 to 2^32 - 1.
  for (const max of [0, -1, 4.5, 5, 5.5, 9.99, 10, NaN, Infinity, 2 ** 40]) {
    assertSame(ts, wasm, bytes, 0, bytes.length, max, `max ${max}`);
  }
  // Windows out of range go to the TS scanner; the results are the same.
  for (const [start, end] of [[5, 3], [0, bytes.length + 10], [1.5, 20]]) {
    assertSame(ts, wasm, bytes, start!, end!, 100);
  }
});
