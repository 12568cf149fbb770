// Private: the checks a socket target takes on either side, where a
// FrameReceiver listens (ListenTarget) and where a FrameWriter connects
// (ConnectTarget): an object, a known transport, a Unix socket path, a host
// name and a port in range. What only one side has (a socket file's mode,
// the certificate authorities) is checked there.

/** The transports of a socket target. */
export type Transport = "unix" | "tcp" | "tls";

/**
 * Checks what every socket target shares, and returns its transport.
 *
 * @param target The target as given.
 * @param context How messages begin: "Cannot listen", "Cannot connect".
 * @param lowestPort The lowest port allowed: `0` to listen (any free port),
 * `1` to connect.
 * @throws {TypeError} If the target, its transport, path, host name or port
 * has the wrong type.
 * @throws {RangeError} If the port is out of range.
 */
export function checkSocketTarget(
  target: unknown,
  context: string,
  lowestPort: 0 | 1,
): Transport {
  if (typeof target !== "object" || target === null) {
    throw new TypeError(`${context}: the target must be an object`);
  }
  const t = target as Record<string, unknown>;
  if (t.transport === "unix") {
    if (typeof t.path !== "string" || t.path === "") {
      throw new TypeError(`${context}: a unix target needs a non-empty path`);
    }
    return "unix";
  }
  if (t.transport !== "tcp" && t.transport !== "tls") {
    throw new TypeError(
      `${context}: transport must be "unix", "tcp" or "tls", got ${
        String(t.transport)
      }`,
    );
  }
  if (t.hostname !== undefined && typeof t.hostname !== "string") {
    throw new TypeError(`${context}: hostname must be a string`);
  }
  if (typeof t.port !== "number" || !Number.isInteger(t.port)) {
    throw new TypeError(
      `${context}: port must be an integer, got ${String(t.port)}`,
    );
  }
  if (t.port < lowestPort || t.port > 65535) {
    throw new RangeError(
      `${context}: port must be from ${lowestPort} to 65535, got ${t.port}`,
    );
  }
  return t.transport;
}
