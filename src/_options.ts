// Private: checks of the decoding options shared by every decoding path.
import { MAX_FRAME_LENGTH } from "./constants.ts";

/**
 * Checks `maxFrameLength` and `oversize` for `what` ("decoder",
 * "FrameReader", …); returns whether oversized frames are skipped.
 */
export function checkFrameLimits(
  what: string,
  maxFrameLength: unknown,
  oversize: unknown,
): boolean {
  if (typeof maxFrameLength !== "number" || !Number.isInteger(maxFrameLength)) {
    throw new TypeError(
      `Cannot create ${what}: maxFrameLength must be an integer, got ${
        String(maxFrameLength)
      }`,
    );
  }
  if (maxFrameLength < 1 || maxFrameLength > MAX_FRAME_LENGTH) {
    throw new RangeError(
      `Cannot create ${what}: maxFrameLength must be from 1 to ${MAX_FRAME_LENGTH}, got ${maxFrameLength}`,
    );
  }
  if (oversize !== "error" && oversize !== "skip") {
    throw new TypeError(
      `Cannot create ${what}: oversize must be "error" or "skip", got ${
        String(oversize)
      }`,
    );
  }
  return oversize === "skip";
}
