/**
 * The `fstrm` command: `capture`, `dump`, `replay` and `stats`, a drop-in
 * for fstrm-bin's `fstrm_capture`, `fstrm_dump` and `fstrm_replay`, and more.
 *
 * ```sh
 * deno install -g --allow-read --allow-write --allow-net --allow-env=TZ \
 *   --allow-ffi -n fstrm jsr:@fstrm/fstrm/cli
 * fstrm stats capture.fstrm
 * ```
 *
 * Permissions: those flags cover every command (`--allow-ffi`: only
 * `capture`'s SIGUSR1 guard; `--allow-env=TZ`: only `dnstap -q`'s local
 * time). Each command needs less, scoped to its files and sockets, e.g.
 * `fstrm stats FILE` only `--allow-read=FILE`: the table is in docs/cli.md
 * ("Permissions"). {@linkcode main} runs in the calling program, under its
 * permissions.
 *
 * @example Running a command from a program
 * ```ts
 * import { main } from "@fstrm/fstrm/cli";
 * import assert from "node:assert/strict";
 *
 * // No command: prints the usage on stderr, exit code 2.
 * assert.equal(typeof main, "function");
 * ```
 *
 * @module
 */
import { main as run } from "./src/cli/main.ts";

/**
 * Runs the `fstrm` command with `args` (the arguments after the program
 * name) and returns its exit code; errors are one line on stderr.
 *
 * @param args The command and its options, e.g. `["stats", "a.fstrm"]`.
 * @returns The exit code: 0 on success, 1 on failure, 2 on a usage error.
 *
 * @example
 * ```ts
 * import { main } from "@fstrm/fstrm/cli";
 * import { encodeFrameStream } from "@fstrm/fstrm";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, encodeFrameStream(["hello"]));
 * assert.equal(await main(["stats", path]), 0);
 * await Deno.remove(path);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return run(args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
