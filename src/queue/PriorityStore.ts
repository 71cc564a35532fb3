import { RingBuffer } from './RingBuffer.js';

const MAX_IDLE_LEVELS = 64;

/**
 * Queued values by priority: one FIFO ring per priority level, and the levels in use kept sorted (highest first).
 *
 * shift (highest priority, oldest first) and evicting the oldest of the lowest level are O(1); a push is O(1) for a
 * level already in use and O(log levels) to find the place of a new level (plus moving the few level entries after it).
 */
export class PriorityStore<T> {
  private readonly rings = new Map<number, RingBuffer<T>>();
  /** Levels that hold values, highest first. */
  private readonly levels: number[] = [];
  private count = 0;
  lastTime = 0;

  constructor(private readonly timed: boolean) {}

  get size(): number {
    return this.count;
  }

  push(value: T, rank: number, time = 0): void {
    let ring = this.rings.get(rank);
    if (ring === undefined) {
      ring = new RingBuffer<T>(this.timed, 4);
      this.rings.set(rank, ring);
    }
    if (ring.size === 0) this.levels.splice(this.insertionPoint(rank), 0, rank);
    ring.push(value, time);
    this.count++;
  }

  /** Removes and returns the oldest value of the highest priority. */
  shift(): T {
    return this.take(0, (ring) => ring.shift());
  }

  /** The lowest priority level in use, or undefined when empty. */
  lowest(): number | undefined {
    return this.levels[this.levels.length - 1];
  }

  /** Removes and returns the oldest value of the lowest priority. */
  shiftLowest(): T {
    return this.take(this.levels.length - 1, (ring) => ring.shift());
  }

  /** Removes and returns the newest value of the lowest priority. */
  /** Takes the value that arrived first, whatever its priority (the store must be timed and not empty). */
  shiftOldest(): T {
    let at = 0;
    let oldest = Infinity;
    for (let i = 0; i < this.levels.length; i++) {
      const t = this.rings.get(this.levels[i]!)!.oldestTime()!;
      if (t < oldest) {
        oldest = t;
        at = i;
      }
    }
    return this.take(at, (ring) => ring.shift());
  }

  pop(): T {
    return this.take(this.levels.length - 1, (ring) => ring.pop());
  }

  /** Push time of the oldest value at any level (only when timed). */
  oldestTime(): number | undefined {
    let oldest: number | undefined;
    for (const level of this.levels) {
      const t = this.rings.get(level)!.oldestTime();
      if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    }
    return oldest;
  }

  /** Removes every value, highest priority first, passing each to `visit`. */
  clear(visit?: (value: T) => void): void {
    for (const level of this.levels) this.rings.get(level)!.clear(visit);
    this.rings.clear();
    this.levels.length = 0;
    this.count = 0;
  }

  private take(index: number, remove: (ring: RingBuffer<T>) => T): T {
    const level = this.levels[index]!;
    const ring = this.rings.get(level)!;
    const value = remove(ring);
    this.lastTime = ring.lastTime;
    this.count--;
    if (ring.size === 0) {
      this.levels.splice(index, 1);
      // Keep the rings of a few idle levels for reuse; forget the rest so arbitrary priorities cannot pile up rings.
      if (this.rings.size > MAX_IDLE_LEVELS) this.rings.delete(level);
    }
    return value;
  }

  private insertionPoint(rank: number): number {
    let lo = 0;
    let hi = this.levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.levels[mid]! > rank) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
