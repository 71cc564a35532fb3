import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { RateLimitExceededError } from '../errors.js';
import { dropReporter } from '../internal/drops.js';
import { SourceSubscriber } from '../internal/subscriber.js';
import {
  callback,
  checkOptions,
  fail,
  nonNegativeNumber,
  observerOrFunction,
  oneOf,
  positiveInteger,
  positiveNumber,
  scheduler as schedulerOption,
} from '../internal/options.js';
import { RingBuffer } from '../queue/RingBuffer.js';
import type { DropHandler, DropReason } from '../types.js';
import { TokenBucket } from './tokenBucket.js';
import type { TokenBucketStore, TokenGrant } from './tokenBucket.js';

/** What {@link throttleTokenBucket} does with a value the bucket cannot pay for yet. */
export type ThrottleMode = 'shape' | 'drop' | 'error';

const MODES: readonly ThrottleMode[] = ['shape', 'drop', 'error'];

/** Options of {@link throttleTokenBucket}. */
export interface ThrottleTokenBucketOptions<T> {
  /** Tokens added per `per` ms: a positive finite number (fractions are exact: 0.769 does not drift). */
  rate: number;
  /** The period of `rate`, in ms. Default 1000. */
  per?: number | undefined;
  /** Bucket size in tokens, a positive finite number; the bucket starts full. Default 1. */
  burst?: number | undefined;
  /**
   * `'shape'` (default) delays values FIFO until they can be paid for; `'drop'` drops what cannot be paid for now
   * (reason `'rate'`); `'error'` errors the stream with {@link RateLimitExceededError}.
   */
  mode?: ThrottleMode | undefined;
  /**
   * Tokens a value costs, a finite number >= 0; default 1. Called once per arrival. A cost that throws or is negative,
   * NaN or infinite errors the stream (`RangeError` for a bad number) and the value is reported dropped as `'error'`.
   */
  cost?: ((value: T) => number) | undefined;
  /** Mode `'shape'`: most values waiting at once, a positive integer; arrivals beyond it are dropped as `'overflow'`. Default 1000. */
  capacity?: number | undefined;
  /** Mode `'shape'`: ms a value may wait for tokens; still unpaid after that, it is dropped as `'expired'`. */
  maxWait?: number | undefined;
  /** Told of every dropped value, with its reason and time. */
  onDrop?: DropHandler<T> | undefined;
  /** The clock tokens accrue by, and where timers run. Default `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
  /**
   * Where the tokens live. Default: a bucket of this subscription's own, in memory, decided synchronously. With a store
   * (e.g. `memoryTokenBucketStore()`, or `redisTokenBucketStore` from `rxjs-backpressure/redis`), every subscription
   * given it shares its one bucket, and values are decided one at a time, in arrival order: see the operator's notes.
   */
  store?: TokenBucketStore | undefined;
}

const OPTION_KEYS = [
  'rate',
  'per',
  'burst',
  'mode',
  'cost',
  'capacity',
  'maxWait',
  'onDrop',
  'scheduler',
  'store',
] as const;

/** Validated options, shared by every subscription. */
interface Settings<T> {
  rate: number;
  per: number;
  burst: number;
  mode: ThrottleMode;
  cost: ((value: T) => number) | undefined;
  capacity: number;
  maxWait: number | undefined;
  onDrop: DropHandler<T> | undefined;
  scheduler: SchedulerLike;
  store: TokenBucketStore | undefined;
}

const operator = 'throttleTokenBucket';

/**
 * Rate limiting with bursts: lets values through as fast as a token bucket can pay for them, and shapes, drops or
 * errors on the rest.
 *
 * The bucket holds up to `burst` tokens and starts full; tokens accrue continuously at `rate` per `per` ms, computed
 * exactly from `scheduler.now()` (no refill timer, no rounding to milliseconds). A value costing `cost(value)` tokens
 * (default 1) is admitted at time t if the bucket holds its cost at t, never earlier; a value arriving in the very
 * instant a token falls due may be admitted or not (the same tie as `throttleTime` in virtual time).
 *
 * - `'shape'` (default): a value that cannot be paid for waits, FIFO, until it can: lossless up to `capacity` waiting
 *   values (beyond it arrivals are dropped as `'overflow'`) and `maxWait` (older ones are dropped as `'expired'` at the
 *   instant they have waited `maxWait` ms, unless they become payable in that instant). Completion waits for waiting
 *   values. A cost above `burst` waits for a full bucket and goes through into debt: later values wait until the debt
 *   is repaid. One timer exists while a value waits, none otherwise.
 * - `'drop'`: a value that cannot be paid for now is dropped (reason `'rate'`). With
 *   `{ rate: 1, per: d, burst: 1, mode: 'drop' }` this is `throttleTime(d)` (leading edge), except exactly on the
 *   boundary frame.
 * - `'error'`: the first value that cannot be paid for errors the stream with {@link RateLimitExceededError}; its
 *   `retryAfter` is the ms until the bucket could pay (`Infinity` for a cost above `burst`), and the value is reported
 *   dropped as `'error'`.
 *
 * In `'drop'` and `'error'` modes a cost above `burst` can never be paid for. Upstream errors report waiting values as
 * `'error'`; unsubscribing reports them as `'cancelled'` and cancels the timer.
 *
 * With a `store` ({@link TokenBucketStore}), the tokens live in the store and every subscription given that store
 * shares its one bucket (`memoryTokenBucketStore()` within a process, `redisTokenBucketStore` from
 * `rxjs-backpressure/redis` across processes). Values then ask the store one at a time, in arrival order, each with
 * `{ tokens, rate, per, burst, now }`: a synchronous store is answered in the same instant; while an asynchronous one
 * answers, later arrivals wait in line (at most `capacity` values held, beyond that `'overflow'`). Refused in
 * `'shape'` mode, a value asks again after the store's `retryAfter`; `maxWait` is checked when a value reaches the head
 * of the line and while it waits there. A store that throws or rejects errors the stream. Without a store (the
 * default) nothing of this applies: the bucket belongs to the subscription and is decided synchronously as above.
 *
 * Clock reads: one per admitted value (the time of a payment matters, because a full bucket stops accruing), none
 * for a value that waits behind others (unless `maxWait` needs its arrival time). In `'drop'` mode, the first value
 * found unpayable closes a gate: one timer is scheduled for the instant the bucket will hold that value's cost, and
 * until it fires every value costing at least as much is dropped without reading the clock (none can be paid for
 * before then). In real time the gate opens when the scheduler runs the timer, as `throttleTime`'s does.
 *
 * ```
 * source:  -abcd----ef-------gh|
 * throttleTokenBucket({ rate: 1, per: 5, burst: 2, mode: 'drop' })
 * output:  -ab------e--------gh|
 * drops:   ---cd-----f----------   (reason 'rate')
 *
 * source:  -(abc)|
 * throttleTokenBucket({ rate: 1, per: 4, burst: 1 })        (mode 'shape')
 * output:  -a---b---(c|)
 * ```
 *
 * ## Example
 * ```ts
 * import { fromEvent } from 'rxjs';
 * import { throttleTokenBucket } from 'rxjs-backpressure';
 *
 * // At most 20 pointer updates a second, bursts of 5 after a pause; the rest are dropped.
 * fromEvent<MouseEvent>(window, 'mousemove')
 *   .pipe(throttleTokenBucket({ rate: 20, burst: 5, mode: 'drop' }))
 *   .subscribe((e) => drawCursor(e.clientX, e.clientY));
 *
 * // Stay inside a partner API quota of 100 request units per minute, queueing up to 50 calls.
 * calls$.pipe(throttleTokenBucket({ rate: 100, per: 60_000, burst: 10, cost: (c) => c.units, capacity: 50 }));
 * ```
 *
 * @param options `rate` (required), `per`, `burst`, `mode`, `cost`, `capacity`, `maxWait`, `onDrop`, `scheduler`,
 *   `store`
 * @see {@link dropOnFull} bounding a queue without a rate
 * @see {@link memoryTokenBucketStore} one bucket shared by several streams
 * @see {@link https://rxjs.dev/api/operators/throttleTime | throttleTime} the one-token special case in mode `'drop'`
 */
export function throttleTokenBucket<T>(options: ThrottleTokenBucketOptions<T>): MonoTypeOperatorFunction<T> {
  checkOptions(operator, options, OPTION_KEYS);
  if (options.onDrop !== undefined) observerOrFunction(operator, 'onDrop', options.onDrop);
  const settings: Settings<T> = {
    rate: positiveNumber(operator, 'rate', options.rate),
    per: options.per === undefined ? 1000 : positiveNumber(operator, 'per', options.per),
    burst: options.burst === undefined ? 1 : positiveNumber(operator, 'burst', options.burst),
    mode: options.mode === undefined ? 'shape' : oneOf(MODES)(operator, 'mode', options.mode),
    cost: options.cost === undefined ? undefined : callback<(value: T) => number>(operator, 'cost', options.cost),
    capacity: options.capacity === undefined ? 1000 : positiveInteger(operator, 'capacity', options.capacity),
    maxWait: options.maxWait === undefined ? undefined : nonNegativeNumber(operator, 'maxWait', options.maxWait),
    onDrop: options.onDrop,
    scheduler:
      options.scheduler === undefined ? asyncScheduler : schedulerOption(operator, 'scheduler', options.scheduler),
    store: options.store === undefined ? undefined : storeOption(options.store),
  };
  return (source) =>
    new Observable<T>((destination) => {
      const run =
        settings.store !== undefined
          ? new StoreRun(settings, settings.store, destination)
          : settings.mode === 'shape'
            ? new Shaper(settings, destination)
            : new Limiter(settings, destination);
      source.subscribe(
        new SourceSubscriber<T>(destination, {
          next: (value) => run.arrive(value),
          error: (error) => run.fail(error),
          complete: () => run.upstreamComplete(),
        }),
      );
      return () => run.teardown();
    });
}

function storeOption(store: unknown): TokenBucketStore {
  if (typeof store !== 'object' || store === null || typeof (store as TokenBucketStore).take !== 'function') {
    fail(operator, 'store', 'a TokenBucketStore (with take())', store, 'type');
  }
  return store as TokenBucketStore;
}

/** What both modes share per subscription: the bucket, costs and drop reporting. */
abstract class BucketRun<T> {
  protected readonly bucket: TokenBucket;
  protected readonly scheduler: SchedulerLike;
  /** Units (tokens x per) one value costs when there is no `cost` option. */
  protected readonly unitCost: number;
  protected readonly report: ((value: T, reason: DropReason) => void) | undefined;
  protected terminated = false;

  constructor(
    protected readonly settings: Settings<T>,
    protected readonly destination: Subscriber<T>,
  ) {
    this.bucket = new TokenBucket(settings.rate, settings.per, settings.burst);
    this.scheduler = settings.scheduler;
    this.unitCost = settings.per;
    this.report = dropReporter(settings.onDrop, settings.scheduler);
  }

  abstract arrive(value: T): void;
  abstract upstreamComplete(): void;
  /** Every value still held, oldest first (they are dropped as the stream ends). */
  protected abstract release(visit: (value: T) => void): void;

  /** The cost of `value` in units, or -1 when the cost function failed (the stream has then errored). */
  protected unitsOf(value: T): number {
    let cost: unknown;
    try {
      cost = this.settings.cost!(value);
    } catch (error) {
      this.fail(error, value);
      return -1;
    }
    if (typeof cost !== 'number' || !(cost >= 0) || cost === Infinity) {
      this.fail(new RangeError(`${operator}: cost must return a finite number >= 0, got ${String(cost)}`), value);
      return -1;
    }
    return cost * this.settings.per;
  }

  /** Reports a drop while the stream runs; a throwing `onDrop` errors the stream. */
  protected drop(value: T, reason: DropReason): void {
    if (this.report === undefined) return;
    try {
      this.report(value, reason);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Errors the stream: the value that caused it (if any) and every value held are dropped with reason 'error'. */
  fail(error: unknown, ...arrival: [] | [T]): void {
    if (this.terminated) return;
    this.terminated = true;
    const quietly = (value: T): void => {
      try {
        this.report?.(value, 'error');
      } catch {
        // the first error has won
      }
    };
    if (arrival.length === 1) quietly(arrival[0]);
    this.release(quietly);
    this.destination.error(error);
  }

  protected finish(): void {
    this.terminated = true;
    this.destination.complete();
  }

  /** Unsubscribed (or finished): waiting values are dropped as 'cancelled'; no timer is left behind. */
  teardown(): void {
    let thrown: unknown;
    const cancel = (value: T): void => {
      try {
        this.report?.(value, 'cancelled');
      } catch (error) {
        thrown ??= error;
      }
    };
    if (this.terminated) {
      this.release(() => undefined);
    } else {
      this.terminated = true;
      this.release(cancel);
    }
    if (thrown !== undefined) throw thrown;
  }
}

/**
 * Mode 'drop' gate: closed while a timer is pending for the instant the bucket next holds `below` units. Until then
 * the level is below `below`, so any value costing at least that much is unpayable without a look at the clock.
 */
type Gate =
  { readonly state: 'open' } | { readonly state: 'closed'; readonly below: number; readonly timer: Subscription };

const OPEN: Gate = { state: 'open' };

/** Modes 'drop' and 'error': decide each value on arrival. */
class Limiter<T> extends BucketRun<T> {
  private gate: Gate = OPEN;
  private readonly openGate = (): void => {
    this.gate = OPEN;
  };

  arrive(value: T): void {
    const units = this.settings.cost === undefined ? this.unitCost : this.unitsOf(value);
    if (units < 0) return;
    const { bucket } = this;
    if (units > bucket.size) {
      this.refuse(value, Infinity);
      return;
    }
    const gate = this.gate;
    if (gate.state === 'closed' && units >= gate.below) {
      this.drop(value, 'rate');
      return;
    }
    const now = this.scheduler.now();
    const level = bucket.level(now);
    if (bucket.affords(units, level)) {
      bucket.take(units);
      this.destination.next(value);
      return;
    }
    const wait = bucket.waitFor(units, level);
    if (this.settings.mode === 'drop' && this.gate.state === 'open') {
      this.gate = { state: 'closed', below: units, timer: this.scheduler.schedule(this.openGate, wait) };
    }
    this.refuse(value, wait);
  }

  private refuse(value: T, retryAfter: number): void {
    if (this.settings.mode === 'drop') {
      this.drop(value, 'rate');
      return;
    }
    this.fail(
      new RateLimitExceededError(
        `${operator}: rate limit exceeded, the token bucket cannot pay for this value (retry after ${retryAfter} ms)`,
        retryAfter,
      ),
      value,
    );
  }

  upstreamComplete(): void {
    this.closeGate();
    this.finish();
  }

  protected release(): void {
    this.closeGate();
  }

  private closeGate(): void {
    const gate = this.gate;
    if (gate.state === 'closed') {
      this.gate = OPEN;
      gate.timer.unsubscribe();
    }
  }
}

/** A value waiting for tokens in mode 'shape'. */
interface Waiting<T> {
  readonly value: T;
  readonly units: number;
  /** Arrival time (read only with `maxWait`). */
  readonly arrived: number;
}

/** The one timer of mode 'shape': due when the head can be paid for, or when it expires if that comes first. */
interface Timer {
  readonly action: Subscription;
  readonly at: number;
  readonly due: 'payment' | 'expiry';
}

/**
 * The waiting line of mode 'shape'. The head is held apart (the one being paid for), the rest wait in a ring.
 * `waiting`: a timer is pending for the head. `serving`: the timer fired and the head is being paid, emitted or expired.
 */
type Line<T> =
  | { readonly state: 'empty' }
  | { readonly state: 'waiting'; readonly head: Waiting<T>; readonly timer: Timer }
  | { readonly state: 'serving'; readonly head: Waiting<T> };

const EMPTY: { readonly state: 'empty' } = { state: 'empty' };

/** Mode 'shape': delay values FIFO until they can be paid for. */
class Shaper<T> extends BucketRun<T> {
  private line: Line<T> = EMPTY;
  /** Values behind the head, FIFO; with arrival times when `maxWait` is set. */
  private readonly queued: RingBuffer<T>;
  /** Their costs in units, when there is a `cost` option. */
  private readonly costs: RingBuffer<number> | undefined;
  private upstreamDone = false;
  private readonly onTimer = (): void => this.serve();

  constructor(settings: Settings<T>, destination: Subscriber<T>) {
    super(settings, destination);
    this.queued = new RingBuffer<T>(settings.maxWait !== undefined);
    this.costs = settings.cost === undefined ? undefined : new RingBuffer<number>();
  }

  arrive(value: T): void {
    const units = this.settings.cost === undefined ? this.unitCost : this.unitsOf(value);
    if (units < 0) return;
    if (this.line.state === 'empty') {
      const now = this.scheduler.now();
      const level = this.bucket.level(now);
      if (this.bucket.affords(this.need(units), level)) {
        this.bucket.take(units);
        this.destination.next(value);
      } else {
        this.wait({ value, units, arrived: now }, now, level);
      }
      return;
    }
    if (this.queued.size + 1 >= this.settings.capacity) {
      this.drop(value, 'overflow');
      return;
    }
    this.queued.push(value, this.settings.maxWait === undefined ? 0 : this.scheduler.now());
    this.costs?.push(units);
  }

  /** Units the bucket must hold to let a value of `units` through: a cost above burst waits for a full bucket. */
  private need(units: number): number {
    return units < this.bucket.size ? units : this.bucket.size;
  }

  /** Makes `head` wait, with one timer for when it can be paid for or expires. */
  private wait(head: Waiting<T>, now: number, level: number): void {
    let delay = this.bucket.waitFor(this.need(head.units), level);
    let due: Timer['due'] = 'payment';
    const { maxWait } = this.settings;
    if (maxWait !== undefined) {
      const expiresIn = head.arrived + maxWait - now;
      if (expiresIn < delay) {
        delay = expiresIn > 0 ? expiresIn : 0;
        due = 'expiry';
      }
    }
    const action = this.scheduler.schedule(this.onTimer, delay);
    this.line = { state: 'waiting', head, timer: { action, at: now + delay, due } };
  }

  /** The timer fired: pay for, emit or expire values from the head while possible, then wait again or finish. */
  private serve(): void {
    const line = this.line;
    if (line.state !== 'waiting' || this.terminated) return;
    const { timer } = line;
    let head = line.head;
    this.line = { state: 'serving', head };
    const now = this.scheduler.now();
    const { bucket } = this;
    const { maxWait } = this.settings;
    const due = now >= timer.at;
    if (due && timer.due === 'payment') bucket.settle(this.need(head.units), now);
    let expired = due && timer.due === 'expiry' ? head : undefined;
    for (;;) {
      const level = bucket.level(now);
      if (bucket.affords(this.need(head.units), level)) {
        bucket.take(head.units);
        this.promote();
        this.destination.next(head.value);
      } else if (head === expired || (maxWait !== undefined && now - head.arrived >= maxWait)) {
        expired = undefined;
        this.promote();
        this.drop(head.value, 'expired');
      } else {
        this.wait(head, now, level);
        return;
      }
      if (this.terminated) return;
      const after = this.line as Line<T>; // promote() and re-entrant arrivals change it
      if (after.state === 'empty') {
        if (this.upstreamDone) this.finish();
        return;
      }
      // A value that arrived during `destination.next` into an empty line may already have its own timer.
      if (after.state === 'waiting') return;
      head = after.head;
    }
  }

  /** The next value in line becomes the head (line 'serving'), or the line is empty. */
  private promote(): void {
    const { queued } = this;
    if (queued.size === 0) {
      this.line = EMPTY;
      return;
    }
    const value = queued.shift();
    const units = this.costs === undefined ? this.unitCost : this.costs.shift();
    this.line = { state: 'serving', head: { value, units, arrived: queued.lastTime } };
  }

  upstreamComplete(): void {
    if (this.line.state === 'empty') this.finish();
    else this.upstreamDone = true;
  }

  protected release(visit: (value: T) => void): void {
    const line = this.line;
    this.line = EMPTY;
    if (line.state === 'empty') return;
    if (line.state === 'waiting') line.timer.action.unsubscribe();
    visit(line.head.value);
    this.costs?.clear();
    this.queued.clear(visit);
  }
}

/** A value waiting for its turn to ask the store. */
interface Asking<T> {
  readonly value: T;
  /** Its cost in tokens. */
  readonly tokens: number;
  /** Arrival time (read only with `maxWait`). */
  readonly arrived: number;
}

/**
 * The head of the line in store mode. `idle`: none (the next one comes from the queue). `asking`: the store's answer
 * is awaited. `waiting`: refused in mode 'shape', a timer asks again (or expires the head). `due`: that timer fired.
 */
type Turn<T> =
  | { readonly state: 'idle' }
  | { readonly state: 'asking'; readonly head: Asking<T> }
  | { readonly state: 'waiting'; readonly head: Asking<T>; readonly timer: Subscription; readonly expires: boolean }
  | { readonly state: 'due'; readonly head: Asking<T>; readonly expires: boolean };

const IDLE: { readonly state: 'idle' } = { state: 'idle' };

function isPromiseLike(answer: unknown): answer is PromiseLike<TokenGrant> {
  return typeof (answer as PromiseLike<TokenGrant> | null)?.then === 'function';
}

/**
 * Any mode, with a `store`: values ask the store one at a time, in arrival order. A synchronous store is answered in
 * the same instant; a promise keeps the next values queued (up to `capacity`) until it settles.
 */
class StoreRun<T> extends BucketRun<T> {
  private turn: Turn<T> = IDLE;
  private readonly queued: RingBuffer<Asking<T>> = new RingBuffer<Asking<T>>();
  private upstreamDone = false;
  private pumping = false;

  constructor(
    settings: Settings<T>,
    private readonly store: TokenBucketStore,
    destination: Subscriber<T>,
  ) {
    super(settings, destination);
  }

  arrive(value: T): void {
    const units = this.settings.cost === undefined ? this.unitCost : this.unitsOf(value);
    if (units < 0) return;
    const tokens = units / this.settings.per;
    if (this.settings.mode !== 'shape' && tokens > this.settings.burst) {
      this.refuse(value, Infinity);
      return;
    }
    const held = this.queued.size + (this.turn.state === 'idle' ? 0 : 1);
    if (held >= this.settings.capacity) {
      this.drop(value, 'overflow');
      return;
    }
    this.queued.push({ value, tokens, arrived: this.settings.maxWait === undefined ? 0 : this.scheduler.now() });
    this.pump();
  }

  /** Asks the store for the head, and for the values behind it while answers come synchronously. */
  private pump(): void {
    if (this.pumping) return; // a re-entrant arrival: the loop below picks it up
    this.pumping = true;
    try {
      while (!this.terminated) {
        const turn = this.turn;
        let head: Asking<T>;
        if (turn.state === 'due') {
          head = turn.head;
          if (turn.expires) {
            this.turn = IDLE;
            this.drop(head.value, 'expired');
            continue;
          }
        } else if (turn.state === 'idle' && this.queued.size > 0) {
          head = this.queued.shift();
          if (this.expired(head)) {
            this.drop(head.value, 'expired');
            continue;
          }
        } else {
          break;
        }
        this.turn = { state: 'asking', head };
        let answer: TokenGrant | PromiseLike<TokenGrant>;
        try {
          answer = this.store.take({ ...this.bucketShape(), tokens: head.tokens, now: this.scheduler.now() });
        } catch (error) {
          this.fail(error);
          break;
        }
        if (isPromiseLike(answer)) {
          answer.then(
            (grant) => this.answered(head, grant),
            (error: unknown) => {
              if (this.turn.state === 'asking' && this.turn.head === head) this.fail(error);
            },
          );
          break;
        }
        this.decide(head, answer);
      }
      if (!this.terminated && this.upstreamDone && this.turn.state === 'idle' && this.queued.size === 0) this.finish();
    } finally {
      this.pumping = false;
    }
  }

  private bucketShape(): { rate: number; per: number; burst: number } {
    const { rate, per, burst } = this.settings;
    return { rate, per, burst };
  }

  private expired(head: Asking<T>): boolean {
    const { maxWait } = this.settings;
    return maxWait !== undefined && this.scheduler.now() - head.arrived >= maxWait;
  }

  private answered(head: Asking<T>, grant: TokenGrant): void {
    const turn = this.turn;
    if (this.terminated || turn.state !== 'asking' || turn.head !== head) return;
    this.decide(head, grant);
    this.pump();
  }

  /** Acts on the store's answer for `head`: emit it, drop it, error, or wait and ask again (mode 'shape'). */
  private decide(head: Asking<T>, grant: TokenGrant): void {
    this.turn = IDLE;
    if (
      typeof grant !== 'object' ||
      grant === null ||
      typeof grant.granted !== 'boolean' ||
      (!grant.granted &&
        !(
          typeof grant.retryAfter === 'number' &&
          grant.retryAfter > 0 &&
          (grant.retryAfter < Infinity || this.settings.mode !== 'shape')
        ))
    ) {
      const answer = typeof grant === 'object' && grant !== null ? JSON.stringify(grant) : String(grant);
      this.fail(
        new TypeError(
          `${operator}: store.take must answer { granted: true } or { granted: false, retryAfter } with retryAfter > 0 ms (finite in mode 'shape'), got ${answer}`,
        ),
        head.value,
      );
      return;
    }
    if (grant.granted) {
      this.destination.next(head.value);
      return;
    }
    const { retryAfter } = grant;
    if (this.settings.mode !== 'shape') {
      this.refuse(head.value, retryAfter);
      return;
    }
    let delay = retryAfter;
    let expires = false;
    const { maxWait } = this.settings;
    if (maxWait !== undefined) {
      const expiresIn = head.arrived + maxWait - this.scheduler.now();
      if (expiresIn <= delay) {
        delay = expiresIn > 0 ? expiresIn : 0;
        expires = true;
      }
    }
    const timer = this.scheduler.schedule(() => {
      const turn = this.turn;
      if (turn.state !== 'waiting' || turn.head !== head) return;
      this.turn = { state: 'due', head, expires };
      this.pump();
    }, delay);
    this.turn = { state: 'waiting', head, timer, expires };
  }

  private refuse(value: T, retryAfter: number): void {
    if (this.settings.mode === 'drop') {
      this.drop(value, 'rate');
      return;
    }
    this.fail(
      new RateLimitExceededError(
        `${operator}: rate limit exceeded, the token bucket cannot pay for this value (retry after ${retryAfter} ms)`,
        retryAfter,
      ),
      value,
    );
  }

  upstreamComplete(): void {
    this.upstreamDone = true;
    if (this.turn.state === 'idle' && this.queued.size === 0) this.finish();
  }

  protected release(visit: (value: T) => void): void {
    const turn = this.turn;
    this.turn = IDLE;
    if (turn.state === 'waiting') turn.timer.unsubscribe();
    if (turn.state !== 'idle') visit(turn.head.value);
    this.queued.clear((waiting) => visit(waiting.value));
  }
}
