/**
 * Peers for interop tests: the reference tools (libfstrm's `fstrm_dump`, the
 * Go `dnstap` CLI, a C compiler, …) that Debian packages and CI installs.
 *
 * An interop test registered with {@linkcode interopTest} runs when all of
 * its peers are present. When one is missing it fails under CI (the `CI`
 * environment variable is set, as CI=true) and is ignored elsewhere, with one
 * line on stderr naming the missing peer and the apt package that has it.
 *
 * It is also the one place that knows the C programs of `peers/` (a
 * libfstrm-based generator and two readers, see peers/README.md):
 * {@linkcode compilePeer} builds one with gcc, once per process.
 *
 * @example
 * ```ts ignore
 * import { interopTest } from "./_peers.ts";
 *
 * interopTest("fstrm_dump reads our file", ["fstrm_dump"], async () => {
 *   // new Deno.Command("fstrm_dump", { args: [path] }) ...
 * });
 * ```
 *
 * @module
 */

/**
 * Where each known peer comes from: the Debian package to install.
 * A peer whose name contains a `/` is a file path (a header, say), not a
 * command.
 */
export const PEER_PACKAGES: Readonly<Record<string, string>> = {
  fstrm_dump: "fstrm-bin",
  fstrm_capture: "fstrm-bin",
  fstrm_replay: "fstrm-bin",
  "/usr/include/fstrm.h": "libfstrm-dev",
  dnstap: "golang-github-dnstap-golang-dnstap-cli",
  gcc: "gcc",
  openssl: "openssl",
  // The DNS servers of tests/servers_*_test.ts and their tools (Knot's
  // dnstap module is knot-module-dnstap: knotd refuses the config without it).
  knotd: "knot",
  knotc: "knot",
  kdig: "knot-dnsutils",
  named: "bind9",
  "dnssec-keygen": "bind9-utils",
  "dnssec-signzone": "bind9-utils",
  dig: "bind9-dnsutils",
  unbound: "unbound",
  dnsdist: "dnsdist",
};

/** Reads an environment variable; `undefined` without `--allow-env`. */
function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Whether `path` is a regular file (executable, if `exec`). */
function isFile(path: string, exec: boolean): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && (!exec || ((info.mode ?? 0o111) & 0o111) !== 0);
  } catch {
    return false;
  }
}

/**
 * Finds a peer.
 *
 * @param name A command to look up on `PATH`, or a file path (any name
 * containing `/`) that must exist.
 * @returns The peer's absolute path, or `null` if it is missing (or cannot be
 * looked for, without `--allow-env` and `--allow-read`).
 */
export function peer(name: string): string | null {
  if (name.includes("/")) return isFile(name, false) ? name : null;
  for (const dir of (env("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    if (isFile(path, true)) return path;
  }
  return null;
}

/** Whether tests run under CI, where a missing peer is a failure. */
export function isCI(): boolean {
  return (env("CI") ?? "") !== "";
}

/** Words for a missing peer: "fstrm_dump is missing (apt package fstrm-bin)". */
function describe(name: string): string {
  return `${name} is missing (apt package ${PEER_PACKAGES[name] ?? "unknown"})`;
}

const reported = new Set<string>();

/**
 * Registers an interop test that needs peers.
 *
 * - All peers present: a normal `Deno.test` running `fn`.
 * - One missing under CI: a test that fails, naming the peer and its apt
 *   package.
 * - One missing elsewhere: an ignored test, and (once per missing peer) a
 *   line on stderr saying which interop tests are skipped and why.
 *
 * @param name The test name.
 * @param peers Commands on `PATH` (or file paths) the test needs; see
 * {@linkcode peer}.
 * @param fn The test body.
 */
export function interopTest(
  name: string,
  peers: readonly string[],
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void {
  const missing = peers.filter((p) => peer(p) === null);
  if (missing.length === 0) {
    Deno.test(name, fn);
    return;
  }
  const what = missing.map(describe).join(", ");
  if (isCI()) {
    Deno.test(name, () => {
      throw new Error(
        `Cannot run interop test under CI: ${what}; install it with apt-get`,
      );
    });
    return;
  }
  for (const p of missing) {
    if (reported.has(p)) continue;
    reported.add(p);
    console.error(
      `interop tests are skipped because ${
        describe(p)
      }; set CI=true to make this an error`,
    );
  }
  Deno.test({ name, ignore: true, fn });
}

// ---------------------------------------------------------------------------
// The C programs of peers/: where they are, how they are built.

/** The C programs under `peers/` at the repository root. */
export type PeerProgram = "fstrm_gen" | "read_tight" | "read_libfstrm";

/** The directory of the C sources: `peers/` at the repository root. */
export const PEERS_DIR: URL = new URL("../peers/", import.meta.url);

/**
 * What each C program needs to build (peers for {@linkcode interopTest})
 * and the libraries it links.
 */
export const PEER_PROGRAMS: Readonly<
  Record<PeerProgram, { needs: readonly string[]; libs: readonly string[] }>
> = {
  fstrm_gen: { needs: ["gcc", "/usr/include/fstrm.h"], libs: ["-lfstrm"] },
  read_tight: { needs: ["gcc"], libs: [] },
  read_libfstrm: { needs: ["gcc", "/usr/include/fstrm.h"], libs: ["-lfstrm"] },
};

/** The flags every program is compiled with. */
const CFLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra"];

/** The path of a program's C source. */
export function peerSource(name: PeerProgram): string {
  return decodeURIComponent(new URL(`${name}.c`, PEERS_DIR).pathname);
}

let buildDir: Promise<string> | null = null;
const built = new Map<PeerProgram, Promise<string>>();

/** This process's build directory, made once and removed when it exits. */
function makeBuildDir(): Promise<string> {
  buildDir ??= Deno.makeTempDir({ prefix: "fstrm-peer-build-" }).then((dir) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    });
    return dir;
  });
  return buildDir;
}

/** Compiles `name` into `dir`; the binary's path. */
async function build(name: PeerProgram, dir: string): Promise<string> {
  const exe = `${dir}/${name}`;
  const { code, stderr } = await new Deno.Command("gcc", {
    args: [...CFLAGS, "-o", exe, peerSource(name), ...PEER_PROGRAMS[name].libs],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(stderr).trim();
  if (code !== 0) {
    throw new Error(
      `Cannot build peers/${name}.c: gcc exited ${code}\n${output}`,
    );
  }
  return exe;
}

/**
 * Compiles one C program of `peers/` with gcc, once per process (later calls
 * get the same binary), into a temporary directory removed at exit.
 *
 * @param name The program (the source is `peers/NAME.c`).
 * @returns The path of the binary.
 * @throws {Error} If gcc fails; the message holds its output.
 *
 * @example
 * ```ts ignore
 * import { compilePeer, interopTest, PEER_PROGRAMS } from "./_peers.ts";
 *
 * interopTest("read_tight reads our file", PEER_PROGRAMS.read_tight.needs, async () => {
 *   const tight = await compilePeer("read_tight");
 *   // new Deno.Command(tight, { args: [path] }) ...
 * });
 * ```
 */
export function compilePeer(name: PeerProgram): Promise<string> {
  let exe = built.get(name);
  if (exe === undefined) {
    exe = makeBuildDir().then((dir) => build(name, dir));
    // A failed build is retried by the next caller, not cached.
    exe.catch(() => built.delete(name));
    built.set(name, exe);
  }
  return exe;
}
