// The Go `dnstap` tool (golang-dnstap 0.4 with miekg/dns 1.1.50) as an
// oracle: what it prints for dnstap frames, and for DNS messages wrapped in
// them. Tests compare our output with it byte for byte.

import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import { encodeDnstap } from "../src/dnstap.ts";

/** The Go tool's output flags. */
export type GoFormat = "-q" | "-y" | "-j";

/**
 * Runs `dnstap -r FILE <format>` on a Frame Streams file of the given data
 * frames (dnstap payloads) and returns its standard output, exactly.
 *
 * @param frames Each frame's payload.
 * @param format The Go tool's flag.
 * @returns What it printed on standard output.
 */
export async function goDnstapOutput(
  frames: readonly Uint8Array[],
  format: GoFormat,
): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".dnstap" });
  try {
    await Deno.writeFile(
      path,
      encodeFrameStream(frames, { contentType: DNSTAP_CONTENT_TYPE }),
    );
    return await goDnstapFile(path, format);
  } finally {
    await Deno.remove(path);
  }
}

/**
 * Runs `dnstap -r PATH <format>` and returns its standard output, exactly.
 *
 * @param path A Frame Streams file.
 * @param format The Go tool's flag.
 * @returns What it printed on standard output.
 */
export async function goDnstapFile(
  path: string,
  format: GoFormat,
): Promise<string> {
  const out = await new Deno.Command("dnstap", {
    args: ["-r", path, format],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `dnstap -r ${path} ${format} exited ${out.code}: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * What miekg/dns 1.1.50 makes of each DNS message: `Msg.String()` after a
 * successful `Msg.Unpack`, or `"parse failed: " + err.Error()`. Read off the
 * Go tool's JSON output (`query_message`) for CLIENT_QUERY messages carrying
 * them; one `dnstap` run for all.
 *
 * @param messages DNS messages in wire format (any bytes).
 * @returns One text per message, in order.
 */
export async function goDnsText(
  messages: readonly Uint8Array[],
): Promise<string[]> {
  const frames = messages.map((m) =>
    encodeDnstap({
      type: "MESSAGE",
      message: { type: "CLIENT_QUERY", queryMessage: m },
    })
  );
  const out = await goDnstapOutput(frames, "-j");
  const lines = out.split("\n");
  if (lines.pop() !== "" || lines.length !== messages.length) {
    throw new Error(
      `dnstap -j printed ${lines.length} lines for ${messages.length} messages`,
    );
  }
  // An empty message is omitted from the JSON (omitempty): Msg.String() of
  // an empty message is not "", so this only happens for empty input bytes,
  // which the tool still unpacks and reports.
  return lines.map((line) => JSON.parse(line).message.query_message ?? "");
}

/**
 * Our text as the Go tool's JSON shows it: each raw byte that is not UTF-8
 * (U+DC80 to U+DCFF in our text, see goUtf8 in src/_dns_rdata_format.ts) as
 * U+FFFD.
 *
 * @param text Our text.
 * @returns The text Go's JSON output decodes to.
 */
export function asGoJsonText(text: string): string {
  return text.replace(/[\udc80-\udcff]/gu, "\ufffd");
}
