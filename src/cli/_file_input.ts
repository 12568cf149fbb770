// Private: opening the input of `fstrm dump` and `fstrm stats` (a path or
// "-" for stdin), with one clear line for everything that is not a Frame
// Streams file: missing, unreadable, a directory, empty, or something else
// entirely (what its first bytes look like is said).
import type { FrameSource } from "../frame_reader.ts";
import type { EngineOption } from "../engine.ts";
import { DEFAULT_MAX_FRAME_LENGTH, MAX_FRAME_LENGTH } from "../constants.ts";
import { CliError, usageError } from "./_cli_error.ts";
import { readU32 } from "../_wire.ts";
import { integerOption, type OptionsConfig, type ParsedArgs } from "./_args.ts";
import { describeFsError } from "./_read_errors.ts";

export { describeFsError, describeReadError } from "./_read_errors.ts";

/** The reading options `dump` and `stats` share. */
export const INPUT_OPTIONS: OptionsConfig = {
  engine: { type: "string" },
  "max-frame-length": { type: "string" },
};

/** The help text of {@linkcode INPUT_OPTIONS}. */
export const INPUT_OPTIONS_HELP = `\
  --engine auto|wasm|ts   the scan engine (default auto: WebAssembly where it
                          loads)
  --max-frame-length N    the longest data frame accepted, in bytes (default
                          ${DEFAULT_MAX_FRAME_LENGTH}, as libfstrm's reader)
`;

/** The values of {@linkcode INPUT_OPTIONS}, checked. */
export function inputOptions(
  command: string,
  values: ParsedArgs["values"],
): { engine: EngineOption; maxFrameLength: number } {
  const engine = values.engine ?? "auto";
  if (engine !== "auto" && engine !== "wasm" && engine !== "ts") {
    throw usageError(
      command,
      `--engine wants auto, wasm or ts, got '${engine}'`,
    );
  }
  const max = values["max-frame-length"];
  return {
    engine,
    maxFrameLength: typeof max === "string"
      ? integerOption(command, "--max-frame-length", max, 1, MAX_FRAME_LENGTH)
      : DEFAULT_MAX_FRAME_LENGTH,
  };
}

/** An opened input, positioned at its first byte. */
export interface Input {
  /** How messages name it: the path as given, or `stdin`. */
  readonly name: string;
  /** Its bytes, from the first. */
  readonly source: Required<FrameSource>;
  /** Its size in bytes when it is a regular file, else `null`. */
  readonly size: number | null;
  /** `dev:ino` of a regular file (to refuse writing over it), else `null`. */
  readonly identity: string | null;
  /** Bytes read per call that fit it: a small file needs no 1 MiB window. */
  readonly windowSize: number;
  /** Closes it (not stdin). */
  close(): void;
}

const MIN_WINDOW = 65_536;
// As openFrameReader: 1 MiB windows scan faster than larger ones.
const DEFAULT_WINDOW = 1 << 20;
/** Bytes looked at before reading: escape, length and type of START. */
const HEAD = 12;

/** Reads until `buffer` is full or the input ends; the bytes read. */
function readFully(
  source: Required<FrameSource>,
  buffer: Uint8Array,
): number {
  let got = 0;
  while (got < buffer.length) {
    const n = source.readSync(buffer.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/**
 * Opens `path` (`-`: stdin) for reading and checks that it starts like a
 * Frame Streams file: with an escape (four zero bytes), as a START frame
 * does. Throws a {@linkcode CliError} naming the input otherwise.
 *
 * @param path The path, or `-`.
 * @param maxFrameLength The longest data frame the reader accepts: a first
 * word above it cannot be the start of any Frame Streams file.
 */
export async function openInput(
  path: string,
  maxFrameLength: number,
): Promise<Input> {
  const name = path === "-" ? "stdin" : path;
  const fail = (words: string) => new CliError(`${name}: ${words}`);
  let file: Deno.FsFile | typeof Deno.stdin;
  let size: number | null = null;
  let identity: string | null = null;
  let close = () => {};
  if (path === "-") file = Deno.stdin;
  else {
    try {
      const info = await Deno.stat(path);
      if (info.isDirectory) throw fail("is a directory");
      if (info.isFile) {
        size = info.size;
        identity = `${info.dev}:${info.ino}`;
      }
      const opened = await Deno.open(path, { read: true });
      file = opened;
      close = () => opened.close();
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw fail(describeFsError(error));
    }
  }
  try {
    const head = new Uint8Array(HEAD);
    let got: number;
    try {
      got = readFully(file, head);
    } catch (error) {
      throw fail(describeFsError(error));
    }
    const problem = notFrameStreams(head.subarray(0, got), maxFrameLength);
    if (problem !== null) throw fail(`not a Frame Streams file: ${problem}`);
    let source: Required<FrameSource>;
    if (file instanceof Deno.FsFile && size !== null) {
      file.seekSync(0, Deno.SeekMode.Start);
      source = file;
    } else source = new PrefixedSource(head.subarray(0, got), file);
    let windowSize = MIN_WINDOW;
    while (windowSize < DEFAULT_WINDOW && windowSize <= (size ?? Infinity)) {
      windowSize *= 2;
    }
    return { name, source, size, identity, windowSize, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** A source that serves `head` first, then reads on from `rest`. */
export class PrefixedSource implements FrameSource {
  #head: Uint8Array;
  #rest: FrameSource;

  constructor(head: Uint8Array, rest: FrameSource) {
    this.#head = head;
    this.#rest = rest;
  }

  #fromHead(buffer: Uint8Array): number {
    const n = Math.min(buffer.length, this.#head.length);
    buffer.set(this.#head.subarray(0, n));
    this.#head = this.#head.subarray(n);
    return n;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#head.length > 0) return Promise.resolve(this.#fromHead(buffer));
    return this.#rest.read(buffer);
  }

  readSync(buffer: Uint8Array): number | null {
    if (this.#head.length > 0) return this.#fromHead(buffer);
    return this.#rest.readSync!(buffer);
  }
}

/** Magic numbers of formats that people feed a dnstap tool by mistake. */
const MAGIC: readonly [number[], string][] = [
  [[0x1f, 0x8b], "gzip data: decompress it first"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd data: decompress it first"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz data: decompress it first"],
  [[0x42, 0x5a, 0x68], "bzip2 data: decompress it first"],
  [[0x50, 0x4b, 0x03, 0x04], "a ZIP archive"],
  [[0xd4, 0xc3, 0xb2, 0xa1], "a pcap capture"],
  [[0xa1, 0xb2, 0xc3, 0xd4], "a pcap capture"],
  [[0x4d, 0x3c, 0xb2, 0xa1], "a pcap capture"],
  [[0xa1, 0xb2, 0x3c, 0x4d], "a pcap capture"],
  [[0x0a, 0x0d, 0x0d, 0x0a], "a pcapng capture"],
  [[0x7f, 0x45, 0x4c, 0x46], "an ELF executable"],
  [[0x16, 0x03], "a TLS handshake"],
  [[0xef, 0xbb, 0xbf], "text"],
];

/**
 * Why `head` (an input's first bytes, at most 12) cannot begin a Frame
 * Streams file, or `null` if it can. A file starts with a control frame,
 * whose escape is four zero bytes; a first word above `maxFrameLength` can
 * be nothing the reader accepts.
 */
export function notFrameStreams(
  head: Uint8Array,
  maxFrameLength: number,
): string | null {
  if (head.length === 0) return "it is empty";
  const first = head.subarray(0, 4);
  if (first.every((b) => b === 0)) return null;
  const hexBytes = Array.from(first, (b) => b.toString(16).padStart(2, "0"))
    .join(" ");
  const chars = String.fromCharCode(
    ...Array.from(first, (b) => b >= 0x20 && b < 0x7f && b !== 0x22 ? b : 0x2e),
  );
  const said = `starts with ${hexBytes} ("${chars}")`;
  const like =
    MAGIC.find(([magic]) =>
      magic.length <= head.length && magic.every((b, i) => head[i] === b)
    )?.[1] ??
      (head.every((b) =>
          (b >= 0x20 && b < 0x7f) || b === 0x09 ||
          b === 0x0a || b === 0x0d
        )
        ? "text"
        : null);
  if (like !== null) return `${said}, which looks like ${like}`;
  if (head.length >= 4) {
    const length = readU32(head, 0);
    if (length <= maxFrameLength) {
      return `${said}: a ${length}-byte data frame where a START frame should be`;
    }
  }
  return said;
}
