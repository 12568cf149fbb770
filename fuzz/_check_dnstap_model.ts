// Private: a reference decoder of dnstap for the dnstap fuzz target, written
// apart from src/_dnstap_decode.ts and src/_protobuf.ts, from the protobuf
// encoding rules and dnstap.proto alone, as plainly as possible (varints as
// bigints, one generic field loop driven by a schema table, no shared code).
// It decides what decodeDnstap must give for any bytes: the value (merged
// repeats, enum names, uint32 and int32 truncation, uint64 as a number up
// to 2^53 - 1, else a bigint) or the error and its offset (the tag of the
// field being read; 0 for a missing Dnstap.type; the payload of the first
// Dnstap.message for a missing Message.type).

/** The model's verdict that the bytes are no dnstap, and where. */
export class ModelError extends Error {
  /** The offset decodeDnstap's DnstapError must carry. */
  readonly offset: number;

  /** Makes the error. */
  constructor(offset: number, message: string) {
    super(`${message} (at byte ${offset})`);
    this.name = "ModelError";
    this.offset = offset;
  }
}

/** How a field's value is read and kept. */
type Kind =
  | "bytes"
  | "string"
  | "uint32"
  | "uint64"
  | "fixed32"
  | "message"
  | "policy"
  | readonly string[]; // an enum: names by number, index 0 unused

/** One message's known fields: number to property name and kind. */
type Schema = Readonly<Record<number, readonly [string, Kind]>>;

// The enums of dnstap.proto, names by number.
const DNSTAP_TYPE = ["", "MESSAGE"];
const MESSAGE_TYPE = [
  "",
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
];
const FAMILY = ["", "INET", "INET6"];
const PROTOCOL = [
  "",
  "UDP",
  "TCP",
  "DOT",
  "DOH",
  "DNSCryptUDP",
  "DNSCryptTCP",
  "DOQ",
];
const HTTP = ["", "HTTP1", "HTTP2", "HTTP3"];
const ACTION = [
  "",
  "NXDOMAIN",
  "NODATA",
  "PASS",
  "DROP",
  "TRUNCATE",
  "LOCAL_DATA",
];
const MATCH = ["", "QNAME", "CLIENT_IP", "RESPONSE_IP", "NS_NAME", "NS_IP"];

const DNSTAP: Schema = {
  1: ["identity", "bytes"],
  2: ["version", "bytes"],
  3: ["extra", "bytes"],
  14: ["message", "message"],
  15: ["type", DNSTAP_TYPE],
};

const MESSAGE: Schema = {
  1: ["type", MESSAGE_TYPE],
  2: ["socketFamily", FAMILY],
  3: ["socketProtocol", PROTOCOL],
  4: ["queryAddress", "bytes"],
  5: ["responseAddress", "bytes"],
  6: ["queryPort", "uint32"],
  7: ["responsePort", "uint32"],
  8: ["queryTimeSec", "uint64"],
  9: ["queryTimeNsec", "fixed32"],
  10: ["queryMessage", "bytes"],
  11: ["queryZone", "bytes"],
  12: ["responseTimeSec", "uint64"],
  13: ["responseTimeNsec", "fixed32"],
  14: ["responseMessage", "bytes"],
  15: ["policy", "policy"],
  16: ["httpProtocol", HTTP],
};

const POLICY: Schema = {
  1: ["type", "string"],
  2: ["rule", "bytes"],
  3: ["action", ACTION],
  4: ["match", MATCH],
  5: ["value", "bytes"],
};

/** The wire type a field of `kind` must have. */
function wireOf(kind: Kind): number {
  if (typeof kind !== "string") return 0;
  switch (kind) {
    case "uint32":
    case "uint64":
      return 0;
    case "fixed32":
      return 5;
    default:
      return 2;
  }
}

type Obj = Record<string, unknown>;

/** Reads the fields of bytes[start, end) into `obj`, merging as protobuf. */
function parseInto(
  b: Uint8Array,
  start: number,
  end: number,
  schema: Schema,
  obj: Obj,
  onMessage: (payload: number) => void,
): void {
  let pos = start;
  let at = start;
  const varint = (): bigint => {
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new ModelError(at, "varint cut short");
      const x = b[pos++]!;
      if (i === 9 && x > 1) throw new ModelError(at, "varint over 64 bits");
      v |= BigInt(x & 0x7f) << BigInt(7 * i);
      if (x < 0x80) return v;
    }
    throw new ModelError(at, "varint over 64 bits");
  };
  while (pos < end) {
    at = pos;
    const tag = varint();
    if (tag > 0xffffffffn) throw new ModelError(at, "tag over 32 bits");
    const num = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (num === 0) throw new ModelError(at, "field number 0");
    const spec = schema[num];
    if (spec !== undefined && wire !== wireOf(spec[1])) {
      throw new ModelError(at, `field ${num}: wrong wire type ${wire}`);
    }
    let v = 0n;
    let from = 0;
    switch (wire) {
      case 0:
        v = varint();
        break;
      case 1:
        if (end - pos < 8) throw new ModelError(at, "fixed64 cut short");
        pos += 8;
        break;
      case 2: {
        const n = varint();
        if (n > BigInt(end - pos)) throw new ModelError(at, "length too big");
        from = pos;
        pos += Number(n);
        break;
      }
      case 5:
        if (end - pos < 4) throw new ModelError(at, "fixed32 cut short");
        v = BigInt(
          b[pos]! + b[pos + 1]! * 0x100 + b[pos + 2]! * 0x10000 +
            b[pos + 3]! * 0x1000000,
        );
        pos += 4;
        break;
      default:
        throw new ModelError(at, `wire type ${wire}`);
    }
    if (spec === undefined) continue;
    const [key, kind] = spec;
    if (typeof kind !== "string") {
      const n = Number(BigInt.asIntN(32, v));
      obj[key] = n > 0 && n < kind.length ? kind[n] : n;
      continue;
    }
    switch (kind) {
      case "bytes":
        obj[key] = b.subarray(from, pos);
        break;
      case "string":
        obj[key] = new TextDecoder().decode(b.subarray(from, pos));
        break;
      case "uint32":
      case "fixed32":
        obj[key] = Number(BigInt.asUintN(32, v));
        break;
      case "uint64":
        obj[key] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        break;
      case "message":
        onMessage(from);
        parseInto(b, from, pos, MESSAGE, (obj[key] ??= {}) as Obj, onMessage);
        break;
      case "policy":
        parseInto(b, from, pos, POLICY, (obj[key] ??= {}) as Obj, onMessage);
        break;
    }
  }
}

/**
 * What decodeDnstap must return for `bytes` (a plain object, byte fields as
 * views of `bytes`); throws a {@linkcode ModelError} where it must throw.
 */
export function modelDecode(bytes: Uint8Array): Obj {
  const top: Obj = {};
  let firstMessage = -1;
  parseInto(bytes, 0, bytes.length, DNSTAP, top, (payload) => {
    if (firstMessage < 0) firstMessage = payload;
  });
  if (top.type === undefined) {
    throw new ModelError(0, "Dnstap.type missing");
  }
  const message = top.message as Obj | undefined;
  if (message !== undefined && message.type === undefined) {
    throw new ModelError(firstMessage, "Message.type missing");
  }
  return top;
}
