// The Go-compatible dnstap formats on typical records (an unbound-like
// CLIENT_QUERY and CLIENT_RESPONSE), per record; the records' seconds
// advance every 1000 records as in a real capture. YAML and JSON include
// the DNS message text (src/_dns_text.ts); each response carries its DNS
// message.
import {
  type Dnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
} from "../src/dnstap.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const QUERY = new Uint8Array([
  0x6c,
  0xd8,
  0x01,
  0x20,
  0,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  7,
  ...enc("example"),
  4,
  ...enc("test"),
  0,
  0,
  6,
  0,
  1,
]);

// The response: the query with qr and ra set (header and question only).
const RESPONSE = QUERY.slice();
RESPONSE[2] = 0x81;
RESPONSE[3] = 0xa0;

/** 1000 records per second, alternating query and response. */
function records(n: number): Dnstap[] {
  const out: Dnstap[] = [];
  for (let i = 0; i < n; i++) {
    const sec = 1_764_094_866 + Math.floor(i / 1000);
    const nsec = (i % 1000) * 997_000;
    out.push({
      type: "MESSAGE",
      identity: enc("resolver-1"),
      version: enc("unbound 1.17.1"),
      message: {
        type: i % 2 ? "CLIENT_RESPONSE" : "CLIENT_QUERY",
        socketFamily: "INET",
        socketProtocol: "UDP",
        queryAddress: new Uint8Array([127, 0, 0, 1]),
        responseAddress: new Uint8Array([127, 0, 0, 1]),
        queryPort: 40_000 + (i % 20_000),
        responsePort: 53,
        queryTimeSec: sec,
        queryTimeNsec: nsec,
        queryMessage: QUERY,
        ...(i % 2
          ? {
            responseTimeSec: sec,
            responseTimeNsec: nsec + 1000,
            responseMessage: RESPONSE,
          }
          : {}),
      },
    });
  }
  return out;
}

const RECORDS = records(10_000);

for (
  const [name, f] of [
    ["quiet (-q)", formatDnstapQuiet],
    ["YAML (-y)", formatDnstapYaml],
    ["JSON (-j)", formatDnstapJson],
  ] as const
) {
  Deno.bench({
    name: `${name}, 10,000 records`,
    group: "dnstap formats",
    baseline: name.startsWith("quiet"),
    fn() {
      let n = 0;
      for (const r of RECORDS) n += f(r)!.length;
      if (n === 0) throw new Error("nothing printed");
    },
  });
}
