/**
 * The sliding windows a {@link CircuitBreaker} judges failure and slow-call rates over.
 *
 * Both keep fixed memory: a count window is a ring of the last `size` outcomes, a time window is a ring of
 * {@link TIME_BUCKETS} buckets of `duration / TIME_BUCKETS` ms each.
 *
 * @module
 */

/** One recorded call: bit 0 set when it failed, bit 1 set when it was slow. */
export type Outcome = 0 | 1 | 2 | 3;
export const FAILED = 1;
export const SLOW = 2;

/** What a window holds at a moment: how many calls, how many of them failed, how many were slow. */
export interface WindowTotals {
  calls: number;
  failures: number;
  slow: number;
}

/** The window contents of a {@link CircuitBreakerSnapshot}: plain JSON. */
export type WindowSnapshot =
  | { kind: 'count'; size: number; outcomes: number[] }
  | {
      kind: 'time';
      duration: number;
      buckets: Array<{ index: number; calls: number; failures: number; slow: number }>;
    };

export interface CallWindow {
  /** Records one call that ended at `now` (scheduler time; only the time window reads it). */
  record(outcome: Outcome, now: number): void;
  /** The totals of the calls that still count at `now`. */
  totals(now: number): WindowTotals;
  clear(): void;
  toJSON(): WindowSnapshot;
  /** Restores snapshot contents if they were taken from a window of the same kind and size; else leaves it empty. */
  restore(snapshot: WindowSnapshot): void;
}

/** The last `size` calls, in a ring of outcome bytes with running totals (O(1) per call). */
export class CountWindow implements CallWindow {
  private readonly outcomes: Uint8Array;
  private next = 0;
  private length = 0;
  private failures = 0;
  private slow = 0;

  constructor(private readonly size: number) {
    this.outcomes = new Uint8Array(size);
  }

  record(outcome: Outcome): void {
    if (this.length === this.size) {
      const evicted = this.outcomes[this.next]!;
      this.failures -= evicted & FAILED;
      this.slow -= (evicted & SLOW) >> 1;
    } else {
      this.length++;
    }
    this.outcomes[this.next] = outcome;
    this.failures += outcome & FAILED;
    this.slow += (outcome & SLOW) >> 1;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
  }

  totals(): WindowTotals {
    return { calls: this.length, failures: this.failures, slow: this.slow };
  }

  clear(): void {
    this.next = 0;
    this.length = 0;
    this.failures = 0;
    this.slow = 0;
  }

  toJSON(): WindowSnapshot {
    const outcomes: number[] = [];
    const first = (this.next - this.length + this.size) % this.size;
    for (let i = 0; i < this.length; i++) outcomes.push(this.outcomes[(first + i) % this.size]!);
    return { kind: 'count', size: this.size, outcomes };
  }

  restore(snapshot: WindowSnapshot): void {
    this.clear();
    if (snapshot.kind !== 'count' || snapshot.size !== this.size) return;
    for (const outcome of snapshot.outcomes.slice(-this.size)) this.record((outcome & 3) as Outcome);
  }
}

/** How many buckets a time window is cut into. */
export const TIME_BUCKETS = 10;

/**
 * The calls of the last `duration` ms, in {@link TIME_BUCKETS} buckets of `duration / TIME_BUCKETS` ms.
 *
 * A call ending at time t falls into bucket `floor(t / width)` and counts while the current bucket index is less than
 * {@link TIME_BUCKETS} past it: so a call counts for between 0.9 and 1 times `duration`. A bucket slot whose index is
 * too old reads as empty, so a long idle gap expires everything without any timer.
 */
export class TimeWindow implements CallWindow {
  private readonly width: number;
  private readonly index = new Float64Array(TIME_BUCKETS).fill(-Infinity);
  private readonly calls = new Uint32Array(TIME_BUCKETS);
  private readonly failures = new Uint32Array(TIME_BUCKETS);
  private readonly slow = new Uint32Array(TIME_BUCKETS);

  constructor(private readonly duration: number) {
    this.width = duration / TIME_BUCKETS;
  }

  record(outcome: Outcome, now: number): void {
    const index = Math.floor(now / this.width);
    const slot = ((index % TIME_BUCKETS) + TIME_BUCKETS) % TIME_BUCKETS;
    if (this.index[slot] !== index) {
      this.index[slot] = index;
      this.calls[slot] = 0;
      this.failures[slot] = 0;
      this.slow[slot] = 0;
    }
    this.calls[slot]!++;
    this.failures[slot]! += outcome & FAILED;
    this.slow[slot]! += (outcome & SLOW) >> 1;
  }

  totals(now: number): WindowTotals {
    const current = Math.floor(now / this.width);
    const totals = { calls: 0, failures: 0, slow: 0 };
    for (let slot = 0; slot < TIME_BUCKETS; slot++) {
      if (current - this.index[slot]! >= TIME_BUCKETS) continue;
      totals.calls += this.calls[slot]!;
      totals.failures += this.failures[slot]!;
      totals.slow += this.slow[slot]!;
    }
    return totals;
  }

  clear(): void {
    this.index.fill(-Infinity);
  }

  toJSON(): WindowSnapshot {
    const buckets: Array<{ index: number; calls: number; failures: number; slow: number }> = [];
    for (let slot = 0; slot < TIME_BUCKETS; slot++) {
      const index = this.index[slot]!;
      if (index === -Infinity || this.calls[slot] === 0) continue;
      buckets.push({ index, calls: this.calls[slot]!, failures: this.failures[slot]!, slow: this.slow[slot]! });
    }
    buckets.sort((a, b) => a.index - b.index);
    return { kind: 'time', duration: this.duration, buckets };
  }

  restore(snapshot: WindowSnapshot): void {
    this.clear();
    if (snapshot.kind !== 'time' || snapshot.duration !== this.duration) return;
    for (const bucket of snapshot.buckets.slice(-TIME_BUCKETS)) {
      const slot = ((bucket.index % TIME_BUCKETS) + TIME_BUCKETS) % TIME_BUCKETS;
      this.index[slot] = bucket.index;
      this.calls[slot] = bucket.calls;
      this.failures[slot] = Math.min(bucket.failures, bucket.calls);
      this.slow[slot] = Math.min(bucket.slow, bucket.calls);
    }
  }
}
