// WriterSession driven from node:net, as a Node or Bun client would drive
// it (Deno runs node:net too): socket events feed the session, its events
// go to the socket, one timer follows its deadline. The loop docs/decoding.md's
// Node section can show.
import {
  ControlType,
  encodeControlFrame,
  encodeDataFrame,
  WriterSession,
} from "../mod.ts";
import { connect } from "node:net";
import { once } from "node:events";
import assert from "node:assert/strict";

Deno.test("WriterSession drives a node:net client through READY, ACCEPT, START, data, STOP, FINISH", async () => {
  // A collector to talk to (here a crude one in Deno: ACCEPT, then FINISH).
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const collector = (async () => {
    const conn = await listener.accept();
    let bytes = 0;
    for await (const chunk of conn.readable) {
      if (bytes === 0) await conn.write(encodeControlFrame(ControlType.ACCEPT));
      bytes += chunk.length;
      if (chunk.at(-1) === ControlType.STOP) {
        await conn.write(encodeControlFrame(ControlType.FINISH));
      }
    }
    return bytes;
  })();

  const session = new WriterSession({ contentTypes: [] });
  const socket = connect(listener.addr.port, "127.0.0.1");
  await once(socket, "connect");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = Promise.withResolvers<Error | null>();
  const started = Promise.withResolvers<void>();
  function drain(): void {
    for (let e = session.next(); e !== null; e = session.next()) {
      if (e.type === "send") socket.write(e.bytes);
      else if (e.type === "started") started.resolve();
      else if (e.type === "closed") {
        socket.end();
        done.resolve(e.error);
      }
    }
    clearTimeout(timer); // one timer, on the session's deadline
    const deadline = session.deadline;
    if (deadline !== null) {
      timer = setTimeout(() => {
        session.expire(performance.now());
        drain();
      }, deadline - performance.now());
    }
  }
  socket.on("data", (b: Uint8Array) => {
    session.receive(b, performance.now());
    drain();
  });
  socket.on("end", () => {
    session.end(performance.now());
    drain();
  });
  session.start(performance.now());
  drain();
  await started.promise; // ACCEPT came, START went out
  socket.write(encodeDataFrame("hello")); // data: only while session.canSendData
  session.stop(performance.now());
  drain();
  assert.equal(await done.promise, null); // FINISH came: a clean end
  // READY, START (no content type: 12 bytes each), "hello" (9), STOP (12)
  assert.equal(await collector, 12 + 12 + 9 + 12);
});
