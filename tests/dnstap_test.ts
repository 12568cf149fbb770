// decodeDnstap and encodeDnstap on hand-written byte-exact vectors: every
// field of the schema, each wire type, unknown fields skipped, unknown enum
// numbers and 64-bit times kept.
import assert from "node:assert/strict";
import { decodeDnstap, type Dnstap, encodeDnstap } from "../src/dnstap.ts";
import { concat, hex } from "./_util.ts";
import {
  FULL,
  FULL_MESSAGE,
  FULL_VALUE,
  MESSAGE_BYTES,
  MESSAGE_PARTS,
  MESSAGE_TYPES,
} from "./_dnstap_vectors.ts";

/** A Dnstap of type MESSAGE around the given Message bytes. */
function wrap(message: Uint8Array): Uint8Array {
  assert.ok(message.length < 128);
  return concat(
    hex("72"),
    new Uint8Array([message.length]),
    message,
    hex("78 01"),
  );
}

Deno.test("decodeDnstap decodes every field of the schema", () => {
  assert.deepStrictEqual(decodeDnstap(FULL), FULL_VALUE);
});

Deno.test("encodeDnstap writes every field of the schema canonically", () => {
  assert.deepStrictEqual(encodeDnstap(FULL_VALUE), FULL);
});

Deno.test("decodeDnstap gives views of the input for byte fields", () => {
  const d = decodeDnstap(FULL);
  assert.equal(d.identity!.buffer, FULL.buffer);
  assert.equal(d.identity!.byteOffset, 2);
  assert.equal(d.message!.queryMessage!.buffer, FULL.buffer);
});

Deno.test("decodeDnstap and encodeDnstap agree on each Message field alone", () => {
  // Each field after type, alone with type: decode gives just that property,
  // and encode gives the same bytes back.
  const keys = Object.keys(FULL_MESSAGE);
  for (let i = 1; i < MESSAGE_PARTS.length; i++) {
    const bytes = wrap(
      concat(MESSAGE_PARTS[0]!.bytes, MESSAGE_PARTS[i]!.bytes),
    );
    const key = keys[i] as keyof typeof FULL_MESSAGE;
    const want: Dnstap = {
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", [key]: FULL_MESSAGE[key] },
    };
    assert.deepStrictEqual(decodeDnstap(bytes), want, MESSAGE_PARTS[i]!.note);
    assert.deepStrictEqual(encodeDnstap(want), bytes, MESSAGE_PARTS[i]!.note);
  }
});

Deno.test("decodeDnstap keeps absent fields absent and zero values as zero", () => {
  // type MESSAGE only: no other property at all.
  assert.deepStrictEqual(decodeDnstap(hex("78 01")), { type: "MESSAGE" });
  const zeros = wrap(hex("08 01 30 00 40 00 4d 00 00 00 00 52 00"));
  const d = decodeDnstap(zeros);
  assert.deepStrictEqual(d.message, {
    type: "AUTH_QUERY",
    queryPort: 0,
    queryTimeSec: 0,
    queryTimeNsec: 0,
    queryMessage: new Uint8Array(0),
  });
  assert.deepStrictEqual(encodeDnstap(d), zeros);
  assert.ok(!("responsePort" in d.message!));
  // Properties set to undefined are not written.
  assert.deepStrictEqual(
    encodeDnstap({ type: "MESSAGE", identity: undefined } as unknown as Dnstap),
    hex("78 01"),
  );
});

Deno.test("decodeDnstap names every enum value of the schema", () => {
  MESSAGE_TYPES.forEach((name, i) => {
    const bytes = wrap(new Uint8Array([0x08, i + 1]));
    assert.equal(decodeDnstap(bytes).message!.type, name);
    assert.deepStrictEqual(
      encodeDnstap({ type: "MESSAGE", message: { type: name } }),
      bytes,
    );
  });
  const protocols = [
    "UDP",
    "TCP",
    "DOT",
    "DOH",
    "DNSCryptUDP",
    "DNSCryptTCP",
    "DOQ",
  ];
  protocols.forEach((name, i) => {
    const m = decodeDnstap(wrap(new Uint8Array([0x08, 1, 0x18, i + 1])))
      .message!;
    assert.equal(m.socketProtocol, name);
  });
  const families = ["INET", "INET6"];
  families.forEach((name, i) => {
    const m = decodeDnstap(wrap(new Uint8Array([0x08, 1, 0x10, i + 1])))
      .message!;
    assert.equal(m.socketFamily, name);
  });
  ["HTTP1", "HTTP2", "HTTP3"].forEach((name, i) => {
    const m = decodeDnstap(wrap(new Uint8Array([0x08, 1, 0x80, 1, i + 1])))
      .message!;
    assert.equal(m.httpProtocol, name);
  });
  ["NXDOMAIN", "NODATA", "PASS", "DROP", "TRUNCATE", "LOCAL_DATA"].forEach(
    (name, i) => {
      const m = decodeDnstap(
        wrap(new Uint8Array([0x08, 1, 0x7a, 2, 0x18, i + 1])),
      ).message!;
      assert.equal(m.policy!.action, name);
    },
  );
  ["QNAME", "CLIENT_IP", "RESPONSE_IP", "NS_NAME", "NS_IP"].forEach(
    (name, i) => {
      const m = decodeDnstap(
        wrap(new Uint8Array([0x08, 1, 0x7a, 2, 0x20, i + 1])),
      ).message!;
      assert.equal(m.policy!.match, name);
    },
  );
});

Deno.test("decodeDnstap keeps unknown enum numbers, and encodeDnstap writes them back", () => {
  const cases: [string, Uint8Array, Dnstap][] = [
    // Message.type 99, socket_protocol 8 (a future transport), http 0.
    ["unknown numbers", wrap(hex("08 63 18 08 80 01 00")), {
      type: "MESSAGE",
      message: { type: 99, socketProtocol: 8, httpProtocol: 0 },
    }],
    // Dnstap.type 2, and an int32 -1 as protobuf writes it (10 bytes).
    ["negative int32", hex("0a 00 78 ff ff ff ff ff ff ff ff ff 01"), {
      identity: new Uint8Array(0),
      type: -1,
    }],
    // The smallest int32.
    ["int32 minimum", hex("78 80 80 80 80 f8 ff ff ff ff 01"), {
      type: -2147483648,
    }],
    ["Dnstap.type 2", hex("78 02"), { type: 2 }],
  ];
  for (const [name, bytes, value] of cases) {
    assert.deepStrictEqual(decodeDnstap(bytes), value, name);
    assert.deepStrictEqual(encodeDnstap(value), bytes, name);
  }
});

Deno.test("decodeDnstap reads 64-bit times exactly: number up to 2^53 - 1, bigint above", () => {
  const cases: [string, string, number | bigint][] = [
    ["2^53 - 1", "ff ff ff ff ff ff ff 0f", 2 ** 53 - 1],
    ["2^53", "80 80 80 80 80 80 80 10", 2n ** 53n],
    ["2^64 - 1", "ff ff ff ff ff ff ff ff ff 01", 2n ** 64n - 1n],
    ["2^49 (an 8-byte varint)", "80 80 80 80 80 80 80 01", 2 ** 49],
  ];
  for (const [name, v, want] of cases) {
    const bytes = wrap(hex(`08 01 40 ${v} 60 ${v}`));
    const m = decodeDnstap(bytes).message!;
    assert.strictEqual(m.queryTimeSec, want, name);
    assert.strictEqual(m.responseTimeSec, want, name);
    assert.deepStrictEqual(encodeDnstap(decodeDnstap(bytes)), bytes, name);
  }
  // A bigint at or below 2^53 - 1 encodes like the number.
  assert.deepStrictEqual(
    encodeDnstap({ type: "MESSAGE", message: { type: 1, queryTimeSec: 53n } }),
    encodeDnstap({ type: "MESSAGE", message: { type: 1, queryTimeSec: 53 } }),
  );
});

Deno.test("decodeDnstap reads uint32 ports and enums from over-long varints as protobuf does", () => {
  // query_port 2^32 + 7 keeps the low 32 bits; an enum 2^32 + 5 likewise.
  const m = decodeDnstap(wrap(hex("08 85 80 80 80 10 30 87 80 80 80 10")))
    .message!;
  assert.equal(m.queryPort, 7);
  assert.equal(m.type, "CLIENT_QUERY");
  // A non-minimal varint (5 as 85 00) is read, and re-encoded minimally.
  const d = decodeDnstap(hex("78 81 00"));
  assert.deepStrictEqual(d, { type: "MESSAGE" });
  assert.deepStrictEqual(encodeDnstap(d), hex("78 01"));
});

Deno.test("decodeDnstap skips an unknown field of each wire type at each level", () => {
  // Unknown fields: number 4 at the top, 99 in Message, 6 in Policy.
  const unknowns: [string, string][] = [
    ["varint", "ff ff ff ff ff ff ff ff ff 01"],
    ["fixed64", "01 02 03 04 05 06 07 08"],
    ["length-delimited", `03 "abc"`],
    ["fixed32", "01 02 03 04"],
  ];
  const wireOf = [0, 1, 2, 5];
  unknowns.forEach(([name, value], i) => {
    const wire = wireOf[i]!;
    const top = concat(new Uint8Array([(4 << 3) | wire]), hex(value));
    // 99 << 3 | wire as a varint: two bytes.
    const inMessage = concat(
      new Uint8Array([((99 << 3) & 0x7f) | 0x80 | wire, 99 >> 4]),
      hex(value),
    );
    const inPolicy = concat(new Uint8Array([(6 << 3) | wire]), hex(value));
    const policy = concat(hex("0a 03"), hex(`"RPZ"`), inPolicy);
    const message = concat(
      hex("08 05"),
      inMessage,
      hex("7a"),
      new Uint8Array([policy.length]),
      policy,
    );
    const bytes = concat(top, wrap(message), top);
    assert.deepStrictEqual(decodeDnstap(bytes), {
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", policy: { type: "RPZ" } },
    }, name);
  });
});

Deno.test("decodeDnstap keeps the last of a repeated field and merges repeated messages", () => {
  // identity twice; message twice (type, then query_port); type twice.
  // Message.type is required of the merged message, not of each part.
  const bytes = hex(`0a 01 "a" 0a 01 "b" 72 02 30 35 72 02 08 05 78 02 78 01`);
  assert.deepStrictEqual(decodeDnstap(bytes), {
    identity: hex(`"b"`),
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryPort: 53 },
  });
});

Deno.test("encodeDnstap writes fields in number order whatever the property order", () => {
  const value = {
    message: { httpProtocol: "HTTP3", queryPort: 1, type: "STUB_QUERY" },
    type: "MESSAGE",
    identity: hex(`"x"`),
  } as Dnstap;
  assert.deepStrictEqual(
    encodeDnstap(value),
    hex(`0a 01 "x" 72 07 08 09 30 01 80 01 03 78 01`),
  );
});

Deno.test("encodeDnstap round-trips the Message bytes of the full vector", () => {
  assert.deepStrictEqual(
    encodeDnstap({ type: "MESSAGE", message: FULL_MESSAGE }),
    wrap(MESSAGE_BYTES),
  );
});

Deno.test("encodeDnstap writes lengths of 128 bytes and more as multi-byte varints", () => {
  // message { type 5, query_message 200 bytes } = 205 bytes (cd 01);
  // message { type 5, policy { value 300 bytes } }: 308 and 303 bytes.
  const dns = new Uint8Array(200).fill(0xab);
  const one = concat(hex("72 cd 01 08 05 52 c8 01"), dns, hex("78 01"));
  const v1: Dnstap = {
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: dns },
  };
  assert.deepStrictEqual(encodeDnstap(v1), one);
  assert.deepStrictEqual(decodeDnstap(one), v1);
  const value = new Uint8Array(300).fill(7);
  const two = concat(
    hex("72 b4 02 08 05 7a af 02 2a ac 02"),
    value,
    hex("78 01"),
  );
  const v2: Dnstap = {
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", policy: { value } },
  };
  assert.deepStrictEqual(encodeDnstap(v2), two);
  assert.deepStrictEqual(decodeDnstap(two), v2);
  // A large message, then a small one: the reused buffer starts clean.
  const big = new Uint8Array(100_000).fill(1);
  const large = encodeDnstap({ type: "MESSAGE", extra: big });
  assert.equal(large.length, 100_000 + 4 + 2);
  assert.deepStrictEqual(decodeDnstap(large).extra, big);
  assert.deepStrictEqual(encodeDnstap({ type: "MESSAGE" }), hex("78 01"));
});
