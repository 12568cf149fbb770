/**
 * The Go `dnstap` tool's quiet text (`dnstap -q`, golang-dnstap 0.4
 * `TextFormat`): one line per message.
 *
 * @module
 */
import type { Dnstap } from "./_dnstap_types.ts";
import { quietQuestion } from "./_dns_text.ts";
import { DNSTAP_TYPES, MESSAGE_TYPES } from "./_dnstap_names.ts";
import {
  enumValue,
  goIPString,
  goLocalClock,
  goSocketProtocol,
} from "./_go_text.ts";

const EMPTY = new Uint8Array(0);

/**
 * By Message.Type number: the two letters and space of the line ("CQ "),
 * whether the query's side (time, message) is printed, whether the query
 * address is; STUB_* are missing from the tool's first switch and print as
 * unhandled.
 */
const KINDS: ([string, boolean, boolean] | undefined)[] = [
  undefined,
  ["AQ ", true, true],
  ["AR ", false, true],
  ["RQ ", true, false],
  ["RR ", false, false],
  ["CQ ", true, true],
  ["CR ", false, true],
  ["FQ ", true, false],
  ["FR ", false, false],
  undefined,
  undefined,
  ["TQ ", true, false],
  ["TR ", false, false],
  ["UQ ", true, false],
  ["UR ", false, false],
];

/** `%06d` of a non-negative integer. */
function pad6(n: number): string {
  const s = String(n);
  return s.length >= 6 ? s : "000000".slice(s.length) + s;
}

/**
 * One record as the Go `dnstap` tool's quiet text (`dnstap -q`,
 * golang-dnstap 0.4): the exact line it writes, newline included, e.g.
 * `18:21:06.240151 CQ 127.0.0.1 UDP 30b "example.test." IN SOA\n`.
 *
 * The time is the query's for a query and the response's for a response,
 * as `hh:mm:ss` in the local time zone (the JavaScript engine's: `TZ`, else
 * the system's, as Go's `time.Local`) and microseconds, `??:??:??` and
 * `.??????` where absent. Then the type's two letters, the address (the
 * query address for CLIENT and AUTH messages, else the response address;
 * `MISSING_ADDRESS` if absent), the protocol, the message's length and its
 * first question, or `X` when the message has none or does not parse.
 * STUB_QUERY, STUB_RESPONSE and unknown message types print
 * `[unhandled Message.Type]`, as the tool does.
 *
 * @example
 * ```ts
 * import { formatDnstapQuiet } from "@fstrm/fstrm/dnstap";
 * import assert from "node:assert/strict";
 *
 * const line = formatDnstapQuiet({
 *   type: "MESSAGE",
 *   message: {
 *     type: "CLIENT_QUERY",
 *     socketProtocol: "UDP",
 *     queryAddress: new Uint8Array([127, 0, 0, 1]),
 *     queryTimeNsec: 240_151_000,
 *   },
 * });
 * assert.equal(line, "??:??:??.240151 CQ 127.0.0.1 UDP 0b X \n");
 * assert.equal(formatDnstapQuiet({ type: 2 }), null);
 * ```
 *
 * @param dnstap A decoded record.
 * @returns The line, or null where the Go tool prints nothing and stops: a
 * `Dnstap.type` other than MESSAGE (its format function fails), or MESSAGE
 * without a message (the tool crashes). A CLI should skip and count these.
 */
export function formatDnstapQuiet(dnstap: Dnstap): string | null {
  if (enumValue(DNSTAP_TYPES, dnstap.type) !== 1) return null;
  const m = dnstap.message;
  if (m === undefined) return null;
  const kind = KINDS[enumValue(MESSAGE_TYPES, m.type)];
  if (kind === undefined) return "[unhandled Message.Type]\n";
  const [letters, isQuery, queryAddress] = kind;
  const sec = isQuery ? m.queryTimeSec : m.responseTimeSec;
  const nsec = isQuery ? m.queryTimeNsec : m.responseTimeNsec;
  let s = sec === undefined ? "??:??:??" : goLocalClock(sec);
  s += nsec === undefined ? ".?????? " : "." + pad6(Math.floor(nsec / 1000)) +
    " ";
  s += letters;
  const addr = queryAddress ? m.queryAddress : m.responseAddress;
  s += addr === undefined ? "MISSING_ADDRESS " : goIPString(addr) + " ";
  if (m.socketProtocol !== undefined) s += goSocketProtocol(m.socketProtocol);
  const msg = (isQuery ? m.queryMessage : m.responseMessage) ?? EMPTY;
  s += " " + msg.length + "b ";
  const q = quietQuestion(msg);
  return s + (q === null ? "X \n" : q + "\n");
}
