// The allow-list, the per-source key and the refusal rate limit, without
// sockets (src/_allow_list.ts); over real sockets: frame_receiver_allow_test.ts.
import assert from "node:assert/strict";
import {
  AllowList,
  parseIp,
  parseNetwork,
  REFUSAL_SOURCES,
  RefusalLog,
  sourceOf,
} from "../src/_allow_list.ts";

const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("parseIp reads IPv4, IPv6 and IPv4-mapped IPv6 into 16 bytes", () => {
  const cases: [string, string | null, boolean][] = [
    // IPv4 becomes ::ffff:a.b.c.d
    ["10.1.2.3", "00000000000000000000ffff0a010203", true],
    ["::1", "00000000000000000000000000000001", false],
    ["::", "00000000000000000000000000000000", false],
    ["2001:db8::", "20010db8000000000000000000000000", false],
    ["2001:db8:0:0:1:0:0:1", "20010db8000000000001000000000001", false],
    ["fe80::1%eth0", "fe800000000000000000000000000001", false],
    // a mapped address, written either way, is IPv4
    ["::ffff:10.1.2.3", "00000000000000000000ffff0a010203", true],
    ["::ffff:a01:203", "00000000000000000000ffff0a010203", true],
    // ::10.1.2.3 (IPv4-compatible, deprecated) is not mapped
    ["::10.1.2.3", "0000000000000000000000000a010203", false],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008", false],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000", false],
    // not addresses
    ["256.1.1.1", null, false],
    ["01.1.1.1", null, false],
    ["1.1.1", null, false],
    ["1:2:3:4:5:6:7:8:9", null, false],
    ["1:2:3:4:5:6:7", null, false],
    ["1::2::3", null, false],
    ["12345::", null, false],
    ["1.2.3.4::", null, false], // a dotted tail must end the address
    ["::1.2.3", null, false],
    ["localhost", null, false],
    ["", null, false],
  ];
  for (const [text, bytes, v4] of cases) {
    const ip = parseIp(text);
    assert.equal(ip === null ? null : hex(ip.bytes), bytes, text);
    if (ip !== null) assert.equal(ip.v4, v4, text);
  }
});

Deno.test("parseNetwork takes networks and single addresses, refuses the rest", () => {
  assert.equal(parseNetwork("10.0.0.0/8").bits, 104);
  assert.equal(parseNetwork("127.0.0.1").bits, 128);
  assert.equal(parseNetwork("2001:db8::/32").bits, 32);
  assert.equal(parseNetwork("::1").bits, 128);
  assert.equal(parseNetwork("0.0.0.0/0").bits, 96);
  assert.equal(parseNetwork("::/0").bits, 0);
  for (
    const bad of [
      "10.0.0.0/33",
      "::/129",
      "10.0.0.0/",
      "10.0.0.0/08",
      "10.0.0/8",
      "example.com",
      "fe80::1%eth0",
      "",
    ]
  ) {
    assert.throws(
      () => parseNetwork(bad),
      (e: unknown) =>
        e instanceof TypeError && e.message.includes(`got '${bad}'`),
      bad,
    );
  }
});

Deno.test("AllowList matches peers by prefix, IPv4-mapped peers as IPv4", () => {
  const list = new AllowList(["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]);
  const cases: [string, boolean][] = [
    ["10.0.0.1", true],
    ["10.255.255.255", true],
    ["11.0.0.1", false],
    ["127.0.0.1", true],
    ["127.0.0.2", false],
    ["::ffff:10.9.8.7", true], // a dual-stack listener's IPv4 peer
    ["::ffff:127.0.0.1", true],
    ["::ffff:127.0.0.2", false],
    ["::10.9.8.7", false], // IPv4-compatible is not mapped
    ["2001:db8::1", true],
    ["2001:db8:ffff::1", true],
    ["2001:db9::1", false],
    ["::1", false],
    ["", false], // no address (a Unix peer)
  ];
  for (const [peer, allowed] of cases) {
    assert.equal(list.allows(peer), allowed, peer);
  }
  // Prefixes not on a byte boundary.
  const odd = new AllowList(["192.168.4.0/22", "2001:db8:8000::/33"]);
  assert.equal(odd.allows("192.168.7.255"), true);
  assert.equal(odd.allows("192.168.8.0"), false);
  assert.equal(odd.allows("192.168.3.255"), false);
  assert.equal(odd.allows("2001:db8:8000::1"), true);
  assert.equal(odd.allows("2001:db8:7fff::1"), false);
  // The mapped form of an IPv4 network is the same network.
  assert.equal(new AllowList(["::ffff:10.0.0.0/104"]).allows("10.1.1.1"), true);
  // An IPv4 /0 is every IPv4 peer and no IPv6 one.
  const v4 = new AllowList(["0.0.0.0/0"]);
  assert.equal(v4.allows("203.0.113.9"), true);
  assert.equal(v4.allows("::1"), false);
  // Empty: nobody.
  assert.equal(new AllowList([]).allows("127.0.0.1"), false);
});

Deno.test("sourceOf writes an IPv4-mapped peer as IPv4 and drops a zone", () => {
  assert.equal(sourceOf("::ffff:10.1.2.3"), "10.1.2.3");
  assert.equal(sourceOf("10.1.2.3"), "10.1.2.3");
  assert.equal(sourceOf("fe80::1%eth0"), "fe80::1");
  assert.equal(sourceOf("::1"), "::1");
  assert.equal(sourceOf(""), "");
});

Deno.test("RefusalLog reports a source once per interval, with the count held back", () => {
  const log = new RefusalLog(60_000);
  assert.equal(log.refused("10.0.0.1", 0), 1);
  assert.equal(log.refused("10.0.0.1", 1_000), 0);
  assert.equal(log.refused("10.0.0.1", 59_999), 0);
  // Another source is reported on its own.
  assert.equal(log.refused("10.0.0.2", 30_000), 1);
  // A minute after the last report: this one and the two held back.
  assert.equal(log.refused("10.0.0.1", 60_000), 3);
  assert.equal(log.refused("10.0.0.1", 60_001), 0);
  assert.equal(log.refused("10.0.0.2", 90_000), 1);
});

Deno.test("RefusalLog forgets the oldest source beyond its bound", () => {
  const log = new RefusalLog(60_000);
  assert.equal(log.refused("first", 0), 1);
  for (let i = 1; i < REFUSAL_SOURCES; i++) log.refused(`s${i}`, 0);
  // Still remembered: quiet (a refusal held back does not make it newer).
  assert.equal(log.refused("first", 1), 0);
  // One more source pushes out the oldest report, "first": it is reported
  // again (with the refusal held back), and "s1" is still remembered.
  log.refused("new", 2);
  assert.equal(log.refused("s1", 3), 0);
  assert.equal(log.refused("first", 3), 1);
});
