// formatDnstapQuiet / formatDnstapYaml / formatDnstapJson against the Go
// dnstap tool itself (golang-dnstap 0.4): a table of records covering every
// field present and absent, every enum value and unknown numbers, hostile
// identity bytes, every address length, time boundaries and query zones.
// The concatenation of our per-record texts must equal the tool's stdout,
// byte for byte.
import assert from "node:assert/strict";
import type {
  Dnstap,
  DnstapMessage,
  DnstapSocketFamily,
  DnstapSocketProtocol,
} from "../src/dnstap.ts";
import { interopTest } from "./_peers.ts";
import { firstDiff, FORMATS, goRun, ourRun } from "./_go_format.ts";
import type { GoFormat } from "./_go_dnstap.ts";
import { MESSAGE_TYPES } from "./_dnstap_vectors.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** A wire-format name from labels. */
function wireName(...labels: (string | number[])[]): number[] {
  const out: number[] = [];
  for (const l of labels) {
    const b = typeof l === "string" ? [...enc(l)] : l;
    out.push(b.length, ...b);
  }
  out.push(0);
  return out;
}

/** A DNS message: header and questions only. */
function dns(
  id: number,
  flags: number,
  questions: number[][],
  qdcount = questions.length,
): Uint8Array {
  return new Uint8Array([
    id >> 8,
    id & 255,
    flags >> 8,
    flags & 255,
    0,
    qdcount,
    0,
    0,
    0,
    0,
    0,
    0,
    ...questions.flat(),
  ]);
}
const q = (name: number[], type: number, cls: number): number[] => [
  ...name,
  type >> 8,
  type & 255,
  cls >> 8,
  cls & 255,
];

const QUERY = dns(0x1234, 0x0100, [q(wireName("example", "test"), 6, 1)]);
const RESPONSE = dns(0xbeef, 0x8583, [q(wireName("www", "example"), 1, 1)]);
/** The message kinds the placeholder DNS printer and the Go tool agree on. */
const MESSAGES: Uint8Array[] = [
  QUERY,
  RESPONSE,
  dns(0, 0xfff0, []), // header only, every flag, opcode 15
  dns(1, 0, [q(wireName(), 65280, 3)]), // root, TYPE65280, CH
  dns(2, 0x2800, [q(wireName("a b", '"q"', "\\"), 255, 254)]), // escapes
  dns(3, 0, [q(wireName([0, 0xff, 0x7f]), 28, 4)]), // \DDD bytes
  dns(4, 0, [q(wireName("x"), 1, 1), q(wireName("y"), 2, 1)]),
  dns(5, 0, [q(wireName("x"), 1, 1)], 3), // qdcount lies
  dns(6, 0, [wireName("cut")]), // question without type and class
  dns(7, 0, [[...wireName("half"), 0]]), // half a type
  dns(8, 0, [[...wireName("t"), 0, 1]]), // type, no class
  dns(9, 0, [[3, 0x61]]), // cut name
  dns(10, 0, [[0xc0, 12]]), // pointer loop
  dns(11, 0, [[0x40]]), // reserved label type
  bytes(1, 2, 3), // cut header
  bytes(),
];

const IDENTITIES: Uint8Array[] = [
  bytes(),
  enc("resolver-1"),
  enc('say "hi" \\ there'),
  bytes(0, 7, 8, 9, 10, 11, 12, 13, 0x1b, 0x7f, 0x20),
  bytes(0xff, 0xfe, 0xc3, 0x41, 0xed, 0xa0, 0x80, 0xc0, 0x80, 0xf4, 0x90),
  bytes(0xe2, 0x82), // cut rune at the end
  enc("<a href='x'>&amp;</a>"),
  enc("\u2028\u2029\u00a0\u00ad\u0085\ue000\u{10ffff}\u{e0001}"),
  enc("h\u00e9llo w\u00f6rld \u{1f600} \u65e5\u672c \u0301"),
  enc("x".repeat(3000)),
  enc("\u{1f1e6}\u200b\u200d\ufeff\ufffd\ufff9"),
];

const ZONES: Uint8Array[] = [
  bytes(...wireName("example", "test")),
  bytes(0),
  bytes(...wireName('a"b', "c\\d", "e f", [0xff, 1])),
  bytes(...wireName("zone"), 9, 9, 9), // trailing bytes
  bytes(3, 0x61, 0x62), // cut
  bytes(0xc0, 0x00), // loop
  bytes(0x80, 1),
  bytes(),
  bytes(...wireName(...new Array(60).fill("abc"))), // too long
];

const ADDRESSES: Uint8Array[] = [
  bytes(127, 0, 0, 1),
  bytes(0, 0, 0, 0),
  bytes(255, 255, 255, 255),
  new Uint8Array(16),
  bytes(...new Array(15).fill(0), 1),
  bytes(0x20, 1, 0xd, 0xb8, ...new Array(12).fill(0)),
  bytes(...new Array(10).fill(0), 255, 255, 192, 0, 2, 1), // IPv4-mapped
  bytes(...new Array(10).fill(0), 255, 254, 192, 0, 2, 1),
  bytes(0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), // 1:0:0:1::1
  bytes(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
  bytes(0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0), // one-group zeros
  bytes(...Array.from({ length: 16 }, (_, i) => i * 17)),
  bytes(), // "<nil>" / ""
];
/** Lengths net.IP prints as "?hex" and json.Marshal refuses. */
const BAD_ADDRESSES: Uint8Array[] = [bytes(1, 2, 3), new Uint8Array(17)];

const TIMES: [number | bigint | undefined, number | undefined][] = [
  [0, 0],
  [1_764_094_866, 240_151_000],
  [1_764_094_866, 1],
  [1_764_094_866, 999_999_999],
  [1_764_094_866, 1_000_000_000], // carries a second
  [1_764_094_866, 4_294_967_295], // carries 4 seconds
  [86399, 100],
  [951_782_400, 0], // 2000-02-29
  [253_402_300_799, 0], // 9999-12-31 23:59:59
  [253_402_300_800, 0], // year 10000
  [2 ** 31, 0],
  [2 ** 32, 500],
  [Number.MAX_SAFE_INTEGER, 999_999_999],
  [2n ** 53n, 0],
  [2n ** 63n - 1n, 999_999_999], // int64 max, + carry wraps
  [2n ** 63n - 1n, 1_000_000_000],
  [2n ** 63n, 0], // wraps to int64 min
  [2n ** 63n + 10n ** 12n, 0],
  [2n ** 64n - 1n, 0], // -1
  [2n ** 64n - 62_135_596_800n, 0], // 0001-01-01
  [2n ** 64n - 62_135_596_801n, 0], // year 0
  [2n ** 64n - 10n ** 13n, 7], // negative years
  [1_764_094_866, undefined],
  [undefined, 240_151_000],
  [undefined, undefined],
];

/** Records covering the fields; each prints in all three formats. */
function tableRecords(): Dnstap[] {
  const out: Dnstap[] = [];
  const base: DnstapMessage = {
    type: "CLIENT_QUERY",
    socketFamily: "INET",
    socketProtocol: "UDP",
    queryAddress: bytes(192, 0, 2, 1),
    responseAddress: bytes(192, 0, 2, 53),
    queryPort: 53000,
    responsePort: 53,
    queryTimeSec: 1_764_094_866,
    queryTimeNsec: 240_151_000,
    responseTimeSec: 1_764_094_867,
    responseTimeNsec: 5_000,
    queryMessage: QUERY,
    responseMessage: RESPONSE,
  };
  const rec = (m: Partial<DnstapMessage>, d: Partial<Dnstap> = {}): void => {
    out.push({
      type: "MESSAGE",
      identity: enc("id"),
      version: enc("v1"),
      ...d,
      message: { ...base, ...m } as DnstapMessage,
    });
  };
  // Every message type, known and unknown, with everything set.
  for (const t of [...MESSAGE_TYPES, 0, 15, -1, 2 ** 31 - 1, 3]) {
    rec({ type: t });
  }
  // Nothing but the type.
  for (const t of MESSAGE_TYPES) {
    out.push({ type: "MESSAGE", message: { type: t } });
  }
  // Each field absent in turn.
  for (const k of Object.keys(base)) {
    if (k === "type") continue;
    for (const t of ["CLIENT_QUERY", "CLIENT_RESPONSE", "RESOLVER_QUERY"]) {
      const m = { ...base, type: t } as Record<string, unknown>;
      delete m[k];
      out.push({ type: "MESSAGE", message: m as unknown as DnstapMessage });
    }
  }
  const families: DnstapSocketFamily[] = ["INET", "INET6", 3, 0, -5];
  for (const f of families) rec({ socketFamily: f });
  const protocols: DnstapSocketProtocol[] = [
    "UDP",
    "TCP",
    "DOT",
    "DOH",
    "DNSCryptUDP",
    "DNSCryptTCP",
    "DOQ",
    99,
    0,
    1,
  ];
  for (const p of protocols) {
    rec({ socketProtocol: p });
    rec({ socketProtocol: p, type: "RESOLVER_RESPONSE" });
  }
  for (const port of [0, 1, 65535, 4_294_967_295]) {
    rec({ queryPort: port, responsePort: port });
  }
  for (const id of IDENTITIES) rec({}, { identity: id, version: id });
  out.push({ type: "MESSAGE", message: base }); // no identity nor version
  for (const a of ADDRESSES) {
    rec({ queryAddress: a });
    rec({ responseAddress: a, type: "FORWARDER_QUERY" });
  }
  for (const z of ZONES) rec({ queryZone: z, type: "RESOLVER_QUERY" });
  for (const msg of MESSAGES) {
    rec({ queryMessage: msg });
    rec({ responseMessage: msg, type: "AUTH_RESPONSE" });
  }
  for (const [sec, nsec] of TIMES) {
    for (const t of ["CLIENT_QUERY", "UPDATE_RESPONSE"]) {
      const m: Record<string, unknown> = {
        ...base,
        type: t,
        queryTimeSec: sec,
        queryTimeNsec: nsec,
        responseTimeSec: sec,
        responseTimeNsec: nsec,
      };
      for (const k of Object.keys(m)) if (m[k] === undefined) delete m[k];
      out.push({ type: "MESSAGE", message: m as unknown as DnstapMessage });
    }
  }
  // Known enum values given as numbers print as their names.
  rec({ type: 5, socketFamily: 2, socketProtocol: 4 }, { type: 1 });
  return out;
}

/** Records after which the tool prints nothing more, per format. */
const STOPPERS: [string, Dnstap, GoFormat[]][] = [
  ["an unknown Dnstap.type", {
    type: 2,
    identity: enc("i"),
    message: { type: "CLIENT_QUERY" },
  }, ["-q"]],
  ["MESSAGE without a message (the tool crashes)", {
    type: "MESSAGE",
    identity: enc("i"),
  }, ["-q", "-y", "-j"]],
  ["an unknown Dnstap.type without a message", { type: 9 }, ["-q", "-j"]],
  ...BAD_ADDRESSES.map((a): [string, Dnstap, GoFormat[]] => [
    `a ${a.length}-byte address`,
    {
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryAddress: a, responseAddress: a },
    },
    ["-j"],
  ]),
];

async function compare(records: Dnstap[], flag: GoFormat): Promise<void> {
  // The tool runs in our time zone (the quiet format's clock is local).
  const go = await goRun(records, flag);
  const ours = ourRun(records, flag);
  assert.ok(ours === go.out, firstDiff(ours, go.out));
}

for (const flag of ["-q", "-y", "-j"] as const) {
  interopTest(`format ${flag} equals dnstap ${flag} on the table of records`, [
    "dnstap",
  ], async () => {
    const records = tableRecords();
    assert.ok(records.length > 200, `${records.length} records`);
    await compare(records, flag);
  });

  interopTest(`format ${flag} stops where dnstap ${flag} stops`, [
    "dnstap",
  ], async () => {
    const good = tableRecords().slice(0, 3);
    for (const [what, stopper, stops] of STOPPERS) {
      const records = [...good, stopper, ...good];
      const ours = ourRun(records, flag);
      const go = await goRun(records, flag);
      assert.ok(ours === go.out, `${what}: ${firstDiff(ours, go.out)}`);
      // null exactly where the tool stops.
      assert.equal(FORMATS[flag](stopper) === null, stops.includes(flag), what);
    }
  });
}
