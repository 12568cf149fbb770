// Private: turning an engine option into an engine.
import type { Engine, EngineOption } from "./engine.ts";
import {
  FIRST_CAPACITY,
  type ScanEngine,
  TsScanEngine,
  TsWindowEngine,
  type WindowEngine,
} from "./_engine.ts";
import {
  wasmAvailable,
  WasmScanEngine,
  WasmWindowEngine,
} from "./_wasm_engine.ts";

/**
 * Resolves an engine option: `preferred` is what "auto" picks where
 * WebAssembly loads. Throws a TypeError for an unknown option.
 */
export function resolveEngine(
  option: EngineOption | undefined,
  preferred: Engine,
  what: string,
): Engine {
  switch (option ?? "auto") {
    case "auto":
      return preferred === "wasm" && wasmAvailable() ? "wasm" : "ts";
    case "wasm":
      return "wasm";
    case "ts":
      return "ts";
    default:
      throw new TypeError(
        `Cannot create ${what}: engine must be "auto", "wasm" or "ts", got ${
          String(option)
        }`,
      );
  }
}

/**
 * A scan engine of any buffer (the WASM one copies it into its memory); the
 * TS one's table starts at `firstCapacity` entries and grows.
 */
export function makeScanEngine(
  engine: Engine,
  firstCapacity: number = FIRST_CAPACITY,
): ScanEngine {
  return engine === "wasm"
    ? new WasmScanEngine()
    : new TsScanEngine(firstCapacity);
}

/** A scan engine of the bulk path, owning a window of `size` bytes. */
export function makeWindowEngine(engine: Engine, size: number): WindowEngine {
  return engine === "wasm"
    ? new WasmWindowEngine(size)
    : new TsWindowEngine(size);
}
