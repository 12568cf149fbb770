// Private: what one fuzz case is, as plain JSON data, and the corpus files
// that keep the failing ones (tests/corpus/<kind>-<hash>.json).
//
// A case is self-contained: the input bytes, where they are cut, the
// options, or (for the handshake) the script of calls; each target defines
// its own case type (fuzz/_check_<target>.ts). The fuzzer writes a case and
// tests/corpus_test.ts replays it through the same checks.

/**
 * What went wrong:
 * - `divergence`: two paths that must agree did not (engines, next and
 *   next(onData), FrameReader and FrameDecoder, the reference model);
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
 * One fuzz case: plain JSON data, the `target` field naming the target that
 * runs it (see _targets.ts). Each target defines its own case type, which
 * extends this one (and {@linkcode InputSpelling} if it has input bytes).
 */
export interface FuzzCase {
  /** The name of the target that runs the case. */
  target: string;
}

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
export function spelled<C extends FuzzCase>(c: C): C {
  const { bytes, ...rest } = c as C & InputSpelling;
  if (!(bytes instanceof Uint8Array)) return c;
  return { ...rest, ...spellInput(bytes) } as unknown as C;
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

/** Reads and checks a corpus file's JSON: a case of one of `targets`. */
export function parseCorpusFile(
  text: string,
  name: string,
  targets: readonly string[],
): CorpusFile {
  const file = JSON.parse(text) as CorpusFile;
  if (typeof file !== "object" || file === null) {
    throw new TypeError(`Cannot read corpus file ${name}: not an object`);
  }
  if (!targets.includes(file.target)) {
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
  target: string,
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
