// Helpers the end-to-end benchmark scripts share: flags, a free port, and
// timing a child process.

/** The value of `--NAME VALUE` among the script's arguments, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1]! : fallback;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/**
 * Runs `cmd args` (stdout discarded) and resolves to its wall time in
 * seconds; throws with its stderr if it fails (`what` names it).
 */
export async function timeChild(
  what: string,
  cmd: string,
  args: string[],
): Promise<number> {
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`${what} failed: ${new TextDecoder().decode(stderr)}`);
  }
  return (performance.now() - t0) / 1000;
}

/**
 * Starts fstrm_capture writing to /dev/null, listening on the Unix socket
 * `path` (transport "unix") or on 127.0.0.1:`port`, and resolves once it
 * accepts connections. Stop it with {@linkcode stopCapture}.
 */
export async function startCapture(
  contentType: string,
  transport: "unix" | "tcp",
  path: string,
  port: number,
): Promise<Deno.ChildProcess> {
  const capture = new Deno.Command("fstrm_capture", {
    args: [
      "-t",
      contentType,
      ...(transport === "unix"
        ? ["-u", path]
        : ["-a", "127.0.0.1", "-p", `${port}`]),
      "-b",
      "1048576",
      "-w",
      "/dev/null",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (;;) {
    try {
      const c = transport === "unix"
        ? await Deno.connect({ transport, path })
        : await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return capture;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Stops a capture of {@linkcode startCapture} and removes its socket file. */
export async function stopCapture(
  capture: Deno.ChildProcess,
  path: string,
): Promise<void> {
  capture.kill("SIGTERM");
  await capture.status;
  await Deno.remove(path).catch(() => {});
}

/**
 * A Frame Streams file's data frames (after its START frame) cut into
 * windows of whole frames of at most `size` bytes, up to the STOP frame or a
 * frame larger than a window.
 */
export function frameWindows(buf: Uint8Array, size: number): Uint8Array[] {
  const windows: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // After the START frame (escape, length, then its body).
  let at = 8 + view.getUint32(4);
  while (at + 4 <= buf.length) {
    let end = at;
    while (end + 4 <= buf.length) {
      const length = view.getUint32(end);
      if (length === 0 || end + 4 + length - at > size) break;
      end += 4 + length;
    }
    if (end === at) break; // STOP, or a frame larger than a window
    windows.push(buf.subarray(at, end));
    at = end;
  }
  return windows;
}
