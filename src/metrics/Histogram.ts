/**
 * A fixed-memory, log-bucketed histogram of non-negative durations in ms (the DDSketch idea with a fixed range).
 *
 * Bucket i >= 1 holds values in (MIN * G^(i-1), MIN * G^i] (bucket 1 also MIN itself) with
 * G = (1 + ERROR) / (1 - ERROR); a percentile is answered with the bucket's midpoint 2 * MIN * G^i / (G + 1), whose
 * relative error is at most ERROR = 2%. Values below MIN (1 µs), including 0 (a value delivered at once), count in
 * bucket 0 and read as 0. Values above MAX (10^9 ms, about 11.6 days) count in the last bucket. Recording is O(1);
 * reading walks the ~700 buckets once, with no sort and no per-sample storage.
 */
export const RELATIVE_ERROR = 0.02;
const MIN = 0.001;
const MAX = 1e9;
const GROWTH = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(MAX / MIN) / LOG_GROWTH) + 1;

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private largest = 0;

  get count(): number {
    return this.total;
  }

  /** The largest value recorded (exact). */
  get max(): number {
    return this.largest;
  }

  record(ms: number): void {
    this.counts[ms < MIN ? 0 : Math.min(BUCKETS - 1, Math.max(1, Math.ceil(Math.log(ms / MIN) / LOG_GROWTH)))]!++;
    this.total++;
    if (ms > this.largest) this.largest = ms;
  }

  /** Records `n` values of 0 at once (values delivered without waiting, counted lazily by QueueMetrics). */
  recordZeros(n: number): void {
    this.counts[0]! += n;
    this.total += n;
  }

  /**
   * The value at `percentile` (a fraction in [0, 1], nearest rank), within 2% relative error; 0 when empty.
   * `percentile(1)` is the exact maximum.
   */
  percentile(percentile: number): number {
    if (this.total === 0) return 0;
    if (percentile >= 1) return this.largest;
    const rank = Math.max(1, Math.ceil(percentile * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === 0 ? 0 : Math.min(this.largest, (2 * MIN * Math.pow(GROWTH, i)) / (GROWTH + 1));
    }
    return this.largest;
  }

  /**
   * The value at `percentile` among the values recorded since `earlier` (a {@link Histogram.copy} of this histogram
   * taken before), within 2% relative error; 0 when nothing was recorded since.
   */
  percentileSince(earlier: Histogram, percentile: number): number {
    const total = this.total - earlier.total;
    if (total <= 0) return 0;
    const rank = Math.max(1, Math.ceil(Math.min(1, percentile) * total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]! - earlier.counts[i]!;
      if (seen >= rank) return i === 0 ? 0 : Math.min(this.largest, (2 * MIN * Math.pow(GROWTH, i)) / (GROWTH + 1));
    }
    return this.largest;
  }

  /** A copy of the counts so far (to measure a window with {@link Histogram.percentileSince}). */
  copy(): Histogram {
    const copy = new Histogram();
    copy.counts.set(this.counts);
    copy.total = this.total;
    copy.largest = this.largest;
    return copy;
  }

  /** Copies the counts of `other` into this one (reuses the memory of a window mark). */
  copyFrom(other: Histogram): void {
    this.counts.set(other.counts);
    this.total = other.total;
    this.largest = other.largest;
  }

  /** Adds every count of `other` into this one. */
  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    if (other.largest > this.largest) this.largest = other.largest;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.largest = 0;
  }
}
