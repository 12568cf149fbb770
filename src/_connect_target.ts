// Private: where a FrameWriter connects (unix, tcp, tls), checking a target,
// naming it in messages, and dialling it with errors that say which target
// failed.
import { asError } from "./_io.ts";
import { checkSocketTarget } from "./_target_checks.ts";

/**
 * Where a {@linkcode FrameWriter} connects: a Unix socket path, a TCP
 * address, or a TLS server.
 *
 * For TLS, the server's certificate is checked against `caCerts` (PEM), or
 * the system's roots if none are given, and against `serverName` if given
 * (`hostname` is then only the address connected to), else `hostname`
 * (which may be an IP address the certificate names). With `cert` and `key`
 * the writer presents a client certificate to a collector that asks for
 * one. Deno 2.9 cannot do both at once: a separate `serverName` goes through
 * `Deno.startTls`, which takes no client certificate (denoland/deno#21496),
 * so `serverName` with `cert` is refused (a TypeError); connect by the name
 * the certificate carries instead.
 *
 * @example
 * ```ts
 * import type { ConnectTarget } from "@fstrm/fstrm/frame-writer";
 *
 * const targets: ConnectTarget[] = [
 *   { transport: "unix", path: "/run/dnstap.sock" },
 *   { transport: "tcp", hostname: "127.0.0.1", port: 6000 },
 *   { transport: "tls", hostname: "collector.example", port: 6001 },
 * ];
 * console.log(targets.length);
 * ```
 */
export type ConnectTarget =
  | {
    /** A Unix stream socket. */
    transport: "unix";
    /** The socket's path. */
    path: string;
  }
  | {
    /** Plain TCP. */
    transport: "tcp";
    /**
     * The host to connect to.
     *
     * @default {"127.0.0.1"}
     */
    hostname?: string;
    /** The port, 1 to 65535. */
    port: number;
  }
  | {
    /** TCP with TLS. */
    transport: "tls";
    /**
     * The host to connect to, also the name checked in its certificate.
     *
     * @default {"127.0.0.1"}
     */
    hostname?: string;
    /** The port, 1 to 65535. */
    port: number;
    /**
     * Certificate authorities to trust, PEM; the system's roots if absent.
     *
     * @default {undefined}
     */
    caCerts?: string[];
    /**
     * The name the server's certificate must carry, also sent as SNI;
     * `hostname` is then only where to connect (an IP address, say). Not
     * with `cert` (see above).
     *
     * @default {undefined} (`hostname`)
     */
    serverName?: string;
    /**
     * A client certificate chain to present, PEM (with `key`).
     *
     * @default {undefined} (none)
     */
    cert?: string;
    /**
     * The client certificate's private key, PEM (with `cert`).
     *
     * @default {undefined} (none)
     */
    key?: string;
  };

/** Throws a TypeError or RangeError unless `target` is a valid target. */
export function checkTarget(target: ConnectTarget): ConnectTarget {
  if (checkSocketTarget(target, "Cannot connect", 1) !== "tls") return target;
  const { caCerts } = target as { caCerts?: unknown };
  if (
    caCerts !== undefined &&
    (!Array.isArray(caCerts) ||
      !caCerts.every((c: unknown) => typeof c === "string"))
  ) {
    throw new TypeError("Cannot connect: caCerts must be an array of strings");
  }
  const { serverName, cert, key } = target as Record<string, unknown>;
  for (
    const [name, value] of [["serverName", serverName], ["cert", cert], [
      "key",
      key,
    ]]
  ) {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(`Cannot connect: ${name} must be a non-empty string`);
    }
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError("Cannot connect: cert and key go together");
  }
  if (serverName !== undefined && cert !== undefined) {
    throw new TypeError(
      "Cannot connect: serverName with a client certificate (cert) needs Deno.startTls to present one, which Deno 2.9 cannot (denoland/deno#21496); connect by the name the server's certificate carries",
    );
  }
  return target;
}

/** The target as one word for messages: unix:PATH, tcp:HOST:PORT, tls:HOST:PORT. */
export function describeTarget(target: ConnectTarget): string {
  if (target.transport === "unix") return `unix:${target.path}`;
  const host = target.hostname ?? "127.0.0.1";
  return `${target.transport}:${
    host.includes(":") ? `[${host}]` : host
  }:${target.port}`;
}

/**
 * The error of a failed connection attempt, naming the target: an error of
 * the same class (`Deno.errors.NotFound`, `ConnectionRefused`, …) whose
 * message starts "Cannot connect to unix:/path: ", the original as `cause`.
 */
export function connectError(target: ConnectTarget, error: unknown): Error {
  const e = asError(error);
  const message = `Cannot connect to ${describeTarget(target)}: ${e.message}`;
  try {
    const Class = e.constructor as new (
      message: string,
      options?: ErrorOptions,
    ) => Error;
    const named = new Class(message, { cause: e });
    if (named instanceof Error && named.message === message) {
      named.name = e.name;
      return named;
    }
  } catch {
    // a class that wants other arguments
  }
  return new Error(message, { cause: e });
}

/** Opens a connection to `target`; errors name it (see connectError). */
export async function dial(target: ConnectTarget): Promise<Deno.Conn> {
  try {
    switch (target.transport) {
      case "unix":
        return await Deno.connect({ transport: "unix", path: target.path });
      case "tcp": {
        const conn = await Deno.connect({
          transport: "tcp",
          hostname: target.hostname ?? "127.0.0.1",
          port: target.port,
        });
        // We batch ourselves; Nagle would only delay a flush.
        conn.setNoDelay(true);
        return conn;
      }
      case "tls": {
        const ca = target.caCerts === undefined
          ? {}
          : { caCerts: target.caCerts };
        const address = {
          hostname: target.hostname ?? "127.0.0.1",
          port: target.port,
        };
        let conn: Deno.TlsConn;
        if (target.serverName !== undefined) {
          // The address and the name apart: TCP to the one, TLS checking
          // the other.
          const tcp = await Deno.connect({ transport: "tcp", ...address });
          tcp.setNoDelay(true);
          conn = await Deno.startTls(tcp, {
            hostname: target.serverName,
            ...ca,
          });
        } else {
          conn = await Deno.connectTls({
            ...address,
            ...ca,
            ...(target.cert === undefined
              ? {}
              : { cert: target.cert, key: target.key! }),
          });
        }
        try {
          // Here, so that a certificate error names the target too.
          await conn.handshake();
        } catch (error) {
          conn.close();
          throw error;
        }
        return conn;
      }
    }
  } catch (error) {
    throw connectError(target, error);
  }
}
