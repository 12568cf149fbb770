// The Go-compatible dnstap formats, in process:
//
// - "dnstap formats": typical records (an unbound-like CLIENT_QUERY and
//   CLIENT_RESPONSE), per record; the records' seconds advance every 1000
//   records as in a real capture. YAML and JSON include the DNS message text
//   (src/_dns_text.ts); each response carries its DNS message.
// - "real records": the first 2,588 records of bench/data/dnstap_real.fstrm
//   (twice the four real-server captures it repeats: knot, bind, unbound,
//   dnsdist; DNSSEC answers, 58 KB TXT answers, EDNS options), when the
//   file is there (`deno task bench:dnstap-data`): decoded and printed as
//   the CLI does, and into bytes as its output buffer does (encodeInto), with
//   decoding alone as the baseline.
//
//   deno bench --allow-read bench/dnstap_format_bench.ts
import {
  decodeDnstap,
  type Dnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
} from "../src/dnstap.ts";
import { DNSTAP_REAL_PATH } from "./make_dnstap_data.ts";

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

/** The payloads of the first `n` data frames of a Frame Streams file. */
async function firstFrames(path: string, n: number): Promise<Uint8Array[]> {
  const file = await Deno.open(path);
  try {
    const buf = new Uint8Array(8 << 20);
    let got = 0;
    while (got < buf.length) {
      const r = await file.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    const view = new DataView(buf.buffer);
    const frames: Uint8Array[] = [];
    let off = 0;
    while (frames.length < n && off + 4 <= got) {
      const len = view.getUint32(off);
      if (len === 0) { // a control frame: escape, length, the frame
        off += 8 + view.getUint32(off + 4);
        continue;
      }
      if (off + 4 + len > got) break;
      frames.push(buf.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    return frames;
  } finally {
    file.close();
  }
}

const REAL: Uint8Array[] = await Deno.stat(DNSTAP_REAL_PATH).then(
  () => firstFrames(DNSTAP_REAL_PATH, 2 * 1294),
  () => [],
);
const OUT = new Uint8Array(16 << 20);
const ENCODER = new TextEncoder();

if (REAL.length > 0) {
  Deno.bench({
    name: `decodeDnstap, ${REAL.length} real records`,
    group: "real records",
    baseline: true,
    fn() {
      let n = 0;
      for (const f of REAL) n += decodeDnstap(f).message === undefined ? 0 : 1;
      if (n === 0) throw new Error("no messages");
    },
  });
  for (
    const [name, f] of [
      ["quiet (-q)", formatDnstapQuiet],
      ["YAML (-y)", formatDnstapYaml],
      ["JSON (-j)", formatDnstapJson],
    ] as const
  ) {
    Deno.bench({
      name: `decode + ${name}, ${REAL.length} real records`,
      group: "real records",
      fn() {
        let n = 0;
        for (const r of REAL) n += f(decodeDnstap(r))!.length;
        if (n === 0) throw new Error("nothing printed");
      },
    });
    Deno.bench({
      name: `decode + ${name} + encodeInto, ${REAL.length} real records`,
      group: "real records",
      fn() {
        let p = 0;
        for (const r of REAL) {
          const text = f(decodeDnstap(r))!;
          if (p + 3 * text.length > OUT.length) p = 0;
          p += ENCODER.encodeInto(text, OUT.subarray(p)).written;
        }
        if (p === 0) throw new Error("nothing printed");
      },
    });
  }
}
