/**
 * The fuzzer: random and mutated Frame Streams through FrameDecoder (both
 * engines, next() and next(onData)), FrameReader (both engines, small
 * windows), the handshake state machines and the two sessions, and random
 * and mutated dnstap and DNS messages through their decoders and text
 * forms, held to each other, to reference models and to the documented
 * invariants (one module per target, fuzz/_check_<target>.ts, registered in
 * _targets.ts). A
 * divergence, a crash, a hang or an allocation past the bounds is saved as
 * a reproducer in the corpus directory (tests/corpus/<kind>-<hash>.json),
 * which tests/corpus_test.ts replays as regression tests, and the run exits
 * with status 1.
 *
 * ```sh
 * deno run --allow-read --allow-write=tests/corpus fuzz/fuzz.ts \
 *   [--target NAME|all] [--seed N] \
 *   [--duration SECONDS | --iterations N] [--corpus DIR] \
 *   [--case-timeout MS] [--rss-limit MIB] [--batch N] [--max-failures N]
 * deno run --allow-read fuzz/fuzz.ts --replay tests/corpus/some-case.json
 * ```
 *
 * The targets are decoder, reader, handshake, writer-session,
 * reader-session, dnstap and dns-message (`--help` lists them).
 * `--duration` (default 60) is split evenly between the targets of `all`;
 * `--iterations` runs that many cases per target. The seed (random unless
 * given) is printed: with `--iterations`, the same seed runs the same cases.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  caseHash,
  type CorpusFile,
  type FailureKind,
  type FuzzCase,
  parseCorpusFile,
  signature,
} from "./_case.ts";
import { type Bounds, DEFAULT_BOUNDS } from "./_check.ts";
import { replay } from "./_replay.ts";
import {
  BEAT_BATCH,
  BEAT_CASES,
  BEAT_INDEX,
  BEAT_PHASE,
  BEAT_TICK,
  BEAT_WORDS,
  PHASE_CASE,
  PHASE_IDLE,
  regenerate,
  type RunRequest,
  type WorkerMessage,
} from "./_run.ts";
import { TARGET_NAMES, TARGETS } from "./_targets.ts";

const USAGE = `Usage: fuzz.ts [options]
  --target T          ${TARGET_NAMES.join(", ")} or all (default all)
  --seed N            the seed (default: random, printed)
  --duration S        seconds to run, split between the targets (default 60)
  --iterations N      cases per target, instead of a duration
  --corpus DIR        where reproducers go (default tests/corpus)
  --case-timeout MS   time bound of one case (default ${DEFAULT_BOUNDS.caseTimeoutMs})
  --rss-limit MIB     resident memory growth bound of one case (default ${
  DEFAULT_BOUNDS.rssLimit >> 20
})
  --batch N           cases per fast-check run (default 100)
  --max-failures N    stop a target after N failures (default 10)
  --replay FILE...    replay corpus files instead of fuzzing
  --help

Targets:
${TARGETS.map((t) => `  ${t.name.padEnd(20)}${t.about}`).join("\n")}`;

interface Settings {
  targets: string[];
  seed: number;
  iterations: number | null;
  seconds: number;
  corpus: string;
  bounds: Bounds;
  batchSize: number;
  maxFailures: number;
}

/** What one target's run gave. */
interface TargetResult {
  target: string;
  cases: number;
  ms: number;
  failures: number;
  saved: string[];
}

function int(
  value: string | undefined,
  name: string,
  min: number,
): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new TypeError(
      `--${name} must be an integer from ${min}, got ${value}`,
    );
  }
  return n;
}

function readSettings(
  values: Record<string, string | boolean | string[] | undefined>,
): Settings {
  const str = (k: string) => values[k] as string | undefined;
  const target = str("target") ?? "all";
  if (target !== "all" && !TARGET_NAMES.includes(target)) {
    throw new TypeError(
      `--target must be ${TARGET_NAMES.join(", ")} or all, got ${target}`,
    );
  }
  const targets = target === "all" ? [...TARGET_NAMES] : [target];
  const iterations = int(str("iterations"), "iterations", 1);
  const duration = values.duration === undefined
    ? null
    : Number(values.duration);
  if (duration !== null && !(duration > 0)) {
    throw new TypeError(
      `--duration must be a positive number of seconds, got ${values.duration}`,
    );
  }
  if (iterations !== null && duration !== null) {
    throw new TypeError("give --iterations or --duration, not both");
  }
  const seed = int(str("seed"), "seed", 0) ??
    crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
  return {
    targets,
    seed,
    iterations,
    seconds: (duration ?? 60) / (iterations === null ? targets.length : 1),
    corpus: str("corpus") ?? "tests/corpus",
    bounds: {
      caseTimeoutMs: int(str("case-timeout"), "case-timeout", 1) ??
        DEFAULT_BOUNDS.caseTimeoutMs,
      rssLimit: (int(str("rss-limit"), "rss-limit", 1) ??
        DEFAULT_BOUNDS.rssLimit / 2 ** 20) *
        2 ** 20,
    },
    batchSize: int(str("batch"), "batch", 1) ?? 100,
    maxFailures: int(str("max-failures"), "max-failures", 1) ?? 10,
  };
}

/** Saves failures in the corpus, one file per distinct failure. */
class Corpus {
  #dir: string;
  #seed: number;
  #signatures = new Set<string>();
  /** Files of failures found but not yet minimised, by batch and index. */
  #pending = new Map<string, string>();
  saved: string[] = [];

  constructor(dir: string, seed: number) {
    this.#dir = dir;
    this.#seed = seed;
  }

  async save(
    target: string,
    kind: FailureKind,
    message: string,
    c: FuzzCase,
    batch: number,
    index: number,
    stage: "found" | "minimised" | "watchdog",
  ): Promise<string | null> {
    const key = `${target}/${batch}/${index}`;
    const previous = this.#pending.get(key);
    if (stage !== "minimised") {
      const sig = signature(target, kind, message);
      if (this.#signatures.has(sig)) return null;
      this.#signatures.add(sig);
    } else if (previous === undefined) {
      return null; // a duplicate of a failure saved before
    }
    const file: CorpusFile = {
      ...c,
      kind,
      failure: message,
      seed: this.#seed,
      run: `${target} batch ${batch} case ${index}`,
      minimised: stage === "minimised",
      date: new Date().toISOString(),
    };
    await Deno.mkdir(this.#dir, { recursive: true });
    const path = `${this.#dir}/${kind}-${await caseHash(c)}.json`;
    const text = JSON.stringify(file, null, 2) + "\n";
    await Deno.writeTextFile(path, text);
    // Also in the log, where a CI run's files are lost: small ones whole.
    console.log(
      text.length <= 8_000
        ? `${path}:\n${text}`
        : `${path}: ${text.length} bytes, not printed`,
    );
    if (stage === "found") {
      this.#pending.set(key, path);
      this.saved.push(path);
    } else if (stage === "minimised") {
      this.#pending.delete(key);
      if (previous !== undefined && previous !== path) {
        await Deno.remove(previous).catch(() => {});
        this.saved[this.saved.indexOf(previous)] = path;
      }
    } else {
      this.saved.push(path);
    }
    return path;
  }
}

/** Runs one target's worker until it is done; restarts it after a hang. */
async function fuzzTarget(
  target: string,
  s: Settings,
  corpus: Corpus,
): Promise<TargetResult> {
  const start = performance.now();
  const deadline = Date.now() +
    (s.iterations === null ? s.seconds * 1000 : 1e12);
  // A case silent for this long is a hang (the worker itself reports one
  // that finishes late; this catches one that never finishes).
  const stallMs = Math.max(
    2 * s.bounds.caseTimeoutMs,
    s.bounds.caseTimeoutMs + 3_000,
  );
  let cases = 0;
  let failures = 0;
  let firstBatch = 0;
  const writes: Promise<unknown>[] = [];
  for (;;) {
    const sab = new SharedArrayBuffer(BEAT_WORDS * 4);
    const beat = new Int32Array(sab);
    const worker = new Worker(new URL("./_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const outcome = await new Promise<
      { type: "done"; cases: number } | {
        type: "stall" | "died";
        message: string;
      }
    >((resolve) => {
      let lastTick = -1;
      let lastChange = performance.now();
      const watch = setInterval(() => {
        const tick = Atomics.load(beat, BEAT_TICK);
        const now = performance.now();
        if (tick !== lastTick) {
          lastTick = tick;
          lastChange = now;
          return;
        }
        const phase = Atomics.load(beat, BEAT_PHASE);
        const silent = now - lastChange;
        if (
          (phase !== PHASE_IDLE && silent > stallMs) || silent > 3 * stallMs
        ) {
          end({
            type: "stall",
            message: `no progress for ${(silent / 1000).toFixed(1)} s`,
          });
        }
      }, 100);
      const end = (o: Parameters<typeof resolve>[0]) => {
        clearInterval(watch);
        worker.terminate();
        resolve(o);
      };
      worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
        const m = e.data;
        if (m.type === "done") end(m);
        else if (m.type === "error") end({ type: "died", message: m.message });
        else {
          if (m.stage === "found") {
            failures++;
            console.log(
              `${target}: ${m.kind} at batch ${m.batch} case ${m.index}: ${
                m.message.split("\n")[0]
              }`,
            );
          }
          writes.push(
            corpus.save(
              target,
              m.kind,
              m.message,
              m.case,
              m.batch,
              m.index,
              m.stage,
            )
              .then((path) => {
                if (path !== null) console.log(`${target}: saved ${path}`);
              }),
          );
        }
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        end({ type: "died", message: e.message });
      };
      const req: RunRequest = {
        target,
        seed: s.seed,
        firstBatch,
        iterations: s.iterations === null ? null : s.iterations - cases,
        deadline,
        batchSize: s.batchSize,
        maxFailures: s.maxFailures - failures,
        bounds: s.bounds,
        sab,
      };
      worker.postMessage(req);
    });
    if (outcome.type === "done") {
      cases += outcome.cases;
      break;
    }
    // A hang or a dead worker: save the case it was running, go on after it.
    const batch = Atomics.load(beat, BEAT_BATCH);
    const index = Atomics.load(beat, BEAT_INDEX);
    const phase = Atomics.load(beat, BEAT_PHASE);
    cases += Atomics.load(beat, BEAT_CASES) + (phase === PHASE_CASE ? 1 : 0);
    failures++;
    const kind: FailureKind = outcome.type === "stall" ? "hang" : "crash";
    const message = outcome.type === "stall"
      ? `${outcome.message} (bound ${s.bounds.caseTimeoutMs} ms): the case never returned`
      : `the worker died: ${outcome.message}`;
    if (phase === PHASE_CASE) {
      console.log(
        `${target}: ${kind} at batch ${batch} case ${index}: ${message}`,
      );
      const c = regenerate(s.seed, target, batch, index);
      const path = await corpus.save(
        target,
        kind,
        message,
        c,
        batch,
        index,
        "watchdog",
      );
      if (path !== null) console.log(`${target}: saved ${path}`);
    } else {
      console.log(
        `${target}: ${kind} while shrinking a failure of batch ${batch} (the unshrunk case is saved): ${message}`,
      );
    }
    firstBatch = batch + 1;
    const more = s.iterations === null
      ? Date.now() < deadline
      : cases < s.iterations;
    if (!more || failures >= s.maxFailures) break;
  }
  await Promise.all(writes);
  return {
    target,
    cases,
    ms: performance.now() - start,
    failures,
    saved: corpus.saved,
  };
}

async function replayFiles(paths: string[], bounds: Bounds): Promise<number> {
  let failed = 0;
  for (const path of paths) {
    const file = parseCorpusFile(
      await Deno.readTextFile(path),
      path,
      TARGET_NAMES,
    );
    const r = await replay(
      file,
      bounds,
      Math.max(30_000, 5 * bounds.caseTimeoutMs),
    );
    if (r.ok) console.log(`ok    ${path} (${r.ms.toFixed(0)} ms)`);
    else {
      failed++;
      console.log(`FAIL  ${path}: ${r.kind}: ${r.message}`);
    }
  }
  console.log(`${paths.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      target: { type: "string" },
      seed: { type: "string" },
      duration: { type: "string" },
      iterations: { type: "string" },
      corpus: { type: "string" },
      "case-timeout": { type: "string" },
      "rss-limit": { type: "string" },
      batch: { type: "string" },
      "max-failures": { type: "string" },
      replay: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const s = readSettings(values);
  if (values.replay) return await replayFiles(positionals, s.bounds);
  if (positionals.length > 0) {
    throw new TypeError(`unexpected argument ${positionals[0]}`);
  }
  console.log(
    `fuzz: seed ${s.seed}; ${s.targets.join(", ")}; ${
      s.iterations === null
        ? `${s.seconds.toFixed(0)} s per target`
        : `${s.iterations} cases per target`
    }; case bound ${s.bounds.caseTimeoutMs} ms, ${
      s.bounds.rssLimit >> 20
    } MiB; corpus ${s.corpus}`,
  );
  const corpus = new Corpus(s.corpus, s.seed);
  const start = performance.now();
  const results: TargetResult[] = [];
  for (const target of s.targets) {
    const r = await fuzzTarget(target, s, corpus);
    results.push(r);
    console.log(
      `${target}: ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s (${
        (r.cases / (r.ms / 1000)).toFixed(0)
      }/s), ${r.failures} failure${r.failures === 1 ? "" : "s"}`,
    );
  }
  const ms = performance.now() - start;
  const cases = results.reduce((n, r) => n + r.cases, 0);
  const failures = results.reduce((n, r) => n + r.failures, 0);
  console.log(
    `fuzz summary: ${
      (cases / (ms / 1000)).toFixed(0)
    } cases/s, ${cases} cases (${
      results.map((r) =>
        `${r.target} ${r.cases} at ${(r.cases / (r.ms / 1000)).toFixed(0)}/s`
      )
        .join(", ")
    }), ${failures} failure${failures === 1 ? "" : "s"}${
      corpus.saved.length > 0 ? ` (saved: ${corpus.saved.join(", ")})` : ""
    }, seed ${s.seed}, ${(ms / 1000).toFixed(1)} s`,
  );
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(
      `fuzz: ${error instanceof Error ? error.message : String(error)}`,
    );
    Deno.exit(2);
  }
}
