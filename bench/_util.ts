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
