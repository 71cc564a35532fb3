/**
 * The arithmetic of a token bucket, with no clock of its own: every method that needs the time is given it (a
 * monotonic reading, see internal/clock.ts).
 *
 * Tokens are kept scaled by `per` ("units": one token is `per` units and `rate` units accrue per ms), so with an
 * integer rate, integer costs and integer times every figure is an exact integer. The level is never advanced by
 * adding up increments: it is recomputed from an anchor as `base + (now - anchor) * rate - spent`, one product and
 * exact sums of costs, so a fractional rate like 0.769 per second neither drifts nor rounds to milliseconds.
 *
 * The anchor is kept as `origin + offset / rate`: an instant read from the clock plus a whole number of units. When
 * the bucket is found full (accrual above `burst` is lost) the anchor moves to the exact instant it filled, by adding
 * units to `offset`, not to the reading; so the instant a value becomes payable, {@link dueAt}, is one division of
 * exact integers, however many values came before (7 per second: the 8th value at exactly 1000 ms, never a rounding
 * error before or after it). Only a reading the bucket cannot explain (a clock that stepped back, a store whose
 * settings changed) moves the origin.
 *
 * The level goes negative only in debt: a cost above `burst` let through once the bucket is full ({@link need}).
 *
 * Internal to the package (not exported from an entry).
 */
export class TokenBucket {
  /** Bucket size in units (`burst * per`). */
  readonly size: number;
  /**
   * Rounding slack in units: a level this close below a cost pays for it. Sums of fractional costs (ten costs of 0.1
   * make 0.9999999999999999) and a timer due at the instant of payment land a rounding error short of the exact figure.
   */
  private readonly slack: number;
  /** The anchor is `origin + offset / rate`; `offset` is a whole number of units when costs and `per` are integers. */
  private origin = -Infinity;
  private offset = 0;
  private base: number;
  private spent = 0;
  /** The time of the last reading (see {@link affords}). */
  private read = 0;

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

  /**
   * Whether `level` (= `this.level(now)`, the last reading) pays for `units`, allowing for rounding: of the sums of
   * costs (the slack) and of the reading itself, whose last bit is worth more units the later the clock reads.
   */
  affords(units: number, level: number): boolean {
    return level >= units - this.slack - Math.abs(this.read) * this.rate * 1e-15;
  }

  /**
   * The level at `now`, in units. Finding the bucket full moves the anchor to this reading, or to the exact instant it
   * filled if that is this reading but for rounding. Once `offset` and `spent` add up to 256 bucket sizes the origin
   * moves to this reading instead (one rounding of the level, at most once per 256 bucket sizes paid), so the rounding
   * of `(now - origin) * rate - offset - spent` stays far below {@link affords}' slack however long the bucket runs.
   */
  level(now: number): number {
    this.read = now;
    const level = this.base + (now - this.origin) * this.rate - this.offset - this.spent;
    if (level >= this.size) {
      const offset = this.offset + this.size - this.base + this.spent;
      // it filled at this reading, but for rounding (a timer due then): keep the exact instant; filled earlier: the
      // accrual since is lost, so the anchor is this reading
      if (this.origin === -Infinity || offset > this.size * REBASE || !this.affords(level, this.size)) {
        this.refill(this.size, now);
      } else {
        this.offset = offset;
        this.base = this.size;
        this.spent = 0;
      }
      return this.size;
    }
    if (this.offset + this.spent > this.size * REBASE) this.refill(level, now);
    return level;
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
   * The instant the level reaches `units` (at most its size): in the past when it holds them. Never early: one division
   * of the units still missing, counted from the anchor. Exact however late it is asked, as long as nothing was taken
   * since: below its size the level is not capped.
   */
  dueAt(units: number): number {
    return this.origin + (this.offset + units - this.base + this.spent) / this.rate;
  }

  /** Sets the level at `now` to `units` (a store's bucket whose settings changed keeps its tokens). */
  refill(units: number, now: number): void {
    this.origin = now;
    this.offset = 0;
    this.base = units;
    this.spent = 0;
  }

  /**
   * Sets the level to at least `units` at `now`. A timer due at the instant the bucket holds `units` may read a level
   * a rounding error short of it (then {@link affords} pays, and the anchor stays exact), or, after the clock stepped
   * back, a reading that stood still while the timer's delay passed: the timer is the authority, so the value it
   * waited for is paid for when it fires.
   */
  settle(units: number, now: number): void {
    if (!this.affords(units, this.level(now))) this.refill(units, now);
  }
}

/**
 * Bucket sizes of `offset` + `spent` past which the origin moves to the reading: the terms of the level stay within
 * 256 sizes, so their rounding (a few times 2e-16 of them) stays below the slack (1e-12 of a size).
 */
const REBASE = 256;
