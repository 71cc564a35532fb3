/**
 * A count of events over a sliding time window, in fixed memory: {@link SLOTS} + 1 buckets of `duration / SLOTS` ms.
 *
 * {@link SlidingCount.within} counts the events of the last `duration` ms *at most* (they may have happened up to
 * 0.9 x duration ago only): what a budget may spend must not outlive its window. {@link SlidingCount.covering} counts
 * those of the last `duration` ms *at least* (up to 1.1 x duration): what has been spent must not be forgotten early.
 * A slot whose bucket is too old reads as empty, so an idle gap expires everything without a timer.
 */
export const SLOTS = 10;

export class SlidingCount {
  private readonly width: number;
  private readonly index = new Float64Array(SLOTS + 1).fill(-Infinity);
  private readonly counts = new Float64Array(SLOTS + 1);

  constructor(duration: number) {
    this.width = duration / SLOTS;
  }

  /** Counts `n` events at `now`. */
  add(now: number, n = 1): void {
    const index = Math.floor(now / this.width);
    const slot = ((index % (SLOTS + 1)) + SLOTS + 1) % (SLOTS + 1);
    if (this.index[slot] !== index) {
      this.index[slot] = index;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += n;
  }

  /** Events in the current bucket and the 9 before it: no older than `duration`. */
  within(now: number): number {
    return this.sum(now, SLOTS);
  }

  /** Events in the current bucket and the 10 before it: everything of the last `duration`, and a little more. */
  covering(now: number): number {
    return this.sum(now, SLOTS + 1);
  }

  private sum(now: number, buckets: number): number {
    const current = Math.floor(now / this.width);
    let total = 0;
    for (let slot = 0; slot <= SLOTS; slot++) {
      const age = current - this.index[slot]!;
      if (age >= 0 && age < buckets) total += this.counts[slot]!;
    }
    return total;
  }
}
