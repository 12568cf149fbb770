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
import { type Ports, ports } from "./_configs.ts";
import {
  exists,
  type Proc,
  run,
  spawn,
  startBind,
  startDnsdist,
  started,
  startKnot,
  startUnbound,
  stop as stopProc,
  stopAll,
  until,
  zoneText,
} from "./_servers.ts";
import { type Query, querySet, type Target } from "./_queries.ts";

const OUT = (Deno.env.get("CAPTURE_OUT") ?? decodeURIComponent(
  new URL("../../tests/data/dnstap/", import.meta.url).pathname,
)).replace(/\/?$/, "/");
const TARGETS: readonly Target[] = ["knot", "bind", "unbound", "dnsdist"];

/** Stops a process by its pid (see _servers.ts) and says how it ended. */
async function stop(p: Proc, signal: Deno.Signal = "SIGTERM"): Promise<void> {
  console.error(`  ${p.name} stopped (${await stopProc(p, signal)})`);
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
  const t = { tap };
  if (target === "knot") {
    server = await startKnot(tmp, p, t, zone);
    port = p.knot;
  } else if (target === "bind") {
    server = await startBind(tmp, p, t, zone);
    port = p.bind;
  } else if (target === "unbound") {
    backends.push(await startKnot(tmp, p, { tap: null }, zone));
    backends.push(await startBind(tmp, p, { tap: null }, zone));
    server = await startUnbound(tmp, p, t);
    port = p.unbound;
  } else {
    backends.push(await startKnot(tmp, p, { tap: null }, zone));
    server = await startDnsdist(tmp, p, t);
    port = p.dnsdist;
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
    await stopAll();
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
