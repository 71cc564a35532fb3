/**
 * The arithmetic of a token bucket, with no clock of its own: every method that needs the time is given it.
 *
 * Tokens are kept scaled by `per` ("units": one token is `per` units and `rate` units accrue per ms), so with an
 * integer rate, integer costs and integer times every figure is an exact integer. The level is never advanced by
 * adding up increments: it is recomputed from an anchor as `base + (now - anchor) * rate - spent`, one product and
 * exact sums of costs, so a fractional rate like 0.769 per second neither drifts nor rounds to milliseconds. The anchor
 * moves only when the bucket is found full (accrual above `burst` is lost) or when a timer settles a rounding tie.
 *
 * The level goes negative only in debt (a cost above `burst` let through by `throttleTokenBucket` in mode `'shape'`).
 */
export class TokenBucket {
  /** Bucket size in units (`burst * per`). */
  readonly size: number;
  /** Units accrued per ms. */
  readonly rate: number;
  /**
   * Rounding slack in units: a level this close below a cost pays for it. Sums of fractional costs (ten costs of 0.1
   * make 0.9999999999999999) and a timer due at the instant of payment land a rounding error short of the exact figure.
   */
  private readonly slack: number;
  private anchor = -Infinity;
  private base: number;
  private spent = 0;

  /**
   * @param rate tokens added per `per` ms
   * @param per the period of `rate`, in ms
   * @param burst bucket size in tokens; the bucket starts full
   */
  constructor(
    rate: number,
    readonly per: number,
    burst: number,
  ) {
    this.rate = rate;
    this.size = burst * per;
    this.base = this.size;
    this.slack = this.size * 1e-12;
  }

  /** Whether `level` (= `this.level(now)`) pays for `units`, allowing for rounding. */
  affords(units: number, level: number): boolean {
    return level >= units - this.slack;
  }

  /** The level at `now`, in units. Finding the bucket full re-anchors it there (so `spent` never grows unbounded). */
  level(now: number): number {
    const level = this.base + (now - this.anchor) * this.rate - this.spent;
    if (level < this.size) return level;
    this.anchor = now;
    this.base = this.size;
    this.spent = 0;
    return this.size;
  }

  /** Takes `units` (a level may go negative: debt). */
  take(units: number): void {
    this.spent += units;
  }

  /** ms after `now` until the bucket holds `units`, given `level` = `this.level(now)`. */
  waitFor(units: number, level: number): number {
    return this.affords(units, level) ? 0 : (units - level) / this.rate;
  }

  /** Sets the level at `now` to `units` (a store's bucket whose settings changed keeps its tokens). */
  refill(units: number, now: number): void {
    this.anchor = now;
    this.base = units;
    this.spent = 0;
  }

  /**
   * Sets the level to at least `units` at `now`. A timer due at the instant the bucket holds `units` may compute a
   * level a rounding error short of it; this settles the tie in favour of the timer, so no zero-length timers follow.
   */
  settle(units: number, now: number): void {
    if (this.level(now) < units) this.refill(units, now);
  }
}

/** One request to a {@link TokenBucketStore}: take `tokens` from the bucket described by `rate`, `per` and `burst`. */
export interface TokenRequest {
  /** The cost of one value, a finite number >= 0. Above `burst` it is granted when the bucket is full, into debt. */
  readonly tokens: number;
  /** Tokens added per `per` ms. */
  readonly rate: number;
  /** The period of `rate`, in ms. */
  readonly per: number;
  /** Bucket size in tokens; a bucket nobody has used yet is full. */
  readonly burst: number;
  /** The asking operator's `scheduler.now()`. A store shared between processes uses its own clock instead. */
  readonly now: number;
}

/**
 * A store's answer: the tokens were taken, or they were not and the bucket can pay `retryAfter` ms from now at the
 * soonest.
 */
export type TokenGrant = { readonly granted: true } | { readonly granted: false; readonly retryAfter: number };

/**
 * Where the tokens of a `throttleTokenBucket` live when they are shared: one bucket, used by every subscription (in
 * any process) that asks it. `take` answers at once (a local bucket) or with a promise (a remote one, e.g.
 * `redisTokenBucketStore` from `rxjs-backpressure/redis`); it must take the tokens and decide atomically. A store that
 * cannot reach its bucket should answer by its own policy rather than reject; a rejection errors the stream.
 */
export interface TokenBucketStore {
  take(request: TokenRequest): TokenGrant | PromiseLike<TokenGrant>;
}

const GRANTED: TokenGrant = { granted: true };

/**
 * A token bucket in this process's memory, shared by every `throttleTokenBucket` given it as `store`: answers
 * synchronously, on the clock of the asking operator's scheduler (`request.now`), with the exact arithmetic of
 * the built-in bucket.
 *
 * ```
 * store = memoryTokenBucketStore()
 * a:       -x-y----|            a.pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'drop', store }))
 * b:       --u--v--|            b.pipe(... the same store ...)
 * outputs: -x---v--|            one bucket: x is paid for, y and u are dropped, v is paid for 4 frames after x
 * ```
 *
 * ## Example
 * ```ts
 * import { merge } from 'rxjs';
 * import { memoryTokenBucketStore, throttleTokenBucket } from 'rxjs-backpressure';
 *
 * // Uploads and downloads share one budget of 10 requests a second.
 * const store = memoryTokenBucketStore();
 * const limit = <T>() => throttleTokenBucket<T>({ rate: 10, burst: 10, store });
 * merge(uploads$.pipe(limit()), downloads$.pipe(limit())).subscribe(send);
 * ```
 *
 * @see throttleTokenBucket
 */
export function memoryTokenBucketStore(): TokenBucketStore {
  let bucket: TokenBucket | undefined;
  let burst = NaN;
  return {
    take(request: TokenRequest): TokenGrant {
      const { rate, per, now } = request;
      if (bucket === undefined) {
        bucket = new TokenBucket(rate, per, request.burst);
        burst = request.burst;
      } else if (bucket.rate !== rate || bucket.per !== per || burst !== request.burst) {
        // Asked with other settings: the same bucket, resized; it keeps its tokens (up to the new burst).
        const tokens = bucket.level(now) / bucket.per;
        bucket = new TokenBucket(rate, per, request.burst);
        burst = request.burst;
        bucket.refill(Math.min(tokens, request.burst) * per, now);
      }
      const units = request.tokens * per;
      const need = units < bucket.size ? units : bucket.size;
      const level = bucket.level(now);
      if (bucket.affords(need, level)) {
        bucket.take(units);
        return GRANTED;
      }
      return { granted: false, retryAfter: bucket.waitFor(need, level) };
    },
  };
}
