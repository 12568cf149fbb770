// The README's first command, `deno task demo`, run as a user would (with
// the permissions the task gives it): a capture over a Unix socket, 100,000
// frames, `fstrm stats` on the file.
import assert from "node:assert/strict";

Deno.test("demo captures 100,000 frames over a Unix socket and prints the file's stats", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      new URL("../demo.ts", import.meta.url).pathname,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const dir = out.match(/remove it with: rm -r (.*)$/m)?.[1];
  try {
    assert.equal(code, 0, new TextDecoder().decode(stderr) + out);
    assert.match(out, /^capture: listening on unix socket .*\/dnstap\.sock$/m);
    assert.match(
      out,
      /closed output file .*\/dnstap\.fstrm \(100000 frames, 24403966 bytes\)$/m,
    );
    assert.match(
      out,
      /^writer: +sent 100000 frames \(24003912 payload bytes\)/m,
    );
    assert.match(out, /\$ fstrm stats .*\/dnstap\.fstrm$/m);
    assert.match(out, /100000 frames, STOP seen\); remove it with/);
  } finally {
    if (dir !== undefined && dir.includes("fstrm-demo-")) {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
