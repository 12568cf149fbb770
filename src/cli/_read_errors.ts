// Private: how the commands word an error of reading a file: the file
// system's errors as `cat` would say them, any other error's message in
// lower case. Apart from _file_input.ts (which re-exports both) so that the
// worker of `fstrm top -r FILE` (_top_worker.ts) can word its read error
// without loading the options parser (node:util, 10-40 ms to load).

/** Words for an error of the file system, as `cat` would say them. */
export function describeFsError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) {
    // Deno's message names the flag: --allow-write for an output file.
    const flag = /--allow-[a-z]+/.exec(error.message)?.[0] ?? "--allow-read";
    return `Deno has no permission for it (run with ${flag})`;
  }
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  const message = error instanceof Error ? error.message : String(error);
  // Deno's messages end in ": path" or "(os error N)": keep the words.
  return message.replace(/,? ?(open|stat|read) '[^']*'$/, "")
    .replace(/ \(os error \d+\)/, "").toLowerCase();
}

/**
 * One line for an error met while reading frames: the decoder's message
 * (which names the byte offset), starting lower case to follow a file name.
 */
export function describeReadError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (
    error instanceof Deno.errors.NotFound ||
    error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.IsADirectory
  ) return describeFsError(error);
  const m = error.message;
  return m.charAt(0).toLowerCase() + m.slice(1);
}
