// `fstrm dnstap -l --allow NET` and `--max-conns-per-source N`, as `fstrm
// capture` has them: a peer outside the networks is closed before a byte
// is read, said on stderr and counted in the summary; one connection too
// many from one address is rejected; usage errors where they cannot apply.
import assert from "node:assert/strict";
import { fstrm, sendAll } from "./_cli.ts";
import { closedAtOnce, LiveCommand } from "./_cli_live.ts";
import { PAYLOADS, readBack, summaryOf } from "./_cli_dnstap.ts";
import { withTempDir } from "./_support.ts";

Deno.test("fstrm dnstap -l --allow refuses a peer outside the networks, counted, and serves one inside", async () => {
  // 127.0.0.1 is not in 192.0.2.0/24.
  const refusing = new LiveCommand([
    "dnstap",
    "-l",
    "127.0.0.1:0",
    "-w",
    "-",
    "--allow",
    "192.0.2.0/24",
  ]);
  try {
    const port = await refusing.port();
    assert.equal(await closedAtOnce(port), true);
    await refusing.line(
      /refused a connection from 127\.0\.0\.1:\d+ \(not on --allow\)/,
    );
    refusing.child.kill("SIGTERM");
  } catch (error) {
    await refusing.kill();
    throw error;
  }
  const run = await refusing.end();
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /; 0 connections; .*, 1 refused \(--allow\)\n$/);

  // Listed (among others, comma-separated and repeated): served.
  const serving = new LiveCommand([
    "dnstap",
    "-l",
    "127.0.0.1:0",
    "-w",
    "-",
    "--allow",
    "192.0.2.0/24,10.0.0.0/8",
    "--allow",
    "127.0.0.1",
  ]);
  try {
    const port = await serving.port();
    await sendAll({ transport: "tcp", hostname: "127.0.0.1", port }, [
      ...PAYLOADS,
    ]);
    serving.child.kill("SIGTERM");
  } catch (error) {
    await serving.kill();
    throw error;
  }
  const served = await serving.end();
  assert.equal(served.code, 0, served.stderr);
  assert.equal(summaryOf(served.stderr).frames, PAYLOADS.length);
  assert.deepEqual(readBack(served.stdout).payloads, [...PAYLOADS]);
  assert.doesNotMatch(served.stderr, /refused/);
});

Deno.test("fstrm dnstap -l --max-conns-per-source 1 rejects a second connection from one address", async () => {
  const live = new LiveCommand([
    "dnstap",
    "-l",
    "127.0.0.1:0",
    "-w",
    "-",
    "--max-conns-per-source",
    "1",
  ]);
  let first: Deno.Conn | null = null;
  try {
    const port = await live.port();
    first = await Deno.connect({ hostname: "127.0.0.1", port });
    // The first is served (kept open); the second closed at once.
    await live.line(/listening/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await closedAtOnce(port), true);
    await live.line(/--max-conns-per-source reached/);
    first.close();
    first = null;
    live.child.kill("SIGTERM");
  } catch (error) {
    first?.close();
    await live.kill();
    throw error;
  }
  const run = await live.end();
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /; 1 connection; .*, 1 rejected\n$/);
});

Deno.test("fstrm dnstap: --allow and --max-conns-per-source are usage errors without -l", async () => {
  await withTempDir(async (dir) => {
    const cases: [string[], RegExp][] = [
      // A Unix socket: its file mode says who may connect.
      [["-u", `${dir}/s.sock`, "--allow", "127.0.0.1"], /--allow needs -l/],
      [
        ["-u", `${dir}/s.sock`, "--max-conns-per-source", "2"],
        /--max-conns-per-source needs -l/,
      ],
      // Files.
      [
        ["-r", `${dir}/none.fstrm`, "--allow", "127.0.0.1"],
        /--allow goes with -l/,
      ],
      // Not a network; not a count.
      [
        ["-l", "127.0.0.1:0", "--allow", "example.com"],
        /--allow wants IPv4 or IPv6 networks/,
      ],
      [
        ["-l", "127.0.0.1:0", "--max-conns-per-source", "0"],
        /--max-conns-per-source wants an integer from 1/,
      ],
    ];
    for (const [args, re] of cases) {
      const run = await fstrm(["dnstap", ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, re);
    }
  });
});
