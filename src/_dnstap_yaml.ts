/**
 * The Go `dnstap` tool's YAML (`dnstap -y`, golang-dnstap 0.4
 * `YamlFormat`), DNS messages printed by miekg/dns 1.1.50.
 *
 * @module
 */
import type { Dnstap, DnstapMessage } from "./_dnstap_types.ts";
import { dnsMessageTextIndented, goTrimSpace } from "./_dns_text.ts";

export { goTrimSpace };
import { DnsMessageError, readName, WireCursor } from "./_dns_wire.ts";
import { DNSTAP_TYPES } from "./_dnstap_names.ts";
import {
  BytesTextCache,
  EnumTextCache,
  enumValue,
  goDnstapType,
  goIPString,
  goMessageType,
  goQuote,
  goQuoteAscii,
  goSocketFamily,
  goSocketProtocol,
} from "./_go_text.ts";
import { goTimeUTC } from "./_go_time.ts";

const IDENTITY = new BytesTextCache(goQuote);
const VERSION = new BytesTextCache(goQuote);
// The lines of fields that repeat from record to record, each made once.
const TYPE_LINE = new EnumTextCache((v) =>
  "  type: " + goMessageType(v) + "\n"
);
const FAMILY_LINE = new EnumTextCache((v) =>
  "  socket_family: " + goSocketFamily(v) + "\n"
);
const PROTOCOL_LINE = new EnumTextCache((v) =>
  "  socket_protocol: " + goSocketProtocol(v) + "\n"
);
const QUERY_ADDRESS_LINE = new BytesTextCache((b) =>
  "  query_address: " + goIPString(b) + "\n"
);
const RESPONSE_ADDRESS_LINE = new BytesTextCache((b) =>
  "  response_address: " + goIPString(b) + "\n"
);

/**
 * A wire-format name as miekg/dns `UnpackDomainName(bytes, 0)` gives it,
 * or its error text.
 */
export function unpackZone(zone: Uint8Array): [string, string | null] {
  const cur = new WireCursor();
  cur.end = zone.length;
  try {
    return [readName(zone, cur), null];
  } catch (e) {
    if (e instanceof DnsMessageError) return ["", e.goError];
    throw e;
  }
}

/** The block of a DNS message, or its parse-failed comment. */
function dnsBlock(key: DnsKey, msg: Uint8Array): string {
  let text: string;
  try {
    text = dnsMessageTextIndented(msg, "    ");
  } catch (e) {
    if (e instanceof DnsMessageError) {
      return key.failed + e.goError + "\n";
    }
    throw e;
  }
  return key.block + text + "\n";
}

/** A DNS message field's fixed texts. */
interface DnsKey {
  /** Before the indented text. */
  block: string;
  /** Before the error. */
  failed: string;
}

const QUERY_MESSAGE: DnsKey = {
  block: "  query_message: |\n    ",
  failed: "  # query_message: parse failed: ",
};
const RESPONSE_MESSAGE: DnsKey = {
  block: "  response_message: |\n    ",
  failed: "  # response_message: parse failed: ",
};

function yamlMessage(m: DnstapMessage): string {
  let s = TYPE_LINE.get(m.type);
  if (m.queryTimeSec !== undefined && m.queryTimeNsec !== undefined) {
    s += "  query_time: !!timestamp " +
      goTimeUTC(m.queryTimeSec, m.queryTimeNsec, " ") + "\n";
  }
  if (m.responseTimeSec !== undefined && m.responseTimeNsec !== undefined) {
    s += "  response_time: !!timestamp " +
      goTimeUTC(m.responseTimeSec, m.responseTimeNsec, " ") + "\n";
  }
  if (m.socketFamily !== undefined) {
    s += FAMILY_LINE.get(m.socketFamily);
  }
  if (m.socketProtocol !== undefined) {
    s += PROTOCOL_LINE.get(m.socketProtocol);
  }
  if (m.queryAddress !== undefined) {
    s += QUERY_ADDRESS_LINE.get(m.queryAddress);
  }
  if (m.responseAddress !== undefined) {
    s += RESPONSE_ADDRESS_LINE.get(m.responseAddress);
  }
  if (m.queryPort !== undefined) s += "  query_port: " + m.queryPort + "\n";
  if (m.responsePort !== undefined) {
    s += "  response_port: " + m.responsePort + "\n";
  }
  if (m.queryZone !== undefined) {
    const [name, err] = unpackZone(m.queryZone);
    s += err === null
      ? "  query_zone: " + goQuoteAscii(name) + "\n"
      : "  # query_zone: parse failed: " + err + "\n";
  }
  if (m.queryMessage !== undefined) {
    s += dnsBlock(QUERY_MESSAGE, m.queryMessage);
  }
  if (m.responseMessage !== undefined) {
    s += dnsBlock(RESPONSE_MESSAGE, m.responseMessage);
  }
  return s + "---\n";
}

/**
 * One record as the Go `dnstap` tool's YAML (`dnstap -y`, golang-dnstap
 * 0.4): the exact text it writes, ending with `---\n` after a message.
 *
 * Identity and version are quoted as Go's `strconv.Quote` does; times are
 * UTC with trailing zeros of the nanoseconds dropped, printed only when
 * both seconds and nanoseconds are present; absent fields are left out;
 * `query_zone` is the name's text, and the DNS messages are miekg/dns
 * 1.1.50's dig-like text (`Msg.String()`), or a `# ...: parse failed: `
 * comment with its error. A record whose type is not MESSAGE prints its
 * type, identity and version only, without the `---` line, as the tool does.
 *
 * @example
 * ```ts
 * import { formatDnstapYaml } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const text = formatDnstapYaml({
 *   type: "MESSAGE",
 *   identity: new TextEncoder().encode("ns1"),
 *   message: {
 *     type: "AUTH_QUERY",
 *     queryTimeSec: 1_764_094_866,
 *     queryTimeNsec: 240_151_000,
 *     queryPort: 53000,
 *   },
 * });
 * assert.equal(
 *   text,
 *   'type: MESSAGE\nidentity: "ns1"\nmessage:\n  type: AUTH_QUERY\n' +
 *     "  query_time: !!timestamp 2025-11-25 18:21:06.240151\n" +
 *     "  query_port: 53000\n---\n",
 * );
 * ```
 *
 * @param dnstap A decoded record.
 * @returns The text, or null for a MESSAGE without a message, where the Go
 * tool crashes (and so prints nothing more).
 */
export function formatDnstapYaml(dnstap: Dnstap): string | null {
  const type = dnstap.type;
  const id = dnstap.identity === undefined
    ? undefined
    : IDENTITY.get(dnstap.identity);
  const version = dnstap.version === undefined
    ? undefined
    : VERSION.get(dnstap.version);
  const h = HEAD;
  if (type !== h.type || id !== h.identity || version !== h.version) {
    let s = "type: " + goDnstapType(type) + "\n";
    if (id !== undefined) s += "identity: " + id + "\n";
    if (version !== undefined) s += "version: " + version + "\n";
    h.message = enumValue(DNSTAP_TYPES, type) === 1;
    if (h.message) s += "message:\n";
    s.charCodeAt(0); // flattens it: one piece in every record's text
    h.text = s;
    h.type = type;
    h.identity = id;
    h.version = version;
  }
  if (!h.message) return h.text;
  if (dnstap.message === undefined) return null;
  return h.text + yamlMessage(dnstap.message);
}

/**
 * The lines before the message for the last type, identity and version
 * seen (the same from record to record in a capture).
 */
const HEAD: {
  type: string | number | null;
  identity: string | undefined;
  version: string | undefined;
  message: boolean;
  text: string;
} = {
  type: null,
  identity: undefined,
  version: undefined,
  message: false,
  text: "",
};
