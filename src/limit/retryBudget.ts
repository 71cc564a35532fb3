import { asyncScheduler } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { Clock } from '../internal/clock.js';
import { nonNegativeNumber, positiveNumber, scheduler, settings, withDefault } from '../internal/options.js';
import type { Schema } from '../internal/options.js';
import { SlidingCount } from './window.js';

/**
 * A share of retries, spent by every stream given it: `retryAfter({ budget })`, or your own retry logic through
 * `deposit()` / `tryWithdraw()` (after Finagle's RetryBudget).
 */
export interface RetryBudget {
  /** One call was made (a first attempt, not a retry): it earns `ratio` of a retry for the next `ttl` ms. */
  deposit(): void;
  /** Takes one retry if the budget allows it now: true, and it is spent; false, and nothing changes. */
  tryWithdraw(): boolean;
  /** How many retries `tryWithdraw()` would allow now, one after the other. */
  readonly balance: number;
}

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per call made in the last `ttl` ms, a number >= 0. Default 0.2 (20%). */
  ratio?: number | undefined;
  /** Retries allowed in any second whatever the traffic (for clients that call rarely), a number >= 0. Default 10. */
  minPerSecond?: number | undefined;
  /** ms a call counts toward the budget, and a retry against it. Default 10000. */
  ttl?: number | undefined;
  /** Its clock (default `asyncScheduler`). */
  scheduler?: SchedulerLike | undefined;
}

const RETRY_BUDGET = {
  ratio: withDefault(nonNegativeNumber, 0.2),
  minPerSecond: withDefault(nonNegativeNumber, 10),
  ttl: withDefault(positiveNumber, 10_000),
  scheduler: withDefault(scheduler, asyncScheduler),
} satisfies Schema<RetryBudgetOptions>;

/**
 * A retry budget: retries are allowed while they stay under `ratio` of the calls made in the last `ttl` ms plus
 * `minPerSecond` a second, shared by every stream given it (Finagle's RetryBudget, gRPC's retry throttling).
 *
 * Retries with a fixed `maxAttempts` multiply the load on a downstream exactly when it is failing: 10 attempts against
 * a service that answers 503 to everything send it 10x the traffic. A budget bounds the retries by the traffic: under
 * a sustained storm a downstream sees at most `(1 + ratio) x calls + minPerSecond` requests per second, whatever
 * `maxAttempts` says; when calls mostly succeed, the few that fail are all retried.
 *
 * Exactly: the two allowances add up. A retry is charged to the ratio part while fewer than `ratio x calls` retries
 * were charged there in the last `ttl` ms (calls are the `deposit()`s of the last `ttl` ms), else to the `minPerSecond`
 * part while fewer than `minPerSecond` were charged there in the last second; `tryWithdraw()` fails when neither has
 * room. So 100 calls at once allow 0.2 x 100 + 10 = 30 retries, and a sustained 100 calls a second about 30 retries a
 * second. The windows are 10 buckets each and err on the safe side: a call counts for 0.9 to 1 x `ttl`, a retry for
 * 1 to 1.1 x `ttl` (or second). Over any `ttl`, retries stay within `ratio x calls + minPerSecond x ttl / 1000`
 * (Finagle's bound); the `minPerSecond` part is never saved up beyond one second, so a quiet client cannot burst. Time
 * is the scheduler's (monotonic: a wall clock stepping back freezes the windows, it does not refill them).
 *
 * ```
 * calls:    100 per second, every one answered 503, retryAfter({ maxAttempts: 10, budget })
 * retryBudget({ ratio: 0.2, minPerSecond: 10 })
 * sent:     without a budget ~1000/s; with it <= 100 + 0.2 x 100 + 10 = 130/s
 * ```
 *
 * ## Example
 * ```ts
 * import { mergeMap } from 'rxjs';
 * import { fromFetch } from 'rxjs/fetch';
 * import { retryAfter, retryBudget } from 'rxjs-backpressure';
 *
 * // one budget for everything that calls the search service
 * const searchRetries = retryBudget({ ratio: 0.1, minPerSecond: 5 });
 * const results$ = queries$.pipe(
 *   mergeMap((q: string) => fromFetch(`/search?q=${q}`).pipe(retryAfter({ maxAttempts: 5, budget: searchRetries }))),
 * );
 * ```
 *
 * @param options `ratio`, `minPerSecond`, `ttl`, `scheduler` (all optional)
 * @see {@link retryAfter} which spends it
 */
export function retryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  return new Budget(settings('retryBudget', RETRY_BUDGET, options));
}

class Budget implements RetryBudget {
  private readonly clock: Clock;
  private readonly calls: SlidingCount;
  private readonly retries: SlidingCount;
  private readonly recent = new SlidingCount(1000);

  constructor(private readonly s: { ratio: number; minPerSecond: number; ttl: number; scheduler: SchedulerLike }) {
    this.clock = new Clock(s.scheduler);
    this.calls = new SlidingCount(s.ttl);
    this.retries = new SlidingCount(s.ttl);
  }

  deposit(): void {
    this.calls.add(this.clock.now());
  }

  tryWithdraw(): boolean {
    const now = this.clock.now();
    if (this.byRatio(now) > 0) this.retries.add(now);
    else if (this.byRate(now) > 0) this.recent.add(now);
    else return false;
    return true;
  }

  get balance(): number {
    const now = this.clock.now();
    return Math.max(0, Math.ceil(this.byRatio(now))) + Math.max(0, Math.ceil(this.byRate(now)));
  }

  /** Room left in the ratio allowance (> 0: one more retry may be charged there). */
  private byRatio(now: number): number {
    return this.s.ratio * this.calls.within(now) - this.retries.covering(now);
  }

  /** Room left in the per-second allowance. */
  private byRate(now: number): number {
    return this.s.minPerSecond - this.recent.covering(now);
  }
}
