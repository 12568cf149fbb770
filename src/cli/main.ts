import { CliError } from "./_cli_error.ts";
import { writeAll } from "./_write_all.ts";

/** A command: its arguments in, an exit code out. */
export type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<Command> }
> = {
  capture: {
    summary: "receive Frame Streams on a socket and write them to files",
    load: async () => (await import("./capture.ts")).capture,
  },
  dnstap: {
    summary: "print dnstap records as the Go dnstap tool does, filtered",
    load: async () => (await import("./dnstap.ts")).dnstap,
  },
  dump: {
    summary: "print a Frame Streams file's frames, as fstrm_dump does",
    load: async () => (await import("./dump.ts")).dump,
  },
  replay: {
    summary: "send the frames of files to a socket, as fstrm_replay does",
    load: async () => (await import("./replay.ts")).replay,
  },
  stats: {
    summary: "summarise Frame Streams files: frames, sizes, truncation",
    load: async () => (await import("./stats.ts")).stats,
  },
  top: {
    summary: "count a dnstap file: types, rcodes, top names and clients",
    load: async () => (await import("./top.ts")).top,
  },
};

function usage(): string {
  const lines = [
    "Usage: fstrm <command> [options]",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) =>
      `  ${name.padEnd(9)}${c.summary}`
    ),
    "",
    "Run 'fstrm <command> --help' for a command's options.",
  ];
  return lines.join("\n") + "\n";
}

/**
 * Runs the `fstrm` command with `args` (without the program name) and
 * returns its exit code. Errors are reported as one line on stderr.
 */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (
    name === undefined || name === "-h" || name === "--help" || name === "help"
  ) {
    await writeAll(name === undefined ? Deno.stderr : Deno.stdout, usage());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    await writeAll(
      Deno.stderr,
      `fstrm: unknown command '${name}' (commands: ${
        Object.keys(COMMANDS).join(", ")
      })\n`,
    );
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await writeAll(Deno.stderr, `fstrm ${name}: ${message}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
