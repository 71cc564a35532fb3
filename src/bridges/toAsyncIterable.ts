import type { Observable } from 'rxjs';
import { bridgeSettings } from './options.js';
import type { BridgeOptions } from './options.js';
import { ReadAhead } from './reading.js';

/**
 * An Observable as an async iterator whose reader sets the pace: `for await` with backpressure.
 *
 * The source is subscribed at the first `next()`, not at creation. Each `next()` is one credit, plus `capacity` values
 * read ahead, on the link a demand-aware producer upstream claims (a {@link pull}, a queue operator without `demand`),
 * so `for await (const line of toAsyncIterable(pull(readLines())))` never reads more than `capacity` lines ahead of the
 * loop: the values produced and not yet received never exceed `capacity + 1` (the one a pending `next()` waits for). A
 * push source that outruns the reader fills at most `capacity` values, then `overflow` applies: `'error'` (default)
 * reports the overflowing value `'overflow'`, stops the source, lets the reader have the values held before it, then
 * throws a `BufferOverflowError` from `next()`.
 *
 * Breaking out of `for await` calls `return()`: the source is unsubscribed (a generator behind `pull` runs its
 * `finally`) and values still held are reported `'cancelled'`. An upstream error is thrown from `next()` after the
 * values sent before it. A well-formed iterator: `next()` after the end answers `{ done: true }`, `return()` may be
 * called at any time, and `next()` calls made before the previous one settled are answered in order (each is a credit).
 *
 * ```
 * source:   pull(generator of a, b, c, d, e)          capacity: 2
 * next():   1-------2-------3-------                  (the loop's pace)
 * read:     (abc)---d-------e-------                  a for the first next(), b and c read ahead; one more per next()
 * values:   a-------b-------c-------                  the loop sees them in order; the generator stays 2 ahead
 *
 * source:   -a-b-c-d-|                                (a Subject: ignores demand)   capacity: 2, no next() until 9
 * drops:    -----c----                                 c finds a, b held: reported 'overflow', the source is stopped
 * values:   ---------(ab#)                            then next() throws BufferOverflowError
 * ```
 *
 * ## Example
 * ```ts
 * import { map } from 'rxjs';
 * import { pull, toAsyncIterable } from 'rxjs-backpressure';
 *
 * async function* readRows() {
 *   for (let id = 0; id < 1_000_000; id++) yield { id };
 * }
 * // The generator runs at most 16 rows ahead of the loop, however slow each step is.
 * for await (const row of toAsyncIterable(pull(readRows()).pipe(map((r) => r.id)), { capacity: 16 })) {
 *   await new Promise((resolve) => setTimeout(resolve, 1));
 *   if (row === 100) break; // unsubscribes: the generator is closed
 * }
 * ```
 *
 * @param source the Observable to read
 * @param options `capacity` (default 16), `overflow` (default `'error'`), `onDrop`
 * @see {@link toReadableStream} the same as a WHATWG ReadableStream
 * @see {@link pull} the other way: an async iterable as an Observable
 */
export function toAsyncIterable<T>(source: Observable<T>, options?: BridgeOptions<T>): AsyncIterableIterator<T> {
  return new ObservableIterator<T>(
    new ReadAhead('toAsyncIterable', source, bridgeSettings('toAsyncIterable', source, options)),
  );
}

class ObservableIterator<T> implements AsyncIterableIterator<T> {
  constructor(private readonly reading: ReadAhead<T>) {}

  next(): Promise<IteratorResult<T>> {
    return this.reading.read();
  }

  return(value?: unknown): Promise<IteratorResult<T>> {
    try {
      this.reading.leave();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve({ done: true, value: value as T });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
