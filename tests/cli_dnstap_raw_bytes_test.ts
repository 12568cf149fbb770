// Raw bytes miekg/dns prints unescaped (NULL rdata, Extended DNS Error text)
// that are not UTF-8: the Go tool's YAML writes them as they are, and so does
// `fstrm dnstap -y` (the text holds each as goUtf8's lone surrogate U+DC00 +
// byte; the output writes it back as the byte), on one thread and on
// workers. JSON writes `\ufffd` for each, as Go does (tests/
// dnstap_format_null_test.ts).
import assert from "node:assert/strict";
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import { encodeDnstap } from "../src/dnstap.ts";
import { execRaw, fstrmArgs } from "./_cli.ts";
import { interopTest } from "./_peers.ts";

function frame(message: number[]): Uint8Array {
  return encodeDnstap({
    type: "MESSAGE",
    message: {
      type: "CLIENT_RESPONSE",
      responseMessage: Uint8Array.from(message),
    },
  });
}

/** A response with one NULL record (owner the root) holding `rdata`. */
function nullRecord(rdata: number[]): Uint8Array {
  const head = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
  return frame([
    ...head,
    0,
    0,
    10,
    0,
    1,
    0,
    0,
    0,
    60,
    0,
    rdata.length,
    ...rdata,
  ]);
}

/** A response whose OPT record carries an EDE (code 20) with `text`. */
function edeText(text: number[]): Uint8Array {
  const head = [0, 2, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 1];
  const option = [0, 15, 0, 2 + text.length, 0, 20, ...text];
  return frame([
    ...head,
    ...[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, option.length],
    ...option,
  ]);
}

const FRAMES = [
  nullRecord([0xdb, 0x80, 0xff, 0xe2, 0x82, 0x41, 0]),
  nullRecord([0xdb, 0x80, 0x68, 0xe2, 0x82, 0xac, 0x0a, 0x09]),
  nullRecord([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xfe]),
  edeText([0x6f, 0x6b, 0xff, 0x80, 0xc3, 0xa9]),
];

interopTest(
  "fstrm dnstap -y writes bytes that are not UTF-8 raw, as the Go tool does (one thread and workers)",
  ["dnstap"],
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/raw.fstrm`;
      await Deno.writeFile(
        path,
        encodeFrameStream(FRAMES, { contentType: DNSTAP_CONTENT_TYPE }),
      );
      const go = await execRaw("dnstap", ["-r", path, "-y"]);
      assert.equal(go.code, 0);
      // The Go tool's output really holds raw bytes that are not UTF-8.
      assert.ok(go.stdout.includes(0xff) && go.stdout.includes(0xfe));
      assert.throws(() =>
        new TextDecoder("utf-8", { fatal: true }).decode(go.stdout)
      );
      for (const threads of [[], ["--threads", "2"]]) {
        const ours = await execRaw(
          Deno.execPath(),
          fstrmArgs(["dnstap", "-r", path, "-y", ...threads]),
        );
        assert.equal(ours.code, 0, new TextDecoder().decode(ours.stderr));
        assert.deepEqual(ours.stdout, go.stdout, `threads ${threads}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
