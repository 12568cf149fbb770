// PLACEHOLDER: replaced by the rdata branch
/**
 * A stand-in for the rdata module (its branch replaces this file): rdata
 * text for A, AAAA, NS, CNAME and PTR as miekg/dns 1.1.50 prints it, and
 * the RFC 3597 form (`\# 4 0a000001`) for every other type. Only what the
 * dnscore tests need; the contract is `rdataText` below.
 *
 * @module
 */

import { formatDnstapAddress } from "./_dnstap_text.ts";
import { DnsMessageError, readName, type WireCursor } from "./_dns_wire.ts";

const HEX: string[] = [];
for (let b = 0; b < 256; b++) HEX.push(b.toString(16).padStart(2, "0"));

function ip(msg: Uint8Array, cur: WireCursor, size: number): string {
  const off = cur.off;
  if (off + size > cur.end) {
    throw new DnsMessageError(
      off,
      size === 4 ? "dns: overflow unpacking a" : "dns: overflow unpacking aaaa",
    );
  }
  cur.off = off + size;
  const b = msg.subarray(off, off + size);
  if (size === 4) return b.join(".");
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (b[i] !== 0) mapped = false;
  return mapped ? b.subarray(12).join(".") : formatDnstapAddress(b);
}

/**
 * The text miekg/dns prints for an RR's rdata after its header, unpacking it
 * as miekg/dns does. `cur.off` is the first rdata byte, `cur.end` the rdata
 * end; `cur.off` is left where unpacking stopped.
 *
 * @param msg The DNS message.
 * @param type The RR type.
 * @param cur The rdata bounds.
 * @returns The rdata text.
 */
export function rdataText(
  msg: Uint8Array,
  type: number,
  cur: WireCursor,
): string {
  switch (type) {
    case 1:
      return ip(msg, cur, 4);
    case 28:
      return ip(msg, cur, 16);
    case 2:
    case 5:
    case 12:
      return readName(msg, cur);
    default: {
      let s = "\\# " + (cur.end - cur.off) + " ";
      for (let i = cur.off; i < cur.end; i++) s += HEX[msg[i]!]!;
      cur.off = cur.end;
      return s;
    }
  }
}
