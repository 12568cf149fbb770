// `fstrm top` end to end: --json's shape on a capture, both engines print
// the same, stdin, malformed frames counted, a file cut short, usage errors.
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { encodeFrameStream } from "../mod.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import type { TopReport } from "../src/cli/top.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const UNBOUND = new URL("unbound.fstrm", DIR).pathname;

/** Checks every field of a --json report has its type. */
function assertShape(r: TopReport): void {
  const num = (v: unknown) => assert.equal(typeof v, "number");
  const numOrNull = (v: unknown) =>
    assert.ok(v === null || typeof v === "number");
  assert.deepEqual(Object.keys(r).sort(), [
    "clients",
    "domains",
    "dropped",
    "engine",
    "error",
    "file",
    "latency",
    "malformed",
    "messageTypes",
    "messages",
    "names",
    "noDns",
    "protocols",
    "qps",
    "qtypes",
    "queries",
    "rcodes",
    "responses",
  ]);
  assert.equal(typeof r.file, "string");
  assert.ok(r.engine === "ts" || r.engine === "wasm");
  for (
    const k of ["messages", "queries", "responses", "noDns", "dropped"] as const
  ) num(r[k]);
  for (const v of Object.values(r.malformed)) num(v);
  for (const t of [r.messageTypes, r.protocols, r.qtypes, r.rcodes]) {
    for (const row of t) {
      assert.deepEqual(Object.keys(row).sort(), ["count", "name", "value"]);
      assert.equal(typeof row.name, "string");
      num(row.value);
      num(row.count);
    }
  }
  for (const t of [r.names, r.domains, r.clients]) {
    assert.equal(typeof t.exact, "boolean");
    num(t.capacity);
    numOrNull(t.distinct);
    num(t.bound);
    for (const row of t.rows) {
      assert.deepEqual(Object.keys(row).sort(), ["count", "error", "name"]);
    }
  }
  num(r.domains.depth);
  for (const k of ["first", "last", "min", "median", "max"] as const) {
    numOrNull(r.qps[k]);
  }
  num(r.qps.seconds);
  assert.ok(r.qps.series === null || Array.isArray(r.qps.series));
  assert.equal(r.latency.unit, "ns");
  for (const k of ["min", "p50", "p90", "p99", "max"] as const) {
    numOrNull(r.latency[k]);
  }
  num(r.latency.count);
  num(r.latency.relativeError);
}

Deno.test("fstrm top --json gives a report of the documented shape", async () => {
  const run = await fstrm(["top", "--json", "-r", UNBOUND]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as TopReport;
  assertShape(report);
  assert.equal(report.messages, 489);
  assert.equal(report.queries + report.responses, 489);
  assert.equal(report.error, null);
});

Deno.test("fstrm top prints the same with --engine wasm and --engine ts", async () => {
  for (const name of ["knot", "bind", "unbound", "dnsdist"]) {
    const path = new URL(`${name}.fstrm`, DIR).pathname;
    const wasm = await fstrm([
      "top",
      "-r",
      path,
      "--engine",
      "wasm",
      "--memory",
      "1",
    ]);
    const ts = await fstrm([
      "top",
      "-r",
      path,
      "--engine",
      "ts",
      "--memory",
      "1",
    ]);
    assert.equal(wasm.code, 0, wasm.stderr);
    assert.ok(wasm.stdout.includes("(engine wasm)"));
    assert.equal(
      wasm.stdout.replace("(engine wasm)", "(engine ts)"),
      ts.stdout,
    );
  }
});

Deno.test("fstrm top reads stdin as it reads the file", async () => {
  const bytes = await Deno.readFile(UNBOUND);
  const file = await fstrm(["top", "--json", "-r", UNBOUND]);
  const stdin = await fstrm(["top", "--json", "-r", "-"], { input: bytes });
  assert.equal(stdin.code, 0, stdin.stderr);
  const a = JSON.parse(file.stdout);
  const b = JSON.parse(stdin.stdout);
  assert.deepEqual({ ...b, file: a.file }, a);
});

Deno.test("fstrm top counts malformed messages and goes on", async () => {
  const query = new Uint8Array([
    0,
    1,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    97,
    0,
    0,
    1,
    0,
    1,
  ]);
  const good = encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: query },
  });
  const cutHeader = encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: query.subarray(0, 5) },
  });
  const cutQuestion = encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_QUERY", queryMessage: query.subarray(0, 14) },
  });
  const notDnstap = new Uint8Array([0xff, 0xff, 0xff]);
  const bytes = encodeFrameStream([
    good,
    notDnstap,
    cutHeader,
    cutQuestion,
    good,
  ], {
    contentType: "protobuf:dnstap.Dnstap",
  });
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, bytes);
    const run = await fstrm(["top", "--json", "-r", path]);
    assert.equal(run.code, 0, run.stderr);
    const r = JSON.parse(run.stdout) as TopReport;
    assert.equal(r.messages, 5);
    assert.equal(r.queries, 2);
    assert.deepEqual(r.malformed, { protobuf: 1, dnsHeader: 1, question: 1 });
    assert.deepEqual(r.names.rows, [{ name: "a.", count: 2, error: 0 }]);
    const text = await fstrm(["top", "-r", path]);
    assert.match(
      text.stdout,
      /malformed: 1 not dnstap, 1 DNS header cut, 1 question cut/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fstrm top reports what it read of a file cut short, and exits 1", async () => {
  const bytes = await Deno.readFile(UNBOUND);
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 30));
    const run = await fstrm(["top", "--json", "-r", path]);
    assert.equal(run.code, 1);
    const r = JSON.parse(run.stdout) as TopReport;
    assert.ok(r.messages > 400 && r.messages < 489, String(r.messages));
    assert.notEqual(r.error, null);
    assert.match(run.stderr, /^fstrm top: /);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("fstrm top shows estimates with ± beside each under a tiny budget", async () => {
  // 1 MiB holds every name of a capture: exact.
  const exact = await fstrm(["top", "-r", UNBOUND, "--memory", "1", "-n", "3"]);
  assert.equal(exact.code, 0, exact.stderr);
  assert.match(exact.stdout, /top names \(exact, \d+ distinct\)/);
  // 0.005 MiB: 10 keys a table.
  const run = await fstrm([
    "top",
    "-r",
    UNBOUND,
    "--memory",
    "0.005",
    "-n",
    "3",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /top names \(estimated: 10 tracked, any other ≤ \d+\):\n(.*±\d+\n){3}/,
  );
});

Deno.test("fstrm top rejects bad usage with exit code 2", async () => {
  for (
    const args of [
      ["top"],
      ["top", "-r", UNBOUND, "--depth", "0"],
      ["top", "-r", UNBOUND, "--memory", "x"],
      ["top", "-r", UNBOUND, "--memory", "0"],
      ["top", "-r", UNBOUND, "--engine", "fast"],
      ["top", "-r", UNBOUND, "extra"],
    ]
  ) {
    const run = await fstrm(args);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, /^fstrm top: /);
  }
  const help = await fstrm(["top", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: fstrm top/);
});

Deno.test("fstrm top counts names case-insensitively, --case-sensitive as written", async () => {
  // One name in the case a 0x20-randomizing resolver writes it, three ways.
  const query = (name: string): Uint8Array => {
    const wire = [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for (const l of name.split(".").filter((x) => x !== "")) {
      wire.push(l.length, ...new TextEncoder().encode(l));
    }
    wire.push(0, 0, 1, 0, 1);
    return encodeDnstap({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryMessage: new Uint8Array(wire) },
    });
  };
  const path = await Deno.makeTempFile({ suffix: ".fstrm" });
  try {
    await Deno.writeFile(
      path,
      encodeFrameStream(
        ["wWw.ExAmple.org.", "WWW.EXAMPLE.ORG.", "www.example.org."].map(
          query,
        ),
      ),
    );
    for (const engine of ["wasm", "ts"]) {
      const folded = await fstrm([
        "top",
        "--json",
        "-r",
        path,
        "--engine",
        engine,
      ]);
      assert.equal(folded.code, 0, folded.stderr);
      const f = JSON.parse(folded.stdout) as TopReport;
      assert.deepEqual(f.names.rows, [
        { name: "www.example.org.", count: 3, error: 0 },
      ]);
      const kept = await fstrm([
        "top",
        "--json",
        "--case-sensitive",
        "-r",
        path,
        "--engine",
        engine,
      ]);
      const k = JSON.parse(kept.stdout) as TopReport;
      assert.deepEqual(
        k.names.rows.map((r) => [r.name, r.count]).sort(),
        [["WWW.EXAMPLE.ORG.", 1], ["wWw.ExAmple.org.", 1], [
          "www.example.org.",
          1,
        ]],
      );
      assert.deepEqual(k.domains.rows.map((r) => r.name).sort(), [
        "EXAMPLE.ORG.",
        "ExAmple.org.",
        "example.org.",
      ]);
    }
  } finally {
    await Deno.remove(path);
  }
});
