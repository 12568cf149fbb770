// The byte-exact vectors of PROTOCOL.md §2, written out by hand (never
// computed with our encoder, so that a test using them can catch it).
import { concat, hex } from "./_util.ts";

/** START with the dnstap content type. */
export const START: Uint8Array = hex(
  `00000000 00000022 00000002 00000001 00000016 "protobuf:dnstap.Dnstap"`,
);
/** READY with the dnstap content type. */
export const READY: Uint8Array = hex(
  `00000000 00000022 00000004 00000001 00000016 "protobuf:dnstap.Dnstap"`,
);
/** ACCEPT with the dnstap content type. */
export const ACCEPT: Uint8Array = hex(
  `00000000 00000022 00000001 00000001 00000016 "protobuf:dnstap.Dnstap"`,
);
/** STOP. */
export const STOP: Uint8Array = hex(`00000000 00000004 00000003`);
/** FINISH. */
export const FINISH: Uint8Array = hex(`00000000 00000004 00000005`);
/** A data frame holding "hello". */
export const HELLO: Uint8Array = hex(`00000005 68656c6c6f`);
/** A control frame of unknown type 9 with a 4-byte body. */
export const UNKNOWN: Uint8Array = hex(`00000000 00000008 00000009 01020304`);
/** READY with no content type. */
export const READY_NONE: Uint8Array = hex(`00000000 00000004 00000004`);
/** START with no content type. */
export const START_NONE: Uint8Array = hex(`00000000 00000004 00000002`);

// ---------------------------------------------------------------------------
// Frames built by hand, so that they can be wrong (used by the session and
// hostile-input tests).

/** Big-endian u32 words as bytes. */
export function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0));
  return out;
}

/**
 * A control frame built by hand: escape, `clen` (computed unless given),
 * type, then each field as (type, bytes).
 */
export function rawControl(
  type: number,
  fields: readonly (readonly [number, Uint8Array])[] = [],
  clen?: number,
): Uint8Array {
  const body = concat(
    words(type),
    ...fields.map(([ftype, bytes]) =>
      concat(words(ftype, bytes.length), bytes)
    ),
  );
  return concat(words(0, clen ?? body.length), body);
}

/** ACCEPT listing no content type (both sides take any). */
export const ACCEPT_NONE: Uint8Array = hex(`00000000 00000004 00000001`);
