// unbound 1.17 (its own Frame Streams code) streaming dnstap into our
// FrameReceiver over a Unix socket with and without the bidirectional
// handshake, and over TCP: every client message matched to the queries
// sent; unbound restarted, then our receiver restarted, mid-stream. See
// docs/servers.md.
import assert from "node:assert/strict";
import { interopTest } from "./_peers.ts";
import {
  assertCommon,
  clientTotal,
  restartCloses,
  scenario,
  type ScenarioReport,
  SERVER_PEERS,
} from "./_servers_scenario.ts";

/** What unbound shows on every transport. */
function assertUnbound(r: ScenarioReport, mode: string): void {
  assertCommon(r);
  assert.deepEqual(r.modes, [mode, mode, mode]);
  // STOP when unbound stops (it does not wait for FINISH).
  assert.deepEqual(r.closes, restartCloses(true));
  // unbound keeps what it could not send and sends it on reconnecting.
  assert.equal(r.whileDown!.received, 22);
  assert.equal(r.afterRestart!.received, 22);
  const half = clientTotal(r) / 2;
  assert.equal(r.types.CLIENT_QUERY, half);
  assert.equal(r.types.CLIENT_RESPONSE, half);
  // Its own queries to Knot: the cache is cold after each restart.
  assert.ok((r.types.RESOLVER_QUERY ?? 0) > 0);
  assert.ok((r.types.RESOLVER_RESPONSE ?? 0) > 0);
  assert.deepEqual(Object.keys(r.types), [
    "CLIENT_QUERY",
    "CLIENT_RESPONSE",
    "RESOLVER_QUERY",
    "RESOLVER_RESPONSE",
  ]);
}

interopTest(
  "unbound streams dnstap to FrameReceiver over a Unix socket (bidirectional), across restarts",
  SERVER_PEERS.unbound,
  async () => {
    const r = await scenario("unbound", {
      base: 22373,
      transport: "unix",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertUnbound(r, "bidirectional");
  },
);

interopTest(
  "unbound streams dnstap to FrameReceiver over a Unix socket without the handshake (dnstap-bidirectional: no)",
  SERVER_PEERS.unbound,
  async () => {
    const r = await scenario("unbound", {
      base: 22373,
      transport: "unix",
      bidirectional: false,
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertUnbound(r, "unidirectional");
  },
);

interopTest(
  "unbound streams dnstap to FrameReceiver over TCP (dnstap-ip), across restarts",
  SERVER_PEERS.unbound,
  async () => {
    const r = await scenario("unbound", {
      base: 22373,
      transport: "tcp",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertUnbound(r, "bidirectional");
  },
);
