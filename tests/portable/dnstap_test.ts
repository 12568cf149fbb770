// Portable: the dnstap subpath on this runtime, with a few byte-exact vectors
// and a seeded round trip of random messages (the same seed, the same
// messages on every runtime).
import assert from "node:assert/strict";
import {
  decodeDnstap,
  type Dnstap,
  DnstapError,
  type DnstapMessage,
  type DnstapMessageType,
  encodeDnstap,
  formatDnstapAddress,
  formatDnstapTime,
} from "../../src/dnstap.ts";
import { hex } from "../_util.ts";
import { test } from "./_harness.ts";

/** A small PRNG (mulberry32): integers in [0, n). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
  };
}

// Dnstap { identity "ns1", message { CLIENT_QUERY, INET, UDP, 127.0.0.1,
// port 53000, query_time_sec 1764094866, nsec 240151000 }, type MESSAGE }
const VECTOR = hex(`0a 03 "ns1" 72 1b 08 05 10 01 18 01 22 04 7f 00 00 01
  30 88 9e 03 40 92 e7 97 c9 06 4d d8 69 50 0e 78 01`);
const VALUE: Dnstap = {
  identity: new TextEncoder().encode("ns1"),
  type: "MESSAGE",
  message: {
    type: "CLIENT_QUERY",
    socketFamily: "INET",
    socketProtocol: "UDP",
    queryAddress: new Uint8Array([127, 0, 0, 1]),
    queryPort: 53000,
    queryTimeSec: 1764094866,
    queryTimeNsec: 240151000,
  },
};

test("dnstap: decodeDnstap and encodeDnstap agree with a byte-exact vector", () => {
  assert.deepStrictEqual(decodeDnstap(VECTOR), VALUE);
  assert.deepStrictEqual(encodeDnstap(VALUE), VECTOR);
  const m = decodeDnstap(VECTOR).message!;
  assert.equal(formatDnstapAddress(m.queryAddress!), "127.0.0.1");
  assert.equal(
    formatDnstapTime(m.queryTimeSec!, m.queryTimeNsec),
    "2025-11-25T18:21:06.240151000Z",
  );
});

test("dnstap: unknown enum numbers, 64-bit times and unknown fields", () => {
  // Message.type 99, query_time_sec 2^64 - 1, an unknown fixed64 field 4.
  const bytes = hex(`21 01 02 03 04 05 06 07 08
    72 0d 08 63 40 ff ff ff ff ff ff ff ff ff 01 78 01`);
  const d = decodeDnstap(bytes);
  assert.deepStrictEqual(d, {
    type: "MESSAGE",
    message: { type: 99, queryTimeSec: 2n ** 64n - 1n },
  });
  assert.deepStrictEqual(encodeDnstap(d), bytes.subarray(9));
});

test("dnstap: errors are DnstapError, a SyntaxError with the offset", () => {
  for (let k = 0; k < VECTOR.length; k++) {
    assert.throws(
      () => decodeDnstap(VECTOR.subarray(0, k)),
      (e) => e instanceof DnstapError && e instanceof SyntaxError,
    );
  }
  assert.throws(
    () => decodeDnstap(hex("78 01 23")),
    (e) => e instanceof DnstapError && e.offset === 2,
  );
  assert.throws(
    () => encodeDnstap({ type: "NOPE" } as unknown as Dnstap),
    TypeError,
  );
  assert.throws(
    () => encodeDnstap({ type: 1, message: { type: 1, queryPort: 2 ** 32 } }),
    RangeError,
  );
});

test("dnstap: a seeded round trip of random messages", () => {
  const r = prng(13);
  const bytes = (): Uint8Array =>
    new Uint8Array(Array.from({ length: r(20) }, () => r(256)));
  const names: DnstapMessageType[] = [
    "AUTH_QUERY",
    "CLIENT_RESPONSE",
    "UPDATE_RESPONSE",
    0,
    15,
    -7,
  ];
  for (let i = 0; i < 500; i++) {
    const message: DnstapMessage = { type: names[r(names.length)]! };
    if (r(2)) message.socketFamily = r(2) ? "INET6" : 3;
    if (r(2)) message.socketProtocol = r(2) ? "DOH" : "DOQ";
    if (r(2)) message.queryAddress = bytes();
    if (r(2)) message.queryPort = r(2 ** 32);
    if (r(2)) {
      message.queryTimeSec = r(2) ? r(2 ** 31) : 2n ** 53n + BigInt(r(2 ** 30));
    }
    if (r(2)) message.responseTimeNsec = r(1e9);
    if (r(2)) message.responseMessage = bytes();
    if (r(2)) message.policy = { type: "RPZ", action: r(2) ? "PASS" : 42 };
    if (r(2)) message.httpProtocol = "HTTP3";
    const value: Dnstap = { type: r(4) ? "MESSAGE" : 2, message };
    if (r(2)) value.identity = bytes();
    const encoded = encodeDnstap(value);
    const back = decodeDnstap(encoded);
    assert.deepStrictEqual(back, value);
    assert.deepStrictEqual(encodeDnstap(back), encoded);
  }
});
