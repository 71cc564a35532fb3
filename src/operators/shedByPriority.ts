import type { MonoTypeOperatorFunction } from 'rxjs';
import { fn, positiveInteger, settings } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { boundedQueue } from '../queue/engine.js';
import { EXPIRY } from '../queue/expiry.js';
import { evictLowerPriority } from '../queue/overflow.js';
import { PriorityStore } from '../queue/PriorityStore.js';
import { AGING_SCHEMA, QUEUE_SCHEMA } from '../queue/options.js';
import type { AgingOptions, QueueOptions } from '../queue/options.js';

/** Options of {@link shedByPriority}. */
export interface ShedByPriorityOptions<T> extends QueueOptions<T>, AgingOptions {
  /** Most values queued at once, over all priorities: a positive integer. */
  capacity: number;
  /** The importance of a value: a finite number, higher = more important. Called once per arrival. */
  priority: (value: T) => number;
}

/**
 * Priority load shedding: delivers the most important values first and, when full, sheds the least important.
 *
 * Delivers the highest priority first, FIFO within a priority. When full, an arrival evicts the oldest queued value of
 * the lowest priority strictly below its own (reason `'evicted'`); if there is none, the arrival is dropped (reason
 * `'overflow'`): equal priorities never evict each other. A `priority` that throws or returns a non-finite number
 * errors the stream, and that value is reported dropped with reason `'error'`.
 *
 * Strict priority starves: while higher-priority values keep the queue busy, lower ones wait (and are the first to be
 * shed). That is the point under overload; if low priority must make progress, give it its own stream.
 *
 * Cost per value does not grow with the number queued: one FIFO ring per priority level, levels kept sorted.
 *
 * ```
 * source:  -l-m-h-H-|         (priority: l=0, m=1, h=H=2)
 * demand:  ----------1-1-1--
 * shedByPriority({ capacity: 3, demand, priority })
 * output:  ----------h-H-(m|)
 * drops:   -------l---------  (H evicts l: reason 'evicted')
 * ```
 *
 * ## Example
 * ```ts
 * import { drain, shedByPriority } from 'rxjs-backpressure';
 *
 * const rank = { health: 3, paid: 2, free: 1, batch: 0 } as const;
 * requests$
 *   .pipe(
 *     // 8 handled at once; 500 wait, the most important first; a full queue sheds the least important
 *     shedByPriority({ capacity: 500, priority: (r) => rank[r.tier], onDrop: (d) => reject(d.value) }),
 *     drain((r) => handle(r), { concurrency: 8 }),
 *   )
 *   .subscribe();
 * ```
 *
 * @param options `capacity` and `priority` (required), `demand`, `onDrop`, `metrics`, `scheduler`
 * @see {@link dropOnFull} shedding without priorities
 */
export function shedByPriority<T>(options: ShedByPriorityOptions<T>): MonoTypeOperatorFunction<T> {
  const { metrics, priority, ...rest } = settings('shedByPriority', SHED_BY_PRIORITY, options);
  return boundedQueue<T>({
    operator: 'shedByPriority',
    overflow: evictLowerPriority,
    expiry: EXPIRY,
    priority: priority as (value: T) => number,
    priorityStore: (timed) => new PriorityStore<T>(timed),
    ...rest,
    recorder: metrics,
  });
}

const SHED_BY_PRIORITY = {
  capacity: positiveInteger,
  priority: fn<(value: never) => number>(),
  ...QUEUE_SCHEMA,
  ...AGING_SCHEMA,
} satisfies Schema<ShedByPriorityOptions<unknown>>;
