// The reader-session fuzz target (fuzz/_check_reader_session.ts) run on its
// own for a few hundred seeded cases, and on cases written by hand: the
// fuzzer runs it for longer (`deno task fuzz --target reader-session`, once
// it is registered in fuzz/_targets.ts).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkReaderSession,
  type Fail,
  oracle,
  type ReaderSessionCase,
  readerSessionCaseArb,
  readerSessionTarget,
} from "../fuzz/_check_reader_session.ts";
import { ACCEPT, HELLO, READY, START, STOP } from "./_vectors.ts";
import { DNSTAP_CONTENT_TYPE } from "../mod.ts";

const DNSTAP = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
import { concat } from "./_util.ts";

class FuzzFailure extends Error {
  override name = "FuzzFailure";
}
const fail: Fail = (kind, message) => {
  throw new FuzzFailure(`${kind}: ${message}`);
};

const hex = (b: Uint8Array): string =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

const BASE: ReaderSessionCase = {
  target: "reader-session",
  input: "",
  cuts: [],
  step: 0,
  end: true,
  take: "next",
  contentTypes: [],
  maxFrameLength: 1_048_576,
  oversize: "error",
  engine: "ts",
  handshakeTimeout: 5_000,
  idleTimeout: 0,
};

Deno.test("ReaderSession fuzz target: hand-written cases pass", () => {
  const cases: Partial<ReaderSessionCase>[] = [
    { input: hex(concat(READY, START, HELLO, STOP)) },
    {
      input: hex(concat(READY, START, HELLO, STOP)),
      cuts: [3, 40, 41],
      take: "sink",
    },
    { input: hex(concat(START, HELLO, START, HELLO)), take: "run" },
    { input: hex(concat(READY, HELLO)), cuts: [40, 46] },
    { input: hex(concat(READY, ACCEPT)), end: false },
    // a timeout on the way: READY at 300 ms, the handshake allows 100
    {
      input: hex(concat(READY, START)),
      cuts: [10],
      step: 300,
      handshakeTimeout: 100,
    },
    { input: hex(concat(START, HELLO)), end: false, idleTimeout: 50 },
    { input: hex(concat(START, HELLO.subarray(0, 6))), engine: "wasm" },
  ];
  for (const c of cases) checkReaderSession({ ...BASE, ...c }, fail);
});

Deno.test("ReaderSession fuzz target: the oracle reads the vectors as PROTOCOL.md says", () => {
  // The oracle is a reader of its own: checked here on known input, so that
  // agreeing with it means something.
  const finish = "000000000000000400000005";
  const run = (bytes: Uint8Array, more: Partial<ReaderSessionCase> = {}) =>
    oracle(bytes, { ...BASE, contentTypes: [hex(DNSTAP)], ...more });
  assert.deepEqual(run(concat(READY, START, HELLO, STOP)), {
    sends: [hex(ACCEPT), finish],
    started: `bidirectional:${hex(DNSTAP)}`,
    data: [hex(HELLO.subarray(4))],
    stopped: true,
    closed: true,
    error: null,
  });
  assert.equal(
    run(concat(START, HELLO, START)).error,
    "HandshakeError(unexpected-frame@)",
  );
  assert.equal(run(READY).error, "HandshakeError(closed@)");
  assert.equal(run(READY, { end: false }).closed, false);
  assert.equal(
    run(concat(START, HELLO.subarray(0, 7))).error,
    `TruncatedFrameError(frame@${START.length})`,
  );
  assert.equal(
    run(concat(START, HELLO), { maxFrameLength: 4 }).error,
    `FrameTooLargeError(@${START.length})`,
  );
  assert.deepEqual(
    run(concat(START, HELLO, STOP), { maxFrameLength: 4, oversize: "skip" })
      .data,
    [],
  );
});

Deno.test("ReaderSession fuzz target: 400 seeded random cases", () => {
  const target = readerSessionTarget(fail);
  assert.equal(target.name, "reader-session");
  fc.assert(fc.property(readerSessionCaseArb, (c) => target.check(c)), {
    seed: 42,
    numRuns: 400,
  });
});
