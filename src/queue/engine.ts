import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import { BufferOverflowError } from '../errors.js';
import { addCredit, subscribeCredits } from '../internal/credit.js';
import { dropReporter } from '../internal/drops.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { QueueMetrics } from '../metrics/QueueMetrics.js';
import type { DemandInput, DropHandler, DropReason } from '../types.js';
import type { PriorityStore } from './PriorityStore.js';
import { RingBuffer } from './RingBuffer.js';

/**
 * What happens to an arrival that finds the queue full.
 *
 * - `'error'`: the stream errors with BufferOverflowError; the arrival and everything queued are dropped as `'error'`
 * - `'drop-incoming'`: the arrival is dropped (`'overflow'`)
 * - `'drop-oldest'` / `'drop-newest'`: the head / tail of the queue is evicted (`'evicted'`), the arrival is queued
 * - `'drop-buffer'`: everything queued is evicted (`'evicted'`), the arrival is queued
 * - `'evict-lower-priority'`: the oldest value of the lowest priority strictly below the arrival's is evicted; if there
 *   is none the arrival is dropped (`'overflow'`)
 */
export type Overflow =
  'error' | 'drop-incoming' | 'drop-oldest' | 'drop-newest' | 'drop-buffer' | 'evict-lower-priority';

/** A live queue, as seen by a capacity controller (adaptiveBuffer). */
export interface QueueHandle {
  readonly size: number;
  readonly capacity: number;
  /** Changes the capacity. Shrinking drops nothing: the queue only stops admitting until it is below the bound. */
  setCapacity(capacity: number): void;
  /** When the oldest value still queued was enqueued (scheduler time), or undefined when empty. */
  oldestTime(): number | undefined;
  /** Errors the stream (a controller's callback threw): queued values are dropped with reason 'error'. */
  fail(error: unknown): void;
}

/** Per-subscription capacity controller. */
export interface QueueController {
  /** A value was emitted after waiting `wait` ms in the queue (0 for a value delivered at once). */
  delivered(wait: number): void;
  /** A value was queued. */
  queued(): void;
  unsubscribe(): void;
}

/** Everything that distinguishes one queue operator from another. Operators validate options, then build this. */
export interface QueueSpec<T> {
  operator: string;
  capacity: number;
  overflow: Overflow;
  /** Probability of dropping an arrival while the queue is not full, given fill = queued / capacity. */
  earlyDrop?: ((fill: number) => number) | undefined;
  random?: (() => number) | undefined;
  /**
   * Makes the queue a priority queue (higher first, FIFO within a priority), stored by `priorityStore` (passed in by
   * the operator, so that FIFO operators do not bundle the priority store).
   */
  priority?: ((value: T) => number) | undefined;
  priorityStore?: ((timed: boolean) => PriorityStore<T>) | undefined;
  demand?: DemandInput | undefined;
  upstream?: Demand | undefined;
  onDrop?: DropHandler<T> | undefined;
  metrics?: QueueMetrics | undefined;
  scheduler: SchedulerLike;
  control?: ((queue: QueueHandle) => QueueController) | undefined;
}

type Store<T> = RingBuffer<T> | PriorityStore<T>;

/**
 * The one bounded-queue engine behind every queue operator.
 *
 * Per subscription it holds credit (requested but not yet emitted), a bounded store and the policy from the spec.
 * Values go straight through while credit is outstanding and nothing is queued; otherwise they queue, and a
 * trampolined loop emits them as credit arrives, so a `request()` made inside `next` only adds credit to the running
 * loop (no recursion, no reordering, constant stack however many values are re-requested).
 */
export function boundedQueue<T>(spec: QueueSpec<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const run = new QueueRun(spec, subscriber);
      run.start(source);
      return () => run.teardown();
    });
}

class QueueRun<T> implements QueueHandle {
  private credit: number;
  private draining = false;
  private done = false;
  private terminated = false;
  /** Ended by an error (not by completion or unsubscription). */
  private errored = false;
  private freed = 0;
  private readonly store: Store<T>;
  private readonly timed: boolean;
  private readonly report: ((value: T, reason: DropReason) => void) | undefined;
  private readonly metrics: QueueMetrics | undefined;
  private demandSubscription: Subscription | undefined;
  private controller: QueueController | undefined;
  capacity: number;

  constructor(
    private readonly spec: QueueSpec<T>,
    private readonly destination: Subscriber<T>,
  ) {
    this.capacity = spec.capacity;
    this.credit = spec.demand === undefined ? Infinity : 0;
    this.metrics = spec.metrics;
    this.timed = spec.metrics !== undefined || spec.control !== undefined;
    this.store = spec.priority && spec.priorityStore ? spec.priorityStore(this.timed) : new RingBuffer<T>(this.timed);
    this.report = dropReporter(spec.onDrop, spec.scheduler);
  }

  get size(): number {
    return this.store.size;
  }

  setCapacity(capacity: number): void {
    this.metrics?._capacity(capacity - this.capacity);
    this.capacity = capacity;
  }

  oldestTime(): number | undefined {
    return this.store.oldestTime();
  }

  start(source: Observable<T>): void {
    const { spec } = this;
    this.metrics?._capacity(this.capacity);
    this.metrics?._watch(this);
    if (spec.demand !== undefined) {
      this.demandSubscription = subscribeCredits(
        spec.operator,
        spec.demand,
        (n) => this.addCredit(n),
        (error) => this.fail(error),
      );
    }
    if (this.terminated) return;
    if (spec.control) this.controller = spec.control(this);
    source.subscribe(
      new SourceSubscriber<T>(this.destination, {
        next: (value) => this.arrive(value),
        error: (error) => this.fail(error),
        complete: () => this.upstreamComplete(),
      }),
    );
    if (spec.upstream && !this.terminated && !this.done) spec.upstream.request(this.capacity);
  }

  private arrive(value: T): void {
    if (this.terminated) return;
    this.metrics?._received();
    let rank = 0;
    if (this.spec.priority) {
      rank = this.rankOf(value);
      if (this.terminated) return;
    }
    if (this.spec.earlyDrop) {
      const size = this.store.size;
      if (size < this.capacity && this.dropsEarly(value, size)) {
        this.requestUpstream();
        return;
      }
      if (this.terminated) {
        // values the earlyDrop function pushed back into the source ended the stream meanwhile
        this.dropQuietly(value, this.errored ? 'error' : 'cancelled', false);
        return;
      }
    }
    if (this.store.size === 0 && this.credit > 0 && !this.draining) {
      this.emitNow(value);
    } else if (this.admits(value, rank)) {
      this.enqueue(value, rank);
      if (this.credit > 0) this.drain();
    }
    this.requestUpstream();
  }

  /**
   * Whether an arrival may be queued: there is room, or the overflow policy made some.
   *
   * Queued values that credit already covers take no slot, up to `capacity` of them: they are values pushed back into
   * the source from inside `next`, held only until that call returns (so the queue holds at most twice its capacity,
   * however much credit there is). Room is made once per arrival: values `onDrop` pushes into it meanwhile are queued
   * too, rather than making room again (a retry-on-drop loop would never end).
   */
  private admits(value: T, rank: number): boolean {
    const bound = this.capacity + Math.min(this.credit, this.capacity);
    const size = this.store.size;
    return size < bound || this.makeRoom(value, rank, size, bound);
  }

  private emitNow(value: T): void {
    if (this.credit !== Infinity) this.credit--;
    this.metrics?._emitted(0, false);
    this.controller?.delivered(0);
    this.freed++;
    this.draining = true;
    try {
      this.destination.next(value);
    } finally {
      this.draining = false;
    }
    if (this.store.size > 0) this.drain();
  }

  private enqueue(value: T, rank: number): void {
    const time = this.timed ? this.spec.scheduler.now() : 0;
    if (this.spec.priority) (this.store as PriorityStore<T>).push(value, rank, time);
    else (this.store as RingBuffer<T>).push(value, time);
    this.metrics?._queued();
    this.controller?.queued();
  }

  /** Makes room for an arrival at a full queue. True if the arrival may now be queued. */
  private makeRoom(value: T, rank: number, size: number, bound: number): boolean {
    const { overflow } = this.spec;
    if (overflow === 'error') {
      this.fail(
        new BufferOverflowError(
          `${this.spec.operator}: buffer overflow, ${size} values already queued (capacity ${this.capacity})`,
          this.capacity,
        ),
        value,
      );
      return false;
    }
    // Over the bound (adaptiveBuffer shrank it, or onDrop pushed values into room just made), nothing queued is
    // dropped: the queue only stops admitting.
    if (overflow === 'drop-incoming' || size > bound) {
      this.drop(value, 'overflow', false);
      return false;
    }
    const store = this.store;
    switch (overflow) {
      case 'drop-oldest':
        this.drop(store.shift(), 'evicted', true);
        break;
      case 'drop-newest':
        this.drop(store.pop(), 'evicted', true);
        break;
      case 'drop-buffer':
        while (store.size > 0 && !this.terminated) this.drop(store.shift(), 'evicted', true);
        break;
      case 'evict-lower-priority': {
        const lowest = (store as PriorityStore<T>).lowest();
        if (lowest === undefined || lowest >= rank) {
          this.drop(value, 'overflow', false);
          return false;
        }
        this.drop((store as PriorityStore<T>).shiftLowest(), 'evicted', true);
        break;
      }
    }
    if (!this.terminated) return true;
    // onDrop threw on an evicted value and errored the stream: the arrival was never queued, so it is dropped too.
    this.dropQuietly(value, 'error', false);
    return false;
  }

  private rankOf(value: T): number {
    let rank: unknown;
    try {
      rank = this.spec.priority!(value);
    } catch (error) {
      this.fail(error, value);
      return 0;
    }
    if (typeof rank !== 'number' || !Number.isFinite(rank)) {
      this.fail(
        new RangeError(`${this.spec.operator}: priority must return a finite number, got ${String(rank)}`),
        value,
      );
      return 0;
    }
    return rank;
  }

  /** Consults earlyDrop for an arrival at a queue that is not full. True if the arrival was dropped (or failed). */
  private dropsEarly(value: T, size: number): boolean {
    let p: unknown;
    try {
      p = this.spec.earlyDrop!(size / this.capacity);
    } catch (error) {
      this.fail(error, value);
      return true;
    }
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      this.fail(
        new RangeError(`${this.spec.operator}: earlyDrop must return a probability in [0, 1], got ${String(p)}`),
        value,
      );
      return true;
    }
    if (p === 0) return false;
    if (p < 1) {
      let r: number;
      try {
        r = this.spec.random!();
      } catch (error) {
        this.fail(error, value);
        return true;
      }
      if (r >= p) return false;
    }
    this.drop(value, 'early', false);
    return true;
  }

  private addCredit(n: number): void {
    if (this.terminated) return;
    this.credit = addCredit(this.credit, n);
    if (this.store.size > 0) {
      this.drain();
      this.requestUpstream();
    }
  }

  /** Emits queued values while credit lasts. Re-entrant calls return at once; the running loop picks up their work. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const { store, metrics, controller } = this;
    try {
      while (this.credit > 0 && store.size > 0 && !this.terminated) {
        const value = store.shift();
        if (this.credit !== Infinity) this.credit--;
        if (this.timed) {
          const wait = this.spec.scheduler.now() - store.lastTime;
          metrics?._emitted(wait, true);
          controller?.delivered(wait);
        }
        this.freed++;
        this.destination.next(value);
      }
    } finally {
      this.draining = false;
    }
    if (this.done && store.size === 0) this.finish();
  }

  private requestUpstream(): void {
    const { upstream } = this.spec;
    if (upstream === undefined || this.freed === 0 || this.terminated || this.done) return;
    const n = this.freed;
    this.freed = 0;
    upstream.request(n);
  }

  private upstreamComplete(): void {
    this.done = true;
    if (this.store.size === 0) this.finish();
    else if (this.credit > 0) this.drain();
  }

  private drop(value: T, reason: DropReason, fromQueue: boolean): void {
    this.metrics?._dropped(reason, fromQueue);
    this.freed++;
    if (this.report === undefined) return;
    try {
      this.report(value, reason);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Drops during termination: the first error has won, so a throwing onDrop is not reported again. */
  private dropQuietly(value: T, reason: DropReason, fromQueue: boolean): unknown {
    this.metrics?._dropped(reason, fromQueue);
    if (this.report === undefined) return undefined;
    try {
      this.report(value, reason);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  private release(): void {
    this.demandSubscription?.unsubscribe();
    this.controller?.unsubscribe();
  }

  private finish(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.release();
    this.destination.complete();
  }

  /** Errors the stream: everything queued, then the arrival that caused it (if any), are dropped with reason 'error'. */
  fail(error: unknown, ...arrival: [] | [T]): void {
    if (this.terminated) return;
    this.terminated = true;
    this.errored = true;
    this.store.clear((value) => this.dropQuietly(value, 'error', true));
    if (arrival.length === 1) this.dropQuietly(arrival[0], 'error', false);
    this.release();
    this.destination.error(error);
  }

  teardown(): void {
    let thrown: unknown;
    if (!this.terminated) {
      this.terminated = true;
      this.store.clear((value) => {
        const error = this.dropQuietly(value, 'cancelled', true);
        if (error !== undefined && thrown === undefined) thrown = error;
      });
    }
    this.release();
    this.metrics?._capacity(-this.capacity);
    this.metrics?._unwatch(this);
    if (thrown !== undefined) throw thrown;
  }
}
