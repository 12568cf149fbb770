// Prints our Go-compatible format (argument 2: -q, -y or -j) of every dnstap
// record in a Frame Streams file (argument 1), as `dnstap -r FILE <flag>`
// does: the format tests run it under another TZ. With a third argument
// `go-zone`, the local zone is read as Go reads it (useGoLocalZone).
import { decodeFrames } from "../mod.ts";
import { decodeDnstap } from "../src/dnstap.ts";
import { FORMATS } from "./_go_format.ts";
import { useGoLocalZone } from "../src/cli/_go_local_zone.ts";
import type { GoFormat } from "./_go_dnstap.ts";

const [path, flag, zone] = Deno.args as [string, GoFormat, string?];
if (zone === "go-zone" && !useGoLocalZone()) throw new Error("no Go zone");
const format = FORMATS[flag];
let out = "";
for (const frame of decodeFrames(await Deno.readFile(path))) {
  if (frame.kind !== "data") continue;
  const text = format(decodeDnstap(frame.data));
  if (text === null) break;
  out += text;
}
await Deno.stdout.write(new TextEncoder().encode(out));
