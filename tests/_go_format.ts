// Running the Go dnstap tool on dnstap records, and our formats on the same
// records, for the format tests.
import { DNSTAP_CONTENT_TYPE, encodeFrameStream } from "../mod.ts";
import {
  type Dnstap,
  encodeDnstap,
  formatDnstapJson,
  formatDnstapQuiet,
  formatDnstapYaml,
} from "../src/dnstap.ts";
import type { GoFormat } from "./_go_dnstap.ts";

/** Our format function for each of the Go tool's flags. */
export const FORMATS: Readonly<
  Record<GoFormat, (d: Dnstap) => string | null>
> = {
  "-q": formatDnstapQuiet,
  "-y": formatDnstapYaml,
  "-j": formatDnstapJson,
};

/**
 * What the Go tool prints for these records: its whole standard output,
 * also when it crashes part-way (a nil message), with the exit code.
 */
export async function goRun(
  records: readonly Dnstap[],
  flag: GoFormat,
  env?: Record<string, string>,
): Promise<{ out: string; code: number }> {
  const path = await Deno.makeTempFile({ suffix: ".dnstap" });
  try {
    await Deno.writeFile(
      path,
      encodeFrameStream(records.map(encodeDnstap), {
        contentType: DNSTAP_CONTENT_TYPE,
      }),
    );
    const res = await new Deno.Command("dnstap", {
      args: ["-r", path, flag],
      stdout: "piped",
      stderr: "piped",
      ...(env ? { env } : {}),
    }).output();
    return { out: new TextDecoder().decode(res.stdout), code: res.code };
  } finally {
    await Deno.remove(path);
  }
}

/**
 * Our output for these records as the tool would write it: each record's
 * text in turn, up to the first null (where the tool stops).
 */
export function ourRun(records: readonly Dnstap[], flag: GoFormat): string {
  const f = FORMATS[flag];
  let s = "";
  for (const r of records) {
    const t = f(r);
    if (t === null) break;
    s += t;
  }
  return s;
}

/** The first line where two outputs differ, for a readable failure. */
export function firstDiff(ours: string, go: string): string {
  const a = ours.split("\n");
  const b = go.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n ours: ${JSON.stringify(a[i])}\n   go: ${
        JSON.stringify(b[i])
      }`;
    }
  }
  return "same";
}
