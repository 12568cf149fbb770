// The permissions of each `fstrm` command and of each API, as data: the
// one source of the table in docs/cli.md ("## Permissions") and of the
// module docs' "Permissions" paragraphs. tests/cli_permissions_test.ts and
// tests/api_permissions_test.ts run every row with exactly these flags (it
// must work) and with each flag, and each path or host of a flag, taken away
// (it must fail with Deno's permission error), and check that the docs show
// every row. `deno run tests/_permissions.ts` prints the tables (the CLI's
// as docs/cli.md has it; the APIs' for the README).

/** A command line and the exact flags it needs. */
export interface PermissionRow {
  /**
   * The command as the docs show it; placeholders in capitals (FILE, OUT,
   * SOCK, DIR, HOST, PORT, NAME, CERT, KEY, CA, SRC, ZONE, USER, GROUP).
   */
  readonly command: string;
  /** The flags, exactly, with the same placeholders; empty: none. */
  readonly flags: readonly string[];
  /** What the docs say beside them. */
  readonly note: string;
  /**
   * The flags, or paths of a flag, without which the command still works
   * in a documented fallback: taking one of these away must show that
   * fallback (the test checks it) instead of failing.
   */
  readonly fallback?: readonly string[];
}

const SOCK = [
  "--allow-read=SOCK",
  "--allow-write=SOCK",
  "--allow-net=unix:SOCK",
];

/** The `fstrm` commands, each form with the flags it needs. */
export const CLI_PERMISSIONS: readonly PermissionRow[] = [
  {
    command: "fstrm --help",
    flags: [],
    note: "also `fstrm COMMAND --help`",
  },
  {
    command: "fstrm stats FILE",
    flags: ["--allow-read=FILE"],
    note: "",
  },
  {
    command: "fstrm stats -",
    flags: [],
    note: "standard input and output need no permission",
  },
  {
    command: "fstrm dump FILE",
    flags: ["--allow-read=FILE"],
    note: "",
  },
  {
    command: "fstrm dump FILE OUT",
    flags: ["--allow-read=FILE", "--allow-write=OUT"],
    note:
      "an OUT that is FILE, or FILE under another name (a link), is refused; an OUT that exists already is replaced only with `--allow-read=FILE,OUT` (to check that it is not FILE), else refused and left as it is",
  },
  {
    command: "fstrm dump - -",
    flags: [],
    note: "",
  },
  {
    command: "fstrm top -r FILE",
    flags: ["--allow-read=FILE"],
    note: "",
  },
  {
    command: "fstrm top -r -",
    flags: [],
    note: "",
  },
  {
    command: "fstrm top -u SOCK",
    flags: SOCK,
    note: "live, as `fstrm dnstap -u SOCK`",
  },
  {
    command: "fstrm top -l HOST:PORT --allow NET",
    flags: ["--allow-net=HOST:PORT"],
    note: "live; the allow-list needs nothing more",
  },
  {
    command: "fstrm dnstap -r FILE",
    flags: ["--allow-read=FILE"],
    note:
      "also `-y`, `-j`, `--json`; `-q` (the default) prints local time in the JavaScript engine's zone (next row for Go's)",
  },
  {
    command: "fstrm dnstap -r FILE -q",
    flags: ["--allow-read=FILE,ZONE", "--allow-env=TZ"],
    note:
      "reads the zone as the Go tool does: ZONE is /etc/localtime with TZ unset, TZ's file for `TZ=/path`, /usr/share/zoneinfo for a name; without these flags, the JavaScript engine's zone (the same since 1970, but for `TZ=/path`: [dnstap.md](dnstap.md#the-quiet-formats-clock))",
    fallback: ["ZONE", "--allow-env=TZ"],
  },
  {
    command: "fstrm dnstap -r FILE -y --threads N",
    flags: ["--allow-read=FILE,SRC"],
    note:
      "SRC: the `src` directory, when run from a checkout (worker threads load their modules under the read permission); without it, one thread and a warning",
    fallback: ["SRC"],
  },
  {
    command: "fstrm dnstap -r FILE -w OUT",
    flags: ["--allow-read=FILE", "--allow-write=OUT"],
    note:
      "an OUT that is an input, or an input under another name (a link), is refused; an OUT that exists already is replaced (or appended to, `-a`) only with `--allow-read=FILE,OUT` (to check that it is no input), else refused and left as it is",
  },
  {
    command: "fstrm dnstap -r - -w -",
    flags: [],
    note: "",
  },
  {
    command: "fstrm dnstap -u SOCK",
    flags: SOCK,
    note:
      "Deno asks net access to `unix:PATH` for a Unix socket, besides read and write on it",
  },
  {
    command: "fstrm dnstap -l HOST:PORT",
    flags: ["--allow-net=HOST:PORT"],
    note: "`--allow-net=HOST` with port 0; HOST is 0.0.0.0 for `-l :PORT`",
  },
  {
    command: "fstrm dnstap -l HOST:PORT --allow NET",
    flags: ["--allow-net=HOST:PORT"],
    note: "the allow-list needs nothing more; nor `--max-conns-per-source`",
  },
  {
    command: "fstrm capture -u SOCK -w OUT",
    flags: [
      "--allow-read=SOCK",
      "--allow-write=SOCK,OUT",
      "--allow-net=unix:SOCK",
      "--allow-ffi",
    ],
    note:
      "`--allow-ffi`: the SIGUSR1 guard (Landlock through libc; Deno cannot scope it)",
  },
  {
    command: "fstrm capture -u SOCK -w - --unsafe-sigusr1",
    flags: SOCK,
    note: "no guard, so no `--allow-ffi`: rotate with SIGUSR2 only",
  },
  {
    command: "fstrm capture -u SOCK -w DIR/F-%s.fstrm --gmtime -s SECONDS",
    flags: [
      "--allow-read=SOCK",
      "--allow-write=SOCK,DIR",
      "--allow-net=unix:SOCK",
      "--allow-ffi",
    ],
    note:
      "rotation (also `--max-size`, SIGUSR1, SIGUSR2) writes a temporary file in DIR and links it",
  },
  {
    command:
      "fstrm capture -u SOCK -w OUT --unix-owner USER --unix-group GROUP",
    flags: [
      "--allow-read=SOCK,/etc/passwd,/etc/group",
      "--allow-write=SOCK,OUT",
      "--allow-net=unix:SOCK",
      "--allow-ffi",
    ],
    note:
      "names are looked up in /etc/passwd and /etc/group; numbers need neither",
  },
  {
    command: "fstrm capture -a HOST -p PORT -w OUT",
    flags: ["--allow-write=OUT", "--allow-net=HOST:PORT", "--allow-ffi"],
    note: "",
  },
  {
    command: "fstrm capture -a HOST -p PORT --allow NET -w OUT",
    flags: ["--allow-write=OUT", "--allow-net=HOST:PORT", "--allow-ffi"],
    note: "the allow-list needs nothing more; nor `--max-conns-per-source`",
  },
  {
    command: "fstrm capture -a HOST -p 0 -w OUT",
    flags: ["--allow-write=OUT", "--allow-net=HOST", "--allow-ffi"],
    note: "any free port: Deno cannot scope it",
  },
  {
    command:
      "fstrm capture -a HOST -p PORT --tls-cert CERT --tls-key KEY -w OUT",
    flags: [
      "--allow-read=CERT,KEY",
      "--allow-write=OUT",
      "--allow-net=HOST:PORT",
      "--allow-ffi",
    ],
    note: "",
  },
  {
    command: "fstrm replay -t TYPE -u SOCK -r FILE",
    flags: [
      "--allow-read=SOCK,FILE",
      "--allow-write=SOCK",
      "--allow-net=unix:SOCK",
    ],
    note: "",
  },
  {
    command: "fstrm replay -t TYPE -u SOCK -r -",
    flags: SOCK,
    note: "",
  },
  {
    command: "fstrm replay -t TYPE -a HOST -p PORT -r FILE",
    flags: ["--allow-read=FILE", "--allow-net=HOST:PORT"],
    note: "",
  },
  {
    command: "fstrm replay -t TYPE -a HOST -p PORT --tls --tls-ca CA -r FILE",
    flags: ["--allow-read=FILE,CA", "--allow-net=HOST:PORT"],
    note: "",
  },
  {
    command:
      "fstrm replay -t TYPE -p PORT --tls --tls-ca CA --tls-hostname NAME -r FILE",
    flags: ["--allow-read=FILE,CA", "--allow-net=NAME:PORT"],
    note: "the name connected to, as given",
  },
  {
    command:
      "fstrm replay -t TYPE -a HOST -p PORT --tls --tls-ca CA --tls-cert CERT --tls-key KEY -r FILE",
    flags: ["--allow-read=FILE,CA,CERT,KEY", "--allow-net=HOST:PORT"],
    note: "a client certificate, for a collector that asks for one",
  },
];

/** An API and the flags it needs; `modules` state them in their docs. */
export interface ApiPermissionRow extends PermissionRow {
  /** The modules (paths from the root) whose module doc gives the flags. */
  readonly modules: readonly string[];
}

/** The public modules, each API with the flags it needs. */
export const API_PERMISSIONS: readonly ApiPermissionRow[] = [
  {
    command: "@fstrm/fstrm, /dnstap, /dns, /dnstap-scan",
    flags: [],
    note:
      "on bytes and streams in memory: encoders, decoders, sessions, `FrameReader` on any source, the WebAssembly engine",
    modules: ["mod.ts", "src/dnstap.ts", "src/dns.ts", "src/dnstap_scan.ts"],
  },
  {
    command: "openFrameReader(FILE)",
    flags: ["--allow-read=FILE"],
    note: "",
    modules: ["src/file.ts"],
  },
  {
    command: 'FrameReceiver.listen({ transport: "unix", path: SOCK })',
    flags: SOCK,
    note: "",
    modules: ["src/frame_receiver.ts"],
  },
  {
    command: 'FrameReceiver.listen({ transport: "tcp", port: PORT })',
    flags: ["--allow-net=127.0.0.1:PORT"],
    note:
      '`"tls"` too; `--allow-net=HOST:PORT` with a `hostname`, `--allow-net=HOST` with port 0',
    modules: ["src/frame_receiver.ts"],
  },
  {
    command: 'FrameWriter.connect({ transport: "unix", path: SOCK })',
    flags: SOCK,
    note: "",
    modules: ["src/frame_writer.ts"],
  },
  {
    command:
      'FrameWriter.connect({ transport: "tcp", hostname: HOST, port: PORT })',
    flags: ["--allow-net=HOST:PORT"],
    note: '`"tls"` too; HOST as connected to (not `serverName`)',
    modules: ["src/frame_writer.ts"],
  },
];

/** A row as a line of the Markdown table. */
export function markdownRow(row: PermissionRow): string {
  const flags = row.flags.length === 0 ? "none" : `\`${row.flags.join(" ")}\``;
  return `| \`${row.command}\` | ${flags} | ${row.note} |`;
}

/** The cells of a Markdown table line, trimmed. */
export function cells(line: string): string[] {
  return line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
}

if (import.meta.main) {
  console.log("| command | flags | note |\n| --- | --- | --- |");
  for (const row of CLI_PERMISSIONS) console.log(markdownRow(row));
  console.log("\n| API | flags | note |\n| --- | --- | --- |");
  for (const row of API_PERMISSIONS) console.log(markdownRow(row));
}
