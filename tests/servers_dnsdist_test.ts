// dnsdist 1.7 (DnstapLogAction, libfstrm) streaming dnstap into our
// FrameReceiver over a Unix socket and over TCP: every message matched to
// the queries sent; dnsdist restarted, then our receiver restarted,
// mid-stream. See docs/servers.md.
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

/** What dnsdist shows on both transports. */
function assertDnsdist(r: ScenarioReport): void {
  assertCommon(r);
  assert.deepEqual(r.modes, [
    "bidirectional",
    "bidirectional",
    "bidirectional",
  ]);
  // dnsdist never sends STOP, not even when it stops.
  assert.deepEqual(r.closes, restartCloses(false));
  // It loses some of what came while our receiver was down (its first
  // messages), never all of it (it queues some).
  assert.ok(r.whileDown!.received < 22);
  const half = clientTotal(r) / 2;
  // A response whose query was lost counts untagged: the sum is whole.
  assert.equal(r.types.CLIENT_QUERY! + r.types.CLIENT_RESPONSE!, half * 2);
  assert.deepEqual(Object.keys(r.types), ["CLIENT_QUERY", "CLIENT_RESPONSE"]);
}

interopTest(
  "dnsdist streams dnstap to FrameReceiver over a Unix socket, across restarts",
  SERVER_PEERS.dnsdist,
  async () => {
    const r = await scenario("dnsdist", {
      base: 22383,
      transport: "unix",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertDnsdist(r);
  },
);

interopTest(
  "dnsdist streams dnstap to FrameReceiver over TCP (newFrameStreamTcpLogger), across restarts",
  SERVER_PEERS.dnsdist,
  async () => {
    const r = await scenario("dnsdist", {
      base: 22383,
      transport: "tcp",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertDnsdist(r);
  },
);
