// decodeDnstap's errors: every failure is a DnstapError (a SyntaxError) whose
// offset is the tag of the field being read, or the message's first byte for
// a missing required field; encodeDnstap's TypeErrors and RangeErrors.
import assert from "node:assert/strict";
import {
  decodeDnstap,
  type Dnstap,
  DnstapError,
  encodeDnstap,
} from "../src/dnstap.ts";
import { concat, hex } from "./_util.ts";
import {
  FULL,
  FULL_PARTS,
  MESSAGE_BYTES,
  MESSAGE_PARTS,
  starts,
} from "./_dnstap_vectors.ts";

/** Asserts that decoding throws a DnstapError at `offset` matching `re`. */
function fails(bytes: Uint8Array, offset: number, re: RegExp, note = ""): void {
  let error: unknown;
  try {
    decodeDnstap(bytes);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof DnstapError, `${note}: ${error}`);
  assert.ok(error instanceof SyntaxError);
  assert.equal(error.name, "DnstapError");
  assert.equal(error.offset, offset, `${note}: ${error.message}`);
  assert.match(error.message, /^Cannot decode dnstap: /);
  assert.match(error.message, re, note);
}

Deno.test("decodeDnstap rejects malformed bytes with a DnstapError at the field", () => {
  const cases: [string, string, number, RegExp][] = [
    // Known fields with the wrong wire type.
    [
      "type as bytes",
      "7a 00",
      0,
      /Dnstap.type has length-delimited, expected varint/,
    ],
    ["identity as varint", "08 01 78 01", 0, /Dnstap.identity has varint/],
    [
      "message as fixed32",
      "78 01 75 00 00 00 00",
      2,
      /Dnstap.message has fixed32/,
    ],
    [
      "query_time_nsec as varint",
      "72 04 08 01 48 00 78 01",
      4,
      /query_time_nsec has varint, expected fixed32/,
    ],
    [
      "query_port as fixed64",
      "72 0b 08 01 31 00 00 00 00 00 00 00 00 78 01",
      4,
      /query_port has fixed64/,
    ],
    [
      "policy as varint",
      "72 04 08 01 78 00 78 01",
      4,
      /Message.policy has varint/,
    ],
    [
      "Policy.type as varint",
      "72 06 08 01 7a 02 08 00 78 01",
      6,
      /Policy.type has varint/,
    ],
    // Varints over 10 bytes, or over 64 bits in the 10th byte.
    [
      "11-byte varint",
      "78 ff ff ff ff ff ff ff ff ff ff 01",
      0,
      /over 64 bits/,
    ],
    ["10th byte over 1", "78 ff ff ff ff ff ff ff ff ff 02", 0, /over 64 bits/],
    ["tag over 32 bits", "80 80 80 80 10", 0, /tag is over 32 bits/],
    // Field number 0, groups, wire types 6 and 7.
    ["field 0", "78 01 00 00", 2, /field number 0/],
    ["group start", "78 01 23", 2, /group start, which is not supported/],
    ["group end", "78 01 24", 2, /group end/],
    ["wire type 6", "78 01 26", 2, /wire type 6/],
    ["wire type 7 in a Message", "72 03 08 01 27 78 01", 4, /wire type 7/],
    // Missing required fields.
    ["empty input", "", 0, /required field Dnstap.type is missing/],
    ["no type", `0a 01 "a"`, 0, /Dnstap.type is missing/],
    [
      "no Message.type",
      "78 01 72 02 30 35",
      4,
      /required field Message.type is missing/,
    ],
    ["empty Message", "72 00 78 01", 2, /Message.type is missing/],
    // Lengths past the end (of the input, or of the enclosing message).
    ["length past the input", "0a 05 61 62", 0, /announces 5 bytes, 2 remain/],
    [
      "length past its Message",
      "72 04 08 01 52 05 78 01",
      4,
      /announces 5 bytes, 0 remain/,
    ],
    ["length over 2^53", "0a ff ff ff ff ff ff ff ff 7f", 0, /announces/],
    ["unknown fixed64 cut", "21 00 00", 0, /unknown field 4 is cut short/],
    ["unknown varint cut", "78 01 20 80", 2, /unknown field 4 is cut short/],
  ];
  for (const [note, text, offset, re] of cases) {
    fails(hex(text), offset, re, note);
  }
});

Deno.test("decodeDnstap rejects every cut of a full message at the right offset", () => {
  // Cutting FULL at byte k: inside a top-level field, the error is at that
  // field's tag; at a field boundary, the prefix lacks Dnstap.type (last).
  const at = starts(FULL_PARTS);
  for (let k = 0; k < FULL.length; k++) {
    const field = at.findLastIndex((s) => s <= k);
    if (at[field] === k) {
      fails(FULL.subarray(0, k), 0, /Dnstap.type is missing/, `cut ${k}`);
    } else {fails(
        FULL.subarray(0, k),
        at[field]!,
        /cut short|announces/,
        `cut ${k}`,
      );}
  }
  assert.doesNotThrow(() => decodeDnstap(FULL));
});

Deno.test("decodeDnstap rejects every cut of a Message at the inner field's offset", () => {
  // The Message's length says k, its bytes stop at k: the error points into
  // the Message (which starts at byte 2), at the cut field's tag.
  const at = starts(MESSAGE_PARTS);
  for (let k = 0; k < MESSAGE_BYTES.length; k++) {
    const bytes = concat(
      hex("72"),
      new Uint8Array([k]),
      MESSAGE_BYTES.subarray(0, k),
      hex("78 01"),
    );
    const field = at.findLastIndex((s) => s <= k);
    if (at[field] === k) {
      if (k === 0) fails(bytes, 2, /Message.type is missing/, `cut ${k}`);
      else assert.doesNotThrow(() => decodeDnstap(bytes), `cut ${k}`);
    } else {
      fails(bytes, 2 + at[field]!, /cut short|announces/, `cut ${k}`);
    }
  }
});

Deno.test("decodeDnstap rejects a non-Uint8Array with a TypeError", () => {
  assert.throws(
    () => decodeDnstap([0x78, 1] as unknown as Uint8Array),
    TypeError,
  );
});

Deno.test("encodeDnstap rejects bad arguments with TypeError or RangeError", () => {
  const m = (extra: Record<string, unknown>): Dnstap =>
    ({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", ...extra },
    }) as Dnstap;
  const cases: [
    string,
    unknown,
    ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor,
    RegExp,
  ][] = [
    ["not an object", null, TypeError, /dnstap must be an object/],
    ["no type", {}, TypeError, /Dnstap.type is required/],
    [
      "no Message.type",
      { type: "MESSAGE", message: {} },
      TypeError,
      /Message.type is required/,
    ],
    [
      "unknown name",
      { type: "MESSAGES" },
      TypeError,
      /"MESSAGES" is not one of MESSAGE/,
    ],
    ["enum as bigint", { type: 1n }, TypeError, /must be a name or a number/],
    ["enum over int32", { type: 2 ** 31 }, RangeError, /not a 32-bit integer/],
    ["enum fraction", { type: 1.5 }, RangeError, /not a 32-bit integer/],
    [
      "identity as string",
      { type: "MESSAGE", identity: "x" },
      TypeError,
      /identity must be a Uint8Array/,
    ],
    [
      "message not an object",
      { type: "MESSAGE", message: 5 },
      TypeError,
      /message must be an object/,
    ],
    [
      "port negative",
      m({ queryPort: -1 }),
      RangeError,
      /queryPort -1 is not a 32-bit unsigned/,
    ],
    [
      "port over 32 bits",
      m({ responsePort: 2 ** 32 }),
      RangeError,
      /responsePort/,
    ],
    [
      "port as string",
      m({ queryPort: "53" }),
      TypeError,
      /queryPort must be a number/,
    ],
    [
      "time over 2^53 as number",
      m({ queryTimeSec: 2 ** 53 }),
      RangeError,
      /use a bigint/,
    ],
    [
      "time over 2^64",
      m({ queryTimeSec: 2n ** 64n }),
      RangeError,
      /not a 64-bit unsigned/,
    ],
    [
      "time negative bigint",
      m({ responseTimeSec: -1n }),
      RangeError,
      /responseTimeSec/,
    ],
    ["nsec fraction", m({ queryTimeNsec: 0.5 }), RangeError, /queryTimeNsec/],
    [
      "nsec as bigint",
      m({ queryTimeNsec: 1n }),
      TypeError,
      /queryTimeNsec must be a number/,
    ],
    [
      "policy not an object",
      m({ policy: "x" }),
      TypeError,
      /policy must be an object/,
    ],
    [
      "Policy.type bytes",
      m({ policy: { type: new Uint8Array(1) } }),
      TypeError,
      /Policy.type must be a string/,
    ],
    [
      "Policy.type lone surrogate",
      m({ policy: { type: "\ud800" } }),
      TypeError,
      /lone surrogate/,
    ],
    ["unknown protocol name", m({ socketProtocol: "QUIC" }), TypeError, /DOQ/],
  ];
  for (const [note, value, type, re] of cases) {
    assert.throws(() => encodeDnstap(value as Dnstap), (e: unknown) => {
      assert.ok(e instanceof type, `${note}: ${e}`);
      assert.match((e as Error).message, /^Cannot encode dnstap: /, note);
      assert.match((e as Error).message, re, note);
      return true;
    });
  }
});
