// Private: the check of a timeout option (milliseconds, 0 to 2^31 - 1, the
// range setTimeout takes), shared by the sessions and their shells.

/** The longest timeout, in milliseconds: what `setTimeout` takes. */
export const MAX_TIMEOUT = 2_147_483_647;

/**
 * `value` if it is a timeout in range, `fallback` if it is undefined.
 *
 * @param value The option's value.
 * @param fallback Its default.
 * @param name The option's name, for the message.
 * @param context How the message begins ("Cannot listen").
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is out of range.
 */
export function checkDuration(
  value: number | undefined,
  fallback: number,
  name: string,
  context: string,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `${context}: ${name} must be a number of milliseconds, got ${value}`,
    );
  }
  if (value < 0 || value > MAX_TIMEOUT) {
    throw new RangeError(
      `${context}: ${name} must be from 0 to ${MAX_TIMEOUT} ms, got ${value}`,
    );
  }
  return value;
}
