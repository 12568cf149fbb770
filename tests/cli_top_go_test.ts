// fstrm top against the Go `dnstap` tool (the real peer): on the four
// real-server captures, the messages, their Message.types, socket protocols
// and the QTYPEs of the queries that `fstrm top --json` counts (in the scan
// engine, both engines) equal what `dnstap -r FILE -q` prints, one line per
// message: `time TYPE address PROTOCOL size "name." CLASS QTYPE`.
import assert from "node:assert/strict";
import { fstrm } from "./_cli.ts";
import { goDnstapFile } from "./_go_dnstap.ts";

const DIR = new URL("./data/dnstap/", import.meta.url);
const CAPTURES = ["bind", "dnsdist", "knot", "unbound"];
const ENGINES = ["wasm", "ts"] as const;

/** The Go tool's two-letter type codes, by their first letter. */
const ROLES: Record<string, string> = {
  A: "AUTH",
  R: "RESOLVER",
  C: "CLIENT",
  F: "FORWARDER",
  S: "STUB",
  T: "TOOL",
  U: "UPDATE",
};

interface Counts {
  messages: number;
  types: Record<string, number>;
  protocols: Record<string, number>;
  qtypes: Record<string, number>;
}

function bump(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}

/** What the Go tool's `-q` lines say. */
function goCounts(text: string): Counts {
  const c: Counts = { messages: 0, types: {}, protocols: {}, qtypes: {} };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [, code, , protocol] = line.split(" ");
    assert.ok(code !== undefined && protocol !== undefined, line);
    c.messages++;
    const role = ROLES[code[0]!];
    assert.ok(role !== undefined && code.length === 2, line);
    const query = code[1] === "Q";
    bump(c.types, `${role}_${query ? "QUERY" : "RESPONSE"}`);
    bump(c.protocols, protocol);
    const question = /"[^"]*" \S+ (\S+)$/.exec(line);
    if (query && question !== null) bump(c.qtypes, question[1]!);
  }
  return c;
}

/** What `fstrm top --json` reports of the same. */
function topCounts(json: string): Counts {
  const r = JSON.parse(json) as {
    messages: number;
    messageTypes: { name: string; count: number }[];
    protocols: { name: string; count: number }[];
    qtypes: { name: string; count: number }[];
  };
  const c: Counts = {
    messages: r.messages,
    types: {},
    protocols: {},
    qtypes: {},
  };
  for (const t of r.messageTypes) bump(c.types, t.name, t.count);
  for (const p of r.protocols) bump(c.protocols, p.name, p.count);
  for (const q of r.qtypes) bump(c.qtypes, q.name, q.count);
  return c;
}

for (const name of CAPTURES) {
  Deno.test(`fstrm top counts ${name}.fstrm's messages, types, protocols and QTYPEs as the Go tool prints them (both engines)`, async () => {
    const path = decodeURIComponent(new URL(`${name}.fstrm`, DIR).pathname);
    const want = goCounts(await goDnstapFile(path, "-q"));
    assert.ok(want.messages > 100, `${want.messages} messages`);
    assert.ok(Object.keys(want.qtypes).length > 0);
    for (const engine of ENGINES) {
      const run = await fstrm([
        "top",
        "-r",
        path,
        "--json",
        "--engine",
        engine,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(topCounts(run.stdout), want, `${name}, ${engine}`);
    }
  });
}
