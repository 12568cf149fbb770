// Shared by the dnstap scan tests and bench: frame tables of a whole buffer,
// and the two engines run side by side.
import { scanFramesTs, STATUS_TABLE_FULL } from "../src/_scan.ts";
import { SCAN_CAPACITY } from "../src/_dnstap_scan_layout.ts";

/**
 * The frame tables of a Frame Streams buffer (control frames included), at
 * most `capacity` entries each, as the frame scanner fills them; stops at
 * the first frame it cannot take.
 */
export function frameTables(
  buf: Uint8Array,
  capacity: number = SCAN_CAPACITY,
): Uint32Array[] {
  const tables: Uint32Array[] = [];
  const out = new Uint32Array(8);
  let pos = 0;
  for (;;) {
    const table = new Uint32Array(capacity * 3);
    const n = scanFramesTs(
      buf,
      pos,
      buf.length,
      0xffffffff,
      table,
      capacity,
      out,
    );
    if (n > 0) tables.push(table.subarray(0, n * 3));
    if (out[0] !== STATUS_TABLE_FULL) return tables;
    pos = out[1]!;
  }
}
