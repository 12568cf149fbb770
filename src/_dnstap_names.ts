/**
 * The names of the dnstap schema's enum values, both ways.
 *
 * @module
 */

/** Names by number (index), for one enum; index 0 is unused. */
export type EnumTable = readonly (string | undefined)[];

/** Dnstap.Type. */
export const DNSTAP_TYPES: EnumTable = [undefined, "MESSAGE"];

/** Message.Type. */
export const MESSAGE_TYPES: EnumTable = [
  undefined,
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

/** SocketFamily. */
export const SOCKET_FAMILIES: EnumTable = [undefined, "INET", "INET6"];

/** SocketProtocol. */
export const SOCKET_PROTOCOLS: EnumTable = [
  undefined,
  "UDP",
  "TCP",
  "DOT",
  "DOH",
  "DNSCryptUDP",
  "DNSCryptTCP",
  "DOQ",
];

/** HttpProtocol. */
export const HTTP_PROTOCOLS: EnumTable = [undefined, "HTTP1", "HTTP2", "HTTP3"];

/** Policy.Action. */
export const POLICY_ACTIONS: EnumTable = [
  undefined,
  "NXDOMAIN",
  "NODATA",
  "PASS",
  "DROP",
  "TRUNCATE",
  "LOCAL_DATA",
];

/** Policy.Match. */
export const POLICY_MATCHES: EnumTable = [
  undefined,
  "QNAME",
  "CLIENT_IP",
  "RESPONSE_IP",
  "NS_NAME",
  "NS_IP",
];

/** A number's name in `table`, or the number itself when it has none. */
export function enumName(table: EnumTable, n: number): string | number {
  return (n > 0 ? table[n] : undefined) ?? n;
}

/**
 * A value's number: a known name's number, or an int32 as it is.
 * Throws a `TypeError` for an unknown name or a non-number, a `RangeError`
 * for a number that is not an int32.
 */
export function enumNumber(
  table: EnumTable,
  what: string,
  v: unknown,
): number {
  if (typeof v === "string") {
    const n = table.indexOf(v);
    if (n <= 0) {
      throw new TypeError(
        `Cannot encode dnstap: ${what} "${v}" is not one of ${
          table.filter((x) => x !== undefined).join(", ")
        }`,
      );
    }
    return n;
  }
  if (typeof v !== "number") {
    throw new TypeError(
      `Cannot encode dnstap: ${what} must be a name or a number, not ${typeof v}`,
    );
  }
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new RangeError(
      `Cannot encode dnstap: ${what} ${v} is not a 32-bit integer`,
    );
  }
  return v;
}
