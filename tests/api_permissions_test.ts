// Least privilege (issue 15) for the APIs: each API row of
// tests/_permissions.ts is a tiny program using that module, run with
// exactly the row's flags (it must work) and with each flag, path or host
// taken away (it must fail with Deno's permission error); and each module's
// doc must state those flags (its "Permissions" paragraph).
import assert from "node:assert/strict";
import { API_PERMISSIONS } from "./_permissions.ts";
import {
  type Bindings,
  type Child,
  dec,
  INPUT_BYTES,
  permissionTests,
  ROOT,
  type Scenario,
  send,
  SENT,
  spawnWith,
} from "./_permission_runs.ts";
import { delay } from "./_support.ts";
import { FrameReceiver, type ListenTarget } from "../src/frame_receiver.ts";
import type { ConnectTarget } from "../src/frame_writer.ts";

// ---------------------------------------------------------------------------
// The APIs: a tiny program each, run with exactly the row's flags

const SRC = (path: string) => JSON.stringify(`${ROOT}/${path}`);

function spawnProgram(
  flags: string[],
  path: string,
  args: string[],
  stdin: boolean,
): Child {
  return spawnWith(
    ["run", ...flags, path, ...args],
    stdin ? INPUT_BYTES : undefined,
  );
}

/** Runs a program to its end; ok when its stdout is `want`. */
function api(
  code: string,
  want: string,
  options: { args?: (b: Bindings) => string[]; stdin?: boolean } = {},
): Scenario {
  return async (flags, b) => {
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(
      flags,
      b.PROG!,
      options.args?.(b) ?? [],
      options.stdin ?? false,
    );
    const { code: exit, stdout, stderr } = await run.done;
    return {
      code: exit,
      stderr,
      ok: exit === 0 && dec.decode(stdout) === want,
    };
  };
}

/** Starts a program that listens; sends SENT to it; ok when it got them. */
function apiServer(
  code: string,
  target: (b: Bindings) => ConnectTarget,
): Scenario {
  return async (flags, b) => {
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(flags, b.PROG!, [b.SOCK!, b.PORT!], false);
    let exited = false;
    void run.done.then(() => exited = true);
    for (
      let i = 0;
      i < 3000 && !exited && !run.stderr().includes("listening");
      i++
    ) {
      await delay(5);
    }
    if (!exited) await send(target(b)).catch(() => {});
    const { code: exit, stdout, stderr } = await run.done;
    return {
      code: exit,
      stderr,
      ok: exit === 0 && dec.decode(stdout) === `${SENT.length}\n`,
    };
  };
}

/** Runs a writer program against a FrameReceiver here; ok when SENT came. */
function apiClient(
  code: string,
  target: (b: Bindings) => ListenTarget,
): Scenario {
  return async (flags, b) => {
    let frames = 0;
    await using _receiver = await FrameReceiver.listen(target(b), {
      onData: () => void frames++,
    });
    Deno.writeTextFileSync(b.PROG!, code);
    const run = spawnProgram(flags, b.PROG!, [b.SOCK!, b.PORT!], true);
    const { code: exit, stderr } = await run.done;
    for (let i = 0; i < 200 && frames < SENT.length && exit === 0; i++) {
      await delay(10);
    }
    return { code: exit, stderr, ok: frames === SENT.length };
  };
}

const RECEIVER = (target: string) => `
import { FrameReceiver } from ${SRC("src/frame_receiver.ts")};
const [sock, port] = Deno.args;
const receiver = await FrameReceiver.listen(${target});
console.error("listening");
let n = 0;
for await (const _ of receiver) if (++n === ${SENT.length}) break;
await receiver.close();
console.log(n);
`;

const WRITER = (target: string) => `
import { FrameWriter } from ${SRC("src/frame_writer.ts")};
import { decodeFrames } from ${SRC("mod.ts")};
const [sock, port] = Deno.args;
const bytes = await new Response(Deno.stdin.readable).bytes();
const writer = await FrameWriter.connect(${target}, {
  contentTypes: ["protobuf:dnstap.Dnstap"],
});
let n = 0;
for (const f of decodeFrames(bytes)) {
  if (f.kind === "data" && n++ < ${SENT.length}) await writer.write(f.data);
}
await writer.close();
`;

const API_SCENARIOS: Record<string, Scenario> = {
  "@fstrm/fstrm, /dnstap, /dns, /dnstap-scan": api(
    `
import { decodeFrames } from ${SRC("mod.ts")};
import { decodeDnstap, formatDnstapQuiet } from ${SRC("src/dnstap.ts")};
import { parseDnsMessage } from ${SRC("src/dns.ts")};
import { forEachDnstapBatch } from ${SRC("src/dnstap_scan.ts")};
const bytes = await new Response(Deno.stdin.readable).bytes();
let parsed = 0, lines = 0, scanned = 0;
for (const f of decodeFrames(bytes)) {
  if (f.kind !== "data") continue;
  const d = decodeDnstap(f.data);
  const m = d.message?.queryMessage ?? d.message?.responseMessage;
  if (m !== undefined) parsed += parseDnsMessage(m).questions.length;
  if (formatDnstapQuiet(d) !== null) lines++;
}
const summary = await forEachDnstapBatch(
  ReadableStream.from([bytes]),
  (_columns, count) => void (scanned += count),
  { engine: "wasm" },
);
console.log(parsed, lines, scanned, summary.engine);
`,
    "489 489 489 wasm\n",
    { stdin: true },
  ),
  "openFrameReader(FILE)": api(
    `
import { openFrameReader } from ${SRC("src/file.ts")};
await using reader = await openFrameReader(Deno.args[0]!);
console.log((await reader.forEachFrame(() => {})).frames);
`,
    "489\n",
    { args: (b) => [b.FILE!] },
  ),
  'FrameReceiver.listen({ transport: "unix", path: SOCK })': apiServer(
    RECEIVER('{ transport: "unix", path: sock! }'),
    (b) => ({ transport: "unix", path: b.SOCK! }),
  ),
  'FrameReceiver.listen({ transport: "tcp", port: PORT })': apiServer(
    RECEIVER('{ transport: "tcp", port: Number(port) }'),
    (b) => ({ transport: "tcp", hostname: "127.0.0.1", port: Number(b.PORT) }),
  ),
  'FrameWriter.connect({ transport: "unix", path: SOCK })': apiClient(
    WRITER('{ transport: "unix", path: sock! }'),
    (b) => ({ transport: "unix", path: b.SOCK! }),
  ),
  'FrameWriter.connect({ transport: "tcp", hostname: HOST, port: PORT })':
    apiClient(
      WRITER('{ transport: "tcp", hostname: "127.0.0.1", port: Number(port) }'),
      (b) => ({
        transport: "tcp",
        hostname: "127.0.0.1",
        port: Number(b.PORT),
      }),
    ),
};

permissionTests(API_PERMISSIONS, API_SCENARIOS);

Deno.test("each API's module doc states the permissions of tests/_permissions.ts", async () => {
  for (const row of API_PERMISSIONS) {
    const want = row.flags.length === 0
      ? "Permissions: none"
      : `\`${row.flags.join(" ")}\``;
    for (const module of row.modules) {
      const text = await Deno.readTextFile(`${ROOT}/${module}`);
      const doc = text.split("@module")[0]!.replace(/\n \* ?/g, " ");
      assert(
        doc.includes("Permissions"),
        `${module}: no Permissions paragraph`,
      );
      assert(doc.includes(want), `${module}: does not say ${want}`);
    }
  }
});

Deno.test("FrameWriter.connect rejects a connection the permissions refuse at once, with no retry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fstrm-perm-" });
  try {
    const program = `${dir}/program.ts`;
    // Without the permission (no flags), within a minute's connectTimeout:
    // a retry would go to onError first.
    Deno.writeTextFileSync(
      program,
      `
import { FrameWriter } from ${SRC("src/frame_writer.ts")};
let retried = 0;
try {
  await FrameWriter.connect({ transport: "tcp", port: 9 }, {
    connectTimeout: 60_000,
    onError: () => void retried++,
  });
} catch (error) {
  console.log((error as Error).name, retried);
}
`,
    );
    const run = await spawnWith(["run", program]).done;
    assert.equal(dec.decode(run.stdout), "NotCapable 0\n", run.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
