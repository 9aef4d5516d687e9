// A value now or later. The send path answers synchronously when nothing has to be waited for
// (ASYNC_FLUSH, no slave ack to wait for): an async layer per stage cost a promise and a microtask
// hop each, ~0.8 µs per message over the stages of a put (measured), a tenth of the broker's work.

export type MaybePromise<T> = T | Promise<T>;

/** `next(value)` at once when `value` is ready, else once it resolves. */
export function andThen<T, U>(value: MaybePromise<T>, next: (ready: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
