/**
 * Fixed-memory latency recorder: one counter per millisecond up to `limit` ms, one for everything above. Exact to the
 * millisecond, so a load test can read the p99 of a few thousand requests without keeping them.
 */
export class LatencyRecorder {
  private readonly counts: Uint32Array;
  private total = 0;
  private highest = 0;

  constructor(private readonly limit = 60_000) {
    this.counts = new Uint32Array(limit + 2);
  }

  /** Values recorded so far. */
  get count(): number {
    return this.total;
  }

  /** The largest value recorded, in whole ms (0 when empty). */
  get max(): number {
    return this.highest;
  }

  record(ms: number): void {
    const bucket = Math.min(Math.max(0, Math.round(ms)), this.limit + 1);
    this.counts[bucket]!++;
    this.total++;
    if (bucket > this.highest) this.highest = bucket;
  }

  /** The smallest whole ms at or below which `fraction` (0..1) of the values lie; 0 when empty. */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let ms = 0; ms < this.counts.length; ms++) {
      seen += this.counts[ms]!;
      if (seen >= rank) return ms;
    }
    return this.highest;
  }
}
