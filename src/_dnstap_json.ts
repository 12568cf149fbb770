/**
 * The Go `dnstap` tool's JSON (`dnstap -j`, golang-dnstap 0.4
 * `JSONFormat`): one object per line, DNS messages printed by miekg/dns
 * 1.1.50.
 *
 * @module
 */
import type { Dnstap, DnstapMessage } from "./_dnstap_types.ts";
import { dnsMessageText } from "./_dns_text.ts";
import { DnsMessageError } from "./_dns_wire.ts";
import {
  BytesTextCache,
  EnumTextCache,
  goDnstapType,
  goIPString,
  goMessageType,
  goSocketFamily,
  goSocketProtocol,
  jsonString,
  jsonStringOfBytes,
} from "./_go_text.ts";
import { goTimeUTC } from "./_go_time.ts";
import { unpackZone } from "./_dnstap_yaml.ts";

const IDENTITY = new BytesTextCache(jsonStringOfBytes);
const VERSION = new BytesTextCache(jsonStringOfBytes);
// The JSON of fields that repeat from record to record, each made once.
const TYPE = new EnumTextCache((v) =>
  '{"type":' + jsonString(goMessageType(v))
);
const FAMILY = new EnumTextCache((v) =>
  ',"socket_family":' + jsonString(goSocketFamily(v))
);
const PROTOCOL = new EnumTextCache((v) =>
  ',"socket_protocol":' + jsonString(goSocketProtocol(v))
);
const DNSTAP_TYPE = new EnumTextCache((v) =>
  '{"type":' + jsonString(goDnstapType(v))
);
const QUERY_ADDRESS = new BytesTextCache((b) =>
  ',"query_address":' + jsonIP(b)
);
const RESPONSE_ADDRESS = new BytesTextCache((b) =>
  ',"response_address":' + jsonIP(b)
);

/** `"<nil>"` as encoding/json writes it (HTML-escaped). */
const NIL = '"\\u003cnil\\u003e"';

function dnsText(msg: Uint8Array): string {
  try {
    return jsonString(dnsMessageText(msg));
  } catch (e) {
    if (e instanceof DnsMessageError) {
      return jsonString("parse failed: " + e.goError);
    }
    throw e;
  }
}

/** net.IP's MarshalText as a JSON string (4, 16 or no bytes). */
function jsonIP(ip: Uint8Array): string {
  return ip.length === 0 ? '""' : '"' + goIPString(ip) + '"';
}

/** Whether net.IP's MarshalText fails: a length other than 0, 4 and 16. */
function badIP(ip: Uint8Array): boolean {
  const n = ip.length;
  return n !== 0 && n !== 4 && n !== 16;
}

function jsonMessage(m: DnstapMessage): string | null {
  let s = TYPE.get(m.type);
  if (m.queryTimeSec !== undefined && m.queryTimeNsec !== undefined) {
    s += ',"query_time":"' + goTimeUTC(m.queryTimeSec, m.queryTimeNsec, "T") +
      'Z"';
  }
  if (m.responseTimeSec !== undefined && m.responseTimeNsec !== undefined) {
    s += ',"response_time":"' +
      goTimeUTC(m.responseTimeSec, m.responseTimeNsec, "T") + 'Z"';
  }
  s += m.socketFamily === undefined
    ? ',"socket_family":' + NIL
    : FAMILY.get(m.socketFamily);
  s += m.socketProtocol === undefined
    ? ',"socket_protocol":' + NIL
    : PROTOCOL.get(m.socketProtocol);
  if (m.queryAddress !== undefined) {
    if (badIP(m.queryAddress)) return null;
    s += QUERY_ADDRESS.get(m.queryAddress);
  }
  if (m.responseAddress !== undefined) {
    if (badIP(m.responseAddress)) return null;
    s += RESPONSE_ADDRESS.get(m.responseAddress);
  }
  if (m.queryPort) s += ',"query_port":' + m.queryPort;
  if (m.responsePort) s += ',"response_port":' + m.responsePort;
  if (m.queryZone !== undefined) {
    const [name, err] = unpackZone(m.queryZone);
    s += ',"query_zone":' +
      jsonString(err === null ? name : "parse failed: " + err);
  }
  if (m.queryMessage !== undefined) {
    s += ',"query_message":' + dnsText(m.queryMessage);
  }
  if (m.responseMessage !== undefined) {
    s += ',"response_message":' + dnsText(m.responseMessage);
  }
  return s + "}";
}

/**
 * One record as the Go `dnstap` tool's JSON (`dnstap -j`, golang-dnstap
 * 0.4): the exact line it writes, newline included.
 *
 * The fields and their order are the tool's; strings are escaped as Go's
 * `encoding/json` does (`<`, `>` and `&` as `\u003c` ..., invalid UTF-8 as
 * `\ufffd`); times are RFC 3339 UTC with trimmed nanoseconds, printed when
 * both seconds and nanoseconds are present; an absent socket family or
 * protocol prints `"<nil>"` (escaped); empty identity and version, port 0
 * are left out; DNS messages are miekg/dns 1.1.50's text or
 * `parse failed: <error>`.
 *
 * @example
 * ```ts
 * import { formatDnstapJson } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const line = formatDnstapJson({
 *   type: "MESSAGE",
 *   message: {
 *     type: "CLIENT_RESPONSE",
 *     socketFamily: "INET6",
 *     responseAddress: new Uint8Array(16).fill(0, 0, 15).fill(1, 15),
 *     responseTimeSec: 0,
 *     responseTimeNsec: 5_000,
 *   },
 * });
 * assert.equal(
 *   line,
 *   '{"type":"MESSAGE","message":{"type":"CLIENT_RESPONSE",' +
 *     '"response_time":"1970-01-01T00:00:00.000005Z",' +
 *     '"socket_family":"INET6","socket_protocol":"\\u003cnil\\u003e",' +
 *     '"response_address":"::1"}}\n',
 * );
 * ```
 *
 * @param dnstap A decoded record.
 * @returns The line, or null where the Go tool prints nothing more: an
 * address whose length is neither 0, 4 nor 16 (`json.Marshal` fails, the
 * tool stops), or no message (the tool crashes). A CLI should skip and count
 * these.
 */
export function formatDnstapJson(dnstap: Dnstap): string | null {
  if (dnstap.message === undefined) return null;
  const m = jsonMessage(dnstap.message);
  if (m === null) return null;
  const type = dnstap.type;
  const id = dnstap.identity !== undefined && dnstap.identity.length > 0
    ? IDENTITY.get(dnstap.identity)
    : undefined;
  const version = dnstap.version !== undefined && dnstap.version.length > 0
    ? VERSION.get(dnstap.version)
    : undefined;
  const h = HEAD;
  if (type !== h.type || id !== h.identity || version !== h.version) {
    let s = DNSTAP_TYPE.get(type);
    if (id !== undefined) s += ',"identity":' + id;
    if (version !== undefined) s += ',"version":' + version;
    s += ',"message":';
    s.charCodeAt(0); // flattens it: one piece in every record's text
    h.text = s;
    h.type = type;
    h.identity = id;
    h.version = version;
  }
  return h.text + m + "}\n";
}

/**
 * The record's text before its message for the last type, identity and
 * version seen (the same from record to record in a capture).
 */
const HEAD: {
  type: string | number | null;
  identity: string | undefined;
  version: string | undefined;
  text: string;
} = { type: null, identity: undefined, version: undefined, text: "" };
