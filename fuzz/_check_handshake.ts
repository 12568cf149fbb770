// Private: the handshake fuzz target. ReaderHandshake and WriterHandshake are
// fed scripts of frames (valid, invalid, junk), bytes through a FrameDecoder,
// start() and stop(), or talk to each other through bytes with messages
// dropped, duplicated or garbage injected. Every call is checked by the
// state machine's oracle (_handshake_oracle.ts): its events exactly those
// PROTOCOL.md §3 and §5 prescribe, valid control frames sent, one-time
// events once, nothing after "failed"; only documented TypeErrors thrown.
// Honest peers with a common content type always complete and agree on it.
import { encodeDataFrame, type Frame, FrameDecoder } from "../mod.ts";
import { type ReaderEvent, ReaderHandshake } from "../src/reader_handshake.ts";
import { type WriterEvent, WriterHandshake } from "../src/writer_handshake.ts";
import {
  assertSame,
  decodeErrorRecord,
  describeThrown,
  fail,
  FuzzFailure,
  json,
} from "./_assert.ts";
import { fromHex } from "./_case.ts";
import {
  type FrameJson,
  type HandshakeCase,
  handshakeCaseArb,
  type Step,
} from "./_handshake_cases.ts";
import {
  CheckedReader,
  CheckedWriter,
  expectedTypes,
  includes,
} from "./_handshake_oracle.ts";
import { defineTarget, type FuzzTarget } from "./_target.ts";

function frameFromJson(f: FrameJson): Frame {
  return f.kind === "data"
    ? { kind: "data", data: fromHex(f.data), offset: 0 }
    : {
      kind: "control",
      type: f.type,
      contentTypes: f.contentTypes.map(fromHex),
      offset: 0,
    };
}

/** Things that are not Frames, for receive() to refuse with a TypeError. */
const JUNK: readonly unknown[] = [
  null,
  undefined,
  42,
  "frame",
  {},
  { kind: "data", data: "x" },
  { kind: "data" },
  { kind: "control", type: "2", contentTypes: [] },
  { kind: "control", type: 2, contentTypes: ["x"] },
  { kind: "control", type: 2 },
  { kind: "other", data: new Uint8Array(1) },
  [new Uint8Array(1)],
];

/** The content types of a case as the constructors get them. */
function typesOf(v: string[] | number | null): unknown {
  return Array.isArray(v) ? v.map(fromHex) : v;
}

/**
 * Makes a state machine with `make`, as the case's content types `v` say
 * (`limit503`: whether their list must fit a control frame we write): the
 * machine and its content types, or null if the constructor must throw (and
 * threw the right error).
 */
function construct<T>(
  v: string[] | number | null,
  limit503: boolean,
  where: string,
  make: (types: Uint8Array[]) => T,
): { hs: T; ours: Uint8Array[] } | null {
  const expected = expectedTypes(v, limit503);
  let hs: T;
  try {
    hs = make(typesOf(v) as Uint8Array[]);
  } catch (e) {
    if (
      typeof expected === "string" && e instanceof Error &&
      e.constructor.name === expected
    ) {
      return null;
    }
    return fail(
      "crash",
      `new ${where} threw ${describeThrown(e)}, expected ${json(expected)}`,
    );
  }
  if (typeof expected === "string") {
    fail(
      "invariant",
      `new ${where} accepted content types it must refuse (${expected})`,
    );
  }
  return { hs, ours: expected };
}

/** Makes a state machine as the case says; null if its constructor must throw (and did). */
function makeReader(c: HandshakeCase): CheckedReader | null {
  const where = "ReaderHandshake";
  const made = construct(
    c.readerTypes,
    true,
    where,
    (contentTypes) => new ReaderHandshake({ contentTypes }),
  );
  return made === null ? null : new CheckedReader(made.hs, made.ours, where);
}

/** {@linkcode makeReader} for the writer. */
function makeWriter(c: HandshakeCase): CheckedWriter | null {
  const where = `WriterHandshake (${
    c.bidirectional ? "bidirectional" : "unidirectional"
  })`;
  const made = construct(
    c.writerTypes,
    c.bidirectional,
    where,
    (contentTypes) =>
      new WriterHandshake({ contentTypes, bidirectional: c.bidirectional }),
  );
  return made === null
    ? null
    : new CheckedWriter(made.hs, made.ours, c.bidirectional, where);
}

/** Drains `decoder` into `take`; false once it threw (a typed error). */
function drainInto(
  decoder: FrameDecoder,
  take: (f: Frame) => void,
  where: string,
): boolean {
  try {
    for (let f = decoder.next(); f !== null; f = decoder.next()) take(f);
    return true;
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    decodeErrorRecord(e, where);
    return false;
  }
}

function checkHandshake(c: HandshakeCase): void {
  if (c.role === "pair") return checkPair(c);
  const machine = c.role === "reader" ? makeReader(c) : makeWriter(c);
  if (machine === null) return;
  const decoder = new FrameDecoder({
    engine: c.steps.length % 2 === 0 ? "ts" : "wasm",
  });
  let open = true;
  for (const step of c.steps as Step[]) {
    switch (step.op) {
      case "frame":
        machine.receive(frameFromJson(step.frame));
        break;
      case "junk":
        machine.junk(JUNK[step.value % JUNK.length]);
        break;
      case "bytes":
        if (!open) break;
        decoder.push(fromHex(step.hex));
        open = drainInto(
          decoder,
          (f) => machine.receive(f),
          `${machine.where}'s FrameDecoder`,
        );
        break;
      case "start":
        if (machine instanceof CheckedWriter) machine.start();
        break;
      case "stop":
        if (machine instanceof CheckedWriter) machine.stop();
        break;
    }
  }
}

/**
 * A writer and a reader talking through bytes: each message encoded, cut
 * into pieces, decoded by the peer's FrameDecoder. Perturbations drop,
 * duplicate or prefix messages. Honest peers must complete and agree.
 */
function checkPair(c: HandshakeCase): void {
  const reader = makeReader(c);
  const writer = makeWriter(c);
  if (reader === null || writer === null) return;
  const payloads = (c.payloads ?? []).map(fromHex).filter((p) => p.length > 0);
  const toReader = new FrameDecoder({
    engine: payloads.length % 2 ? "wasm" : "ts",
  });
  const toWriter = new FrameDecoder({
    engine: payloads.length % 2 ? "ts" : "wasm",
  });
  const queue: { to: "reader" | "writer"; bytes: Uint8Array }[] = [];
  let readerOpen = true;
  let writerOpen = true;
  const received: Uint8Array[] = [];
  const fromWriter = (events: WriterEvent[]) => {
    for (const e of events) {
      if (e.type === "send") queue.push({ to: "reader", bytes: e.bytes });
      else if (e.type === "started") {
        for (const p of payloads) {
          queue.push({ to: "reader", bytes: encodeDataFrame(p) });
        }
        fromWriter(writer.stop());
      } else if (e.type === "failed" || e.type === "finished") {
        writerOpen = false;
      }
    }
  };
  const fromReader = (events: ReaderEvent[]) => {
    for (const e of events) {
      if (e.type === "send") queue.push({ to: "writer", bytes: e.bytes });
      else if (e.type === "data") received.push(e.data.slice());
      else if (e.type === "failed" || e.type === "stopped") readerOpen = false;
    }
  };
  const perturb = c.perturb ?? [];
  const piece = c.piece ?? 0;
  const deliver = (to: "reader" | "writer", bytes: Uint8Array) => {
    if (to === "reader" ? !readerOpen : !writerOpen) return;
    const decoder = to === "reader" ? toReader : toWriter;
    const step = piece > 0 ? piece : Math.max(1, bytes.length);
    for (let at = 0; at < bytes.length; at += step) {
      decoder.push(bytes.subarray(at, at + step));
      const ok = drainInto(
        decoder,
        (f) => {
          if (to === "reader") {
            if (readerOpen) fromReader(reader.receive(f));
          } else if (writerOpen) fromWriter(writer.receive(f));
        },
        `${to === "reader" ? reader.where : writer.where}'s FrameDecoder`,
      );
      if (!ok) {
        if (to === "reader") readerOpen = false;
        else writerOpen = false;
        return;
      }
    }
  };
  fromWriter(writer.start());
  let m = 0;
  while (queue.length > 0) {
    if (m > 1_000) {
      fail("invariant", "the conversation does not end (over 1,000 messages)");
    }
    const msg = queue.shift()!;
    let copies = 1;
    for (const p of perturb) {
      if (p.at !== m) continue;
      if (p.op === "drop") copies = 0;
      else if (p.op === "duplicate") copies++;
      else if (p.hex !== undefined) deliver(msg.to, fromHex(p.hex));
    }
    for (let i = 0; i < copies; i++) deliver(msg.to, msg.bytes);
    m++;
  }
  if (perturb.length > 0) return;
  // Honest peers: complete, unless their content types do not meet.
  const R = expectedTypes(c.readerTypes, true) as Uint8Array[];
  const W = expectedTypes(c.writerTypes, c.bidirectional) as Uint8Array[];
  let mismatch: string | null = null;
  if (c.bidirectional) {
    if (R.length > 0 && W.length > 0 && !W.some((t) => includes(R, t))) {
      mismatch = "no-common-content-type";
    }
  } else if (W.length > 0 && R.length > 0 && !includes(R, W[0]!)) {
    mismatch = "content-type-mismatch";
  }
  const failed = reader.events.find((e) => e.type === "failed");
  if (mismatch !== null) {
    if (failed === undefined || failed.error.reason !== mismatch) {
      fail(
        "invariant",
        `honest peers with no common content type: the reader did not fail with ${mismatch}`,
      );
    }
    return;
  }
  if (reader.state !== "stopped" || writer.state !== "finished") {
    fail(
      "invariant",
      `honest peers did not complete: reader "${reader.state}", writer "${writer.state}"${
        failed !== undefined ? ` (reader failed: ${failed.error.message})` : ""
      }`,
    );
  }
  assertSame(
    reader.hs.contentType,
    writer.hs.contentType,
    "honest peers disagree on the content type",
    "invariant",
  );
  const ct = writer.hs.contentType;
  if (ct !== null && R.length > 0 && !includes(R, ct)) {
    fail(
      "invariant",
      "the stream's content type is not one the reader accepts",
    );
  }
  assertSame(
    received,
    payloads,
    "the reader did not receive the writer's data frames",
    "invariant",
  );
}

/** The handshake target. */
export const handshakeTarget: FuzzTarget = defineTarget<HandshakeCase>({
  name: "handshake",
  about: "ReaderHandshake and WriterHandshake, alone and in pairs",
  arb: handshakeCaseArb,
  sync: true,
  check: checkHandshake,
});
