import type { MonoTypeOperatorFunction } from 'rxjs';
import { fail, fn, oneOf, positiveInteger, probability, settings, withDefault } from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';
import { boundedQueue } from '../queue/engine.js';
import { EXPIRY } from '../queue/expiry.js';
import { DROP_POLICIES } from '../queue/overflow.js';
import { AGING_SCHEMA, QUEUE_SCHEMA } from '../queue/options.js';
import type { AgingOptions, QueueOptions } from '../queue/options.js';

/** What {@link dropOnFull} does with an arrival that finds the queue full. */
export type DropOverflow = 'drop-incoming' | 'drop-oldest' | 'drop-newest' | 'drop-buffer';

const OVERFLOWS: readonly DropOverflow[] = ['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'];

/** Options of {@link dropOnFull}. */
export interface DropOnFullOptions<T> extends QueueOptions<T>, AgingOptions {
  /** Most values queued at once: a positive integer. */
  capacity: number;
  /**
   * At a full queue: `'drop-incoming'` (default) rejects the arrival (reason `'overflow'`); `'drop-oldest'` evicts the
   * head, `'drop-newest'` the most recently queued value, `'drop-buffer'` everything queued (reason `'evicted'`), and
   * queues the arrival.
   */
  overflow?: DropOverflow | undefined;
  /**
   * Early drop while the queue is not full: a probability in [0, 1], or a function of fill = queued / capacity
   * (e.g. `f => f * f` for depth-based shedding). Consulted for every arrival that finds the queue not full (one about
   * to be delivered at once too, with fill 0); `random()` is called only when the probability is strictly between 0
   * and 1. Reason `'early'`. A function that throws or returns anything but a number in [0, 1] errors the stream.
   */
  earlyDrop?: number | ((fill: number) => number) | undefined;
  /** Randomness for `earlyDrop`, returning [0, 1] (else the stream errors). Default `Math.random`; inject in tests. */
  random?: (() => number) | undefined;
}

/**
 * A lossy bounded buffer: queues while the consumer has no credit and drops by policy when full.
 *
 * Nothing is lost silently: every dropped value is reported to `onDrop` with its reason. Values are delivered straight
 * through while credit is outstanding; on upstream complete the queue is still delivered as credit arrives.
 *
 * ```
 * source:  -a-b-c-d-e-|
 * demand:  ------------1-1---
 * dropOnFull({ capacity: 2, demand })            (overflow 'drop-incoming')
 * output:  ------------a-(b|)
 * drops:   -----c-d-e-------                     (reason 'overflow')
 * ```
 * With `capacity: 2` and no credit until the end, each policy keeps:
 * ```
 * source:       -a-b-c-d-|        then demand 1 per frame
 * drop-incoming  keeps a b, drops c d ('overflow')
 * drop-oldest    keeps c d, evicts a b ('evicted')
 * drop-newest    keeps a d, evicts b c ('evicted')
 * drop-buffer    keeps c d: c evicts a b, d queues ('evicted')
 * ```
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import { drain, dropOnFull, type Dropped } from 'rxjs-backpressure';
 *
 * const drops = new Subject<Dropped<Tick>>();
 * drops.subscribe((d) => log.warn(`dropped tick (${d.reason})`));
 * ticks$
 *   .pipe(
 *     // the queue fills while 2 stores are in flight; beyond 100, the oldest tick goes
 *     dropOnFull({ capacity: 100, overflow: 'drop-oldest', earlyDrop: (f) => f * f, onDrop: drops }),
 *     drain((tick) => store(tick), { concurrency: 2 }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param options `capacity` (required), `overflow`, `earlyDrop`, `random`, `demand`, `onDrop`, `metrics`, `scheduler`
 * @see {@link bufferBounded} the lossless variant
 * @see {@link shedByPriority} dropping by importance
 */
export function dropOnFull<T>(options: DropOnFullOptions<T>): MonoTypeOperatorFunction<T> {
  const { metrics, overflow, ...rest } = settings('dropOnFull', DROP_ON_FULL, options);
  return boundedQueue<T>({
    operator: 'dropOnFull',
    ...rest,
    overflow: DROP_POLICIES[overflow],
    expiry: EXPIRY,
    recorder: metrics,
  });
}

/** A probability (the same for every arrival), or a function of fill; undefined for 0. */
const earlyDropCheck: Check<((fill: number) => number) | undefined> = (operator, option, value) => {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (fill: number) => number;
  if (typeof value !== 'number') fail(operator, option, 'a probability or a function of fill', value, 'type');
  const p = probability(operator, option, value);
  return p === 0 ? undefined : () => p;
};

const DROP_ON_FULL = {
  capacity: positiveInteger,
  overflow: withDefault(oneOf(OVERFLOWS), 'drop-incoming'),
  earlyDrop: earlyDropCheck,
  random: withDefault(fn<() => number>(), Math.random),
  ...QUEUE_SCHEMA,
  ...AGING_SCHEMA,
} satisfies Schema<DropOnFullOptions<unknown>>;
