// Private: the tables the WebAssembly quiet scan (wasm/dnstap_quiet.ts)
// reads its names and rdata schemas from, built here from the modules that
// own them, so that the names and the rules have one home; and the scan's
// statuses, shared by both engines.
import { className, hasTypeName, typeName } from "./_dns_names.ts";
import { rdataFields } from "./_dns_rdata_valid.ts";
import { goSocketProtocol } from "./_go_text.ts";

/** The run is done: every frame has its line. */
export const QS_DONE = 0;
/** The output has no room for another line: take it and call again. */
export const QS_OUT_FULL = 1;
/** A line needs the clock text of the second in the results: set it. */
export const QS_NEED_CLOCK = 2;
/** The frame at the position reached takes the object path. */
export const QS_FALLBACK = 3;
/** `maxLines` lines are written. */
export const QS_LIMIT = 4;
/** A length word runs past the run: not a run of whole frames. */
export const QS_BAD_RUN = 5;

/** Slots of the clock cache (a second's slot: `sec % CLOCK_SLOTS`). */
export const CLOCK_SLOTS = 1024;

/** Bytes per row of a table (a length byte, then up to 15 bytes). */
const ROW = 16;
/** Where each table starts (as TYPE_NAMES... in wasm/dnstap_quiet.ts). */
export const TYPE_NAMES_AT = 0;
export const CLASS_NAMES_AT = 260 * ROW;
export const PROTOCOLS_AT = 520 * ROW;
export const EXTRA_TYPES_AT = 648 * ROW;
export const PLAIN_AT = 652 * ROW;
export const SCHEMAS_AT = PLAIN_AT + 256;
export const DIGITS_AT = SCHEMAS_AT + 262 * ROW;
/** The tables' size in bytes. */
export const TABLES_BYTES = DIGITS_AT + 256 * 4;

/** Writes `text` (ASCII, at most 15 bytes) as a row at `at`. */
function writeRow(t: Uint8Array, at: number, text: string): void {
  if (text.length >= ROW) throw new RangeError(`'${text}' is too long`);
  t[at] = text.length;
  for (let i = 0; i < text.length; i++) t[at + 1 + i] = text.charCodeAt(i);
}

/**
 * The tables: type and class names 0 to 259, the protocols' names 0 to
 * 127, the named types from 260 (number, then a row), the bytes a name
 * prints as themselves, the rdata schema of each type below 260, and each
 * byte in decimal (three bytes of digits, then how many are used).
 *
 * @returns The tables' bytes ({@linkcode TABLES_BYTES} long).
 */
export function quietTables(): Uint8Array {
  const t = new Uint8Array(TABLES_BYTES);
  for (let v = 0; v < 260; v++) {
    writeRow(t, TYPE_NAMES_AT + v * ROW, typeName(v));
    writeRow(t, CLASS_NAMES_AT + v * ROW, className(v));
  }
  for (let v = 0; v < 128; v++) {
    writeRow(t, PROTOCOLS_AT + v * ROW, goSocketProtocol(v));
  }
  let extra = 0;
  for (let v = 260; v < 65536; v++) {
    if (!hasTypeName(v)) continue;
    if (extra === 4) throw new RangeError("more than 4 named types over 259");
    const at = EXTRA_TYPES_AT + extra++ * ROW;
    t[at] = v >> 8;
    t[at + 1] = v & 0xff;
    const name = typeName(v);
    if (name.length > 12) throw new RangeError(`'${name}' is too long`);
    writeRow(t, at + 2, name);
  }
  for (let b = 0x21; b <= 0x7e; b++) t[PLAIN_AT + b] = 1;
  for (const c of ".'@;()\"\\") t[PLAIN_AT + c.charCodeAt(0)] = 0;
  for (let v = 0; v < 260; v++) {
    const fields = rdataFields(v);
    if (fields.length >= ROW) throw new RangeError(`type ${v}: long schema`);
    const at = SCHEMAS_AT + v * ROW;
    t[at] = fields.length;
    fields.forEach((k, i) => t[at + 1 + i] = k);
  }
  for (let v = 0; v < 256; v++) {
    const digits = String(v);
    const at = DIGITS_AT + v * 4;
    for (let i = 0; i < digits.length; i++) {
      t[at + i] = digits.charCodeAt(i);
    }
    t[at + 3] = digits.length;
  }
  return t;
}
