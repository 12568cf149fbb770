// Server configurations for tools/captures/make.ts: Knot, BIND, unbound and
// dnsdist on loopback with high ports, every file under one temp dir, run as
// the current user. Each writes dnstap to a Unix socket where fstrm_capture
// listens, or (with `tap: null`) writes no dnstap at all: the instance that
// serves unbound and dnsdist as a backend is not captured.

/** The ports, all on 127.0.0.1 and ::1. */
export interface Ports {
  /** knotd. */
  knot: number;
  /** named. */
  bind: number;
  /** unbound. */
  unbound: number;
  /** dnsdist. */
  dnsdist: number;
  /** dnsdist's DNS over TLS. */
  dot: number;
  /** dnsdist's DNS over HTTPS (/dns-query). */
  doh: number;
}

/** The ports, from `base` up (make.ts: CAPTURE_PORT_BASE, default 25353). */
export function ports(base: number): Ports {
  return {
    knot: base,
    bind: base + 1,
    unbound: base + 2,
    dnsdist: base + 3,
    dot: base + 4,
    doh: base + 5,
  };
}

/** Where one server keeps its files. */
export interface ServerFiles {
  /** The server's own directory (config, zones, keys, pid, control socket). */
  dir: string;
  /** The dnstap Unix socket, or null for no dnstap. */
  tap: string | null;
  /**
   * unbound and dnsdist only: send dnstap over TCP to this port on
   * 127.0.0.1 instead of to `tap` (which must then be non-null, any text).
   */
  tcp?: number;
  /**
   * unbound only: whether it opens with the bidirectional handshake
   * (`dnstap-bidirectional`).
   *
   * @default {true}
   */
  bidirectional?: boolean;
}

/**
 * knotd: example.test. signed online with NSEC (policy `nsec`), the reverse
 * zone unsigned, broken.test. configured without a zone file (Knot answers
 * SERVFAIL for it), AXFR allowed from loopback.
 */
export function knotConfig(p: Ports, f: ServerFiles): string {
  const tap = f.tap === null ? "" : `
mod-dnstap:
  - id: tap
    sink: "unix:${f.tap}"
    identity: "knot-capture"
    log-queries: on
    log-responses: on
`;
  return `server:
    rundir: "${f.dir}"
    listen: [ 127.0.0.1@${p.knot}, ::1@${p.knot} ]
    identity: "knot-capture"
    nsid: "knot-capture"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1

database:
    storage: "${f.dir}"

log:
  - target: stderr
    any: info

acl:
  - id: xfr
    address: [ 127.0.0.0/8, ::1 ]
    action: transfer
${tap}
policy:
  - id: nsec
    algorithm: ecdsap256sha256
    nsec3: off
    cds-cdnskey-publish: always
    reproducible-signing: on

template:
  - id: default
    storage: "${f.dir}"
    acl: xfr
    zonefile-sync: -1
${f.tap === null ? "" : "    global-module: mod-dnstap/tap\n"}
zone:
  - domain: example.test.
    file: "${f.dir}/example.test.zone"
    dnssec-signing: on
    dnssec-policy: nsec
  - domain: 2.0.192.in-addr.arpa.
    file: "${f.dir}/reverse.zone"
  - domain: broken.test.
    file: "${f.dir}/broken.test.zone"
`;
}

/**
 * named: nsec3.test. signed offline by dnssec-signzone with NSEC3, the
 * reverse zone unsigned, broken.test. without its zone file (SERVFAIL);
 * authoritative only, no validation (so no priming of the root's keys),
 * AXFR allowed from loopback, no limit on RRs per RRset (big60k has 220).
 */
export function bindConfig(p: Ports, f: ServerFiles): string {
  const tap = f.tap === null ? "" : `
    dnstap { all; };
    dnstap-output unix "${f.tap}";
    dnstap-identity "bind-capture";`;
  return `options {
    directory "${f.dir}";
    pid-file "${f.dir}/named.pid";
    session-keyfile "${f.dir}/session.key";
    managed-keys-directory "${f.dir}";
    listen-on port ${p.bind} { 127.0.0.1; };
    listen-on-v6 port ${p.bind} { ::1; };
    recursion no;
    dnssec-validation no;
    notify no;
    max-records-per-type 0;
    allow-transfer { 127.0.0.1; ::1; };
    version "bind-capture";
    server-id "bind-capture";${tap}
};
controls { };
zone "nsec3.test" { type primary; file "nsec3.test.signed"; };
zone "2.0.192.in-addr.arpa" { type primary; file "reverse.zone"; };
zone "broken.test" { type primary; file "broken.test.zone"; };
`;
}

/**
 * unbound: a resolver (iterator only, no validation) whose only way out is
 * stub zones: example.test., the reverse zone and broken.test. (SERVFAIL) to
 * Knot, nsec3.test. to BIND, lame.test. to Knot, which does not serve it
 * (REFUSED, so unbound answers SERVFAIL). Client queries for anything else
 * are refused locally, and "." is a stub to Knot too (which refuses it), so
 * nothing leaves the machine for the root servers.
 */
export function unboundConfig(p: Ports, f: ServerFiles): string {
  const tap = f.tap === null ? "" : `
dnstap:
    dnstap-enable: yes
${
    f.tcp === undefined
      ? `    dnstap-socket-path: "${f.tap}"`
      : `    dnstap-ip: 127.0.0.1@${f.tcp}\n    dnstap-tls: no`
  }
    dnstap-bidirectional: ${f.bidirectional === false ? "no" : "yes"}
    dnstap-send-identity: yes
    dnstap-send-version: yes
    dnstap-identity: "unbound-capture"
    dnstap-log-resolver-query-messages: yes
    dnstap-log-resolver-response-messages: yes
    dnstap-log-client-query-messages: yes
    dnstap-log-client-response-messages: yes
    dnstap-log-forwarder-query-messages: yes
    dnstap-log-forwarder-response-messages: yes
`;
  return `server:
    interface: 127.0.0.1@${p.unbound}
    interface: ::1@${p.unbound}
    port: ${p.unbound}
    username: ""
    chroot: ""
    directory: "${f.dir}"
    pidfile: "${f.dir}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    access-control: ::1 allow
    module-config: "iterator"
    hide-version: no
    version: "unbound-capture"
    identity: "unbound-capture"
    nsid: "ascii_unbound-capture"
    ede: yes
    local-zone: "." refuse
    local-zone: "example.test." transparent
    local-zone: "nsec3.test." transparent
    local-zone: "broken.test." transparent
    local-zone: "lame.test." transparent
    local-zone: "2.0.192.in-addr.arpa." transparent
remote-control:
    control-enable: no
stub-zone:
    name: "example.test."
    stub-addr: 127.0.0.1@${p.knot}
stub-zone:
    name: "2.0.192.in-addr.arpa."
    stub-addr: 127.0.0.1@${p.knot}
stub-zone:
    name: "nsec3.test."
    stub-addr: 127.0.0.1@${p.bind}
stub-zone:
    name: "broken.test."
    stub-addr: 127.0.0.1@${p.knot}
stub-zone:
    name: "lame.test."
    stub-addr: 127.0.0.1@${p.knot}
stub-zone:
    name: "."
    stub-addr: 127.0.0.1@${p.knot}
${tap}`;
}

/**
 * dnsdist: a frontend to Knot over UDP, TCP, DNS over TLS and DNS over HTTPS
 * (a self-signed certificate, cert.pem and key.pem in its directory), logging every query and response (including
 * the ones it answers itself) with DnstapLogAction / DnstapLogResponseAction
 * to a Frame Streams Unix logger; answers servfail.example.test. with
 * SERVFAIL, refused.example.test. with REFUSED and spoof.example.test. with
 * 192.0.2.99 itself.
 */
export function dnsdistConfig(p: Ports, f: ServerFiles): string {
  const tap = f.tap === null ? "" : `
fsl = ${
    f.tcp === undefined
      ? `newFrameStreamUnixLogger("${f.tap}")`
      : `newFrameStreamTcpLogger("127.0.0.1:${f.tcp}")`
  }
addAction(AllRule(), DnstapLogAction("dnsdist-capture", fsl))
addResponseAction(AllRule(), DnstapLogResponseAction("dnsdist-capture", fsl))
addSelfAnsweredResponseAction(AllRule(), DnstapLogResponseAction("dnsdist-capture", fsl))
`;
  return `setLocal("127.0.0.1:${p.dnsdist}")
addLocal("[::1]:${p.dnsdist}")
addTLSLocal("127.0.0.1:${p.dot}", "${f.dir}/cert.pem", "${f.dir}/key.pem")
addDOHLocal("127.0.0.1:${p.doh}", "${f.dir}/cert.pem", "${f.dir}/key.pem", "/dns-query")
setSecurityPollSuffix("")
newServer({address="127.0.0.1:${p.knot}", name="knot", checkName="example.test."})
${tap}
addAction(QNameRule("servfail.example.test."), RCodeAction(DNSRCode.SERVFAIL))
addAction(QNameRule("refused.example.test."), RCodeAction(DNSRCode.REFUSED))
addAction(QNameRule("spoof.example.test."), SpoofAction({"192.0.2.99"}))
`;
}
