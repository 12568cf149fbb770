// Helpers of the real-server tests (servers_*_test.ts): Knot, BIND, unbound
// and dnsdist on loopback (tools/captures/_servers.ts starts and stops them
// by pid, every file in a temp dir) stream dnstap into our FrameReceiver;
// kdig and dig send a known set of queries; every frame is decoded with
// decodeDnstap and parseDnsMessage and matched to what was sent. This file:
// the queries and what arrives; _servers_scenario.ts: the servers and the
// scenario.
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
import { originOf, type Target } from "../tools/captures/_queries.ts";
import { until } from "../tools/captures/_servers.ts";

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
export const CLIENT_TYPES: Readonly<Record<Target, readonly string[]>> = {
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
