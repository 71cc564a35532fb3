import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import {
  fail,
  fn,
  nonNegativeNumber,
  observerOrFunction,
  oneOf,
  optional,
  positiveInteger,
  positiveNumber,
  scheduler,
  settings,
  shaped,
  withDefault,
} from '../internal/options.js';
import type { Check, Schema } from '../internal/options.js';
import { recorderOf } from '../metrics/port.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import { Latest } from '../rate/latest.js';
import { Limiter } from '../rate/limit.js';
import type { TokenBucketStore } from '../rate/protocol.js';
import { STORE_RUNNER } from '../rate/run.js';
import type { RateSettings, Runner, StoreRunner, ThrottleMode } from '../rate/run.js';
import { Shaper } from '../rate/shape.js';
import type { DropHandler } from '../types.js';

export type { ThrottleMode } from '../rate/run.js';

/** Options of {@link throttleTokenBucket}. */
export interface ThrottleTokenBucketOptions<T> {
  /** Tokens added per `per` ms: a positive finite number (fractions are exact: 0.769 does not drift). */
  rate: number;
  /** The period of `rate`, in ms. Default 1000. */
  per?: number | undefined;
  /** Bucket size in tokens, a positive finite number; the bucket starts full. Default 1. */
  burst?: number | undefined;
  /**
   * `'shape'` (default) delays values FIFO until they can be paid for; `'drop'` drops what cannot be paid for now
   * (reason `'rate'`); `'error'` errors the stream with {@link RateLimitExceededError}; `'latest'` holds the latest
   * value it cannot pay for yet (the one held before is dropped, reason `'rate'`) and emits it as soon as it can.
   */
  mode?: ThrottleMode | undefined;
  /**
   * Tokens a value costs, a finite number >= 0; default 1. Called once per arrival. A cost that throws or is negative,
   * NaN or infinite errors the stream (`RangeError` for a bad number) and the value is reported dropped as `'error'`.
   */
  cost?: ((value: T) => number) | undefined;
  /**
   * Mode `'shape'` (and with a `store`): most values waiting at once, per key, a positive integer; arrivals beyond it
   * are dropped as `'overflow'`. Default 1000.
   */
  capacity?: number | undefined;
  /**
   * Mode `'shape'` (and with a `store`): ms a value may wait for tokens. One that cannot be paid for within `maxWait`
   * of its arrival is dropped as `'expired'` when its wait reaches `maxWait`; one payable exactly then is emitted.
   */
  maxWait?: number | undefined;
  /**
   * One bucket per key (tenant, user, route): in `'shape'` and `'latest'` one waiting line / held value per key too
   * (`capacity` counts per key). A key function that throws errors the stream with its error; one that returns
   * anything but a string errors it with a RangeError.
   */
  key?: ((value: T) => string) | undefined;
  /**
   * Most buckets kept with `key`, a positive integer; default 10000. A bucket that is full again (with nothing waiting
   * on it) is forgotten and does not count; when a new key would exceed `maxKeys`, the bucket used least recently
   * goes, and what waits on it is dropped (reason `'evicted'`).
   */
  maxKeys?: number | undefined;
  /** Told of every dropped value, with its reason and time. */
  onDrop?: DropHandler<T> | undefined;
  /**
   * Counters and queue times: every value received counts as enqueued, every value emitted as dequeued (the waiting
   * line of `'shape'`, the held value of `'latest'` are the queue), drops by reason.
   */
  metrics?: QueueMetrics | undefined;
  /** The clock tokens accrue by, and where timers run. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /**
   * Where the tokens live. Default: a bucket of this subscription's own (one per key), in memory, decided
   * synchronously. With a store (`memoryTokenBucketStore()`, `redisTokenBucketStore` from `rxjs-backpressure/redis`,
   * or one of your own through `tokenBucketStore()`), every subscription given it shares its buckets, and values are
   * decided one at a time per key, in arrival order: see the operator's notes.
   */
  store?: TokenBucketStore | undefined;
}

const operator = 'throttleTokenBucket';

const MODES: readonly ThrottleMode[] = ['shape', 'drop', 'error', 'latest'];

/** A QueueMetrics (from any copy of the package), checked by its recording port. */
const metricsCheck: Check<QueueRecorder | undefined> = (op, option, value) =>
  value === undefined ? undefined : (recorderOf(value) ?? fail(op, option, 'a QueueMetrics', value, 'type'));

/** A store made runnable (see tokenBucketStore): its runner, which only then is bundled. */
const storeCheck: Check<StoreRunner | undefined> = (op, option, value) => {
  if (value === undefined) return undefined;
  const run = shaped<{ [STORE_RUNNER]?: unknown }>('a TokenBucketStore (with take())', ['take'])(op, option, value)[
    STORE_RUNNER
  ];
  if (typeof run !== 'function') {
    fail(op, option, 'made by memoryTokenBucketStore(), redisTokenBucketStore() or tokenBucketStore()', value, 'type');
  }
  return run as StoreRunner;
};

const SCHEMA = {
  rate: positiveNumber,
  per: withDefault(positiveNumber, 1000),
  burst: withDefault(positiveNumber, 1),
  mode: withDefault(oneOf(MODES), 'shape'),
  cost: optional(fn<(value: unknown) => number>()),
  capacity: withDefault(positiveInteger, 1000),
  maxWait: optional(nonNegativeNumber),
  key: optional(fn<(value: unknown) => string>()),
  maxKeys: withDefault(positiveInteger, 10_000),
  onDrop: optional(observerOrFunction<DropHandler<unknown>>),
  metrics: metricsCheck,
  scheduler: withDefault(scheduler, asyncScheduler),
  store: storeCheck,
} satisfies Schema<ThrottleTokenBucketOptions<unknown>>;

/**
 * Rate limiting with bursts: lets values through as fast as a token bucket can pay for them, and shapes, drops,
 * errors or keeps the latest of the rest.
 *
 * The bucket holds up to `burst` tokens and starts full; tokens accrue continuously at `rate` per `per` ms, computed
 * exactly from `scheduler.now()` (no refill timer, no rounding to milliseconds). A value costing `cost(value)` tokens
 * (default 1) is admitted at time t if the bucket holds its cost at t, never earlier; a value arriving in the very
 * instant a token falls due may be admitted or not (the same tie as `throttleTime` in virtual time).
 *
 * - `'shape'` (default): a value that cannot be paid for waits, FIFO, until it can: lossless up to `capacity` waiting
 *   values (beyond it arrivals are dropped as `'overflow'`) and `maxWait`. Completion waits for waiting values. A cost
 *   above `burst` waits for a full bucket and goes through into debt: later values wait until the debt is repaid.
 * - `'drop'`: a value that cannot be paid for now is dropped (reason `'rate'`). With
 *   `{ rate: 1, per: d, burst: 1, mode: 'drop' }` this is `throttleTime(d)` (leading edge), except exactly on the
 *   boundary frame.
 * - `'error'`: the first value that cannot be paid for errors the stream with {@link RateLimitExceededError}; its
 *   `retryAfter` is the ms until the bucket could pay (`Infinity` for a cost above `burst`), and the value is reported
 *   dropped as `'error'`.
 * - `'latest'` (UI events: never lose the final one): a value that cannot be paid for now is held, replacing the one
 *   held before (dropped, reason `'rate'`), and goes out the instant the bucket can pay for its own cost; completion
 *   waits for it. With `{ rate: 1, per: d, burst: 1, mode: 'latest' }` this is
 *   `throttleTime(d, scheduler, { leading: true, trailing: true })`, except exactly on the boundary frame.
 *
 * `maxWait` (mode `'shape'`): a value that cannot be paid for within `maxWait` of its arrival is dropped as
 * `'expired'` at the instant its wait reaches `maxWait`; one payable exactly `maxWait` after it arrived is emitted.
 * Expiry is decided by the instant each value can be paid for, not by when a timer fires: after a stalled event loop,
 * values that were payable in time go out, the others are dropped at once.
 *
 * In `'drop'` and `'error'` modes a cost above `burst` can never be paid for. Upstream errors report held values as
 * `'error'` (oldest first, then the value that caused the error); unsubscribing reports them as `'cancelled'` and
 * cancels the timers.
 *
 * `key`: one bucket per key, and in `'shape'` / `'latest'` one line / held value per key, so one key's flood neither
 * delays nor drops another's; at most `maxKeys` buckets, full ones forgotten first, then the least recently used
 * evicted (what waits on it dropped as `'evicted'`).
 *
 * Demand: in `'drop'` and `'error'` the operator passes the credit link of a `drain` below straight through (a value
 * it drops gives its credit back at once). In `'shape'`, `'latest'` and with a store it holds values, so it takes
 * the drain's credit itself (emitting only while the drain has asked for more) and gives a `pull()` above credit for
 * the room it has: `capacity` (1 in `'latest'`) in total across keys, one more for every value that leaves.
 *
 * Time: the clock is read through a monotonic view of `scheduler.now()`: a clock that steps back (NTP, VM resume)
 * neither adds nor removes tokens, and the time between the last reading before the step and the first after it
 * counts as none; a step forward counts as time that passed (the bucket refills, up to `burst`). A timer that fires
 * for a payment pays, whatever the clock reads. Waits longer than 2^31 - 1 ms (a monthly quota) are timed in steps.
 *
 * With a `store` ({@link TokenBucketStore}), the tokens live in the store and every subscription given that store
 * shares its buckets (`memoryTokenBucketStore()` within a process, `redisTokenBucketStore` from
 * `rxjs-backpressure/redis` across processes). Values then ask the store one at a time per key, in arrival order,
 * each with `{ tokens, rate, per, burst, now, key }`: a synchronous store is answered in the same instant; while an
 * asynchronous one answers, later arrivals wait in line (at most `capacity` values held per key, beyond that
 * `'overflow'`). Refused in `'shape'` mode, a value asks again after the store's `retryAfter`; `maxWait` is judged by
 * what the store said. A store that throws or rejects errors the stream. Without a store (the default) nothing of
 * this is bundled: the bucket belongs to the subscription and is decided synchronously as above.
 *
 * Clock reads: one per admitted value, none for a value that waits behind others (unless `maxWait` or `metrics`
 * need its arrival time). In `'drop'` mode, the first value found unpayable closes a gate: one timer is scheduled for
 * the instant the bucket will hold that value's cost, and until it fires every value costing at least as much is
 * dropped without reading the clock.
 *
 * ```
 * source:  -abcd----ef-------gh|
 * throttleTokenBucket({ rate: 1, per: 5, burst: 2, mode: 'drop' })
 * output:  -ab------e--------gh|
 * drops:   ---cd-----f----------   (reason 'rate')
 *
 * source:  -(abc)|
 * throttleTokenBucket({ rate: 1, per: 4, burst: 1 })        (mode 'shape')
 * output:  -a---b---(c|)
 *
 * source:  -abc---de-|
 * throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest' })
 * output:  -a---c---e|
 * drops:   ---b----d--                                      (reason 'rate')
 * ```
 *
 * ## Example
 * ```ts
 * import { fromEvent } from 'rxjs';
 * import { throttleTokenBucket } from 'rxjs-backpressure';
 *
 * // At most 20 pointer updates a second, and the cursor always ends where the pointer stopped.
 * fromEvent<MouseEvent>(window, 'mousemove')
 *   .pipe(throttleTokenBucket({ rate: 20, mode: 'latest' }))
 *   .subscribe((e) => drawCursor(e.clientX, e.clientY));
 *
 * // Stay inside a partner API quota of 100 request units per minute per tenant, queueing up to 50 calls each.
 * calls$.pipe(
 *   throttleTokenBucket({
 *     rate: 100, per: 60_000, burst: 10, cost: (c) => c.units, capacity: 50, key: (c) => c.tenant,
 *   }),
 * );
 * ```
 *
 * @param options `rate` (required), `per`, `burst`, `mode`, `cost`, `capacity`, `maxWait`, `key`, `maxKeys`,
 *   `onDrop`, `metrics`, `scheduler`, `store`
 * @see {@link dropOnFull} bounding a queue without a rate
 * @see {@link memoryTokenBucketStore} one bucket shared by several streams
 * @see {@link https://rxjs.dev/api/operators/throttleTime | throttleTime} the one-token special case of `'drop'` and
 *   `'latest'`
 */
export function throttleTokenBucket<T>(options: ThrottleTokenBucketOptions<T>): MonoTypeOperatorFunction<T> {
  const { store, ...rest } = settings(operator, SCHEMA, options);
  const s = { operator, ...rest } as RateSettings<T>;
  return (source) =>
    new Observable<T>((destination) => {
      const run: Runner<T> =
        store !== undefined
          ? store(s, destination)
          : s.mode === 'shape'
            ? new Shaper(s, destination)
            : s.mode === 'latest'
              ? new Latest(s, destination)
              : new Limiter(s, destination);
      run.start(source);
      return () => run.teardown();
    });
}
