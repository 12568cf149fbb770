// Private: writing a whole message to stdout or stderr, for every command
// and for `main` (which imports the commands: they must not import it).
import { type Writable, writeAll as writeBytes } from "../_io.ts";

const encoder = new TextEncoder();

/** Writes all of `text` (UTF-8 if a string) to `out` (stdout or stderr). */
export function writeAll(
  out: Writable,
  text: string | Uint8Array,
): Promise<void> {
  return writeBytes(
    out,
    typeof text === "string" ? encoder.encode(text) : text,
  );
}
