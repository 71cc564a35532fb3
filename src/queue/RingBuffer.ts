/**
 * A FIFO ring buffer: O(1) push at the tail, shift at the head and pop at the tail, no `Array.shift`.
 *
 * Storage grows by doubling as values arrive (a queue of capacity 10^6 that never holds more than 10 values never
 * allocates 10^6 slots); the caller enforces the bound. With `timed`, each value carries the time it was pushed, kept
 * in a parallel array, so queue-time metrics cost nothing when they are off.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private times: number[] | undefined;
  private head = 0;
  private count = 0;
  private mask: number;
  /** The push time of the value most recently removed by `shift` or `pop` (only with `timed`). */
  lastTime = 0;

  constructor(timed = false, initialSize = 8) {
    let size = 1;
    while (size < initialSize) size <<= 1;
    this.items = new Array<T | undefined>(size);
    this.times = timed ? new Array<number>(size).fill(0) : undefined;
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  push(value: T, time = 0): void {
    if (this.count === this.items.length) this.grow();
    const at = (this.head + this.count) & this.mask;
    this.items[at] = value;
    if (this.times) this.times[at] = time;
    this.count++;
  }

  /** Removes and returns the oldest value. The buffer must not be empty. */
  shift(): T {
    const at = this.head;
    const value = this.items[at] as T;
    this.items[at] = undefined;
    if (this.times) this.lastTime = this.times[at]!;
    this.head = (at + 1) & this.mask;
    this.count--;
    return value;
  }

  /** Removes and returns the newest value. The buffer must not be empty. */
  /** The head, without removing it (the buffer must not be empty). */
  peek(): T {
    return this.items[this.head] as T;
  }

  pop(): T {
    const at = (this.head + this.count - 1) & this.mask;
    const value = this.items[at] as T;
    this.items[at] = undefined;
    if (this.times) this.lastTime = this.times[at]!;
    this.count--;
    return value;
  }

  /** Push time of the oldest value (only with `timed`); undefined when empty. */
  oldestTime(): number | undefined {
    return this.count === 0 || !this.times ? undefined : this.times[this.head];
  }

  /** Removes every value, oldest first, passing each to `visit`. Storage shrinks back to its initial size. */
  clear(visit?: (value: T) => void): void {
    while (this.count > 0) {
      const value = this.shift();
      visit?.(value);
    }
    if (this.items.length > 8) {
      this.items = new Array<T | undefined>(8);
      if (this.times) this.times = new Array<number>(8).fill(0);
      this.mask = 7;
    }
    this.head = 0;
  }

  private grow(): void {
    const size = this.items.length;
    const items = new Array<T | undefined>(size * 2);
    const times = this.times ? new Array<number>(size * 2).fill(0) : undefined;
    for (let i = 0; i < size; i++) {
      const from = (this.head + i) & this.mask;
      items[i] = this.items[from];
      if (times) times[i] = this.times![from]!;
    }
    this.items = items;
    this.times = times;
    this.head = 0;
    this.mask = size * 2 - 1;
  }
}
