// Private: socket I/O helpers the receiver and the writer share (Deno only).

/**
 * Writes all of `bytes` to `conn`, however many writes it takes.
 *
 * @param conn The connection.
 * @param bytes What to write.
 */
export async function writeAll(
  conn: Deno.Conn,
  bytes: Uint8Array,
): Promise<void> {
  let p = 0;
  while (p < bytes.length) p += await conn.write(bytes.subarray(p));
}

/**
 * Whether a socket error means that the peer has gone (EPIPE, ECONNRESET,
 * ECONNABORTED, ENOTCONN): what a write after the peer closed meets.
 *
 * @param error What the write threw.
 * @returns Whether the peer has gone.
 */
export function isPeerGone(error: unknown): boolean {
  return error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected;
}

/**
 * Closes `closer` (a connection, a listener), ignoring that it may be closed
 * already.
 *
 * @param closer What to close.
 */
export function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // already closed
  }
}
