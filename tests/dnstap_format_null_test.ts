// NULL rdata and other raw bytes miekg/dns prints unescaped: the JSON output
// equals the Go tool's (valid UTF-8 kept, each invalid byte U+FFFD); YAML
// equals it when the bytes are valid UTF-8 (Go writes invalid ones raw: the
// string holds them as U+DC00 + byte; tests/cli_dnstap_raw_bytes_test.ts).
import assert from "node:assert/strict";
import {
  decodeDnstap,
  encodeDnstap,
  formatDnstapJson,
  formatDnstapYaml,
} from "../src/dnstap.ts";
import { goDnstapOutput } from "./_go_dnstap.ts";
import { interopTest } from "./_peers.ts";

function response(rdata: number[]): Uint8Array {
  const head = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
  const rr = [0, 0, 10, 0, 1, 0, 0, 0, 60, 0, rdata.length];
  const msg = Uint8Array.from([...head, ...rr, ...rdata]);
  return encodeDnstap({
    type: "MESSAGE",
    message: { type: "CLIENT_RESPONSE", responseMessage: msg },
  });
}

interopTest(
  "NULL rdata: JSON as the Go tool for any bytes, YAML for UTF-8 bytes",
  ["dnstap"],
  async () => {
    const invalid = response([0xdb, 0x80, 0xff, 0xe2, 0x82, 0x41, 0]);
    const utf8 = response([0xdb, 0x80, 0x68, 0xe2, 0x82, 0xac, 0x0a, 0x09]);
    const frames = [invalid, utf8];
    const json = frames.map((f) => formatDnstapJson(decodeDnstap(f))).join("");
    assert.equal(json, await goDnstapOutput(frames, "-j"));
    assert.equal(
      formatDnstapYaml(decodeDnstap(utf8)),
      await goDnstapOutput([utf8], "-y"),
    );
  },
);
