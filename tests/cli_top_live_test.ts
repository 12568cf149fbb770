// `fstrm top -u SOCKET` / `-l HOST:PORT`: writers (our FrameWriter, and
// fstrm_replay, a real peer) send the four captures; with --json the final
// report equals `fstrm top -r` on the same frames in the same order (every
// field but the input's name, qps included: one connection after another
// keeps the order), plus its live part. SIGINT and SIGTERM print the final
// report (exit 0); --limit and --duration stop it by themselves; --allow
// refuses a peer (counted); malformed frames and oversized frames (drops)
// counted; off a terminal, a text report every --interval; usage errors.
import assert from "node:assert/strict";
import { DNSTAP, fstrm, fstrmArgs, sendAll } from "./_cli.ts";
import { closedAtOnce, LiveCommand } from "./_cli_live.ts";
import { PAYLOADS } from "./_cli_dnstap.ts";
import { interopTest } from "./_peers.ts";
import { withTempDir } from "./_support.ts";
import { decodeFrames, encodeFrameStream } from "../mod.ts";
import type { TopReport } from "../src/cli/top.ts";
import { type LiveState, screenText } from "../src/cli/_top_live.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["knot", "bind", "unbound", "dnsdist"] as const;

type LiveReport = TopReport & { live: LiveState };

const dec = new TextDecoder();

/** The data payloads of a capture. */
async function payloadsOf(name: string): Promise<Uint8Array[]> {
  const bytes = await Deno.readFile(new URL(`${name}.fstrm`, DIR));
  return decodeFrames(bytes).flatMap((f) => f.kind === "data" ? [f.data] : []);
}

/** `fstrm top -r` on `payloads` as one file: its --json report. */
async function fileReport(
  dir: string,
  payloads: Uint8Array[],
  args: string[] = [],
): Promise<TopReport> {
  const file = `${dir}/all.fstrm`;
  await Deno.writeFile(
    file,
    encodeFrameStream(payloads, { contentType: DNSTAP }),
  );
  const run = await fstrm(["top", "-r", file, "--json", ...args]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** The one JSON report on stdout. */
function reportOf(stdout: Uint8Array): LiveReport {
  const text = dec.decode(stdout);
  assert.equal(text.trimEnd().split("\n").length, 1, text);
  return JSON.parse(text);
}

/** A report without what differs between a file and a socket. */
function comparable(r: TopReport): Omit<TopReport, "file"> {
  const { file: _file, ...rest } = r as TopReport & { live?: unknown };
  delete (rest as { live?: unknown }).live;
  return rest;
}

/**
 * Starts `fstrm top -u` in `dir` with `args`, lets `send` write to its
 * socket, stops it with `signal`; its end.
 */
/**
 * Runs `fstrm top -u SOCK ARGS` in `dir`, sends with `send` once it
 * listens, then stops it with `signal` (null: it stops by itself, by
 * --limit or --duration); a failure kills it.
 */
async function liveRun(
  dir: string,
  args: string[],
  send: (path: string) => Promise<void>,
  signal: Deno.Signal | null = "SIGINT",
): Promise<{ code: number; stdout: Uint8Array; stderr: string }> {
  const path = `${dir}/dnstap.sock`;
  const live = new LiveCommand(["top", "-u", path, ...args]);
  try {
    await live.line(/listening on unix socket /);
    await send(path);
    // FINISH came for every writer: every frame was taken.
    if (signal !== null) live.child.kill(signal);
  } catch (error) {
    await live.kill();
    throw error;
  }
  return await live.end();
}

for (const engine of ["ts", "wasm"] as const) {
  Deno.test(`fstrm top -u --json: the four captures from FrameWriters give top -r's report; SIGINT prints it (${engine})`, async () => {
    await withTempDir(async (dir) => {
      const sets = await Promise.all(CAPTURES.map(payloadsOf));
      const run = await liveRun(
        dir,
        ["--json", "--engine", engine],
        async (path) => {
          // One connection per capture, one after another: the order of
          // the file below.
          for (const payloads of sets) {
            await sendAll({ transport: "unix", path }, payloads);
          }
        },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /fstrm top: received SIGINT, stopping\n/);
      const got = reportOf(run.stdout);
      const all = sets.flat();
      const expected = await fileReport(dir, all, ["--engine", engine]);
      assert.equal(expected.messages, all.length);
      assert.deepEqual(comparable(got), comparable(expected));
      assert.equal(got.engine, engine);
      assert.match(got.file, /^unix socket .*dnstap\.sock$/);
      const l = got.live;
      assert.equal(l.messages, all.length);
      assert.equal(l.frames, all.length);
      assert.equal(l.stopped, "SIGINT");
      assert.equal(l.oversized, 0);
      assert.deepEqual(l.connections, {
        open: 0,
        total: 4,
        refused: 0,
        rejected: 0,
        protocolErrors: 0,
        ioErrors: 0,
      });
      assert.ok(l.seconds > 0 && l.rate > 0);
    });
  });
}

Deno.test("fstrm top -u --json: four writers at once give top -r's report (rows of equal count in any order)", async () => {
  await withTempDir(async (dir) => {
    const sets = await Promise.all(CAPTURES.map(payloadsOf));
    const run = await liveRun(
      dir,
      ["--json", "--top", "1000"],
      (path) =>
        Promise.all(
          sets.map((payloads) =>
            sendAll({ transport: "unix", path }, payloads)
          ),
        ).then(() => {}),
    );
    assert.equal(run.code, 0, run.stderr);
    const got = reportOf(run.stdout);
    const expected = await fileReport(dir, sets.flat(), ["--top", "1000"]);
    // Interleaved connections change the order of arrival, and so the
    // order of rows with equal counts. Everything else is equal: counts,
    // per-second sums and latency histograms do not depend on the order.
    const unordered = (r: TopReport) => {
      const c = comparable(r) as Record<string, unknown>;
      for (const k of ["names", "domains", "clients"] as const) {
        const t = r[k];
        c[k] = {
          ...t,
          rows: [...t.rows].sort((a, b) =>
            b.count - a.count || (a.name < b.name ? -1 : 1)
          ),
        };
      }
      return c;
    };
    assert.deepEqual(unordered(got), unordered(expected));
    assert.equal(got.qps.seconds > 0, true);
    assert.equal(got.live.connections.total, 4);
  });
});

interopTest(
  "fstrm top -u --json takes the four captures from fstrm_replay, as top -r reads them",
  ["fstrm_replay"],
  async () => {
    await withTempDir(async (dir) => {
      const run = await liveRun(dir, ["--json"], async (path) => {
        for (const name of CAPTURES) {
          const replay = await new Deno.Command("fstrm_replay", {
            args: [
              "-t",
              DNSTAP,
              "-u",
              path,
              "-r",
              new URL(`${name}.fstrm`, DIR).pathname,
            ],
            stdout: "null",
            stderr: "piped",
          }).output();
          assert.equal(replay.code, 0, dec.decode(replay.stderr));
        }
      }, "SIGTERM");
      assert.equal(run.code, 0, run.stderr);
      const got = reportOf(run.stdout);
      const all = (await Promise.all(CAPTURES.map(payloadsOf))).flat();
      assert.deepEqual(
        comparable(got),
        comparable(await fileReport(dir, all)),
      );
      assert.equal(got.live.stopped, "SIGTERM");
      assert.equal(got.live.connections.total, 4);
    });
  },
);

Deno.test("fstrm top -u counts malformed frames and drops oversized ones", async () => {
  await withTempDir(async (dir) => {
    // Not dnstap (a protobuf field of wire type 7), twice; PAYLOADS (52 to
    // 132 bytes), those over 100 bytes dropped by --max-frame-length.
    const garbage = new Uint8Array([0xff, 0xff]);
    const over = PAYLOADS.filter((p) => p.length > 100).length;
    assert.ok(over > 0 && over < PAYLOADS.length);
    const sent = [garbage, ...PAYLOADS, garbage];
    const run = await liveRun(
      dir,
      ["--json", "--max-frame-length", "100"],
      (path) => sendAll({ transport: "unix", path }, sent),
    );
    assert.equal(run.code, 0, run.stderr);
    const got = reportOf(run.stdout);
    assert.equal(got.messages, sent.length - over);
    assert.equal(got.malformed.protobuf, 2);
    assert.equal(got.dropped, over);
    assert.equal(got.live.oversized, over);
    // The same frames but the dropped ones, from a file.
    const kept = sent.filter((p) => p.length <= 100);
    assert.deepEqual(
      { ...comparable(got), dropped: 0 },
      comparable(await fileReport(dir, kept)),
    );
  });
});

Deno.test("fstrm top -l --allow refuses a peer outside the networks, and counts it", async () => {
  const live = new LiveCommand([
    "top",
    "-l",
    "127.0.0.1:0",
    "--json",
    "--allow",
    "192.0.2.0/24",
  ]);
  try {
    const port = await live.port();
    assert.equal(await closedAtOnce(port), true);
    await live.line(
      /refused a connection from 127\.0\.0\.1:\d+ \(not on --allow\)/,
    );
    live.child.kill("SIGTERM");
  } catch (error) {
    await live.kill();
    throw error;
  }
  const run = await live.end();
  assert.equal(run.code, 0, run.stderr);
  const got = reportOf(run.stdout);
  assert.equal(got.live.connections.refused, 1);
  assert.equal(got.live.connections.total, 0);
  assert.equal(got.messages, 0);
});

Deno.test("fstrm top -l: a writer over TCP on the allow-list is counted; a second connection over --max-conns-per-source is rejected, counted", async () => {
  const live = new LiveCommand([
    "top",
    "-l",
    "127.0.0.1:0",
    "--json",
    "--allow",
    "192.0.2.0/24,127.0.0.1",
    "--max-conns-per-source",
    "1",
  ]);
  let idle: Deno.Conn | null = null;
  try {
    const port = await live.port();
    await sendAll({ transport: "tcp", hostname: "127.0.0.1", port }, [
      ...PAYLOADS,
    ]);
    // One connection open (and served), then one too many.
    idle = await Deno.connect({ hostname: "127.0.0.1", port });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await closedAtOnce(port), true);
    await live.line(/--max-conns-per-source reached/);
    idle.close();
    idle = null;
    live.child.kill("SIGTERM");
  } catch (error) {
    idle?.close();
    await live.kill();
    throw error;
  }
  const run = await live.end();
  assert.equal(run.code, 0, run.stderr);
  const got = reportOf(run.stdout);
  assert.match(got.file, /^tcp 127\.0\.0\.1:\d+$/);
  assert.equal(got.messages, PAYLOADS.length);
  assert.equal(got.live.connections.total, 2);
  assert.equal(got.live.connections.rejected, 1);
  assert.equal(got.live.connections.refused, 0);
  await withTempDir(async (dir) => {
    assert.deepEqual(
      comparable(got),
      comparable(await fileReport(dir, [...PAYLOADS])),
    );
  });
});

Deno.test("fstrm top -u --limit N stops by itself after exactly N messages", async () => {
  await withTempDir(async (dir) => {
    const run = await liveRun(
      dir,
      ["--json", "--limit", "5"],
      (path) => sendAll({ transport: "unix", path }, [...PAYLOADS]),
      null,
    );
    assert.equal(run.code, 0, run.stderr);
    const got = reportOf(run.stdout);
    assert.equal(got.messages, 5);
    assert.equal(got.live.stopped, "limit");
    assert.deepEqual(
      comparable(got),
      comparable(await fileReport(dir, PAYLOADS.slice(0, 5))),
    );
    assert.doesNotMatch(run.stderr, /received SIG/);
  });
});

for (const engine of ["wasm", "ts"]) {
  Deno.test(`fstrm top -u --limit past a batch counts exactly the first N messages, as top -r (${engine})`, async () => {
    // Over 4096 messages: the scan's key lists are on for the first batches,
    // off for the last ones before the limit, which may be cut.
    const payloads = (await Promise.all(CAPTURES.map(payloadsOf))).flat();
    const many: Uint8Array[] = [];
    while (many.length < 9000) many.push(...payloads);
    const limit = 7001;
    await withTempDir(async (dir) => {
      const run = await liveRun(
        dir,
        ["--json", "--engine", engine, "--limit", String(limit)],
        (path) => sendAll({ transport: "unix", path }, many).catch(() => {}),
        null,
      );
      assert.equal(run.code, 0, run.stderr);
      const got = reportOf(run.stdout);
      assert.equal(got.messages, limit);
      assert.equal(got.live.stopped, "limit");
      assert.deepEqual(
        comparable(got),
        comparable(
          await fileReport(dir, many.slice(0, limit), ["--engine", engine]),
        ),
      );
    });
  });
}

Deno.test("fstrm top -u --duration stops by itself", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/dnstap.sock`;
    const live = new LiveCommand([
      "top",
      "-u",
      path,
      "--json",
      "--duration",
      "0.3",
    ]);
    const run = await live.end();
    assert.equal(run.code, 0, run.stderr);
    const got = reportOf(run.stdout);
    assert.equal(got.live.stopped, "duration");
    assert.equal(got.messages, 0);
  });
});

Deno.test("fstrm top -u off a terminal prints a text report every --interval, the last one final", async () => {
  await withTempDir(async (dir) => {
    const run = await liveRun(dir, ["--interval", "0.1"], async (path) => {
      await sendAll({ transport: "unix", path }, [...PAYLOADS]);
      await new Promise((r) => setTimeout(r, 400));
    }, "SIGTERM");
    assert.equal(run.code, 0, run.stderr);
    const text = dec.decode(run.stdout);
    // No terminal: no escape sequences, reports one after another.
    assert.ok(!text.includes("\x1b"));
    const heads = text.split("\n").filter((l) => l.startsWith("live on "));
    assert.ok(heads.length >= 3, text);
    assert.match(
      heads.at(-1)!,
      /^live on unix socket .* \(stopped: SIGTERM\): 12 messages, /,
    );
    assert.match(
      text,
      /connections: 0 open, 1 in all, 0 refused \(--allow\), 0 rejected \(limits\), 0 closed for protocol errors, 0 for I\/O errors; 0 oversized frames dropped\n/,
    );
    // Each report is top -r's text under its live lines.
    assert.match(text, /: 12 messages, \d+ queries, \d+ responses \(engine /);
  });
});

Deno.test("fstrm top -u --json --interval prints a JSON line every interval, the last one final", async () => {
  await withTempDir(async (dir) => {
    const run = await liveRun(
      dir,
      ["--json", "--interval", "0.1", "--duration", "0.6"],
      (path) => sendAll({ transport: "unix", path }, [...PAYLOADS]),
      null,
    );
    assert.equal(run.code, 0, run.stderr);
    const lines = dec.decode(run.stdout).trimEnd().split("\n");
    assert.ok(lines.length >= 3, lines.join("\n"));
    const reports = lines.map((l) => JSON.parse(l) as LiveReport);
    // Totals since the start: never shrinking; only the last is final.
    for (let k = 1; k < reports.length; k++) {
      assert.ok(reports[k]!.messages >= reports[k - 1]!.messages);
      assert.equal(reports[k - 1]!.live.stopped, null);
    }
    const last = reports.at(-1)!;
    assert.equal(last.live.stopped, "duration");
    assert.equal(last.messages, PAYLOADS.length);
    assert.deepEqual(
      comparable(last),
      comparable(await fileReport(dir, [...PAYLOADS])),
    );
  });
});

Deno.test({
  name:
    "fstrm top -u on a terminal redraws the report in place every --interval",
  ignore: !hasScript(),
  fn: async () => {
    await withTempDir(async (dir) => {
      // script(1) runs the command on a pseudo-terminal; its output is the
      // terminal's.
      const command = [
        Deno.execPath(),
        ...fstrmArgs([
          "top",
          "-u",
          `${dir}/dnstap.sock`,
          "--interval",
          "0.2",
          "--duration",
          "1",
        ]),
      ].map((a) => `'${a}'`).join(" ");
      const run = await new Deno.Command("script", {
        // A screen of 60 rows by 200 columns: room for the whole report.
        args: ["-qfec", `stty rows 60 cols 200; ${command}`, "/dev/null"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(run.code, 0, dec.decode(run.stderr));
      const screen = dec.decode(run.stdout);
      // Each report starts at the top left; the first and the final one
      // clear the screen, the others are drawn over the last (each line
      // erased to its end, the rest of the screen after them).
      const reports = screen.split("\x1b[H").slice(1);
      assert.ok(reports.length >= 3, screen);
      assert.ok(reports[0]!.startsWith("\x1b[2J"));
      for (const r of reports.slice(1, -1)) {
        assert.match(r, /^live on unix socket /);
        assert.ok(r.endsWith("\x1b[K\r\n\x1b[J"), JSON.stringify(r));
      }
      assert.match(
        reports.at(-1)!,
        // deno-lint-ignore no-control-regex
        /^\x1b\[2Jlive on unix socket .*\(stopped: duration\): 0 messages/,
      );
    });
  },
});

Deno.test("screenText fits a report to the terminal: lines erased to their end, wrapped lines counted, the rest said in one line", () => {
  const text = "a\nbb\n" + "c".repeat(25) + "\nd\ne\n";
  // Everything fits in 10 rows of 10 columns (c… takes 3 rows).
  assert.equal(
    screenText(text, 10, 10, false),
    "\x1b[Ha\x1b[K\nbb\x1b[K\n" + "c".repeat(25) +
      "\x1b[K\nd\x1b[K\ne\x1b[K\n\x1b[J",
  );
  // 6 rows: 5 usable (never the last: no scroll); a, bb and c… take 5,
  // so bb, c… give way to the count.
  assert.equal(
    screenText(text, 6, 10, true),
    "\x1b[H\x1b[2Ja\x1b[K\nbb\x1b[K\n(3 more lines)\x1b[K\n\x1b[J",
  );
  // Wide columns: one row each; 4 usable rows for 5 lines.
  assert.equal(
    screenText(text, 5, 80, false),
    "\x1b[Ha\x1b[K\nbb\x1b[K\n" + "c".repeat(25) +
      "\x1b[K\n(2 more lines)\x1b[K\n\x1b[J",
  );
});

/** Whether script(1) (util-linux) is there to give a pseudo-terminal. */
function hasScript(): boolean {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
}

Deno.test("fstrm top: usage errors of the live options", async () => {
  await withTempDir(async (dir) => {
    const sock = `${dir}/s.sock`;
    const cases: [string[], RegExp][] = [
      [["-r", "x.fstrm", "--interval", "1"], /--interval goes with -u or -l/],
      [["-u", sock, "-r", "x.fstrm"], /a file \(-r\) or a socket/],
      [["-u", sock, "-l", "127.0.0.1:0"], /not both/],
      [["-u", sock, "--interval", "0"], /--interval wants seconds above 0/],
      [["-u", sock, "--limit", "0"], /--limit wants an integer from 1/],
      [["-u", sock, "--allow", "127.0.0.1"], /--allow needs -l/],
      [["-l", "localhost"], /-l wants HOST:PORT/],
    ];
    for (const [args, re] of cases) {
      const run = await fstrm(["top", ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, re);
    }
    // Listening where it cannot: exit 1, one line.
    const run = await fstrm(["top", "-u", dir]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot listen on unix socket /);
  });
});
