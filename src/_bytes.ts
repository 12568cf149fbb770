// Private byte helpers shared by the codec.
import { MAX_CONTENT_TYPE_LENGTH } from "./constants.ts";
import type { ContentTypeInput } from "./frame.ts";

const encoder = new TextEncoder();

/** Turns a content type given as string or bytes into bytes, checking its length. */
export function toContentTypeBytes(value: ContentTypeInput): Uint8Array {
  let bytes: Uint8Array;
  if (typeof value === "string") bytes = encoder.encode(value);
  else if (value instanceof Uint8Array) bytes = value;
  else {
    throw new TypeError(
      `Cannot use content type: expected a string or a Uint8Array, got ${typeof value}`,
    );
  }
  if (bytes.length > MAX_CONTENT_TYPE_LENGTH) {
    throw new RangeError(
      `Cannot use content type: it is ${bytes.length} bytes, limit ${MAX_CONTENT_TYPE_LENGTH}`,
    );
  }
  return bytes;
}

/** Turns a payload given as string or bytes into bytes. */
export function toPayloadBytes(value: string | Uint8Array): Uint8Array {
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError(
    `Cannot encode data frame: expected a string or a Uint8Array, got ${typeof value}`,
  );
}

/** Compares two byte strings. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `list` holds a byte string equal to `item`. */
export function includesBytes(
  list: readonly Uint8Array[],
  item: Uint8Array,
): boolean {
  for (const x of list) if (bytesEqual(x, item)) return true;
  return false;
}

/** Renders bytes for a message: printable ASCII as is, the rest as \xNN. */
export function printable(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    s += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
      ? String.fromCharCode(b)
      : "\\x" + b.toString(16).padStart(2, "0");
  }
  return `"${s}"`;
}

/**
 * Says what the first bytes of an absurdly long "frame" look like, so that
 * an operator who pointed the wrong protocol at us learns why.
 */
export function describeForeignBytes(head: Uint8Array): string | undefined {
  const b0 = head[0], b1 = head[1], b2 = head[2];
  if (b0 === 0x16 && b1 === 0x03) {
    return "the bytes look like a TLS handshake: is the peer using TLS on a plain port?";
  }
  if (b2 === 0x08 || b2 === 0x0a || b2 === 0x12) {
    return "the bytes look like a 2-byte length followed by protobuf, as dnsdist's RemoteLogger sends: that is not Frame Streams";
  }
  const text = String.fromCharCode(...head.subarray(0, 4));
  if (/^(GET |POST|PUT |HEAD|HTTP)/.test(text)) {
    return "the bytes look like HTTP";
  }
  if (/^[\x20-\x7e]{4}$/.test(text)) {
    return `the bytes look like text (${
      JSON.stringify(text)
    }), not Frame Streams`;
  }
  return undefined;
}

const decoder = new TextDecoder();

/**
 * A content type's bytes as text for people to read: UTF-8, an invalid byte
 * as U+FFFD; `null` stays `null`.
 */
export function contentTypeText(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}
