/**
 * The dnstap decoder: protobuf bytes to {@linkcode Dnstap} objects.
 *
 * @module
 */
import type { Dnstap, DnstapMessage, DnstapPolicy } from "./_dnstap_types.ts";
import {
  DNSTAP_TYPES,
  enumName,
  type EnumTable,
  HTTP_PROTOCOLS,
  MESSAGE_TYPES,
  POLICY_ACTIONS,
  POLICY_MATCHES,
  SOCKET_FAMILIES,
  SOCKET_PROTOCOLS,
} from "./_dnstap_names.ts";
import { DnstapError } from "./_dnstap_error.ts";
import {
  FIXED32,
  LEN,
  ProtoReader,
  toInt32,
  toUint32,
  VARINT,
  wireName,
} from "./_protobuf.ts";

const TEXT = new TextDecoder();

/** Fails unless the field has the wire type the schema gives it. */
function expect(
  r: ProtoReader,
  name: string,
  wire: number,
  want: number,
): void {
  if (wire !== want) {
    r.fail(`field ${name} has ${wireName(wire)}, expected ${wireName(want)}`);
  }
}

/** Reads a length-delimited field as a view. */
function bytesField(r: ProtoReader, name: string, wire: number): Uint8Array {
  expect(r, name, wire, LEN);
  const start = r.length(`field ${name}`);
  return r.bytes.subarray(start, r.pos);
}

/** Reads an enum field as a name or a number. */
function enumField<T extends string | number>(
  r: ProtoReader,
  table: EnumTable,
  name: string,
  wire: number,
): T {
  expect(r, name, wire, VARINT);
  return enumName(table, toInt32(r.varint(`field ${name}`))) as T;
}

/** Reads a uint32 field. */
function uint32Field(r: ProtoReader, name: string, wire: number): number {
  expect(r, name, wire, VARINT);
  return toUint32(r.varint(`field ${name}`));
}

/** Reads a uint64 field. */
function uint64Field(
  r: ProtoReader,
  name: string,
  wire: number,
): number | bigint {
  expect(r, name, wire, VARINT);
  return r.varint(`field ${name}`);
}

/** Reads a fixed32 field. */
function fixed32Field(r: ProtoReader, name: string, wire: number): number {
  expect(r, name, wire, FIXED32);
  return r.fixed32(`field ${name}`);
}

/** Reads a Policy into `p` (merging, as protobuf does for a repeat). */
function decodePolicy(
  bytes: Uint8Array,
  start: number,
  end: number,
  p: DnstapPolicy,
): void {
  const r = new ProtoReader(bytes, start, end);
  for (let t = r.tag(); t >= 0; t = r.tag()) {
    const wire = t & 7;
    switch (t >>> 3) {
      case 1: {
        const v = bytesField(r, "Policy.type", wire);
        p.type = TEXT.decode(v);
        break;
      }
      case 2:
        p.rule = bytesField(r, "Policy.rule", wire);
        break;
      case 3:
        p.action = enumField(r, POLICY_ACTIONS, "Policy.action", wire);
        break;
      case 4:
        p.match = enumField(r, POLICY_MATCHES, "Policy.match", wire);
        break;
      case 5:
        p.value = bytesField(r, "Policy.value", wire);
        break;
      default:
        r.skip(t >>> 3, wire);
    }
  }
}

/** Reads a Message into `m` (merging, as protobuf does for a repeat). */
function decodeMessage(
  bytes: Uint8Array,
  start: number,
  end: number,
  m: Partial<DnstapMessage>,
): void {
  const r = new ProtoReader(bytes, start, end);
  for (let t = r.tag(); t >= 0; t = r.tag()) {
    const wire = t & 7;
    switch (t >>> 3) {
      case 1:
        m.type = enumField(r, MESSAGE_TYPES, "Message.type", wire);
        break;
      case 2:
        m.socketFamily = enumField(
          r,
          SOCKET_FAMILIES,
          "Message.socket_family",
          wire,
        );
        break;
      case 3:
        m.socketProtocol = enumField(
          r,
          SOCKET_PROTOCOLS,
          "Message.socket_protocol",
          wire,
        );
        break;
      case 4:
        m.queryAddress = bytesField(r, "Message.query_address", wire);
        break;
      case 5:
        m.responseAddress = bytesField(r, "Message.response_address", wire);
        break;
      case 6:
        m.queryPort = uint32Field(r, "Message.query_port", wire);
        break;
      case 7:
        m.responsePort = uint32Field(r, "Message.response_port", wire);
        break;
      case 8:
        m.queryTimeSec = uint64Field(r, "Message.query_time_sec", wire);
        break;
      case 9:
        m.queryTimeNsec = fixed32Field(r, "Message.query_time_nsec", wire);
        break;
      case 10:
        m.queryMessage = bytesField(r, "Message.query_message", wire);
        break;
      case 11:
        m.queryZone = bytesField(r, "Message.query_zone", wire);
        break;
      case 12:
        m.responseTimeSec = uint64Field(r, "Message.response_time_sec", wire);
        break;
      case 13:
        m.responseTimeNsec = fixed32Field(
          r,
          "Message.response_time_nsec",
          wire,
        );
        break;
      case 14:
        m.responseMessage = bytesField(r, "Message.response_message", wire);
        break;
      case 15: {
        expect(r, "Message.policy", wire, LEN);
        const s = r.length("field Message.policy");
        decodePolicy(bytes, s, r.pos, m.policy ??= {});
        break;
      }
      case 16:
        m.httpProtocol = enumField(
          r,
          HTTP_PROTOCOLS,
          "Message.http_protocol",
          wire,
        );
        break;
      default:
        r.skip(t >>> 3, wire);
    }
  }
}

/**
 * Decodes one dnstap message (the payload of one Frame Streams data frame
 * whose content type is `protobuf:dnstap.Dnstap`).
 *
 * Unknown fields are skipped as protobuf says; a field that appears twice
 * keeps its last value (embedded messages merge). Enum numbers the schema
 * does not name are kept as numbers. Byte fields of the result are views of
 * `bytes` (`subarray`), not copies: copy them to keep them once `bytes` is
 * reused.
 *
 * @example
 * ```ts
 * import { decodeDnstap } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * // message { type: CLIENT_QUERY, query_port: 53 }, type: MESSAGE
 * const d = decodeDnstap(new Uint8Array([
 *   0x72, 0x04, 0x08, 0x05, 0x30, 0x35, 0x78, 0x01,
 * ]));
 * assert.deepEqual(d, {
 *   type: "MESSAGE",
 *   message: { type: "CLIENT_QUERY", queryPort: 53 },
 * });
 * ```
 *
 * @param bytes The protobuf bytes of one `Dnstap` message.
 * @returns The decoded message.
 * @throws {DnstapError} The bytes are cut short, hold a bad varint, a wrong
 * wire type for a known field or a group, or lack a required field.
 * @throws {TypeError} `bytes` is not a `Uint8Array`.
 */
export function decodeDnstap(bytes: Uint8Array): Dnstap {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Cannot decode dnstap: bytes must be a Uint8Array");
  }
  const d: Partial<Dnstap> = {};
  let messageAt = 0;
  const r = new ProtoReader(bytes, 0, bytes.length);
  for (let t = r.tag(); t >= 0; t = r.tag()) {
    const wire = t & 7;
    switch (t >>> 3) {
      case 1:
        d.identity = bytesField(r, "Dnstap.identity", wire);
        break;
      case 2:
        d.version = bytesField(r, "Dnstap.version", wire);
        break;
      case 3:
        d.extra = bytesField(r, "Dnstap.extra", wire);
        break;
      case 14: {
        expect(r, "Dnstap.message", wire, LEN);
        const s = r.length("field Dnstap.message");
        if (d.message === undefined) messageAt = s;
        decodeMessage(bytes, s, r.pos, d.message ??= {} as DnstapMessage);
        break;
      }
      case 15:
        d.type = enumField(r, DNSTAP_TYPES, "Dnstap.type", wire);
        break;
      default:
        r.skip(t >>> 3, wire);
    }
  }
  if (d.type === undefined) {
    throw new DnstapError(0, "required field Dnstap.type is missing");
  }
  // Checked once the repeats of the message are merged, as protobuf does.
  if (d.message !== undefined && d.message.type === undefined) {
    throw new DnstapError(
      messageAt,
      "required field Message.type is missing",
    );
  }
  return d as Dnstap;
}
