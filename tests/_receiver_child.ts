// A collector in its own process, for fault tests that kill it: listens on
// the Unix socket Deno.args[0] and appends every data frame it receives,
// length-prefixed, to the file Deno.args[1] before it reads on (one write
// per frame), so that what the file holds is what it had received when it
// died. Prints "ready" once listening.
import { FrameReceiver } from "../src/frame_receiver.ts";

const [path, out] = Deno.args as [string, string];
const file = Deno.openSync(out, { write: true, create: true, append: true });
const scratch = new Uint8Array(4 + 1_048_576);
const view = new DataView(scratch.buffer);
await FrameReceiver.listen({ transport: "unix", path }, {
  onData: (window, offset, length) => {
    view.setUint32(0, length);
    scratch.set(window.subarray(offset, offset + length), 4);
    let p = 0;
    while (p < 4 + length) p += file.writeSync(scratch.subarray(p, 4 + length));
  },
});
console.log("ready");
// Serve until killed.
await new Promise(() => {});
