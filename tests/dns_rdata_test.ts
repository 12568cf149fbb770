// rdataText against miekg/dns 1.1.50 (the Go `dnstap` tool as oracle): every
// type's hand-built rdata, each cut at every byte, with trailing bytes, and
// byte-exact vectors that run without the Go tool.
import assert from "node:assert/strict";
import { interopTest } from "./_peers.ts";
import { compareWithGo, ourLine, type RdataCase } from "./_dns_rdata.ts";
import { cat, name, PTR, seq, u16, u32, VALID } from "./_dns_rdata_vectors.ts";
import {
  hasRdataStruct,
  rdataLinePrefix,
  rdataText,
} from "../src/_dns_rdata.ts";
import { DnsMessageError, WireCursor } from "../src/_dns_wire.ts";
import { dnssecTime, goTime } from "../src/_dns_rdata_format.ts";

/** Every valid case, each prefix of it, and it with one or two bytes more. */
function derived(cases: readonly RdataCase[]): RdataCase[] {
  const out: RdataCase[] = [];
  for (const k of cases) {
    out.push(k);
    const n = Math.min(k.rdata.length, 130);
    for (let i = 0; i < n; i++) {
      out.push({
        ...k,
        note: `${k.note} cut ${i}`,
        rdata: k.rdata.slice(0, i),
      });
    }
    out.push({ ...k, note: `${k.note} +00`, rdata: cat(k.rdata, 0) });
    out.push({ ...k, note: `${k.note} +ff01`, rdata: cat(k.rdata, 0xff, 1) });
  }
  return out;
}

interopTest(
  "rdataText matches miekg/dns on every type, cut at every byte, with trailing bytes",
  ["dnstap"],
  async () => {
    const n = await compareWithGo(derived(VALID));
    assert.ok(n > 3000, `only ${n} cases`);
  },
);

function text(type: number, rdata: Uint8Array): string {
  const msg = cat(new Uint8Array(12), name("a."), rdata);
  const cur = new WireCursor();
  cur.off = 15;
  cur.end = msg.length;
  const s = rdataText(msg, type, cur);
  assert.equal(cur.off, cur.end, "stopped early");
  return s;
}

function error(type: number, rdata: Uint8Array): string {
  const msg = cat(new Uint8Array(12), name("a."), rdata);
  const cur = new WireCursor();
  cur.off = 15;
  cur.end = msg.length;
  try {
    rdataText(msg, type, cur);
  } catch (e) {
    assert.ok(e instanceof DnsMessageError);
    return e.goError;
  }
  return "no error";
}

Deno.test("rdataText prints the classic types as miekg/dns does", () => {
  // Table: type, rdata, miekg's text (checked against the Go tool).
  const table: [number, Uint8Array, string][] = [
    [1, Uint8Array.from([192, 0, 2, 1]), "192.0.2.1"],
    [28, cat(0x20, 0x01, 0x0d, 0xb8, new Uint8Array(11), 1), "2001:db8::1"],
    // An IPv4-mapped AAAA prints as dotted IPv4 (Go net.IP.String).
    [28, cat(new Uint8Array(10), 0xff, 0xff, 1, 2, 3, 4), "1.2.3.4"],
    // One zero group is not shortened.
    [
      28,
      cat(0, 1, 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7),
      "1:0:2:3:4:5:6:7",
    ],
    [15, cat(u16(10), name("mail.example.")), "10 mail.example."],
    // A pointer to the owner name.
    [2, cat(1, 0x78, PTR), "x.a."],
    // Cut after the preference: miekg stops there, the name stays "".
    [15, Uint8Array.from(u16(5)), "5 "],
    [16, cat(2, 0x22, 0x5c, 0, 1, 0xff), '"\\"\\\\" "" "\\255"'],
    [13, new Uint8Array(0), '"" ""'],
    [6, new Uint8Array(0), "  0 0 0 0 0"],
    [
      257,
      cat(0, 5, ...new TextEncoder().encode("issue\\065\\")),
      '0 issue "A"',
    ],
    [
      29,
      cat(0, 0x12, 0x16, 0x13, u32(2 ** 31), u32(2 ** 31 + 1), u32(10000001)),
      "00 00 0.000 S 00 00 0.001 E 0.01m 1m 10000m 10m",
    ],
    // cmToM with exponent 1 and mantissa 15: "0.150".
    [
      29,
      cat(0, 0xf1, 0, 0, u32(0), u32(0), u32(0)),
      "596 31 23.648 S 596 31 23.648 W -100000m 0.150m 0.00m 0.00m",
    ],
    [42, cat(u16(1), 24, 3, 192, 168, 32), "1:192.168.32.0/24"],
    [
      108,
      Uint8Array.from([0, 0x0a, 0xbc, 0xde, 0xf0, 0x12]),
      "00-0a-bc-de-f0-12",
    ],
    [
      104,
      cat(u16(10), 0, 0x14, 0x4f, 0xff, 0xfe, 0x12, 0x34, 0x5a),
      "10 0014:4fff:fe12:345a",
    ],
    [
      106,
      cat(u16(10), 0, 0x14, 0x4f, 0xff, 0xfe, 0x12, 0x34, 0x5a),
      "10 0014:4FFF:FE12:345A",
    ],
    [105, Uint8Array.from(u16(3)), "3"],
    [65280, Uint8Array.from([10, 0, 0, 1]), "\\# 4 0a000001"],
    [10, Uint8Array.from([0x68, 0, 0xff]), "h\x00\udcff"], // 0xff: not UTF-8, U+DC00 + byte
  ];
  for (const [type, rdata, want] of table) {
    assert.equal(text(type, rdata), want, `type ${type}`);
  }
});

Deno.test("rdataText prints the DNSSEC types as miekg/dns does", () => {
  const table: [number, Uint8Array, string][] = [
    [43, cat(u16(60485), 5, 1, 0xab, 0x0c), "60485 5 1 AB0C"],
    [48, cat(u16(257), 3, 8, 0xfb), "257 3 8 +w=="],
    [
      46,
      cat(u16(28), 8, 2, u32(3600), u32(0), u32(1), u16(1), 0, 1, 2),
      "AAAA 8 2 3600 19700101000000 19700101000001 1 . AQI=",
    ],
    [
      47,
      cat(0, 0, 6, 0x40, 0x01, 0, 0, 0, 0x03),
      ". A MX RRSIG NSEC",
    ],
    [
      50,
      cat(1, 1, u16(12), 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff),
      "1 1 12 - VVVVVVVV",
    ],
    // NSEC3 cut right after the salt length: miekg stops, salt "-".
    [50, cat(1, 1, u16(12), 4), "1 1 12 - "],
    [51, cat(1, 0, u16(10), 2, 0xab, 0xcd), "1 0 10 ABCD"],
    [52, cat(3, 1, 1, 0xab), "3 1 1 ab"],
    [37, cat(u16(1), u16(2), 8, 1), "PKIX 2 RSASHA256 AQ=="],
    [55, cat(1, 2, u16(1), 0xaa, 0xbb, 0), "2 aa uw== ."],
    [
      249,
      cat(0, u32(0), u32(1), u16(3), u16(0), u16(1), 0xab, u16(0)),
      " . 19700101000000 19700101000001 3 0 1 ab 0 ",
    ],
    [
      250,
      cat(0, 0, 0, 0, 0, 0, 1, u16(300), u16(1), 0xab, u16(7), u16(0), u16(0)),
      " . 19700101000001 300 1 AB 7 0 0 ",
    ],
    [
      64,
      cat(u16(1), 0, u16(1), u16(3), 2, 0x68, 0x32, u16(3), u16(2), u16(443)),
      '1 . alpn="h2" port="443"',
    ],
  ];
  for (const [type, rdata, want] of table) {
    assert.equal(text(type, rdata), want, `type ${type}`);
  }
  // 2^48 - 1 seconds: the year has seven digits, (Go does not cut it).
  assert.equal(goTime(2 ** 48 - 1), "89215561207104415");
  // RFC 1982 arithmetic moves a time only when it is 2^32 s ahead of now.
  assert.equal(dnssecTime(2 ** 32 - 1, 0), "21060207062815");
  assert.equal(dnssecTime(0, 2 ** 32 - 1), "19700101000000");
  assert.equal(dnssecTime(2 ** 32 + 5, 0), "20380119031413");
});

Deno.test("rdataText throws miekg/dns's errors", () => {
  const table: [number, Uint8Array, string][] = [
    [1, Uint8Array.from([1, 2, 3]), "dns: overflow unpacking a"],
    [28, seq(15), "dns: overflow unpacking aaaa"],
    [15, Uint8Array.from([0]), "dns: overflow unpacking uint16"],
    [16, Uint8Array.from([3, 0x61]), "dns: overflow unpacking txt"],
    [2, Uint8Array.from([3, 0x61]), "dns: buffer size too small"],
    [
      47,
      cat(0, 1, 1, 0x40, 0, 1, 0x40),
      "dns: out of order NSEC(3) block in type bitmap",
    ],
    [50, cat(1, 0, u16(0), 2, 0xab, 0xcd), "dns: overflow unpacking uint8"],
    [50, cat(1, 0, u16(0), 0, 3, 1), "dns: overflow unpacking base32"],
    [55, cat(2, 0, u16(0), 1), "dns: overflow unpacking hex"],
    [42, cat(u16(1), 8, 2, 10, 0), "dns: extra APL address bits"],
    [64, cat(u16(1), 0, u16(65535), u16(0)), "dns: bad SVCB key"],
    [
      65,
      cat(
        u16(1),
        0,
        u16(6),
        u16(16),
        new Uint8Array(10),
        0xff,
        0xff,
        1,
        2,
        3,
        4,
      ),
      "dns: svcbipv6hint: expected ipv6, got ipv4",
    ],
    [250, cat(0, 0, 0, 0), "dns: overflow unpacking uint64 as uint48"],
  ];
  for (const [type, rdata, want] of table) {
    assert.equal(error(type, rdata), want, `type ${type}`);
  }
});

Deno.test("rdataText leaves the cursor where miekg/dns stops", () => {
  // ANY reads nothing: its rdata is a bad rdlength for the caller.
  assert.equal(
    ourLine(255, Uint8Array.from([1])),
    "parse failed: dns: bad rdlength",
  );
  // An A with a fifth byte.
  assert.equal(
    ourLine(1, Uint8Array.from([1, 2, 3, 4, 5])),
    "parse failed: dns: bad rdlength",
  );
});

Deno.test("hasRdataStruct and rdataLinePrefix follow miekg/dns's TypeToRR and String()", () => {
  assert.equal(hasRdataStruct(1), true);
  assert.equal(hasRdataStruct(41), true);
  assert.equal(hasRdataStruct(255), true);
  assert.equal(hasRdataStruct(20), false); // ISDN has a name, no struct
  assert.equal(hasRdataStruct(65280), false);
  assert.equal(rdataLinePrefix(10), ";");
  assert.equal(rdataLinePrefix(249), ";");
  assert.equal(rdataLinePrefix(250), "\n;; TSIG PSEUDOSECTION:\n; ");
  assert.equal(rdataLinePrefix(1), "");
});
