/**
 * The dnstap encoder: {@linkcode Dnstap} objects to canonical protobuf.
 *
 * @module
 */
import type { Dnstap, DnstapMessage, DnstapPolicy } from "./_dnstap_types.ts";
import {
  DNSTAP_TYPES,
  enumNumber,
  type EnumTable,
  HTTP_PROTOCOLS,
  MESSAGE_TYPES,
  POLICY_ACTIONS,
  POLICY_MATCHES,
  SOCKET_FAMILIES,
  SOCKET_PROTOCOLS,
} from "./_dnstap_names.ts";
import { FIXED32, LEN, ProtoWriter, VARINT } from "./_protobuf.ts";

const UTF8 = new TextEncoder();
const MAX_UINT64 = (1n << 64n) - 1n;

// One writer reused across calls: allocating a buffer per call costs more
// than encoding a message. Taken while in use, so a reentrant call (from a
// getter, say) makes its own.
let spare: ProtoWriter | null = null;

/** Throws a TypeError unless `v` is an object. */
function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`Cannot encode dnstap: ${what} must be an object`);
  }
  return v as Record<string, unknown>;
}

function bytesField(
  w: ProtoWriter,
  n: number,
  what: string,
  v: unknown,
): void {
  if (v === undefined) return;
  if (!(v instanceof Uint8Array)) {
    throw new TypeError(`Cannot encode dnstap: ${what} must be a Uint8Array`);
  }
  w.tag(n, LEN);
  w.bytes(v);
}

function enumField(
  w: ProtoWriter,
  n: number,
  table: EnumTable,
  what: string,
  v: unknown,
): void {
  if (v === undefined) return;
  w.tag(n, VARINT);
  w.int32(enumNumber(table, what, v));
}

function uintField(
  w: ProtoWriter,
  n: number,
  what: string,
  v: unknown,
  bits: 32 | 64,
): void {
  if (v === undefined) return;
  if (typeof v === "bigint" && bits === 64) {
    if (v < 0n || v > MAX_UINT64) {
      throw new RangeError(
        `Cannot encode dnstap: ${what} ${v} is not a 64-bit unsigned integer`,
      );
    }
  } else if (typeof v === "number") {
    const max = bits === 32 ? 0xffffffff : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new RangeError(
        `Cannot encode dnstap: ${what} ${v} is not a ${bits}-bit unsigned integer${
          bits === 64 ? " (use a bigint above 2^53)" : ""
        }`,
      );
    }
  } else {
    throw new TypeError(
      `Cannot encode dnstap: ${what} must be a number${
        bits === 64 ? " or a bigint" : ""
      }`,
    );
  }
  w.tag(n, VARINT);
  w.varint(v);
}

function fixed32Field(
  w: ProtoWriter,
  n: number,
  what: string,
  v: unknown,
): void {
  if (v === undefined) return;
  if (typeof v !== "number") {
    throw new TypeError(`Cannot encode dnstap: ${what} must be a number`);
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(
      `Cannot encode dnstap: ${what} ${v} is not a 32-bit unsigned integer`,
    );
  }
  w.tag(n, FIXED32);
  w.fixed32(v);
}

function encodePolicy(w: ProtoWriter, value: unknown): void {
  const p = object(value, "Message.policy") as unknown as DnstapPolicy;
  if (p.type !== undefined) {
    if (typeof p.type !== "string") {
      throw new TypeError("Cannot encode dnstap: Policy.type must be a string");
    }
    if (!p.type.isWellFormed()) {
      throw new TypeError(
        "Cannot encode dnstap: Policy.type has a lone surrogate",
      );
    }
    w.tag(1, LEN);
    w.bytes(UTF8.encode(p.type));
  }
  bytesField(w, 2, "Policy.rule", p.rule);
  enumField(w, 3, POLICY_ACTIONS, "Policy.action", p.action);
  enumField(w, 4, POLICY_MATCHES, "Policy.match", p.match);
  bytesField(w, 5, "Policy.value", p.value);
}

function encodeMessage(w: ProtoWriter, value: unknown): void {
  const m = object(value, "Dnstap.message") as unknown as DnstapMessage;
  if (m.type === undefined) {
    throw new TypeError("Cannot encode dnstap: Message.type is required");
  }
  enumField(w, 1, MESSAGE_TYPES, "Message.type", m.type);
  enumField(w, 2, SOCKET_FAMILIES, "Message.socketFamily", m.socketFamily);
  enumField(
    w,
    3,
    SOCKET_PROTOCOLS,
    "Message.socketProtocol",
    m.socketProtocol,
  );
  bytesField(w, 4, "Message.queryAddress", m.queryAddress);
  bytesField(w, 5, "Message.responseAddress", m.responseAddress);
  uintField(w, 6, "Message.queryPort", m.queryPort, 32);
  uintField(w, 7, "Message.responsePort", m.responsePort, 32);
  uintField(w, 8, "Message.queryTimeSec", m.queryTimeSec, 64);
  fixed32Field(w, 9, "Message.queryTimeNsec", m.queryTimeNsec);
  bytesField(w, 10, "Message.queryMessage", m.queryMessage);
  bytesField(w, 11, "Message.queryZone", m.queryZone);
  uintField(w, 12, "Message.responseTimeSec", m.responseTimeSec, 64);
  fixed32Field(w, 13, "Message.responseTimeNsec", m.responseTimeNsec);
  bytesField(w, 14, "Message.responseMessage", m.responseMessage);
  if (m.policy !== undefined) {
    w.tag(15, LEN);
    const mark = w.begin();
    encodePolicy(w, m.policy);
    w.end(mark);
  }
  enumField(w, 16, HTTP_PROTOCOLS, "Message.httpProtocol", m.httpProtocol);
}

/**
 * Encodes one dnstap message as canonical protobuf: each present field once,
 * in field-number order, varints in their shortest form (negative enum
 * numbers in ten bytes, as protobuf writes an int32). Absent (`undefined`)
 * fields are not written. `decodeDnstap(encodeDnstap(x))` deep-equals `x`
 * for any valid `x` that uses names for the enum values the schema names and
 * numbers for times up to `Number.MAX_SAFE_INTEGER` (bigints above), and
 * `encodeDnstap(decodeDnstap(b))` equals `b` byte for byte when `b` was
 * canonical.
 *
 * @example
 * ```ts
 * import { decodeDnstap, encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeDnstap({
 *   type: "MESSAGE",
 *   message: { type: "CLIENT_QUERY", queryPort: 53 },
 * });
 * assert.deepEqual(
 *   bytes,
 *   new Uint8Array([0x72, 0x04, 0x08, 0x05, 0x30, 0x35, 0x78, 0x01]),
 * );
 * assert.deepEqual(decodeDnstap(bytes).message?.queryPort, 53);
 * ```
 *
 * @param dnstap The message to encode.
 * @returns New bytes (the caller owns them).
 * @throws {TypeError} A field has the wrong type, an enum name is unknown, or
 * a required field (`type`, `message.type`) is missing.
 * @throws {RangeError} A number is out of its field's range.
 */
export function encodeDnstap(dnstap: Dnstap): Uint8Array {
  const d = object(dnstap, "dnstap") as unknown as Dnstap;
  if (d.type === undefined) {
    throw new TypeError("Cannot encode dnstap: Dnstap.type is required");
  }
  const w = spare ?? new ProtoWriter();
  spare = null;
  try {
    return encodeTop(w, d);
  } finally {
    w.reset();
    spare = w;
  }
}

function encodeTop(w: ProtoWriter, d: Dnstap): Uint8Array {
  bytesField(w, 1, "Dnstap.identity", d.identity);
  bytesField(w, 2, "Dnstap.version", d.version);
  bytesField(w, 3, "Dnstap.extra", d.extra);
  if (d.message !== undefined) {
    w.tag(14, LEN);
    const mark = w.begin();
    encodeMessage(w, d.message);
    w.end(mark);
  }
  enumField(w, 15, DNSTAP_TYPES, "Dnstap.type", d.type);
  return w.finish();
}
