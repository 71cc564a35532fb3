import { Observable } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import type { Demand } from '../demand/Demand.js';
import { arrive, claim, createLink, emit, grant, offer } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import { Clock } from '../internal/clock.js';
import { subscribeCredits } from '../internal/credit.js';
import { FAILED, Ledger } from '../internal/ledger.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { DemandInput, DropHandler } from '../types.js';
import type { PriorityStore } from './PriorityStore.js';
import type { AgeTimer, Codel, CodelSettings } from './expiry.js';
import type { OverflowPolicy, Room } from './overflow.js';
import { RingBuffer } from './RingBuffer.js';

/**
 * What became of one arrival, as {@link QueueInlet.arrive} answers it: `'delivered'` emitted at once (against
 * credit), `'queued'` held in the queue (possibly after evicting another value), `'dropped'` reported to `onDrop`.
 */
export type Admission = 'delivered' | 'queued' | 'dropped';

/**
 * A queue run fed by hand instead of by a source Observable (BoundedSubject): the producer calls `arrive` and learns at
 * once what became of the value. It links, takes credit and emits exactly as a piped queue operator does.
 */
export interface QueueInlet<T> {
  arrive(value: T): Admission;
  /** Errors the stream: queued values are reported `'error'`. */
  fail(error: unknown): void;
  /** No more values: the queued ones still go out as credit arrives, then the stream completes. */
  upstreamComplete(): void;
  /** The subscriber left: queued values are reported `'cancelled'`. */
  teardown(): void;
  readonly size: number;
  /** The run has ended (completed, errored, cancelled): nothing more is emitted. */
  readonly over: boolean;
}

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

/**
 * Opens one queue run for `destination` with no source: the caller feeds it through the returned inlet. Call it inside
 * the subscribe function, so the run claims the link of a consumer being subscribed (a drain), as a piped queue does.
 */
export function openQueue<T>(spec: QueueSpec<T>, destination: Subscriber<T>): QueueInlet<T> {
  const run = new QueueRun(spec, destination);
  run.start(undefined);
  return run;
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
  /** What an arrival at a full queue does (queue/overflow.ts: the operator passes only the policy it uses). */
  overflow: OverflowPolicy;
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
  recorder?: QueueRecorder | undefined;
  scheduler: SchedulerLike;
  control?: ((queue: QueueHandle) => QueueController) | undefined;
  /** ms a value may stay queued; older ones are dropped (`'expired'`) the instant they reach it. */
  maxAge?: number | undefined;
  /** The CoDel discipline: drop from the head (`'expired'`) while the wait stays above target (see expiry.ts). */
  codel?: CodelSettings | undefined;
  /** The expiry strategies (queue/expiry.ts), passed by the operators that offer maxAge and codel. */
  expiry?: { AgeTimer: typeof AgeTimer; Codel: typeof Codel } | undefined;
}

type Store<T> = RingBuffer<T> | PriorityStore<T>;

/**
 * The one bounded-queue engine behind every queue operator.
 *
 * Per subscription it holds credit (requested but not yet emitted), a bounded store and the policy from the spec.
 * Values go straight through while credit is outstanding and nothing is queued; otherwise they queue, and a
 * trampolined loop emits them as credit arrives, so a `request()` made inside `next` only adds credit to the running
 * loop (no recursion, no reordering, constant stack however many values are re-requested).
 *
 * Credit comes from the `demand` option; without one, from the consumer below whose link this queue claims at
 * subscription (a drain: see demand/link.ts); with neither, it is unbounded. Upstream, the queue offers a link of its
 * own with credit for the room it has (`capacity` at subscription, then one per value that leaves, emitted or
 * dropped), so a demand-aware producer above it (a `pull()`) is paused instead of overflowing it; `upstream` (a
 * Demand) receives those requests instead.
 */
export function boundedQueue<T>(spec: QueueSpec<T>): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const run = new QueueRun(spec, subscriber);
      run.start(source);
      return () => run.teardown();
    });
}

class QueueRun<T> extends Ledger<T> implements QueueHandle, QueueInlet<T>, Room<T> {
  /** Credit from below: the consumer's link (claimed), or this run's own (from `demand`, or unbounded). */
  private readonly credit: Link;
  /** `credit` is a consumer's link: emissions are attributed to it, and swallowed ones give their credit back. */
  private readonly linked: boolean;
  /** Room offered to a producer above (when there is no `upstream` Demand). */
  private up: Link | undefined;
  /** Inside the emit loop (or a direct delivery): re-entrant calls leave the work to it. */
  private emitting = false;
  readonly store: Store<T>;
  private readonly timed: boolean;
  private demandSubscription: Subscription | undefined;
  private controller: QueueController | undefined;
  /** Time as the queue reads it: monotonic, so a wall clock stepping back makes no wait negative. */
  private readonly clock: Clock;
  private readonly age: AgeTimer | undefined;
  private readonly codel: Codel | undefined;
  capacity: number;

  constructor(
    private readonly spec: QueueSpec<T>,
    destination: Subscriber<T>,
  ) {
    super(spec.operator, destination, spec.onDrop, spec.scheduler, spec.recorder);
    this.capacity = spec.capacity;
    const link = spec.demand === undefined ? claim(this.wake) : undefined;
    this.linked = link !== undefined;
    this.credit = link ?? createLink(spec.operator, spec.demand === undefined ? Infinity : 0);
    if (link === undefined) this.credit.wake = this.wake;
    this.down = link;
    this.clock = new Clock(spec.scheduler);
    const { expiry } = spec;
    this.age =
      spec.maxAge === undefined || expiry === undefined
        ? undefined
        : new expiry.AgeTimer(spec.maxAge, this.clock, spec.scheduler, (due) => this.expireOldest(due));
    this.codel = spec.codel === undefined || expiry === undefined ? undefined : new expiry.Codel(spec.codel);
    this.timed =
      spec.recorder !== undefined || spec.control !== undefined || this.age !== undefined || this.codel !== undefined;
    this.store = spec.priority && spec.priorityStore ? spec.priorityStore(this.timed) : new RingBuffer<T>(this.timed);
  }

  get size(): number {
    return this.store.size;
  }

  setCapacity(capacity: number): void {
    this.recorder?.capacity(capacity - this.capacity);
    this.capacity = capacity;
  }

  oldestTime(): number | undefined {
    const t = this.store.oldestTime();
    return t === undefined ? undefined : this.clock.toScheduler(t);
  }

  /** Starts the run: credit, then the source (none for a run fed by hand through {@link QueueInlet}). */
  start(source: Observable<T> | undefined): void {
    const { spec } = this;
    this.recorder?.capacity(this.capacity);
    this.recorder?.watch(this);
    if (spec.demand !== undefined) {
      const credit = this.credit;
      this.demandSubscription = subscribeCredits(
        spec.operator,
        spec.demand,
        (n) => grant(credit, n),
        (error) => this.fail(error),
      );
    }
    if (this.over) return;
    if (spec.control) this.controller = spec.control(this);
    if (source === undefined) return;
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.fail(error),
      complete: () => this.upstreamComplete(),
    });
    if (spec.upstream !== undefined) {
      offer(undefined, () => source.subscribe(upstream));
      if (this.state === 'open') spec.upstream.request(this.capacity);
    } else {
      this.up = createLink(spec.operator, this.capacity);
      offer(this.up, () => source.subscribe(upstream));
    }
  }

  arrive(value: T): Admission {
    this.recorder?.received();
    const up = this.up;
    if (up !== undefined && up.claimed) arrive(up);
    if (this.over) {
      this.late(value);
      return 'dropped';
    }
    const { spec } = this;
    let rank = 0;
    if (spec.priority) {
      const result = this.call(spec.priority, value, value);
      if (result === FAILED) return 'dropped';
      if (typeof result !== 'number' || !Number.isFinite(result)) {
        this.reject('priority', 'a finite number', result, value);
        return 'dropped';
      }
      rank = result;
    }
    if (spec.earlyDrop) {
      const size = this.store.size;
      if (size < this.capacity && this.dropsEarly(value, size)) {
        this.giveBack();
        return 'dropped';
      }
      if (this.over) {
        // values the earlyDrop function pushed back into the source ended the stream meanwhile
        this.late(value);
        return 'dropped';
      }
    }
    let admission: Admission = 'dropped';
    if (this.store.size === 0 && this.credit.credit > 0 && !this.emitting) {
      admission = 'delivered';
      this.emitNow(value);
    } else if (this.admits(value, rank)) {
      admission = 'queued';
      this.enqueue(value, rank);
      if (this.credit.credit > 0) this.emitQueued();
    }
    this.giveBack();
    return admission;
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
    const credit = this.credit.credit;
    const bound = this.capacity + (credit < this.capacity ? credit : this.capacity);
    const size = this.store.size;
    return size < bound || this.spec.overflow<T>(this, value, rank, size, bound);
  }

  /** Emits one value against the credit from below. */
  private deliver(value: T): void {
    if (this.linked) {
      emit(this.credit, this.destination, value);
      return;
    }
    if (this.credit.credit !== Infinity) this.credit.credit--;
    this.destination.next(value);
  }

  private emitNow(value: T): void {
    this.recorder?.emitted(0, false);
    this.controller?.delivered(0);
    this.freed++;
    this.emitting = true;
    try {
      this.deliver(value);
    } finally {
      this.emitting = false;
    }
    if (this.store.size > 0) this.emitQueued();
  }

  private enqueue(value: T, rank: number): void {
    const time = this.timed ? this.clock.now() : 0;
    if (this.spec.priority) (this.store as PriorityStore<T>).push(value, rank, time);
    else (this.store as RingBuffer<T>).push(value, time);
    this.recorder?.queued();
    this.controller?.queued();
    this.age?.arm(time);
  }

  /** The maxAge timer fired: drop every value that has reached maxAge, oldest first, then wait for the next. */
  private expireOldest(due: number): void {
    const { store } = this;
    const age = this.age!;
    const read = this.clock.now();
    const now = read > due ? read : due;
    while (store.size > 0 && !this.over) {
      if (!age.expired(store.oldestTime()!, now)) break;
      const value = this.spec.priority ? (store as PriorityStore<T>).shiftOldest() : store.shift();
      this.drop(value, 'expired', true);
    }
    if (this.over) return;
    age.arm(store.oldestTime());
    this.giveBack();
    if (this.state === 'closing' && store.size === 0) this.finish();
  }

  // Room, for the overflow policy: reports of a refused arrival and of an evicted queued value.
  refuse(value: T): void {
    this.drop(value, 'overflow', false);
  }

  evict(value: T): void {
    this.drop(value, 'evicted', true);
  }

  override late(value: T): void {
    super.late(value);
  }

  /** Consults earlyDrop for an arrival at a queue that is not full. True if the arrival was dropped (or failed). */
  private dropsEarly(value: T, size: number): boolean {
    const p = this.unit('earlyDrop', 'a probability', this.spec.earlyDrop!, size / this.capacity, value);
    if (p === FAILED || p === 0) return p === FAILED;
    // random() within [0, 1] (Math.random's [0, 1), or 1, which never drops): NaN would drop every arrival
    const r = p < 1 ? this.unit('random', 'a number', this.spec.random!, undefined, value) : 0;
    if (r === FAILED || r >= p) return r === FAILED;
    this.drop(value, 'early', false);
    return true;
  }

  /** Calls a callback that must return a number in [0, 1]; anything else errors the stream and is FAILED. */
  private unit<A>(name: string, what: string, callback: (argument: A) => number, argument: A, value: T) {
    const x = this.call(callback, argument, value);
    if (x === FAILED || (typeof x === 'number' && x >= 0 && x <= 1)) return x;
    return this.reject(name, `${what} in [0, 1]`, x, value);
  }

  /** Credit arrived from below. */
  protected override credited(): void {
    if (this.over || this.store.size === 0) return;
    this.emitQueued();
    this.giveBack();
  }

  /** Emits queued values while credit lasts. Re-entrant calls return at once; the running loop picks up their work. */
  private emitQueued(): void {
    if (this.emitting) return;
    this.emitting = true;
    const { store, recorder, controller, credit } = this;
    try {
      while (credit.credit > 0 && store.size > 0 && !this.over) {
        const value = store.shift();
        if (this.timed) {
          const now = this.clock.now();
          const wait = now - store.lastTime;
          // judged by the clock at dequeue: a stalled event loop does not serve stale values (a drop spends no credit)
          if (this.age?.expired(store.lastTime, now) || this.codel?.drops(wait, now, store.size)) {
            this.drop(value, 'expired', true);
            continue;
          }
          recorder?.emitted(wait, true);
          controller?.delivered(wait);
        }
        this.freed++;
        this.deliver(value);
      }
    } finally {
      this.emitting = false;
    }
    if (this.state === 'closing' && store.size === 0) this.finish();
  }

  /** Gives the slots freed by emissions and drops back to the producer above, as credit. */
  private giveBack(): void {
    const n = this.freed;
    if (n === 0 || this.state !== 'open') return;
    this.freed = 0;
    const { upstream } = this.spec;
    if (upstream !== undefined) upstream.request(n);
    else if (this.up !== undefined && this.up.claimed) grant(this.up, n);
  }

  upstreamComplete(): void {
    this.state = 'closing';
    if (this.store.size === 0) this.finish();
    else if (this.credit.credit > 0) this.emitQueued();
  }

  protected release(visit: (value: T) => void): void {
    this.store.clear(visit);
  }

  protected ended(): void {
    this.demandSubscription?.unsubscribe();
    this.controller?.unsubscribe();
    this.age?.cancel();
  }

  override teardown(): void {
    try {
      super.teardown();
    } finally {
      this.recorder?.capacity(-this.capacity);
      this.recorder?.unwatch(this);
    }
  }
}
