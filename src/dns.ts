/**
 * DNS messages in wire format, as dnstap carries them in `queryMessage` and
 * `responseMessage`: read lazily, and printed exactly as the Go `dnstap`
 * tool prints them (miekg/dns 1.1.50's `Msg.String()`). Portable (no Deno
 * API), no dependency.
 *
 * - {@linkcode parseDnsMessage} gives a {@linkcode DnsMessage}: the header
 *   straight from the bytes, the question and the sections parsed only when
 *   asked for, EDNS (`edns`) with its options. It never throws for
 *   malformed bytes; `error` tells why miekg/dns would reject them.
 * - {@linkcode formatDnsMessage} is the dig-like text of the Go tool's YAML
 *   and JSON outputs, byte for byte; it throws {@linkcode DnsMessageError}
 *   with miekg/dns's error text where the Go tool prints `parse failed: `.
 * - {@linkcode dnsTypeName}, {@linkcode dnsClassName},
 *   {@linkcode dnsRcodeName} and {@linkcode dnsOpcodeName} name numbers as
 *   miekg/dns does.
 *
 * Permissions: none.
 *
 * @example Reading the DNS messages of a dnstap file
 * ```ts
 * import { decodeFrames, DNSTAP_CONTENT_TYPE, encodeFrameStream } from "@fstrm/fstrm";
 * import { decodeDnstap, encodeDnstap } from "@fstrm/fstrm/dnstap";
 * import { parseDnsMessage } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * const text = new TextEncoder();
 * const query = new Uint8Array([
 *   0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
 *   7, ...text.encode("example"), 3, ...text.encode("com"), 0,
 *   0x00, 0x1c, 0x00, 0x01, // AAAA, IN
 * ]);
 * const file = encodeFrameStream([
 *   encodeDnstap({
 *     type: "MESSAGE",
 *     message: { type: "CLIENT_QUERY", queryMessage: query },
 *   }),
 * ], { contentType: DNSTAP_CONTENT_TYPE });
 *
 * for (const frame of decodeFrames(file)) {
 *   if (frame.kind !== "data") continue;
 *   const bytes = decodeDnstap(frame.data).message?.queryMessage;
 *   if (bytes === undefined) continue;
 *   const dns = parseDnsMessage(bytes);
 *   assert.equal(dns.id, 0x1234);
 *   assert.equal(dns.rd, true);
 *   assert.equal(dns.question?.name, "example.com.");
 *   assert.equal(dns.question?.typeName, "AAAA");
 *   assert.equal(dns.error, null);
 * }
 * ```
 *
 * @module
 */
import { className, opcodeName, rcodeName, typeName } from "./_dns_names.ts";
import { dnsMessageText } from "./_dns_text.ts";

export { DnsMessageError } from "./_dns_wire.ts";
export { DnsMessage, parseDnsMessage } from "./_dns_message.ts";
export type {
  DnsEdns,
  DnsEdnsOption,
  DnsQuestion,
  DnsRecord,
} from "./_dns_message.ts";

/**
 * A DNS message as the Go `dnstap` tool prints it in its YAML and JSON
 * outputs: miekg/dns 1.1.50's `Msg.Unpack` then `Msg.String()`, exactly
 * (header and flags, counts of what was read, the OPT pseudo-section, then
 * the question, answer, authority and additional sections, dig-like).
 *
 * @example
 * ```ts
 * import { formatDnsMessage } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * const response = new Uint8Array([
 *   0x00, 0x07, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
 *   2, 0x6e, 0x73, 0, 0x00, 0x01, 0x00, 0x01, // ns. IN A
 *   0xc0, 12, 0x00, 0x01, 0x00, 0x01, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
 * ]);
 * assert.equal(
 *   formatDnsMessage(response),
 *   ";; opcode: QUERY, status: NOERROR, id: 7\n" +
 *     ";; flags: qr rd ra; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0\n" +
 *     "\n;; QUESTION SECTION:\n;ns.\tIN\t A\n" +
 *     "\n;; ANSWER SECTION:\nns.\t3600\tIN\tA\t192.0.2.1\n",
 * );
 * ```
 *
 * @param bytes A DNS message in wire format.
 * @returns Its text.
 * @throws {DnsMessageError} miekg/dns cannot unpack the message; `goError`
 *   is its error text (the Go tool prints `parse failed: ` and it).
 */
export function formatDnsMessage(bytes: Uint8Array): string {
  return dnsMessageText(bytes);
}

/**
 * A DNS type as miekg/dns names it: its mnemonic (`"AAAA"`, `"HTTPS"`,
 * `"None"` for 0) or `"TYPE"` and the number (RFC 3597).
 *
 * @example
 * ```ts
 * import { dnsTypeName } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dnsTypeName(28), "AAAA");
 * assert.equal(dnsTypeName(65280), "TYPE65280");
 * ```
 *
 * @param type The 16-bit type.
 * @returns Its name.
 */
export function dnsTypeName(type: number): string {
  return typeName(type);
}

/**
 * A DNS class as miekg/dns names it: `IN`, `CS`, `CH`, `HS`, `NONE`, else
 * `"CLASS"` and the number (255, ANY, included).
 *
 * @example
 * ```ts
 * import { dnsClassName } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dnsClassName(1), "IN");
 * assert.equal(dnsClassName(255), "CLASS255");
 * ```
 *
 * @param cls The 16-bit class.
 * @returns Its name.
 */
export function dnsClassName(cls: number): string {
  return className(cls);
}

/**
 * A response code as miekg/dns names it (`"NXDOMAIN"`, `"BADCOOKIE"`), or
 * `""` for one it does not name.
 *
 * @example
 * ```ts
 * import { dnsRcodeName } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dnsRcodeName(3), "NXDOMAIN");
 * assert.equal(dnsRcodeName(11), "");
 * ```
 *
 * @param rcode The rcode, extended bits included (0 to 4095).
 * @returns Its name or `""`.
 */
export function dnsRcodeName(rcode: number): string {
  return rcodeName(rcode);
}

/**
 * An opcode as miekg/dns names it (`"QUERY"`, `"NOTIFY"`, `"UPDATE"`), or
 * `""` for one it does not name.
 *
 * @example
 * ```ts
 * import { dnsOpcodeName } from "@fstrm/fstrm/dns";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dnsOpcodeName(5), "UPDATE");
 * assert.equal(dnsOpcodeName(3), "");
 * ```
 *
 * @param opcode The 4-bit opcode.
 * @returns Its name or `""`.
 */
export function dnsOpcodeName(opcode: number): string {
  return opcodeName(opcode);
}
