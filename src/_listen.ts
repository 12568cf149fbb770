// Private: where a FrameReceiver listens (Unix socket, TCP, TLS), and the
// Unix socket file's life (a stale one replaced, ours removed on close).
import { checkSocketTarget } from "./_target_checks.ts";

/**
 * Where a {@linkcode FrameReceiver} listens.
 *
 * - `"unix"`: a Unix stream socket at `path`. A stale socket file (no live
 *   listener behind it) is replaced; a path held by a live listener, or one
 *   that is not a socket, is refused. `mode` (for instance `0o660`) is
 *   applied to the socket file once it exists, then `owner` and `group`
 *   (numeric uid and gid: Deno has no user database lookup; `fstrm
 *   capture` resolves names from /etc/passwd and /etc/group). Giving the
 *   file away takes the right to (root, or CAP_CHOWN; a user may set a
 *   group it belongs to). The file is removed on close.
 * - `"tcp"`: `hostname` (default `"127.0.0.1"`) and `port` (`0`: any free
 *   port; see {@linkcode FrameReceiver.prototype.addr}).
 * - `"tls"`: as `"tcp"`, with a PEM certificate chain and private key.
 *
 * @example
 * ```ts
 * import type { ListenTarget } from "@fstrm/fstrm/frame-receiver";
 *
 * const target: ListenTarget = { transport: "unix", path: "/run/dnstap.sock", mode: 0o660 };
 * console.log(target.transport);
 * ```
 */
export type ListenTarget =
  | {
    /** Always `"unix"`. */
    transport: "unix";
    /** The socket file's path. */
    path: string;
    /** Permission bits for the socket file, applied after it is created. */
    mode?: number;
    /** The socket file's owner (a uid), set after it is created. */
    owner?: number;
    /** The socket file's group (a gid), set after it is created. */
    group?: number;
  }
  | {
    /** Always `"tcp"`. */
    transport: "tcp";
    /** The address to bind. @default {"127.0.0.1"} */
    hostname?: string;
    /** The port; `0` picks a free one. */
    port: number;
  }
  | {
    /** Always `"tls"`. */
    transport: "tls";
    /** The address to bind. @default {"127.0.0.1"} */
    hostname?: string;
    /** The port; `0` picks a free one. */
    port: number;
    /** The certificate chain, PEM. */
    cert: string;
    /** The private key, PEM. */
    key: string;
  };

/** Opens the listener; for a Unix socket, deals with what is at the path. */
export async function openListener(
  target: ListenTarget,
): Promise<{ listener: Deno.Listener; unixPath: string | null }> {
  checkSocketTarget(target, "Cannot listen", 0);
  if (target.transport === "unix") {
    const { path, mode, owner, group } = target;
    for (const [name, id] of [["owner", owner], ["group", group]] as const) {
      if (
        id !== undefined &&
        (!Number.isInteger(id) || id < 0 || id > 0xffff_fffe)
      ) {
        throw new RangeError(
          `Cannot listen: ${name} must be a numeric ${
            name === "owner" ? "uid" : "gid"
          } (0 to 4294967294), got ${id}`,
        );
      }
    }
    if (
      mode !== undefined &&
      (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    ) {
      throw new RangeError(
        `Cannot listen: mode must be file permission bits (0 to 0o7777), got ${mode}`,
      );
    }
    await clearStaleSocket(path);
    const listener = Deno.listen({ transport: "unix", path });
    try {
      if (mode !== undefined) await Deno.chmod(path, mode);
      if (owner !== undefined || group !== undefined) {
        await Deno.chown(path, owner ?? null, group ?? null);
      }
    } catch (error) {
      listener.close();
      await removeSocket(path);
      throw error;
    }
    return { listener, unixPath: path };
  }
  const address = {
    transport: "tcp",
    hostname: target.hostname ?? "127.0.0.1",
    port: target.port,
  } as const;
  const listener = target.transport === "tcp"
    ? Deno.listen(address)
    : Deno.listenTls({ ...address, cert: target.cert, key: target.key });
  return { listener, unixPath: null };
}

/**
 * Makes way for a Unix socket at `path`: nothing there is fine; a socket
 * nobody listens on is removed; a live socket or another kind of file is
 * refused.
 */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (info.isSocket !== true) {
    throw new Deno.errors.AlreadyExists(
      `Cannot listen on ${path}: it exists and is not a socket`,
    );
  }
  if (await isLive(path)) {
    throw new Deno.errors.AddrInUse(
      `Cannot listen on ${path}: another process is listening on it`,
    );
  }
  await Deno.remove(path);
}

/**
 * Whether something accepts connections on the Unix socket at `path`:
 * connecting is the only sure test (a crashed server leaves its file behind).
 */
async function isLive(path: string): Promise<boolean> {
  let probe: Deno.Conn;
  try {
    probe = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) return false;
    throw error;
  }
  probe.close();
  return true;
}

/** Removes the socket file at `path` if it is still a socket. */
export async function removeSocket(path: string): Promise<void> {
  try {
    const info = await Deno.lstat(path);
    if (info.isSocket === true) await Deno.remove(path);
  } catch {
    // gone already
  }
}
