// Knot 3.2 (mod-dnstap, libfstrm) streaming dnstap into our FrameReceiver
// over a Unix socket (its only transport): every message matched to the
// queries sent; Knot restarted, then our receiver restarted, mid-stream.
// What it loses is recorded in docs/servers.md.
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
  "Knot streams dnstap to FrameReceiver over a Unix socket, across restarts",
  SERVER_PEERS.knot,
  async () => {
    const r = await scenario("knot", {
      base: 22353,
      transport: "unix",
      restarts: true,
    });
    console.log(JSON.stringify(r));
    assertCommon(r);
    // libfstrm: the bidirectional handshake; STOP (and it waits for FINISH)
    // when knotd stops.
    assert.deepEqual(r.modes, [
      "bidirectional",
      "bidirectional",
      "bidirectional",
    ]);
    assert.deepEqual(r.closes, restartCloses(true));
    // Everything sent while our receiver was down is dropped.
    assert.equal(r.whileDown!.received, 0);
    // Authoritative: one AUTH_QUERY and one AUTH_RESPONSE per exchange.
    const half = clientTotal(r) / 2;
    assert.deepEqual(r.types, { AUTH_QUERY: half, AUTH_RESPONSE: half });
  },
);
