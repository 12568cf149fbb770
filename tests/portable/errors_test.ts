// Portable: every error class the root exports keeps its standard base
// class, its name and its fields on this runtime (what a Node or Bun caller
// catches on, since Deno.errors are not there).
import assert from "node:assert/strict";
import {
  ControlFrameError,
  FrameTooLargeError,
  HandshakeError,
  NotFrameStreamsError,
  SessionTimeoutError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../../mod.ts";
import { test } from "./_harness.ts";

/** One case: the error, its standard base, and its public fields. */
interface Case {
  error: Error;
  base: ErrorConstructor | RangeErrorConstructor | SyntaxErrorConstructor;
  fields: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    error: new FrameTooLargeError(10, 70_000, 65_536),
    base: RangeError,
    fields: {
      name: "FrameTooLargeError",
      offset: 10,
      length: 70_000,
      maxFrameLength: 65_536,
    },
  },
  {
    error: new TruncatedFrameError(4, 2, 9),
    base: RangeError,
    fields: {
      name: "TruncatedFrameError",
      offset: 4,
      reason: "frame",
      received: 2,
      expected: 9,
    },
  },
  {
    error: new ControlFrameError(0, 4, "length", "control length 3"),
    base: SyntaxError,
    fields: {
      name: "ControlFrameError",
      offset: 0,
      errorOffset: 4,
      reason: "length",
    },
  },
  {
    error: new UnexpectedFrameError(51, 4, "READY inside a stream"),
    base: SyntaxError,
    fields: { name: "UnexpectedFrameError", offset: 51, frameType: 4 },
  },
  {
    error: new NotFrameStreamsError(0, "text"),
    base: SyntaxError,
    fields: { name: "NotFrameStreamsError", offset: 0 },
  },
  {
    error: new HandshakeError("closed", "input ended before START"),
    base: Error,
    fields: { name: "HandshakeError", reason: "closed" },
  },
  {
    error: new SessionTimeoutError("handshake", 5_000, "no READY in 5 s"),
    base: Error,
    fields: {
      name: "SessionTimeoutError",
      reason: "handshake",
      timeout: 5_000,
    },
  },
];

test("error classes keep their base class, name and fields", () => {
  for (const { error, base, fields } of CASES) {
    assert.ok(error instanceof base, error.name);
    assert.ok(error instanceof Error);
    assert.equal(typeof error.stack, "string");
    assert.ok(error.message.length > 0);
    const seen: Record<string, unknown> = { name: error.name };
    for (const key of Object.keys(fields)) {
      seen[key] = (error as unknown as Record<string, unknown>)[key];
    }
    assert.deepEqual(seen, fields);
  }
});
