// Private: socket I/O helpers of the Deno shells (FrameWriter,
// FrameReceiver). The sessions they drive are portable; what touches a
// socket, and Deno's socket errors, lives here and in the shells.

/** Something bytes can be written to, as a `Deno.Conn`. */
export interface Writable {
  write(bytes: Uint8Array): Promise<number>;
}

/** How far a {@linkcode writeAll} got: its bytes taken so far. */
export interface WriteProgress {
  /** The bytes of the call's `bytes` the connection has taken. */
  written: number;
}

/**
 * Writes all of `bytes` to `conn`, however many writes it takes.
 *
 * @param conn The connection.
 * @param bytes What to write.
 * @param progress Set to the bytes the connection took after each write:
 *   how far it got when a write throws.
 */
export async function writeAll(
  conn: Writable,
  bytes: Uint8Array,
  progress?: WriteProgress,
): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
    if (progress !== undefined) progress.written = off;
  }
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

/** `e` if it is an Error, else an Error saying what was thrown. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
