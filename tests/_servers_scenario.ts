// The scenario of the real-server tests (servers_*_test.ts): a server
// streams dnstap into our FrameReceiver while kdig and dig send tagged
// rounds of queries (tests/_servers.ts); every round is matched exactly;
// the server is restarted, then our receiver, and what arrives is counted.
// SERVERS_DEBUG=1 prints every frame of each round.
import assert from "node:assert/strict";
import type { ConnectionEvent, ListenTarget } from "../src/frame_receiver.ts";
import { type Ports, ports } from "../tools/captures/_configs.ts";
import type { Target } from "../tools/captures/_queries.ts";
import {
  type Proc,
  startBind,
  startDnsdist,
  startKnot,
  startUnbound,
  stop,
  stopAll,
  type Tap,
  until,
  zoneText,
} from "../tools/captures/_servers.ts";
import {
  CLIENT_TYPES,
  Collector,
  countTypes,
  expectedLines,
  ofRound,
  probes,
  type Seen,
  send,
  settle,
} from "./_servers.ts";

export { SERVER_PEERS } from "./_servers.ts";

// ---------------------------------------------------------------------------
// The servers

/** A server under test with its backends, restartable. */
export class Servers {
  readonly target: Target;
  readonly tmp: string;
  readonly ports: Ports;
  #tap: Tap;
  #zone: string;
  #server: Proc | null = null;
  #backends: Proc[] = [];

  private constructor(
    target: Target,
    tmp: string,
    p: Ports,
    tap: Tap,
    zone: string,
  ) {
    this.target = target;
    this.tmp = tmp;
    this.ports = p;
    this.#tap = tap;
    this.#zone = zone;
  }

  /** Starts the backends (unbound: Knot and BIND; dnsdist: Knot) and the server. */
  static async start(
    target: Target,
    tmp: string,
    base: number,
    tap: Tap,
  ): Promise<Servers> {
    const s = new Servers(target, tmp, ports(base), tap, await zoneText());
    try {
      if (target === "unbound" || target === "dnsdist") {
        s.#backends.push(await startKnot(tmp, s.ports, { tap: null }, s.#zone));
      }
      if (target === "unbound") {
        s.#backends.push(await startBind(tmp, s.ports, { tap: null }, s.#zone));
      }
      await s.startServer();
    } catch (e) {
      await stopAll();
      throw e;
    }
    return s;
  }

  /** The DNS port of the server under test. */
  get port(): number {
    return this.ports[this.target];
  }

  /** Starts the server under test (again). */
  async startServer(): Promise<void> {
    const { tmp, ports: p } = this;
    const tap = this.#tap;
    this.#server = this.target === "knot"
      ? await startKnot(tmp, p, tap, this.#zone)
      : this.target === "bind"
      ? await startBind(tmp, p, tap, this.#zone)
      : this.target === "unbound"
      ? await startUnbound(tmp, p, tap)
      : await startDnsdist(tmp, p, tap);
  }

  /** Stops the server under test by its pid (SIGTERM); how it ended. */
  async stopServer(): Promise<string> {
    const s = this.#server;
    this.#server = null;
    return s === null ? "not running" : await stop(s);
  }

  /** Stops everything, checks every process is gone. */
  async stop(): Promise<void> {
    await this.stopServer();
    for (const b of this.#backends.reverse()) await stop(b);
    this.#backends = [];
    await stopAll();
  }
}

// ---------------------------------------------------------------------------
// The scenario

/** How a scenario runs. */
export interface ScenarioOptions {
  /**
   * Where to look for six free ports (see tools/captures/_configs.ts
   * `ports`): this block, or the next free one ten ports up. Keep it below
   * 32768, where Linux picks the local ports of outgoing connections (one
   * of those in TIME-WAIT kept unbound from binding).
   */
  base: number;
  /** dnstap over a Unix socket or TCP (unbound and dnsdist only). */
  transport: "unix" | "tcp";
  /** unbound only: `dnstap-bidirectional`. @default {true} */
  bidirectional?: boolean;
  /** Also restart the server, then our receiver, mid-stream. */
  restarts: boolean;
}

/** What a round sent and what arrived. */
export interface RoundReport {
  /** Client-side dnstap messages the round's queries should make. */
  sent: number;
  /** Client-side messages received. */
  received: number;
  /** Received and matching a sent exchange (name, type, transport, rcode, TC). */
  matched: number;
}

/** What a scenario measured (the tests print it; docs/servers.md records it). */
export interface ScenarioReport {
  /** The server. */
  target: Target;
  /** The transport of its dnstap. */
  transport: "unix" | "tcp";
  /** The handshake its connections used. */
  modes: string[];
  /** Data frames received, per message type. */
  types: Record<string, number>;
  /** The largest frame, bytes. */
  largest: number;
  /** Round 1; with restarts, round 2 (after the server restart) and 5. */
  rounds: RoundReport[];
  /** How each connection ended: STOP sent or not, and the error if any. */
  closes: string[];
  /** With restarts: queries sent while our receiver was down (round 3). */
  whileDown?: RoundReport;
  /** With restarts: sent at once after our receiver came back (round 4). */
  afterRestart?: RoundReport;
  /** Frames whose payload equals an earlier frame's (sent twice). */
  duplicates?: number;
  /** Client-side frames matched to no round (a response whose query was lost). */
  untagged?: number;
  /** With restarts: ms from our receiver's restart to the server's reconnect. */
  reconnectMs?: number;
}

/** How many of `expected` (sorted lines) `got` holds, as a multiset. */
function matchCount(
  expected: readonly string[],
  got: readonly string[],
): number {
  const left = new Map<string, number>();
  for (const e of expected) left.set(e, (left.get(e) ?? 0) + 1);
  let n = 0;
  for (const g of got) {
    const k = left.get(g) ?? 0;
    if (k > 0) {
      left.set(g, k - 1);
      n++;
    }
  }
  return n;
}

/** Whether nothing listens on TCP `port` of 127.0.0.1 and it can be bound. */
function freePort(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** The first block of six free TCP ports from `base` up, in steps of ten. */
export function freeBase(base: number): number {
  for (let b = base; b < base + 1_000; b += 10) {
    if ([0, 1, 2, 3, 4, 5].every((i) => freePort(b + i))) return b;
  }
  throw new Error(`no six free ports from ${base} to ${base + 1_000}`);
}

/** A round's report from the client-side frames it got. */
function roundOf(
  expected: readonly string[],
  got: readonly Seen[],
): RoundReport {
  const lines = got.map((s) => s.line);
  return {
    sent: expected.length,
    received: got.length,
    matched: matchCount(expected, lines),
  };
}

/**
 * Sends round `round` and asserts that every client-side message of it
 * came, exactly (matched by its tag: servers may deliver late).
 */
async function exactRound(
  target: Target,
  c: Collector,
  port: number,
  round: number,
): Promise<RoundReport> {
  const list = probes(target, port, round);
  const expected = expectedLines(list);
  await send(list);
  await settle(target, c, round, expected.length);
  const client = ofRound(target, c.seen, round);
  if (Deno.env.get("SERVERS_DEBUG") === "1") {
    const hexes = new Map<string, number>();
    c.seen.forEach((x, i) => {
      const dup = hexes.get(x.hex);
      hexes.set(x.hex, i);
      console.log(
        i,
        x.connection.id,
        x.round,
        x.type,
        x.line,
        dup === undefined ? "" : `DUP of ${dup}`,
      );
    });
  }
  assert.deepEqual(client.map((s) => s.line).sort(), expected);
  return roundOf(expected, client);
}

/** A connection's end, as words: "STOP" or "no STOP", and the error. */
function closeText(e: ConnectionEvent): string {
  if (e.type !== "closed") return "";
  return `${e.stopped ? "STOP" : "no STOP"}${
    e.error === null ? "" : ` (${e.error.name}: ${e.error.message})`
  }`;
}

/**
 * Runs one server through the scenario: dnstap into our receiver, one round
 * of {@linkcode probes} matched exactly; with `restarts`, the server
 * restarted (the next round exact again, on a new connection), then our
 * receiver closed and reopened on the same address with rounds sent while
 * it is down and at once after (counted, not asserted: this is what the
 * server loses), and a last round once the server has reconnected (exact).
 */
export async function scenario(
  target: Target,
  options: ScenarioOptions,
): Promise<ScenarioReport> {
  const tmp = await Deno.makeTempDir({ prefix: `fstrm-servers-${target}-` });
  const sock = `${tmp}/dnstap.sock`;
  const listenTarget = (port: number): ListenTarget =>
    options.transport === "unix"
      ? { transport: "unix", path: sock }
      : { transport: "tcp", hostname: "127.0.0.1", port };
  let c = await Collector.listen(listenTarget(0));
  const all: Collector[] = [c];
  const tap: Tap = options.transport === "unix"
    ? { tap: sock }
    : { tap: "tcp", tcp: c.port };
  if (options.bidirectional !== undefined) {
    tap.bidirectional = options.bidirectional;
  }
  let servers: Servers | null = null;
  try {
    servers = await Servers.start(target, tmp, freeBase(options.base), tap);
    const port = servers.port;
    const expected = expectedLines(probes(target, port, 0));
    const rounds: RoundReport[] = [];
    rounds.push(await exactRound(target, c, port, 1));
    const report: ScenarioReport = {
      target,
      transport: options.transport,
      modes: [],
      types: {},
      largest: 0,
      rounds,
      closes: [],
    };
    if (options.restarts) {
      // The server restarted: a new connection, nothing lost or corrupt.
      const conns = c.events.filter((e) => e.type === "started").length;
      await servers.stopServer();
      await servers.startServer();
      rounds.push(await exactRound(target, c, port, 2));
      assert.equal(
        c.events.filter((e) => e.type === "started").length,
        conns + 1,
        "one new connection after the server's restart",
      );
      // Our receiver restarted under the running server: a round while it
      // is down, one at once after it is back, one after the server has
      // reconnected (exact).
      await c.close();
      await send(probes(target, port, 3));
      c = await Collector.listen(listenTarget(c.port));
      all.push(c);
      const restartAt = Date.now();
      await send(probes(target, port, 4));
      await until(
        "the server to reconnect",
        () => c.events.some((e) => e.type === "started"),
        20_000,
      );
      report.reconnectMs = Date.now() - restartAt;
      rounds.push(await exactRound(target, c, port, 5));
      report.whileDown = roundOf(expected, ofRound(target, c.seen, 3));
      report.afterRestart = roundOf(expected, ofRound(target, c.seen, 4));
    }
    await servers.stop();
    servers = null;
    // Let the last connection's end reach us.
    await until(
      "the server's connection to close",
      () => c.stats.connectionsOpen === 0,
      10_000,
    ).catch(() => {});
    for (const x of all) {
      assert.deepEqual(x.failures, [], "every frame decodes");
      for (const e of x.events) {
        if (e.type === "started") report.modes.push(String(e.connection.mode));
        if (e.type === "closed" && e.connection.mode !== null) {
          report.closes.push(closeText(e));
        }
      }
    }
    const seen = all.flatMap((x) => x.seen);
    report.types = countTypes(seen);
    const hexes = new Set<string>();
    report.duplicates = 0;
    report.untagged = 0;
    for (const x of seen) {
      if (hexes.has(x.hex)) report.duplicates++;
      hexes.add(x.hex);
      if (x.round === null && CLIENT_TYPES[target].includes(x.type)) {
        report.untagged++;
      }
    }
    report.largest = Math.max(...seen.map((s) => s.bytes));
    return report;
  } finally {
    if (servers !== null) await servers.stop().catch(console.error);
    for (const x of all) await x.close().catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** What every scenario must show, whatever the server. */
export function assertCommon(r: ScenarioReport): void {
  for (const round of r.rounds) {
    assert.deepEqual(round, { sent: 22, received: 22, matched: 22 });
  }
  assert.equal(r.rounds.length, r.whileDown === undefined ? 1 : 3);
  assert.equal(r.duplicates, 0, "no message delivered twice");
  // The 58 KB TXT answer came whole, in one frame.
  assert.ok(r.largest > 57_000, `largest frame ${r.largest} bytes`);
  // Every frame of a round the client side got matched a query sent.
  for (const x of [r.whileDown, r.afterRestart]) {
    if (x !== undefined) assert.equal(x.matched, x.received);
  }
}

/** The client-side frames counted: rounds, the restart rounds, untagged. */
export function clientTotal(r: ScenarioReport): number {
  return r.rounds.reduce((n, x) => n + x.received, 0) +
    (r.whileDown?.received ?? 0) + (r.afterRestart?.received ?? 0) +
    (r.untagged ?? 0);
}

/** The closes a scenario with restarts sees: server restart, our restart, end. */
export function restartCloses(stop: boolean): string[] {
  const end = stop ? "STOP" : "no STOP";
  return [
    end,
    "no STOP (Interrupted: Connection closed: the receiver closed and the stream did not end within the grace period (200 ms))",
    end,
  ];
}
