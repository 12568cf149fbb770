// No import cycle among the repository's modules: the graph `deno info`
// reports (static, dynamic and type-only imports alike), walked from mod.ts,
// cli.ts, demo.ts and every module under src/, must have no cycle.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Every `.ts` file under `dir` (a directory URL), recursively. */
async function tsFiles(dir: URL): Promise<URL[]> {
  const out: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) out.push(...await tsFiles(url));
    else if (entry.name.endsWith(".ts")) out.push(url);
  }
  return out;
}

/**
 * The import graph of `roots`, local modules only: each module's specifier
 * and the local modules it imports, in any way.
 */
async function importGraph(
  roots: URL[],
  config?: URL,
): Promise<Map<string, string[]>> {
  // One `deno info` run: a temporary module that imports every root.
  const dir = await Deno.makeTempDir();
  try {
    const entry = `${dir}/roots.ts`;
    await Deno.writeTextFile(
      entry,
      roots.map((url) => `import "${url.href}";\n`).join(""),
    );
    const args = ["info", "--json"];
    if (config !== undefined) args.push("--config", config.pathname);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [...args, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const info = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: {
        specifier: string;
        dependencies?: {
          code?: { specifier: string };
          type?: { specifier: string };
        }[];
      }[];
    };
    const entryUrl = new URL(`file://${entry}`).href;
    const graph = new Map<string, string[]>();
    for (const m of info.modules) {
      if (!m.specifier.startsWith("file:") || m.specifier === entryUrl) {
        continue;
      }
      const to = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          if (s !== undefined && s.startsWith("file:")) to.add(s);
        }
      }
      graph.set(m.specifier, [...to]);
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A cycle in `graph` (its modules in order, the first again at the end), or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const s = state.get(next);
      if (s === "open") return [...path.slice(path.indexOf(next)), next];
      if (s === undefined) {
        const found = visit(next);
        if (found !== null) return found;
      }
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found !== null) return found;
  }
  return null;
}

Deno.test("import graph: no cycle among mod.ts, cli.ts, demo.ts and src/", async () => {
  const roots = [
    new URL("mod.ts", ROOT),
    new URL("cli.ts", ROOT),
    new URL("demo.ts", ROOT),
    ...await tsFiles(new URL("src/", ROOT)),
  ];
  const graph = await importGraph(roots, new URL("deno.json", ROOT));
  // The walk saw the CLI's modules, the dynamically imported commands too.
  for (const name of ["main.ts", "capture.ts", "_write_all.ts"]) {
    assert.ok(graph.has(new URL(`src/cli/${name}`, ROOT).href), name);
  }
  const cycle = findCycle(graph);
  const short = (s: string): string => s.replace(ROOT.href, "");
  assert.equal(
    cycle,
    null,
    `import cycle: ${cycle?.map(short).join(" -> ")}`,
  );
});

Deno.test("import graph: a cycle is found, through a dynamic import too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.ts`,
      'export const a = 1;\nexport const load = () => import("./b.ts");\n',
    );
    await Deno.writeTextFile(
      `${dir}/b.ts`,
      'import { a } from "./c.ts";\nexport const b = a;\n',
    );
    await Deno.writeTextFile(
      `${dir}/c.ts`,
      'export { a } from "./a.ts";\n',
    );
    const a = new URL(`file://${dir}/a.ts`);
    const graph = await importGraph([a]);
    const cycle = findCycle(graph)?.map((s) => s.slice(s.lastIndexOf("/") + 1));
    assert.deepEqual(cycle, ["a.ts", "b.ts", "c.ts", "a.ts"]);
    // Without the dynamic import, no cycle.
    await Deno.writeTextFile(`${dir}/a.ts`, "export const a = 1;\n");
    assert.equal(findCycle(await importGraph([a])), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
