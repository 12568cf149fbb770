// Interop: a Frame Streams file of dnstap messages made with encodeDnstap is
// read by the Go `dnstap` tool (golang-dnstap 0.4), and every field it
// prints with -j matches what we encoded.
import assert from "node:assert/strict";
import { MESSAGE_TYPES } from "./_dnstap_vectors.ts";
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import {
  type Dnstap,
  type DnstapSocketProtocol,
  encodeDnstap,
  formatDnstapAddress,
  formatDnstapTime,
  parseDnstapAddress,
} from "../src/dnstap.ts";
import { interopTest } from "./_peers.ts";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

// golang-dnstap 0.4 names these four; its schema predates DNSCrypt (5, 6)
// and DOQ (7), which it prints as numbers (see the second test).
const PROTOCOLS: DnstapSocketProtocol[] = ["UDP", "TCP", "DOT", "DOH"];

/** A DNS query for `<name> A IN` with id `id`, in wire format. */
function dnsQuery(id: number, name: string): Uint8Array {
  const labels = name.split(".").flatMap((l) => [l.length, ...text(l)]);
  return new Uint8Array([
    id >> 8,
    id & 0xff,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    1,
    0,
    1,
  ]);
}

/** Several messages: every message type, v4 and v6, every named protocol. */
function messages(): Dnstap[] {
  return MESSAGE_TYPES.map((type, i): Dnstap => {
    const v6 = i % 2 === 1;
    const query = String(type).endsWith("QUERY");
    const dns = dnsQuery(1000 + i, `host${i}.example.test`);
    return {
      type: "MESSAGE",
      ...(i % 3 === 0 ? {} : { identity: text(`server-${i}`) }),
      ...(i % 4 === 0 ? {} : { version: text(`fstrm test ${i}.0`) }),
      message: {
        type,
        socketFamily: v6 ? "INET6" : "INET",
        socketProtocol: PROTOCOLS[i % PROTOCOLS.length]!,
        queryAddress: parseDnstapAddress(
          v6 ? `2001:db8::${i + 1}` : `192.0.2.${i + 1}`,
        ),
        responseAddress: parseDnstapAddress(
          v6 ? "2001:db8:0:0:1::53" : "198.51.100.53",
        ),
        queryPort: 1024 + i * 4093,
        responsePort: 53,
        queryTimeSec: 1_764_094_866 + i * 86_400 * 40,
        queryTimeNsec: i * 70_000_001,
        ...(query ? { queryMessage: dns } : {
          responseTimeSec: 1_764_094_867 + i * 86_400 * 40,
          responseTimeNsec: 999_999_999 - i,
          responseMessage: dns,
        }),
      },
    };
  });
}

/** Go's RFC 3339 with nanoseconds: trailing zeros of the fraction dropped. */
function goTime(sec: number | bigint, nsec: number | undefined): string {
  return formatDnstapTime(sec, nsec).replace(/\.?0*Z$/, "Z");
}

interopTest(
  "dnstap -r -j reads every field encodeDnstap writes",
  ["dnstap"],
  async () => {
    const values = messages();
    const path = await Deno.makeTempFile({ suffix: ".dnstap" });
    try {
      await Deno.writeFile(
        path,
        encodeFrameStream(values.map(encodeDnstap), {
          contentType: DNSTAP_CONTENT_TYPE,
        }),
      );
      const out = await new Deno.Command("dnstap", {
        args: ["-r", path, "-j"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
      assert.equal(lines.length, values.length);
      lines.forEach((line, i) => {
        const got = JSON.parse(line);
        const want = values[i]!;
        const m = want.message!;
        const note = `message ${i}: ${line}`;
        assert.equal(got.type, "MESSAGE", note);
        const dec = (b: Uint8Array | undefined): string | undefined =>
          b === undefined ? undefined : new TextDecoder().decode(b);
        assert.equal(got.identity, dec(want.identity), note);
        assert.equal(got.version, dec(want.version), note);
        const gm = got.message;
        assert.equal(gm.type, m.type, note);
        assert.equal(gm.socket_family, m.socketFamily, note);
        assert.equal(gm.socket_protocol, m.socketProtocol, note);
        assert.equal(
          gm.query_address,
          formatDnstapAddress(m.queryAddress!),
          note,
        );
        assert.equal(
          gm.response_address,
          formatDnstapAddress(m.responseAddress!),
          note,
        );
        assert.equal(gm.query_port, m.queryPort, note);
        assert.equal(gm.response_port, m.responsePort, note);
        assert.equal(
          gm.query_time,
          goTime(m.queryTimeSec!, m.queryTimeNsec),
          note,
        );
        if (m.responseTimeSec === undefined) {
          assert.equal(gm.response_time, undefined, note);
        } else {
          assert.equal(
            gm.response_time,
            goTime(m.responseTimeSec, m.responseTimeNsec),
            note,
          );
        }
        // The DNS message arrived intact: Go parsed its id and question.
        const dns = m.queryMessage === undefined
          ? gm.response_message
          : gm.query_message;
        assert.equal(
          m.queryMessage === undefined ? gm.query_message : gm.response_message,
          undefined,
          note,
        );
        assert.match(dns, new RegExp(`id: ${1000 + i}\\n`), note);
        assert.match(
          dns,
          new RegExp(`;host${i}\\.example\\.test\\.\\tIN\\t A\\n`),
          note,
        );
      });
      // A fixed point, independent of our own formatting helpers (message 1:
      // 40 days after 2025-11-25T18:21:06Z).
      const first = JSON.parse(lines[1]!).message;
      assert.equal(first.query_address, "2001:db8::2");
      assert.equal(first.response_address, "2001:db8::1:0:0:53");
      assert.equal(first.query_time, "2026-01-04T18:21:06.070000001Z");
      assert.equal(first.response_time, "2026-01-04T18:21:07.999999998Z");
    } finally {
      await Deno.remove(path);
    }
  },
);

interopTest(
  "dnstap -r -j prints enum numbers it does not name as encodeDnstap wrote them",
  ["dnstap"],
  async () => {
    const path = await Deno.makeTempFile({ suffix: ".dnstap" });
    try {
      const values: Dnstap[] = [
        // DNSCrypt (5, 6) and DOQ (7) are newer than golang-dnstap 0.4's
        // schema; 9 is unnamed anywhere.
        {
          type: "MESSAGE",
          message: { type: "TOOL_QUERY", socketProtocol: "DOQ" },
        },
        {
          type: "MESSAGE",
          message: { type: "STUB_QUERY", socketProtocol: "DNSCryptUDP" },
        },
        {
          type: "MESSAGE",
          message: { type: "STUB_RESPONSE", socketProtocol: "DNSCryptTCP" },
        },
        {
          type: "MESSAGE",
          message: {
            type: "CLIENT_QUERY",
            socketProtocol: 9,
            queryZone: new Uint8Array([0]),
          },
        },
      ];
      await Deno.writeFile(
        path,
        encodeFrameStream(values.map(encodeDnstap), {
          contentType: DNSTAP_CONTENT_TYPE,
        }),
      );
      const out = await new Deno.Command("dnstap", {
        args: ["-r", path, "-j"],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(out.code, 0);
      const [a, c, d, b] = new TextDecoder().decode(out.stdout).trimEnd().split(
        "\n",
      )
        .map((l) => JSON.parse(l).message);
      assert.equal(a.type, "TOOL_QUERY");
      assert.equal(a.socket_protocol, "7");
      assert.equal(c.socket_protocol, "5");
      assert.equal(d.socket_protocol, "6");
      assert.equal(d.type, "STUB_RESPONSE");
      assert.equal(b.socket_protocol, "9");
      assert.equal(b.query_zone, ".");
    } finally {
      await Deno.remove(path);
    }
  },
);
