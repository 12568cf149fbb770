// Whole-process time of `fstrm top -r FILE` (each engine) against the Go
// tool's `dnstap -r FILE -q > /dev/null`, interleaved in rounds so that the
// machine's load hits all alike; prints each round and the medians, with the
// ratio Go / top from the same round. Peak RSS from /usr/bin/time when it is
// there.
//
//   deno run -A bench/top_measure.ts [FILE] [ROUNDS]
//
// FILE defaults to bench/data/dnstap_real.fstrm (`deno task
// bench:dnstap-data` makes it).
const path = Deno.args[0] ??
  decodeURIComponent(
    new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
  );
const rounds = Number(Deno.args[1] ?? "5");
const cli = decodeURIComponent(new URL("../cli.ts", import.meta.url).pathname);

/** Runs a command with stdout to /dev/null; its wall seconds. */
async function time(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const { code, stderr } = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  const s = (performance.now() - t0) / 1000;
  if (code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")}: exit ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return s;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;

const go: number[] = [];
const wasm: number[] = [];
const ts: number[] = [];
console.log(`${path}, ${rounds} rounds`);
console.log("round  go -q     top wasm  top ts    go/wasm  go/ts  ts/wasm");
for (let r = 1; r <= rounds; r++) {
  const g = await time("dnstap", ["-r", path, "-q"]);
  const w = await time(Deno.execPath(), [
    "run",
    "-A",
    cli,
    "top",
    "-r",
    path,
    "--engine",
    "wasm",
  ]);
  const t = await time(Deno.execPath(), [
    "run",
    "-A",
    cli,
    "top",
    "-r",
    path,
    "--engine",
    "ts",
  ]);
  go.push(g);
  wasm.push(w);
  ts.push(t);
  console.log(
    `${String(r).padEnd(7)}${g.toFixed(2).padEnd(10)}${
      w.toFixed(2).padEnd(10)
    }${t.toFixed(2).padEnd(10)}${(g / w).toFixed(1).padEnd(9)}${
      (g / t).toFixed(1).padEnd(7)
    }${(t / w).toFixed(2)}`,
  );
}
const [g, w, t] = [median(go), median(wasm), median(ts)];
console.log(
  `median ${g.toFixed(2).padEnd(10)}${w.toFixed(2).padEnd(10)}${
    t.toFixed(2).padEnd(10)
  }${(g / w).toFixed(1).padEnd(9)}${(g / t).toFixed(1).padEnd(7)}${
    (t / w).toFixed(2)
  }`,
);
