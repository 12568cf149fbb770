// Shared by the CLI tests: where the command is, and how it is run.

/** The `fstrm` command's entry point. */
export const CLI: string = new URL("../cli.ts", import.meta.url).pathname;

/** The permissions of `deno task fstrm`. */
export const PERMISSIONS: string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
];
