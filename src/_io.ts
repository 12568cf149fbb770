// Private: socket I/O helpers of the Deno shells (FrameWriter,
// FrameReceiver). The sessions they drive are portable; what touches a
// socket, and Deno's socket errors, lives here and in the shells.

/** Something bytes can be written to, as a `Deno.Conn`. */
export interface Writable {
  write(bytes: Uint8Array): Promise<number>;
}

/** Writes all of `bytes` to `conn` (a write may take only part of it). */
export async function writeAll(
  conn: Writable,
  bytes: Uint8Array,
): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/** Closes `conn`, ignoring that it may be closed already. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** `e` if it is an Error, else an Error saying what was thrown. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
