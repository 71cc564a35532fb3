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
 *
 * @internal
 */
export class TokenBucket {
  /** Bucket size in units (`burst * per`). */
  readonly size: number;
  /** Units accrued per ms. */
  readonly rate: number;
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
    return level >= units ? 0 : (units - level) / this.rate;
  }

  /**
   * Sets the level to at least `units` at `now`. A timer due at the instant the bucket holds `units` may compute a
   * level a rounding error short of it; this settles the tie in favour of the timer, so no zero-length timers follow.
   */
  settle(units: number, now: number): void {
    if (this.level(now) >= units) return;
    this.anchor = now;
    this.base = units;
    this.spent = 0;
  }
}
