/**
 * The one loader of the WebAssembly modules (the frame scanner, the
 * dnstap scan and the quiet scan): each module compiled once and shared, a failure to compile
 * remembered, and every instance made the same way: no imports, memory of
 * its own grown once to what the engine needs, its exports checked, any
 * failure wrapped in one `Error` that says which module and why.
 *
 * @module
 */

/** The memory and layout calls every module exports. */
export interface ModuleExports {
  readonly memory: WebAssembly.Memory;
  inputOffset(): number;
  ensureInput(size: number): number;
}

/** Windows ending past this are out of the modules' range (u32 positions). */
export const MAX_END = 0xfffe_0000;

/**
 * A function giving `bytes` compiled, compiling on the first call; it
 * throws an `Error` ("Cannot load the WebAssembly `what`: ...") if
 * WebAssembly is missing or the bytes do not compile, and remembers that.
 */
export function compileOnce(
  bytes: Uint8Array<ArrayBuffer>,
  what: string,
): () => WebAssembly.Module {
  let compiled: WebAssembly.Module | null = null;
  let failure: Error | null = null;
  return (): WebAssembly.Module => {
    if (compiled !== null) return compiled;
    if (failure === null) {
      try {
        if (typeof WebAssembly !== "object") {
          throw new TypeError("WebAssembly is not available in this runtime");
        }
        compiled = new WebAssembly.Module(bytes);
        return compiled;
      } catch (cause) {
        failure = new Error(
          `Cannot load the WebAssembly ${what}: ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause },
        );
      }
    }
    throw failure;
  };
}

/**
 * Instantiates `module` with no imports, grows its input region to `input`
 * bytes past its input offset (and `extra` more), and runs `check` on its
 * exports (which throws to refuse them).
 *
 * @returns The exports.
 * @throws {Error} "Cannot instantiate the WebAssembly `what`: ..." for any
 *   failure, the cause attached.
 */
export function instantiate<T extends ModuleExports>(
  module: () => WebAssembly.Module,
  what: string,
  input: number,
  check: (exports: T) => void = () => {},
): T {
  const compiled = module();
  try {
    const exports = new WebAssembly.Instance(compiled, {})
      .exports as unknown as T;
    check(exports);
    if (
      input > MAX_END - exports.inputOffset() ||
      exports.ensureInput(input) === 0
    ) {
      throw new RangeError(`cannot grow memory to ${input} input bytes`);
    }
    return exports;
  } catch (cause) {
    throw new Error(
      `Cannot instantiate the WebAssembly ${what}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
  }
}
