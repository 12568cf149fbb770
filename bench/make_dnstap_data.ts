// Real-server dnstap for the benchmarks: bench/data/dnstap_real.fstrm
// (git-ignored), one Frame Streams file (START with protobuf:dnstap.Dnstap,
// data frames, STOP) holding the data frames of the four captures of
// tests/data/dnstap/ (knot, bind, unbound, dnsdist, in that order, each in
// file order), repeated whole until there are at least 1,000,000 messages.
// Deterministic: the same captures give the same bytes.
//
//   deno run --allow-read --allow-write bench/make_dnstap_data.ts [--force]
//     [--unbound]
//   deno task bench:dnstap-data
//
// With the captures of 2026-12-03: 1,294 messages a round, 773 rounds,
// 1,000,262 messages, 711,739,031 bytes (the 58 KB TXT answers weigh).
// Written only when missing (or with --force); prints what it wrote.
//
// With --unbound: bench/data/dnstap_unbound.fstrm instead, the unbound
// capture's data frames alone, repeated the same way (489 messages a round,
// 2,045 rounds, 1,000,005 messages, 609,324,164 bytes): the kind of file
// issue 13 measured the Go tool on.
import {
  ControlType,
  decodeFrames,
  DNSTAP_CONTENT_TYPE,
  encodeControlFrame,
  encodeDataFrame,
} from "../mod.ts";

/** The file written. */
export const DNSTAP_REAL_PATH: string = decodeURIComponent(
  new URL("data/dnstap_real.fstrm", import.meta.url).pathname,
);

/** The unbound-only file. */
export const DNSTAP_UNBOUND_PATH: string = decodeURIComponent(
  new URL("data/dnstap_unbound.fstrm", import.meta.url).pathname,
);

/** The captures, in the order their frames are repeated. */
export const CAPTURES: readonly string[] = [
  "knot",
  "bind",
  "unbound",
  "dnsdist",
];

/** At least this many messages. */
export const MIN_MESSAGES = 1_000_000;

/** What {@linkcode makeDnstapData} wrote. */
export interface DnstapRealData {
  /** The file. */
  path: string;
  /** Data frames (dnstap messages) in it. */
  messages: number;
  /** Rounds of all four captures. */
  rounds: number;
  /** Its size, bytes. */
  bytes: number;
}

/** One round: every capture's data frames, encoded, concatenated. */
async function oneRound(
  captures: readonly string[],
): Promise<{ bytes: Uint8Array; messages: number }> {
  const parts: Uint8Array[] = [];
  let messages = 0;
  for (const name of captures) {
    const file = await Deno.readFile(
      new URL(`../tests/data/dnstap/${name}.fstrm`, import.meta.url),
    );
    for (const frame of decodeFrames(file)) {
      if (frame.kind !== "data") continue;
      parts.push(encodeDataFrame(frame.data));
      messages++;
    }
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, messages };
}

/**
 * Writes bench/data/dnstap_real.fstrm unless it is there (or `force`).
 *
 * @param force Rewrite it even when it exists.
 * @returns What the file holds.
 */
export function makeDnstapRealData(force = false): Promise<DnstapRealData> {
  return makeDnstapData(CAPTURES, DNSTAP_REAL_PATH, force);
}

/**
 * Writes bench/data/dnstap_unbound.fstrm (the unbound capture's frames
 * alone) unless it is there (or `force`).
 *
 * @param force Rewrite it even when it exists.
 * @returns What the file holds.
 */
export function makeDnstapUnboundData(
  force = false,
): Promise<DnstapRealData> {
  return makeDnstapData(["unbound"], DNSTAP_UNBOUND_PATH, force);
}

/**
 * Writes `path` unless it is there with the right size (or `force`): the
 * data frames of `captures`, repeated until there are at least
 * {@linkcode MIN_MESSAGES}.
 *
 * @param captures Names of captures in tests/data/dnstap/.
 * @param path The file to write.
 * @param force Rewrite it even when it exists.
 * @returns What the file holds.
 */
export async function makeDnstapData(
  captures: readonly string[],
  path: string,
  force = false,
): Promise<DnstapRealData> {
  const round = await oneRound(captures);
  const rounds = Math.ceil(MIN_MESSAGES / round.messages);
  const start = encodeControlFrame(ControlType.START, [DNSTAP_CONTENT_TYPE]);
  const stop = encodeControlFrame(ControlType.STOP);
  const bytes = start.length + rounds * round.bytes.length + stop.length;
  const result = {
    path,
    messages: rounds * round.messages,
    rounds,
    bytes,
  };
  const size = await Deno.stat(path).then((s) => s.size, () => -1);
  if (!force && size === bytes) return result;
  await Deno.mkdir(new URL("data/", import.meta.url), { recursive: true });
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, {
    write: true,
    create: true,
    truncate: true,
  });
  try {
    const write = async (b: Uint8Array): Promise<void> => {
      for (let off = 0; off < b.length;) {
        off += await file.write(b.subarray(off));
      }
    };
    await write(start);
    for (let i = 0; i < rounds; i++) await write(round.bytes);
    await write(stop);
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  return result;
}

if (import.meta.main) {
  const force = Deno.args.includes("--force");
  const r = Deno.args.includes("--unbound")
    ? await makeDnstapUnboundData(force)
    : await makeDnstapRealData(force);
  console.log(
    `${r.path}: ${r.messages} messages (${r.rounds} rounds), ${r.bytes} bytes`,
  );
}
