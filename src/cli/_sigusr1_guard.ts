/**
 * Keeps SIGUSR1 from opening V8's inspector in `fstrm capture`.
 *
 * Since Deno 2.9.2 (denoland/deno#35738, commit c29f8e1005, `cli/worker.rs`
 * `spawn_sigusr1_inspector_listener`), a program run by `deno run` (and so
 * by `deno task` and `deno install`'s scripts) that is 500 ms old starts
 * V8's inspector server on 127.0.0.1:9229 when it receives SIGUSR1, as
 * Node.js does: any local user can then connect and run code as the
 * process. Nothing turns it off: no flag, no environment variable, no
 * permission; a JS listener for SIGUSR1 runs beside it. SIGUSR1 is
 * fstrm_capture's rotation signal, so `fstrm capture` must take it.
 *
 * The inspector is started from the main thread's event loop, and its
 * socket is bound there (`libs/inspector_server/lib.rs`,
 * `InspectorServer::new`, `std::net::TcpListener::bind`), and when the bind
 * fails Deno logs one line and goes on without an inspector. So the guard
 * takes from the main thread the right to bind TCP sockets, with Linux's
 * Landlock (ABI 4, Linux 6.7: `LANDLOCK_ACCESS_NET_BIND_TCP`): a ruleset
 * that handles TCP binds only and allows the capture's own port, applied to
 * the calling thread with `landlock_restrict_self` through `Deno.dlopen`.
 * It cannot be undone, and it is all it restricts: files, connections,
 * Unix sockets and UDP are untouched. Then it checks itself: a TCP bind to
 * 127.0.0.1:9229 from this thread must fail with EACCES.
 *
 * What it does not cover: a Deno that would bind the inspector on another
 * thread (the thread's Landlock domain is not the process's), or open it
 * some other way. Hence two alarms: `tests/cli_capture_sigusr1_test.ts`
 * sends SIGUSR1 to running captures and checks that they own no listening
 * socket (CI turns red), and the capture itself looks for a listening TCP
 * socket not its own after each SIGUSR1 ({@linkcode listeningTcpPorts})
 * and stops at once if it finds one. Nor a SIGUSR1 that comes before the
 * guard is set, in the first 50 ms or so of the process (Deno itself only
 * listens for it after 500 ms).
 *
 * @module
 */
import { CliError } from "./_cli_error.ts";

/** The first Deno whose `deno run` opens the inspector on SIGUSR1. */
const FIRST_DENO: readonly [number, number, number] = [2, 9, 2];
/** Where Deno's SIGUSR1 inspector listens. */
const INSPECTOR_PORT = 9229;

// Linux (the same numbers on every architecture: they are newer than the
// unified syscall table).
const SYS_LANDLOCK_CREATE_RULESET = 444n;
const SYS_LANDLOCK_ADD_RULE = 445n;
const SYS_LANDLOCK_RESTRICT_SELF = 446n;
const LANDLOCK_CREATE_RULESET_VERSION = 1;
const LANDLOCK_RULE_NET_PORT = 2;
const LANDLOCK_ACCESS_NET_BIND_TCP = 1n;
const LANDLOCK_NET_ABI = 4;
const PR_SET_NO_NEW_PRIVS = 38;
const AF_INET = 2;
const SOCK_STREAM = 1;
const EACCES = 13;
const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const AF_INET6 = 10;
/** The descriptors looked at for listening sockets: 0 to this, excluded. */
const MAX_FD = 65_536;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const LIBC = {
  create_ruleset: {
    name: "syscall",
    parameters: ["i64", "buffer", "usize", "u32"],
    result: "i64",
  },
  add_rule: {
    name: "syscall",
    parameters: ["i64", "i64", "i64", "buffer", "u32"],
    result: "i64",
  },
  restrict_self: {
    name: "syscall",
    parameters: ["i64", "i64", "u32"],
    result: "i64",
  },
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** What the guard did, for the capture's `-d` log. */
export interface Sigusr1GuardResult {
  /** Whether SIGUSR1 can open the inspector now. */
  readonly exposed: boolean;
  /** One line on what was done, or why nothing was needed. */
  readonly note: string;
}

/** Options of {@linkcode guardSigusr1}. */
export interface Sigusr1GuardOptions {
  /**
   * Start even where the guard cannot be set (not Linux, no Landlock, no
   * `--allow-ffi`): the result says so instead of an error.
   * @default {false}
   */
  unsafe?: boolean;
  /** The Deno version to judge. @default {Deno.version.deno} */
  denoVersion?: string;
  /** The operating system. @default {Deno.build.os} */
  os?: typeof Deno.build.os;
}

/**
 * Whether `deno run` of Deno `version` opens the inspector on SIGUSR1
 * (2.9.2 and later, prereleases of 2.9.2 included).
 */
export function inspectorOnSigusr1(version: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (m === null) return true; // unknown: assume the worst
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== FIRST_DENO[i]!) return v[i]! > FIRST_DENO[i]!;
  }
  return true;
}

/**
 * Takes from the calling thread (the main one: call it from a program's
 * top level or a function it awaits) the right to bind TCP sockets other
 * than on `allowedPorts`, so that SIGUSR1 cannot open V8's inspector; then
 * checks that a bind to 127.0.0.1:9229 fails. Irreversible for the thread:
 * for `fstrm capture`, not for a library.
 *
 * @param allowedPorts The TCP ports the caller will listen on (0: any port
 * the system picks).
 * @param options See {@linkcode Sigusr1GuardOptions}.
 * @returns What was done.
 * @throws {CliError} If the guard cannot be set or does not hold, naming
 * what to do (unless `unsafe`, where only "cannot be set" is forgiven).
 */
export function guardSigusr1(
  allowedPorts: readonly number[],
  options: Sigusr1GuardOptions = {},
): Sigusr1GuardResult {
  const {
    unsafe = false,
    denoVersion = Deno.version.deno,
    os = Deno.build.os,
  } = options;
  if (os === "windows") {
    return { exposed: false, note: "no SIGUSR1 on Windows" };
  }
  if (!inspectorOnSigusr1(denoVersion)) {
    return {
      exposed: false,
      note: `Deno ${denoVersion} does not open its inspector on SIGUSR1`,
    };
  }
  const risk =
    `Deno ${denoVersion} opens V8's inspector on 127.0.0.1:${INSPECTOR_PORT} ` +
    `at SIGUSR1 (any local user could run code as this process)`;
  const cannot = (why: string): Sigusr1GuardResult => {
    if (unsafe) {
      return {
        exposed: true,
        note: `${risk}, and ${why}: rotate with SIGUSR2, never SIGUSR1`,
      };
    }
    throw new CliError(
      `${risk}, and ${why}; or pass --unsafe-sigusr1 and rotate with ` +
        `SIGUSR2 only`,
    );
  };
  if (allowedPorts.includes(INSPECTOR_PORT)) {
    return cannot(
      `port ${INSPECTOR_PORT} is the inspector's, so the guard cannot ` +
        `tell the two apart: listen on another port`,
    );
  }
  if (os !== "linux") {
    return cannot(`only Linux's Landlock can keep it closed, not ${os}'s`);
  }
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return cannot(
      "keeping it closed (Landlock, through libc) needs --allow-ffi: " +
        "run with --allow-ffi (deno task fstrm does)",
    );
  }
  let lib: Deno.DynamicLibrary<typeof LIBC>;
  try {
    lib = Deno.dlopen("libc.so.6", LIBC);
  } catch (error) {
    return cannot(`libc.so.6 cannot be loaded (${(error as Error).message})`);
  }
  try {
    const done = landlockBindTcp(lib, allowedPorts);
    if (typeof done === "string") return cannot(done);
    // The proof, from this thread: a bind where the inspector would.
    const errno = bindLoopback(lib, INSPECTOR_PORT);
    if (errno !== EACCES) {
      throw new CliError(
        `${risk}, and the Landlock guard did not hold (a bind to ` +
          `127.0.0.1:${INSPECTOR_PORT} gave ${
            errno === 0 ? "success" : `errno ${errno}`
          }, not EACCES): refusing to start`,
      );
    }
    return {
      exposed: false,
      note: `SIGUSR1 only rotates: ${
        allowedPorts.length === 0
          ? "no TCP bind is allowed"
          : `TCP binds are allowed on port ${allowedPorts.join(", ")} only`
      } on the main thread (Landlock ABI ${done}), so V8's inspector ` +
        `cannot open`,
    };
  } finally {
    lib.close();
  }
}

/**
 * Restricts the calling thread's TCP binds to `ports`; the Landlock ABI, or
 * why it could not.
 */
function landlockBindTcp(
  lib: Deno.DynamicLibrary<typeof LIBC>,
  ports: readonly number[],
): number | string {
  const s = lib.symbols;
  const errno = (): number =>
    new Deno.UnsafePointerView(s.__errno_location()!).getInt32();
  const abi = Number(
    s.create_ruleset(
      SYS_LANDLOCK_CREATE_RULESET,
      null,
      0n,
      LANDLOCK_CREATE_RULESET_VERSION,
    ),
  );
  if (abi < LANDLOCK_NET_ABI) {
    return abi < 0
      ? `Landlock is not available (errno ${errno()}; it needs Linux 5.13+ ` +
        `with landlock in the kernel's lsm= list, TCP rules Linux 6.7+)`
      : `this kernel's Landlock (ABI ${abi}) has no TCP rules (Linux 6.7+)`;
  }
  // struct landlock_ruleset_attr { handled_access_fs; handled_access_net }
  const attr = new BigUint64Array([0n, LANDLOCK_ACCESS_NET_BIND_TCP]);
  const fd = s.create_ruleset(
    SYS_LANDLOCK_CREATE_RULESET,
    new Uint8Array(attr.buffer),
    16n,
    0,
  );
  if (fd < 0n) return `landlock_create_ruleset failed (errno ${errno()})`;
  try {
    for (const port of new Set(ports)) {
      // struct landlock_net_port_attr { allowed_access; port }
      const rule = new BigUint64Array([
        LANDLOCK_ACCESS_NET_BIND_TCP,
        BigInt(port),
      ]);
      const r = s.add_rule(
        SYS_LANDLOCK_ADD_RULE,
        fd,
        BigInt(LANDLOCK_RULE_NET_PORT),
        new Uint8Array(rule.buffer),
        0,
      );
      if (r < 0n) {
        return `landlock_add_rule for port ${port} failed (errno ${errno()})`;
      }
    }
    // Needed unless the process holds CAP_SYS_ADMIN; it only stops execve
    // from gaining privileges (set-user-ID programs), which we never run.
    if (s.prctl(PR_SET_NO_NEW_PRIVS, 1n, 0n, 0n, 0n) !== 0) {
      return `prctl(PR_SET_NO_NEW_PRIVS) failed (errno ${errno()})`;
    }
    if (s.restrict_self(SYS_LANDLOCK_RESTRICT_SELF, fd, 0) < 0n) {
      return `landlock_restrict_self failed (errno ${errno()})`;
    }
  } finally {
    s.close(Number(fd));
  }
  return abi;
}

/**
 * Binds (never listens) a TCP socket to 127.0.0.1:`port` from the calling
 * thread and closes it; 0 if the bind succeeded, else its errno.
 */
function bindLoopback(
  lib: Deno.DynamicLibrary<typeof LIBC>,
  port: number,
): number {
  const s = lib.symbols;
  const fd = s.socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return new Deno.UnsafePointerView(s.__errno_location()!).getInt32();
  }
  try {
    // struct sockaddr_in: family (host order), port (network order), addr.
    const sa = new Uint8Array(16);
    const view = new DataView(sa.buffer);
    view.setUint16(0, AF_INET, LITTLE_ENDIAN);
    view.setUint16(2, port, false);
    sa.set([127, 0, 0, 1], 4);
    if (s.bind(fd, sa, sa.length) === 0) return 0;
    return new Deno.UnsafePointerView(s.__errno_location()!).getInt32();
  } finally {
    s.close(fd);
  }
}

/**
 * The local ports of the TCP sockets this process has listening: each
 * descriptor below 65,536 asked with `getsockopt(SO_ACCEPTCONN)` and
 * `getsockname` (Linux; `/proc/self/fd` would need `--allow-all`), sorted,
 * one per socket. The capture looks after each SIGUSR1, so that an
 * inspector that got past the guard stops it at once.
 *
 * @returns The ports.
 * @throws {Deno.errors.NotCapable} Without `--allow-ffi`.
 */
export function listeningTcpPorts(): number[] {
  const lib = Deno.dlopen("libc.so.6", LIBC);
  try {
    return scanListening(lib);
  } finally {
    lib.close();
  }
}

function scanListening(lib: Deno.DynamicLibrary<typeof LIBC>): number[] {
  const s = lib.symbols;
  const value = new Int32Array(1);
  const valueLength = new Uint32Array(1);
  const addr = new Uint8Array(128);
  const addrLength = new Uint32Array(1);
  const view = new DataView(addr.buffer);
  const ports: number[] = [];
  for (let fd = 0; fd < MAX_FD; fd++) {
    value[0] = 0;
    valueLength[0] = 4;
    // Fails at once (EBADF, ENOTSOCK) on all but sockets.
    if (s.getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, value, valueLength) !== 0) {
      continue;
    }
    if (value[0] !== 1) continue;
    addrLength[0] = addr.length;
    if (s.getsockname(fd, addr, addrLength) !== 0) continue;
    const family = view.getUint16(0, LITTLE_ENDIAN);
    if (family !== AF_INET && family !== AF_INET6) continue; // Unix
    ports.push(view.getUint16(2, false));
  }
  return ports.sort((a, b) => a - b);
}
