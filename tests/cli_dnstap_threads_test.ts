// `fstrm dnstap --threads N`: the output of worker threads is the output of
// one thread, byte for byte, and so is the summary: on the four real-server
// captures in every Go format (and the Go tool's own output), on a
// generated file of 20,000 records with malformed frames, mutated records
// and filters, from a file and from stdin, across several files, and with
// --limit falling anywhere.
import assert from "node:assert/strict";
import { execRaw, fstrmArgs } from "./_cli.ts";
import { rng, withTempDir } from "./_support.ts";
import { dnstapFile, PAYLOADS, summaryOf } from "./_cli_dnstap.ts";
import { interopTest } from "./_peers.ts";
import { goDnstapFile } from "./_go_dnstap.ts";
import { decodeFrames } from "../mod.ts";

const CAPTURES = ["knot", "bind", "unbound", "dnsdist"].map((n) =>
  new URL(`./data/dnstap/${n}.fstrm`, import.meta.url).pathname
);

/** `fstrm dnstap ...args`: exit code, stdout bytes, stderr text. */
async function run(
  args: string[],
  input?: Uint8Array,
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const r = await execRaw(
    Deno.execPath(),
    fstrmArgs(["dnstap", ...args]),
    input,
  );
  return {
    code: r.code,
    stdout: r.stdout,
    stderr: new TextDecoder().decode(r.stderr),
  };
}

/** Asserts that `args` with --threads 1, 2 and 3 agree; the output. */
async function sameOnThreads(
  args: string[],
  input?: Uint8Array,
): Promise<{ stdout: Uint8Array; stderr: string }> {
  const one = await run([...args, "--threads", "1"], input);
  assert.equal(one.code, 0, one.stderr);
  for (const n of ["2", "3"]) {
    const many = await run([...args, "--threads", n], input);
    assert.equal(many.code, 0, many.stderr);
    assert.equal(many.stderr, one.stderr, `${args.join(" ")} --threads ${n}`);
    assert.ok(
      equalBytes(many.stdout, one.stdout),
      `${args.join(" ")} --threads ${n}: stdout differs`,
    );
  }
  return one;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * 20,000 records: the real captures' payloads and the test records, some
 * with bytes flipped or cut short (malformed, or odd but decodable), and
 * some frames of garbage.
 */
function generated(): Uint8Array {
  const real: Uint8Array[] = [];
  for (const path of CAPTURES) {
    for (const f of decodeFrames(Deno.readFileSync(path))) {
      if (f.kind === "data") real.push(f.data.slice());
    }
  }
  const pool = [...real, ...PAYLOADS];
  const next = rng(2026);
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < 20_000; i++) {
    const p = pool[next() % pool.length]!.slice();
    const r = next() % 100;
    if (r < 5) {
      for (let k = 0; k < 3; k++) p[next() % p.length] = next() & 0xff;
    } else if (r < 8) {
      payloads.push(p.subarray(0, 1 + next() % (p.length - 1)));
      continue;
    } else if (r < 10) {
      payloads.push(Uint8Array.from({ length: 1 + next() % 64 }, next));
      continue;
    }
    payloads.push(p);
  }
  return dnstapFile(payloads);
}

for (const flag of ["-q", "-y", "-j", "--json"]) {
  Deno.test(`--threads 1, 2, 3: the same ${flag} output and summary on the four captures`, async () => {
    for (const path of CAPTURES) {
      const { stderr } = await sameOnThreads(["-r", path, flag]);
      assert.ok(summaryOf(stderr).output > 200);
    }
  });
}

for (const flag of ["-q", "-y", "-j"] as const) {
  interopTest(
    `--threads 2 ${flag}: the Go tool's output on the four captures`,
    [
      "dnstap",
    ],
    async () => {
      for (const path of CAPTURES) {
        const ours = await run(["-r", path, flag, "--threads", "2"]);
        assert.equal(ours.code, 0, ours.stderr);
        assert.equal(
          new TextDecoder().decode(ours.stdout),
          await goDnstapFile(path, flag),
          `${path} ${flag}`,
        );
      }
    },
  );
}

Deno.test("--threads: 20,000 generated records with malformed frames and filters, from a file and from stdin", async () => {
  const bytes = generated();
  await withTempDir(async (dir) => {
    const path = `${dir}/gen.fstrm`;
    await Deno.writeFile(path, bytes);
    const all = await sameOnThreads(["-r", path, "-y"]);
    const s = summaryOf(all.stderr);
    assert.equal(s.frames, 20_000);
    assert.ok(s.malformed > 100 && s.output > 15_000, all.stderr);
    const filters = [
      "--type",
      "CQ,CR,RR",
      "--qname-suffix",
      "com,arpa",
      "--rcode",
      "NOERROR,NXDOMAIN",
    ];
    for (const flag of ["-q", "-j"]) {
      const f = await sameOnThreads(["-r", path, flag, ...filters]);
      const c = summaryOf(f.stderr);
      assert.ok(c.filtered > 1000 && c.output > 100, f.stderr);
      assert.equal(
        c.output + c.filtered + c.malformed + c.unprintable,
        20_000,
      );
    }
    const stdin = await sameOnThreads(["-r", "-", "-q"], bytes);
    assert.equal(summaryOf(stdin.stderr).frames, 20_000);
    // Several files into one output, in order.
    const two = await sameOnThreads(["-r", path, "-r", CAPTURES[0]!, "-j"]);
    assert.equal(summaryOf(two.stderr).frames, 20_266);
  });
});

Deno.test("--threads: --limit stops at exactly the same record and counts", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/gen.fstrm`;
    await Deno.writeFile(path, generated());
    let total = -1;
    for (const limit of [100_000, 0, 1, 777, 5_000, 17_000]) {
      const { stderr } = await sameOnThreads([
        "-r",
        path,
        "-q",
        "--type",
        "CQ,CR,AQ,AR,RQ,RR",
        "--limit",
        String(limit),
      ]);
      const s = summaryOf(stderr);
      if (total < 0) {
        total = s.output;
        assert.ok(total > 17_000 && s.frames === 20_000, stderr);
      } else {
        assert.equal(s.output, limit, stderr);
        assert.ok(limit === 0 || s.frames < 20_000, stderr);
      }
    }
  });
});

Deno.test("--threads: workers that cannot start (no read access to their module) leave one thread, same output, said on stderr", async () => {
  const path = CAPTURES[0]!;
  const dir = new URL("./data/dnstap/", import.meta.url).pathname;
  const r = await execRaw(
    Deno.execPath(),
    fstrmArgs(["dnstap", "-r", path, "-y", "--threads", "2"], [
      `--allow-read=${dir}`,
    ]),
  );
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, stderr);
  assert.match(
    stderr,
    /no worker threads \(no read access to .*\); formatting on one/,
  );
  const one = await run(["-r", path, "-y", "--threads", "1"]);
  assert.ok(equalBytes(r.stdout, one.stdout));
  assert.deepEqual(summaryOf(stderr), summaryOf(one.stderr));
});
