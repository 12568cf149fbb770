// Remakes the real-server dnstap captures in tests/data/dnstap/: Knot, BIND,
// unbound and dnsdist, each on loopback with high ports, every file in a temp
// dir, as the current user (no root needed), each sending dnstap to
// `fstrm_capture` on a Unix socket while kdig and dig send the query set of
// _queries.ts. Then it writes tests/data/dnstap/README.md with the versions,
// the date and the counts per message type that tests assert.
//
//   deno task captures             (all four)
//   deno task captures knot bind   (some; the README keeps the others' rows)
//   deno task captures --readme    (only rewrite the README)
//
// Environment:
//   CAPTURE_PORT_BASE  default 25353: six ports from there, for Knot, BIND,
//                      unbound, dnsdist, its DoT and its DoH
//   CAPTURE_KEEP=1     keep the temp dir (server logs, configs) for a look
//   CAPTURE_DRAIN_MS   default 3000: the wait between the last query and
//                      stopping the server, for its dnstap queue to drain
//   CAPTURE_OUT        another directory for the files (default
//                      tests/data/dnstap/)
//   CAPTURE_DEBUG=1    run the capturer with -d -d (its log: the temp dir)
//   CAPTURE_WITH=fstrm capture with our own `fstrm capture` (cli.ts) instead
//                      of fstrm_capture: its log names each writer's
//                      handshake and how it ended
//
// The servers run one after another, each while its own capture runs; Knot
// and BIND also run, without dnstap, as the backends of unbound and dnsdist,
// so that each capture holds its own server's traffic only.
import { DNSTAP_CONTENT_TYPE } from "../../mod.ts";
import { readmeText } from "./_readme.ts";
import { summarize } from "./_summary.ts";
import {
  bindConfig,
  dnsdistConfig,
  knotConfig,
  type Ports,
  ports,
  type ServerFiles,
  unboundConfig,
} from "./_configs.ts";
import { type Query, querySet, type Target } from "./_queries.ts";

const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);
const OUT = (Deno.env.get("CAPTURE_OUT") ?? decodeURIComponent(
  new URL("../../tests/data/dnstap/", import.meta.url).pathname,
)).replace(/\/?$/, "/");
const TARGETS: readonly Target[] = ["knot", "bind", "unbound", "dnsdist"];

/** A process we started: its pid, its exit, its log. */
interface Proc {
  name: string;
  child: Deno.ChildProcess;
  log: string;
}

const started: Proc[] = [];

/** Starts `cmd args` with stdout and stderr into `log`. */
function spawn(name: string, log: string, cmd: string, args: string[]): Proc {
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" >>"$LOG" 2>&1', cmd, ...args],
    env: { LOG: log },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const proc = { name, child, log };
  started.push(proc);
  return proc;
}

/** Whether a pid is still a live process (not a zombie). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** Stops a process by its pid: `signal`, then SIGKILL after 15 s; checks. */
async function stop(p: Proc, signal: Deno.Signal = "SIGTERM"): Promise<void> {
  const index = started.indexOf(p);
  if (index < 0) return;
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
  console.error(`  ${p.name} stopped (${status.signal ?? status.code})`);
}

/** Waits until `check` returns true, or fails after `ms`. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether a TCP port accepts connections (a connect sends no DNS query). */
async function listening(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Runs a program to its end and returns its stdout; throws on failure. */
async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
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
async function zoneText(): Promise<string> {
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

/** Sends the query set; returns one summary line per query. */
async function sendQueries(queries: Query[]): Promise<string[]> {
  const lines: string[] = [];
  for (const { tool, args } of queries) {
    const out = await new Deno.Command(tool, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    // The first answer's status and flags (dig prints the truncated UDP
    // answer only as a warning before its TCP retry).
    const status = /status: ([A-Z]+)/.exec(text)?.[1] ??
      (/Transfer Section|XFR/i.test(text) ? "transfer" : "no answer");
    const flags = /;; [Ff]lags: ([a-z ]*)/.exec(text)?.[1]?.trim() ?? "";
    const tc = /Truncated, retrying|TC flag/i.test(text)
      ? " (truncated, retried over TCP)"
      : "";
    lines.push(`${tool} ${args.join(" ")} -> ${status} ${flags}${tc}`);
  }
  return lines;
}

/**
 * Starts fstrm_capture (or, with CAPTURE_WITH=fstrm, our own `fstrm capture`,
 * which logs each writer's handshake and how it ended) on `sock`.
 */
async function startCapture(dir: string, name: string): Promise<Proc> {
  const sock = `${dir}/${name}.sock`;
  const ours = Deno.env.get("CAPTURE_WITH") === "fstrm";
  const debug = Deno.env.get("CAPTURE_DEBUG") === "1";
  const cli = decodeURIComponent(
    new URL("../../cli.ts", import.meta.url).pathname,
  );
  const proc = spawn(
    `${ours ? "fstrm capture" : "fstrm_capture"}(${name})`,
    `${dir}/${name}.capture.log`,
    ours ? Deno.execPath() : "fstrm_capture",
    [
      ...(ours ? ["run", "-A", cli, "capture"] : []),
      ...(debug ? ["-d", "-d"] : []),
      "-t",
      DNSTAP_CONTENT_TYPE,
      "-u",
      sock,
      "-w",
      `${dir}/${name}.fstrm`,
    ],
  );
  await until(`${sock}`, () => exists(sock));
  return proc;
}

/** A server directory with its config written. */
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
  await run("dnssec-keygen", [
    "-q",
    "-a",
    "ECDSAP256SHA256",
    "-f",
    "KSK",
    "-K",
    dir,
    "nsec3.test",
  ]);
  await run("dnssec-keygen", [
    "-q",
    "-a",
    "ECDSAP256SHA256",
    "-K",
    dir,
    "nsec3.test",
  ]);
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

/** Starts Knot (dnstap to `tap`, or none) and waits until it serves. */
async function startKnot(
  tmp: string,
  p: Ports,
  tap: string | null,
  zone: string,
): Promise<Proc> {
  const dir = `${tmp}/knot`;
  await Deno.mkdir(dir, { recursive: true });
  if (!(await exists(`${dir}/example.test.zone`))) {
    await Deno.writeTextFile(`${dir}/example.test.zone`, zone);
    await Deno.copyFile(`${HERE}reverse.db`, `${dir}/reverse.zone`);
  }
  const files: ServerFiles = { dir, tap };
  await Deno.writeTextFile(`${dir}/knot.conf`, knotConfig(p, files));
  const proc = spawn("knotd", `${dir}/knotd.log`, "knotd", [
    "-c",
    `${dir}/knot.conf`,
  ]);
  // Signed when its DNSKEY is there; read over the control socket, which
  // dnstap does not see.
  await until("knot to sign example.test.", async () => {
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
  await until("knot on TCP", () => listening(p.knot));
  return proc;
}

/** Starts BIND and waits until it serves. */
async function startBind(
  tmp: string,
  p: Ports,
  tap: string | null,
  zone: string,
): Promise<Proc> {
  const keys = await signNsec3(tmp, zone);
  const dir = await serverDir(tmp, "bind", tap === null ? "backend" : "tap");
  await Deno.copyFile(`${keys}/nsec3.test.signed`, `${dir}/nsec3.test.signed`);
  await Deno.copyFile(`${HERE}reverse.db`, `${dir}/reverse.zone`);
  await Deno.writeTextFile(`${dir}/named.conf`, bindConfig(p, { dir, tap }));
  const log = `${dir}/named.log`;
  const proc = spawn("named", log, "named", [
    "-g",
    "-n",
    "1",
    "-c",
    `${dir}/named.conf`,
  ]);
  await until("named to load its zones", async () => {
    const text = await Deno.readTextFile(log).catch(() => "");
    if (/exiting \(due to fatal error\)/.test(text)) {
      throw new Error(`named failed:\n${text}`);
    }
    return text.includes("running");
  });
  await until("named on TCP", () => listening(p.bind));
  return proc;
}

/** Makes one capture; returns the per-query summary lines. */
async function capture(
  target: Target,
  tmp: string,
  p: Ports,
  zone: string,
): Promise<string[]> {
  console.error(`${target}:`);
  const cap = await startCapture(tmp, target);
  const tap = `${tmp}/${target}.sock`;
  const backends: Proc[] = [];
  let server: Proc;
  let port: number;
  if (target === "knot") {
    server = await startKnot(tmp, p, tap, zone);
    port = p.knot;
  } else if (target === "bind") {
    server = await startBind(tmp, p, tap, zone);
    port = p.bind;
  } else if (target === "unbound") {
    backends.push(await startKnot(tmp, p, null, zone));
    backends.push(await startBind(tmp, p, null, zone));
    const dir = await serverDir(tmp, "unbound", "tap");
    await Deno.writeTextFile(
      `${dir}/unbound.conf`,
      unboundConfig(p, { dir, tap }),
    );
    server = spawn("unbound", `${dir}/unbound.log`, "unbound", [
      "-d",
      "-c",
      `${dir}/unbound.conf`,
    ]);
    port = p.unbound;
    await until("unbound on TCP", () => listening(port));
  } else {
    backends.push(await startKnot(tmp, p, null, zone));
    const dir = await serverDir(tmp, "dnsdist", "tap");
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
    await Deno.writeTextFile(
      `${dir}/dnsdist.conf`,
      dnsdistConfig(p, { dir, tap }),
    );
    server = spawn("dnsdist", `${dir}/dnsdist.log`, "dnsdist", [
      "--supervised",
      "--disable-syslog",
      "-C",
      `${dir}/dnsdist.conf`,
    ]);
    port = p.dnsdist;
    await until("dnsdist on TCP", () => listening(port));
    // Until its health check has marked Knot up, dnsdist drops queries.
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const lines = await sendQueries(
    querySet(target, port, target === "dnsdist" ? p : undefined),
  );
  // Let the servers' dnstap queues drain before they stop.
  await new Promise((r) =>
    setTimeout(r, Number(Deno.env.get("CAPTURE_DRAIN_MS") ?? "3000"))
  );
  await stop(server);
  for (const b of backends) await stop(b);
  await new Promise((r) => setTimeout(r, 500));
  await stop(cap, "SIGINT");
  return lines;
}

/** `dpkg-query` version of a Debian package. */
async function debVersion(pkg: string): Promise<string> {
  return await run("dpkg-query", ["-W", "-f", "${Version}", pkg]).catch(() =>
    "?"
  );
}

async function main(): Promise<void> {
  const readmeOnly = Deno.args.includes("--readme");
  const named = Deno.args.filter((a) => a !== "--readme") as Target[];
  const wanted = readmeOnly ? [] : named.length === 0 ? [...TARGETS] : named;
  for (const w of wanted) {
    if (!TARGETS.includes(w)) throw new Error(`unknown server ${w}`);
  }
  const base = Number(Deno.env.get("CAPTURE_PORT_BASE") ?? "25353");
  const p = ports(base);
  const tmp = await Deno.makeTempDir({ prefix: "fstrm-captures-" });
  // On ^C, the servers and capturers we started go too, by pid.
  const onInterrupt = (): void => {
    for (const p of started) {
      try {
        p.child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
    }
    console.error(`interrupted; the temp dir ${tmp} is left`);
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const zone = await zoneText();
  const summaries: Record<string, string[]> = {};
  try {
    for (const target of wanted) {
      summaries[target] = await capture(target, tmp, p, zone);
      const bytes = await Deno.readFile(`${tmp}/${target}.fstrm`);
      await Deno.mkdir(OUT, { recursive: true });
      await Deno.writeFile(`${OUT}${target}.fstrm`, bytes);
      await Deno.writeTextFile(
        `${OUT}${target}.queries.txt`,
        summaries[target]!.join("\n") + "\n",
      );
      const counts = Object.entries(summarize(bytes).types).map(([t, n]) =>
        `${t} ${n}`
      )
        .join(", ");
      console.error(`  ${bytes.length} bytes: ${counts}`);
    }
  } finally {
    for (const proc of [...started].reverse()) {
      await stop(proc).catch(console.error);
    }
    if (Deno.env.get("CAPTURE_KEEP") === "1") console.error(`kept ${tmp}`);
    else await Deno.remove(tmp, { recursive: true });
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  const versions: [string, string][] = [];
  for (
    const pkg of [
      "knot",
      "bind9",
      "unbound",
      "dnsdist",
      "fstrm-bin",
      "knot-dnsutils",
      "bind9-dnsutils",
    ]
  ) {
    versions.push([pkg, await debVersion(pkg)]);
  }
  const captures: [string, Uint8Array][] = [];
  for (const target of TARGETS) {
    const bytes = await Deno.readFile(`${OUT}${target}.fstrm`).catch(() =>
      null
    );
    if (bytes !== null) captures.push([target, bytes]);
  }
  await Deno.writeTextFile(`${OUT}README.md`, readmeText(versions, captures));
  await run(Deno.execPath(), ["fmt", "--quiet", `${OUT}README.md`]);
}

if (import.meta.main) await main();
