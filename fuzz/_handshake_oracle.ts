// Private: oracles of the two handshake state machines. CheckedReader and
// CheckedWriter wrap a ReaderHandshake and a WriterHandshake, work out what
// PROTOCOL.md §3 and §5 say each call must give, and check every call: its
// events exactly (sent bytes must decode as one valid control frame of at
// most 503 bytes of payload), the state, mode and content types after it,
// "started", "stopped", "finished" and "failed" at most once and nothing
// after "failed" (or after "finished"), and only documented TypeErrors
// thrown.
import {
  type ControlFrame,
  decodeControlFrame,
  type Frame,
  HandshakeError,
} from "../mod.ts";
import type {
  ReaderEvent,
  ReaderHandshake,
  ReaderHandshakeState,
} from "../src/reader_handshake.ts";
import type {
  WriterEvent,
  WriterHandshake,
  WriterHandshakeState,
} from "../src/writer_handshake.ts";
import {
  assertSame,
  bytesEqual,
  describeThrown,
  fail,
  json,
  short,
} from "./_assert.ts";
import { fromHex } from "./_case.ts";

/** Whether `list` holds bytes equal to `item`. */
export function includes(
  list: readonly Uint8Array[],
  item: Uint8Array,
): boolean {
  return list.some((x) => bytesEqual(x, item));
}

/** `list` without repeats (the first of equal ones kept). */
function dedup(list: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const t of list) if (!includes(out, t)) out.push(t);
  return out;
}

/** What a constructor given `types` must do: accept them, or throw. */
export function expectedTypes(
  v: string[] | number | null,
  limit503: boolean,
): Uint8Array[] | "TypeError" | "RangeError" {
  if (!Array.isArray(v)) return "TypeError";
  const list = v.map(fromHex);
  if (list.some((t) => t.length > 256)) return "RangeError";
  const ours = dedup(list);
  let clen = 4;
  for (const t of ours) clen += 8 + t.length;
  if (limit503 && clen > 503) return "RangeError";
  return ours;
}

/** Decodes bytes a handshake asks to send: exactly one valid control frame. */
function sentFrame(bytes: Uint8Array, where: string): ControlFrame {
  if (!(bytes instanceof Uint8Array)) {
    fail("invariant", `${where}: send without bytes`);
  }
  let frame: ControlFrame;
  try {
    frame = decodeControlFrame(bytes);
  } catch (e) {
    return fail(
      "invariant",
      `${where}: sent bytes ${short(bytes)} are not one valid control frame: ${
        describeThrown(e)
      }`,
    );
  }
  if (bytes.length - 8 > 503) {
    fail(
      "invariant",
      `${where}: sent a control frame of ${bytes.length - 8} bytes, over 503`,
    );
  }
  return frame;
}

/** An event as expected: type and what matters of it. */
type Expected =
  | { type: "send"; control: number; contentTypes: Uint8Array[] }
  | { type: "started"; mode?: string; contentType: Uint8Array | null }
  | { type: "data"; data: Uint8Array }
  | { type: "stopped" }
  | { type: "finished" }
  | { type: "failed"; reason: string };

/** Fails unless `events` are exactly `expected`. */
function assertEvents(
  events: readonly (ReaderEvent | WriterEvent)[],
  expected: readonly Expected[],
  where: string,
): void {
  if (!Array.isArray(events)) fail("invariant", `${where}: returned no array`);
  const shape = (e: ReaderEvent | WriterEvent | Expected) => e.type;
  if (
    events.length !== expected.length ||
    events.some((e, i) => e.type !== expected[i]!.type)
  ) {
    fail(
      "invariant",
      `${where}: events [${events.map(shape).join(", ")}], expected [${
        expected.map(shape).join(", ")
      }]${
        events.find((e) => e.type === "failed") !== undefined
          ? ` (failed: ${
            (events.find((e) => e.type === "failed") as { error: Error }).error
              .message
          })`
          : ""
      }`,
    );
  }
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const x = expected[i]!;
    if (e.type === "send" && x.type === "send") {
      const f = sentFrame(e.bytes, where);
      assertSame(
        { type: f.type, contentTypes: f.contentTypes },
        { type: x.control, contentTypes: x.contentTypes },
        `${where}: sent the wrong control frame`,
        "invariant",
      );
    } else if (e.type === "started" && x.type === "started") {
      const got: Record<string, unknown> = { contentType: e.contentType };
      if ("mode" in e) got.mode = e.mode;
      const want: Record<string, unknown> = { contentType: x.contentType };
      if (x.mode !== undefined) want.mode = x.mode;
      assertSame(got, want, `${where}: "started" is wrong`, "invariant");
    } else if (e.type === "data" && x.type === "data") {
      if (e.data !== x.data) {
        fail(
          "invariant",
          `${where}: "data" does not hand over the frame's payload`,
        );
      }
    } else if (e.type === "failed" && x.type === "failed") {
      if (!(e.error instanceof HandshakeError) || e.error.reason !== x.reason) {
        fail(
          "invariant",
          `${where}: "failed" with ${describeThrown(e.error)} (reason ${
            (e.error as HandshakeError).reason
          }), expected reason ${x.reason}`,
        );
      }
    }
  }
}

/** Fails unless a state machine's state is the one expected. */
function assertState(state: string, expected: string, where: string): void {
  if (state !== expected) {
    fail("invariant", `${where}: state "${state}", expected "${expected}"`);
  }
}

/** Counts the one-time events of one state machine. */
class OnceEvents {
  #seen = new Map<string, number>();
  #final: string | null = null;
  constructor(readonly where: string) {}
  add(events: readonly (ReaderEvent | WriterEvent)[]): void {
    for (const e of events) {
      if (this.#final !== null) {
        fail("invariant", `${this.where}: "${e.type}" after "${this.#final}"`);
      }
      if (e.type === "send" || e.type === "data") continue;
      const n = (this.#seen.get(e.type) ?? 0) + 1;
      this.#seen.set(e.type, n);
      if (n > 1) fail("invariant", `${this.where}: "${e.type}" twice`);
      if (e.type === "failed" || e.type === "finished") this.#final = e.type;
    }
  }
}

/**
 * What the two checked state machines share: the machine, the events it
 * gave, its calls counted, and the refusal of things that are no Frame.
 */
abstract class CheckedMachine<
  H extends ReaderHandshake | WriterHandshake,
  E extends ReaderEvent | WriterEvent,
> {
  readonly hs: H;
  readonly where: string;
  readonly events: E[] = [];
  #once: OnceEvents;
  #calls = 0;

  constructor(hs: H, where: string) {
    this.hs = hs;
    this.where = where;
    this.#once = new OnceEvents(where);
  }

  /** Hands receive() something that is no Frame: its TypeError is due. */
  junk(value: unknown): void {
    const where = this.call(
      `receive() of no Frame`,
      json(value) ?? "undefined",
    );
    try {
      this.hs.receive(value as Frame);
    } catch (e) {
      if (
        !(e instanceof TypeError) ||
        !e.message.startsWith("Cannot handle frame")
      ) {
        fail(
          "crash",
          `${where} threw ${describeThrown(e)}, expected its TypeError`,
        );
      }
      this.verifyState(where);
      return;
    }
    fail("invariant", `${where} did not throw a TypeError`);
  }

  /** Counts a call; says where it is for messages. */
  protected call(what: string, arg: string): string {
    return `${this.where} ${what} (call ${++this.#calls}${
      arg === "" ? "" : ` with ${arg}`
    })`;
  }

  /** Checks the events of a call against `expected`, then the state. */
  protected record(
    events: E[],
    expected: readonly Expected[],
    where: string,
  ): void {
    assertEvents(events, expected, where);
    this.#once.add(events);
    this.events.push(...events);
    this.verifyState(where);
  }

  /** Fails unless the machine's state is what the oracle expects. */
  protected abstract verifyState(where: string): void;
}

/** A ReaderHandshake and its oracle, checking every call. */
export class CheckedReader
  extends CheckedMachine<ReaderHandshake, ReaderEvent> {
  #ours: Uint8Array[];
  #state: ReaderHandshakeState = "waiting";
  #mode: "bidirectional" | "unidirectional" | null = null;
  #accepted: Uint8Array[] = [];
  #contentType: Uint8Array | null = null;

  constructor(hs: ReaderHandshake, ours: Uint8Array[], where: string) {
    super(hs, where);
    this.#ours = ours;
  }

  get state(): ReaderHandshakeState {
    return this.#state;
  }

  receive(frame: Frame): ReaderEvent[] {
    const where = this.call(
      `receive() in "${this.#state}"`,
      describeFrame(frame),
    );
    const expected = this.#expect(frame);
    let events: ReaderEvent[];
    try {
      events = this.hs.receive(frame);
    } catch (e) {
      return fail("crash", `${where} threw ${describeThrown(e)}`);
    }
    this.record(events, expected, where);
    return events;
  }

  protected override verifyState(where: string): void {
    const hs = this.hs;
    assertState(hs.state, this.#state, where);
    if (hs.mode !== this.#mode) {
      fail("invariant", `${where}: mode ${hs.mode}, expected ${this.#mode}`);
    }
    assertSame(
      hs.contentType,
      this.#contentType,
      `${where}: contentType`,
      "invariant",
    );
    assertSame(
      hs.acceptedContentTypes,
      this.#accepted,
      `${where}: acceptedContentTypes`,
      "invariant",
    );
    // The getters hand out copies: scribbling on them changes nothing.
    const ct = hs.contentType;
    if (ct !== null && ct.length > 0) {
      ct[0] = ct[0]! ^ 0xff;
      assertSame(
        hs.contentType,
        this.#contentType,
        `${where}: contentType is not a copy`,
        "invariant",
      );
    }
  }

  #fail(reason: string): Expected[] {
    this.#state = "failed";
    return [{ type: "failed", reason }];
  }

  /** What PROTOCOL.md §3 and §5 say the reader does with `frame`. */
  #expect(frame: Frame): Expected[] {
    const s = this.#state;
    if (s === "failed") return [];
    if (frame.kind === "data") {
      if (s === "data") return [{ type: "data", data: frame.data }];
      return this.#fail("unexpected-frame");
    }
    const type = frame.type;
    if (!(type >= 1 && type <= 5)) return [];
    if (s === "stopped") return this.#fail("unexpected-frame");
    const offered = frame.contentTypes;
    if (type === 4) {
      // READY: only first.
      if (s !== "waiting") return this.#fail("unexpected-frame");
      this.#mode = "bidirectional";
      const ours = this.#ours;
      let matched: Uint8Array[];
      if (ours.length === 0) {
        // Anything goes: echo READY's types (no duplicates, none over 256
        // bytes), as many as fit in 503 bytes.
        matched = [];
        let clen = 4;
        for (const t of offered) {
          if (t.length > 256 || includes(matched, t)) continue;
          if (clen + 8 + t.length > 503) break;
          clen += 8 + t.length;
          matched.push(t.slice());
        }
      } else if (offered.length === 0) {
        matched = ours;
      } else {
        matched = ours.filter((t) => includes(offered, t));
        if (matched.length === 0) return this.#fail("no-common-content-type");
      }
      this.#accepted = matched.map((t) => t.slice());
      this.#state = "accepted";
      return [{ type: "send", control: 1, contentTypes: matched }];
    }
    if (type === 2) {
      // START: first (unidirectional) or after ACCEPT.
      if (s === "data") return this.#fail("unexpected-frame");
      const bidirectional = s === "accepted";
      if (!bidirectional) this.#mode = "unidirectional";
      if (offered.length > 1) return this.#fail("unexpected-frame");
      const ct = offered[0] ?? null;
      const allowed = bidirectional ? this.#accepted : this.#ours;
      if (ct !== null && allowed.length > 0 && !includes(allowed, ct)) {
        return this.#fail("content-type-mismatch");
      }
      this.#contentType = ct === null ? null : ct.slice();
      this.#state = "data";
      return [{
        type: "started",
        mode: bidirectional ? "bidirectional" : "unidirectional",
        contentType: ct,
      }];
    }
    if (type === 3) {
      if (s !== "data") return this.#fail("unexpected-frame");
      this.#state = "stopped";
      return this.#mode === "bidirectional"
        ? [{ type: "send", control: 5, contentTypes: [] }, { type: "stopped" }]
        : [{ type: "stopped" }];
    }
    // ACCEPT and FINISH go to writers only.
    return this.#fail("unexpected-frame");
  }
}

/** A WriterHandshake and its oracle, checking every call. */
export class CheckedWriter
  extends CheckedMachine<WriterHandshake, WriterEvent> {
  #ours: Uint8Array[];
  #bidirectional: boolean;
  #state: WriterHandshakeState = "idle";
  #contentType: Uint8Array | null = null;

  constructor(
    hs: WriterHandshake,
    ours: Uint8Array[],
    bidirectional: boolean,
    where: string,
  ) {
    super(hs, where);
    this.#ours = ours;
    this.#bidirectional = bidirectional;
  }

  get state(): WriterHandshakeState {
    return this.#state;
  }

  start(): WriterEvent[] {
    return this.#call("start()", "", () => this.hs.start(), () => {
      if (this.#state !== "idle") return null;
      if (this.#bidirectional) {
        this.#state = "ready-sent";
        return [{ type: "send", control: 4, contentTypes: this.#ours }];
      }
      return this.#sendStart(this.#ours[0] ?? null);
    });
  }

  stop(): WriterEvent[] {
    return this.#call("stop()", "", () => this.hs.stop(), () => {
      if (this.#state !== "data") return null;
      if (this.#bidirectional) {
        this.#state = "stopping";
        return [{ type: "send", control: 3, contentTypes: [] }];
      }
      this.#state = "finished";
      return [{ type: "send", control: 3, contentTypes: [] }, {
        type: "finished",
      }];
    });
  }

  receive(frame: Frame): WriterEvent[] {
    return this.#call(
      "receive()",
      describeFrame(frame),
      () => this.hs.receive(frame),
      () => this.#expect(frame),
    );
  }

  /**
   * Calls `run`; `expect` gives the events due, or null when the call must
   * throw its documented TypeError (start twice, stop out of "data").
   */
  #call(
    what: string,
    arg: string,
    run: () => WriterEvent[],
    expect: () => Expected[] | null,
  ): WriterEvent[] {
    const where = this.call(`${what} in "${this.#state}"`, arg);
    const expected = expect();
    let events: WriterEvent[];
    try {
      events = run();
    } catch (e) {
      if (
        expected === null && e instanceof TypeError &&
        e.message.startsWith("Cannot")
      ) {
        this.verifyState(where);
        return [];
      }
      return fail("crash", `${where} threw ${describeThrown(e)}`);
    }
    if (expected === null) {
      fail("invariant", `${where} did not throw its TypeError`);
    }
    this.record(events, expected, where);
    return events;
  }

  protected override verifyState(where: string): void {
    const hs = this.hs;
    assertState(hs.state, this.#state, where);
    assertSame(
      hs.contentType,
      this.#contentType,
      `${where}: contentType`,
      "invariant",
    );
  }

  #sendStart(ct: Uint8Array | null): Expected[] {
    this.#contentType = ct === null ? null : ct.slice();
    this.#state = "data";
    return [
      { type: "send", control: 2, contentTypes: ct === null ? [] : [ct] },
      { type: "started", contentType: ct },
    ];
  }

  #fail(reason: string): Expected[] {
    this.#state = "failed";
    return [{ type: "failed", reason }];
  }

  /** What PROTOCOL.md §3 and §5 say the writer does with `frame`. */
  #expect(frame: Frame): Expected[] {
    const s = this.#state;
    if (s === "failed" || s === "finished") return [];
    if (frame.kind === "data") return this.#fail("unexpected-frame");
    const type = frame.type;
    if (!(type >= 1 && type <= 5)) return [];
    if (type === 1) {
      // ACCEPT: only after READY. The first of ours it lists.
      if (s !== "ready-sent") return this.#fail("unexpected-frame");
      const listed = frame.contentTypes;
      const ours = this.#ours;
      if (listed.length === 0) return this.#sendStart(ours[0] ?? null);
      if (ours.length === 0) return this.#sendStart(null);
      const chosen = ours.find((t) => includes(listed, t));
      if (chosen === undefined) return this.#fail("no-common-content-type");
      return this.#sendStart(chosen);
    }
    if (type === 5) {
      // FINISH: only after STOP.
      if (s !== "stopping") return this.#fail("unexpected-frame");
      this.#state = "finished";
      return [{ type: "finished" }];
    }
    return this.#fail("unexpected-frame");
  }
}

function describeFrame(f: Frame): string {
  if (f.kind === "data") return `data ${short(f.data)}`;
  return `control ${f.type} [${f.contentTypes.map(short).join(", ")}]`;
}
