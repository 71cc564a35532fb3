import type { Observable, SchedulerLike, Subscriber } from 'rxjs';
import { arrive, claim, createLink, emit, grant, offer } from '../demand/link.js';
import type { Link } from '../demand/link.js';
import { RateLimitExceededError } from '../errors.js';
import { Clock, scheduleAfter } from '../internal/clock.js';
import { FAILED, Ledger } from '../internal/ledger.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import type { QueueRecorder } from '../metrics/port.js';
import type { DropHandler } from '../types.js';
import { TokenBucket } from './bucket.js';
import { Lanes } from './lanes.js';
import type { Held, Lane } from './lanes.js';

/** What {@link throttleTokenBucket} does with a value the bucket cannot pay for yet. */
export type ThrottleMode = 'shape' | 'drop' | 'error' | 'latest';

/** The validated options of throttleTokenBucket, as every runner reads them (`metrics` is its recorder). */
export interface RateSettings<T> {
  readonly operator: string;
  readonly rate: number;
  readonly per: number;
  readonly burst: number;
  readonly mode: ThrottleMode;
  readonly cost: ((value: T) => number) | undefined;
  readonly capacity: number;
  readonly maxWait: number | undefined;
  readonly key: ((value: T) => string) | undefined;
  readonly maxKeys: number;
  readonly onDrop: DropHandler<T> | undefined;
  readonly metrics: QueueRecorder | undefined;
  readonly scheduler: SchedulerLike;
}

/** What a runner is to the operator: started on the source, torn down on unsubscription. */
export interface Runner<T> {
  start(source: Observable<T>): void;
  teardown(): void;
}

/**
 * The port by which throttleTokenBucket finds the runner of a store, so that a user who never passes a store never
 * bundles it: the stores this library makes carry it (versioned and registered: a store made by another copy of the
 * package brings its own).
 */
export const STORE_RUNNER: unique symbol = Symbol.for('rxjs-backpressure.token-store-runner.v1') as never;

/** What a store carries under {@link STORE_RUNNER}. */
export type StoreRunner = <T>(settings: RateSettings<T>, destination: Subscriber<T>) => Runner<T>;

/**
 * What every mode shares per subscription, on the ledger of "nothing lost": the clock, the lanes (one bucket and what
 * waits on it, or one per key), arrivals (cost, key, the upstream link), refusing, the `maxWait` rule, timers, the
 * service loop, emissions against the consumer's credit, and completion.
 *
 * Modes that hold values (shape, latest, a store) are participants of the credit link: they claim the consumer's
 * link below (a drain), emit only while it has credit, and offer a link of their own upstream with credit for the
 * room they have, given back one per value that leaves (emitted or dropped). Modes that decide at once (drop, error)
 * are pass-through: they touch no link, and a value they drop gives its credit back by itself (see demand/link.ts).
 */
export abstract class RateRun<T> extends Ledger<T> implements Runner<T> {
  protected readonly clock: Clock;
  /** Arrival times are read (for `maxWait` or queue-time metrics). */
  protected readonly timed: boolean;
  private readonly one: Lane<T> | undefined;
  private readonly lanes: Lanes<T> | undefined;
  /** Room offered to a producer above (participants only). */
  private up: Link | undefined;
  /** Values held in every lane. */
  protected held = 0;
  private seq = 0;
  private readonly due: Lane<T>[] = [];
  private readonly starved: Lane<T>[] = [];
  private serving = false;
  /** Lanes evicted (no longer among the lanes), their values not yet all dropped. */
  private readonly evicted: Lane<T>[] = [];

  constructor(
    protected readonly settings: RateSettings<T>,
    destination: Subscriber<T>,
    /** Holds values: a participant of the credit link, with this much room upstream. 0: pass-through. */
    private readonly room: number,
    /** Lanes keep their own token bucket (no store). */
    private readonly local: boolean,
  ) {
    super(settings.operator, destination, settings.onDrop, settings.scheduler, settings.metrics);
    this.clock = new Clock(settings.scheduler);
    this.timed = settings.maxWait !== undefined || settings.metrics !== undefined;
    if (room > 0) this.down = claim(this.wake);
    const make = (key: string): Lane<T> => ({
      key,
      bucket: local ? new TokenBucket(settings.rate, settings.per, settings.burst) : undefined,
      head: undefined,
      line: [],
      timer: undefined,
      paying: false,
      below: 0,
      payable: -Infinity,
      asking: false,
      due: false,
      starved: false,
      i: -1,
      full: -Infinity,
    });
    if (settings.key === undefined) this.one = make('');
    else this.lanes = new Lanes<T>(settings.maxKeys, this.clock, make, (lane) => this.evict(lane));
  }

  /** Decides an arrival whose cost (in units) and lane are known. */
  protected abstract admit(value: T, units: number, lane: Lane<T>): void;

  /** Serves a lane as far as it goes now: pays for, emits, expires or asks for its values, or arms its timer. */
  protected abstract step(lane: Lane<T>): void;

  start(source: Observable<T>): void {
    const { recorder, room } = this;
    recorder?.capacity(room);
    recorder?.watch(this);
    const upstream = new SourceSubscriber<T>(this.destination, {
      next: (value) => this.arrive(value),
      error: (error) => this.fail(error),
      complete: () => this.upstreamComplete(),
    });
    if (room === 0) {
      source.subscribe(upstream);
    } else {
      this.up = createLink(this.operator, room);
      offer(this.up, () => source.subscribe(upstream));
    }
  }

  private arrive(value: T): void {
    this.recorder?.received();
    const { up, settings } = this;
    if (up !== undefined && up.claimed) arrive(up);
    if (this.over) {
      this.late(value);
      return;
    }
    let units = settings.per;
    if (settings.cost !== undefined) {
      const cost = this.call(settings.cost, value, value);
      if (cost === FAILED) return;
      if (typeof cost !== 'number' || !(cost >= 0) || cost === Infinity) {
        this.reject('cost', 'a finite number >= 0', cost, value);
        return;
      }
      units = cost * settings.per;
    }
    let lane = this.one;
    if (lane === undefined) {
      const key = this.call(settings.key!, value, value);
      if (key === FAILED) return;
      if (typeof key !== 'string') {
        this.reject('key', 'a string', key, value);
        return;
      }
      lane = this.lanes!.get(key);
    }
    this.admit(value, units, lane);
    // lanes evicted to make room for new keys: what waited on them is dropped now that the arrival is counted in
    const { evicted } = this;
    while (evicted.length > 0 && !this.over) {
      const gone = evicted[0]!;
      while (gone.head !== undefined && !this.over) this.drop(this.shift(gone).value, 'evicted', true);
      if (!this.over) evicted.shift();
    }
    this.giveBack();
  }

  /**
   * Refuses a value the bucket cannot pay for, in mode 'drop' (dropped, reason 'rate') or 'error' (the stream errors
   * with RateLimitExceededError; `retryAfter` is the ms until it could be paid for). A value still `held` is reported
   * with the others held, oldest first; an arrival after them.
   */
  protected refuse(value: T, retryAfter: number, held: boolean): void {
    if (this.settings.mode !== 'error') {
      this.drop(value, 'rate', held);
      return;
    }
    const error = new RateLimitExceededError(
      `${this.operator}: rate limit exceeded, the token bucket cannot pay for this value ` +
        `(retry after ${retryAfter} ms)`,
      retryAfter,
    );
    if (held) this.fail(error);
    else this.fail(error, value);
  }

  /** When a value that arrived at `at` (clock ms) has waited `maxWait`: Infinity without it. */
  private expiry(at: number): number {
    const { maxWait } = this.settings;
    return maxWait === undefined ? Infinity : at + maxWait;
  }

  /**
   * The `maxWait` step, for every runner (the one place of its rule and its tie): the head expires if and only if it
   * cannot be paid for within `maxWait` of its arrival, judged by `payable`, the instant the bucket (or the store)
   * can pay for it, not by when a timer happened to fire. A value payable exactly `maxWait` after it arrived is
   * emitted. One that will not be payable in time is dropped `'expired'` at the instant its wait reaches `maxWait`
   * (the lane's timer is armed for it), or at once if the event loop was late for that instant. True if the head
   * expires (dropped now, or the timer armed).
   */
  protected expire(lane: Lane<T>, head: Held<T>, payable: number, now: number): boolean {
    const expiry = this.expiry(head.at);
    if (!(payable > expiry)) return false;
    if (now < expiry) {
      this.arm(lane, expiry - now, false);
    } else {
      this.shift(lane);
      this.drop(head.value, 'expired', true);
    }
    return true;
  }

  /**
   * Pays for the head of `lane` from its bucket and emits it, if the bucket holds what it needs (at most `burst`:
   * above it the value goes into debt) and there is credit below. Otherwise arms the lane's timer for the instant it
   * can be paid for, or waits for credit. A payment timer that fired pays, whatever the clock reads (it settles a
   * rounding tie, and a reading that stood still after a step back). True if the head went out.
   */
  protected pay(lane: Lane<T>, head: Held<T>, now: number): boolean {
    const bucket = lane.bucket!;
    const need = bucket.need(head.units);
    if (lane.paying) bucket.settle(need, now);
    const level = bucket.level(now);
    if (!bucket.affords(need, level)) {
      // for the exact instant it becomes payable (not now + the wait, which would round once per value)
      this.arm(lane, Math.max(0, bucket.dueAt(need) - now), true);
      return false;
    }
    if (this.credit <= 0) {
      lane.paying = true;
      this.starve(lane);
      return false;
    }
    bucket.take(head.units);
    this.shift(lane);
    this.deliver(head.value, now - head.at);
    return true;
  }

  /** A new held value (the lane becomes busy). */
  protected hold(lane: Lane<T>, value: T, units: number): void {
    const held: Held<T> = { value, units, at: this.timed ? this.clock.now() : 0, seq: this.seq++ };
    this.held++;
    this.recorder?.queued();
    if (lane.head === undefined) lane.head = held;
    else lane.line.push(held);
    if (lane.full !== Infinity) {
      lane.full = Infinity;
      this.lanes?.update(lane);
    }
  }

  /** The head leaves the lane (emitted or dropped): the next value in line takes its place. */
  protected shift(lane: Lane<T>): Held<T> {
    const head = lane.head!;
    lane.head = lane.line.shift();
    lane.paying = false;
    lane.payable = -Infinity;
    this.held--;
    return head;
  }

  /** Values waiting in a lane, the head included. */
  protected size(lane: Lane<T>): number {
    return lane.head === undefined ? 0 : 1 + lane.line.length;
  }

  /** A lane holds nothing: from when its bucket is full again, it is worth nothing (see Lanes). */
  protected rest(lane: Lane<T>): void {
    if (this.lanes === undefined || lane.head !== undefined) return;
    const { bucket } = lane;
    lane.full = bucket === undefined ? -Infinity : bucket.dueAt(bucket.size);
    this.lanes.update(lane);
  }

  /** Arms the lane's one timer: in `delay` ms the lane is served again. */
  protected arm(lane: Lane<T>, delay: number, paying: boolean): void {
    lane.paying = paying;
    lane.timer = scheduleAfter(this.scheduler, delay, () => {
      lane.timer = undefined;
      this.turn(lane);
    });
  }

  /** Serves `lane` now, or right after the service running now (re-entrant calls leave the work to it). */
  protected turn(lane: Lane<T>): void {
    this.enqueue(lane);
    this.serve();
  }

  private enqueue(lane: Lane<T>): void {
    if (lane.due) return;
    lane.due = true;
    this.due.push(lane);
  }

  private serve(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      const { due } = this;
      while (due.length > 0 && !this.over) {
        const lane = due.shift()!;
        lane.due = false;
        this.step(lane);
      }
    } finally {
      this.serving = false;
    }
    if (this.state === 'closing' && this.held === 0) this.finish();
    else this.giveBack();
  }

  /** Credit left below: the claimed link's, or unbounded. */
  protected get credit(): number {
    return this.down === undefined ? Infinity : this.down.credit;
  }

  /** The lane's head can be paid for but there is no credit: it is served again when credit arrives. */
  protected starve(lane: Lane<T>): void {
    if (lane.starved) return;
    lane.starved = true;
    this.starved.push(lane);
  }

  protected override credited(): void {
    const { starved } = this;
    if (starved.length === 0 || this.over) return;
    while (starved.length > 0) {
      const lane = starved.shift()!;
      lane.starved = false;
      this.enqueue(lane);
    }
    this.serve();
  }

  /** Emits a value that was held for `wait` ms, against the consumer's credit. */
  protected deliver(value: T, wait: number): void {
    this.recorder?.emitted(wait, true);
    this.freed++;
    if (this.down === undefined) this.destination.next(value);
    else emit(this.down, this.destination, value);
  }

  /** Gives the slots freed by emissions and drops back to the producer above, as credit. */
  private giveBack(): void {
    const { up, freed } = this;
    if (freed === 0 || up === undefined || this.state !== 'open') return;
    this.freed = 0;
    if (up.claimed) grant(up, freed);
  }

  protected upstreamComplete(): void {
    this.state = 'closing';
    if (this.held === 0) this.finish();
  }

  /**
   * A keyed lane goes (Lanes made room for a new key): its timer is cancelled, and it is kept apart until the arrival
   * that made room is admitted; then what waits on it is dropped, reason 'evicted'. A stream that ends meanwhile
   * releases its values with the others.
   */
  protected evict(lane: Lane<T>): void {
    lane.timer?.unsubscribe();
    lane.timer = undefined;
    this.evicted.push(lane);
  }

  /** The oldest arrival still held (queue-time alerts), or undefined. */
  oldestTime(): number | undefined {
    let oldest: Held<T> | undefined;
    const visit = (lane: Lane<T>): void => {
      if (lane.head !== undefined && (oldest === undefined || lane.head.seq < oldest.seq)) oldest = lane.head;
    };
    if (this.one !== undefined) visit(this.one);
    else this.lanes!.each(visit);
    return oldest?.at;
  }

  protected release(visit: (value: T) => void): void {
    const all: Held<T>[] = [];
    const empty = (lane: Lane<T>): void => {
      lane.timer?.unsubscribe();
      lane.timer = undefined;
      if (lane.head !== undefined) all.push(lane.head);
      lane.head = undefined;
      for (const held of lane.line) all.push(held);
      lane.line.length = 0;
    };
    if (this.one !== undefined) empty(this.one);
    else {
      this.lanes!.each(empty);
      this.evicted.forEach(empty);
      this.evicted.length = 0;
      all.sort((a, b) => a.seq - b.seq);
    }
    this.held = 0;
    for (const held of all) visit(held.value);
  }

  protected ended(): void {}

  override teardown(): void {
    try {
      super.teardown();
    } finally {
      this.recorder?.capacity(-this.room);
      this.recorder?.unwatch(this);
    }
  }
}
