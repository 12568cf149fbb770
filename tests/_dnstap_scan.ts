// Shared by the dnstap scan tests and bench: frame tables of a whole buffer,
// and the two engines run side by side.
import { scanFramesTs, STATUS_TABLE_FULL } from "../src/_scan.ts";
import {
  type DnstapColumns,
  HAS_DNS,
  HAS_DNS_RESPONSE,
  HAS_EXTRA,
  HAS_HTTP_PROTOCOL,
  HAS_IDENTITY,
  HAS_MESSAGE,
  HAS_MESSAGE_TYPE,
  HAS_OPT,
  HAS_POLICY,
  HAS_QCLASS,
  HAS_QNAME_POINTER,
  HAS_QTYPE,
  HAS_QUERY_ADDRESS,
  HAS_QUERY_MESSAGE,
  HAS_QUERY_PORT,
  HAS_QUERY_TIME_NSEC,
  HAS_QUERY_TIME_SEC,
  HAS_QUERY_ZONE,
  HAS_QUESTION,
  HAS_RESPONSE_ADDRESS,
  HAS_RESPONSE_MESSAGE,
  HAS_RESPONSE_PORT,
  HAS_RESPONSE_TIME_NSEC,
  HAS_RESPONSE_TIME_SEC,
  HAS_SOCKET_FAMILY,
  HAS_SOCKET_PROTOCOL,
  HAS_TYPE,
  HAS_VERSION,
  SCAN_BAD_DNS_HEADER,
  SCAN_BAD_PROTOBUF,
  SCAN_BAD_QUESTION,
  SCAN_CAPACITY,
  SCAN_CONTROL,
} from "../src/_dnstap_scan_layout.ts";
import assert from "node:assert/strict";
import type { DnstapKeys, KeyOptions } from "../src/_dnstap_keys.ts";
import type { DnstapWindowEngine } from "../src/_dnstap_window_engine.ts";
import { decodeDnstap, type Dnstap } from "../src/dnstap.ts";
import { DnstapError } from "../src/_dnstap_error.ts";
import { parseDnsMessage } from "../src/dns.ts";
import { readName, skipName, WireCursor } from "../src/_dns_wire.ts";
import {
  DNSTAP_TYPES,
  type EnumTable,
  MESSAGE_TYPES,
  SOCKET_FAMILIES,
  SOCKET_PROTOCOLS,
} from "../src/_dnstap_names.ts";

/**
 * The frame tables of a Frame Streams buffer (control frames included), at
 * most `capacity` entries each, as the frame scanner fills them; stops at
 * the first frame it cannot take.
 */
export function frameTables(
  buf: Uint8Array,
  capacity: number = SCAN_CAPACITY,
): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const out = new Uint32Array(8);
  let pos = 0;
  for (;;) {
    const table = new Uint32Array(capacity * 3);
    const n = scanFramesTs(
      buf,
      pos,
      buf.length,
      0xffffffff,
      table,
      capacity,
      out,
    );
    if (n > 0) tables.push(table.subarray(0, n * 3));
    if (out[0] !== STATUS_TABLE_FULL) return tables;
    pos = out[1]!;
  }
}

/** Every column of one row, as a plain object (addresses as hex). */
export type Row = Record<string, number | string>;

const SCALARS = [
  "queryTimeSec",
  "responseTimeSec",
  "present",
  "queryTimeNsec",
  "responseTimeNsec",
  "queryPort",
  "responsePort",
  "queryAddressLength",
  "responseAddressLength",
  "identityOffset",
  "identityLength",
  "queryMessageOffset",
  "queryMessageLength",
  "responseMessageOffset",
  "responseMessageLength",
  "dnsSize",
  "qnameOffset",
  "dnstapType",
  "messageType",
  "socketFamily",
  "socketProtocol",
  "id",
  "flags",
  "qdcount",
  "ancount",
  "nscount",
  "arcount",
  "qtype",
  "qclass",
  "qnameLength",
  "ednsUdpSize",
  "ednsFlags",
  "status",
  "opcode",
  "rcode",
  "qnameLabels",
  "ednsRcode",
  "ednsVersion",
] as const;

function hex16(col: Uint8Array, i: number): string {
  return Array.from(
    col.subarray(i * 16, i * 16 + 16),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Row `i` of the columns. */
export function rowOf(c: DnstapColumns, i: number): Row {
  const row: Row = {};
  for (const k of SCALARS) row[k] = c[k][i]!;
  row.queryAddress = hex16(c.queryAddress, i);
  row.responseAddress = hex16(c.responseAddress, i);
  return row;
}

/** Bytes as lowercase hex. */
export function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Row `i` with its window offsets replaced by what they point at (the
 * identity's and DNS messages' bytes; the name's offset in its message and
 * its bytes): equal whatever window the frame lay in.
 */
export function canonicalRow(
  c: DnstapColumns,
  i: number,
  window: Uint8Array,
): string {
  const row = rowOf(c, i);
  const span = (
    offset: "identityOffset" | "queryMessageOffset" | "responseMessageOffset",
    length: number,
  ): void => {
    const at = c[offset][i]!;
    row[offset] = hexBytes(window.subarray(at, at + length));
  };
  span("identityOffset", c.identityLength[i]!);
  span("queryMessageOffset", c.queryMessageLength[i]!);
  span("responseMessageOffset", c.responseMessageLength[i]!);
  const p = c.present[i]!;
  if ((p & HAS_QUESTION) !== 0) {
    const start = (p & HAS_DNS_RESPONSE) !== 0
      ? c.responseMessageOffset[i]!
      : c.queryMessageOffset[i]!;
    const at = c.qnameOffset[i]!;
    row.qnameOffset = `${at - start}:${
      hexBytes(window.subarray(at, at + c.qnameLength[i]!))
    }`;
  }
  return JSON.stringify(row);
}

/** An all-zero row. */
export function zeroRow(): Row {
  const row: Row = {};
  for (const k of SCALARS) row[k] = 0;
  row.queryAddress = row.responseAddress = "0".repeat(32);
  return row;
}

/** Whether rows 0 .. n - 1 of two column sets are equal byte for byte. */
export function rowsEqual(
  a: DnstapColumns,
  b: DnstapColumns,
  n: number,
): boolean {
  for (const k of SCALARS) {
    const x = a[k];
    const y = b[k];
    for (let i = 0; i < n; i++) {
      // Object.is: NaN cannot occur, but -0 and 0 would differ in bytes.
      if (!Object.is(x[i], y[i])) return false;
    }
  }
  for (const k of ["queryAddress", "responseAddress"] as const) {
    const x = a[k];
    const y = b[k];
    for (let i = 0; i < n * 16; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

const EDNS_KEYS = [
  "ednsUdpSize",
  "ednsFlags",
  "ednsRcode",
  "ednsVersion",
] as const;

function enumNumber(table: EnumTable, v: string | number): number {
  if (typeof v === "number") return v;
  const n = table.indexOf(v);
  if (n < 1) throw new Error(`unknown enum name ${v}`);
  return n;
}

function address16(v: Uint8Array): string {
  const a = new Uint8Array(16);
  a.set(v.subarray(0, 16));
  return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Labels of a presentation name (escapes `\.` and `\DDD` respected). */
function labelCount(name: string): number {
  if (name === ".") return 0;
  let n = 0;
  for (let k = 0; k < name.length; k++) {
    const ch = name[k];
    if (ch === "\\") k += /[0-9]/.test(name[k + 1] ?? "") ? 3 : 1;
    else if (ch === ".") n++;
  }
  return n;
}

/**
 * Row `i` as the references give it: decodeDnstap for the protobuf,
 * parseDnsMessage for the header, the question and EDNS (never the
 * scanners' code). Where parseDnsMessage has an error after the question,
 * the EDNS columns are not defined by it (the scan does not check rdata):
 * they are taken from `got`.
 */
export function expectedRow(
  buf: Uint8Array,
  table: Uint32Array,
  i: number,
  got: Row,
): Row {
  const row = zeroRow();
  if (table[i * 3 + 2] !== 0) {
    row.status = SCAN_CONTROL;
    return row;
  }
  const start = table[i * 3]! + 4;
  const payload = buf.subarray(start, start + table[i * 3 + 1]!);
  let d: Dnstap;
  try {
    d = decodeDnstap(payload);
  } catch (e) {
    if (!(e instanceof DnstapError)) throw e;
    row.status = SCAN_BAD_PROTOBUF;
    return row;
  }
  const at = (v: Uint8Array): number => v.byteOffset - buf.byteOffset;
  let pr = HAS_TYPE;
  row.dnstapType = enumNumber(DNSTAP_TYPES, d.type);
  if (d.identity !== undefined) {
    pr |= HAS_IDENTITY;
    row.identityOffset = at(d.identity);
    row.identityLength = d.identity.length;
  }
  if (d.version !== undefined) pr |= HAS_VERSION;
  if (d.extra !== undefined) pr |= HAS_EXTRA;
  const m = d.message;
  if (m !== undefined) {
    pr |= HAS_MESSAGE | HAS_MESSAGE_TYPE;
    row.messageType = enumNumber(MESSAGE_TYPES, m.type);
    if (m.socketFamily !== undefined) {
      pr |= HAS_SOCKET_FAMILY;
      row.socketFamily = enumNumber(SOCKET_FAMILIES, m.socketFamily);
    }
    if (m.socketProtocol !== undefined) {
      pr |= HAS_SOCKET_PROTOCOL;
      row.socketProtocol = enumNumber(SOCKET_PROTOCOLS, m.socketProtocol);
    }
    if (m.queryAddress !== undefined) {
      pr |= HAS_QUERY_ADDRESS;
      row.queryAddressLength = m.queryAddress.length;
      row.queryAddress = address16(m.queryAddress);
    }
    if (m.responseAddress !== undefined) {
      pr |= HAS_RESPONSE_ADDRESS;
      row.responseAddressLength = m.responseAddress.length;
      row.responseAddress = address16(m.responseAddress);
    }
    if (m.queryPort !== undefined) {
      pr |= HAS_QUERY_PORT;
      row.queryPort = m.queryPort;
    }
    if (m.responsePort !== undefined) {
      pr |= HAS_RESPONSE_PORT;
      row.responsePort = m.responsePort;
    }
    if (m.queryTimeSec !== undefined) {
      pr |= HAS_QUERY_TIME_SEC;
      row.queryTimeSec = Number(m.queryTimeSec);
    }
    if (m.queryTimeNsec !== undefined) {
      pr |= HAS_QUERY_TIME_NSEC;
      row.queryTimeNsec = m.queryTimeNsec;
    }
    if (m.responseTimeSec !== undefined) {
      pr |= HAS_RESPONSE_TIME_SEC;
      row.responseTimeSec = Number(m.responseTimeSec);
    }
    if (m.responseTimeNsec !== undefined) {
      pr |= HAS_RESPONSE_TIME_NSEC;
      row.responseTimeNsec = m.responseTimeNsec;
    }
    if (m.queryMessage !== undefined) {
      pr |= HAS_QUERY_MESSAGE;
      row.queryMessageOffset = at(m.queryMessage);
      row.queryMessageLength = m.queryMessage.length;
    }
    if (m.responseMessage !== undefined) {
      pr |= HAS_RESPONSE_MESSAGE;
      row.responseMessageOffset = at(m.responseMessage);
      row.responseMessageLength = m.responseMessage.length;
    }
    if (m.queryZone !== undefined) pr |= HAS_QUERY_ZONE;
    if (m.policy !== undefined) pr |= HAS_POLICY;
    if (m.httpProtocol !== undefined) pr |= HAS_HTTP_PROTOCOL;
    const t = row.messageType as number;
    const isResponse = t > 0 && t % 2 === 0;
    const bytes = isResponse ? m.responseMessage : m.queryMessage;
    if (bytes !== undefined) {
      pr |= HAS_DNS | (isResponse ? HAS_DNS_RESPONSE : 0);
      row.dnsSize = bytes.length;
      if (bytes.length < 12) row.status = SCAN_BAD_DNS_HEADER;
      else {
        const dns = parseDnsMessage(bytes);
        row.id = dns.id;
        row.flags = (+dns.qr << 15) | (dns.opcode << 11) | (+dns.aa << 10) |
          (+dns.tc << 9) | (+dns.rd << 8) | (+dns.ra << 7) | (+dns.z << 6) |
          (+dns.ad << 5) | (+dns.cd << 4) | dns.headerRcode;
        row.opcode = dns.opcode;
        row.rcode = dns.headerRcode;
        row.qdcount = dns.questionCount;
        row.ancount = dns.answerCount;
        row.nscount = dns.authorityCount;
        row.arcount = dns.additionalCount;
        const q = dns.question;
        if (q !== null) {
          pr |= HAS_QUESTION;
          const cur = new WireCursor();
          cur.off = 12;
          cur.end = bytes.length;
          skipName(bytes, cur);
          const again = new WireCursor();
          again.off = 12;
          again.end = bytes.length;
          assert.equal(readName(bytes, again), q.name);
          let p = 12;
          while (bytes[p]! > 0 && bytes[p]! < 0x40) p += bytes[p]! + 1;
          if (bytes[p]! >= 0xc0) pr |= HAS_QNAME_POINTER;
          row.qnameOffset = at(bytes) + 12;
          row.qnameLength = cur.off - 12;
          row.qnameLabels = labelCount(q.name);
          if (cur.off + 2 <= bytes.length) pr |= HAS_QTYPE;
          if (cur.off + 4 <= bytes.length) pr |= HAS_QCLASS;
          row.qtype = q.type;
          row.qclass = q.class;
        } else if (dns.questionCount > 0 && bytes.length > 12) {
          row.status = SCAN_BAD_QUESTION;
        }
        if (row.status !== SCAN_BAD_QUESTION) {
          const e = dns.edns;
          if (dns.error !== null) {
            for (const k of EDNS_KEYS) row[k] = got[k]!;
            pr |= (got.present as number) & HAS_OPT;
          } else if (e !== null) {
            pr |= HAS_OPT;
            row.ednsUdpSize = e.udpSize;
            row.ednsFlags = e.flags;
            row.ednsRcode = e.extendedRcode;
            row.ednsVersion = e.version;
            assert.equal((e.extendedRcode << 4) | dns.headerRcode, dns.rcode);
          }
        }
      }
    }
  }
  row.present = pr;
  return row;
}

/** The key lists of a batch as plain data: per list, [key hex, count, hash]. */
export function keyListsOf(keys: DnstapKeys): [string, number, number][][] {
  return keys.lists.map((list, k) => {
    const out: [string, number, number][] = [];
    for (let e = 0; e < keys.counts[k]! * 4; e += 4) {
      const at = list.entries[e]!;
      const bytes = list.arena.subarray(at, at + list.entries[e + 1]!);
      out.push([
        [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""),
        list.entries[e + 2]!,
        list.entries[e + 3]!,
      ]);
    }
    return out;
  });
}

/**
 * Runs both one-pass engines over `bytes` (copied into each window, which
 * must hold them) scan after scan, as the reader does, and asserts equal
 * out words, frame tables, rows, columns and key lists after each; returns
 * the scans' data rows in all.
 */
export function windowEnginesAgree(
  ts: DnstapWindowEngine,
  wasm: DnstapWindowEngine,
  bytes: Uint8Array,
  keys: KeyOptions | null,
  max = 0xffff_ffff,
): number {
  ts.keyOptions = keys;
  wasm.keyOptions = keys;
  ts.keys.clear();
  wasm.keys.clear();
  ts.window.set(bytes);
  wasm.window.set(bytes);
  let pos = 0;
  let rows = 0;
  for (;;) {
    const n = ts.scan(pos, bytes.length, max);
    assert.equal(wasm.scan(pos, bytes.length, max), n, "entries");
    assert.deepEqual(wasm.out, ts.out, "out words");
    assert.deepEqual(
      wasm.table.subarray(0, 3 * n),
      ts.table.subarray(0, 3 * n),
      "frame table",
    );
    assert.equal(wasm.rows, ts.rows, "rows");
    if (!rowsEqual(ts.columns, wasm.columns, ts.rows)) {
      for (let i = 0; i < ts.rows; i++) {
        assert.deepEqual(rowOf(wasm.columns, i), rowOf(ts.columns, i), `${i}`);
      }
    }
    if (keys !== null) {
      // The lists of every scan so far, emptied once full (as top does).
      assert.deepEqual(keyListsOf(wasm.keys), keyListsOf(ts.keys), "keys");
      assert.equal(wasm.keys.full, ts.keys.full);
      if (ts.keys.full) {
        ts.keys.clear();
        wasm.keys.clear();
      }
    }
    rows += ts.rows;
    if (ts.out[0] !== STATUS_TABLE_FULL) return rows;
    pos = ts.out[1]!;
  }
}
