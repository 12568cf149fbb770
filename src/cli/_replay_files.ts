// Private: what `fstrm replay` checks of its input files before it
// connects: each opens, starts with START, and names the content type
// given with -t (a START without one matches any, as libfstrm has it).
import { ControlType } from "../constants.ts";
import { FrameDecoder } from "../frame_decoder.ts";
import { CliError } from "./_cli_error.ts";
import { plainError } from "./_targets.ts";
import { readU32 } from "../_wire.ts";

/** Bytes enough for any START frame (8 + at most 512). */
const HEAD = 520;

/**
 * Checks that `path` is a Frame Streams file whose START matches
 * `contentType`.
 *
 * @param path The file.
 * @param contentType The content type given with `-t`, as bytes.
 * @returns The file's size in bytes.
 * @throws {CliError} Naming the file and the problem.
 */
export async function checkReplayFile(
  path: string,
  contentType: Uint8Array,
): Promise<number> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new CliError(`cannot open ${path}: ${plainError(error)}`);
  }
  let head: Uint8Array;
  let size: number;
  try {
    const info = await file.stat();
    if (!info.isFile) throw new CliError(`${path} is not a regular file`);
    size = info.size;
    head = new Uint8Array(Math.min(HEAD, size));
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    head = head.subarray(0, got);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${path}: ${plainError(error)}`);
  } finally {
    file.close();
  }
  checkHead(path, head, head.length === size, contentType);
  return size;
}

/**
 * Reads the START frame at the head of standard input (`-r -`) and checks
 * it as {@linkcode checkReplayFile} checks a file's, before anything is
 * sent; nothing more is read.
 *
 * @param contentType The content type given with `-t`, as bytes.
 * @returns The bytes read (START), which come first when stdin is read on.
 * @throws {CliError} Naming stdin and the problem.
 */
export async function readReplayStdin(
  contentType: Uint8Array,
  stdin: { read(p: Uint8Array): Promise<number | null> } = Deno.stdin,
): Promise<Uint8Array> {
  const head = new Uint8Array(HEAD);
  let got = 0;
  // Escape and length first, then as much as that length says (a START
  // is at most 512 bytes: a longer one is refused by the decoder).
  let want = 8;
  try {
    while (got < want) {
      const n = await stdin.read(head.subarray(got, want));
      if (n === null) break;
      got += n;
      if (got === 8 && want === 8) {
        const escape = head[0]! | head[1]! | head[2]! | head[3]!;
        const length = readU32(head, 4);
        if (escape === 0 && length <= HEAD - 8) want = 8 + length;
      }
    }
  } catch (error) {
    throw new CliError(`cannot read stdin: ${plainError(error)}`);
  }
  const bytes = head.subarray(0, got);
  checkHead("stdin", bytes, got < want, contentType);
  return bytes;
}

/** Checks an input's first bytes: a START that names `contentType` (or none). */
function checkHead(
  name: string,
  head: Uint8Array,
  complete: boolean,
  contentType: Uint8Array,
): void {
  if (head.length === 0) {
    throw new CliError(`${name} is empty: not a Frame Streams file`);
  }
  const decoder = new FrameDecoder({ maxFrameLength: 0xffff_ffff });
  decoder.push(head);
  if (complete) decoder.end();
  let first;
  try {
    first = decoder.next();
  } catch (error) {
    // A malformed control frame says what is wrong with it; anything else
    // (a first "frame" longer than the file) is just not Frame Streams.
    throw new CliError(
      `${name} does not begin with a START frame: ${
        error instanceof SyntaxError
          ? plainError(error)
          : "not a Frame Streams file"
      }`,
    );
  }
  if (
    first === null || first.kind !== "control" ||
    first.type !== ControlType.START
  ) {
    throw new CliError(
      `${name} does not begin with a START frame: not a Frame Streams file`,
    );
  }
  const named = first.contentTypes[0];
  if (named !== undefined && !sameBytes(named, contentType)) {
    throw new CliError(
      `${name} holds content type ${quote(named)}, not ${
        quote(contentType)
      } (-t)`,
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A content type as messages show it: JSON-quoted text. */
export function quote(bytes: Uint8Array): string {
  return JSON.stringify(new TextDecoder().decode(bytes));
}
