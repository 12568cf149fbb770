// The benchmark data: three Frame Streams files written deterministically
// into bench/data/ (git-ignored), each only when it is missing.
//
//   deno run --allow-read --allow-write bench/make_data.ts [--force] [NAME...]
//   deno task bench:data
//
//   dnstap   5,000,000 frames of 80..400 bytes (uniform), 1,220,111,235 bytes
//   small   20,000,000 frames of 16 bytes,                  400,000,054 bytes
//   large        4,000 frames of 262,144 bytes (256 KiB), 1,048,592,054 bytes
//
// Content type protobuf:dnstap.Dnstap; START, the data frames, STOP. Payloads
// come from splitmix64 exactly as peers/fstrm_gen.c draws them (a test
// compares the two byte for byte), so these are the files libfstrm's own
// writer makes from the same seeds. Beside each NAME.fstrm: NAME.expected,
// the reader contract's summary line (peers/README.md), and NAME.size.
//
// Benches import benchData() to find a file or make it first.
import { parseArgs } from "node:util";
import { ControlType, encodeControlFrame } from "../mod.ts";

/** One data file: what the generator is asked for. */
export interface DataShape {
  /** Seed of the splitmix64 stream. */
  seed: number;
  /** Data frames. */
  frames: number;
  /** Shortest payload, bytes (at least 1). */
  min: number;
  /** Longest payload, bytes. */
  max: number;
}

/** The benchmark files, by name. */
export const BENCH_DATA = {
  dnstap: { seed: 1, frames: 5_000_000, min: 80, max: 400 },
  small: { seed: 2, frames: 20_000_000, min: 16, max: 16 },
  large: { seed: 3, frames: 4_000, min: 262_144, max: 262_144 },
} as const satisfies Record<string, DataShape>;

/** A name of {@linkcode BENCH_DATA}. */
export type BenchDataName = keyof typeof BENCH_DATA;

/** Where the files go: bench/data/ (git-ignored). */
export const DATA_DIR: string = decodeURIComponent(
  new URL("data/", import.meta.url).pathname,
);

const CONTENT_TYPE = "protobuf:dnstap.Dnstap";
/** The longest payload the generator writes (a 32-bit length, less 15). */
const MAX_PAYLOAD = 0xfffffff0;
/** Bytes written to the file per call. */
const CHUNK = 4 << 20;

/** The splitmix64 stream (Steele, Lea, Flood 2014) in 32-bit halves. */
class SplitMix64 {
  #hi: number;
  #lo: number;

  constructor(seed: number) {
    this.#hi = Math.floor(seed / 2 ** 32) >>> 0;
    this.#lo = seed >>> 0;
  }

  /**
   * Fills `out[at, at + 2 * draws)` with `draws` draws, each as its low then
   * its high 32 bits (little-endian bytes on a little-endian host).
   */
  fill(out: Uint32Array, at: number, draws: number): void {
    let sh = this.#hi;
    let sl = this.#lo;
    for (let i = 0; i < draws; i++) {
      // state += 0x9e3779b97f4a7c15
      const lo = sl + 0x7f4a7c15;
      sh = (sh + 0x9e3779b9 + (lo > 0xffffffff ? 1 : 0)) >>> 0;
      sl = lo >>> 0;
      // z ^= z >>> 30; z *= 0xbf58476d1ce4e5b9
      let zh = sh ^ (sh >>> 30);
      let zl = (sl ^ ((sl >>> 30) | (sh << 2))) >>> 0;
      let h = (mulhi(zl, 0x1ce4, 0xe5b9) + Math.imul(zl, 0xbf58476d) +
        Math.imul(zh, 0x1ce4e5b9)) | 0;
      zl = Math.imul(zl, 0x1ce4e5b9) >>> 0;
      zh = h >>> 0;
      // z ^= z >>> 27; z *= 0x94d049bb133111eb
      zl = (zl ^ ((zl >>> 27) | (zh << 5))) >>> 0;
      zh = (zh ^ (zh >>> 27)) >>> 0;
      h = (mulhi(zl, 0x1331, 0x11eb) + Math.imul(zl, 0x94d049bb) +
        Math.imul(zh, 0x133111eb)) | 0;
      zl = Math.imul(zl, 0x133111eb) >>> 0;
      zh = h >>> 0;
      // z ^= z >>> 31
      out[at++] = zl ^ ((zl >>> 31) | (zh << 1));
      out[at++] = zh ^ (zh >>> 31);
    }
    this.#hi = sh;
    this.#lo = sl;
  }

  /** The next draw modulo `n` (1 to 2^32). */
  below(n: number, scratch: Uint32Array): number {
    this.fill(scratch, 0, 1);
    // (hi * 2^32 + lo) mod n, 16 bits at a time to stay exact.
    let r = scratch[1]! % n;
    r = (r * 65536 + (scratch[0]! >>> 16)) % n;
    return (r * 65536 + (scratch[0]! & 0xffff)) % n;
  }
}

/** The high 32 bits of `a * (b1 * 2^16 + b0)`, both unsigned 32-bit. */
function mulhi(a: number, b1: number, b0: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
}

/** The summary line of the reader contract. */
function summaryLine(frames: number, bytes: number, check: number): string {
  return `frames=${frames} bytes=${bytes} check=0x${
    check.toString(16).padStart(8, "0")
  }`;
}

/**
 * Writes a Frame Streams file of `shape` to `path`, the same bytes as
 * `fstrm_gen -s SEED FRAMES MIN MAX PATH` (peers/fstrm_gen.c).
 *
 * @returns The reader contract's summary line of the file.
 */
export async function writeDataFile(
  path: string,
  shape: DataShape,
): Promise<string> {
  const { seed, frames, min, max } = shape;
  if (
    !Number.isSafeInteger(seed) || seed < 0 || !Number.isSafeInteger(frames) ||
    frames < 0 || !Number.isInteger(min) || min < 1 || max < min ||
    max > MAX_PAYLOAD
  ) {
    throw new RangeError(
      `Cannot write data file: bad shape ${JSON.stringify(shape)}`,
    );
  }
  if (new Uint8Array(Uint32Array.of(1).buffer)[0] !== 1) {
    throw new Error("Cannot write data file: this host is big-endian");
  }
  const rng = new SplitMix64(seed);
  const draws = Math.ceil(max / 8);
  const words = new Uint32Array(2 * draws);
  const wordBytes = new Uint8Array(words.buffer);
  const one = new Uint32Array(2);
  const span = max - min + 1;
  const out = new Uint8Array(Math.max(CHUNK, 8 + max));
  let used = 0;
  let bytes = 0;
  let check = 0x811c9dc5;
  using file = await Deno.open(path, {
    write: true,
    create: true,
    truncate: true,
  });
  const flush = (): void => {
    for (let o = 0; o < used;) o += file.writeSync(out.subarray(o, used));
    used = 0;
  };
  const put = (b: Uint8Array): void => {
    if (used + b.length > out.length) flush();
    out.set(b, used);
    used += b.length;
  };
  put(encodeControlFrame(ControlType.START, [CONTENT_TYPE]));
  for (let i = 0; i < frames; i++) {
    const length = span === 1 ? min : min + rng.below(span, one);
    rng.fill(words, 0, Math.ceil(length / 8));
    if (used + 4 + length > out.length) flush();
    out[used] = length >>> 24;
    out[used + 1] = length >>> 16;
    out[used + 2] = length >>> 8;
    out[used + 3] = length;
    out.set(wordBytes.subarray(0, length), used + 4);
    used += 4 + length;
    bytes += length;
    check = Math.imul(check ^ wordBytes[0]!, 16777619);
    check = Math.imul(check ^ wordBytes[length - 1]!, 16777619);
  }
  put(encodeControlFrame(ControlType.STOP));
  flush();
  return summaryLine(frames, bytes, check >>> 0);
}

/** A benchmark file: its path, summary line and size. */
export interface BenchDataFile {
  /** The file, under {@linkcode DATA_DIR}. */
  path: string;
  /** The summary line every reader must print for it. */
  expected: string;
  /** Its size in bytes. */
  size: number;
}

/** Reads a small text file, or `null` if it is missing. */
async function readText(path: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Finds benchmark file `name` under bench/data/, writing it first when it
 * is missing, or its size is not the one recorded beside it, or `force`.
 *
 * @returns The file, its summary line and size.
 */
export async function benchData(
  name: BenchDataName,
  options: { force?: boolean; log?: (line: string) => void } = {},
): Promise<BenchDataFile> {
  const log = options.log ?? ((line: string) => console.error(line));
  const path = `${DATA_DIR}${name}.fstrm`;
  const expected = await readText(`${DATA_DIR}${name}.expected`);
  const size = Number(await readText(`${DATA_DIR}${name}.size`));
  if (!options.force && expected !== null && size > 0) {
    const actual = await Deno.stat(path).then((s) => s.size, () => -1);
    if (actual === size) return { path, expected, size };
  }
  const shape = BENCH_DATA[name];
  log(
    `writing ${path}: ${shape.frames} frames of ${shape.min}..${shape.max} bytes, seed ${shape.seed}`,
  );
  await Deno.mkdir(DATA_DIR, { recursive: true });
  const t0 = performance.now();
  const line = await writeDataFile(`${path}.tmp`, shape);
  await Deno.rename(`${path}.tmp`, path);
  const written = (await Deno.stat(path)).size;
  await Deno.writeTextFile(`${DATA_DIR}${name}.expected`, `${line}\n`);
  await Deno.writeTextFile(`${DATA_DIR}${name}.size`, `${written}\n`);
  log(
    `  ${line} file_bytes=${written} (${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s)`,
  );
  return { path, expected: line, size: written };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { force: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const names = positionals.length > 0 ? positionals : Object.keys(BENCH_DATA);
  for (const name of names) {
    if (!(name in BENCH_DATA)) {
      console.error(
        `make_data: unknown file ${name} (${
          Object.keys(BENCH_DATA).join(", ")
        })`,
      );
      Deno.exit(2);
    }
  }
  for (const name of names as BenchDataName[]) {
    const file = await benchData(name, { force: values.force });
    console.log(`${file.path}: ${file.expected} file_bytes=${file.size}`);
  }
}
