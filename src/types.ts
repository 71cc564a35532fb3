import type { Observer, ObservableInput } from 'rxjs';

/**
 * Why a value was dropped.
 *
 * - `'overflow'`: arrived when full and was rejected (drop-incoming, or no lower priority to evict)
 * - `'evicted'`: was buffered and pushed out to make room (drop-oldest, drop-newest, drop-buffer, priority eviction)
 * - `'early'`: random / probabilistic early drop before the queue was full
 * - `'rate'`: a token bucket had no tokens (mode `'drop'`)
 * - `'expired'`: waited longer than `maxWait`
 * - `'error'`: still buffered (or arriving) when the stream errored (upstream error, overflow error, demand error)
 * - `'cancelled'`: still buffered (or, in a drain, in flight) when the subscriber unsubscribed
 * - `'failed'`: a drain's project failed for this value and the drain went on (`onError: 'continue'`); `error` says why
 */
export type DropReason = 'overflow' | 'evicted' | 'early' | 'rate' | 'expired' | 'error' | 'cancelled' | 'failed';

/**
 * Every drop reason, in a stable order (useful for tables and metrics labels).
 *
 * ```
 * DROP_REASONS: overflow, evicted, early, rate, expired, error, cancelled, failed
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
  'failed',
] as const;

/** A value an operator dropped, why, and when (`scheduler.now()`). */
export interface Dropped<T> {
  value: T;
  reason: DropReason;
  at: number;
  /** Reason `'failed'`: the error the drain's project failed with. */
  error?: unknown;
}

/**
 * Where drops are reported: a function, or an Observer / Subject (like `tap()`). Only `next` is called: a drop
 * observer is a side channel, so the stream's completion or error is not forwarded to it (a Subject shared by several
 * streams stays open).
 */
export type DropHandler<T> = ((drop: Dropped<T>) => void) | Partial<Observer<Dropped<T>>>;

/**
 * A stream of `request(n)` credits: a {@link Demand}, or any ObservableInput of positive integers / Infinity (a
 * Demand is one: it is an `Observable<number>`, so the type needs no import of the class).
 */
export type DemandInput = ObservableInput<number>;
