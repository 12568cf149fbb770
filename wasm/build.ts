// Builds the WebAssembly modules with the pinned AssemblyScript compiler, and
// writes for each:
//   the frame scanner, from wasm/assembly and wasm/asconfig.json:
//     wasm/build/scanner.wasm            the module
//     src/_wasm_scanner_bytes.ts         the module's bytes as a TS module
//   the dnstap scan, from wasm/dnstap_scan.ts and its asconfig:
//     wasm/build/dnstap_scan.wasm
//     src/_dnstap_scan_wasm_bytes.ts
//   the quiet scan (`fstrm dnstap -q`), from wasm/dnstap_quiet.ts and
//   wasm/dns_valid.ts:
//     wasm/build/dnstap_quiet.wasm
//     src/_dnstap_quiet_wasm_bytes.ts
//
//   deno run -A wasm/build.ts           rebuild and write both files
//   deno run -A wasm/build.ts --check   rebuild into a temp dir; exit 1 if
//                                       either committed file differs
//
// A module's sources hash covers the compiler specifier, its asconfig and its
// sources (for the scanner, every file under wasm/assembly), so a stale generated module names the sources it
// was built from. The build is deterministic: the same sources and compiler
// give the same bytes.

const COMPILER = "npm:assemblyscript@0.28.20/asc";
const ROOT = new URL("../", import.meta.url);
const WASM_DIR = new URL("wasm/", ROOT);

/** One module to build. */
interface Target {
  /** Its asconfig, relative to wasm/. */
  config: string;
  /** Its sources relative to wasm/: files, or directories ending in "/". */
  sources: string[];
  /** The .wasm written, relative to the root. */
  wasmName: string;
  /** The generated TS module, relative to the root. */
  tsName: string;
  /** Where the generated module says it comes from. */
  from: string;
  /** Prefix of its exported constants. */
  prefix: string;
  /** What the module is, for its doc comments. */
  what: string;
}

const TARGETS: Target[] = [
  {
    config: "asconfig.json",
    sources: ["assembly/"],
    wasmName: "wasm/build/scanner.wasm",
    tsName: "src/_wasm_scanner_bytes.ts",
    from: "wasm/assembly",
    prefix: "SCANNER",
    what: "scanner",
  },
  {
    config: "dnstap_scan.asconfig.json",
    sources: [
      "dnstap_scan.ts",
      "dnstap_layout.ts",
      "dnstap_protobuf.ts",
      "dnstap_protobuf_prefix.ts",
      "dnstap_dns.ts",
      "dnstap_keys.ts",
      "dnstap_counts.ts",
      "assembly/frames.ts",
    ],
    wasmName: "wasm/build/dnstap_scan.wasm",
    tsName: "src/_dnstap_scan_wasm_bytes.ts",
    from: "wasm/dnstap_scan.ts",
    prefix: "DNSTAP_SCAN",
    what: "dnstap scan",
  },
  {
    config: "dnstap_quiet.asconfig.json",
    sources: [
      "dnstap_quiet.ts",
      "quiet_layout.ts",
      "quiet_text.ts",
      "dns_valid.ts",
      "assembly/frames.ts",
    ],
    wasmName: "wasm/build/dnstap_quiet.wasm",
    tsName: "src/_dnstap_quiet_wasm_bytes.ts",
    from: "wasm/dnstap_quiet.ts",
    prefix: "DNSTAP_QUIET",
    what: "quiet scan",
  },
];

/** The build inputs, as [path relative to wasm/, bytes], sorted by path. */
async function sources(target: Target): Promise<[string, Uint8Array][]> {
  const files: [string, Uint8Array][] = [];
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(dir, WASM_DIR))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (entry.isFile) {
        files.push([path, await Deno.readFile(new URL(path, WASM_DIR))]);
      } else throw new Error(`Cannot build: unexpected entry ${path}`);
    }
  }
  for (const source of target.sources) {
    if (source.endsWith("/")) await walk(source);
    else files.push([source, await Deno.readFile(new URL(source, WASM_DIR))]);
  }
  files.push([
    target.config,
    await Deno.readFile(new URL(target.config, WASM_DIR)),
  ]);
  return files.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

/** SHA-256 of the compiler specifier and each source's path and bytes. */
async function sourceHash(files: [string, Uint8Array][]): Promise<string> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(`${COMPILER}\0`)];
  for (const [path, bytes] of files) {
    parts.push(enc.encode(`${path}\0${bytes.length}\0`), bytes);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compiles with the pinned compiler; returns the module's bytes. */
async function compile(target: Target): Promise<Uint8Array> {
  const tmp = await Deno.makeTempDir({ prefix: "fstrm-wasm-" });
  try {
    const outFile = `${tmp}/scanner.wasm`;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      // --no-config and --no-lock: the compiler is a build tool, not a
      // dependency of the package, so it stays out of deno.json/deno.lock.
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--allow-read",
        "--allow-env",
        `--allow-write=${tmp}`,
        COMPILER,
        "--config",
        target.config,
        "--target",
        "release",
        "--outFile",
        outFile,
      ],
      cwd: WASM_DIR,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const log = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    if (code !== 0) {
      throw new Error(
        `Cannot build: the compiler failed (exit ${code})\n${log}`,
      );
    }
    if (log.trim() !== "") console.error(log.trimEnd());
    const bytes = await Deno.readFile(outFile);
    const module = new WebAssembly.Module(bytes);
    const imports = WebAssembly.Module.imports(module);
    if (imports.length !== 0) {
      throw new Error(
        `Cannot build: the module has imports: ${
          imports.map((i) => `${i.module}.${i.name}`).join(", ")
        }`,
      );
    }
    return bytes;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The generated TS module, formatted as `deno fmt` leaves it. */
function tsModule(t: Target, bytes: Uint8Array, hash: string): string {
  return `// Generated by wasm/build.ts from ${t.from} (sources sha256 ${hash}). Do not edit.

/** SHA-256 of the compiler and sources the ${t.what} was built from. */
export const ${t.prefix}_SOURCE_HASH: string =
  "${hash}";

/** The WebAssembly ${t.what} (${bytes.length} bytes). */
export const ${t.prefix}_WASM: Uint8Array<ArrayBuffer> = decode(
  "${base64(bytes)}",
);

function decode(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
`;
}

async function readOrNull(url: URL): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(url);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function equal(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`usage: deno run -A wasm/build.ts [--check]`);
    return 2;
  }
  let stale = 0;
  for (const target of TARGETS) {
    const files = await sources(target);
    const hash = await sourceHash(files);
    const wasm = await compile(target);
    const ts = new TextEncoder().encode(tsModule(target, wasm, hash));
    const wasmFile = new URL(target.wasmName, ROOT);
    const tsFile = new URL(target.tsName, ROOT);
    if (check) {
      let differs = 0;
      for (
        const [name, url, fresh] of [
          [target.wasmName, wasmFile, wasm],
          [target.tsName, tsFile, ts],
        ] as const
      ) {
        if (!equal(await readOrNull(url), fresh)) {
          console.error(`${name} differs from a fresh build`);
          differs++;
        }
      }
      if (differs === 0) {
        console.log(
          `wasm: ${target.wasmName} up to date (${wasm.length} bytes, sources ${hash})`,
        );
      }
      stale += differs;
      continue;
    }
    await Deno.mkdir(new URL("build/", WASM_DIR), { recursive: true });
    await Deno.writeFile(wasmFile, wasm);
    await Deno.writeFile(tsFile, ts);
    console.log(
      `wasm: wrote ${target.wasmName} (${wasm.length} bytes) and ${target.tsName} (sources ${hash})`,
    );
  }
  if (stale > 0) {
    console.error("Run `deno run -A wasm/build.ts` and commit the result.");
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
