import type { Subscription } from 'rxjs';
import type { Clock } from '../internal/clock.js';
import type { TokenBucket } from './bucket.js';

/**
 * A value held by a rate runner: its cost in units (tokens x per), its arrival on the run's clock (read only when
 * something needs it: `maxWait`, metrics), and its place among all arrivals (to report held values oldest first
 * across keys).
 */
export interface Held<T> {
  readonly value: T;
  readonly units: number;
  readonly at: number;
  readonly seq: number;
}

/**
 * One bucket and what waits on it: the whole run without `key`, one per key with it. Every mode uses the fields it
 * needs: `head` is the value being paid for (shape), the value held (latest) or the value asking the store; `line`
 * the values behind it; `timer` the one timer of the lane (payment, expiry, asking again, or the drop-mode gate).
 */
export interface Lane<T> {
  readonly key: string;
  /** Undefined with a store: its tokens live in the store. */
  readonly bucket: TokenBucket | undefined;
  head: Held<T> | undefined;
  /** The values behind the head, oldest first (an array: a line is short, and V8 shifts arrays in O(1)). */
  readonly line: Held<T>[];
  timer: Subscription | undefined;
  /**
   * The head is known to be payable: its payment timer fired (which settles a rounding tie in favour of the payment),
   * or it was found payable and waits for credit.
   */
  paying: boolean;
  /** With a store: when the store said the head can be paid for (-Infinity before it was refused). */
  payable: number;
  /** Mode 'drop': while the gate timer is pending, the level is below this many units. */
  below: number;
  /** The head is asking the store. */
  asking: boolean;
  /** Queued to be served; waiting for credit. */
  due: boolean;
  starved: boolean;
  /** Place in the heap of {@link Lanes} (-1 when not kept), and when the lane is worth nothing again (see there). */
  i: number;
  full: number;
}

/**
 * The buckets of a keyed run, at most `max` of them (`maxKeys`).
 *
 * A lane whose bucket is full again and that holds nothing is worth nothing: a new bucket starts full. Each lane
 * carries that instant (`full`: Infinity while values wait on it), and a min-heap on it finds the first one to go; so
 * when a new key would exceed `max`, a worthless lane is forgotten if there is one, and only otherwise the least
 * recently used lane is evicted (the map keeps use order: a lane used is moved to its end), with what waits on it.
 * Both cost O(log n) per change; memory is `max` lanes at most, however many keys go by.
 *
 * @internal
 */
export class Lanes<T> {
  private readonly map = new Map<string, Lane<T>>();
  private readonly heap: Lane<T>[] = [];

  constructor(
    private readonly max: number,
    private readonly clock: Clock,
    private readonly make: (key: string) => Lane<T>,
    /** A lane goes (forgotten or evicted): the run cancels its timer and drops what waits on it. */
    private readonly gone: (lane: Lane<T>) => void,
  ) {}

  /** Lanes kept now. */
  get size(): number {
    return this.map.size;
  }

  /** The lane of `key`, made if needed, now the most recently used. */
  get(key: string): Lane<T> {
    const { map } = this;
    let lane = map.get(key);
    if (lane !== undefined) {
      map.delete(key);
    } else {
      if (map.size >= this.max) this.room();
      lane = this.make(key);
      lane.i = this.heap.push(lane) - 1;
      this.up(lane.i);
    }
    map.set(key, lane);
    return lane;
  }

  /** The lane's `full` changed. */
  update(lane: Lane<T>): void {
    if (lane.i < 0) return;
    this.up(lane.i);
    this.down(lane.i);
  }

  each(visit: (lane: Lane<T>) => void): void {
    this.map.forEach(visit);
  }

  /** Makes room for one more lane: forgets one that is worth nothing, or evicts the least recently used. */
  private room(): void {
    const top = this.heap[0]!;
    const lane = top.full <= this.clock.now() ? top : this.map.values().next().value!;
    this.map.delete(lane.key);
    const last = this.heap.pop()!;
    if (last !== lane) {
      this.heap[lane.i] = last;
      last.i = lane.i;
      this.update(last);
    }
    lane.i = -1;
    this.gone(lane);
  }

  private up(i: number): void {
    const { heap } = this;
    const lane = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.full <= lane.full) break;
      heap[i] = above;
      above.i = i;
      i = parent;
    }
    heap[i] = lane;
    lane.i = i;
  }

  private down(i: number): void {
    const { heap } = this;
    const lane = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.full < heap[child]!.full) child++;
      const below = heap[child]!;
      if (below.full >= lane.full) break;
      heap[i] = below;
      below.i = i;
      i = child;
    }
    heap[i] = lane;
    lane.i = i;
  }
}
