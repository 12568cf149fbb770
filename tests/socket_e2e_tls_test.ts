// Socket end-to-end: TLS on 127.0.0.1 with a self-signed certificate.
//
// Our FrameWriter against our FrameReceiver over real sockets; the payloads,
// the tally of what arrives and the other helpers are in _socket_e2e.ts.
import assert from "node:assert/strict";
import { withTempDir } from "./_support.ts";
import { selfSignedCert } from "./_tls.ts";
import { DNSTAP_CONTENT_TYPE } from "../mod.ts";
import { FrameWriter } from "../src/frame_writer.ts";
import {
  assertOneStream,
  closeBoth,
  collect,
  DNSTAP_BYTES,
  makePayloads,
  writeAllFrames,
} from "./_socket_e2e.ts";

// ---------------------------------------------------------------------------
// TLS

Deno.test("writer → receiver over TLS: 5,000 frames arrive intact", async () => {
  await withTempDir(async (dir) => {
    const { cert, key } = await selfSignedCert(dir);
    const c = await collect(
      { transport: "tls", port: 0, cert, key },
      { contentTypes: [DNSTAP_CONTENT_TYPE] },
    );
    const errors: Error[] = [];
    const writer = await FrameWriter.connect({
      transport: "tls",
      hostname: "127.0.0.1",
      port: (c.receiver.addr as Deno.NetAddr).port,
      caCerts: [cert],
    }, { onError: (e) => errors.push(e) });
    const payloads = makePayloads(5_000, 4);
    await writeAllFrames(writer, payloads);
    await closeBoth(writer, c);
    assert.deepEqual(errors.map((e) => e.message), []);
    assertOneStream(c, payloads, "tls", {
      mode: "bidirectional",
      contentType: DNSTAP_BYTES,
    });
    assert.equal(writer.stats.frames, payloads.length);
  });
});
