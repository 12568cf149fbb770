// Private helpers of the two handshake state machines.
import type { Frame } from "./frame.ts";
import { printable } from "./_bytes.ts";

/** Renders a list of content types for a message. */
export function describeContentTypes(types: readonly Uint8Array[]): string {
  return types.map(printable).join(", ");
}

/** Throws a TypeError unless `frame` looks like a decoded frame. */
export function checkFrame(frame: Frame): void {
  const f = frame as unknown as Partial<Record<string, unknown>> | null;
  const ok = typeof f === "object" && f !== null && (
    f.kind === "data"
      ? f.data instanceof Uint8Array
      : f.kind === "control" && typeof f.type === "number" &&
        Array.isArray(f.contentTypes) &&
        f.contentTypes.every((t: unknown) => t instanceof Uint8Array)
  );
  if (!ok) {
    throw new TypeError(
      "Cannot handle frame: expected a Frame (a data frame with Uint8Array data, or a control frame with Uint8Array content types)",
    );
  }
}
