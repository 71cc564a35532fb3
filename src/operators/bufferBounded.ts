import type { MonoTypeOperatorFunction } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import { positiveInteger, settings } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { boundedQueue } from '../queue/engine.js';
import { errorWhenFull } from '../queue/overflow.js';
import { QUEUE_SCHEMA, upstreamCheck } from '../queue/options.js';
import type { QueueOptions } from '../queue/options.js';

/** Options of {@link bufferBounded}. */
export interface BufferBoundedOptions<T> extends QueueOptions<T> {
  /** Most values queued at once: a positive integer. */
  capacity: number;
  /**
   * The producer's Demand (e.g. the one a {@link pull} source obeys). Given, the operator requests from it only as
   * much as there is room for: `capacity` at subscribe, then, after each delivery, as many as the values that left
   * (so requested-but-not-arrived plus queued never exceeds `capacity`). A demand-aware
   * producer is then blocked instead of overflowing the buffer.
   */
  upstream?: Demand | undefined;
}

/**
 * A lossless bounded buffer: queues while the consumer has no credit, and fails loudly instead of dropping.
 *
 * Values are delivered straight through while credit is outstanding and take no buffer slot; otherwise they queue,
 * FIFO. A value arriving when `capacity` values are already queued errors the stream with `BufferOverflowError`; the
 * queued values and the overflowing one are reported to `onDrop` with reason `'error'`. On upstream complete, queued
 * values are still delivered as credit arrives, then `complete`. An upstream error errors at once (queued values are
 * reported `'error'`); unsubscribing reports them `'cancelled'`. With `upstream`, a demand-aware producer never
 * overflows it.
 *
 * ```
 * source:  -a-b-c-d-|
 * demand:  ----1---2-----1--
 * bufferBounded({ capacity: 3, demand })
 * output:  ----a---(bc)--(d|)           (values wait in the buffer; none is lost)
 * source:  -a-b-c-d-e---|
 * bufferBounded({ capacity: 3, demand: NEVER })
 * output:  -------#                     (d arrives to a full buffer: BufferOverflowError)
 * drops:   -------(abcd)                (reason 'error')
 * ```
 *
 * ## Example
 * ```ts
 * import { bufferBounded, drain, pull } from 'rxjs-backpressure';
 *
 * // The generator is read up to 1000 records ahead of 8 saves in flight, and never further: nothing is dropped.
 * pull(readRecords())
 *   .pipe(
 *     bufferBounded({ capacity: 1000 }),
 *     drain((record) => save(record), { concurrency: 8 }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param options `capacity` (required), `demand`, `upstream`, `onDrop`, `metrics`, `scheduler`
 * @see {@link dropOnFull} the lossy variant
 * @see {@link pull} a producer that `upstream` can block
 */
export function bufferBounded<T>(options: BufferBoundedOptions<T>): MonoTypeOperatorFunction<T> {
  const { metrics, ...rest } = settings('bufferBounded', BUFFER_BOUNDED, options);
  return boundedQueue<T>({ operator: 'bufferBounded', overflow: errorWhenFull, ...rest, recorder: metrics });
}

const BUFFER_BOUNDED = {
  capacity: positiveInteger,
  upstream: upstreamCheck,
  ...QUEUE_SCHEMA,
} satisfies Schema<BufferBoundedOptions<unknown>>;
