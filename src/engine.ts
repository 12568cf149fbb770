/**
 * Choosing the scan engine: WebAssembly or pure TypeScript.
 *
 * @example
 * ```ts
 * import { isWasmAvailable } from "@fstrm/fstrm/engine";
 *
 * console.log(isWasmAvailable()); // true where WebAssembly instantiates
 * ```
 *
 * @module
 */
import { wasmAvailable } from "./_wasm_engine.ts";

/**
 * A scan engine: `"wasm"`, the AssemblyScript scanner compiled to
 * WebAssembly, or `"ts"`, its pure-TypeScript twin. Both give identical
 * frames, errors and offsets on every input.
 *
 * @example
 * ```ts
 * import type { Engine } from "@fstrm/fstrm";
 *
 * const engine: Engine = "wasm";
 * console.log(engine);
 * ```
 */
export type Engine = "ts" | "wasm";

/**
 * Which engine to use: `"auto"` picks the faster one for the job where
 * WebAssembly instantiates, and the TS engine where it does not; `"wasm"`
 * insists (an error where WebAssembly cannot load, never a silent
 * fallback); `"ts"` never loads WebAssembly.
 *
 * @example
 * ```ts
 * import { FrameDecoder, type EngineOption } from "@fstrm/fstrm";
 *
 * const engine: EngineOption = "ts";
 * console.log(new FrameDecoder({ engine }).engine); // "ts"
 * ```
 */
export type EngineOption = "auto" | Engine;

/**
 * Whether the WebAssembly engine can be loaded in this runtime. Tried once,
 * then remembered.
 *
 * @returns `true` if the WebAssembly scanner instantiates here.
 *
 * @example
 * ```ts
 * import { isWasmAvailable } from "@fstrm/fstrm";
 *
 * if (!isWasmAvailable()) console.log("using the TypeScript engine");
 * ```
 */
export function isWasmAvailable(): boolean {
  return wasmAvailable();
}
