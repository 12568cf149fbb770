// Private: whether a callback returned a promise (or another thenable), for
// the loops that await what their callbacks return (the window loop, the
// receiver's connections, the run scanner).

/** Whether `value` is a promise (or any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise ||
    (typeof value === "object" && value !== null &&
      typeof (value as { then?: unknown }).then === "function");
}
