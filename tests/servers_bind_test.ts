// BIND 9.18 (dnstap { all; }, libfstrm) streaming dnstap into our
// FrameReceiver over a Unix socket (its only transport besides a file):
// every message matched to the queries sent; named restarted, then our
// receiver restarted, mid-stream. See docs/servers.md.
import assert from "node:assert/strict";
import { interopTest } from "./_peers.ts";
import {
  assertCommon,
  clientTotal,
  restartCloses,
  scenario,
  SERVER_PEERS,
} from "./_servers_scenario.ts";

interopTest(
  "BIND streams dnstap to FrameReceiver over a Unix socket, across restarts",
  SERVER_PEERS.bind,
  async () => {
    const r = await scenario("bind", {
      base: 22363,
      transport: "unix",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertCommon(r);
    assert.deepEqual(r.modes, [
      "bidirectional",
      "bidirectional",
      "bidirectional",
    ]);
    assert.deepEqual(r.closes, restartCloses(true));
    assert.equal(r.whileDown!.received, 0);
    // An authoritative-only named logs its answers as CLIENT_RESPONSE (the
    // queries as AUTH_QUERY).
    const half = clientTotal(r) / 2;
    assert.deepEqual(r.types, { AUTH_QUERY: half, CLIENT_RESPONSE: half });
  },
);
