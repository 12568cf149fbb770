/**
 * Resource record data as miekg/dns 1.1.50 unpacks and prints it, for
 * every type it has a struct for (its `TypeToRR`), and the RFC 3597 form
 * (`\# 4 0a000001`) for the others. The Go `dnstap` tool prints records this
 * way inside its YAML and JSON outputs. `rdataValid` checks the same
 * without making text (10 to 30 times cheaper), for callers that only need
 * to know whether a message unpacks.
 *
 * @module
 */

import type { WireCursor } from "./_dns_wire.ts";
import {
  a,
  aaaa,
  apl,
  caa,
  eui48,
  eui64,
  gpos,
  hexUpper,
  hinfo,
  l32,
  l64,
  loc,
  naptr,
  nid,
  none,
  nul,
  oneName,
  prefName,
  px,
  type RdataReader,
  rfc3597,
  soa,
  srv,
  twoNames,
  txt,
  u32,
  uinfo,
  uri,
  x25,
} from "./_dns_rdata_basic.ts";
import {
  b64,
  cert,
  csync,
  dnskey,
  ds,
  hip,
  nsec,
  nsec3,
  nsec3param,
  rrsig,
  smimea,
  sshfp,
  tkey,
  tlsa,
  tsig,
  zonemd,
} from "./_dns_rdata_dnssec.ts";
import { svcb } from "./_dns_rdata_svcb.ts";

// miekg's TypeToRR minus OPT (41, read by the EDNS code): type -> reader.
const READERS: ReadonlyMap<number, RdataReader> = new Map<
  number,
  RdataReader
>([
  [1, a],
  [2, oneName], // NS
  [3, oneName], // MD
  [4, oneName], // MF
  [5, oneName], // CNAME
  [6, soa],
  [7, oneName], // MB
  [8, oneName], // MG
  [9, oneName], // MR
  [10, nul],
  [12, oneName], // PTR
  [13, hinfo],
  [14, twoNames], // MINFO
  [15, prefName], // MX
  [16, txt],
  [17, twoNames], // RP
  [18, prefName], // AFSDB
  [19, x25],
  [21, prefName], // RT
  [23, oneName], // NSAP-PTR
  [24, rrsig], // SIG
  [25, dnskey], // KEY
  [26, px],
  [27, gpos],
  [28, aaaa],
  [29, loc],
  [31, hexUpper], // EID
  [32, hexUpper], // NIMLOC
  [33, srv],
  [35, naptr],
  [36, prefName], // KX
  [37, cert],
  [39, oneName], // DNAME
  [42, apl],
  [43, ds],
  [44, sshfp],
  [46, rrsig],
  [47, nsec],
  [48, dnskey],
  [49, b64], // DHCID
  [50, nsec3],
  [51, nsec3param],
  [52, tlsa],
  [53, smimea],
  [55, hip],
  [56, txt], // NINFO
  [57, dnskey], // RKEY
  [58, twoNames], // TALINK
  [59, ds], // CDS
  [60, dnskey], // CDNSKEY
  [61, b64], // OPENPGPKEY
  [62, csync],
  [63, zonemd],
  [64, svcb],
  [65, svcb], // HTTPS
  [99, txt], // SPF
  [100, uinfo],
  [101, u32], // UID
  [102, u32], // GID
  [104, nid],
  [105, l32],
  [106, l64],
  [107, prefName], // LP
  [108, eui48],
  [109, eui64],
  [249, tkey],
  [250, tsig],
  [255, none], // ANY
  [256, uri],
  [257, caa],
  [258, txt], // AVC
  [32768, ds], // TA
  [32769, ds], // DLV
]);

// Readers by number below 260, for the hot path.
const BY_NUMBER: (RdataReader | undefined)[] = [];
for (const [t, r] of READERS) if (t < 260) BY_NUMBER[t] = r;

/**
 * The text miekg/dns prints for a record's rdata, after the header
 * (`RR.String()` without `RR_Header.String()`): `"10 mail.example."` for an
 * MX. Unpacks as miekg's `rr.unpack` for the type does, zero values
 * included where the rdata ends between two fields (an empty rdata gives the
 * zero record's text, `""` for an A). Types miekg has no struct for give
 * `\# <length> <hex>` (their header is printed with `CLASSn` and `TYPEn`, see
 * {@linkcode hasRdataStruct}). OPT (41) is not read here: given 41 this also
 * returns the RFC 3597 form. The text is ASCII except for NULL, whose bytes
 * miekg prints unescaped: they come back decoded as Go's JSON output shows
 * them (valid UTF-8 kept, each invalid byte U+FFFD).
 *
 * @param msg The DNS message (names in rdata may point anywhere before
 *   `cur.end`).
 * @param type The record's type.
 * @param cur `off` at the first rdata byte, `end` at the rdata's end;
 *   left where unpacking stopped (miekg reports "dns: bad rdlength" when
 *   that is not `end`).
 * @returns The rdata text.
 * @throws {DnsMessageError} With miekg's error text when the rdata does not
 *   unpack.
 */
export function rdataText(
  msg: Uint8Array,
  type: number,
  cur: WireCursor,
): string {
  const r = type < 260 ? BY_NUMBER[type] : READERS.get(type);
  return (r ?? rfc3597)(msg, cur);
}

/**
 * Whether miekg/dns has a struct for a type (`TypeToRR`, OPT included). For
 * the others it prints the record as RFC 3597 does, its header included:
 * `name\tttl\tCLASS<n>\tTYPE<n>\t` (numbers even for IN or a known type
 * name).
 *
 * @param type The record's type.
 * @returns `true` for the types with a struct.
 */
export function hasRdataStruct(type: number): boolean {
  return type === 41 || READERS.has(type);
}

/**
 * What miekg/dns prints before a record's header: `";"` for NULL and TKEY
 * (no presentation format), `"\n;; TSIG PSEUDOSECTION:\n; "` for TSIG, else
 * `""`. (OPT's `;` is the EDNS code's business.)
 *
 * @param type The record's type.
 * @returns The prefix.
 */
export function rdataLinePrefix(type: number): string {
  if (type === 10 || type === 249) return ";";
  return type === 250 ? "\n;; TSIG PSEUDOSECTION:\n; " : "";
}

export { rdataValid } from "./_dns_rdata_valid.ts";
