// The checks of a socket target, on both sides: FrameReceiver.listen's
// ListenTarget and FrameWriter's ConnectTarget share them
// (src/_target_checks.ts); each side adds its own (a Unix socket file's
// mode; caCerts). FrameWriter's own table is in frame_writer_test.ts.
import assert from "node:assert/strict";
import { FrameReceiver } from "../src/frame_receiver.ts";
import { checkSocketTarget } from "../src/_target_checks.ts";

const BAD_LISTEN: [
  string,
  unknown,
  TypeErrorConstructor | RangeErrorConstructor,
  RegExp,
][] = [
  // not an object at all
  ["null", null, TypeError, /^Cannot listen: the target must be an object$/],
  // a transport nobody speaks
  ["udp", { transport: "udp", port: 9 }, TypeError, /transport must be/],
  // a Unix socket needs its path
  [
    "unix without a path",
    { transport: "unix", path: "" },
    TypeError,
    /non-empty path/,
  ],
  // a port out of range, on TCP and on TLS
  [
    "port 65536",
    { transport: "tcp", port: 65536 },
    RangeError,
    /from 0 to 65535, got 65536/,
  ],
  [
    "port -1",
    { transport: "tls", port: -1, cert: "", key: "" },
    RangeError,
    /from 0 to 65535/,
  ],
  // a port that is not an integer
  [
    "port 1.5",
    { transport: "tcp", port: 1.5 },
    TypeError,
    /port must be an integer/,
  ],
  [
    "port as text",
    { transport: "tcp", port: "9" },
    TypeError,
    /port must be an integer/,
  ],
  // a host name that is not text
  [
    "hostname 1",
    { transport: "tcp", hostname: 1, port: 0 },
    TypeError,
    /hostname must be a string/,
  ],
  // the socket file's mode, the listening side's own check
  [
    "mode 0o10000",
    { transport: "unix", path: "/nonexistent/x.sock", mode: 0o10000 },
    RangeError,
    /mode must be file permission bits/,
  ],
];

for (const [name, target, Class, message] of BAD_LISTEN) {
  Deno.test(`FrameReceiver.listen refuses a target: ${name}`, async () => {
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      FrameReceiver.listen(target as any),
      (error: unknown) => {
        assert.ok(error instanceof Class, String(error));
        assert.match((error as Error).message, message);
        return true;
      },
    );
  });
}

Deno.test("checkSocketTarget lets port 0 listen, not connect", () => {
  const target = { transport: "tcp", port: 0 };
  assert.equal(checkSocketTarget(target, "Cannot listen", 0), "tcp");
  assert.throws(
    () => checkSocketTarget(target, "Cannot connect", 1),
    /^RangeError: Cannot connect: port must be from 1 to 65535, got 0$/,
  );
});

Deno.test("checkSocketTarget returns the transport of a good target", () => {
  assert.equal(
    checkSocketTarget({ transport: "unix", path: "/x" }, "c", 1),
    "unix",
  );
  assert.equal(
    checkSocketTarget({ transport: "tls", port: 65535 }, "c", 1),
    "tls",
  );
  assert.equal(
    checkSocketTarget({ transport: "tcp", hostname: "::1", port: 1 }, "c", 1),
    "tcp",
  );
});

Deno.test("FrameReceiver.listen still takes port 0 (any free port)", async () => {
  await using receiver = await FrameReceiver.listen({
    transport: "tcp",
    port: 0,
  });
  assert.ok((receiver.addr as Deno.NetAddr).port > 0);
});
