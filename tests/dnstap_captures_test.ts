// The real-server captures of tests/data/dnstap/ (Knot, BIND, unbound,
// dnsdist; made by tools/captures/make.ts, described in its README.md): every
// frame decodes, the counts are the README's, every message carries what its
// type promises, and the Go dnstap tool reads each file whole.
import assert from "node:assert/strict";
import { decodeFrames, DNSTAP_CONTENT_TYPE } from "../mod.ts";
import { decodeDnstap, type DnstapMessage } from "../src/dnstap.ts";
import { typeName } from "../src/_dns_names.ts";
import { recordTypes } from "../tools/captures/_summary.ts";
import { goDnstapFile } from "./_go_dnstap.ts";
import { interopTest } from "./_peers.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);

/** What each capture holds: tests/data/dnstap/README.md's table. */
interface Expected {
  bytes: number;
  types: Record<string, number>;
  identity: string;
  version: string;
  largestFrame: number;
  /** Data frames per socket family and protocol. */
  sockets: Record<string, number>;
  /** RR types of the union (see README) this capture lacks. */
  lacks: string[];
}

const EXPECTED: Record<string, Expected> = {
  knot: {
    bytes: 253_664,
    types: { AUTH_QUERY: 133, AUTH_RESPONSE: 133 },
    identity: "knot-capture",
    version: "Knot DNS 3.2.6",
    largestFrame: 57_985,
    sockets: {
      "INET/UDP": 138,
      "INET/TCP": 124,
      "INET6/TCP": 2,
      "INET6/UDP": 2,
    },
    lacks: ["NSEC3", "NSEC3PARAM"],
  },
  bind: {
    bytes: 187_886,
    types: { AUTH_QUERY: 132, CLIENT_RESPONSE: 130, AUTH_RESPONSE: 2 },
    identity: "bind-capture",
    version: "BIND 9.18.49-1~deb12u3-Debian",
    largestFrame: 58_026,
    sockets: {
      "INET/UDP": 137,
      "INET/TCP": 123,
      "INET6/UDP": 2,
      "INET6/TCP": 2,
    },
    lacks: ["NSEC"],
  },
  unbound: {
    bytes: 298_012,
    types: {
      CLIENT_QUERY: 131,
      RESOLVER_QUERY: 114,
      RESOLVER_RESPONSE: 114,
      CLIENT_RESPONSE: 130,
    },
    identity: "unbound-capture",
    version: "unbound 1.17.1",
    largestFrame: 58_123,
    sockets: {
      "INET/UDP": 361,
      "INET/TCP": 124,
      "INET6/UDP": 2,
      "INET6/TCP": 2,
    },
    lacks: ["NSEC3", "NSEC3PARAM"],
  },
  dnsdist: {
    bytes: 181_403,
    types: { CLIENT_QUERY: 138, CLIENT_RESPONSE: 137 },
    identity: "dnsdist-capture",
    version: "dnsdist 1.7.3",
    largestFrame: 57_998,
    sockets: {
      "INET/UDP": 142,
      "INET/TCP": 119,
      "INET6/UDP": 2,
      "INET6/TCP": 2,
      "INET/DOT": 4,
      "INET/DOH": 6,
    },
    lacks: ["NSEC3", "NSEC3PARAM"],
  },
};

/** The RR types of all four captures together (README: 42 of them). */
const ALL_RR_TYPES = [
  "A",
  "NS",
  "CNAME",
  "SOA",
  "PTR",
  "HINFO",
  "MX",
  "TXT",
  "RP",
  "AFSDB",
  "AAAA",
  "LOC",
  "SRV",
  "NAPTR",
  "KX",
  "CERT",
  "DNAME",
  "OPT",
  "APL",
  "DS",
  "SSHFP",
  "RRSIG",
  "NSEC",
  "DNSKEY",
  "DHCID",
  "NSEC3",
  "NSEC3PARAM",
  "TLSA",
  "SMIMEA",
  "CDS",
  "CDNSKEY",
  "OPENPGPKEY",
  "CSYNC",
  "ZONEMD",
  "SVCB",
  "HTTPS",
  "SPF",
  "EUI48",
  "EUI64",
  "URI",
  "CAA",
  "TYPE65400",
];

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b);

/** Checks what a message's type says it carries; returns its RR types. */
function checkMessage(m: DnstapMessage, where: string): number[] {
  const type = String(m.type);
  assert.match(type, /^[A-Z]+_(QUERY|RESPONSE)$/, where);
  assert.ok(m.socketFamily === "INET" || m.socketFamily === "INET6", where);
  assert.ok(
    ["UDP", "TCP", "DOT", "DOH"].includes(String(m.socketProtocol)),
    where,
  );
  const addrLength = m.socketFamily === "INET" ? 4 : 16;
  assert.equal(m.queryAddress?.length, addrLength, where);
  assert.equal(m.responseAddress?.length, addrLength, where);
  assert.ok(m.queryPort !== undefined && m.responsePort !== undefined, where);
  if (type.endsWith("_QUERY")) {
    // A query carries the query and its time, never a response.
    assert.ok(
      m.queryMessage !== undefined && m.queryMessage.length >= 12,
      where,
    );
    assert.ok(m.queryTimeSec !== undefined, where);
    assert.equal(m.responseMessage, undefined, where);
    return [];
  }
  // A response carries the response and its time, never the query.
  assert.ok(m.responseMessage !== undefined, where);
  assert.ok(m.responseMessage.length >= 12, where);
  assert.ok(m.responseTimeSec !== undefined, where);
  assert.equal(m.queryMessage, undefined, where);
  // The QR bit is set in every response.
  assert.equal(m.responseMessage[2]! & 0x80, 0x80, where);
  return recordTypes(m.responseMessage);
}

for (const [name, want] of Object.entries(EXPECTED)) {
  Deno.test(`decodeDnstap decodes every frame of the ${name} capture`, async () => {
    const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
    assert.equal(bytes.length, want.bytes);
    const frames = decodeFrames(bytes);
    // fstrm_capture's file: START with the dnstap content type, STOP.
    const first = frames[0]!;
    const last = frames[frames.length - 1]!;
    assert.ok(first.kind === "control" && first.type === 2);
    assert.deepEqual(first.contentTypes.map((c) => text(c)), [
      DNSTAP_CONTENT_TYPE,
    ]);
    assert.ok(last.kind === "control" && last.type === 3);
    const data = frames.slice(1, -1);
    const types: Record<string, number> = {};
    const sockets: Record<string, number> = {};
    const rr = new Set<string>();
    let largest = 0;
    for (const frame of data) {
      assert.equal(frame.kind, "data", `frame at ${frame.offset}`);
      if (frame.kind !== "data") continue;
      largest = Math.max(largest, frame.data.length);
      const d = decodeDnstap(frame.data);
      assert.equal(d.type, "MESSAGE");
      assert.equal(text(d.identity), want.identity);
      assert.equal(text(d.version), want.version);
      assert.ok(d.message !== undefined);
      const t = String(d.message.type);
      types[t] = (types[t] ?? 0) + 1;
      const k = `${d.message.socketFamily}/${d.message.socketProtocol}`;
      sockets[k] = (sockets[k] ?? 0) + 1;
      for (const n of checkMessage(d.message, `frame at ${frame.offset}`)) {
        rr.add(typeName(n));
      }
    }
    assert.deepEqual(types, want.types);
    assert.deepEqual(sockets, want.sockets);
    assert.equal(largest, want.largestFrame);
    assert.deepEqual(
      [...rr].sort(),
      ALL_RR_TYPES.filter((t) => !want.lacks.includes(t)).sort(),
    );
  });

  interopTest(
    `dnstap -r reads the ${name} capture whole with -y, -q and -j`,
    ["dnstap"],
    async () => {
      const path = decodeURIComponent(new URL(`${name}.fstrm`, DIR).pathname);
      const messages = Object.values(want.types).reduce((a, b) => a + b, 0);
      // YAML: one "---" line after each record.
      const yaml = await goDnstapFile(path, "-y");
      assert.equal(
        yaml.split("\n").filter((l) => l === "---").length,
        messages,
      );
      assert.equal(
        yaml.split("\n").filter((l) => l === "type: MESSAGE").length,
        messages,
      );
      // Real servers' messages: miekg/dns unpacks every one.
      assert.ok(!yaml.includes("parse failed"));
      // Quiet text and JSON: one line per message.
      const quiet = await goDnstapFile(path, "-q");
      assert.equal(quiet.split("\n").length - 1, messages);
      const json = await goDnstapFile(path, "-j");
      const lines = json.split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, messages);
      const identities = new Set(lines.map((l) => JSON.parse(l).identity));
      assert.deepEqual([...identities], [want.identity]);
    },
  );
}
