// The rdata text encoders (hex, base64) on every length from 0 to 300 and at
// every offset, both sides of the length where they switch from
// concatenating to writing bytes, against independent references (the
// platform's btoa, Number.toString(16)).
import assert from "node:assert/strict";
import { base64, hex } from "../src/_dns_rdata_format.ts";
import { prng } from "./_dns_random.ts";

function refHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function refBase64(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

Deno.test("hex and base64 equal the references at every length and offset", () => {
  const rand = prng(0x6865);
  const msg = new Uint8Array(400);
  for (let i = 0; i < msg.length; i++) msg[i] = Math.floor(rand() * 256);
  for (let n = 0; n <= 300; n++) {
    for (const at of [0, 1, 2, 7, 99]) {
      const b = msg.subarray(at, at + n);
      assert.equal(hex(msg, at, at + n), refHex(b), `hex ${n} at ${at}`);
      assert.equal(
        hex(msg, at, at + n, true),
        refHex(b).toUpperCase(),
        `HEX ${n} at ${at}`,
      );
      assert.equal(
        base64(msg, at, at + n),
        refBase64(b),
        `base64 ${n} at ${at}`,
      );
    }
  }
});
