// Starting and stopping the real DNS servers (Knot, BIND, unbound, dnsdist)
// on loopback as the current user, every file under a temp dir, each process
// tracked by its pid and stopped by it. Shared by tools/captures/make.ts
// (which records captures with fstrm_capture) and tests/_servers.ts (which
// streams dnstap into our FrameReceiver).
import {
  bindConfig,
  dnsdistConfig,
  knotConfig,
  type Ports,
  type ServerFiles,
  unboundConfig,
} from "./_configs.ts";

const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);

/** A process we started: its name, the child, its log file. */
export interface Proc {
  /** A name for messages ("knotd"). */
  name: string;
  /** The child process. */
  child: Deno.ChildProcess;
  /** Where its stdout and stderr go. */
  log: string;
  /** Set when the process has exited. */
  exited: boolean;
}

/** Every process started by {@linkcode spawn} and not yet stopped. */
export const started: Proc[] = [];

/** Starts `cmd args` with stdout and stderr appended to `log`. */
export function spawn(
  name: string,
  log: string,
  cmd: string,
  args: string[],
): Proc {
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" >>"$LOG" 2>&1', cmd, ...args],
    env: { LOG: log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const proc: Proc = { name, child, log, exited: false };
  child.status.then(() => proc.exited = true, () => proc.exited = true);
  started.push(proc);
  return proc;
}

/**
 * Whether a pid is still a live process (not a zombie). Deno 2 lets only
 * `--allow-all` read /proc of other processes; without it, `kill -0` asks.
 */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    const { success } = await new Deno.Command("kill", {
      args: ["-0", `${pid}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  }
}

/**
 * Stops a process by its pid: `signal`, then SIGKILL after 15 s; checks it
 * is gone. Returns how it ended (the signal's name or the exit code).
 */
export async function stop(
  p: Proc,
  signal: Deno.Signal = "SIGTERM",
): Promise<string> {
  const index = started.indexOf(p);
  if (index < 0) return "not running";
  started.splice(index, 1);
  try {
    p.child.kill(signal);
  } catch {
    // Already gone.
  }
  const timer = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }, 15_000);
  const status = await p.child.status;
  clearTimeout(timer);
  if (await alive(p.child.pid)) {
    throw new Error(`${p.name} (pid ${p.child.pid}) is still running`);
  }
  return `${status.signal ?? status.code}`;
}

/** Stops every process still running, newest first (for cleanup). */
export async function stopAll(): Promise<void> {
  for (const proc of [...started].reverse()) {
    await stop(proc).catch(console.error);
  }
}

/** Waits until `check` returns true, or fails after `ms`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until `check` returns true while `p` runs; if `p` exits first, or
 * after `ms`, throws with the end of its log.
 */
export async function serving(
  p: Proc,
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 30_000,
): Promise<void> {
  try {
    await until(what, async () => {
      if (await check()) return true;
      if (p.exited) {
        throw new Error(`${p.name} exited while waiting for ${what}`);
      }
      return false;
    }, ms);
  } catch (e) {
    const log = await Deno.readTextFile(p.log).catch(() => "");
    throw new Error(
      `${(e as Error).message}; the end of ${p.log}:\n${log.slice(-2_000)}`,
    );
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether a TCP port accepts connections (a connect sends no DNS query). */
export async function listening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Runs a program to its end and returns its stdout; throws on failure. */
export async function run(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${text}${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}

/** zone.db plus the large TXT RRsets, deterministic. */
export async function zoneText(): Promise<string> {
  let text = await Deno.readTextFile(`${HERE}zone.db`);
  // big4k: one RR of 16 strings of 250 bytes (4,016 bytes of rdata).
  const strings: string[] = [];
  for (let i = 0; i < 16; i++) {
    strings.push(`"${`s${String(i).padStart(2, "0")}-`.padEnd(250, "x")}"`);
  }
  text += `big4k TXT ${strings.join(" ")}\n`;
  // big60k: 220 RRs of one 250-byte string: a 58 KB answer, TCP only.
  for (let i = 0; i < 220; i++) {
    text += `big60k TXT "${
      `rr${String(i).padStart(3, "0")}-`.padEnd(250, "y")
    }"\n`;
  }
  return text;
}

/** A server directory under `tmp`, made if missing. */
async function serverDir(
  tmp: string,
  name: string,
  tag: string,
): Promise<string> {
  const dir = `${tmp}/${name}-${tag}`;
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** The signed nsec3.test. zone file for BIND, made once (dnssec-signzone). */
async function signNsec3(tmp: string, zone: string): Promise<string> {
  const dir = `${tmp}/bind-keys`;
  if (await exists(`${dir}/nsec3.test.signed`)) return dir;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/nsec3.test.zone`, zone);
  for (const ksk of [true, false]) {
    await run("dnssec-keygen", [
      "-q",
      "-a",
      "ECDSAP256SHA256",
      ...(ksk ? ["-f", "KSK"] : []),
      "-K",
      dir,
      "nsec3.test",
    ]);
  }
  await run("dnssec-signzone", [
    "-q",
    "-S",
    "-K",
    dir,
    "-3",
    "-",
    "-H",
    "0",
    "-o",
    "nsec3.test",
    "-f",
    `${dir}/nsec3.test.signed`,
    `${dir}/nsec3.test.zone`,
  ], dir);
  return dir;
}

/** Where a server sends dnstap: see {@linkcode ServerFiles}. */
export type Tap = Omit<ServerFiles, "dir">;

/**
 * Starts Knot (dnstap as `tap` says, or none) and waits until it serves its
 * signed zone. Its directory is `tmp/knot`: a restart with the same `tmp`
 * reuses its zone and keys.
 */
export async function startKnot(
  tmp: string,
  p: Ports,
  tap: Tap,
  zone: string,
): Promise<Proc> {
  // One directory with or without dnstap: the backend Knot of unbound and
  // dnsdist serves the very zone and keys the captured one does.
  const dir = `${tmp}/knot`;
  await Deno.mkdir(dir, { recursive: true });
  if (!(await exists(`${dir}/example.test.zone`))) {
    await Deno.writeTextFile(`${dir}/example.test.zone`, zone);
    await Deno.copyFile(`${HERE}reverse.db`, `${dir}/reverse.zone`);
  }
  await Deno.writeTextFile(`${dir}/knot.conf`, knotConfig(p, { dir, ...tap }));
  const proc = spawn("knotd", `${dir}/knotd.log`, "knotd", [
    "-c",
    `${dir}/knot.conf`,
  ]);
  // Signed when its DNSKEY is there; read over the control socket, which
  // dnstap does not see.
  await serving(proc, "knot to sign example.test.", async () => {
    try {
      const out = await run("knotc", [
        "-c",
        `${dir}/knot.conf`,
        "zone-read",
        "example.test.",
        "@",
        "DNSKEY",
      ]);
      return out.includes("DNSKEY");
    } catch {
      return false;
    }
  });
  await serving(proc, "knot on TCP", () => listening(p.knot));
  return proc;
}

/** Starts BIND and waits until it serves. */
export async function startBind(
  tmp: string,
  p: Ports,
  tap: Tap,
  zone: string,
): Promise<Proc> {
  const keys = await signNsec3(tmp, zone);
  const dir = await serverDir(
    tmp,
    "bind",
    tap.tap === null ? "backend" : "tap",
  );
  await Deno.copyFile(`${keys}/nsec3.test.signed`, `${dir}/nsec3.test.signed`);
  await Deno.copyFile(`${HERE}reverse.db`, `${dir}/reverse.zone`);
  await Deno.writeTextFile(`${dir}/named.conf`, bindConfig(p, { dir, ...tap }));
  const log = `${dir}/named.log`;
  // A restart appends to the log: look only at what this run wrote.
  const from = (await Deno.readTextFile(log).catch(() => "")).length;
  const proc = spawn("named", log, "named", [
    "-g",
    "-n",
    "1",
    "-c",
    `${dir}/named.conf`,
  ]);
  await until("named to load its zones", async () => {
    const text = (await Deno.readTextFile(log).catch(() => "")).slice(from);
    if (/exiting \(due to fatal error\)/.test(text)) {
      throw new Error(`named failed:\n${text}`);
    }
    return text.includes("running");
  });
  await serving(proc, "named on TCP", () => listening(p.bind));
  return proc;
}

/**
 * Starts unbound (its backends, Knot and BIND without dnstap, must run) and
 * waits until it serves.
 */
export async function startUnbound(
  tmp: string,
  p: Ports,
  tap: Tap,
): Promise<Proc> {
  const dir = await serverDir(tmp, "unbound", "tap");
  await Deno.writeTextFile(
    `${dir}/unbound.conf`,
    unboundConfig(p, { dir, ...tap }),
  );
  const proc = spawn("unbound", `${dir}/unbound.log`, "unbound", [
    "-d",
    "-c",
    `${dir}/unbound.conf`,
  ]);
  await serving(proc, "unbound on TCP", () => listening(p.unbound));
  return proc;
}

/**
 * Starts dnsdist (its backend, Knot without dnstap, must run) with a fresh
 * self-signed certificate for DoT and DoH, and waits until it serves and
 * its health check has marked Knot up (until then it drops queries).
 */
export async function startDnsdist(
  tmp: string,
  p: Ports,
  tap: Tap,
): Promise<Proc> {
  const dir = await serverDir(tmp, "dnsdist", "tap");
  if (!(await exists(`${dir}/cert.pem`))) {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
      "-days",
      "30",
      "-subj",
      "/CN=dnsdist.example.test",
    ]);
  }
  await Deno.writeTextFile(
    `${dir}/dnsdist.conf`,
    dnsdistConfig(p, { dir, ...tap }),
  );
  const proc = spawn("dnsdist", `${dir}/dnsdist.log`, "dnsdist", [
    "--supervised",
    "--disable-syslog",
    "-C",
    `${dir}/dnsdist.conf`,
  ]);
  await serving(proc, "dnsdist on TCP", () => listening(p.dnsdist));
  await new Promise((r) => setTimeout(r, 2_000));
  return proc;
}
