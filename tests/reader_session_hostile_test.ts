// The protocol-level cases of the hostile-input suite, as pure ReaderSession
// tests (they ran over real sockets in tests/hostile_input_test.ts, which
// keeps the cases about the shell and a few to prove it): the same input,
// the same exact errors, reasons and offsets, each fed whole, re-chunked
// (every split point for small inputs, random cuttings for large ones) and
// through every way of taking data, both engines. The receiver's counters
// follow from the session's outcome: tests/frame_receiver_outcome_test.ts
// holds that mapping.
import assert from "node:assert/strict";
import {
  ControlFrameError,
  ControlType,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  type ReaderSessionOptions,
} from "../mod.ts";
import { rng } from "./_support.ts";
import { concat, ENGINES } from "./_util.ts";
import { rawControl, READY, START, STOP, words } from "./_vectors.ts";
import {
  chunkings,
  closedEvent,
  feed,
  type SessionRun,
  TAKES,
} from "./_reader_session.ts";

const NAME = "ReaderSession under hostile input: ";
const CONTENT_TYPE = 1;
const DEFAULT_MAX_FRAME_LENGTH = 1_048_576;
const OPTIONS: ReaderSessionOptions = { contentTypes: [DNSTAP_CONTENT_TYPE] };

/**
 * Runs `check` on the session fed `input` every way: whole and re-chunked,
 * each way of taking data, each engine.
 */
function everyWay(
  input: Uint8Array,
  check: (run: SessionRun, where: string) => void,
  options: ReaderSessionOptions = OPTIONS,
): void {
  for (const engine of ENGINES) {
    for (const take of TAKES) {
      for (const pieces of chunkings(input)) {
        const where = `${engine}, ${take}, ${pieces.length} pieces`;
        const run = feed(pieces, { ...options, engine }, { take });
        check(run, where);
      }
    }
  }
}

/** The closing error, checked to be an instance of `type`. */
function errorOf<T extends Error>(
  run: SessionRun,
  type: abstract new (...args: never[]) => T,
  where: string,
): T {
  const { error } = closedEvent(run);
  assert.ok(error instanceof type, `${where}: got ${error?.name}`);
  return error;
}

Deno.test(NAME + "random garbage", () => {
  // Seeded garbage (the same bytes every run), 1..8 KiB, in four shapes of
  // five inputs each, every one ending with a typed protocol error:
  // - garbage from the first byte: its first word is over 1 MiB
  //   (FrameTooLargeError);
  // - an escape, then garbage: clen is over 512 (ControlFrameError "length");
  // - a plausible length word (1..4096), then more garbage than that: a
  //   data frame before START (HandshakeError "unexpected-frame");
  // - a valid START, then garbage: FrameTooLargeError inside the stream
  //   (after "started": not a handshake failure).
  const r = rng(7);
  const garbage = (n: number) =>
    Uint8Array.from({ length: n }, () => r() & 0xff);
  const shapes: [Uint8Array, string][] = [];
  for (let i = 0; i < 5; i++) {
    shapes.push([garbage(1 + r() % 8192), "FrameTooLargeError"]);
  }
  for (let i = 0; i < 5; i++) {
    shapes.push([
      concat(words(0), garbage(1 + r() % 8192)),
      "ControlFrameError",
    ]);
  }
  for (let i = 0; i < 5; i++) {
    const length = 1 + r() % 4096;
    shapes.push([
      concat(words(length), garbage(length + 1 + r() % 4096)),
      "HandshakeError",
    ]);
  }
  for (let i = 0; i < 5; i++) {
    shapes.push([concat(START, garbage(1 + r() % 8192)), "started"]);
  }
  for (const [input, expected] of shapes) {
    everyWay(input, (run, where) => {
      const { error } = closedEvent(run);
      if (expected === "started") {
        assert.equal(run.events[0]?.type, "started", where);
        assert.ok(error instanceof FrameTooLargeError, where);
        assert.equal(error.offset, START.length, where);
        assert.ok(run.session.started, where);
        return;
      }
      assert.equal(error?.name, expected, where);
      assert.equal(run.session.started, false, where);
      if (error instanceof ControlFrameError) {
        assert.equal(error.reason, "length", where);
        assert.equal(error.offset, 0, where);
      } else if (error instanceof HandshakeError) {
        assert.equal(error.reason, "unexpected-frame", where);
        assert.equal(
          error.message,
          "Handshake failed: data frame before START",
        );
      } else {
        assert.ok(error instanceof FrameTooLargeError, where);
        assert.equal(error.offset, 0, where);
      }
    });
  }
});

Deno.test(NAME + "a TLS ClientHello on a plain port", () => {
  // A TLS record header (16 03 01, then a length) and the start of a
  // ClientHello: the record header read as a length word.
  const hello = concat(
    Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc),
    new Uint8Array(64).fill(0x03),
  );
  everyWay(hello, (run, where) => {
    // Not Frame Streams at all: its own error (the record header, read as a
    // length, is over the limit and the bytes look like TLS).
    const e = errorOf(run, NotFrameStreamsError, where);
    assert.equal(e.offset, 0, where);
    assert.match(e.message, /data frame of 369\d{6} bytes/);
    assert.match(
      e.message,
      /TLS handshake: is the peer using TLS on a plain port\?/,
    );
    assert.equal(closedEvent(run).stopped, false, where);
  });
});

Deno.test(
  NAME + "a PowerDNS-protobuf 2-byte-length stream (dnsdist RemoteLogger)",
  () => {
    // PBDNSMessage as dnsdist's newRemoteLogger sends it: a 2-byte length,
    // then protobuf (field 1 varint: type; field 2 bytes: message id; ...).
    const r = rng(3);
    const message = (n: number) =>
      concat(
        Uint8Array.of(0x08, 0x01, 0x12, 0x10),
        Uint8Array.from({ length: 16 }, () => r() & 0xff),
        Uint8Array.of(0x1a, n - 22),
        Uint8Array.from({ length: n - 22 }, () => 0x61 + r() % 26),
      );
    const stream = concat(
      ...[120, 140, 96].map((n) => concat(Uint8Array.of(0, n), message(n))),
    );
    everyWay(stream, (run, where) => {
      const e = errorOf(run, NotFrameStreamsError, where);
      assert.equal(e.offset, 0, where);
      // 00 78 | 08 01, read as a length.
      assert.match(e.message, new RegExp(`${0x00780801} bytes`));
      assert.match(
        e.message,
        /2-byte length followed by protobuf, as dnsdist's RemoteLogger sends/,
      );
    });
  },
);

Deno.test(NAME + "a length near 2^32, first and inside the stream", () => {
  // Refused when the length word arrives, never waiting for the payload.
  const first = concat(words(0xffff_fffc), new Uint8Array(16).fill(0xaa));
  everyWay(first, (run, where) => {
    const e = errorOf(run, FrameTooLargeError, where);
    assert.equal(e.offset, 0, where);
    assert.equal(e.length, 0xffff_fffc, where);
    assert.equal(e.maxFrameLength, DEFAULT_MAX_FRAME_LENGTH, where);
  });
  const before = encodeDataFrame("before");
  const inStream = concat(START, before, words(0xffff_ffff));
  everyWay(inStream, (run, where) => {
    const e = errorOf(run, FrameTooLargeError, where);
    assert.equal(e.offset, START.length + before.length, where);
    assert.equal(e.length, 0xffff_ffff, where);
    assert.deepEqual(
      run.events.map((x) => x.type),
      ["started", "data", "closed"],
      where,
    );
  });
});

Deno.test(NAME + "a control frame of 513 bytes and one of 3 bytes", () => {
  // clen 513 as the first frame; clen 3 inside a started stream.
  const long = rawControl(ControlType.READY, [[
    CONTENT_TYPE,
    new Uint8Array(501),
  ]]);
  everyWay(long, (run, where) => {
    const e = errorOf(run, ControlFrameError, where);
    assert.equal(e.reason, "length", where);
    assert.equal(e.offset, 0, where);
    assert.equal(e.errorOffset, 4, where);
    assert.match(e.message, /its length is 513, it must be from 4 to 512/);
    assert.equal(run.session.started, false);
  });
  const one = encodeDataFrame("one");
  const short = concat(START, one, words(0, 3), Uint8Array.of(0, 0, 4));
  everyWay(short, (run, where) => {
    const e = errorOf(run, ControlFrameError, where);
    assert.equal(e.reason, "length", where);
    assert.equal(e.offset, START.length + one.length, where);
    assert.match(e.message, /its length is 3/, where);
    assert.equal(run.session.started, true, "a failure after START");
  });
});

Deno.test(NAME + "an unknown field type", () => {
  const dnstap = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
  const ready = rawControl(ControlType.READY, [
    [CONTENT_TYPE, dnstap],
    [2, Uint8Array.of(1, 2, 3)],
  ]);
  everyWay(ready, (run, where) => {
    assert.equal(run.events.length, 1, "no ACCEPT");
    const e = errorOf(run, ControlFrameError, where);
    assert.equal(e.reason, "field-type", where);
    assert.equal(e.offset, 0, where);
    assert.equal(e.errorOffset, 12 + 8 + dnstap.length, where);
  });
});

Deno.test(NAME + "a content type of 257 bytes", () => {
  const ready = rawControl(ControlType.READY, [[
    CONTENT_TYPE,
    new Uint8Array(257).fill(0x41),
  ]]);
  everyWay(ready, (run, where) => {
    assert.equal(run.events.length, 1, "no ACCEPT");
    const e = errorOf(run, ControlFrameError, where);
    assert.equal(e.reason, "content-type-length", where);
    assert.equal(e.errorOffset, 16, where);
    assert.match(e.message, /content type is 257 bytes, limit 256/, where);
  });
});

Deno.test(NAME + "READY with no common content type", () => {
  const ready = encodeControlFrame(ControlType.READY, [
    "application/x-other",
    "",
  ]);
  everyWay(ready, (run, where) => {
    assert.equal(run.events.length, 1, "no ACCEPT");
    const e = errorOf(run, HandshakeError, where);
    assert.equal(e.reason, "no-common-content-type", where);
  });
});

Deno.test(NAME + "START with two content types", () => {
  // Unidirectional (START first), and after READY / ACCEPT.
  const dnstap = new TextEncoder().encode(DNSTAP_CONTENT_TYPE);
  const start2 = rawControl(ControlType.START, [[CONTENT_TYPE, dnstap], [
    CONTENT_TYPE,
    dnstap,
  ]]);
  for (const input of [start2, concat(READY, start2)]) {
    everyWay(input, (run, where) => {
      const e = errorOf(run, ControlFrameError, where);
      assert.equal(e.reason, "content-type-count", where);
      assert.match(e.message, /START may carry at most 1 content type/);
      assert.equal(run.session.started, false, where);
    });
  }
});

Deno.test(NAME + "STOP with a field", () => {
  const data = encodeDataFrame("data");
  const stop = rawControl(ControlType.STOP, [[
    CONTENT_TYPE,
    Uint8Array.of(0x78),
  ]]);
  everyWay(concat(READY, START, data, stop), (run, where) => {
    assert.deepEqual(
      run.events.map((e) => e.type),
      ["send", "started", "data", "closed"],
      `${where}: no FINISH`,
    );
    const e = errorOf(run, ControlFrameError, where);
    assert.equal(e.reason, "content-type-count", where);
    assert.equal(e.offset, READY.length + START.length + data.length, where);
    assert.equal(closedEvent(run).stopped, false, where);
  });
  // And STOP well formed, for contrast: FINISH, then a clean end.
  everyWay(concat(READY, START, data, STOP), (run, where) => {
    assert.deepEqual(
      run.events.map((e) => e.type),
      ["send", "started", "data", "send", "stopped", "closed"],
      where,
    );
    assert.equal(closedEvent(run).error, null, where);
  });
});
