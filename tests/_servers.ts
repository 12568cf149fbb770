// Helpers of the real-server tests (servers_*_test.ts): Knot, BIND, unbound
// and dnsdist on loopback (tools/captures/_servers.ts starts and stops them
// by pid, every file in a temp dir) stream dnstap into our FrameReceiver;
// kdig and dig send a known set of queries; every frame is decoded with
// decodeDnstap and parseDnsMessage and matched to what was sent.
import assert from "node:assert/strict";
import { DNSTAP_CONTENT_TYPE } from "../mod.ts";
import {
  type ConnectionEvent,
  type ConnectionInfo,
  FrameReceiver,
  type ListenTarget,
} from "../src/frame_receiver.ts";
import { decodeDnstap, type DnstapMessage } from "../src/dnstap.ts";
import { dnsRcodeName, formatDnsMessage, parseDnsMessage } from "../src/dns.ts";
import { type Ports, ports } from "../tools/captures/_configs.ts";
import { originOf, type Target } from "../tools/captures/_queries.ts";
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

/** The programs each server's tests need (peers for interopTest). */
export const SERVER_PEERS: Readonly<Record<Target, readonly string[]>> = {
  knot: ["knotd", "knotc", "kdig", "dig"],
  bind: ["named", "dnssec-keygen", "dnssec-signzone", "kdig", "dig"],
  unbound: [
    "unbound",
    "knotd",
    "knotc",
    "named",
    "dnssec-signzone",
    "kdig",
    "dig",
  ],
  dnsdist: ["dnsdist", "knotd", "knotc", "openssl", "kdig", "dig"],
};

// ---------------------------------------------------------------------------
// The queries

/** The EDNS option code (private use) that tags each query with its round. */
export const TAG_OPTION = 65001;

/** One DNS exchange a client makes: what the server's dnstap should show. */
export interface Exchange {
  /** `"UDP"` or `"TCP"`. */
  proto: "UDP" | "TCP";
  /** The query name. */
  name: string;
  /** The query type's name. */
  qtype: string;
  /** The response's rcode name. */
  rcode: string;
  /** Whether the response is truncated. */
  tc: boolean;
}

/** One client command and the exchanges it makes. */
export interface Probe {
  /** `kdig` or `dig`. */
  tool: "kdig" | "dig";
  /** Its arguments. */
  args: string[];
  /** The exchanges, in order (two for a truncated answer retried on TCP). */
  exchanges: Exchange[];
}

/**
 * The query set of one round, to `port` on 127.0.0.1: NOERROR on UDP and
 * TCP, NXDOMAIN on both, the 58 KB TXT answer on TCP, truncation without
 * and with the TCP retry (kdig and dig), REFUSED. Each query carries the
 * round number in EDNS option {@linkcode TAG_OPTION}, so that a message is
 * matched to its round however late the server delivers it.
 */
export function probes(target: Target, port: number, round: number): Probe[] {
  const zone = originOf(target);
  // Every query carries its round: EDNS option 65001 holding one byte.
  const tag = `+ednsopt=${TAG_OPTION}:${round.toString(16).padStart(2, "0")}`;
  const kdig = (...args: string[]): string[] => [
    "@127.0.0.1",
    "-p",
    `${port}`,
    "+timeout=5",
    "+retry=0",
    tag,
    ...args,
  ];
  const x = (
    proto: "UDP" | "TCP",
    name: string,
    qtype: string,
    rcode: string,
    tc = false,
  ): Exchange => ({ proto, name, qtype, rcode, tc });
  const big4k = `big4k.${zone}`;
  const big60k = `big60k.${zone}`;
  const nx = `nonexistent.${zone}`;
  return [
    {
      tool: "kdig",
      args: kdig(zone, "A"),
      exchanges: [x("UDP", zone, "A", "NOERROR")],
    },
    {
      tool: "kdig",
      args: kdig("+tcp", zone, "A"),
      exchanges: [x("TCP", zone, "A", "NOERROR")],
    },
    {
      tool: "kdig",
      args: kdig(nx, "A"),
      exchanges: [x("UDP", nx, "A", "NXDOMAIN")],
    },
    {
      tool: "kdig",
      args: kdig("+tcp", nx, "A"),
      exchanges: [x("TCP", nx, "A", "NXDOMAIN")],
    },
    {
      tool: "kdig",
      args: kdig("+tcp", big60k, "TXT"),
      exchanges: [x("TCP", big60k, "TXT", "NOERROR")],
    },
    // Truncated, and kdig told not to retry.
    {
      tool: "kdig",
      args: kdig("+notcp", "+bufsize=512", big4k, "TXT"),
      exchanges: [x("UDP", big4k, "TXT", "NOERROR", true)],
    },
    // Truncated, kdig retries over TCP.
    {
      tool: "kdig",
      args: kdig("+bufsize=512", big4k, "TXT"),
      exchanges: [
        x("UDP", big4k, "TXT", "NOERROR", true),
        x("TCP", big4k, "TXT", "NOERROR"),
      ],
    },
    // Truncated, dig retries over TCP.
    {
      tool: "dig",
      args: [
        "@127.0.0.1",
        "-p",
        `${port}`,
        "+timeout=5",
        "+tries=1",
        tag,
        "+bufsize=512",
        big4k,
        "TXT",
      ],
      exchanges: [
        x("UDP", big4k, "TXT", "NOERROR", true),
        x("TCP", big4k, "TXT", "NOERROR"),
      ],
    },
    {
      tool: "kdig",
      args: kdig("example.org.", "A"),
      exchanges: [x("UDP", "example.org.", "A", "REFUSED")],
    },
  ];
}

/** Runs the probes one after another; throws if a client fails. */
export async function send(list: readonly Probe[]): Promise<void> {
  for (const { tool, args } of list) {
    const out = await new Deno.Command(tool, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success || !/status: [A-Z]+/.test(text)) {
      throw new Error(
        `${tool} ${args.join(" ")} got no answer:\n${text}${
          new TextDecoder().decode(out.stderr)
        }`,
      );
    }
  }
}

/** The lines a round's client-side dnstap messages should give, sorted. */
export function expectedLines(list: readonly Probe[]): string[] {
  const lines: string[] = [];
  for (const p of list) {
    for (const e of p.exchanges) {
      lines.push(`Q ${e.proto} ${e.name} ${e.qtype}`);
      lines.push(
        `R ${e.proto} ${e.name} ${e.qtype} ${e.rcode}${e.tc ? " tc" : ""}`,
      );
    }
  }
  return lines.sort();
}

// ---------------------------------------------------------------------------
// What arrives

/** One dnstap frame received, decoded. */
export interface Seen {
  /** The connection it came on. */
  connection: ConnectionInfo;
  /** The dnstap message type. */
  type: string;
  /** The transport, `"UDP"` or `"TCP"`. */
  proto: string;
  /** `Q`/`R` line as {@linkcode expectedLines} writes it. */
  line: string;
  /** Frame length in bytes. */
  bytes: number;
  /**
   * The round of the query (its {@linkcode TAG_OPTION}); for a response, the
   * round of the query with its ID and question on its connection; `null`
   * when unknown (a server's own queries, or a query that was lost).
   */
  round: number | null;
  /** ID, transport and question: pairs a response with its query. */
  pair: string;
  /** The payload, as hex: equal payloads are the same message sent twice. */
  hex: string;
}

/** Decodes one dnstap payload fully (DNS messages included) into a line. */
export function describe(
  payload: Uint8Array,
  connection: ConnectionInfo,
): Seen {
  const d = decodeDnstap(payload);
  assert.equal(d.type, "MESSAGE");
  const m: DnstapMessage = d.message!;
  const type = String(m.type);
  const isQuery = type.endsWith("_QUERY");
  const wire = isQuery ? m.queryMessage : m.responseMessage;
  assert.ok(wire !== undefined, `${type} without its DNS message`);
  // The whole message must parse (miekg's Unpack and String, as ours).
  formatDnsMessage(wire);
  const dns = parseDnsMessage(wire);
  assert.equal(dns.qr, !isQuery, `${type} with QR ${dns.qr}`);
  const q = dns.question;
  assert.ok(q !== null, `${type} without a question`);
  const proto = String(m.socketProtocol);
  const line = isQuery
    ? `Q ${proto} ${q.name} ${q.typeName}`
    : `R ${proto} ${q.name} ${q.typeName} ${dnsRcodeName(dns.rcode)}${
      dns.tc ? " tc" : ""
    }`;
  const tag = isQuery
    ? dns.edns?.options.find((o) => o.code === TAG_OPTION)?.data[0]
    : undefined;
  const round = tag ?? null;
  const pair = `${dns.id} ${proto} ${q.name} ${q.typeName}`;
  const hex = Array.from(payload, (b) => b.toString(16).padStart(2, "0"))
    .join("");
  return {
    connection,
    type,
    proto,
    line,
    bytes: payload.length,
    round,
    pair,
    hex,
  };
}

/** Our receiver, recording every frame and connection event. */
export class Collector {
  /** Every frame so far, decoded, in arrival order. */
  readonly seen: Seen[];
  /** Every connection event so far. */
  readonly events: ConnectionEvent[];
  /** Frames that failed to decode (must stay empty). */
  readonly failures: string[];
  #receiver: FrameReceiver;

  private constructor(
    receiver: FrameReceiver,
    seen: Seen[],
    events: ConnectionEvent[],
    failures: string[],
  ) {
    this.#receiver = receiver;
    this.seen = seen;
    this.events = events;
    this.failures = failures;
  }

  /** Listens on `target` for dnstap. */
  static async listen(target: ListenTarget): Promise<Collector> {
    const seen: Seen[] = [];
    const events: ConnectionEvent[] = [];
    const failures: string[] = [];
    // Per connection: the round of each query, by ID and question.
    const rounds = new Map<ConnectionInfo, Map<string, number>>();
    const receiver = await FrameReceiver.listen(target, {
      contentTypes: [DNSTAP_CONTENT_TYPE],
      // Servers never send STOP when we close: do not wait 5 s for it.
      gracePeriod: 200,
      onData: (window, offset, length, connection) => {
        const payload = window.slice(offset, offset + length);
        try {
          const x = describe(payload, connection);
          let byPair = rounds.get(connection);
          if (byPair === undefined) rounds.set(connection, byPair = new Map());
          if (x.type.endsWith("_QUERY")) {
            if (x.round !== null) byPair.set(x.pair, x.round);
          } else {
            x.round = byPair.get(x.pair) ?? null;
          }
          seen.push(x);
        } catch (e) {
          failures.push(String(e));
        }
      },
      onConnection: (event) => events.push(event),
    });
    return new Collector(receiver, seen, events, failures);
  }

  /** The TCP port listened on (0 for a Unix socket). */
  get port(): number {
    const addr = this.#receiver.addr;
    return addr.transport === "tcp" ? addr.port : 0;
  }

  /** The receiver's counters. */
  get stats(): FrameReceiver["stats"] {
    return this.#receiver.stats;
  }

  /** Closes the receiver. */
  async close(): Promise<void> {
    await this.#receiver.close();
  }
}

/** Client-side message types per server: the ones that answer our probes. */
const CLIENT_TYPES: Readonly<Record<Target, readonly string[]>> = {
  knot: ["AUTH_QUERY", "AUTH_RESPONSE"],
  // BIND logs most answers of an authoritative server as CLIENT_RESPONSE.
  bind: ["AUTH_QUERY", "AUTH_RESPONSE", "CLIENT_RESPONSE"],
  unbound: ["CLIENT_QUERY", "CLIENT_RESPONSE"],
  dnsdist: ["CLIENT_QUERY", "CLIENT_RESPONSE"],
};

/** The seen frames of client-side types (what our probes caused directly). */
export function clientSide(target: Target, seen: readonly Seen[]): Seen[] {
  return seen.filter((s) => CLIENT_TYPES[target].includes(s.type));
}

/** Counts per message type, keys sorted. */
export function countTypes(seen: readonly Seen[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of [...seen].sort((a, b) => a.type < b.type ? -1 : 1)) {
    out[s.type] = (out[s.type] ?? 0) + 1;
  }
  return out;
}

/** The client-side frames of round `round`. */
export function ofRound(
  target: Target,
  seen: readonly Seen[],
  round: number,
): Seen[] {
  return clientSide(target, seen).filter((s) => s.round === round);
}

/**
 * Waits until `c` holds at least `n` client-side frames of `round` (or
 * `ms` passed), then until nothing new has come for 300 ms (servers such
 * as unbound send in bursts). Never fails: the caller asserts.
 */
export async function settle(
  target: Target,
  c: Collector,
  round: number,
  n: number,
  ms = 10_000,
): Promise<void> {
  await until(
    "frames",
    () => ofRound(target, c.seen, round).length >= n,
    ms,
  ).catch(() => {});
  let last = -1;
  while (c.seen.length !== last) {
    last = c.seen.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

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
  /** The first of six ports (see tools/captures/_configs.ts `ports`). */
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
    servers = await Servers.start(target, tmp, options.base, tap);
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
