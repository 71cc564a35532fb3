import { Observable, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscriber, Subscription } from 'rxjs';
import { CircuitOpenError } from '../errors.js';
import {
  callback,
  checkOptions,
  fail,
  positiveInteger,
  positiveNumber,
  scheduler as schedulerOption,
} from '../internal/options.js';
import { CountWindow, FAILED, SLOW, TimeWindow } from './windows.js';
import type { CallWindow, Outcome, WindowSnapshot } from './windows.js';

export type { WindowSnapshot } from './windows.js';

/** Where a circuit stands: letting calls through, refusing them, trying a few, or held open by hand. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATES: readonly CircuitState[] = ['closed', 'open', 'half-open', 'isolated'];

/** The window a {@link CircuitBreaker} judges rates over: the last `size` calls, or the last `duration` ms. */
export type SlidingWindow = { kind: 'count'; size: number } | { kind: 'time'; duration: number };

/** Options of {@link CircuitBreaker} and {@link circuitBreak}. Every time is in ms of the breaker's scheduler. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the circuit: a positive integer. Default 5 when neither rate threshold is given;
   * with a rate threshold it applies only when given explicitly (then either rule opens the circuit).
   */
  failureThreshold?: number | undefined;
  /** Open when failures / calls in the sliding window reach this, in (0, 1], once `minimumCalls` calls are in it. */
  failureRateThreshold?: number | undefined;
  /**
   * The window for the rate thresholds. Default `{ kind: 'count', size: 100 }`. A time window is cut into 10 buckets,
   * so a call counts for between 0.9 and 1 times `duration` after it ended.
   */
  slidingWindow?: SlidingWindow | undefined;
  /** Calls the window must hold before a rate is judged: a positive integer, at most a count window's size. Default 10 (a smaller count window: its size). */
  minimumCalls?: number | undefined;
  /** A call lasting at least this many ms (from subscribe to its end) is slow. Required by `slowCallRateThreshold`. */
  slowCallDuration?: number | undefined;
  /**
   * Open when slow calls / calls in the sliding window reach this, in (0, 1]. In half-open, a slow trial call fails the
   * trial.
   */
  slowCallRateThreshold?: number | undefined;
  /**
   * A call still running after this many ms is unsubscribed from upstream and errors with `CallTimeoutError`, which
   * counts as a failure whatever `isFailure` says. It caps the lifetime of every call, so leave it unset around
   * long-lived streams.
   */
  callTimeout?: number | undefined;
  /** ms the circuit stays open before it lets trial calls through (half-open). Default 30000. */
  resetTimeout?: number | undefined;
  /** Trial calls admitted in half-open, a positive integer (default 1). All must succeed to close the circuit. */
  halfOpenMaxCalls?: number | undefined;
  /**
   * Which errors count as failures (default: every error). An error it rejects is forwarded but neither counts nor
   * trips, and does not reset the consecutive count. If it throws, the call counts as a failure and the stream errors
   * with what it threw.
   */
  isFailure?: ((error: unknown) => boolean) | undefined;
  /** A snapshot from {@link CircuitBreaker.toJSON} to start from. */
  initialState?: CircuitBreakerSnapshot | undefined;
  /** The clock and timer of the breaker (default `asyncScheduler`). */
  scheduler?: SchedulerLike | undefined;
}

/**
 * A breaker's state as plain JSON, from {@link CircuitBreaker.toJSON}; give it back as `options.initialState`.
 *
 * Times are the breaker scheduler's `now()`. `since` is when the state was entered (for `'open'`: when it opened).
 * `window` is present while closed and windowed; it is restored only into a window of the same kind and size.
 */
export interface CircuitBreakerSnapshot {
  version: 1;
  state: CircuitState;
  since: number;
  /** Consecutive failures counted so far (closed only; 0 otherwise). */
  consecutiveFailures: number;
  window?: WindowSnapshot | undefined;
}

/** The internal state machine: one variant per state, carrying only what that state needs. */
type Phase =
  | { state: 'closed'; since: number; consecutiveFailures: number }
  | { state: 'open'; since: number; halfOpenAt: number }
  | { state: 'half-open'; since: number; admitted: number; succeeded: number }
  | { state: 'isolated'; since: number };

/** How a call ended, as the operator reports it. `'ignored'`: an error `isFailure` rejected. `'none'`: no verdict. */
export type CallResult = 'success' | 'failure' | 'timeout' | 'ignored' | 'none';

interface Settings {
  consecutiveThreshold: number | undefined;
  failureRate: number | undefined;
  slowRate: number | undefined;
  window: SlidingWindow | undefined;
  minimumCalls: number;
  slowCallDuration: number | undefined;
  callTimeout: number | undefined;
  resetTimeout: number;
  halfOpenMaxCalls: number;
  isFailure: ((error: unknown) => boolean) | undefined;
  initialState: CircuitBreakerSnapshot | undefined;
  scheduler: SchedulerLike;
}

const OPTION_KEYS = [
  'failureThreshold',
  'failureRateThreshold',
  'slidingWindow',
  'minimumCalls',
  'slowCallDuration',
  'slowCallRateThreshold',
  'callTimeout',
  'resetTimeout',
  'halfOpenMaxCalls',
  'isFailure',
  'initialState',
  'scheduler',
];

function rate(operator: string, option: string, value: unknown): number {
  if (typeof value !== 'number') fail(operator, option, 'a number in (0, 1]', value, 'type');
  if (!(value > 0 && value <= 1)) fail(operator, option, 'a number in (0, 1]', value, 'range');
  return value;
}

function slidingWindowOption(operator: string, value: unknown): SlidingWindow {
  const expected = "{ kind: 'count', size } or { kind: 'time', duration }";
  if (typeof value !== 'object' || value === null) fail(operator, 'slidingWindow', expected, value, 'type');
  const w = value as Record<string, unknown>;
  if (w['kind'] === 'count') {
    checkOptions(`${operator} slidingWindow`, w, ['kind', 'size']);
    return { kind: 'count', size: positiveInteger(operator, 'slidingWindow.size', w['size']) };
  }
  if (w['kind'] === 'time') {
    checkOptions(`${operator} slidingWindow`, w, ['kind', 'duration']);
    return { kind: 'time', duration: positiveNumber(operator, 'slidingWindow.duration', w['duration']) };
  }
  return fail(operator, 'slidingWindow.kind', "'count' or 'time'", w['kind'], 'type');
}

function snapshotOption(operator: string, value: unknown): CircuitBreakerSnapshot {
  const expected = 'a CircuitBreakerSnapshot from toJSON()';
  if (typeof value !== 'object' || value === null) fail(operator, 'initialState', expected, value, 'type');
  const s = value as Record<string, unknown>;
  if (s['version'] !== 1) fail(operator, 'initialState.version', '1', s['version'], 'type');
  if (!STATES.includes(s['state'] as CircuitState)) {
    fail(operator, 'initialState.state', STATES.map((x) => `'${x}'`).join(', '), s['state'], 'type');
  }
  if (typeof s['since'] !== 'number' || !Number.isFinite(s['since'])) {
    fail(operator, 'initialState.since', 'a finite number', s['since'], 'type');
  }
  const consecutive = s['consecutiveFailures'];
  if (typeof consecutive !== 'number' || !Number.isSafeInteger(consecutive) || consecutive < 0) {
    fail(operator, 'initialState.consecutiveFailures', 'an integer >= 0', consecutive, 'type');
  }
  const window = s['window'] as Record<string, unknown> | undefined;
  if (window !== undefined) {
    const valid =
      typeof window === 'object' &&
      window !== null &&
      ((window['kind'] === 'count' && Array.isArray(window['outcomes'])) ||
        (window['kind'] === 'time' && Array.isArray(window['buckets'])));
    if (!valid) fail(operator, 'initialState.window', 'a window snapshot', window, 'type');
  }
  return value as CircuitBreakerSnapshot;
}

/** Validates breaker options, naming `operator` in every message. Shared by the class and `circuitBreak(options)`. */
export function breakerSettings(operator: string, options: CircuitBreakerOptions): Settings {
  checkOptions(operator, options, OPTION_KEYS);
  const o = options;
  const failureRate =
    o.failureRateThreshold === undefined ? undefined : rate(operator, 'failureRateThreshold', o.failureRateThreshold);
  const slowRate =
    o.slowCallRateThreshold === undefined
      ? undefined
      : rate(operator, 'slowCallRateThreshold', o.slowCallRateThreshold);
  const slowCallDuration =
    o.slowCallDuration === undefined ? undefined : positiveNumber(operator, 'slowCallDuration', o.slowCallDuration);
  if (slowRate !== undefined && slowCallDuration === undefined) {
    throw new TypeError(`${operator}: slowCallRateThreshold needs slowCallDuration (how long a slow call takes)`);
  }
  const rated = failureRate !== undefined || slowRate !== undefined;
  const explicitWindow = o.slidingWindow === undefined ? undefined : slidingWindowOption(operator, o.slidingWindow);
  const window = explicitWindow ?? (rated ? { kind: 'count' as const, size: 100 } : undefined);
  let minimumCalls = window?.kind === 'count' ? Math.min(10, window.size) : 10;
  if (o.minimumCalls !== undefined) {
    minimumCalls = positiveInteger(operator, 'minimumCalls', o.minimumCalls);
    if (window?.kind === 'count' && minimumCalls > window.size) {
      fail(operator, 'minimumCalls', `at most slidingWindow.size (${window.size})`, minimumCalls, 'range');
    }
  }
  const consecutiveThreshold =
    o.failureThreshold !== undefined
      ? positiveInteger(operator, 'failureThreshold', o.failureThreshold)
      : rated
        ? undefined
        : 5;
  return {
    consecutiveThreshold,
    failureRate,
    slowRate,
    window: rated ? window : undefined,
    minimumCalls,
    slowCallDuration,
    callTimeout: o.callTimeout === undefined ? undefined : positiveNumber(operator, 'callTimeout', o.callTimeout),
    resetTimeout: o.resetTimeout === undefined ? 30000 : positiveNumber(operator, 'resetTimeout', o.resetTimeout),
    halfOpenMaxCalls:
      o.halfOpenMaxCalls === undefined ? 1 : positiveInteger(operator, 'halfOpenMaxCalls', o.halfOpenMaxCalls),
    isFailure:
      o.isFailure === undefined ? undefined : callback<(error: unknown) => boolean>(operator, 'isFailure', o.isFailure),
    initialState: o.initialState === undefined ? undefined : snapshotOption(operator, o.initialState),
    scheduler: o.scheduler === undefined ? asyncScheduler : schedulerOption(operator, 'scheduler', o.scheduler),
  };
}

/**
 * A circuit breaker: counts how calls to one downstream end, and fails new calls fast while that downstream is failing.
 *
 * Closed, it lets every call through and opens on `failureThreshold` consecutive failures, or when the failure rate
 * or slow-call rate over the sliding window reaches its threshold. Open, it refuses calls with `CircuitOpenError`
 * (carrying `retryAfter`) until `resetTimeout` has passed; then it is half-open and admits `halfOpenMaxCalls` trial
 * calls: all succeeding close it, any failure opens it again. `isolate()` holds it open until `reset()`.
 *
 * Every transition starts a new generation: a call that started in an earlier one (before an open, a reset, ...)
 * does not change the state when it ends. Time is the scheduler's only; the open -> half-open step is taken when
 * anything looks at the breaker after `resetTimeout`, and by a scheduled action only while `state$` is subscribed, so
 * an idle breaker holds no timer. A trial call that never ends keeps its half-open slot until it is unsubscribed: set
 * `callTimeout` so a hung trial fails instead.
 *
 * ```
 * calls:   -x-x-x---r-------o-o-   x fails, o succeeds, r is refused (CircuitOpenError, retryAfter 6)
 * state$:  c----o---------h-c---   c closed, o open, h half-open
 *          (failureThreshold: 3, resetTimeout: 10)
 * ```
 *
 * ## Example
 * ```ts
 * import { from } from 'rxjs';
 * import { CircuitBreaker, circuitBreak } from 'rxjs-backpressure';
 *
 * const payments = new CircuitBreaker({
 *   failureRateThreshold: 0.5,
 *   slidingWindow: { kind: 'time', duration: 10_000 },
 *   minimumCalls: 20,
 *   callTimeout: 2_000,
 *   resetTimeout: 15_000,
 *   initialState: loadSavedState(), // a CircuitBreakerSnapshot from toJSON(), or undefined
 * });
 * payments.state$.subscribe((state) => console.log(`payments circuit ${state}`));
 * const charge = (order: Order) => from(api.charge(order)).pipe(circuitBreak(payments));
 * process.on('SIGTERM', () => saveState(payments.toJSON()));
 * ```
 *
 * @param options the thresholds, window and timings; see {@link CircuitBreakerOptions}
 * @see {@link circuitBreak} guarding an observable with it
 */
export class CircuitBreaker {
  /** The current state and, after each transition, every new one at the scheduler time it happened. */
  readonly state$: Observable<CircuitState>;

  private readonly settings: Settings;
  private readonly scheduler: SchedulerLike;
  private readonly window: CallWindow | undefined;
  /** Whether a call's start and end need a clock read (slow calls, time window). */
  private readonly timed: boolean;
  private phase: Phase;
  /** Bumped at every transition; a call remembers the generation it was admitted in. */
  private generation = 0;
  private readonly watchers = new Set<Subscriber<CircuitState>>();
  private halfOpenTimer: Subscription | undefined;
  private readonly pending: Array<[CircuitState, Subscriber<CircuitState>[]]> = [];
  private notifying = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.settings = breakerSettings('CircuitBreaker', options);
    const s = this.settings;
    this.scheduler = s.scheduler;
    this.window =
      s.window === undefined
        ? undefined
        : s.window.kind === 'count'
          ? new CountWindow(s.window.size)
          : new TimeWindow(s.window.duration);
    this.timed = s.slowCallDuration !== undefined || s.window?.kind === 'time';
    this.phase = this.restore(s.initialState);
    this.state$ = new Observable<CircuitState>((subscriber) => {
      this.catchUp();
      subscriber.next(this.phase.state);
      if (subscriber.closed) return;
      this.watchers.add(subscriber);
      this.armTimer();
      return () => {
        this.watchers.delete(subscriber);
        if (this.watchers.size === 0) this.disarmTimer();
      };
    });
  }

  /** The current state. */
  get state(): CircuitState {
    this.catchUp();
    return this.phase.state;
  }

  /** Holds the circuit open (state `'isolated'`, `retryAfter` Infinity) until {@link reset}. */
  isolate(): void {
    this.catchUp();
    if (this.phase.state === 'isolated') return;
    this.enter({ state: 'isolated', since: this.scheduler.now() });
  }

  /** Closes the circuit and forgets every count; calls in flight no longer change the state when they end. */
  reset(): void {
    const since = this.scheduler.now();
    this.catchUp(since);
    this.window?.clear();
    if (this.phase.state === 'closed') {
      this.phase = { state: 'closed', since: this.phase.since, consecutiveFailures: 0 };
      this.generation++;
      return;
    }
    this.enter({ state: 'closed', since, consecutiveFailures: 0 });
  }

  /** The state as plain JSON, to restore later with `options.initialState`. */
  toJSON(): CircuitBreakerSnapshot {
    this.catchUp();
    const phase = this.phase;
    const snapshot: CircuitBreakerSnapshot = {
      version: 1,
      state: phase.state,
      since: phase.since,
      consecutiveFailures: phase.state === 'closed' ? phase.consecutiveFailures : 0,
    };
    if (phase.state === 'closed' && this.window !== undefined) snapshot.window = this.window.toJSON();
    return snapshot;
  }

  /**
   * Admits one call: returns its generation, or the `CircuitOpenError` to fail it with. Used by `circuitBreak`.
   * @internal
   */
  private admit(): number | CircuitOpenError {
    let phase = this.phase;
    if (phase.state === 'closed') return this.generation;
    if (phase.state === 'open') {
      const now = this.scheduler.now();
      this.catchUp(now);
      phase = this.phase;
      if (phase.state === 'open') {
        const retryAfter = phase.halfOpenAt - now;
        return new CircuitOpenError(`CircuitBreaker: circuit is open, retry after ${retryAfter} ms`, retryAfter);
      }
    }
    if (phase.state === 'half-open') {
      if (phase.admitted < this.settings.halfOpenMaxCalls) {
        phase.admitted++;
        return this.generation;
      }
      const retryAfter = this.settings.callTimeout ?? this.settings.resetTimeout;
      return new CircuitOpenError(
        `CircuitBreaker: circuit is half-open and its ${this.settings.halfOpenMaxCalls} trial call(s) are taken`,
        retryAfter,
      );
    }
    return new CircuitOpenError('CircuitBreaker: circuit is isolated', Infinity);
  }

  /**
   * Records how a call admitted in `generation` ended; `startedAt` is its start time when the breaker is timed.
   * @internal
   */
  private settle(generation: number, result: CallResult, startedAt: number): void {
    if (generation !== this.generation) return;
    const phase = this.phase;
    const now = this.timed ? this.scheduler.now() : 0;
    const slow = this.settings.slowCallDuration !== undefined && now - startedAt >= this.settings.slowCallDuration;
    if (phase.state === 'half-open') {
      if (result === 'none' || result === 'ignored') {
        phase.admitted--;
      } else if (result === 'success' && !(slow && this.settings.slowRate !== undefined)) {
        if (++phase.succeeded >= this.settings.halfOpenMaxCalls) {
          this.enter({ state: 'closed', since: this.timed ? now : this.scheduler.now(), consecutiveFailures: 0 });
        }
      } else {
        this.open(this.timed ? now : this.scheduler.now());
      }
      return;
    }
    if (phase.state !== 'closed' || result === 'none' || result === 'ignored') return;
    const failed = result !== 'success';
    phase.consecutiveFailures = failed ? phase.consecutiveFailures + 1 : 0;
    const threshold = this.settings.consecutiveThreshold;
    if (threshold !== undefined && phase.consecutiveFailures >= threshold) {
      this.open(this.timed ? now : this.scheduler.now());
      return;
    }
    const window = this.window;
    if (window === undefined) return;
    window.record(((failed ? FAILED : 0) | (slow ? SLOW : 0)) as Outcome, now);
    const totals = window.totals(now);
    if (totals.calls < this.settings.minimumCalls) return;
    const { failureRate, slowRate } = this.settings;
    if (
      (failureRate !== undefined && totals.failures / totals.calls >= failureRate) ||
      (slowRate !== undefined && totals.slow / totals.calls >= slowRate)
    ) {
      this.open(this.timed ? now : this.scheduler.now());
    }
  }

  private open(now: number): void {
    this.enter({ state: 'open', since: now, halfOpenAt: now + this.settings.resetTimeout });
  }

  private restore(snapshot: CircuitBreakerSnapshot | undefined): Phase {
    const now = this.scheduler.now();
    if (snapshot === undefined) return { state: 'closed', since: now, consecutiveFailures: 0 };
    // A snapshot from a clock that is ahead of ours cannot be in the future: it happened at the latest now.
    const since = Math.min(snapshot.since, now);
    switch (snapshot.state) {
      case 'closed':
        if (snapshot.window !== undefined) this.window?.restore(snapshot.window);
        return { state: 'closed', since, consecutiveFailures: snapshot.consecutiveFailures };
      case 'open': {
        const halfOpenAt = since + this.settings.resetTimeout;
        return now >= halfOpenAt
          ? { state: 'half-open', since: halfOpenAt, admitted: 0, succeeded: 0 }
          : { state: 'open', since, halfOpenAt };
      }
      case 'half-open':
        return { state: 'half-open', since, admitted: 0, succeeded: 0 };
      case 'isolated':
        return { state: 'isolated', since };
    }
  }

  /** Takes the open -> half-open step if `resetTimeout` has passed (lazily, at the time it fell due). */
  private catchUp(now?: number): void {
    const phase = this.phase;
    if (phase.state !== 'open') return;
    if ((now ?? this.scheduler.now()) >= phase.halfOpenAt) {
      this.enter({ state: 'half-open', since: phase.halfOpenAt, admitted: 0, succeeded: 0 });
    }
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.generation++;
    this.window?.clear();
    this.disarmTimer();
    this.armTimer();
    this.notify(phase.state);
  }

  /** While open and watched through `state$`, schedules the step to half-open at its time. */
  private armTimer(): void {
    const phase = this.phase;
    if (phase.state !== 'open' || this.watchers.size === 0 || this.halfOpenTimer !== undefined) return;
    const delay = Math.max(0, phase.halfOpenAt - this.scheduler.now());
    this.halfOpenTimer = this.scheduler.schedule(() => {
      this.halfOpenTimer = undefined;
      this.catchUp();
      this.armTimer(); // a timer that fired early (wall clock) tries again
    }, delay);
  }

  private disarmTimer(): void {
    this.halfOpenTimer?.unsubscribe();
    this.halfOpenTimer = undefined;
  }

  /** Delivers transitions in order to the watchers present at each, also when a watcher causes another one. */
  private notify(state: CircuitState): void {
    if (this.watchers.size === 0) return;
    this.pending.push([state, [...this.watchers]]);
    if (this.notifying) return;
    this.notifying = true;
    try {
      for (let entry = this.pending.shift(); entry !== undefined; entry = this.pending.shift()) {
        for (const watcher of entry[1]) if (!watcher.closed) watcher.next(entry[0]);
      }
    } finally {
      this.notifying = false;
      this.pending.length = 0;
    }
  }
}

/** The operator's door into a breaker (its call bookkeeping is not public API). */
export function admitCall(breaker: CircuitBreaker): number | CircuitOpenError {
  return breaker['admit']();
}

export function settleCall(breaker: CircuitBreaker, generation: number, result: CallResult, startedAt: number): void {
  breaker['settle'](generation, result, startedAt);
}

export function breakerInternals(breaker: CircuitBreaker): {
  timed: boolean;
  scheduler: SchedulerLike;
  settings: Settings;
} {
  return { timed: breaker['timed'], scheduler: breaker['scheduler'], settings: breaker['settings'] };
}
