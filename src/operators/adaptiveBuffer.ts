import type { MonoTypeOperatorFunction, Observer } from 'rxjs';
import {
  bounded,
  fail,
  observerOrFunction,
  oneOf,
  optional,
  positiveInteger,
  positiveNumber,
  settings,
  withDefault,
} from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';
import { adaptiveCapacity } from '../queue/adaptive.js';
import { boundedQueue } from '../queue/engine.js';
import { EXPIRY } from '../queue/expiry.js';
import { DROP_POLICIES } from '../queue/overflow.js';
import { AGING_SCHEMA, QUEUE_SCHEMA } from '../queue/options.js';
import type { AgingOptions, QueueOptions } from '../queue/options.js';

/** What {@link adaptiveBuffer} does with an arrival that finds the queue full. */
export type AdaptiveOverflow = 'drop-incoming' | 'drop-oldest';

const OVERFLOWS: readonly AdaptiveOverflow[] = ['drop-incoming', 'drop-oldest'];

/** Options of {@link adaptiveBuffer}. */
export interface AdaptiveBufferOptions<T> extends QueueOptions<T>, AgingOptions {
  /** The smallest capacity it shrinks to: a positive integer. */
  minCapacity: number;
  /** The largest capacity it grows to: a positive integer >= `minCapacity`. */
  maxCapacity: number;
  /** The capacity at subscription: an integer in [minCapacity, maxCapacity]. Default `maxCapacity`. */
  initialCapacity?: number | undefined;
  /** Ms a value may wait in the queue, at `percentile`: a positive number. */
  targetLatency: number;
  /** The percentile of queue wait that is held to `targetLatency`: in (0, 1]. Default 0.99. */
  percentile?: number | undefined;
  /** Ms between adjustments, on `scheduler`: a finite number >= 1. Default 1000. */
  interval?: number | undefined;
  /** Factor applied when the wait is over 2 x `targetLatency`: in (0, 1). Default 0.8. */
  decrease?: number | undefined;
  /** Factor applied when the wait is under `targetLatency` / 2: a finite number > 1. Default 1.2. */
  increase?: number | undefined;
  /**
   * At a full queue: `'drop-incoming'` (default) rejects the arrival (reason `'overflow'`); `'drop-oldest'` evicts the
   * head and queues the arrival (reason `'evicted'`). While the queue is over a capacity that has just shrunk, arrivals
   * are rejected (reason `'overflow'`) under either policy: shrinking never drops what is queued.
   */
  overflow?: AdaptiveOverflow | undefined;
  /**
   * Told of every capacity change, with the new capacity (not of the initial one, which is `initialCapacity`): a
   * function or an Observer / Subject (only `next` is called). One call per change per subscription. If it throws,
   * the stream errors and the queued values are dropped with reason `'error'`.
   */
  onCapacity?: ((capacity: number) => void) | Partial<Observer<number>> | undefined;
}

/**
 * A lossy bounded buffer whose capacity follows queue latency: it shrinks when values wait too long and grows when
 * they flow.
 *
 * Every `interval` (on `scheduler`) it takes the `percentile` queue wait of the values delivered in that interval,
 * exactly, from three counters (no samples kept, no sorting). The age of the oldest value still queued counts as one
 * more sample: that value will wait at least that long, and it is what makes a stalled consumer, which delivers
 * nothing, still shrink the queue. Values delivered at once, without queueing, count as a wait of 0 (the percentile is
 * over every value delivered, as in {@link QueueMetrics.queueTime}); an interval with nothing delivered and nothing
 * queued reads as 0, so an idle stream grows back to `maxCapacity`.
 *
 * Then: over 2 x `targetLatency` the capacity is multiplied by `decrease` and rounded down; under `targetLatency` / 2
 * it is multiplied by `increase` and rounded up; in between it holds. Each step moves at least one slot (a capacity
 * of 1 still grows with `increase` 1.2) and the result is clamped to [minCapacity, maxCapacity]. The dead band
 * between target / 2 and 2 x target (both included) is what keeps a steady load from flip-flopping every interval.
 * The timer sleeps while every tick would change nothing: at `maxCapacity` with nothing queued (woken when a value is
 * queued), or at `minCapacity` with the oldest value already over 2 x target (woken when a value is queued or
 * delivered). So an idle stream leaves nothing on the scheduler, and a marble test over a stream that never ends
 * finishes.
 *
 * Shrinking never drops what is already queued: the queue only stops admitting (reason `'overflow'`) until it is
 * below the new capacity. So the wait comes down only as fast as the consumer drains the excess: started full at
 * 1000 against a consumer of 100/s, values keep waiting about 10 s whatever the capacity says; when overload is
 * expected from the start, give a small `initialCapacity` and let it grow. Growing admits more at once. Everything else
 * is {@link dropOnFull}: credit, drops with reasons, delivery of the queue after upstream completes.
 *
 * Watch the capacity with `onCapacity` (each change of this subscription) or `metrics.capacity` (summed over the
 * subscriptions reporting to it). A callback rather than a `capacity$` Observable because the capacity belongs to a
 * subscription, not to the operator: one operator piped into a shared stream subscribed twice has two capacities,
 * and a callback, like `onDrop`, says which stream it was given to.
 *
 * ```
 * adaptiveBuffer({ minCapacity: 1, maxCapacity: 4, targetLatency: 4, interval: 10, demand, onCapacity })
 * source:    -abcde-----f---------g------------------h-|
 * demand:    --------------------------------i                 (unbounded credit at 32)
 * output:    --------------------------------(abcd)--h-|
 * capacity:  ----------3---------2---------1                   (oldest waited > 2 x 4 ms: shrink)
 * drops:     -----e-----f---------g                            (reason 'overflow')
 * ```
 *
 * ## Example
 * ```ts
 * import { QueueMetrics, adaptiveBuffer, drain } from 'rxjs-backpressure';
 *
 * const metrics = new QueueMetrics();
 * events$
 *   .pipe(
 *     adaptiveBuffer({
 *       minCapacity: 10,
 *       maxCapacity: 10_000,
 *       targetLatency: 200, // p99 queue wait of 200 ms
 *       metrics,
 *       onCapacity: (capacity) => console.log(`queue capacity now ${capacity}`),
 *     }),
 *     drain((event) => store.save(event), { concurrency: 8 }), // the consumer whose pace the queue waits on

 *   )
 *   .subscribe();
 * ```
 *
 * @param options `minCapacity`, `maxCapacity`, `targetLatency` (required), `initialCapacity`, `percentile`,
 * `interval`, `decrease`, `increase`, `overflow`, `onCapacity`, `demand`, `onDrop`, `metrics`, `scheduler`
 * @see {@link dropOnFull} the same buffer with a fixed capacity
 * @see {@link QueueMetrics} `capacity` and `queueTime()` to watch it
 */
export function adaptiveBuffer<T>(options: AdaptiveBufferOptions<T>): MonoTypeOperatorFunction<T> {
  const operator = 'adaptiveBuffer';
  const { metrics, ...o } = settings(operator, ADAPTIVE_BUFFER, options);
  const { minCapacity, maxCapacity } = o;
  if (maxCapacity < minCapacity) {
    fail(operator, 'maxCapacity', `at least minCapacity (${minCapacity})`, maxCapacity, 'range');
  }
  const initialCapacity = o.initialCapacity ?? maxCapacity;
  if (initialCapacity < minCapacity || initialCapacity > maxCapacity) {
    fail(operator, 'initialCapacity', `between ${minCapacity} and ${maxCapacity}`, initialCapacity, 'range');
  }
  return boundedQueue<T>({
    operator,
    capacity: initialCapacity,
    overflow: DROP_POLICIES[o.overflow],
    expiry: EXPIRY,
    demand: o.demand,
    onDrop: o.onDrop,
    scheduler: o.scheduler,
    recorder: metrics,
    maxAge: o.maxAge,
    codel: o.codel,
    control: adaptiveCapacity({ ...o, onCapacity: capacityListener(o.onCapacity) }),
  });
}

/** ms between adjustments: a sub-millisecond interval would schedule faster than any clock resolves (and never let
 * virtual time move on). */
const intervalCheck: Check<number> = (operator, option, value) => {
  const interval = positiveNumber(operator, option, value);
  if (interval < 1) fail(operator, option, 'at least 1 (ms)', interval, 'range');
  return interval;
};

const ADAPTIVE_BUFFER = {
  minCapacity: positiveInteger,
  maxCapacity: positiveInteger,
  initialCapacity: optional(positiveInteger),
  targetLatency: positiveNumber,
  percentile: withDefault(
    bounded('a number in (0, 1]', (p) => p <= 1),
    0.99,
  ),
  interval: withDefault(intervalCheck, 1000),
  decrease: withDefault(
    bounded('a number in (0, 1)', (d) => d < 1),
    0.8,
  ),
  increase: withDefault(
    bounded('a finite number > 1', (i) => i > 1),
    1.2,
  ),
  overflow: withDefault(oneOf(OVERFLOWS), 'drop-incoming'),
  onCapacity: optional(observerOrFunction<((capacity: number) => void) | Partial<Observer<number>>>),
  ...QUEUE_SCHEMA,
  ...AGING_SCHEMA,
} satisfies Schema<AdaptiveBufferOptions<unknown>>;

function capacityListener(
  value: ((capacity: number) => void) | Partial<Observer<number>> | undefined,
): ((capacity: number) => void) | undefined {
  if (value === undefined || typeof value === 'function') return value;
  if (typeof value.next !== 'function') return undefined;
  return (capacity) => value.next!(capacity);
}
