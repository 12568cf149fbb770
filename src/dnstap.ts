/**
 * dnstap, the protobuf schema DNS servers (unbound, Knot, BIND, dnsdist)
 * send in Frame Streams data frames of content type `protobuf:dnstap.Dnstap`:
 * its types, a decoder and an encoder, written by hand (no protobuf library,
 * no generated code) and portable (no Deno API).
 *
 * - {@linkcode decodeDnstap} turns one frame's payload into a
 *   {@linkcode Dnstap} object; {@linkcode encodeDnstap} does the reverse,
 *   canonically, for programs that emit dnstap.
 * - Enum values are names (`"CLIENT_QUERY"`, `"DOT"`); numbers the schema
 *   does not name are kept as numbers, and written back.
 * - Absent fields are absent properties; times are exact to the nanosecond
 *   ({@linkcode formatDnstapTime}); addresses are bytes
 *   ({@linkcode formatDnstapAddress}, {@linkcode parseDnstapAddress}).
 *
 * - {@linkcode formatDnstapQuiet}, {@linkcode formatDnstapYaml} and
 *   {@linkcode formatDnstapJson} print a record exactly as the Go `dnstap`
 *   tool's `-q`, `-y` and `-j` do (golang-dnstap 0.4, miekg/dns 1.1.50).
 * - {@linkcode toDnstapRecord} gives a record as structured, JSON-ready data
 *   of our own design ({@linkcode DnstapRecord}: the DNS messages parsed,
 *   latency, identity), one NDJSON line per record once stringified.
 *
 * The DNS messages inside (`queryMessage`, `responseMessage`) stay wire-format
 * bytes in the decoded objects.
 *
 * Permissions: none (the quiet format's local time is the JavaScript
 * engine's zone: no `TZ` or zone file is read).
 *
 * @example Decoding a dnstap file
 * ```ts
 * import { decodeFrames, DNSTAP_CONTENT_TYPE, encodeFrameStream } from "@fstrm/fstrm";
 * import {
 *   decodeDnstap,
 *   encodeDnstap,
 *   formatDnstapAddress,
 *   formatDnstapTime,
 * } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const file = encodeFrameStream([
 *   encodeDnstap({
 *     type: "MESSAGE",
 *     identity: new TextEncoder().encode("resolver-1"),
 *     message: {
 *       type: "CLIENT_QUERY",
 *       socketFamily: "INET",
 *       socketProtocol: "UDP",
 *       queryAddress: new Uint8Array([127, 0, 0, 1]),
 *       queryTimeSec: 1_764_094_866,
 *       queryTimeNsec: 240_151_000,
 *     },
 *   }),
 * ], { contentType: DNSTAP_CONTENT_TYPE });
 *
 * for (const frame of decodeFrames(file)) {
 *   if (frame.kind !== "data") continue;
 *   const { message } = decodeDnstap(frame.data);
 *   assert.equal(message?.type, "CLIENT_QUERY");
 *   assert.equal(formatDnstapAddress(message!.queryAddress!), "127.0.0.1");
 *   assert.equal(
 *     formatDnstapTime(message!.queryTimeSec!, message!.queryTimeNsec),
 *     "2025-11-25T18:21:06.240151000Z",
 *   );
 * }
 * ```
 *
 * @module
 */
export type {
  Dnstap,
  DnstapHttpProtocol,
  DnstapMessage,
  DnstapMessageType,
  DnstapPolicy,
  DnstapPolicyAction,
  DnstapPolicyMatch,
  DnstapSocketFamily,
  DnstapSocketProtocol,
  DnstapType,
} from "./_dnstap_types.ts";
export { DnstapError } from "./_dnstap_error.ts";
export { decodeDnstap } from "./_dnstap_decode.ts";
export { encodeDnstap } from "./_dnstap_encode.ts";
export {
  formatDnstapAddress,
  formatDnstapTime,
  parseDnstapAddress,
} from "./_dnstap_text.ts";
export { formatDnstapQuiet } from "./_dnstap_quiet.ts";
export { formatDnstapYaml } from "./_dnstap_yaml.ts";
export { formatDnstapJson } from "./_dnstap_json.ts";
export { toDnstapRecord } from "./_dnstap_record.ts";
export type {
  DnsEdnsOptionRecord,
  DnsEdnsRecord,
  DnsFlag,
  DnsMessageRecord,
  DnsQuestionRecord,
  DnsResourceRecord,
  DnstapPolicyRecord,
  DnstapRecord,
} from "./_dnstap_record_types.ts";
