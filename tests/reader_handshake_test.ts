import assert from "node:assert/strict";
import {
  type ControlFrame,
  ControlType,
  type DataFrame,
  DNSTAP_CONTENT_TYPE,
  type Frame,
  FrameDecoder,
  HandshakeError,
} from "../mod.ts";
import type { HandshakeErrorReason } from "../src/errors.ts";
import { type ReaderEvent, ReaderHandshake } from "../src/reader_handshake.ts";
import { concat, hex } from "./_util.ts";
import {
  ACCEPT,
  ACCEPT_NONE,
  FINISH,
  HELLO,
  READY,
  START as START_V,
  STOP,
} from "./_vectors.ts";

// The byte-exact vectors of PROTOCOL.md §2 (tests/_vectors.ts), written out
// by hand so that these tests fail if the encoder is wrong.

/** "protobuf:dnstap.Dnstap", 22 (0x16) bytes. */
const DNSTAP = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
/** "hello", the payload of the HELLO vector. */
const HELLO_PAYLOAD = HELLO.subarray(4);

/** Hex of bytes, for readable assertion failures. */
function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
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

/** A data frame as a decoder would deliver it. */
function data(payload: string): DataFrame {
  return { kind: "data", data: ct(payload), offset: 0 };
}

/** Decodes `bytes` (hex) with `decoder` and feeds every frame to `reader`. */
function feed(
  decoder: FrameDecoder,
  reader: ReaderHandshake,
  bytes: Uint8Array,
): ReaderEvent[] {
  decoder.push(bytes);
  const events: ReaderEvent[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) {
    events.push(...reader.receive(f));
  }
  return events;
}

/** Feeds frames in order; returns the events of the last one. */
function run(reader: ReaderHandshake, frames: Frame[]): ReaderEvent[] {
  let events: ReaderEvent[] = [];
  for (const f of frames) events = reader.receive(f);
  return events;
}

/** The hex of every "send" event. */
function sent(events: ReaderEvent[]): string[] {
  return events.flatMap((e) => e.type === "send" ? [toHex(e.bytes)] : []);
}

/** Asserts `events` is a single failure with this reason; returns its error. */
function assertFailed(
  events: ReaderEvent[],
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

Deno.test("ReaderHandshake runs a bidirectional dnstap session byte for byte", () => {
  const reader = new ReaderHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  const decoder = new FrameDecoder();
  assert.equal(reader.state, "waiting");
  assert.equal(reader.mode, null);

  const accept = feed(decoder, reader, READY);
  assert.deepEqual(sent(accept), [toHex(ACCEPT)]);
  assert.equal(accept.length, 1);
  assert.equal(reader.state, "accepted");
  assert.equal(reader.mode, "bidirectional");
  assert.deepEqual(reader.acceptedContentTypes, [DNSTAP]);

  // START and the first data frame often arrive in the same read
  const start = feed(decoder, reader, concat(START_V, HELLO, HELLO));
  assert.deepEqual(start, [
    { type: "started", mode: "bidirectional", contentType: DNSTAP },
    { type: "data", data: HELLO_PAYLOAD },
    { type: "data", data: HELLO_PAYLOAD },
  ]);
  assert.equal(reader.state, "data");
  assert.deepEqual(reader.contentType, DNSTAP);

  const stop = feed(decoder, reader, STOP);
  assert.deepEqual(stop.map((e) => e.type), ["send", "stopped"]);
  assert.deepEqual(sent(stop), [toHex(FINISH)]);
  assert.equal(reader.state, "stopped");
});

Deno.test("ReaderHandshake answers STOP with FINISH, then stopped", () => {
  const reader = new ReaderHandshake();
  run(reader, [control(ControlType.READY), control(ControlType.START)]);
  const events = reader.receive(control(ControlType.STOP));
  assert.equal(events.length, 2);
  assert.deepEqual(sent(events), [toHex(FINISH)]);
  assert.deepEqual(events[1], { type: "stopped" });
});

Deno.test("ReaderHandshake answers a READY with no content type", () => {
  const cases: { ours: (string | Uint8Array)[]; accept: Uint8Array }[] = [
    // dnstap reader: ACCEPT lists all of ours, here the one
    { ours: [DNSTAP_CONTENT_TYPE], accept: ACCEPT },
    // neither side names a type: ACCEPT with no content type
    { ours: [], accept: ACCEPT_NONE },
    // several of ours: all of them, in our order ("a", "b")
    {
      ours: ["a", "b"],
      accept: hex(
        "00000000 00000016 00000001 00000001 00000001 61 00000001 00000001 62",
      ),
    },
  ];
  for (const { ours, accept } of cases) {
    const reader = new ReaderHandshake({ contentTypes: ours });
    const events = reader.receive(control(ControlType.READY));
    assert.deepEqual(sent(events), [toHex(accept)]);
    assert.equal(reader.state, "accepted");
  }
});

Deno.test("ReaderHandshake accepts the content types both sides share, in its own order", () => {
  const cases: {
    ours: (string | Uint8Array)[];
    offered: (string | Uint8Array)[];
    accept: Uint8Array;
    accepted: string[];
  }[] = [
    // ours a, b, c against READY c, x, a: a then c, in our order
    {
      ours: ["a", "b", "c"],
      offered: ["c", "x", "a"],
      accept: hex(
        "00000000 00000016 00000001 00000001 00000001 61 00000001 00000001 63",
      ),
      accepted: ["a", "c"],
    },
    // we take any: READY's types echoed, in READY's order
    {
      ours: [],
      offered: ["b", "a"],
      accept: hex(
        "00000000 00000016 00000001 00000001 00000001 62 00000001 00000001 61",
      ),
      accepted: ["b", "a"],
    },
    // one of ours, offered second by READY
    {
      ours: ["b"],
      offered: ["a", "b"],
      accept: hex("00000000 0000000d 00000001 00000001 00000001 62"),
      accepted: ["b"],
    },
    // dnstap among ours, READY offers only dnstap (what every real writer does)
    {
      ours: ["x", DNSTAP_CONTENT_TYPE],
      offered: [DNSTAP_CONTENT_TYPE],
      accept: ACCEPT,
      accepted: [DNSTAP_CONTENT_TYPE],
    },
    // we take any, READY repeats a type: listed once
    {
      ours: [],
      offered: ["a", "a", "b"],
      accept: hex(
        "00000000 00000016 00000001 00000001 00000001 61 00000001 00000001 62",
      ),
      accepted: ["a", "b"],
    },
    // our own duplicates are dropped, a string and its bytes alike
    {
      ours: ["a", ct("a")],
      offered: ["a"],
      accept: hex("00000000 0000000d 00000001 00000001 00000001 61"),
      accepted: ["a"],
    },
  ];
  for (const { ours, offered, accept, accepted } of cases) {
    const reader = new ReaderHandshake({ contentTypes: ours });
    const events = reader.receive(control(ControlType.READY, ...offered));
    assert.deepEqual(sent(events), [toHex(accept)]);
    assert.deepEqual(reader.acceptedContentTypes, accepted.map(ct));
  }
});

Deno.test("ReaderHandshake sends no ACCEPT when no content type is common", () => {
  const cases: {
    ours: (string | Uint8Array)[];
    offered: (string | Uint8Array)[];
  }[] = [
    // dnstap reader, some other writer
    { ours: [DNSTAP_CONTENT_TYPE], offered: ["protobuf:other"] },
    // several on each side, none shared
    { ours: ["a", "b"], offered: ["c", "d"] },
    // the empty content type is not a NUL byte
    { ours: [new Uint8Array(0)], offered: [new Uint8Array([0])] },
    // nor the reverse
    { ours: [new Uint8Array([0])], offered: [new Uint8Array(0)] },
    // "a\0b" is not "a" (a C string compare would stop at the NUL)
    { ours: ["a\0b"], offered: ["a"] },
    // "a\0b" is not "a\0c" (strcmp would call them equal)
    { ours: ["a\0b"], offered: ["a\0c"] },
    // case matters
    {
      ours: [DNSTAP_CONTENT_TYPE],
      offered: [DNSTAP_CONTENT_TYPE.toLowerCase()],
    },
  ];
  for (const { ours, offered } of cases) {
    const reader = new ReaderHandshake({ contentTypes: ours });
    const events = reader.receive(control(ControlType.READY, ...offered));
    const error = assertFailed(events, "no-common-content-type");
    assert.match(error.message, /READY offers .*none of which we accept/);
    assert.equal(reader.state, "failed");
    assert.deepEqual(reader.acceptedContentTypes, []);
  }
});

Deno.test("ReaderHandshake treats the empty content type and NUL bytes as distinct values", () => {
  const empty = new Uint8Array(0);
  const nul = new Uint8Array([0]);
  const aNulB = new Uint8Array([0x61, 0x00, 0x62]);
  const reader = new ReaderHandshake({ contentTypes: [empty, nul, aNulB] });
  const accept = reader.receive(control(ControlType.READY, aNulB, empty));
  // ACCEPT: "" then "a\0b", in our order; clen 4 + 8 + 11 = 23
  assert.deepEqual(sent(accept), [
    toHex(hex(
      "00000000 00000017 00000001 00000001 00000000 00000001 00000003 610062",
    )),
  ]);
  assert.deepEqual(reader.acceptedContentTypes, [empty, aNulB]);
  // START with the empty content type: a value, not "none"
  const start = reader.receive(control(ControlType.START, empty));
  assert.deepEqual(start, [
    { type: "started", mode: "bidirectional", contentType: empty },
  ]);
  assert.deepEqual(reader.contentType, empty);
  assert.notEqual(reader.contentType, null);

  // NUL was ours but not accepted, so START naming it is refused
  const other = new ReaderHandshake({ contentTypes: [empty, nul] });
  other.receive(control(ControlType.READY, empty));
  assertFailed(
    other.receive(control(ControlType.START, nul)),
    "content-type-mismatch",
  );
});

Deno.test("ReaderHandshake accepts a unidirectional stream that begins with START, and sends no FINISH", () => {
  const reader = new ReaderHandshake({ contentTypes: [DNSTAP_CONTENT_TYPE] });
  const decoder = new FrameDecoder();
  const events = feed(
    decoder,
    reader,
    concat(START_V, HELLO, HELLO, STOP),
  );
  assert.deepEqual(events, [
    { type: "started", mode: "unidirectional", contentType: DNSTAP },
    { type: "data", data: HELLO_PAYLOAD },
    { type: "data", data: HELLO_PAYLOAD },
    { type: "stopped" },
  ]);
  assert.equal(reader.mode, "unidirectional");
  assert.equal(reader.state, "stopped");
  assert.deepEqual(reader.acceptedContentTypes, []);
});

Deno.test("ReaderHandshake checks the content type of a unidirectional START", () => {
  const cases: {
    ours: (string | Uint8Array)[];
    start: (string | Uint8Array)[];
    ok: boolean;
  }[] = [
    // the dnstap type, which we take
    { ours: [DNSTAP_CONTENT_TYPE], start: [DNSTAP_CONTENT_TYPE], ok: true },
    // no content type matches anything
    { ours: [DNSTAP_CONTENT_TYPE], start: [], ok: true },
    // we take any
    { ours: [], start: ["x"], ok: true },
    // our second type
    { ours: ["a", "b"], start: ["b"], ok: true },
    // a type we do not take
    { ours: [DNSTAP_CONTENT_TYPE], start: ["x"], ok: false },
    // NUL is not the empty type
    { ours: [new Uint8Array(0)], start: [new Uint8Array([0])], ok: false },
  ];
  for (const { ours, start, ok } of cases) {
    const reader = new ReaderHandshake({ contentTypes: ours });
    const events = reader.receive(control(ControlType.START, ...start));
    if (ok) {
      assert.deepEqual(events, [{
        type: "started",
        mode: "unidirectional",
        contentType: start[0] === undefined ? null : ct(start[0]),
      }]);
      assert.equal(reader.state, "data");
    } else {
      const error = assertFailed(events, "content-type-mismatch");
      assert.match(error.message, /which we do not accept/);
      assert.equal(reader.mode, "unidirectional");
    }
  }
});

Deno.test("ReaderHandshake rejects a data frame before START and does not deliver it", () => {
  const cases: { before: Frame[] }[] = [
    // a data frame first
    { before: [] },
    // a data frame between READY and START
    { before: [control(ControlType.READY)] },
  ];
  for (const { before } of cases) {
    const reader = new ReaderHandshake();
    run(reader, before);
    const events = reader.receive(data("hello"));
    const error = assertFailed(events, "unexpected-frame");
    assert.equal(error.message, "Handshake failed: data frame before START");
    assert.equal(reader.state, "failed");
  }
  // a data frame first decides no mode
  const reader = new ReaderHandshake();
  reader.receive(data("x"));
  assert.equal(reader.mode, null);
});

Deno.test("ReaderHandshake rejects a START whose content type ACCEPT did not list", () => {
  const cases: {
    ours: string[];
    offered: string[];
    start: string[];
    ok: boolean;
  }[] = [
    // ACCEPT listed a only (READY offered a); START b is ours but not accepted
    { ours: ["a", "b"], offered: ["a"], start: ["b"], ok: false },
    // we take any, ACCEPT echoed a; START b was never offered
    { ours: [], offered: ["a"], start: ["b"], ok: false },
    // READY offered none, ACCEPT listed ours (a); START b
    { ours: ["a"], offered: [], start: ["b"], ok: false },
    // START with no content type matches what ACCEPT listed
    { ours: ["a", "b"], offered: ["a", "b"], start: [], ok: true },
    // START the second accepted type
    { ours: ["a", "b"], offered: ["b", "a"], start: ["b"], ok: true },
    // ACCEPT listed none (neither side named a type): START anything
    { ours: [], offered: [], start: ["z"], ok: true },
  ];
  for (const { ours, offered, start, ok } of cases) {
    const reader = new ReaderHandshake({ contentTypes: ours });
    run(reader, [control(ControlType.READY, ...offered)]);
    const events = reader.receive(control(ControlType.START, ...start));
    if (ok) {
      assert.deepEqual(events, [{
        type: "started",
        mode: "bidirectional",
        contentType: start[0] === undefined ? null : ct(start[0]),
      }]);
    } else {
      const error = assertFailed(events, "content-type-mismatch");
      assert.match(
        error.message,
        /START names content type "b", which our ACCEPT did not list/,
      );
      assert.equal(reader.contentType, null);
    }
  }
});

Deno.test("ReaderHandshake fails on a frame out of place", () => {
  const READY = control(ControlType.READY);
  const START = control(ControlType.START);
  const STOP_ = control(ControlType.STOP);
  const ACCEPT = control(ControlType.ACCEPT);
  const FINISH_ = control(ControlType.FINISH);
  const cases: { frames: Frame[]; message: RegExp }[] = [
    // ACCEPT first: only a writer receives ACCEPT
    { frames: [ACCEPT], message: /ACCEPT frame received: a reader never/ },
    // FINISH first: only a writer receives FINISH
    { frames: [FINISH_], message: /FINISH frame received: a reader never/ },
    // ACCEPT in the data phase
    { frames: [READY, START, ACCEPT], message: /ACCEPT frame received/ },
    // FINISH in the data phase
    { frames: [START, FINISH_], message: /FINISH frame received/ },
    // READY twice
    { frames: [READY, READY], message: /READY frame received twice/ },
    // READY after START (unidirectional)
    { frames: [START, READY], message: /READY frame after START/ },
    // STOP first
    { frames: [STOP_], message: /STOP frame before START/ },
    // STOP after ACCEPT, before START
    { frames: [READY, STOP_], message: /STOP frame before START/ },
    // START twice, unidirectional
    { frames: [START, START], message: /START frame received twice/ },
    // START twice, bidirectional
    { frames: [READY, START, START], message: /START frame received twice/ },
    // a data frame after STOP
    { frames: [START, STOP_, data("x")], message: /data frame after STOP/ },
    // a new START after STOP (a file may hold several streams, a socket not)
    { frames: [START, STOP_, START], message: /START frame after STOP/ },
    // STOP twice
    { frames: [READY, START, STOP_, STOP_], message: /STOP frame after STOP/ },
    // READY after STOP
    { frames: [START, STOP_, READY], message: /READY frame after STOP/ },
    // START with two content types (a decoder rejects it; built by hand)
    {
      frames: [control(ControlType.START, "a", "b")],
      message: /START frame carries 2 content types/,
    },
  ];
  for (const { frames, message } of cases) {
    const reader = new ReaderHandshake();
    const error = assertFailed(run(reader, frames), "unexpected-frame");
    assert.match(error.message, message);
    assert.equal(reader.state, "failed");
  }
});

Deno.test("ReaderHandshake returns no events once failed", () => {
  const reader = new ReaderHandshake({ contentTypes: ["a"] });
  assertFailed(
    reader.receive(control(ControlType.READY, "b")),
    "no-common-content-type",
  );
  for (
    const frame of [
      control(ControlType.READY, "a"),
      control(ControlType.START, "a"),
      data("x"),
      control(ControlType.STOP),
    ]
  ) {
    assert.deepEqual(reader.receive(frame), []);
    assert.equal(reader.state, "failed");
  }
});

Deno.test("ReaderHandshake ignores control frames of unknown type", () => {
  const unknown = control(99);
  const reader = new ReaderHandshake();
  // before anything
  assert.deepEqual(reader.receive(unknown), []);
  assert.equal(reader.state, "waiting");
  reader.receive(control(ControlType.READY));
  // between ACCEPT and START
  assert.deepEqual(reader.receive(unknown), []);
  assert.equal(reader.state, "accepted");
  reader.receive(control(ControlType.START));
  // in the data phase
  assert.deepEqual(reader.receive(unknown), []);
  assert.equal(reader.state, "data");
});

Deno.test("ReaderHandshake rejects bad options", () => {
  const typeErrors: unknown[] = [
    // options not an object
    null,
    // contentTypes not an array
    { contentTypes: "protobuf:dnstap.Dnstap" },
    // a content type neither string nor bytes
    { contentTypes: [42] },
  ];
  for (const options of typeErrors) {
    assert.throws(
      () => new ReaderHandshake(options as never),
      TypeError,
    );
  }
  // a content type over 256 bytes
  assert.throws(
    () => new ReaderHandshake({ contentTypes: ["x".repeat(257)] }),
    RangeError,
  );
  // an ACCEPT of 4 + (8 + 256) + (8 + 228) = 504 bytes, over the 503 we write
  assert.throws(
    () =>
      new ReaderHandshake({ contentTypes: ["x".repeat(256), "y".repeat(228)] }),
    (e) =>
      e instanceof RangeError &&
      /would be 504 bytes, limit 503/.test(e.message),
  );
});

Deno.test("ReaderHandshake writes an ACCEPT of exactly 503 bytes of payload", () => {
  const ours = ["x".repeat(256), "y".repeat(227)];
  const reader = new ReaderHandshake({ contentTypes: ours });
  const [event] = reader.receive(control(ControlType.READY));
  assert.ok(event?.type === "send");
  assert.equal(event.bytes.length, 8 + 503);
  assert.equal(toHex(event.bytes.subarray(0, 12)), "00000000000001f700000001");
});

Deno.test("ReaderHandshake taking any type echoes only what fits in 503 bytes", () => {
  // READY of 4 + (8 + 256) + (8 + 236) = 512 bytes, the most a decoder takes
  const first = "a".repeat(256);
  const reader = new ReaderHandshake();
  const [event] = reader.receive(
    control(ControlType.READY, first, "b".repeat(236)),
  );
  assert.ok(event?.type === "send");
  // the writer's first (preferred) type only: 4 + 8 + 256 = 268 = 0x10c
  assert.equal(event.bytes.length, 8 + 268);
  assert.equal(toHex(event.bytes.subarray(0, 12)), "000000000000010c00000001");
  assert.deepEqual(reader.acceptedContentTypes, [ct(first)]);
});

Deno.test("ReaderHandshake rejects a value that is not a frame", () => {
  const reader = new ReaderHandshake();
  const bad: unknown[] = [
    // nothing
    undefined,
    // raw bytes instead of a decoded frame
    new Uint8Array(12),
    // an unknown kind
    { kind: "other" },
    // content types as strings
    { kind: "control", type: 4, contentTypes: ["a"], offset: 0 },
    // a data frame without bytes
    { kind: "data", data: "hello", offset: 0 },
  ];
  for (const frame of bad) {
    assert.throws(() => reader.receive(frame as Frame), TypeError);
  }
  assert.equal(reader.state, "waiting");
});

Deno.test("ReaderHandshake hands out copies of content types", () => {
  const mine = ct("a");
  const reader = new ReaderHandshake({ contentTypes: [mine] });
  // changing the caller's buffer later changes nothing
  mine[0] = 0x7a;
  reader.receive(control(ControlType.READY, "a"));
  assert.deepEqual(reader.acceptedContentTypes, [ct("a")]);
  reader.acceptedContentTypes[0]![0] = 0x7a;
  assert.deepEqual(reader.acceptedContentTypes, [ct("a")]);
  reader.receive(control(ControlType.START, "a"));
  reader.contentType![0] = 0x7a;
  assert.deepEqual(reader.contentType, ct("a"));
});
