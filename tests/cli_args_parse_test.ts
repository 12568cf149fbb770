// src/cli/_parse_args.ts against node:util's parseArgs (strict, positionals
// allowed): the same values, positionals and errors (name, code, message)
// on every options config the commands use, for generated and hand-written
// argv.
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { type OptionsConfig, parseStrictArgs } from "../src/cli/_parse_args.ts";
import { parseCommandArgs } from "../src/cli/_args.ts";
import { CliError } from "../src/cli/_cli_error.ts";
import { OPTIONS as CAPTURE } from "../src/cli/capture.ts";
import { OPTIONS as DNSTAP } from "../src/cli/dnstap.ts";
import { OPTIONS as DUMP } from "../src/cli/dump.ts";
import { OPTIONS as REPLAY } from "../src/cli/replay.ts";
import { OPTIONS as STATS } from "../src/cli/stats.ts";
import { OPTIONS as TOP } from "../src/cli/top.ts";

/**
 * A config with one-letter long names, a multiple boolean, an "=" in a name
 * and an own `__proto__` option (node accepts it and never stores it).
 */
const ODD: OptionsConfig = {
  m: { type: "string", multiple: true },
  q: { type: "boolean", short: "z" },
  verbose: { type: "boolean", short: "v", multiple: true },
  "a=b": { type: "string" },
  x: { type: "boolean" },
  ["__proto__"]: { type: "string", short: "P" },
};

const CONFIGS: [string, OptionsConfig][] = [
  ["capture", CAPTURE],
  ["dnstap", DNSTAP],
  ["dump", DUMP],
  ["replay", REPLAY],
  ["stats", STATS],
  ["top", TOP],
  ["odd", ODD],
  ["empty", {}],
];

type Outcome =
  | {
    ok: true;
    values: [string, unknown][];
    positionals: string[];
    proto: unknown;
  }
  | { ok: false; name: string; code: unknown; message: string };

function outcome(
  run: () => { values: object; positionals: string[] },
): Outcome {
  try {
    const { values, positionals } = run();
    return {
      ok: true,
      values: Object.entries(values),
      positionals,
      proto: Object.getPrototypeOf(values),
    };
  } catch (error) {
    const e = error as Error & { code?: unknown };
    return { ok: false, name: e.name, code: e.code, message: e.message };
  }
}

function node(args: string[], options: OptionsConfig): Outcome {
  return outcome(() =>
    parseArgs({
      args,
      options: options as NonNullable<
        Parameters<typeof parseArgs>[0]
      >["options"],
      strict: true,
      allowPositionals: true,
    })
  );
}

function ours(args: string[], options: OptionsConfig): Outcome {
  return outcome(() => parseStrictArgs(args, options));
}

function same(args: string[], options: OptionsConfig, label: string): void {
  const expected = node(args, options);
  assert.deepStrictEqual(
    ours(args, options),
    expected,
    `${label} ${JSON.stringify(args)}`,
  );
}

/** Pieces of argv built from a config's names, and some that fit none. */
function argArbitrary(options: OptionsConfig): fc.Arbitrary<string> {
  const longs = [
    ...Object.keys(options),
    "bogus",
    "",
    "=",
    "__proto__",
    "constructor",
  ];
  const shorts = [
    ...Object.values(options).flatMap((o) => (o.short ? [o.short] : [])),
    "Z",
    "=",
    "-",
    "\u{1F600}",
  ];
  const value = fc.oneof(
    fc.constantFrom("", "-", "--", "-x", "--x", "a", "a=b", "=", ". x", "-r"),
    fc.string({ maxLength: 4 }),
  );
  const long = fc.constantFrom(...longs);
  const short = fc.constantFrom(...shorts);
  return fc.oneof(
    fc.constantFrom("--", "-", "", "x", "---", "--=", "--=x=y", "-=", "--a. b"),
    long.map((n) => `--${n}`),
    fc.tuple(long, value).map(([n, v]) => `--${n}=${v}`),
    short.map((s) => `-${s}`),
    fc.tuple(short, value).map(([s, v]) => `-${s}${v}`),
    fc.array(short, { minLength: 2, maxLength: 4 }).map((s) =>
      `-${s.join("")}`
    ),
    fc.tuple(fc.array(short, { minLength: 1, maxLength: 3 }), value).map((
      [s, v],
    ) => `-${s.join("")}${v}`),
    value,
    fc.string({ maxLength: 6 }),
  );
}

Deno.test("parseStrictArgs equals node:util parseArgs on generated argv, every config", () => {
  for (const [label, options] of CONFIGS) {
    fc.assert(
      fc.property(fc.array(argArbitrary(options), { maxLength: 8 }), (args) => {
        same(args, options, label);
      }),
      { numRuns: 3000 },
    );
  }
});

Deno.test("parseStrictArgs equals node:util parseArgs on hand-written edge cases", () => {
  const cases: string[][] = [
    [],
    ["-r", "file"],
    ["-rfile"],
    ["-r=file"],
    ["--read", "file"],
    ["--read=file"],
    ["--read="],
    ["-r", "-"],
    ["-r", "-x"],
    ["-r", "--"],
    ["--read", "-x"],
    ["--read", "--"],
    ["--read=-x"],
    ["-r-x"],
    ["-r"],
    ["--read"],
    ["-q", "-r", "f"],
    ["-qr", "f"],
    ["-qrf"],
    ["-qr"],
    ["-rq"],
    ["-qy"],
    ["-qyj"],
    ["-qZ"],
    ["-q=1"],
    ["--quiet=1"],
    ["--quiet="],
    ["-h"],
    ["--help"],
    ["--foo"],
    ["--foo=bar"],
    ["-x"],
    ["-"],
    ["--"],
    ["--", "-r", "--read"],
    ["a", "--", "--"],
    ["-", "-r", "f", "-"],
    ["--=x"],
    ["--=x=y"],
    ["---"],
    ["---x"],
    ["--__proto__"],
    ["--__proto__=1"],
    ["--constructor"],
    ["--toString"],
    ["-t", "a", "-t", "b", "--type=c"],
    ["-d", "-dd"],
    ["-dd", "-t", "x"],
    ["--debug", "--debug"],
    ["--allow", "10.0.0.0/8", "--allow=::1"],
    ["--read", "a", "--read", "b"],
    ["-r", "a", "-r", "b"],
    ["--json", "--json"],
    ["--limit", "5", "--limit", "6"],
    ["--max-frame-length", "-1"],
    ["--engine=ts", "x", "y"],
    ["--unknown", "-r"],
    ["-r", "--unknown"],
    ["--bogus", "--limit"],
    ["--limit", "--bogus"],
    ["-\u{1F600}"],
    ["-\u{1F600}x"],
    ["--a. b"],
    ["--read", ""],
    ["-r", ""],
    [""],
  ];
  for (const [label, options] of CONFIGS) {
    for (const args of cases) same(args, options, label);
  }
});

Deno.test("parseStrictArgs: the results node gives, spelled out", () => {
  assert.deepStrictEqual(ours(["-qrf", "-", "--", "-q"], DNSTAP), {
    ok: true,
    values: [["quiet", true], ["read", ["f"]]],
    positionals: ["-", "-q"],
    proto: null,
  });
  assert.deepStrictEqual(ours(["-r", "-"], TOP), {
    ok: true,
    values: [["read", "-"]],
    positionals: [],
    proto: null,
  });
  const missing = ours(["--read"], TOP);
  assert.equal(missing.ok, false);
  assert.equal(
    !missing.ok && missing.message,
    "Option '-r, --read <value>' argument missing",
  );
  const ambiguous = ours(["-r", "-x"], TOP);
  assert.equal(
    !ambiguous.ok && ambiguous.code,
    "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
  );
});

Deno.test("parseCommandArgs keeps the first sentence of the error", () => {
  const usage = (args: string[]): string => {
    try {
      parseCommandArgs("top", args, TOP);
    } catch (error) {
      assert.ok(error instanceof CliError);
      return error.message;
    }
    throw new Error("no error");
  };
  assert.equal(
    usage(["--foo"]),
    "Unknown option '--foo' (see 'fstrm top --help')",
  );
  assert.equal(
    usage(["-r"]),
    "Option '-r, --read <value>' argument missing (see 'fstrm top --help')",
  );
  assert.equal(
    usage(["--json=1"]),
    "Option '--json' does not take an argument (see 'fstrm top --help')",
  );
  assert.equal(
    usage(["-r", "-x"]),
    "Option '-r' argument is ambiguous (see 'fstrm top --help')",
  );
});

Deno.test("every command's options config is valid for node:util (which checks configs; ours does not), no short letter twice", () => {
  for (const [label, options] of CONFIGS.slice(0, 6)) {
    // node:util throws on a config whose `short` is not one character or
    // whose `type` is neither "string" nor "boolean".
    assert.doesNotThrow(
      () =>
        parseArgs({ args: [], options, strict: true, allowPositionals: true }),
      label,
    );
    const shorts = Object.values(options).flatMap((o) =>
      o.short === undefined ? [] : [o.short]
    );
    assert.equal(new Set(shorts).size, shorts.length, `${label}: ${shorts}`);
  }
});
