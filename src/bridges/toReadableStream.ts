import type { Observable } from 'rxjs';
import { bridgeSettings } from './options.js';
import type { BridgeOptions } from './options.js';
import { ReadAhead } from './reading.js';

/**
 * An Observable as a WHATWG ReadableStream whose reader sets the pace.
 *
 * The source is subscribed at the first `read()` (the stream's first `pull`), not at creation. Each `pull` of the
 * stream is one credit, plus `capacity` values read ahead, on the link a demand-aware producer upstream claims (a
 * {@link pull}, a queue operator without `demand`): nothing is read more than `capacity` ahead of the reader. The
 * stream's own queue is kept empty (`highWaterMark` 0): the values held ahead are the bridge's, never more than
 * `capacity`. A push source that outruns the reader fills at most `capacity` values, then `overflow` applies
 * (`'error'` by default: the overflowing value is reported `'overflow'`, the source stopped, the values held before
 * it read, then the stream errors with `BufferOverflowError`). `cancel()` unsubscribes the source and reports the
 * values held `'cancelled'`; an upstream error errors the stream after the values sent before it.
 *
 * ```
 * source:   pull(generator of a, b, c, d)              capacity: 1
 * read():   1-----2-----3-----4-----5
 * chunks:   a-----b-----c-----d-----(done)             the generator stays at most 1 ahead of the reader
 *
 * source:   -a-b-#                                     capacity: 16
 * chunks:   -a-b-#                                     a and b are read, then read() rejects with the error
 * ```
 *
 * ## Example
 * ```ts
 * import { interval, map, take } from 'rxjs';
 * import { dropOnFull, toReadableStream } from 'rxjs-backpressure';
 *
 * // A server-sent feed: a slow client sees the latest 100 events; older ones are dropped, not buffered.
 * const feed = interval(10).pipe(
 *   take(1000),
 *   map((n) => `data: ${n}\n\n`),
 *   dropOnFull({ capacity: 100, overflow: 'drop-oldest' }),
 * );
 * const body = toReadableStream(feed, { capacity: 1 }).pipeThrough(new TextEncoderStream());
 * const response = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
 * ```
 *
 * @param source the Observable to read
 * @param options `capacity` (default 16), `overflow` (default `'error'`), `onDrop`
 * @see {@link toAsyncIterable} the same as an async iterator
 * @see {@link writeTo} the sink side: an Observable into a WritableStream or a Node Writable
 */
export function toReadableStream<T>(source: Observable<T>, options?: BridgeOptions<T>): ReadableStream<T> {
  const reading = new ReadAhead('toReadableStream', source, bridgeSettings('toReadableStream', source, options));
  let cancelled = false;
  return new ReadableStream<T>(
    {
      pull: (controller) =>
        reading.read().then(
          (step) => {
            if (cancelled) return;
            if (step.done) controller.close();
            else controller.enqueue(step.value);
          },
          (error: unknown) => {
            if (!cancelled) controller.error(error);
          },
        ),
      cancel: () => {
        cancelled = true;
        reading.leave();
      },
    },
    { highWaterMark: 0 },
  );
}
