// Private: the socket options that `fstrm capture` and `fstrm replay` share
// (-u PATH, or -a ADDRESS with -p PORT), checked the same way, and the
// one-line descriptions of targets, addresses and system errors their
// messages use.
import { integerOption } from "./_args.ts";
import { usageError } from "./_cli_error.ts";
import type { ListenTarget } from "../frame_receiver.ts";

/** Where a command listens or connects, before TLS is added. */
export type SocketTarget =
  | { transport: "unix"; path: string }
  | { transport: "tcp"; hostname: string; port: number };

/**
 * The target given by `-u` or by `-a` with `-p`: exactly one of them.
 *
 * @param command The command, for usage errors.
 * @param values The parsed options (`unix`, `tcp`, `port`).
 * @param minPort The lowest port allowed (0 lets the system choose).
 * @returns The target.
 */
export function socketTarget(
  command: string,
  values: Record<string, unknown>,
  minPort: number,
): SocketTarget {
  const unix = values.unix as string | undefined;
  const tcp = values.tcp as string | undefined;
  const port = values.port as string | undefined;
  if (unix !== undefined && tcp !== undefined) {
    throw usageError(command, "give -u (--unix) or -a (--tcp), not both");
  }
  if (unix !== undefined) {
    if (port !== undefined) {
      throw usageError(command, "-p (--port) goes with -a (--tcp), not -u");
    }
    if (unix === "") throw usageError(command, "-u wants a socket path");
    return { transport: "unix", path: unix };
  }
  if (tcp !== undefined) {
    if (port === undefined) {
      throw usageError(command, "-a (--tcp) needs -p (--port)");
    }
    if (tcp === "") throw usageError(command, "-a wants an address");
    return {
      transport: "tcp",
      hostname: tcp,
      port: integerOption(command, "-p", port, minPort, 65535),
    };
  }
  if (port !== undefined) {
    throw usageError(command, "-p (--port) needs -a (--tcp)");
  }
  throw usageError(command, "give -u PATH (--unix) or -a ADDRESS -p PORT");
}

/** An address as messages show it: `unix:/run/dnstap.sock`, `127.0.0.1:6000`, `[::1]:6000`. */
export function describeAddr(addr: Deno.Addr): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return `unix:${addr.path}`;
  }
  const { hostname, port } = addr as Deno.NetAddr;
  return hostPort(hostname, port);
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(hostname: string, port: number): string {
  return hostname.includes(":")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

/** A target as messages show it. */
export function describeTarget(target: SocketTarget, tls = false): string {
  return target.transport === "unix"
    ? `unix:${target.path}`
    : `${tls ? "tls:" : ""}${hostPort(target.hostname, target.port)}`;
}

/**
 * A system error's message without Deno's decorations: "Permission denied
 * (os error 13): open '/x'" becomes "permission denied".
 */
export function plainError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const bare = message.replace(/\s*\(os error \d+\).*$/s, "");
  // Deno's own messages begin in upper case; ours do not.
  return /^[A-Z][a-z]/.test(bare)
    ? bare[0]!.toLowerCase() + bare.slice(1)
    : bare;
}

/**
 * Reads a small text file named by an option (a PEM certificate or key).
 *
 * @throws A message naming the option and the file.
 */
export async function readOptionFile(
  flag: string,
  path: string,
): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`cannot read ${flag} ${path}: ${plainError(error)}`);
  }
}

/** A listen target, as messages name it. */
export function describeListen(target: ListenTarget): string {
  switch (target.transport) {
    case "unix":
      return `unix socket ${target.path}`;
    case "tcp":
    case "tls":
      return `${target.transport} ${
        hostPort(target.hostname ?? "127.0.0.1", target.port)
      }`;
  }
}

/** The address listened on, as messages name it (the real port). */
export function describeListenAddr(
  addr: Deno.Addr,
  target: ListenTarget,
): string {
  if (target.transport === "unix") return `unix socket ${target.path}`;
  const { hostname, port } = addr as Deno.NetAddr;
  return `${target.transport} ${hostPort(hostname, port)}`;
}

/** Why listening failed, in a few words. */
export function listenProblem(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) {
    return /another process/.test(String((error as Error).message))
      ? "another process is listening on it"
      : "the address is in use";
  }
  if (error instanceof Deno.errors.AlreadyExists) {
    return "it exists and is not a socket";
  }
  return plainError(error);
}

/** Removes the Unix socket file of `target`, if it is still one. */
export async function removeUnixSocket(target: ListenTarget): Promise<void> {
  if (target.transport !== "unix") return;
  try {
    if ((await Deno.lstat(target.path)).isSocket === true) {
      await Deno.remove(target.path);
    }
  } catch {
    // gone already
  }
}
