/**
 * The dnstap schema (`dnstap.proto`) as TypeScript types. Optional fields
 * that are absent on the wire are absent here (no property), so absent and
 * zero stay apart. Enum values are names; a number the schema does not name
 * (a newer sender's value) is kept as the number itself.
 *
 * @module
 */

/**
 * `Dnstap.Type`: `"MESSAGE"` is the only value the schema names.
 *
 * @example
 * ```ts
 * import type { DnstapType } from "@fstrm/fstrm/dnstap";
 * const t: DnstapType = "MESSAGE";
 * ```
 */
export type DnstapType = "MESSAGE" | number;

/**
 * `Message.Type`: who sent or received the DNS message.
 *
 * @example
 * ```ts
 * import type { DnstapMessageType } from "@fstrm/fstrm/dnstap";
 * const t: DnstapMessageType = "CLIENT_QUERY";
 * ```
 */
export type DnstapMessageType =
  | "AUTH_QUERY"
  | "AUTH_RESPONSE"
  | "RESOLVER_QUERY"
  | "RESOLVER_RESPONSE"
  | "CLIENT_QUERY"
  | "CLIENT_RESPONSE"
  | "FORWARDER_QUERY"
  | "FORWARDER_RESPONSE"
  | "STUB_QUERY"
  | "STUB_RESPONSE"
  | "TOOL_QUERY"
  | "TOOL_RESPONSE"
  | "UPDATE_QUERY"
  | "UPDATE_RESPONSE"
  | number;

/**
 * `SocketFamily`.
 *
 * @example
 * ```ts
 * import type { DnstapSocketFamily } from "@fstrm/fstrm/dnstap";
 * const f: DnstapSocketFamily = "INET6";
 * ```
 */
export type DnstapSocketFamily = "INET" | "INET6" | number;

/**
 * `SocketProtocol` (DoT, DoH, DNSCrypt and DoQ included).
 *
 * @example
 * ```ts
 * import type { DnstapSocketProtocol } from "@fstrm/fstrm/dnstap";
 * const p: DnstapSocketProtocol = "DOT";
 * ```
 */
export type DnstapSocketProtocol =
  | "UDP"
  | "TCP"
  | "DOT"
  | "DOH"
  | "DNSCryptUDP"
  | "DNSCryptTCP"
  | "DOQ"
  | number;

/**
 * `HttpProtocol`, for DoH.
 *
 * @example
 * ```ts
 * import type { DnstapHttpProtocol } from "@fstrm/fstrm/dnstap";
 * const h: DnstapHttpProtocol = "HTTP2";
 * ```
 */
export type DnstapHttpProtocol = "HTTP1" | "HTTP2" | "HTTP3" | number;

/**
 * `Policy.Action`.
 *
 * @example
 * ```ts
 * import type { DnstapPolicyAction } from "@fstrm/fstrm/dnstap";
 * const a: DnstapPolicyAction = "NXDOMAIN";
 * ```
 */
export type DnstapPolicyAction =
  | "NXDOMAIN"
  | "NODATA"
  | "PASS"
  | "DROP"
  | "TRUNCATE"
  | "LOCAL_DATA"
  | number;

/**
 * `Policy.Match`.
 *
 * @example
 * ```ts
 * import type { DnstapPolicyMatch } from "@fstrm/fstrm/dnstap";
 * const m: DnstapPolicyMatch = "QNAME";
 * ```
 */
export type DnstapPolicyMatch =
  | "QNAME"
  | "CLIENT_IP"
  | "RESPONSE_IP"
  | "NS_NAME"
  | "NS_IP"
  | number;

/**
 * `Policy`: the policy (RPZ, say) that acted on a message. Byte fields of a
 * decoded policy are views of the decoded input.
 *
 * @example
 * ```ts
 * import type { DnstapPolicy } from "@fstrm/fstrm/dnstap";
 * const p: DnstapPolicy = { type: "RPZ", action: "NXDOMAIN", match: "QNAME" };
 * ```
 */
export interface DnstapPolicy {
  /** Field 1: the policy's kind, as text ("RPZ"). */
  type?: string;
  /** Field 2: the rule, a wire-format domain name. */
  rule?: Uint8Array;
  /** Field 3: what the policy did. */
  action?: DnstapPolicyAction;
  /** Field 4: what matched. */
  match?: DnstapPolicyMatch;
  /** Field 5: the value that matched. */
  value?: Uint8Array;
}

/**
 * `Message`: one DNS message and where and when it was seen.
 *
 * Times are exact: `*TimeSec` is a number, or a bigint when it is over
 * `Number.MAX_SAFE_INTEGER` (decoding gives a bigint only then; encoding
 * takes either), and `*TimeNsec` the nanoseconds, separate as on the wire
 * ({@linkcode formatDnstapTime} joins them). Addresses are bytes (4 or 16);
 * {@linkcode formatDnstapAddress} gives their text. Byte fields of a decoded
 * message are views of the decoded input (`subarray`), not copies.
 *
 * @example
 * ```ts
 * import type { DnstapMessage } from "@fstrm/fstrm/dnstap";
 * const m: DnstapMessage = {
 *   type: "CLIENT_QUERY",
 *   socketFamily: "INET",
 *   socketProtocol: "UDP",
 *   queryAddress: new Uint8Array([127, 0, 0, 1]),
 *   queryPort: 53000,
 *   queryTimeSec: 1_764_094_866,
 *   queryTimeNsec: 240_151_000,
 * };
 * ```
 */
export interface DnstapMessage {
  /** Field 1 (required): the message's type. */
  type: DnstapMessageType;
  /** Field 2: the socket's address family. */
  socketFamily?: DnstapSocketFamily;
  /** Field 3: the transport. */
  socketProtocol?: DnstapSocketProtocol;
  /** Field 4: the initiator's address (4 or 16 bytes). */
  queryAddress?: Uint8Array;
  /** Field 5: the responder's address (4 or 16 bytes). */
  responseAddress?: Uint8Array;
  /** Field 6: the initiator's port. */
  queryPort?: number;
  /** Field 7: the responder's port. */
  responsePort?: number;
  /** Field 8: seconds of the query's time since the Unix epoch. */
  queryTimeSec?: number | bigint;
  /** Field 9: nanoseconds of the query's time. */
  queryTimeNsec?: number;
  /** Field 10: the query, DNS wire format. */
  queryMessage?: Uint8Array;
  /** Field 11: the zone the query was sent for, a wire-format name. */
  queryZone?: Uint8Array;
  /** Field 12: seconds of the response's time since the Unix epoch. */
  responseTimeSec?: number | bigint;
  /** Field 13: nanoseconds of the response's time. */
  responseTimeNsec?: number;
  /** Field 14: the response, DNS wire format. */
  responseMessage?: Uint8Array;
  /** Field 15: the policy that acted on the message. */
  policy?: DnstapPolicy;
  /** Field 16: the HTTP version, for DoH. */
  httpProtocol?: DnstapHttpProtocol;
}

/**
 * `Dnstap`: the top-level message, one per Frame Streams data frame. Byte
 * fields of a decoded value are views of the decoded input, not copies.
 *
 * @example
 * ```ts
 * import type { Dnstap } from "@fstrm/fstrm/dnstap";
 * const d: Dnstap = {
 *   type: "MESSAGE",
 *   identity: new TextEncoder().encode("resolver-1"),
 *   message: { type: "RESOLVER_QUERY" },
 * };
 * ```
 */
export interface Dnstap {
  /** Field 1: the sender's identity (its configured name). */
  identity?: Uint8Array;
  /** Field 2: the sender's version text. */
  version?: Uint8Array;
  /** Field 3: extra data, free-form. */
  extra?: Uint8Array;
  /** Field 15 (required): what kind of payload this is. */
  type: DnstapType;
  /** Field 14: the message, when `type` is `"MESSAGE"`. */
  message?: DnstapMessage;
}
