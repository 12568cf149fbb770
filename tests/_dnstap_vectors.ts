// Hand-written dnstap vectors, byte by byte from dnstap.proto's field
// numbers (see /docs/dnstap.md), shared by the dnstap tests.
import { concat, hex } from "./_util.ts";
import type {
  Dnstap,
  DnstapMessage,
  DnstapMessageType,
} from "../src/dnstap.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One field of a vector: its bytes and the property it sets. */
export interface FieldPart {
  /** The field's bytes: tag, length (if any), value. */
  readonly bytes: Uint8Array;
  /** What the field holds, for messages. */
  readonly note: string;
}

/** The Policy of {@linkcode FULL}, field by field (16 bytes). */
export const POLICY_PARTS: readonly FieldPart[] = [
  { bytes: hex(`0a 03 "RPZ"`), note: "type = RPZ (string)" },
  { bytes: hex("12 02 01 00"), note: "rule = 01 00" },
  { bytes: hex("18 01"), note: "action = NXDOMAIN" },
  { bytes: hex("20 02"), note: "match = CLIENT_IP" },
  { bytes: hex("2a 01 09"), note: "value = 09" },
];

/** The Message of {@linkcode FULL}, every one of its 16 fields (84 bytes). */
export const MESSAGE_PARTS: readonly FieldPart[] = [
  { bytes: hex("08 05"), note: "type = CLIENT_QUERY" },
  { bytes: hex("10 01"), note: "socket_family = INET" },
  { bytes: hex("18 03"), note: "socket_protocol = DOT" },
  { bytes: hex("22 04 7f 00 00 01"), note: "query_address = 127.0.0.1" },
  { bytes: hex("2a 04 c0 00 02 01"), note: "response_address = 192.0.2.1" },
  { bytes: hex("30 88 9e 03"), note: "query_port = 53000 (3-byte varint)" },
  { bytes: hex("38 35"), note: "response_port = 53" },
  { bytes: hex("40 92 e7 97 c9 06"), note: "query_time_sec = 1764094866" },
  { bytes: hex("4d d8 69 50 0e"), note: "query_time_nsec = 240151000" },
  { bytes: hex("52 03 01 02 03"), note: "query_message = 01 02 03" },
  { bytes: hex(`5a 06 04 "test" 00`), note: "query_zone = test." },
  { bytes: hex("60 93 e7 97 c9 06"), note: "response_time_sec = 1764094867" },
  { bytes: hex("6d ff c9 9a 3b"), note: "response_time_nsec = 999999999" },
  { bytes: hex("72 02 04 05"), note: "response_message = 04 05" },
  {
    bytes: concat(hex("7a 10"), ...POLICY_PARTS.map((p) => p.bytes)),
    note: "policy",
  },
  { bytes: hex("80 01 02"), note: "http_protocol = HTTP2 (2-byte tag)" },
];

/** The Message bytes of {@linkcode FULL}. */
export const MESSAGE_BYTES: Uint8Array = concat(
  ...MESSAGE_PARTS.map((p) => p.bytes),
);

/** {@linkcode FULL}, field by field at the top level. */
export const FULL_PARTS: readonly FieldPart[] = [
  { bytes: hex(`0a 0a "resolver-1"`), note: "identity" },
  { bytes: hex(`12 0e "unbound 1.17.1"`), note: "version" },
  { bytes: hex("1a 02 00 ff"), note: "extra" },
  { bytes: concat(hex("72 54"), MESSAGE_BYTES), note: "message (84 bytes)" },
  { bytes: hex("78 01"), note: "type = MESSAGE" },
];

/** A canonical Dnstap with every field of the schema set. */
export const FULL: Uint8Array = concat(...FULL_PARTS.map((p) => p.bytes));

/** What {@linkcode MESSAGE_BYTES} decodes to. */
export const FULL_MESSAGE: DnstapMessage = {
  type: "CLIENT_QUERY",
  socketFamily: "INET",
  socketProtocol: "DOT",
  queryAddress: new Uint8Array([127, 0, 0, 1]),
  responseAddress: new Uint8Array([192, 0, 2, 1]),
  queryPort: 53000,
  responsePort: 53,
  queryTimeSec: 1764094866,
  queryTimeNsec: 240151000,
  queryMessage: new Uint8Array([1, 2, 3]),
  queryZone: hex(`04 "test" 00`),
  responseTimeSec: 1764094867,
  responseTimeNsec: 999999999,
  responseMessage: new Uint8Array([4, 5]),
  policy: {
    type: "RPZ",
    rule: new Uint8Array([1, 0]),
    action: "NXDOMAIN",
    match: "CLIENT_IP",
    value: new Uint8Array([9]),
  },
  httpProtocol: "HTTP2",
};

/** What {@linkcode FULL} decodes to. */
export const FULL_VALUE: Dnstap = {
  identity: text("resolver-1"),
  version: text("unbound 1.17.1"),
  extra: new Uint8Array([0, 255]),
  type: "MESSAGE",
  message: FULL_MESSAGE,
};

/** Offsets where each part starts, and the total length. */
export function starts(parts: readonly FieldPart[]): number[] {
  const out = [0];
  for (const p of parts) out.push(out[out.length - 1]! + p.bytes.length);
  return out;
}

/**
 * The schema's Message.Type names in number order (1 to 14), written here
 * from the schema, apart from src/ (the tests check src against it).
 */
export const MESSAGE_TYPES = [
  "AUTH_QUERY",
  "AUTH_RESPONSE",
  "RESOLVER_QUERY",
  "RESOLVER_RESPONSE",
  "CLIENT_QUERY",
  "CLIENT_RESPONSE",
  "FORWARDER_QUERY",
  "FORWARDER_RESPONSE",
  "STUB_QUERY",
  "STUB_RESPONSE",
  "TOOL_QUERY",
  "TOOL_RESPONSE",
  "UPDATE_QUERY",
  "UPDATE_RESPONSE",
] as const satisfies readonly DnstapMessageType[];
