// Private: the text fstrm_dump (fstrm-bin 0.6.1) prints, byte for byte, and
// the tables `fstrm dump` writes it with.
//
// fstrm_dump's rules (checked against the real tool):
// - stderr: "FSTRM_CONTROL_START.", then, if START has a content type,
//   "FSTRM_CONTROL_FIELD_CONTENT_TYPE (N bytes)." and " " + the quoted
//   content type; "Data frame (N) bytes." per data frame; at the end
//   "FSTRM_CONTROL_STOP.". Each line ends in "\n".
// - stdout: " " + the quoted payload + "\n" per data frame, never shortened.
// - quoting: '"' + bytes + '"', where 0x20..0x7e print as themselves except
//   '"', which prints as \" (a backslash prints bare, unescaped), and every
//   other byte prints as \x and two lowercase hex digits (C's isprint() in
//   the C locale).

/** How fstrm_dump quotes each byte value, as text. */
export const DUMP_BYTE: readonly string[] = Array.from(
  { length: 256 },
  (_, b) =>
    b === 0x22
      ? '\\"'
      : b >= 0x20 && b <= 0x7e
      ? String.fromCharCode(b)
      : "\\x" + b.toString(16).padStart(2, "0"),
);

/**
 * The same table as bytes, for the writer's hot loop: byte `b` prints as
 * `DUMP_TABLE[4 * b, 4 * b + DUMP_WIDTH[b])`.
 */
export const DUMP_TABLE: Uint8Array = new Uint8Array(1024);
/** How many bytes each byte value prints as: 1, 2 (`\"`) or 4 (`\xNN`). */
export const DUMP_WIDTH: Uint8Array = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const s = DUMP_BYTE[b]!;
  DUMP_WIDTH[b] = s.length;
  for (let i = 0; i < s.length; i++) DUMP_TABLE[4 * b + i] = s.charCodeAt(i);
}

/**
 * The same again as one little-endian word per byte value, for writing a
 * byte's text with a single 32-bit store (the bytes past its width are
 * scratch, overwritten by what follows).
 */
export const DUMP_WORD: Uint32Array = new Uint32Array(256);
for (let b = 0; b < 256; b++) {
  let v = 0;
  for (let i = 0; i < DUMP_WIDTH[b]!; i++) {
    v |= DUMP_TABLE[4 * b + i]! << (8 * i);
  }
  DUMP_WORD[b] = v >>> 0;
}

/** Two lowercase hex digits per byte value: `HEX_TABLE[2 * b, 2 * b + 2)`. */
export const HEX_TABLE: Uint8Array = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const s = b.toString(16).padStart(2, "0");
  HEX_TABLE[2 * b] = s.charCodeAt(0);
  HEX_TABLE[2 * b + 1] = s.charCodeAt(1);
}

/** The same as one little-endian 16-bit word per byte value. */
export const HEX_WORD: Uint16Array = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  HEX_WORD[b] = HEX_TABLE[2 * b]! | (HEX_TABLE[2 * b + 1]! << 8);
}

/** The 64 digits of standard base64 (RFC 4648 §4, with padding). */
export const BASE64_DIGITS: Uint8Array = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);

/**
 * fstrm_dump's quoting of a byte string: `"`, each byte as
 * {@linkcode DUMP_BYTE} says, `"`.
 *
 * @param bytes The bytes.
 * @returns The quoted text (printable ASCII only).
 */
export function dumpQuote(bytes: Uint8Array): string {
  const out: string[] = ['"'];
  for (const b of bytes) out.push(DUMP_BYTE[b]!);
  out.push('"');
  return out.join("");
}

/**
 * What `fstrm_dump` prints for a stream of one START (with `contentType`,
 * or none if `null`), `payloads` and STOP: the reference text for tests.
 *
 * @param contentType START's content type, or `null` for none.
 * @param payloads The data frames' payloads, in order.
 * @returns The text of stdout and of stderr.
 */
export function fstrmDumpText(
  contentType: Uint8Array | null,
  payloads: readonly Uint8Array[],
): { stdout: string; stderr: string } {
  const err = ["FSTRM_CONTROL_START.\n"];
  if (contentType !== null) {
    err.push(
      `FSTRM_CONTROL_FIELD_CONTENT_TYPE (${contentType.length} bytes).\n`,
      ` ${dumpQuote(contentType)}\n`,
    );
  }
  const out: string[] = [];
  for (const p of payloads) {
    err.push(`Data frame (${p.length}) bytes.\n`);
    out.push(` ${dumpQuote(p)}\n`);
  }
  err.push("FSTRM_CONTROL_STOP.\n");
  return { stdout: out.join(""), stderr: err.join("") };
}
