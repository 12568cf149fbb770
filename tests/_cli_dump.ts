// Shared by the `fstrm dump` tests: commands run with stdout as bytes and
// stderr as latin1 (fstrm_dump's output is bytes, compared byte for byte),
// the payloads that exercise fstrm_dump's quoting, and the files both tools
// dump alike.
import assert from "node:assert/strict";
import { rng } from "./_support.ts";
import { HELLO } from "./_vectors.ts";
import { execRaw, fstrmArgs } from "./_cli.ts";

/** Bytes of a string of one-byte characters. */
export const latin1Bytes = (s: string): Uint8Array =>
  Uint8Array.from(s, (c) => c.charCodeAt(0));

/** Bytes as a string of one-byte characters. */
export const latin1 = (b: Uint8Array): string => {
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 8192) {
    parts.push(String.fromCharCode(...b.subarray(i, i + 8192)));
  }
  return parts.join("");
};

/** Lowercase hex, the reference for --json's default. */
export const encodeHex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** Standard base64, the reference for --encoding base64. */
export const encodeBase64 = (b: Uint8Array): string => btoa(latin1(b));

/** The dnstap content type, as bytes. */
export const DNSTAP_BYTES: Uint8Array = new TextEncoder().encode(
  "protobuf:dnstap.Dnstap",
);

/** A command run to its end: stdout as bytes, stderr as latin1. */
export interface Run {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command; stdin from `input` if given. */
export async function exec(
  cmd: string,
  args: string[],
  input?: Uint8Array,
): Promise<Run> {
  const { code, stdout, stderr } = await execRaw(cmd, args, input);
  return { code, stdout, stderr: latin1(stderr) };
}

/** Runs `fstrm ...args` as a subprocess (stdout as bytes, stderr as latin1). */
export function fstrmBytes(args: string[], input?: Uint8Array): Promise<Run> {
  return exec(Deno.execPath(), fstrmArgs(args), input);
}

/** Asserts a failed run: `code`, exactly one line `line` on stderr. */
export function assertFails(run: Run, code: number, line: string): void {
  assert.equal(run.stderr, line + "\n");
  assert.equal(run.code, code);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
}

/** Payloads that exercise fstrm_dump's quoting, and sizes up to 70 KB. */
export function payloads(count: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const out: Uint8Array[] = [
    all, // every byte value
    new TextEncoder().encode('"quoted" \\ back\\slash \\x41 \\"'),
    Uint8Array.of(0x22),
    Uint8Array.of(0x5c),
    Uint8Array.of(0x00),
    Uint8Array.of(0x7f),
    Uint8Array.of(0xff),
    Uint8Array.of(0x0a),
    Uint8Array.of(0x20),
  ];
  while (out.length < count) {
    const pick = r() % 20;
    const length = pick < 17
      ? 1 + (r() % 400)
      : pick < 19
      ? 400 + (r() % 5000)
      : 5000 + (r() % 65_000);
    const p = new Uint8Array(length);
    const printable = r() % 2 === 0;
    for (let i = 0; i < length; i++) {
      p[i] = printable ? 0x20 + (r() % 95) : r();
    }
    out.push(p);
  }
  return out;
}

/** The files both tools dump alike: name, content type, payloads. */
export const SAME: [string, Uint8Array | null, Uint8Array[]][] = [
  ["no content type", null, payloads(20, 1)],
  ["an empty content type", new Uint8Array(0), payloads(20, 2)],
  ["the dnstap content type", DNSTAP_BYTES, payloads(20, 3)],
  // a content type of every byte value
  ["a 256-byte content type", Uint8Array.from({ length: 256 }, (_, i) => i), [
    HELLO.subarray(4),
  ]],
  ["no data frames", DNSTAP_BYTES, []],
  ["many frames", DNSTAP_BYTES, payloads(5000, 4)],
];

/** stderr without its last line. */
export const allButLast = (s: string) => s.replace(/[^\n]*\n$/, "");
