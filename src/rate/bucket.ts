/**
 * The arithmetic of a token bucket, with no clock of its own: every method that needs the time is given it (a
 * monotonic reading, see internal/clock.ts).
 *
 * Tokens are kept scaled by `per` ("units": one token is `per` units and `rate` units accrue per ms), so with an
 * integer rate, integer costs and integer times every figure is an exact integer. The level is never advanced by
 * adding up increments: it is recomputed from an anchor as `base + (now - anchor) * rate - spent`, one product and
 * exact sums of costs, so a fractional rate like 0.769 per second neither drifts nor rounds to milliseconds. The anchor
 * moves only when the bucket is found full (accrual above `burst` is lost) or when a timer settles a rounding tie.
 *
 * The level goes negative only in debt: a cost above `burst` let through once the bucket is full ({@link need}).
 *
 * @internal
 */
export class TokenBucket {
  /** Bucket size in units (`burst * per`). */
  readonly size: number;
  /**
   * Rounding slack in units: a level this close below a cost pays for it. Sums of fractional costs (ten costs of 0.1
   * make 0.9999999999999999) and a timer due at the instant of payment land a rounding error short of the exact figure.
   */
  private readonly slack: number;
  private anchor = -Infinity;
  private base: number;
  private spent = 0;

  /**
   * @param rate tokens added per `per` ms (= units per ms)
   * @param per the period of `rate`, in ms
   * @param burst bucket size in tokens; the bucket starts full
   */
  constructor(
    readonly rate: number,
    readonly per: number,
    burst: number,
  ) {
    this.size = this.base = burst * per;
    this.slack = this.size * 1e-12;
  }

  /**
   * Pay at most `burst`: the units the bucket must hold to let a value of `units` through. A cost above the bucket
   * size waits for a full bucket (and then goes into debt); modes that cannot go into debt refuse it instead.
   */
  need(units: number): number {
    return units < this.size ? units : this.size;
  }

  /** Whether `level` (= `this.level(now)`) pays for `units`, allowing for rounding. */
  affords(units: number, level: number): boolean {
    return level >= units - this.slack;
  }

  /** The level at `now`, in units. Finding the bucket full re-anchors it there (so `spent` never grows unbounded). */
  level(now: number): number {
    const level = this.base + (now - this.anchor) * this.rate - this.spent;
    if (level < this.size) return level;
    this.refill(this.size, now);
    return this.size;
  }

  /** Takes `units` (the level may go negative: debt). Read the level at the time of payment first. */
  take(units: number): void {
    this.spent += units;
  }

  /** ms after `now` until the bucket holds `units` (at most its size), given `level` = `this.level(now)`. */
  waitFor(units: number, level: number): number {
    return this.affords(units, level) ? 0 : (units - level) / this.rate;
  }

  /**
   * The instant the level reaches `units` (at most its size), allowing for rounding: in the past when it holds them.
   * Exact however late it is asked, as long as nothing was taken since: below its size the level is not capped.
   */
  dueAt(units: number): number {
    return this.anchor + (units - this.slack - this.base + this.spent) / this.rate;
  }

  /** Sets the level at `now` to `units` (a store's bucket whose settings changed keeps its tokens). */
  refill(units: number, now: number): void {
    this.anchor = now;
    this.base = units;
    this.spent = 0;
  }

  /**
   * Sets the level to at least `units` at `now`. A timer due at the instant the bucket holds `units` may compute a
   * level a rounding error short of it, or, after the clock stepped back, a reading that stood still while the
   * timer's delay passed: the timer is the authority, so the value it waited for is paid for when it fires.
   */
  settle(units: number, now: number): void {
    if (this.level(now) < units) this.refill(units, now);
  }
}
