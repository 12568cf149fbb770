// `fstrm dnstap -q/-y/-j` against the Go dnstap tool: the same frames, the
// same bytes on stdout (from a file, from stdin, into -w FILE, appended
// with -a), across many output buffers. The formats themselves are
// src/_dnstap_{quiet,yaml,json}.ts's; these tests check the command around
// them.
import assert from "node:assert/strict";
import { execRaw, fstrm, fstrmArgs, sendAll } from "./_cli.ts";
import { withTempDir } from "./_support.ts";
import { interopTest } from "./_peers.ts";
import { goDnstapOutput } from "./_go_dnstap.ts";
import {
  dnstapFile,
  PAYLOADS,
  recordPayload,
  RECORDS,
  summaryOf,
} from "./_cli_dnstap.ts";
import { encodeDnstap } from "../src/dnstap.ts";

const FLAGS = ["-q", "-y", "-j"] as const;

/** 3,000 records: enough text to fill the 1 MiB output buffer (-y, -j). */
const MANY: Uint8Array[] = Array.from(
  { length: 3000 },
  (_, i) => recordPayload(RECORDS[i % RECORDS.length]!, i),
);

for (const flag of FLAGS) {
  interopTest(
    `fstrm dnstap -r FILE ${flag} prints what dnstap -r FILE ${flag} prints`,
    ["dnstap"],
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/in.fstrm`;
        await Deno.writeFile(path, dnstapFile(MANY));
        const run = await fstrm(["dnstap", "-r", path, flag]);
        assert.equal(run.code, 0, run.stderr);
        const go = await goDnstapOutput(MANY, flag);
        assert.ok(go.length > 0);
        assert.equal(run.stdout, go);
        assert.equal(summaryOf(run.stderr).output, MANY.length);
      });
    },
  );

  interopTest(
    `fstrm dnstap -r - ${flag} on stdin, filtered, equals the Go tool on the records kept`,
    ["dnstap"],
    async () => {
      const run = await execRaw(
        Deno.execPath(),
        fstrmArgs(["dnstap", "-r", "-", flag, "--qname-suffix", "example.com"]),
        dnstapFile(PAYLOADS),
      );
      assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
      const kept = [0, 1, 4, 5, 6, 7].map((i) => PAYLOADS[i]!);
      assert.equal(
        new TextDecoder().decode(run.stdout),
        await goDnstapOutput(kept, flag),
      );
    },
  );

  interopTest(
    `fstrm dnstap ${flag} -w FILE writes the text; -a appends it`,
    ["dnstap"],
    async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/in.fstrm`;
        const out = `${dir}/out.txt`;
        await Deno.writeFile(path, dnstapFile(PAYLOADS));
        const go = await goDnstapOutput(PAYLOADS, flag);
        const first = await fstrm(["dnstap", "-r", path, flag, "-w", out]);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stdout, "");
        assert.equal(await Deno.readTextFile(out), go);
        const again = await fstrm([
          "dnstap",
          "-r",
          path,
          flag,
          "-w",
          out,
          "-a",
        ]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(await Deno.readTextFile(out), go + go);
        // Without -a, the file is truncated.
        await fstrm(["dnstap", "-r", path, flag, "-w", out]);
        assert.equal(await Deno.readTextFile(out), go);
      });
    },
  );
}

interopTest(
  "fstrm dnstap with no format flag prints quiet text, as dnstap does",
  ["dnstap"],
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/in.fstrm`;
      await Deno.writeFile(path, dnstapFile(PAYLOADS));
      const run = await fstrm(["dnstap", "-r", path]);
      assert.equal(run.code, 0, run.stderr);
      const go = await new Deno.Command("dnstap", {
        args: ["-r", path],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(run.stdout, new TextDecoder().decode(go.stdout));
    });
  },
);

interopTest(
  "fstrm dnstap -q counts a record the Go format cannot print and goes on (dnstap stops there)",
  ["dnstap"],
  async () => {
    // Dnstap.type 2 (not MESSAGE): Go's TextFormat returns ok == false.
    const odd = encodeDnstap({
      type: 2,
      message: { type: "CLIENT_QUERY" },
    });
    const garbage = new Uint8Array([0xff]);
    const payloads = [PAYLOADS[0]!, odd, PAYLOADS[1]!, garbage, PAYLOADS[2]!];
    const run = await execRaw(
      Deno.execPath(),
      fstrmArgs(["dnstap", "-r", "-", "-q"]),
      dnstapFile(payloads),
    );
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    assert.equal(
      new TextDecoder().decode(run.stdout),
      await goDnstapOutput([PAYLOADS[0]!, PAYLOADS[1]!, PAYLOADS[2]!], "-q"),
    );
    assert.deepEqual(summaryOf(stderr), {
      frames: 5,
      output: 3,
      filtered: 0,
      malformed: 1,
      unprintable: 1,
    });
  },
);

interopTest(
  "fstrm dnstap -l -j prints what the Go tool prints for the frames received",
  ["dnstap"],
  async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: fstrmArgs(["dnstap", "-l", "127.0.0.1:0", "-j"]),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    let stderr = "";
    const reading = (async () => {
      for await (
        const chunk of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        stderr += chunk;
      }
    })();
    try {
      let port = 0;
      for (let i = 0; i < 600 && port === 0; i++) {
        const m = /listening on tcp 127\.0\.0\.1:(\d+)\n/.exec(stderr);
        if (m !== null) port = Number(m[1]);
        else await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(port > 0, stderr);
      await sendAll({ transport: "tcp", hostname: "127.0.0.1", port }, [
        ...PAYLOADS,
      ]);
    } finally {
      child.kill("SIGTERM");
    }
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, stderr);
    assert.equal(await stdout, await goDnstapOutput(PAYLOADS, "-j"));
    assert.equal(summaryOf(stderr).output, PAYLOADS.length);
  },
);

interopTest(
  "fstrm dnstap -w FILE with no format writes the file dnstap -w FILE writes, byte for byte",
  ["dnstap"],
  async () => {
    await withTempDir(async (dir) => {
      const path = `${dir}/in.fstrm`;
      await Deno.writeFile(path, dnstapFile(MANY));
      const go = await new Deno.Command("dnstap", {
        args: ["-r", path, "-w", `${dir}/go.fstrm`],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(go.code, 0);
      const run = await fstrm([
        "dnstap",
        "-r",
        path,
        "-w",
        `${dir}/ours.fstrm`,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const ours = await Deno.readFile(`${dir}/ours.fstrm`);
      assert.ok(ours.length > 100_000);
      assert.deepEqual(ours, await Deno.readFile(`${dir}/go.fstrm`));
    });
  },
);
