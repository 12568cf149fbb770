// Private: the argument checks of WriterSession (options and times).

export const DEFAULT_TIMEOUT = 5_000;
/** Timers of the platforms take at most this many milliseconds. */
const MAX_TIMEOUT = 0x7fff_ffff;

export function checkTimeout(name: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `Cannot create writer session: ${name} must be a number of milliseconds, got ${
        String(value)
      }`,
    );
  }
  if (value < 0 || value > MAX_TIMEOUT) {
    throw new RangeError(
      `Cannot create writer session: ${name} must be from 0 to ${MAX_TIMEOUT} ms, got ${value}`,
    );
  }
  return value;
}

export function checkOptions(options: unknown): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot create writer session: options must be an object, got ${
        options === null ? "null" : typeof options
      }`,
    );
  }
}

export function checkTime(now: unknown, what: string): number {
  if (typeof now !== "number" || Number.isNaN(now)) {
    throw new TypeError(
      `Cannot ${what}: now must be a number of milliseconds, got ${
        String(now)
      }`,
    );
  }
  return now;
}
