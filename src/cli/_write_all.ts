// Private: writing a whole message to stdout or stderr, for every command
// and for `main` (which imports the commands: they must not import it).

/** Writes all of `text` to `out` (stdout or stderr). */
export async function writeAll(
  out: { write(p: Uint8Array): Promise<number> },
  text: string | Uint8Array,
): Promise<void> {
  let bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  while (bytes.length > 0) bytes = bytes.subarray(await out.write(bytes));
}
