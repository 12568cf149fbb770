// tests/data/dnstap/README.md, written by make.ts from the captures
// themselves: how they were made, the versions, and what they hold.
import { decodeFrames } from "../../mod.ts";
import { decodeDnstap, formatDnstapTime } from "../../src/dnstap.ts";
import { summarize } from "./_summary.ts";
import { TYPE_QUERIES } from "./_queries.ts";

/** When a capture was made: its first message's time, to the second. */
function capturedAt(bytes: Uint8Array): string {
  for (const frame of decodeFrames(bytes)) {
    if (frame.kind !== "data") continue;
    const m = decodeDnstap(frame.data).message;
    const sec = m?.queryTimeSec ?? m?.responseTimeSec;
    if (sec !== undefined) return formatDnstapTime(sec, 0).slice(0, 19) + "Z";
  }
  return "?";
}

const SERVERS: Record<string, string> = {
  knot:
    "knotd, authoritative for `example.test.` (signed online, NSEC, ECDSA P-256, `reproducible-signing`, CDS/CDNSKEY published), the reverse zone `2.0.192.in-addr.arpa.` and `broken.test.` (configured, no zone file: SERVFAIL); `mod-dnstap` with `log-queries` and `log-responses`, sink `unix:` socket.",
  bind:
    "named -g, authoritative only (`recursion no`, `dnssec-validation no`, `max-records-per-type 0`) for `nsec3.test.` (signed offline by `dnssec-signzone -S -3 - -H 0`, NSEC3, ECDSA P-256), the reverse zone and `broken.test.` (no zone file: SERVFAIL); `dnstap { all; }` to `dnstap-output unix`.",
  unbound:
    'unbound -d, a resolver (`module-config: "iterator"`, no validation) with stub zones: `example.test.`, the reverse zone, `broken.test.`, `lame.test.` and `.` to Knot, `nsec3.test.` to BIND (both without dnstap); `local-zone: "." refuse` with the stub zones transparent, `do-not-query-localhost: no`, `ede: yes`; dnstap client, resolver and forwarder messages, `dnstap-bidirectional: yes`, Unix socket.',
  dnsdist:
    "dnsdist --supervised, a frontend to Knot (without dnstap) over UDP, TCP, DNS over TLS and DNS over HTTPS (`/dns-query`, a self-signed certificate made by openssl); `DnstapLogAction` and `DnstapLogResponseAction` (also as self-answered response action) on `newFrameStreamUnixLogger`; it answers `servfail.example.test.` (SERVFAIL), `refused.example.test.` (REFUSED) and `spoof.example.test.` (192.0.2.99) itself.",
};

/** The README text for the captures present. */
export function readmeText(
  versions: readonly (readonly [string, string])[],
  captures: readonly (readonly [string, Uint8Array])[],
): string {
  const rows: string[] = [];
  const all = new Set<string>();
  const per: [string, string[]][] = [];
  for (const [name, bytes] of captures) {
    const s = summarize(bytes);
    const types = Object.entries(s.types).map(([t, n]) => `${t} ${n}`).join(
      ", ",
    );
    rows.push(
      `| ${name}.fstrm | ${
        capturedAt(bytes)
      } | ${bytes.length} | ${s.frames} | ${types} | ${s.queryMessages} / ${s.responseMessages} | ${s.largestFrame} | ${
        s.controls.join(", ")
      } | ${s.identities.map((i) => i.replace(/^\w+ /, "")).join(", ")} |`,
    );
    for (const t of s.rrTypes) all.add(t);
    per.push([name, s.rrTypes]);
  }
  const allSorted = [...all].sort();
  const missing = per.map(([name, types]) => {
    const lack = allSorted.filter((t) => !types.includes(t));
    return `- ${name}: ${
      lack.length === 0 ? "all of them" : `all but ${lack.join(", ")}`
    }`;
  });
  const queried = [...new Set(TYPE_QUERIES.map(([, t]) => t))].join(", ");
  return `# Real-server dnstap captures

Made by \`deno task captures\` (tools/captures/make.ts): each server runs on
loopback (127.0.0.1 and ::1) with high ports, all its files in a temp dir, as
the current user, and sends dnstap to
\`fstrm_capture -t protobuf:dnstap.Dnstap -u SOCK -w FILE\`; kdig and dig send the query set; then every process is
stopped by its pid and checked gone. These files are the captures exactly as
fstrm_capture wrote them. Do not edit them; remake them all (or some:
\`deno task captures knot\`) and update the numbers in
tests/dnstap_captures_test.ts, which asserts the table below.

## Servers

${Object.entries(SERVERS).map(([k, v]) => `- **${k}**: ${v}`).join("\n")}

Versions (Debian packages): ${versions.map(([p, v]) => `${p} ${v}`).join(", ")}.

## The zone

tools/captures/zone.db (served as \`example.test.\` by Knot, as
\`nsec3.test.\` by BIND) plus, made by make.ts, \`big4k\` (one TXT RR of 16
strings of 250 bytes) and \`big60k\` (220 TXT RRs of 250 bytes: a 58 KB answer,
TCP only). Record types: A, AAAA, NS, CNAME, DNAME, SOA, PTR (reverse zone),
MX, TXT (quotes, backslashes, UTF-8, binary, many strings, empty string, 4 KB,
58 KB), SPF, SRV, NAPTR, CAA, DS, TLSA, SMIMEA, SSHFP, CERT, OPENPGPKEY, URI,
HINFO, LOC, RP, AFSDB, KX, EUI48, EUI64, CDS, CDNSKEY, CSYNC, ZONEMD, SVCB,
HTTPS (mandatory, alpn, port, ipv4hint, ech, ipv6hint; and AliasMode), APL,
DHCID, TYPE65400 (\`\\# 4 01020304\`), a wildcard, names with escaped bytes
(\`a\\.b\`, \`\\200\`), and from the signers DNSKEY, RRSIG, NSEC (Knot), NSEC3
and NSEC3PARAM (BIND). Nothing was dropped: every server loaded every record.

## The query set (tools/captures/_queries.ts)

Every type above (${queried}) over UDP, and over TCP with the DO bit; PTR;
NXDOMAIN and NODATA (with DO: NSEC/NSEC3 proofs); REFUSED (\`example.org.\`);
SERVFAIL (\`broken.test.\`, unbound's lame \`lame.test.\`, dnsdist's own);
truncation (\`dig +bufsize=512\` on big60k, then dig's TCP retry; kdig
\`+notcp +bufsize=512\`; big4k with \`+noedns\` and \`+bufsize=4096\`, which kdig
retries over TCP); EDNS options (\`+nsid\`, \`+cookie\`, \`+subnet=192.0.2.0/24\`,
\`+subnet=2001:db8::/56\`, \`+padding\`, \`+expire\`, \`+keepalive\` on TCP,
\`+ednsopt=65001:0102\`); ANY over UDP and TCP; AXFR; ::1 over UDP and TCP;
CHAOS \`version.bind.\` and \`hostname.bind.\` TXT; opcode STATUS (NOTIMP); a
query without RD; a referral (\`host.sub\`, not for unbound); to dnsdist
also two queries over DNS over TLS (\`kdig +tls\`) and three over DNS over
HTTPS (\`kdig +https\`, POST and GET). Each
\`NAME.queries.txt\` lists the commands as sent, with the status and flags of
the answer the client got.

## What the captures hold

| file | made (UTC) | bytes | data frames | frames per message type | query / response messages | largest frame | control frames | identity, version |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

RR types in the responses' answer, authority and additional sections
(${allSorted.length}): ${allSorted.join(", ")}.

${missing.join("\n")}

## Quirks seen

- Handshake: all four open bidirectionally (READY, ACCEPT, START with
  \`protobuf:dnstap.Dnstap\`) on the Unix socket; Knot, BIND and unbound end
  with STOP, dnsdist closes without one (\`CAPTURE_WITH=fstrm CAPTURE_DEBUG=1\`
  shows this in the capturer's log). Every frame is under 64 KiB (the largest
  are the 58 KB big60k answers); none is near fstrm_capture's 256 KiB limit.
- The query set ran four times whole on 2026-12-03 (three times with
  fstrm_capture, once of them as user nobody, and once with our
  \`fstrm capture\`): the same counts each time; Knot's, BIND's and dnsdist's
  files the same size each time (Knot signs reproducibly), unbound's within 16
  bytes. dnsdist's file was made last, after DNS over TLS and HTTPS joined its
  queries.
- Knot writes frames out of time order: a TCP query can come before the UDP
  response before it (its UDP and TCP workers, it seems, queue apart). It
  logs an AXFR as one AUTH_QUERY/AUTH_RESPONSE pair per response message (the
  query repeated each time: three here, 7968, 57897 and 10571 bytes). It
  answers ANY with a minimal 46-byte response over UDP and TCP alike. Its
  responses carry no query time.
- BIND logs the response to a query with RD set as CLIENT_RESPONSE and to one
  without RD as AUTH_RESPONSE (that one with \`query_zone\`), beside
  AUTH_QUERY for both; it logs no response to AXFR. Its times are those of
  its event loop (many messages share one microsecond value, all ending in
  the same digits). Its responses carry no query time.
- BIND 9.18.49 refuses an RRset of more than 100 RRs unless
  \`max-records-per-type 0\`; with \`dnssec-validation\` on (the default) it
  queried the root servers for their keys even as an authoritative-only
  server (four RESOLVER_QUERY frames to root addresses), so it is off here.
- unbound resolves a DNAME's target itself: with the DNAME pointing out of the
  stub zones it primed the root from the real root servers' addresses (hence
  the DNAME target inside the zone and the stub for "." to Knot, which refuses
  it). It refuses a query without RD when the answer is not cached. It logs
  no response to a query with opcode STATUS (it answers NOTIMP). Its
  RESOLVER_* messages carry \`query_zone\`, and RESOLVER_RESPONSE the query
  time.
- The Go tool (golang-dnstap 0.4, miekg/dns 1.1.50) unpacks every message
  here, and prints some oddly:
  - an RR of a type miekg has no struct for with its class as \`CLASS1\`:
    \`unknown.example.test. 3600 CLASS1 TYPE65400 \\# 4 01020304\`;
  - no line at all for the EDNS EXPIRE option (OPT's String() has no case for
    it);
  - NSID as hex, then each byte in parentheses: \`(k)(n)(o)(t)...\`;
  - ECS as \`192.0.2.0/24/0\` and \`[2001:db8::]/56/0\`;
  - \`KEEPALIVE: use tcp keep-alive, timeout omitted\`;
  - the unknown option as \`LOCAL OPT: 65001:0x0102\`;
  - unbound's EDE as \`EDE: 20 (Not Authoritative): ()\`;
  - DS, CDS and SSHFP digests in upper case, TLSA, SMIMEA and ZONEMD in lower
    case;
  - LOC longitude as \`04 53 32.000 E\`; UTF-8 in TXT as decimal escapes;
  - BIND's NOTIMP answer to opcode STATUS has no question, so the quiet format
    prints \`X\` for it.
- dnsdist marks DNS over TLS and HTTPS as socket_protocol DOT (3) and DOH
  (4), which golang-dnstap 0.4 names; kdig pads those queries to 128 bytes.
- dnsdist sends no STOP (the STOP in its file is fstrm_capture's), logs no
  response to AXFR, and was slow to flush its Frame Streams writer after the
  58 KB frames: with 1 s between the last query and SIGTERM, the last 21
  queries and their responses were missing; make.ts waits 3 s
  (CAPTURE_DRAIN_MS). Its responses carry the query time.
`;
}
