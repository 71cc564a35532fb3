import type { Observer, ObservableInput } from 'rxjs';
import type { Demand } from './demand/Demand.js';

/**
 * Why a value was dropped.
 *
 * - `'overflow'`: arrived when full and was rejected (drop-incoming, or no lower priority to evict)
 * - `'evicted'`: was buffered and pushed out to make room (drop-oldest, drop-newest, drop-buffer, priority eviction)
 * - `'early'`: random / probabilistic early drop before the queue was full
 * - `'rate'`: a token bucket had no tokens (mode `'drop'`)
 * - `'expired'`: waited longer than `maxWait`
 * - `'error'`: still buffered (or arriving) when the stream errored (upstream error, overflow error, demand error)
 * - `'cancelled'`: still buffered when the subscriber unsubscribed
 */
export type DropReason = 'overflow' | 'evicted' | 'early' | 'rate' | 'expired' | 'error' | 'cancelled';

/**
 * Every drop reason, in a stable order (useful for tables and metrics labels).
 *
 * ```
 * DROP_REASONS: overflow, evicted, early, rate, expired, error, cancelled
 * ```
 *
 * ## Example
 * ```ts
 * import { DROP_REASONS, QueueMetrics } from 'rxjs-backpressure';
 *
 * const metrics = new QueueMetrics();
 * for (const reason of DROP_REASONS) console.log(reason, metrics.droppedBy(reason));
 * ```
 */
export const DROP_REASONS: readonly DropReason[] = [
  'overflow',
  'evicted',
  'early',
  'rate',
  'expired',
  'error',
  'cancelled',
] as const;

/** A value an operator dropped, why, and when (`scheduler.now()`). */
export interface Dropped<T> {
  value: T;
  reason: DropReason;
  at: number;
}

/**
 * Where drops are reported: a function, or an Observer / Subject (like `tap()`). Only `next` is called: a drop
 * observer is a side channel, so the stream's completion or error is not forwarded to it (a Subject shared by several
 * streams stays open).
 */
export type DropHandler<T> = ((drop: Dropped<T>) => void) | Partial<Observer<Dropped<T>>>;

/** A stream of `request(n)` credits: a {@link Demand}, or any ObservableInput of positive integers / Infinity. */
export type DemandInput = Demand | ObservableInput<number>;
