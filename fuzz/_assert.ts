// Private: how the fuzz targets fail and compare. A check that fails throws a
// FuzzFailure saying what kind of failure and what exactly; the helpers here
// compare what two paths observed (as JSON, naming the first difference),
// print bytes briefly, and tell the decoder's documented errors from crashes.
import {
  ControlFrameError,
  FrameTooLargeError,
  NotFrameStreamsError,
  TruncatedFrameError,
  UnexpectedFrameError,
} from "../mod.ts";
import { type FailureKind, toHex } from "./_case.ts";

/** A check that failed: what kind of failure, and what exactly. */
export class FuzzFailure extends Error {
  /** What kind of failure. */
  readonly kind: FailureKind;

  /**
   * Makes the failure.
   *
   * @param kind What kind of failure.
   * @param message What exactly.
   */
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.name = "FuzzFailure";
    this.kind = kind;
  }
}

/** Thrown on purpose by a callback a check hands the library. */
export const SENTINEL: Error = new Error("onData throws on purpose");

/** Throws a {@linkcode FuzzFailure}. */
export function fail(kind: FailureKind, message: string): never {
  throw new FuzzFailure(kind, message);
}

/** The big-endian 32-bit word at `p`. */
export function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>>
    0;
}

/** Whether two byte arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Short printable form of bytes (hex, or length and head for large ones). */
export function short(bytes: Uint8Array): string {
  if (bytes.length <= 64) return toHex(bytes);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return `${bytes.length} bytes, fnv1a ${(h >>> 0).toString(16)}, head ${
    toHex(bytes.subarray(0, 16))
  }`;
}

/** What was thrown, in a line: class and message. */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `non-Error ${typeof e}: ${String(e)}`;
}

/** Whether `e` is one of the decoder's documented typed errors. */
function isDecodeError(e: unknown): boolean {
  return e instanceof FrameTooLargeError || e instanceof TruncatedFrameError ||
    e instanceof ControlFrameError || e instanceof UnexpectedFrameError ||
    e instanceof NotFrameStreamsError;
}

/** Fails unless `e` is a documented decoding error; returns it as a record. */
export function decodeErrorRecord(e: unknown, where: string): ErrorRecord {
  if (!isDecodeError(e)) {
    fail(
      "crash",
      `${where} threw ${describeThrown(e)}, not a typed decoding error${
        e instanceof Error && e.stack ? `\n${e.stack}` : ""
      }`,
    );
  }
  const error = e as Error;
  const ok = (error instanceof FrameTooLargeError ||
      error instanceof TruncatedFrameError)
    ? error instanceof RangeError
    : error instanceof SyntaxError;
  if (!ok) {
    fail("invariant", `${where}: ${error.name} has the wrong base class`);
  }
  return errorRecord(error);
}

/** An error as plain data: class, name, message, own fields. */
export interface ErrorRecord {
  class: string;
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

/** An error as an {@linkcode ErrorRecord}. */
function errorRecord(e: Error): ErrorRecord {
  return {
    class: e.constructor.name,
    name: e.name,
    message: e.message,
    fields: { ...e },
  };
}

/** Stable JSON for comparisons (Uint8Arrays as hex, -0 as 0). */
export function json(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => v instanceof Uint8Array ? toHex(v) : v,
  );
}

/** Fails with the first difference between two JSON-able values. */
export function assertSame(
  actual: unknown,
  expected: unknown,
  what: string,
  kind: FailureKind = "divergence",
): void {
  const a = json(actual);
  const b = json(expected);
  if (a === b) return;
  fail(kind, `${what}\n${firstDifference(actual, expected)}`);
}

/** The path and values of the first difference of two JSON-able values. */
function firstDifference(a: unknown, b: unknown, path = "$"): string {
  if (json(a) === json(b)) return "";
  if (
    Array.isArray(a) && Array.isArray(b)
  ) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (json(a[i]) !== json(b[i])) {
        return firstDifference(a[i], b[i], `${path}[${i}]`);
      }
    }
    return `${path}: length ${a.length} vs ${b.length}; first extra: ${
      clip(json(a.length > b.length ? a[n] : b[n]))
    }`;
  }
  if (
    a !== null && b !== null && typeof a === "object" &&
    typeof b === "object" && !(a instanceof Uint8Array) &&
    !(b instanceof Uint8Array)
  ) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const x = (a as Record<string, unknown>)[k];
      const y = (b as Record<string, unknown>)[k];
      if (json(x) !== json(y)) return firstDifference(x, y, `${path}.${k}`);
    }
  }
  return `${path}: ${clip(json(a))} vs ${clip(json(b))}`;
}

/** At most 300 characters of `s`. */
function clip(s: string | undefined): string {
  if (s === undefined) return "undefined";
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
