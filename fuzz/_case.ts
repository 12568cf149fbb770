// Private: what one fuzz case is, as plain JSON data, and the corpus files
// that keep the failing ones (tests/corpus/<kind>-<hash>.json).
//
// A case is self-contained: the input bytes, where they are cut, the
// options, and (for the handshake) the script of calls. The fuzzer writes it
// and tests/corpus_test.ts replays it through the same checks (_checks.ts).

/** Which part of the library a case drives. */
export type Target = "decoder" | "reader" | "handshake";

/** Every target, in the order `--target all` runs them. */
export const TARGETS: readonly Target[] = ["decoder", "reader", "handshake"];

/**
 * What went wrong:
 * - `divergence`: two paths that must agree did not (engines, next and
 *   nextControl, FrameReader and FrameDecoder, the reference model);
 * - `crash`: an error other than the library's documented typed errors;
 * - `invariant`: a documented property broke (a view that should be one,
 *   an event after "failed", bytes sent that are no valid control frame…);
 * - `hang`: a case ran over the time bound (or never finished);
 * - `alloc`: a case allocated past the memory bound.
 */
export type FailureKind =
  | "divergence"
  | "crash"
  | "invariant"
  | "hang"
  | "alloc";

/**
 * The byte input of a case, in one of three spellings (or, in memory only,
 * as the bytes themselves: never written to a file).
 */
export interface InputSpelling {
  /** The bytes themselves (in memory only). */
  bytes?: Uint8Array;
  /** The bytes as hex. */
  input?: string;
  /** The bytes as base64 (larger inputs). */
  inputBase64?: string;
  /** The bytes as hex pieces, each repeated `times` (hand-written seeds). */
  inputParts?: { hex: string; times?: number }[];
}

/**
 * Decoder options as a case holds them: usually valid, now and then not
 * (then the constructors must throw a TypeError or RangeError, nothing else).
 */
export interface CaseOptions {
  maxFrameLength?: number | string | null;
  oversize?: string | null;
  strict?: boolean;
}

/** Bytes through FrameDecoder: both engines, next() and nextControl(). */
export interface DecoderCase extends InputSpelling {
  target: "decoder";
  /** Where the input is cut into chunks (sorted offsets). */
  cuts: number[];
  /** One digit per chunk: "1" pulls frames after that chunk, "0" does not. */
  pulls: string;
  options: CaseOptions;
  /** nextControl's onData throws on every data frame whose index is a multiple of this (0: never). */
  throwEvery?: number;
}

/** Bytes through FrameReader (both engines), against FrameDecoder. */
export interface ReaderCase extends InputSpelling {
  target: "reader";
  /** Sizes of successive reads, cycled (each at least 1). */
  reads: number[];
  options: CaseOptions;
  windowSize: number;
  how: "forEachFrame" | "forEachRun" | "batches" | "iterator";
  copyPayloads: boolean;
  readSync: boolean;
  /** forEachFrame (forEachRun): the callback returns a promise on every data frame (run) whose index is a multiple of this (0: never), and reads the payload (run) once it settles. */
  awaitEvery?: number;
  /** Stop early: forEachFrame's callback throws at this data frame (forEachRun's at the run that holds it); batches and iteration break once they have this many frames (-1 or absent: never). */
  stopAt?: number;
}

/** A frame as JSON: payload and content types in hex. */
export type FrameJson =
  | { kind: "data"; data: string }
  | { kind: "control"; type: number; contentTypes: string[] };

/** One call of a handshake script. */
export type Step =
  /** Hand this frame object to receive(). */
  | { op: "frame"; frame: FrameJson }
  /** Feed these bytes to a FrameDecoder, hand what it decodes to receive(). */
  | { op: "bytes"; hex: string }
  /** Hand receive() something that is not a Frame (a TypeError is due). */
  | { op: "junk"; value: number }
  /** WriterHandshake.start(). */
  | { op: "start" }
  /** WriterHandshake.stop(). */
  | { op: "stop" };

/** A perturbation of a conversation between the two handshakes. */
export interface Perturbation {
  /** The message number it applies to (counting both directions). */
  at: number;
  op: "drop" | "duplicate" | "inject";
  /** What `inject` puts in front of the message (hex bytes). */
  hex?: string;
}

/** The handshake state machines, alone or talking to each other. */
export interface HandshakeCase {
  target: "handshake";
  /**
   * `reader` or `writer`: one state machine fed `steps`; `pair`: a writer
   * and a reader talking through encoded bytes and FrameDecoders, with
   * `perturb` applied to their messages.
   */
  role: "reader" | "writer" | "pair";
  /** The reader's content types (hex), or a value that is no valid list. */
  readerTypes: string[] | number | null;
  /** The writer's content types (hex), or a value that is no valid list. */
  writerTypes: string[] | number | null;
  bidirectional: boolean;
  steps: Step[];
  /** pair: payloads of the data frames the writer sends (hex). */
  payloads?: string[];
  /** pair: the messages' perturbations. */
  perturb?: Perturbation[];
  /** pair: cut each message into pieces of at most this many bytes (0: whole). */
  piece?: number;
}

/** One fuzz case. */
export type FuzzCase = DecoderCase | ReaderCase | HandshakeCase;

/** A corpus file: a case plus what failed, and where it came from. */
export type CorpusFile = FuzzCase & {
  /** What failed (`seed` for the hand-written seed files). */
  kind: FailureKind | "seed";
  /** The failure's message, or what a seed file is about. */
  failure: string;
  /** The fuzzer's seed, and the batch and index of the case. */
  seed?: number;
  run?: string;
  /** Whether the case was shrunk. */
  minimised?: boolean;
  /** When it was found (ISO 8601). */
  date?: string;
};

// ---------------------------------------------------------------------------
// Bytes.

/** Bytes as hex. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes from hex (spaces ignored). */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(`Cannot read case: bad hex "${text.slice(0, 40)}"`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Bytes as base64. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Bytes from base64. */
export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Inputs up to this size are spelled in hex, larger ones in base64. */
const HEX_LIMIT = 4096;

/** The input spelling of `bytes`. */
export function spellInput(bytes: Uint8Array): InputSpelling {
  return bytes.length <= HEX_LIMIT
    ? { input: toHex(bytes) }
    : { inputBase64: toBase64(bytes) };
}

/** The input bytes of a case, whichever spelling it uses. */
export function caseInput(c: InputSpelling): Uint8Array {
  if (c.bytes instanceof Uint8Array) return c.bytes;
  if (typeof c.input === "string") return fromHex(c.input);
  if (typeof c.inputBase64 === "string") return fromBase64(c.inputBase64);
  if (Array.isArray(c.inputParts)) {
    const parts = c.inputParts.map((p) => {
      const one = fromHex(p.hex);
      const times = p.times ?? 1;
      const out = new Uint8Array(one.length * times);
      for (let i = 0; i < times; i++) out.set(one, i * one.length);
      return out;
    });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  throw new TypeError(
    "Cannot read case: no input, inputBase64 or inputParts",
  );
}

// ---------------------------------------------------------------------------
// Corpus files.

/** A case ready for a file: bytes held in memory spelled out. */
export function spelled(c: FuzzCase): FuzzCase {
  if (c.target === "handshake" || c.bytes === undefined) return c;
  const { bytes, ...rest } = c;
  return { ...rest, ...spellInput(bytes) } as FuzzCase;
}

/** The fields of a case (no metadata), in a stable order, for hashing. */
export function caseOnly(file: FuzzCase | CorpusFile): FuzzCase {
  const {
    kind: _kind,
    failure: _failure,
    seed: _seed,
    run: _run,
    minimised: _minimised,
    date: _date,
    ...rest
  } = file as CorpusFile;
  return rest as FuzzCase;
}

/** JSON with object keys sorted, so that equal cases hash equally. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v !== null && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.keys(v).sort().map((
            k,
          ) => [k, (v as Record<string, unknown>)[k]]),
        )
        : v,
  );
}

/** The first 12 hex digits of the SHA-256 of the case's canonical JSON. */
export async function caseHash(c: FuzzCase): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonical(caseOnly(c))),
  );
  return toHex(new Uint8Array(digest)).slice(0, 12);
}

/** Reads and checks a corpus file's JSON. */
export function parseCorpusFile(text: string, name: string): CorpusFile {
  const file = JSON.parse(text) as CorpusFile;
  if (typeof file !== "object" || file === null) {
    throw new TypeError(`Cannot read corpus file ${name}: not an object`);
  }
  if (!["decoder", "reader", "handshake"].includes(file.target)) {
    throw new TypeError(
      `Cannot read corpus file ${name}: unknown target ${String(file.target)}`,
    );
  }
  return file;
}

/**
 * A failure's signature: its target and class (see failureClass), so that
 * one bug found a hundred times is saved once.
 */
export function signature(
  target: Target,
  kind: FailureKind,
  message: string,
): string {
  return `${target}/${failureClass(kind, message)}`;
}

/**
 * What a failure is, for shrinking: its kind and the signature of its
 * message up to the first colon (where the details start), so that a case
 * is not shrunk into another bug of the same kind.
 */
export function failureClass(kind: FailureKind, message: string): string {
  const head = message.split("\n")[0]!.replace(
    /\((input|after|call) [^)]*\)/g,
    "",
  )
    .split(": ")[0]!;
  return `${kind}/${head.replace(/[0-9a-f]{2,}|\d+/g, "#")}`;
}
