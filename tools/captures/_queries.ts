// The query set tools/captures/make.ts sends to each server, with kdig and
// dig. Every record type of zone.db over UDP and over TCP with the DO bit,
// then the cases: NXDOMAIN, NODATA, REFUSED, SERVFAIL, truncation and the
// TCP retry, EDNS options, ANY, AXFR, IPv6 loopback, CHAOS, escaped names.

/** One query: the program and its arguments (server and port included). */
export interface Query {
  /** `kdig` or `dig`. */
  tool: "kdig" | "dig";
  /** Its arguments. */
  args: string[];
}

/** Which server a query set is for: what it serves and what it answers. */
export type Target = "knot" | "bind" | "unbound" | "dnsdist";

/** Owner (relative to the zone, "@" for the apex) and type, per record type. */
export const TYPE_QUERIES: readonly (readonly [string, string])[] = [
  ["@", "SOA"],
  ["@", "NS"],
  ["@", "A"],
  ["@", "AAAA"],
  ["@", "MX"],
  ["@", "TXT"],
  ["@", "CAA"],
  ["@", "DNSKEY"],
  ["@", "CDS"],
  ["@", "CDNSKEY"],
  ["@", "NSEC"],
  ["@", "NSEC3PARAM"],
  ["@", "RRSIG"],
  ["www", "CNAME"],
  ["alias", "A"],
  ["dname", "DNAME"],
  ["x.dname", "A"],
  ["txt", "TXT"],
  ["spf", "SPF"],
  ["_sip._tcp", "SRV"],
  ["naptr", "NAPTR"],
  ["sub", "DS"],
  ["_443._tcp.www", "TLSA"],
  ["smimea", "SMIMEA"],
  ["sshfp", "SSHFP"],
  ["cert", "CERT"],
  ["openpgpkey", "OPENPGPKEY"],
  ["_http._tcp", "URI"],
  ["hinfo", "HINFO"],
  ["loc", "LOC"],
  ["rp", "RP"],
  ["afsdb", "AFSDB"],
  ["kx", "KX"],
  ["eui48", "EUI48"],
  ["eui64", "EUI64"],
  ["cds", "CDS"],
  ["cdnskey", "CDNSKEY"],
  ["csync", "CSYNC"],
  ["zonemd", "ZONEMD"],
  ["svcb", "SVCB"],
  ["https", "HTTPS"],
  ["apl", "APL"],
  ["dhcid", "DHCID"],
  ["unknown", "TYPE65400"],
  ["foo.wild", "TXT"],
  ["a\\.b", "TXT"],
  ["\\200", "TXT"],
  ["big4k", "TXT"],
];

/** The zone a target's queries go to. */
export function originOf(target: Target): string {
  return target === "bind" ? "nsec3.test." : "example.test.";
}

/**
 * The query set for one target listening on `port` (127.0.0.1 and ::1); for
 * dnsdist also `dot` and `doh`, its DNS over TLS and DNS over HTTPS ports.
 */
export function querySet(
  target: Target,
  port: number,
  encrypted?: { dot: number; doh: number },
): Query[] {
  const zone = originOf(target);
  const abs = (name: string): string => name === "@" ? zone : `${name}.${zone}`;
  const kdig = (server: string, ...args: string[]): Query => ({
    tool: "kdig",
    args: [`@${server}`, "-p", `${port}`, "+timeout=5", "+retry=0", ...args],
  });
  const dig = (...args: string[]): Query => ({
    tool: "dig",
    args: ["@127.0.0.1", "-p", `${port}`, "+timeout=5", "+tries=1", ...args],
  });
  const q = (...args: string[]): Query => kdig("127.0.0.1", ...args);
  const out: Query[] = [];
  for (const [name, type] of TYPE_QUERIES) {
    out.push(q(abs(name), type));
    out.push(q("+tcp", "+dnssec", abs(name), type));
  }
  out.push(
    q("1.2.0.192.in-addr.arpa.", "PTR"),
    q("+tcp", "+dnssec", "25.2.0.192.in-addr.arpa.", "PTR"),
    // NXDOMAIN and NODATA, with their NSEC/NSEC3 proofs on TCP.
    q(abs("nonexistent"), "A"),
    q("+tcp", "+dnssec", abs("nonexistent"), "A"),
    q("+dnssec", abs("mail"), "MX"),
    q("+tcp", abs("unknown"), "TYPE65401"),
    // REFUSED: a zone nobody here serves.
    q("example.org.", "A"),
    // Truncation: UDP with a 512-byte buffer, dig retries over TCP.
    dig("+bufsize=512", abs("big60k"), "TXT"),
    q("+notcp", "+bufsize=512", abs("big60k"), "TXT"),
    q("+noedns", abs("big4k"), "TXT"),
    q("+bufsize=4096", abs("big4k"), "TXT"),
    q("+tcp", abs("big60k"), "TXT"),
    // EDNS options.
    q("+nsid", zone, "SOA"),
    q("+cookie", zone, "SOA"),
    q("+subnet=192.0.2.0/24", zone, "A"),
    q("+padding", "+tcp", zone, "A"),
    q("+expire", zone, "SOA"),
    q("+ednsopt=65001:0102", zone, "SOA"),
    dig("+tcp", "+keepalive", zone, "NS"),
    dig("+nsid", "+cookie", "+subnet=2001:db8::/56", zone, "AAAA"),
    // ANY over both transports, the DO bit without it.
    q(zone, "ANY"),
    q("+tcp", zone, "ANY"),
    // AXFR over TCP.
    q(zone, "AXFR"),
    // IPv6 loopback.
    kdig("::1", abs("www"), "AAAA"),
    kdig("::1", "+tcp", "+dnssec", abs("mail"), "AAAA"),
    // CHAOS.
    q("version.bind.", "TXT", "CH"),
    dig("hostname.bind.", "TXT", "CH"),
    // An opcode nobody implements (STATUS, 2) and a query with no RD.
    dig("+opcode=2", zone, "SOA"),
    dig("+norecurse", "+dnssec", abs("txt"), "TXT"),
  );
  if (target !== "unbound") {
    // A referral to the delegated sub zone (unbound would chase it).
    out.push(q("host.sub." + zone, "A"));
  }
  if (target !== "dnsdist") {
    // SERVFAIL: a zone Knot or BIND is configured for but could not load
    // (no zone file); unbound asks Knot for it.
    out.push(q("www.broken.test.", "A"));
  }
  if (target === "unbound") {
    // A stub zone whose server refuses it: SERVFAIL.
    out.push(q("www.lame.test.", "A"));
  }
  if (target === "dnsdist") {
    // dnsdist's own answers.
    out.push(
      q("servfail.example.test.", "A"),
      q("refused.example.test.", "A"),
      q("spoof.example.test.", "A"),
    );
  }
  if (encrypted !== undefined) {
    // DNS over TLS and over HTTPS (POST and GET): dnstap's DOT and DOH.
    const tls = (p: number, ...args: string[]): Query => ({
      tool: "kdig",
      args: ["@127.0.0.1", "-p", `${p}`, "+timeout=5", "+retry=0", ...args],
    });
    out.push(
      tls(encrypted.dot, "+tls", zone, "SOA"),
      tls(encrypted.dot, "+tls", "+dnssec", abs("txt"), "TXT"),
      tls(encrypted.doh, "+https=/dns-query", zone, "A"),
      tls(
        encrypted.doh,
        "+https=/dns-query",
        "+https-get",
        abs("mail"),
        "AAAA",
      ),
      tls(encrypted.doh, "+https=/dns-query", abs("nonexistent"), "A"),
    );
  }
  return out;
}
