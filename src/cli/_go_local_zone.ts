/**
 * The local time zone as a Go 1.19 program (the Go `dnstap` tool) chooses
 * it (`time.initLocal` on Unix): no `TZ` means /etc/localtime; an empty
 * `TZ` or `UTC` means UTC; `TZ=/path` (or `:/path`) reads that file;
 * another name reads it under /usr/share/zoneinfo/, /usr/share/lib/zoneinfo/
 * or /usr/lib/locale/TZ/; anything unreadable means UTC.
 *
 * @module
 */
import { setGoLocalZone } from "../_go_time.ts";
import { GoZone } from "../_go_zone.ts";

const SOURCES = [
  "/usr/share/zoneinfo/",
  "/usr/share/lib/zoneinfo/",
  "/usr/lib/locale/TZ/",
];

/** A file's bytes if it is TZif data Go would accept, else null. */
function tryRead(path: string): Uint8Array | null {
  try {
    const data = Deno.readFileSync(path);
    new GoZone(data, () => [0, 0]); // Go falls through on bad data too.
    return data;
  } catch (e) {
    // No permission is the caller's problem; a missing or bad file is not.
    if (e instanceof Deno.errors.NotCapable) throw e;
    return null;
  }
}

/**
 * The TZif data of the zone Go would use as `time.Local`, or null for UTC.
 *
 * @param tz The `TZ` variable (undefined when unset).
 * @returns The zone's bytes, or null.
 */
export function loadGoLocalZone(
  tz: string | undefined = Deno.env.get("TZ"),
): Uint8Array | null {
  if (tz === undefined) return tryRead("/etc/localtime");
  if (tz.startsWith(":")) tz = tz.slice(1);
  if (tz === "" || tz === "UTC") return null;
  if (tz.startsWith("/")) return tryRead(tz);
  for (const dir of SOURCES) {
    const data = tryRead(dir + tz);
    if (data !== null) return data;
  }
  return null;
}

/**
 * Makes the quiet dnstap format's clock the Go tool's: reads the zone as Go
 * would (see {@linkcode loadGoLocalZone}) and sets it. Needs read access to
 * the zone files and the `TZ` variable; without them, keeps the JavaScript
 * engine's zone and returns false.
 *
 * @returns Whether Go's zone is now in use.
 */
export function useGoLocalZone(): boolean {
  try {
    setGoLocalZone(loadGoLocalZone());
    return true;
  } catch {
    return false;
  }
}
