// The parts of `fstrm dnstap`, in process: the filters' parsers and
// matchers (names label by label, rcodes with EDNS bits, networks), and the
// record sink (text, frames, counts, --limit).
import assert from "node:assert/strict";
import {
  inNetwork,
  nameLabels,
  parseNetworks,
  parseRcodes,
  parseSuffixes,
  parseTypes,
  questionName,
  responseCode,
} from "../src/cli/_dnstap_filter.ts";
import { RecordSink } from "../src/cli/_dnstap_records.ts";
import { OutputBuffer } from "../src/cli/_dump_output.ts";
import { dnsMessage, dnstapFile, PAYLOADS } from "./_cli_dnstap.ts";
import { hex } from "./_util.ts";
import { rng } from "./_support.ts";
import { goFormatter } from "../src/cli/_dnstap_formats.ts";

Deno.test("nameLabels splits on unescaped dots and lower-cases letters only", () => {
  // Each case: presentation text, labels.
  const cases: [string, string[]][] = [
    [".", []], // the root: no label
    ["Example.COM.", ["example", "com"]],
    ["example.com", ["example", "com"]], // the final dot is optional
    ["a\\.b.example.", ["a\\.b", "example"]], // an escaped dot stays inside
    ["\\065bc.d.", ["\\065bc", "d"]], // \DDD kept as written
    ["x\\\\.y.", ["x\\\\", "y"]], // an escaped backslash, then a dot
  ];
  for (const [name, labels] of cases) {
    assert.deepEqual(nameLabels(name), labels, name);
  }
});

Deno.test("parseTypes takes names, mnemonics and numbers, and refuses others", () => {
  assert.deepEqual(
    [...parseTypes(["client_query,AR", "13", "ur"])].sort((a, b) => a - b),
    [2, 5, 13, 14],
  );
  assert.throws(() => parseTypes(["CLIENT"]), /--type: 'CLIENT'/);
  assert.throws(() => parseTypes([","]), /--type wants a value/);
});

Deno.test("parseRcodes takes miekg's names (BADVERS too) and 0 to 4095", () => {
  assert.deepEqual(
    [...parseRcodes(["nxdomain,BADSIG", "BADVERS", "4095", "badcookie"])],
    [3, 16, 4095, 23],
  );
  assert.throws(() => parseRcodes(["4096"]), /--rcode: '4096'/);
  assert.throws(() => parseRcodes(["NOPE"]), /--rcode: 'NOPE'/);
});

Deno.test("parseSuffixes and parseNetworks refuse what they cannot read", () => {
  assert.deepEqual(parseSuffixes(["Example.com.", "."]), [
    ["example", "com"],
    [],
  ]);
  assert.throws(() => parseSuffixes(["a..b"]), /empty label/);
  assert.deepEqual(parseNetworks(["10.1.2.3/8"]), [{
    bytes: new Uint8Array([10, 1, 2, 3]),
    prefix: 8,
  }]);
  assert.throws(() => parseNetworks(["10.0.0.0/x"]), /bad prefix length/);
  assert.throws(
    () => parseNetworks(["::/129"]),
    /bad prefix length \(0 to 128\)/,
  );
  assert.throws(() => parseNetworks(["10.0.0.256"]), /no IPv4 or IPv6/);
});

Deno.test("inNetwork compares the prefix bits, within one family", () => {
  const [net25] = parseNetworks(["192.0.2.128/25"]);
  assert.ok(inNetwork(new Uint8Array([192, 0, 2, 200]), net25!));
  assert.ok(!inNetwork(new Uint8Array([192, 0, 2, 127]), net25!));
  const [all4] = parseNetworks(["0.0.0.0/0"]);
  assert.ok(inNetwork(new Uint8Array([8, 8, 8, 8]), all4!));
  // An IPv6 address is in no IPv4 network, even ::ffff:192.0.2.1.
  const mapped = new Uint8Array(16);
  mapped.set([0xff, 0xff, 192, 0, 2, 1], 10);
  assert.ok(!inNetwork(mapped, all4!));
  const [v6] = parseNetworks(["2001:db8::/33"]);
  assert.ok(
    inNetwork(parseNetworks(["2001:db8:7fff::1"])[0]!.bytes, v6!),
  );
  assert.ok(
    !inNetwork(parseNetworks(["2001:db8:8000::1"])[0]!.bytes, v6!),
  );
});

Deno.test("questionName reads the first question, pointers included, or gives null", () => {
  assert.equal(
    questionName(dnsMessage({ name: "www.Example.com." })),
    "www.Example.com.",
  );
  // A question name that points back into itself is a loop: null.
  const loop = hex("0000 0100 0001 0000 0000 0000 c00c 0001 0001");
  assert.equal(questionName(loop), null);
  // A pointer to a name further on.
  assert.equal(
    questionName(hex("0000 0100 0001 0000 0000 0000 c00e 0161 00")),
    "a.",
  );
  // No question (QDCOUNT 0).
  assert.equal(questionName(hex("0000 0100 0000 0000 0000 0000 00")), null);
  assert.equal(questionName(new Uint8Array(11)), null); // no header
  const cut = dnsMessage({ name: "example.com." }).subarray(0, 20);
  assert.equal(questionName(cut), null);
});

Deno.test("responseCode adds the last OPT's extended bits, as Msg.Unpack does", () => {
  assert.equal(responseCode(dnsMessage({ name: "a.", rcode: 3 })), 3);
  assert.equal(
    responseCode(dnsMessage({ name: "a.", rcode: 0, extendedRcode: 1 })),
    16,
  );
  assert.equal(
    responseCode(dnsMessage({ name: "a.", rcode: 7, extendedRcode: 0xff })),
    0xff7,
  );
  // The OPT record cut off: the header's bits only.
  const full = dnsMessage({ name: "a.", rcode: 2, extendedRcode: 1 });
  assert.equal(responseCode(full.subarray(0, full.length - 3)), 2);
  assert.equal(responseCode(new Uint8Array(5)), -1);
});

/** Collects what an OutputBuffer writes. */
function collect(): { out: OutputBuffer; bytes: () => Uint8Array } {
  const parts: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync: (p) => {
      parts.push(p.slice());
      return p.length;
    },
  }, 64);
  return {
    out,
    bytes: () => {
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return all;
    },
  };
}

const NO_FILTER = { types: null, suffixes: null, rcodes: null, clients: null };

Deno.test("RecordSink prints the format's text, counts null and throwing formats as not printable", () => {
  const { out, bytes } = collect();
  let n = 0;
  const sink = new RecordSink(out, {
    output: {
      kind: "text",
      format: (record) => {
        n++;
        if (n === 2) return null;
        if (n === 3) throw new Error("a formatter bug");
        if (n === 4) return "bytes\n";
        return `${record.message?.type} é\n`;
      },
    },
    filter: NO_FILTER,
    limit: Infinity,
  });
  const frame = (p: Uint8Array) => sink.take(p, 0, p.length);
  for (const p of PAYLOADS.slice(0, 5)) assert.equal(frame(p), true);
  assert.equal(frame(new Uint8Array([0xff])), true); // malformed
  sink.finish();
  assert.equal(
    new TextDecoder().decode(bytes()),
    "CLIENT_QUERY é\nbytes\nCLIENT_QUERY é\n",
  );
  assert.deepEqual(sink.counts, {
    frames: 6,
    output: 3,
    filtered: 0,
    malformed: 1,
    unprintable: 2,
  });
});

Deno.test("RecordSink writes frames as a whole Frame Streams file and stops at its limit", () => {
  const { out, bytes } = collect();
  const sink = new RecordSink(out, {
    output: { kind: "frames" },
    filter: NO_FILTER,
    limit: 3,
  });
  // Frames taken from a shared window, at their offsets.
  const window = new Uint8Array(1000);
  let at = 7;
  const results: boolean[] = [];
  for (const p of PAYLOADS.slice(0, 4)) {
    window.set(p, at);
    results.push(sink.take(window, at, p.length));
    at += p.length;
  }
  assert.deepEqual(results, [true, true, false, false]);
  assert.equal(sink.full, true);
  sink.finish();
  sink.finish(); // once only
  assert.deepEqual(bytes(), dnstapFile(PAYLOADS.slice(0, 3)));
  assert.equal(sink.counts.frames, 3);
});

Deno.test("RecordSink never throws on mutated records, with every filter on, and its counts add up", () => {
  const next = rng(13);
  const random = () => next() / 2 ** 32;
  const filter = {
    types: parseTypes(["CQ,CR,AR,RR"]),
    suffixes: parseSuffixes(["example.com,example.org,."]),
    rcodes: parseRcodes(["NOERROR,NXDOMAIN,BADVERS,SERVFAIL"]),
    clients: parseNetworks(["192.0.2.0/24,2001:db8::/32,198.51.100.0/24"]),
  };
  for (const flag of ["-q", "-y", "-j"] as const) {
    const { out } = collect();
    const sink = new RecordSink(out, {
      output: { kind: "text", format: goFormatter(flag) },
      filter,
      limit: Infinity,
    });
    for (let i = 0; i < 3000; i++) {
      const p = PAYLOADS[i % PAYLOADS.length]!.slice();
      // Flip one to four bytes, or cut the record short.
      const flips = 1 + Math.floor(random() * 4);
      for (let k = 0; k < flips; k++) {
        p[Math.floor(random() * p.length)] = Math.floor(random() * 256);
      }
      const cut = random() < 0.2 ? Math.floor(random() * p.length) : p.length;
      sink.take(p, 0, cut);
    }
    sink.finish();
    const c = sink.counts;
    assert.equal(c.frames, 3000);
    assert.equal(c.output + c.filtered + c.malformed + c.unprintable, 3000);
    assert.ok(c.output > 0 && c.filtered > 0 && c.malformed > 0, flag);
  }
});

Deno.test("OutputBuffer.text writes long text (a YAML record) as UTF-8, across flushes", () => {
  const parts: Uint8Array[] = [];
  const out = new OutputBuffer({
    writeSync: (p) => {
      parts.push(p.slice());
      return p.length;
    },
  }, 1024);
  // 64 to 256 characters: the encodeInto path; ASCII, 2-, 3- and 4-byte.
  const texts = Array.from(
    { length: 40 },
    (_, i) => `identity: "ns-${i}" é € 😀 `.repeat(3 + (i % 4)) + "\n",
  );
  for (const t of texts) out.text(t);
  out.flush();
  assert.ok(parts.length > 1, "the buffer was flushed on the way");
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  assert.equal(
    new TextDecoder("utf-8", { fatal: true }).decode(all),
    texts.join(""),
  );
});

Deno.test("RecordSink.takeRun gives take's output and counts, runs cut anywhere, --limit anywhere, on either engine", () => {
  const next = rng(7);
  const random = () => next() / 2 ** 32;
  // Mutated and cut records: lines, fallbacks, malformed, not printable.
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const p = PAYLOADS[i % PAYLOADS.length]!.slice();
    if (random() < 0.3) p[Math.floor(random() * p.length)] = next() & 0xff;
    frames.push(random() < 0.1 ? p.subarray(0, next() % p.length) : p);
  }
  const wire = new Uint8Array(frames.reduce((n, f) => n + 4 + f.length, 0));
  const starts: number[] = [];
  let at = 0;
  for (const f of frames) {
    starts.push(at);
    new DataView(wire.buffer).setUint32(at, f.length);
    wire.set(f, at + 4);
    at += 4 + f.length;
  }
  starts.push(at);
  const sinkOf = (limit: number, engine: "ts" | "wasm") => {
    const parts: Uint8Array[] = [];
    const out = new OutputBuffer({
      writeSync: (p) => {
        parts.push(p.slice());
        return p.length;
      },
    });
    const sink = new RecordSink(out, {
      output: { kind: "text", format: goFormatter("-q") },
      filter: { types: null, suffixes: null, rcodes: null, clients: null },
      limit,
      engine,
    });
    const text = () => {
      sink.finish();
      return parts.map((p) => new TextDecoder().decode(p)).join("");
    };
    return { sink, text };
  };
  for (const engine of ["ts", "wasm"] as const) {
    for (const limit of [Infinity, 0, 1, 7, 500, 2999]) {
      const one = sinkOf(limit, engine);
      for (let i = 0; i < frames.length; i++) {
        if (!one.sink.take(wire, starts[i]! + 4, frames[i]!.length)) break;
      }
      const runs = sinkOf(limit, engine);
      assert.ok(runs.sink.takesRuns);
      // Runs of 0 to 99 frames.
      for (let i = 0; i < frames.length;) {
        const j = Math.min(frames.length, i + (next() % 100));
        if (!runs.sink.takeRun(wire, starts[i]!, starts[j]!)) break;
        i = j;
      }
      assert.equal(runs.text(), one.text(), `${engine}, limit ${limit}`);
      assert.deepEqual(runs.sink.counts, one.sink.counts);
      if (limit === Infinity) {
        const c = runs.sink.counts;
        assert.ok(c.output > 1000 && c.malformed > 0, JSON.stringify(c));
      }
    }
  }
});
