import { recorderOf } from './port.js';
import type { WaitObserver } from './port.js';

/**
 * Exact cumulative bucket counts of the queue times of one {@link QueueMetrics} from the moment it was attached, for
 * a Prometheus histogram (`_bucket{le}`, `_sum`, `_count`).
 *
 * Exact, not read back from the 2%-error log histogram: every wait > 0 ms is counted into the first bucket whose
 * upper bound holds it, and summed. The values emitted at once (wait 0, most of them while the consumer keeps up) are
 * not seen one by one, so the fast path pays nothing: they are `dequeued` now minus `dequeued` at attach minus the
 * waits seen, and a wait of 0 lies in every bucket (every bound is >= 0). A wait below 0 (a clock that stepped back)
 * counts as 0.
 *
 * @internal
 */
export class QueueTimeBuckets implements WaitObserver {
  /** Waits > 0 in each bucket, not cumulative; the last slot holds the waits above the largest bound. */
  private readonly counts: Float64Array;
  private waits = 0;
  private totalMs = 0;
  private readonly start: number;
  private readonly stop: () => void;

  /**
   * @param bounds upper bounds in seconds, finite, >= 0, strictly increasing (checked by the caller). A wait is
   * compared in seconds (`ms / 1000 <= bound`), as a Prometheus client observing seconds would, so a wait of exactly
   * 5 ms lies in the bucket `le="0.005"`.
   */
  constructor(
    private readonly metrics: { readonly dequeued: number },
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    const recorder = recorderOf(metrics);
    if (recorder?.observe === undefined) throw new TypeError('QueueTimeBuckets: metrics has no observe() port');
    this.start = metrics.dequeued;
    this.stop = recorder.observe(this);
  }

  waited(ms: number): void {
    if (!(ms > 0)) return;
    const { bounds, counts } = this;
    const seconds = ms / 1000;
    // the first bound >= seconds (binary search), or the overflow slot
    let low = 0;
    let high = bounds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (seconds > bounds[mid]!) low = mid + 1;
      else high = mid;
    }
    counts[low]!++;
    this.waits++;
    this.totalMs += ms;
  }

  /** Values dequeued since attach (the `+Inf` bucket and `_count`). */
  get count(): number {
    return this.metrics.dequeued - this.start;
  }

  /** Sum of their waits, in seconds. */
  get sum(): number {
    return this.totalMs / 1000;
  }

  /** Cumulative counts, one per bound (values that waited at most that long), then the `+Inf` count. */
  cumulative(): number[] {
    const count = this.count;
    let seen = count - this.waits; // the values emitted at once, in every bucket
    const result: number[] = [];
    for (let i = 0; i < this.bounds.length; i++) {
      seen += this.counts[i]!;
      result.push(seen);
    }
    result.push(count);
    return result;
  }

  /** Stops counting (the QueueMetrics forgets this accumulator). */
  detach(): void {
    this.stop();
  }
}
