// Seeded inputs for the portable set (fast-check is an npm: import, which
// Node cannot resolve): a PRNG, random valid streams, mutations of them, and
// random cut points. The same seed gives the same bytes on every runtime.
import { ControlType, encodeControlFrame, encodeDataFrame } from "../../mod.ts";
import { concat } from "../_util.ts";

/** A seeded generator of integers in [0, n). */
export interface Random {
  /** An integer from 0 to n - 1. */
  int(n: number): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** mulberry32: small, fast, and the same on every runtime. */
export function random(seed: number): Random {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
  return {
    int: (n) => next() % n,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}

/** A payload size: mostly dnstap-sized, sometimes tiny, sometimes large. */
function payloadSize(r: Random, large: boolean): number {
  switch (r.int(10)) {
    case 0:
      return 1 + r.int(4);
    case 1:
      // Past the WebAssembly engine's 16 KiB copy piece.
      return large ? 16_000 + r.int(60_000) : 1 + r.int(2_000);
    default:
      return 60 + r.int(200);
  }
}

/**
 * A valid byte stream: 1 to 3 streams, each `[READY ACCEPT] START data*
 * STOP [FINISH]`, with random content types (empty and absent included).
 */
export function validStream(r: Random, large = false): Uint8Array {
  const parts: Uint8Array[] = [];
  const streams = 1 + r.int(3);
  for (let s = 0; s < streams; s++) {
    const type = r.int(4) === 0 ? null : r.bytes(r.int(30));
    const types = type === null ? [] : [type];
    const handshake = r.int(2) === 0;
    if (handshake) {
      parts.push(encodeControlFrame(ControlType.READY, types));
      parts.push(encodeControlFrame(ControlType.ACCEPT, types));
    }
    parts.push(encodeControlFrame(ControlType.START, types));
    const count = r.int(large ? 40 : 12);
    for (let i = 0; i < count; i++) {
      parts.push(encodeDataFrame(r.bytes(payloadSize(r, large))));
    }
    parts.push(encodeControlFrame(ControlType.STOP));
    if (handshake) parts.push(encodeControlFrame(ControlType.FINISH));
  }
  return concat(...parts);
}

/**
 * `bytes` damaged: bytes overwritten (often in a length word's range), a
 * cut-off tail, or a stray frame header spliced in.
 */
export function mutate(r: Random, bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  switch (r.int(4)) {
    case 0: {
      // A few random bytes changed.
      for (let k = 1 + r.int(3); k > 0 && out.length > 0; k--) {
        out[r.int(out.length)] = r.int(256);
      }
      return out;
    }
    case 1: {
      // A small value (a plausible length or type) written as a word.
      if (out.length < 4) return out;
      const at = r.int(out.length - 3);
      new DataView(out.buffer).setUint32(at, r.int(600));
      return out;
    }
    case 2:
      // Cut short.
      return out.subarray(0, r.int(out.length + 1));
    default: {
      // A random header inserted.
      const at = r.int(out.length + 1);
      const word = new Uint8Array(8);
      new DataView(word.buffer).setUint32(4, r.int(1_000));
      return concat(out.subarray(0, at), word, out.subarray(at));
    }
  }
}

/** Up to `max` sorted, distinct cut points inside [0, length]. */
export function cuts(r: Random, length: number, max: number): number[] {
  const set = new Set<number>();
  for (let k = r.int(max + 1); k > 0; k--) set.add(r.int(length + 1));
  return [...set].sort((a, b) => a - b);
}
