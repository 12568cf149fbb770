// The columnar dnstap scan against the references: on every frame of the
// four real-server captures, each engine's every column equals what
// decodeDnstap and parseDnsMessage give; plus table-driven edge cases.
import assert from "node:assert/strict";
import {
  type DnstapScanner,
  TsDnstapScanner,
  WasmDnstapScanner,
} from "../src/_dnstap_scan_engine.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { parseDnsMessage } from "../src/dns.ts";
import { DNSTAP_SCAN_WASM } from "../src/_dnstap_scan_wasm_bytes.ts";
import {
  columnsBytes,
  DnstapColumns,
  HAS_DNS,
  HAS_DNS_RESPONSE,
  HAS_OPT,
  HAS_QCLASS,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUESTION,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CAPACITY,
  SCAN_CONTROL,
  SCAN_OK,
} from "../src/_dnstap_scan_layout.ts";
import {
  expectedRow,
  frameTables,
  type Row,
  rowOf,
  rowsEqual,
} from "./_dnstap_scan.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
/** Messages without a question per capture: BIND answers opcode STATUS
 * with NOTIMP and no question (tests/data/dnstap/README.md). */
const CAPTURES: Record<string, number> = {
  knot: 0,
  bind: 1,
  unbound: 0,
  dnsdist: 0,
};

function engines(): DnstapScanner[] {
  return [new TsDnstapScanner(), new WasmDnstapScanner()];
}

for (const [name, noQuestion] of Object.entries(CAPTURES)) {
  Deno.test(`scanDnstap agrees with decodeDnstap and parseDnsMessage on every frame of ${name}.fstrm`, async () => {
    const buf = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    for (const scanner of engines()) {
      let rows = 0;
      let questions = 0;
      let ok = 0;
      let opts = 0;
      for (const table of frameTables(buf)) {
        const n = table.length / 3;
        scanner.scan(buf, table, n);
        for (let i = 0; i < n; i++) {
          const got = rowOf(scanner.columns, i);
          const want = expectedRow(buf, table, i, got);
          assert.deepEqual(got, want, `${scanner.name} row ${rows}`);
          if ((want.present as number) & HAS_OPT) opts++;
          if ((want.present as number) & HAS_QUESTION) questions++;
          if (want.status === SCAN_OK) ok++;
          rows++;
        }
      }
      // Two control frames (START, STOP); every message well formed.
      assert.ok(rows > 250, `${rows} rows`);
      assert.equal(ok, rows - 2);
      assert.equal(questions, rows - 2 - noQuestion);
      assert.ok(opts > rows / 2, `${opts} OPT records in ${rows} rows`);
    }
  });
}

/**
 * Scans payloads as one window with both engines; asserts both equal the
 * references; returns the rows.
 */
function scanRows(payloads: Uint8Array[]): Row[] {
  const size = payloads.reduce((s, p) => s + 4 + p.length, 0);
  const buf = new Uint8Array(size);
  const table = new Uint32Array(payloads.length * 3);
  let at = 0;
  payloads.forEach((p, k) => {
    new DataView(buf.buffer).setUint32(at, p.length);
    buf.set(p, at + 4);
    table[k * 3] = at;
    table[k * 3 + 1] = p.length;
    at += 4 + p.length;
  });
  const rows: Row[] = [];
  for (const scanner of engines()) {
    scanner.scan(buf, table, payloads.length);
    payloads.forEach((_, i) => {
      const row = rowOf(scanner.columns, i);
      assert.deepEqual(
        row,
        expectedRow(buf, table, i, row),
        `${scanner.name} ${i}`,
      );
      if (scanner.name === "ts") rows.push(row);
    });
  }
  return rows;
}

/** A CLIENT_QUERY carrying `dns`. */
function query(dns: number[]): Uint8Array {
  return encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: Uint8Array.from(dns) },
  });
}

const HEADER = [0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1];
const label = (n: number): number[] => [n, ...Array(n).fill(0x61)];

Deno.test("scanDnstap reads the question as miekg/dns, edge by edge", () => {
  const cases: [string, number[], number, number][] = [
    // [what, DNS message, status, presence bits that must be set]
    [
      "a name of 254 wire octets",
      [
        ...HEADER,
        ...label(63),
        ...label(63),
        ...label(63),
        ...label(61),
        0,
        0,
        1,
        0,
        1,
      ],
      SCAN_OK,
      HAS_QUESTION | HAS_QTYPE | HAS_QCLASS,
    ],
    [
      "a name of 255 wire octets",
      [
        ...HEADER,
        ...label(63),
        ...label(63),
        ...label(63),
        ...label(62),
        0,
        0,
        1,
        0,
        1,
      ],
      SCAN_BAD_QUESTION,
      HAS_DNS,
    ],
    [
      "the message ends after the name",
      [...HEADER, 1, 0x61, 0],
      SCAN_OK,
      HAS_QUESTION,
    ],
    [
      "one byte after the name",
      [...HEADER, 1, 0x61, 0, 0],
      SCAN_BAD_QUESTION,
      HAS_DNS,
    ],
    [
      "three bytes after the name",
      [...HEADER, 1, 0x61, 0, 0, 28, 0],
      SCAN_OK,
      HAS_QUESTION | HAS_QTYPE,
    ],
    ["a header of 11 bytes", HEADER.slice(0, 11), SCAN_BAD_DNS_HEADER, HAS_DNS],
    ["a header alone, QDCOUNT 1", HEADER, SCAN_OK, HAS_DNS],
    [
      "QDCOUNT 0",
      [...HEADER.slice(0, 4), 0, 0, ...HEADER.slice(6), 1, 0x61, 0],
      SCAN_OK,
      HAS_DNS,
    ],
    [
      "a reserved label type",
      [...HEADER, 0x41, 0x61, 0, 0, 1, 0, 1],
      SCAN_BAD_QUESTION,
      HAS_DNS,
    ],
    [
      "a pointer loop",
      [...HEADER, 0xc0, 12, 0, 1, 0, 1],
      SCAN_BAD_QUESTION,
      HAS_DNS,
    ],
    ["a name cut in a label", [...HEADER, 5, 0x61], SCAN_BAD_QUESTION, HAS_DNS],
    [
      "a pointer to a name after the question",
      [...HEADER, 0xc0, 18, 0, 1, 0, 1, 1, 0x61, 0],
      SCAN_OK,
      HAS_QUESTION | HAS_QNAME_POINTER | HAS_QCLASS,
    ],
    [
      "126 pointers",
      [...HEADER, ...chain(126), 0, 0, 1, 0, 1],
      SCAN_OK,
      HAS_QUESTION | HAS_QNAME_POINTER,
    ],
    [
      "127 pointers",
      [...HEADER, ...chain(127), 0, 0, 1, 0, 1],
      SCAN_BAD_QUESTION,
      HAS_DNS,
    ],
  ];
  const rows = scanRows(cases.map(([, dns]) => query(dns)));
  cases.forEach(([what, , status, bits], i) => {
    assert.equal(rows[i]!.status, status, what);
    assert.equal((rows[i]!.present as number) & bits, bits, what);
  });
  // The 254-octet name: 4 labels, 255 bytes in place with the root.
  assert.equal(rows[0]!.qnameLabels, 4);
  assert.equal(rows[0]!.qnameLength, 255);
  // A pointer: the span is the pointer itself.
  assert.equal(rows[11]!.qnameLength, 2);
  assert.equal(rows[4]!.qtype, 28);
});

/** Pointers at 12, 14, ... each to the next, `n` of them, then the root. */
function chain(n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const to = 12 + 2 * k + 2;
    out.push(0xc0 | (to >> 8), to & 0xff);
  }
  return out;
}

Deno.test("scanDnstap reads the last OPT record of the additional section", () => {
  // A response: header (QR, rcode 7, 1 question, 1 answer, 0, ARCOUNT n).
  const head = (ar: number) => [0, 1, 0x81, 0x87, 0, 1, 0, 1, 0, 0, 0, ar];
  const q = [1, 0x61, 0, 0, 1, 0, 1];
  const a = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
  // OPT: root, type 41, class = UDP size, TTL = ext rcode, version, flags.
  const opt = (udp: number, ext: number, flags: number) => [
    0,
    0,
    41,
    udp >> 8,
    udp & 0xff,
    ext,
    0,
    flags >> 8,
    flags & 0xff,
    0,
    0,
  ];
  const response = (dns: number[]) =>
    encodeDnstap({
      type: "MESSAGE",
      message: {
        type: "CLIENT_RESPONSE",
        responseMessage: Uint8Array.from(dns),
      },
    });
  const rows = scanRows([
    // BADCOOKIE: rcode 23 = extended 1, header 7.
    response([...head(1), ...q, ...a, ...opt(1232, 1, 0x8000)]),
    // Two OPT records: the last counts (as miekg/dns takes it).
    response([...head(2), ...q, ...a, ...opt(512, 0, 0), ...opt(4096, 2, 0)]),
    // ARCOUNT says 1, the message ends before it: no OPT, no error.
    response([...head(1), ...q, ...a]),
    // An OPT record whose rdlength runs past the end.
    response([...head(1), ...q, ...a, ...opt(1232, 1, 0).slice(0, 10), 9]),
  ]);
  assert.deepEqual(
    rows.map((r) => [r.ednsUdpSize, r.ednsRcode, r.ednsFlags, r.rcode]),
    [[1232, 1, 0x8000, 7], [4096, 2, 0, 7], [0, 0, 0, 7], [0, 0, 0, 7]],
  );
  assert.deepEqual(
    rows.map((r) => ((r.present as number) & HAS_OPT) !== 0),
    [true, true, false, false],
  );
});

Deno.test("scanDnstap does not check rdata: an OPT after a bad A record still counts", () => {
  // miekg/dns rejects the 3-byte A record ("dns: bad rdlength" or an
  // overflow) and never reaches the OPT record; the scan, which checks
  // record bounds but not rdata, reads it (documented in the layout).
  const dns = Uint8Array.from([
    0,
    1,
    0x81,
    0x80,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    1,
    1,
    0x61,
    0,
    0,
    1,
    0,
    1,
    0xc0,
    12,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    3,
    192,
    0,
    2,
    0,
    0,
    41,
    4,
    0xd0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  assert.notEqual(parseDnsMessage(dns).error, null);
  assert.equal(parseDnsMessage(dns).edns, null);
  const rows = scanRows([
    encodeDnstap({
      type: "MESSAGE",
      message: { type: "AUTH_RESPONSE", responseMessage: dns },
    }),
  ]);
  assert.equal(rows[0]!.ednsUdpSize, 1232);
  assert.equal(rows[0]!.status, SCAN_OK);
});

Deno.test("scanDnstap reads protobuf as decodeDnstap, edge by edge", () => {
  const type = [0x78, 0x01]; // Dnstap.type = MESSAGE
  const cases: [string, number[], number][] = [
    ["a 10-byte varint ending in 1", [
      ...type,
      0x40,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01,
    ], SCAN_OK],
    ["a 10-byte varint ending in 2", [
      ...type,
      0x40,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x02,
    ], SCAN_BAD_PROTOBUF],
    ["an overlong tag", [0xf8, 0x80, 0x80, 0x00, 0x01], SCAN_OK],
    ["field number 0", [...type, 0x00, 0x01], SCAN_BAD_PROTOBUF],
    ["a group", [...type, 0x43], SCAN_BAD_PROTOBUF],
    ["no Dnstap.type", [0x0a, 0x00], SCAN_BAD_PROTOBUF],
    [
      "a message without its type",
      [...type, 0x72, 0x02, 0x30, 0x35],
      SCAN_BAD_PROTOBUF,
    ],
    ["a message whose type comes in a repeat", [
      ...type,
      0x72,
      0x02,
      0x30,
      0x35,
      0x72,
      0x02,
      0x08,
      0x05,
    ], SCAN_OK],
    ["identity as a varint", [...type, 0x08, 0x01], SCAN_BAD_PROTOBUF],
    ["a length past the end", [...type, 0x0a, 0x05, 0x61], SCAN_BAD_PROTOBUF],
    ["a policy with a bad wire type", [
      ...type,
      0x72,
      0x06,
      0x08,
      0x05,
      0x7a,
      0x02,
      0x18,
      0x01,
      0x72,
      0x04,
      0x7a,
      0x02,
      0x1a,
      0x00,
    ], SCAN_BAD_PROTOBUF],
    ["a uint64 time over 2^53", [
      ...type,
      0x72,
      0x0d,
      0x08,
      0x05,
      0x40,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x01,
    ], SCAN_OK],
  ];
  const rows = scanRows(cases.map(([, bytes]) => Uint8Array.from(bytes)));
  cases.forEach(([what, , status], i) =>
    assert.equal(rows[i]!.status, status, what)
  );
  assert.equal(rows[11]!.queryTimeSec, 2 ** 64); // 2^64 - 1 rounds up
  assert.equal(rows[7]!.queryPort, 53);
});

Deno.test("scanDnstap reads the response message for a response type", () => {
  const q = Uint8Array.from([...HEADER, 1, 0x71, 0, 0, 1, 0, 1]);
  const r = Uint8Array.from([...HEADER, 1, 0x72, 0, 0, 2, 0, 1]);
  const rows = scanRows([2, 5, 16, -2, 17].map((type) =>
    encodeDnstap({
      type: "MESSAGE",
      message: { type, queryMessage: q, responseMessage: r },
    })
  ));
  assert.deepEqual(rows.map((row) => row.qtype), [2, 1, 2, 1, 1]);
  assert.deepEqual(
    rows.map((row) => ((row.present as number) & HAS_DNS_RESPONSE) !== 0),
    [true, false, true, false, false],
  );
});

Deno.test("scanDnstap marks control frames and loads the WebAssembly engine", () => {
  const scanner = new WasmDnstapScanner();
  assert.equal(scanner.name, "wasm");
  const buf = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3);
  scanner.scan(buf, Uint32Array.of(0, 4, 3), 1);
  assert.equal(scanner.columns.status[0], SCAN_CONTROL);
  assert.throws(
    () => scanner.scan(buf, Uint32Array.of(0, 40, 0), 1),
    RangeError,
  );
});

Deno.test("WasmDnstapScanner runs the committed build, with no imports", async () => {
  const module = new WebAssembly.Module(DNSTAP_SCAN_WASM);
  assert.equal(WebAssembly.Module.imports(module).length, 0);
  assert.deepEqual(
    WebAssembly.Module.exports(module).map((e) => `${e.kind} ${e.name}`)
      .sort(),
    [
      "function capacity",
      "function columnsBytes",
      "function columnsOffset",
      "function countRows",
      "function countsBytes",
      "function countsOffset",
      "function ensureInput",
      "function inputCapacity",
      "function inputOffset",
      "function keyCountsOffset",
      "function keyListBytes",
      "function keysOffset",
      "function scan",
      "function scanWindow",
      "function tableOffset",
      "memory memory",
    ],
  );
  // The embedded bytes are the committed wasm/build/dnstap_scan.wasm.
  const file = await Deno.readFile(
    new URL("../wasm/build/dnstap_scan.wasm", import.meta.url),
  );
  assert.deepEqual(DNSTAP_SCAN_WASM, file);
  // Its columns are views of WebAssembly memory, laid out as the TS ones.
  const scanner = new WasmDnstapScanner();
  const c = scanner.columns;
  assert.equal(c.capacity, SCAN_CAPACITY);
  assert.equal(c.bytes.byteLength, columnsBytes(SCAN_CAPACITY));
  // The columns sit in memory after the frame table, before the input.
  assert.equal(c.byteOffset, 65_536);
  assert.ok(c.buffer.byteLength > c.byteOffset + c.bytes.byteLength);
});

Deno.test("WasmDnstapScanner scans bytes read into its input region in place", async () => {
  const file = await Deno.readFile(new URL("knot.fstrm", DIR));
  const scanner = new WasmDnstapScanner();
  const input = scanner.input(file.length);
  input.set(file);
  const ts = new TsDnstapScanner();
  for (const table of frameTables(input)) {
    const n = table.length / 3;
    scanner.scanInput(table, n);
    ts.scan(file, table, n);
    assert.ok(rowsEqual(scanner.columns, ts.columns, n));
  }
  assert.throws(() => scanner.input(2 ** 32), RangeError);
});

Deno.test("DnstapColumns lays its columns end to end, aligned, in a region of columnsBytes", () => {
  const c = new DnstapColumns(64, new ArrayBuffer(columnsBytes(64) + 16), 8);
  let at = 8;
  for (const a of c.all) {
    assert.equal(a.byteOffset, at);
    assert.equal(a.byteOffset % a.BYTES_PER_ELEMENT, 0);
    at += a.byteLength;
  }
  assert.equal(at - 8, columnsBytes(64));
  assert.equal(c.all.length, 40);
  assert.throws(() => new DnstapColumns(12), RangeError);
});
