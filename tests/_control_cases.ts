// The stream cases shared by every decoding path's tests (FrameDecoder,
// FrameDecoderStream, FrameReader): what each must give, frames and errors
// at exact offsets. One table, so that the paths cannot drift apart.
import { encodeDataFrame } from "../mod.ts";
import { concat, hex } from "./_util.ts";
import {
  ACCEPT,
  FINISH,
  HELLO,
  READY,
  START,
  STOP,
  UNKNOWN,
} from "./_vectors.ts";

/** The policies a case sets. */
export interface CaseOptions {
  maxFrameLength?: number;
  oversize?: "error" | "skip";
  strict?: boolean;
}

/** A tail after START + "hello" (51 bytes), and what it must give. */
export interface StreamCase {
  name: string;
  tail: Uint8Array;
  options?: CaseOptions;
  /** Frames delivered, START and "hello" included. */
  frames: number;
  /** The error's class name and fields, or null for none. */
  error: Record<string, unknown> | null;
  skipped?: number;
  oversized?: number;
  stopped?: boolean;
}

export const AT = 51; // offset of the frame after START (42) and HELLO (9)

/** A ControlFrameError in the frame at AT, `at` bytes into it. */
function controlError(reason: string, at: number): Record<string, unknown> {
  return {
    name: "ControlFrameError",
    reason,
    offset: AT,
    errorOffset: AT + at,
  };
}

/** A TruncatedFrameError: the input ends `received` bytes into the frame at AT. */
function truncated(
  received: number,
  expected: number | null,
): Record<string, unknown> {
  return {
    name: "TruncatedFrameError",
    reason: "frame",
    offset: AT,
    received,
    expected,
  };
}

export const STREAM_CASES: readonly StreamCase[] = [
  // clen 3: too short to hold a control type.
  {
    name: "control length 3",
    tail: hex("00000000 00000003 000000"),
    frames: 2,
    error: controlError("length", 4),
  },
  // clen 0.
  {
    name: "control length 0",
    tail: hex("00000000 00000000"),
    frames: 2,
    error: controlError("length", 4),
  },
  // clen 513: rejected from its header, before its payload arrives.
  {
    name: "control length 513",
    tail: hex("00000000 00000201 00000004"),
    frames: 2,
    error: controlError("length", 4),
  },
  // READY with 4 stray bytes after its type: a field header needs 8.
  {
    name: "truncated field header",
    tail: hex("00000000 00000008 00000004 00000001"),
    frames: 2,
    error: controlError("field-header", 12),
  },
  // A field announcing 6 bytes where 5 remain.
  {
    name: "field running past the frame",
    tail: hex(`00000000 00000011 00000004 00000001 00000006 "abcde"`),
    frames: 2,
    error: controlError("field-length", 16),
  },
  // Field type 2 is not defined.
  {
    name: "unknown field type",
    tail: hex(`00000000 0000000d 00000004 00000002 00000001 "a"`),
    frames: 2,
    error: controlError("field-type", 12),
  },
  // A 257-byte content type.
  {
    name: "content type of 257 bytes",
    tail: concat(
      hex("00000000 0000010d 00000004 00000001 00000101"),
      new Uint8Array(257),
    ),
    frames: 2,
    error: controlError("content-type-length", 16),
  },
  // START with two content types: the second field is the offence.
  {
    name: "START with two content types",
    tail: hex(
      `00000000 00000016 00000002 00000001 00000001 "a" 00000001 00000001 "b"`,
    ),
    frames: 2,
    error: controlError("content-type-count", 21),
  },
  // STOP with a field.
  {
    name: "STOP with a content type",
    tail: hex(`00000000 0000000d 00000003 00000001 00000001 "a"`),
    frames: 2,
    error: controlError("content-type-count", 12),
  },
  // FINISH with a field.
  {
    name: "FINISH with a content type",
    tail: hex(`00000000 0000000d 00000005 00000001 00000001 "a"`),
    frames: 2,
    error: controlError("content-type-count", 12),
  },
  // A data frame one byte over the limit, rejected from its length word.
  {
    name: "data frame over maxFrameLength",
    tail: concat(hex("00000011"), new Uint8Array(17)),
    options: { maxFrameLength: 16 },
    frames: 2,
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 17,
      maxFrameLength: 16,
    },
  },
  // A length near 2^32.
  {
    name: "length 2^32 - 1",
    tail: hex("ffffffff 00"),
    frames: 2,
    error: {
      name: "FrameTooLargeError",
      offset: AT,
      length: 0xffffffff,
      maxFrameLength: 1048576,
    },
  },
  // The same frame over the limit, skipped and counted; the next one comes.
  {
    name: "data frame over maxFrameLength, skipped",
    tail: concat(hex("00000011"), new Uint8Array(17), HELLO, STOP),
    options: { maxFrameLength: 16, oversize: "skip" },
    frames: 4,
    error: null,
    oversized: 1,
    stopped: true,
  },
  // Input ends inside a frame being skipped.
  {
    name: "end inside a skipped frame",
    tail: concat(hex("00000011"), new Uint8Array(5)),
    options: { maxFrameLength: 16, oversize: "skip" },
    frames: 2,
    oversized: 1,
    error: truncated(9, 21),
  },
  // Input ends inside a data frame's payload.
  {
    name: "end inside a payload",
    tail: hex("0000000a 0102"),
    frames: 2,
    error: truncated(6, 14),
  },
  // Input ends inside a length word.
  {
    name: "end inside a length word",
    tail: hex("0000"),
    frames: 2,
    error: truncated(2, null),
  },
  // Input ends inside a control frame's length.
  {
    name: "end inside a control header",
    tail: hex("00000000 0000"),
    frames: 2,
    error: truncated(6, null),
  },
  // Input ends inside a control frame.
  {
    name: "end inside a control frame",
    tail: hex("00000000 00000004 00"),
    frames: 2,
    error: truncated(9, 12),
  },
  // An unknown control type: skipped and counted.
  {
    name: "unknown control type, skipped",
    tail: concat(UNKNOWN, HELLO, STOP),
    frames: 4,
    error: null,
    skipped: 1,
    stopped: true,
  },
  // READY, ACCEPT, START, FINISH inside a stream, STOP outside: skipped.
  {
    name: "control frames out of place, skipped",
    tail: concat(READY, ACCEPT, START, FINISH, HELLO, STOP, STOP),
    frames: 4,
    error: null,
    skipped: 5,
    stopped: true,
  },
  // End at a frame boundary without STOP: no error unless strict.
  {
    name: "no STOP",
    tail: HELLO,
    frames: 3,
    error: null,
    stopped: false,
  },
  // Strict: an unknown control type.
  {
    name: "strict: unknown control type",
    tail: hex("00000000 00000004 00000009"),
    options: { strict: true },
    frames: 2,
    error: controlError("unknown-type", 8),
  },
  // Strict: READY inside a stream.
  {
    name: "strict: READY inside a stream",
    tail: READY,
    options: { strict: true },
    frames: 2,
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 4 },
  },
  // Strict: a second START.
  {
    name: "strict: START inside a stream",
    tail: START,
    options: { strict: true },
    frames: 2,
    error: { name: "UnexpectedFrameError", offset: AT, frameType: 2 },
  },
  // Strict: a data frame after STOP.
  {
    name: "strict: data after STOP",
    tail: concat(STOP, HELLO),
    options: { strict: true },
    frames: 3,
    error: { name: "UnexpectedFrameError", offset: AT + 12, frameType: 0 },
  },
  // Strict: end of input without STOP.
  {
    name: "strict: no STOP",
    tail: encodeDataFrame("x"),
    options: { strict: true },
    frames: 3,
    error: {
      name: "TruncatedFrameError",
      reason: "missing-stop",
      offset: AT + 5,
    },
  },
];

/** Input from byte 0 (no START before it), and what it must give. */
export interface FirstBytesCase {
  name: string;
  bytes: Uint8Array;
  options?: CaseOptions;
  /** The error's class name and fields. */
  error: Record<string, unknown>;
  /** Data frames over the limit skipped before the error. */
  oversized?: number;
}

/** A text file's first bytes. */
export const TEXT: Uint8Array = hex(`"hello, world\nthis is a text file\n"`);

/**
 * Inputs that fail before any frame is delivered. The first ones are not
 * Frame Streams at all: NotFrameStreamsError at byte 0 under either oversize
 * policy; the rest show where that ends.
 */
export const FIRST_BYTES_CASES: readonly FirstBytesCase[] = [
  // A TLS ClientHello on a plain port.
  {
    name: "TLS",
    bytes: hex("16030100 f8010000 f40303"),
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // A text file.
  {
    name: "text",
    bytes: TEXT,
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // A text file, read by a reader that skips oversized frames: not skipped.
  {
    name: "text, oversize skip",
    bytes: TEXT,
    options: { oversize: "skip" },
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // An HTTP request.
  {
    name: "HTTP",
    bytes: hex(`"GET / HTTP/1.1\r\nHost: x\r\n\r\n"`),
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // dnsdist's RemoteLogger: a 2-byte length, then protobuf.
  {
    name: "dnsdist protobuf",
    bytes: hex("009a 0801 1203 616263"),
    options: { oversize: "skip" },
    error: { name: "NotFrameStreamsError", offset: 0 },
  },
  // A length word over the limit that looks like nothing known: a frame too
  // large, as anywhere in a stream.
  {
    name: "length 2^32 - 4 at byte 0",
    bytes: hex("fffffffc 00"),
    error: {
      name: "FrameTooLargeError",
      offset: 0,
      length: 0xfffffffc,
      maxFrameLength: 1048576,
    },
  },
  // The same under "skip": skipped, then the input ends inside it.
  {
    name: "length 2^32 - 4 at byte 0, skipped",
    bytes: hex("fffffffc 00"),
    options: { oversize: "skip" },
    oversized: 1,
    error: {
      name: "TruncatedFrameError",
      offset: 0,
      received: 5,
      expected: 0x1_0000_0000,
    },
  },
  // A control frame with clen 1.
  {
    name: "bad control frame",
    bytes: hex("00000000 00000001"),
    error: { name: "ControlFrameError", reason: "length", offset: 0 },
  },
  // Strict: a data frame before START.
  {
    name: "data before START, strict",
    bytes: concat(HELLO, START, STOP),
    options: { strict: true },
    error: { name: "UnexpectedFrameError", offset: 0, frameType: 0 },
  },
  // Two bytes of a length word.
  {
    name: "two bytes",
    bytes: hex("0000"),
    error: {
      name: "TruncatedFrameError",
      offset: 0,
      received: 2,
      expected: null,
    },
  },
  // Half of START.
  {
    name: "half a START frame",
    bytes: START.subarray(0, 21),
    error: {
      name: "TruncatedFrameError",
      offset: 0,
      received: 21,
      expected: 42,
    },
  },
];
