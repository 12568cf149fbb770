import assert from "node:assert/strict";
import {
  type ControlFrame,
  ControlType,
  DNSTAP_CONTENT_TYPE,
  type Frame,
  FrameDecoder,
  HandshakeError,
} from "../mod.ts";
import type { HandshakeErrorReason } from "../src/errors.ts";
import { type WriterEvent, WriterHandshake } from "../src/writer_handshake.ts";
import { hex } from "./_util.ts";
import * as V from "./_vectors.ts";

// The byte-exact vectors of PROTOCOL.md §2 (tests/_vectors.ts, written out
// by hand so that these tests fail if the encoder is wrong), as hex.

/** "protobuf:dnstap.Dnstap", 22 (0x16) bytes: START's content type. */
const DNSTAP = toHex(V.START.subarray(20));
const READY_DNSTAP = toHex(V.READY);
const ACCEPT_DNSTAP = toHex(V.ACCEPT);
const START_DNSTAP = toHex(V.START);
const STOP = toHex(V.STOP);
const FINISH = toHex(V.FINISH);
const READY_NONE = toHex(V.READY_NONE);
const START_NONE = toHex(V.START_NONE);
/** START with a one-byte content type (clen 4 + 8 + 1 = 13), then the byte. */
const START_ONE = "00000000 0000000d 00000002 00000001 00000001";

/** Hex of bytes, for readable assertion failures. */
function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Normalized hex of a vector. */
function vector(text: string): string {
  return toHex(hex(text));
}

/** A content type as bytes: strings are UTF-8. */
function ct(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

/** A control frame as a decoder would deliver it. */
function control(
  type: number,
  ...contentTypes: (string | Uint8Array)[]
): ControlFrame {
  return {
    kind: "control",
    type,
    contentTypes: contentTypes.map(ct),
    offset: 0,
  };
}

/** The hex of every "send" event. */
function sent(events: WriterEvent[]): string[] {
  return events.flatMap((e) => e.type === "send" ? [toHex(e.bytes)] : []);
}

/** Asserts `events` is a single failure with this reason; returns its error. */
function assertFailed(
  events: WriterEvent[],
  reason: HandshakeErrorReason,
): HandshakeError {
  assert.equal(events.length, 1, `expected one event, got ${events.length}`);
  const [event] = events;
  assert.ok(event?.type === "failed", `expected "failed", got ${event?.type}`);
  assert.ok(event.error instanceof HandshakeError);
  assert.equal(event.error.reason, reason);
  assert.match(event.error.message, /^Handshake failed: /);
  return event.error;
}

Deno.test("WriterHandshake runs a bidirectional dnstap session byte for byte", () => {
  const writer = new WriterHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  assert.equal(writer.state, "idle");
  assert.equal(writer.contentType, null);

  const ready = writer.start();
  assert.deepEqual(sent(ready), [vector(READY_DNSTAP)]);
  assert.equal(ready.length, 1);
  assert.equal(writer.state, "ready-sent");

  // the reader's ACCEPT, decoded from the §2 vector
  const decoder = new FrameDecoder();
  decoder.push(hex(ACCEPT_DNSTAP));
  const start = writer.receive(decoder.next()!);
  assert.deepEqual(start.map((e) => e.type), ["send", "started"]);
  assert.deepEqual(sent(start), [vector(START_DNSTAP)]);
  assert.deepEqual(start[1], { type: "started", contentType: hex(DNSTAP) });
  assert.equal(writer.state, "data");
  assert.deepEqual(writer.contentType, hex(DNSTAP));

  const stop = writer.stop();
  assert.deepEqual(sent(stop), [vector(STOP)]);
  assert.equal(stop.length, 1);
  assert.equal(writer.state, "stopping");

  decoder.push(hex(FINISH));
  assert.deepEqual(writer.receive(decoder.next()!), [{ type: "finished" }]);
  assert.equal(writer.state, "finished");
});

Deno.test("WriterHandshake sends READY and START with no content type when it has none", () => {
  const writer = new WriterHandshake();
  assert.deepEqual(sent(writer.start()), [vector(READY_NONE)]);
  const start = writer.receive(control(ControlType.ACCEPT));
  assert.deepEqual(sent(start), [vector(START_NONE)]);
  assert.deepEqual(start[1], { type: "started", contentType: null });
  assert.equal(writer.contentType, null);
});

Deno.test("WriterHandshake offers all its content types in READY, in its order", () => {
  const cases: { ours: (string | Uint8Array)[]; ready: string }[] = [
    // the dnstap type alone
    { ours: [DNSTAP_CONTENT_TYPE], ready: READY_DNSTAP },
    // b then a: clen 4 + 9 + 9 = 22
    {
      ours: ["b", "a"],
      ready:
        "00000000 00000016 00000004 00000001 00000001 62 00000001 00000001 61",
    },
    // duplicates dropped, a string and its bytes alike
    {
      ours: ["b", ct("b"), "a"],
      ready:
        "00000000 00000016 00000004 00000001 00000001 62 00000001 00000001 61",
    },
    // the empty content type, then NUL: clen 4 + 8 + 9 = 21
    {
      ours: [new Uint8Array(0), new Uint8Array([0])],
      ready:
        "00000000 00000015 00000004 00000001 00000000 00000001 00000001 00",
    },
  ];
  for (const { ours, ready } of cases) {
    const writer = new WriterHandshake({ contentTypes: ours });
    assert.deepEqual(sent(writer.start()), [vector(ready)]);
  }
});

Deno.test("WriterHandshake picks its first content type that ACCEPT lists", () => {
  const cases: {
    ours: (string | Uint8Array)[];
    accept: (string | Uint8Array)[];
    start: string;
    chosen: Uint8Array | null;
  }[] = [
    // its first type is not accepted, its second is: START b (libfstrm fails)
    {
      ours: ["a", "b"],
      accept: ["b"],
      start: START_ONE + "62",
      chosen: ct("b"),
    },
    // ACCEPT lists both in the other order: our order decides, a
    {
      ours: ["a", "b"],
      accept: ["b", "a"],
      start: START_ONE + "61",
      chosen: ct("a"),
    },
    // third and second accepted: our second, b
    {
      ours: ["a", "b", "c"],
      accept: ["c", "b"],
      start: START_ONE + "62",
      chosen: ct("b"),
    },
    // ACCEPT with no content type: our first
    { ours: ["a", "b"], accept: [], start: START_ONE + "61", chosen: ct("a") },
    // we have none and ACCEPT lists some: START with none
    { ours: [], accept: ["x"], start: START_NONE, chosen: null },
    // dnstap second among ours, as real readers accept only dnstap
    {
      ours: ["protobuf:other", DNSTAP_CONTENT_TYPE],
      accept: [DNSTAP_CONTENT_TYPE],
      start: START_DNSTAP,
      chosen: hex(DNSTAP),
    },
    // NUL accepted, the empty type not: NUL
    {
      ours: [new Uint8Array(0), new Uint8Array([0])],
      accept: [new Uint8Array([0])],
      start: START_ONE + "00",
      chosen: new Uint8Array([0]),
    },
    // the empty type accepted: START carries a 0-byte content type, not none
    {
      ours: [new Uint8Array([0]), new Uint8Array(0)],
      accept: [new Uint8Array(0)],
      start: "00000000 0000000c 00000002 00000001 00000000",
      chosen: new Uint8Array(0),
    },
  ];
  for (const { ours, accept, start, chosen } of cases) {
    const writer = new WriterHandshake({ contentTypes: ours });
    writer.start();
    const events = writer.receive(control(ControlType.ACCEPT, ...accept));
    assert.deepEqual(sent(events), [vector(start)]);
    assert.deepEqual(events[1], { type: "started", contentType: chosen });
    assert.deepEqual(writer.contentType, chosen);
    assert.equal(writer.state, "data");
  }
});

Deno.test("WriterHandshake sends no START when ACCEPT lists none of its types", () => {
  const cases: {
    ours: (string | Uint8Array)[];
    accept: (string | Uint8Array)[];
  }[] = [
    // dnstap writer, some other reader
    { ours: [DNSTAP_CONTENT_TYPE], accept: ["protobuf:other"] },
    // several of ours, none accepted
    { ours: ["a", "b"], accept: ["c"] },
    // the empty type is not NUL
    { ours: [new Uint8Array(0)], accept: [new Uint8Array([0])] },
    // "a\0b" is not "a"
    { ours: ["a\0b"], accept: ["a"] },
  ];
  for (const { ours, accept } of cases) {
    const writer = new WriterHandshake({ contentTypes: ours });
    writer.start();
    const events = writer.receive(control(ControlType.ACCEPT, ...accept));
    const error = assertFailed(events, "no-common-content-type");
    assert.match(
      error.message,
      /ACCEPT lists .*none of the content types we offered/,
    );
    assert.equal(writer.state, "failed");
    assert.equal(writer.contentType, null);
  }
});

Deno.test("WriterHandshake in unidirectional mode sends START and STOP only", () => {
  const writer = new WriterHandshake({
    contentTypes: [DNSTAP_CONTENT_TYPE, "other"],
    bidirectional: false,
  });
  const start = writer.start();
  assert.deepEqual(sent(start), [vector(START_DNSTAP)]);
  assert.deepEqual(start[1], { type: "started", contentType: hex(DNSTAP) });
  assert.equal(writer.state, "data");
  const stop = writer.stop();
  assert.deepEqual(sent(stop), [vector(STOP)]);
  assert.deepEqual(stop[1], { type: "finished" });
  assert.equal(writer.state, "finished");

  // no content type: START with none
  const bare = new WriterHandshake({ bidirectional: false });
  const events = bare.start();
  assert.deepEqual(sent(events), [vector(START_NONE)]);
  assert.deepEqual(events[1], { type: "started", contentType: null });
});

Deno.test("WriterHandshake fails on a frame out of place", () => {
  const READY = control(ControlType.READY);
  const START = control(ControlType.START);
  const STOP_ = control(ControlType.STOP);
  const ACCEPT = control(ControlType.ACCEPT);
  const FINISH_ = control(ControlType.FINISH);
  const DATA: Frame = { kind: "data", data: ct("x"), offset: 0 };
  type Step = "start" | "stop" | Frame;
  const cases: {
    bidirectional?: boolean;
    steps: Step[];
    message: RegExp;
  }[] = [
    // READY: only a reader receives it
    {
      steps: ["start", READY],
      message: /READY frame received: a writer never/,
    },
    // START
    { steps: ["start", START], message: /START frame received/ },
    // STOP
    { steps: ["start", ACCEPT, STOP_], message: /STOP frame received/ },
    // a data frame
    { steps: ["start", DATA], message: /data frame received/ },
    // a data frame in the data phase
    { steps: ["start", ACCEPT, DATA], message: /data frame received/ },
    // ACCEPT twice
    {
      steps: ["start", ACCEPT, ACCEPT],
      message: /ACCEPT frame received twice/,
    },
    // ACCEPT while waiting for FINISH
    {
      steps: ["start", ACCEPT, "stop", ACCEPT],
      message: /ACCEPT frame received twice/,
    },
    // ACCEPT before start()
    { steps: [ACCEPT], message: /ACCEPT frame before READY was sent/ },
    // FINISH before READY was even answered
    { steps: ["start", FINISH_], message: /FINISH frame before STOP/ },
    // FINISH before STOP
    { steps: ["start", ACCEPT, FINISH_], message: /FINISH frame before STOP/ },
    // unidirectional: the peer sends nothing, not even ACCEPT
    {
      bidirectional: false,
      steps: ["start", ACCEPT],
      message: /ACCEPT frame in a unidirectional stream/,
    },
    // unidirectional: nor FINISH
    {
      bidirectional: false,
      steps: ["start", FINISH_],
      message: /FINISH frame before STOP/,
    },
  ];
  for (const { bidirectional = true, steps, message } of cases) {
    const writer = new WriterHandshake({ bidirectional });
    let events: WriterEvent[] = [];
    for (const step of steps) {
      events = step === "start"
        ? writer.start()
        : step === "stop"
        ? writer.stop()
        : writer.receive(step);
    }
    const error = assertFailed(events, "unexpected-frame");
    assert.match(error.message, message);
    assert.equal(writer.state, "failed");
    // failed is final
    assert.deepEqual(writer.receive(FINISH_), []);
    assert.deepEqual(writer.receive(ACCEPT), []);
    assert.equal(writer.state, "failed");
  }
});

Deno.test("WriterHandshake ignores frames once finished", () => {
  const writer = new WriterHandshake();
  writer.start();
  writer.receive(control(ControlType.ACCEPT));
  writer.stop();
  writer.receive(control(ControlType.FINISH));
  for (
    const frame of [
      control(ControlType.FINISH),
      control(ControlType.ACCEPT),
      control(ControlType.READY),
      { kind: "data", data: ct("x"), offset: 0 } as Frame,
    ]
  ) {
    assert.deepEqual(writer.receive(frame), []);
    assert.equal(writer.state, "finished");
  }
});

Deno.test("WriterHandshake ignores control frames of unknown type", () => {
  const unknown = control(99);
  const writer = new WriterHandshake();
  writer.start();
  assert.deepEqual(writer.receive(unknown), []);
  assert.equal(writer.state, "ready-sent");
  writer.receive(control(ControlType.ACCEPT));
  assert.deepEqual(writer.receive(unknown), []);
  writer.stop();
  assert.deepEqual(writer.receive(unknown), []);
  assert.equal(writer.state, "stopping");
});

Deno.test("WriterHandshake start() and stop() throw when called out of turn", () => {
  // start() twice
  const twice = new WriterHandshake();
  twice.start();
  assert.throws(() => twice.start(), TypeError);

  // stop() before start()
  assert.throws(() => new WriterHandshake().stop(), TypeError);

  // stop() while waiting for ACCEPT
  const waiting = new WriterHandshake();
  waiting.start();
  assert.throws(
    () => waiting.stop(),
    /stop\(\) needs state "data", the state is "ready-sent"/,
  );

  // stop() twice, bidirectional (stopping) and unidirectional (finished)
  for (const bidirectional of [true, false]) {
    const writer = new WriterHandshake({ bidirectional });
    writer.start();
    if (bidirectional) writer.receive(control(ControlType.ACCEPT));
    writer.stop();
    assert.throws(() => writer.stop(), TypeError);
    assert.throws(() => writer.start(), TypeError);
  }

  // stop() after a failure
  const failed = new WriterHandshake();
  failed.start();
  failed.receive(control(ControlType.READY));
  assert.throws(() => failed.stop(), TypeError);
});

Deno.test("WriterHandshake rejects bad options", () => {
  const typeErrors: unknown[] = [
    // options not an object
    null,
    // contentTypes not an array
    { contentTypes: "protobuf:dnstap.Dnstap" },
    // a content type neither string nor bytes
    { contentTypes: [42] },
    // bidirectional not a boolean
    { bidirectional: "yes" },
  ];
  for (const options of typeErrors) {
    assert.throws(() => new WriterHandshake(options as never), TypeError);
  }
  // a content type over 256 bytes
  assert.throws(
    () => new WriterHandshake({ contentTypes: ["x".repeat(257)] }),
    RangeError,
  );
  // a READY of 4 + (8 + 256) + (8 + 228) = 504 bytes, over the 503 we write
  assert.throws(
    () =>
      new WriterHandshake({ contentTypes: ["x".repeat(256), "y".repeat(228)] }),
    (e) =>
      e instanceof RangeError &&
      /would be 504 bytes, limit 503/.test(e.message),
  );
});

Deno.test("WriterHandshake writes a READY of exactly 503 bytes of payload", () => {
  const writer = new WriterHandshake({
    contentTypes: ["x".repeat(256), "y".repeat(227)],
  });
  const [event] = writer.start();
  assert.ok(event?.type === "send");
  assert.equal(event.bytes.length, 8 + 503);
  assert.equal(toHex(event.bytes.subarray(0, 12)), "00000000000001f700000004");
});

Deno.test("WriterHandshake in unidirectional mode takes a list too long for READY", () => {
  // only START (with the first type) is ever sent, so the READY limit is moot
  const writer = new WriterHandshake({
    contentTypes: ["x".repeat(256), "y".repeat(256)],
    bidirectional: false,
  });
  const [event] = writer.start();
  assert.ok(event?.type === "send");
  assert.equal(event.bytes.length, 8 + 4 + 8 + 256);
});

Deno.test("WriterHandshake rejects a value that is not a frame", () => {
  const writer = new WriterHandshake();
  writer.start();
  const bad: unknown[] = [
    // nothing
    undefined,
    // raw bytes instead of a decoded frame
    new Uint8Array(12),
    // content types as strings
    { kind: "control", type: 1, contentTypes: ["a"], offset: 0 },
  ];
  for (const frame of bad) {
    assert.throws(() => writer.receive(frame as Frame), TypeError);
  }
  assert.equal(writer.state, "ready-sent");
});

Deno.test("WriterHandshake hands out copies of content types", () => {
  const mine = ct("a");
  const writer = new WriterHandshake({ contentTypes: [mine] });
  // changing the caller's buffer later changes nothing
  mine[0] = 0x7a;
  writer.start();
  const events = writer.receive(control(ControlType.ACCEPT, "a"));
  const started = events[1];
  assert.ok(started?.type === "started");
  started.contentType![0] = 0x7a;
  writer.contentType![0] = 0x7a;
  assert.deepEqual(writer.contentType, ct("a"));
});
