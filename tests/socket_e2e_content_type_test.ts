// Socket end-to-end: content type negotiation between the writer and the receiver.
//
// Our FrameWriter against our FrameReceiver over real sockets; the payloads,
// the tally of what arrives and the other helpers are in _socket_e2e.ts.
import assert from "node:assert/strict";
import { waitFor } from "./_support.ts";
import { HandshakeError } from "../mod.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertOneStream,
  closeBoth,
  closedEvents,
  collect,
  listen,
  makePayloads,
  targetOf,
  writeAllFrames,
} from "./_socket_e2e.ts";

// ---------------------------------------------------------------------------
// Content type negotiation

Deno.test("writer → receiver: the stream takes the writer's first content type that ACCEPT lists", async () => {
  const c = await collect({ transport: "tcp", port: 0 }, {
    contentTypes: ["c", "b"],
  });
  const writer = await FrameWriter.connect(targetOf(c.receiver), {
    contentTypes: ["a", "b", "c"],
  });
  assert.equal(writer.contentType, "b");
  assert.deepEqual(writer.contentTypeBytes, new TextEncoder().encode("b"));
  const payloads = makePayloads(100, 3);
  await writeAllFrames(writer, payloads);
  await closeBoth(writer, c);
  assertOneStream(c, payloads, "content types", {
    mode: "bidirectional",
    contentType: new TextEncoder().encode("b"),
  });
});

Deno.test("writer → receiver: no common content type fails the handshake on both sides", async () => {
  const { receiver, events } = await listen({ transport: "tcp", port: 0 }, {
    contentTypes: ["y"],
  });
  // Our receiver refuses such a READY by closing the connection without
  // ACCEPT (as fstrm_capture does; see FrameReceiverOptions.contentTypes),
  // so the writer never sees an ACCEPT to compare: it meets the end of the
  // connection during the handshake. A HandshakeError
  // "no-common-content-type" on the writer's side needs an ACCEPT that lists
  // other types, which our receiver never sends.
  await assert.rejects(
    FrameWriter.connect(targetOf(receiver), { contentTypes: ["x"] }),
    (e) =>
      e instanceof HandshakeError && e.reason === "closed" &&
      /before ACCEPT/.test(e.message),
  );
  await waitFor(() => closedEvents(events).length === 1, "the close");
  const [closed] = closedEvents(events);
  assert.ok(closed!.error instanceof HandshakeError);
  assert.equal(closed!.error.reason, "no-common-content-type");
  assert.equal(closed!.stopped, false);
  assert.equal(closed!.connection.mode, null);
  const stats = receiver.stats;
  assert.equal(stats.handshakeFailures, 1);
  assert.deepEqual(stats.protocolErrors, {
    "handshake:no-common-content-type": 1,
  });
  assert.equal(stats.frames, 0);
  await receiver.close();
});
