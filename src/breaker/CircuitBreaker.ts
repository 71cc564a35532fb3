import { Observable } from 'rxjs';
import type { Subscriber, Subscription } from 'rxjs';
import { CircuitOpenError } from '../errors.js';
import { Clock, scheduleAfter } from '../internal/clock.js';
import { breakerSettings } from './options.js';
import type { BreakerSettings, CircuitBreakerOptions } from './options.js';
import { BREAKER } from './port.js';
import type { BreakerPort, CallOutcome, CallResult } from './port.js';
import type { CircuitBreakerSnapshot, CircuitState } from './snapshot.js';
import { CountWindow, FAILED, SLOW, TimeWindow } from './windows.js';
import type { CallWindow, Outcome } from './windows.js';

export type { CircuitBreakerOptions, SlidingWindow } from './options.js';
export type { CircuitBreakerSnapshot, CircuitState } from './snapshot.js';
export type { WindowSnapshot } from './windows.js';

/** The state machine: one variant per state, carrying only what that state needs. */
type Phase =
  | { state: 'closed'; since: number; consecutiveFailures: number }
  | { state: 'open'; since: number; halfOpenAt: number }
  | { state: 'half-open'; since: number; admitted: number; succeeded: number }
  | { state: 'isolated'; since: number };

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
 * A wall clock that steps (the default scheduler reads `Date.now()`): readings never go back, a step back is time
 * standing still, so it delays half-open by at most `resetTimeout` after a reading first sees it; while `state$` is
 * watched the timer decides, and half-open comes `resetTimeout` after opening whatever the clock reads. A step forward
 * counts as time that passed (the breaker may go half-open early). Call timeouts are timers (see {@link circuitBreak}).
 * Delays above 2^31 - 1 ms (about 24.8 days) are waited in full, in steps.
 *
 * ```
 * calls:   -x-x-x---r-------o-o-   x fails, o succeeds, r is refused (CircuitOpenError, retryAfter 6)
 * state$:  c----o---------h-c---   c closed, o open, h half-open
 *          (failureThreshold: 3, resetTimeout: 10)
 * ```
 *
 * ## Example
 * ```ts
 * import { fromFetch } from 'rxjs/fetch';
 * import { CircuitBreaker, circuitBreak } from 'rxjs-backpressure';
 *
 * const payments = new CircuitBreaker<Response>({
 *   failureRateThreshold: 0.5,
 *   slidingWindow: { kind: 'time', duration: 10_000 },
 *   minimumCalls: 20,
 *   callTimeout: 2_000,
 *   resetTimeout: 15_000,
 *   isFailureResult: (response) => response.status >= 500,
 *   initialState: loadSavedState(), // a CircuitBreakerSnapshot from toJSON(), or undefined
 * });
 * payments.state$.subscribe((state) => console.log(`payments circuit ${state}`));
 * const charge = (order: Order) =>
 *   fromFetch('/charges', { method: 'POST', body: JSON.stringify(order) }).pipe(circuitBreak(payments));
 * process.on('SIGTERM', () => saveState(payments.toJSON()));
 * ```
 *
 * @param options the thresholds, window and timings; see {@link CircuitBreakerOptions}
 * @see {@link circuitBreak} guarding an observable with it
 */
export class CircuitBreaker<T = unknown> {
  /** The current state and, after each transition, every new one at the scheduler time it happened. */
  readonly state$: Observable<CircuitState>;

  /** @internal the operator's port into the breaker (see breaker/port.ts) */
  readonly [BREAKER]: BreakerPort;

  private readonly settings: BreakerSettings;
  /** Every time read of the breaker: monotonic, so a wall clock stepping back does not hold it open. */
  private readonly clock: Clock;
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
  private readonly outcomes: Record<CallOutcome, number> = { success: 0, failure: 0, rejected: 0, timeout: 0, slow: 0 };

  constructor(options: CircuitBreakerOptions<T> = {}) {
    const s = (this.settings = breakerSettings('CircuitBreaker', options as CircuitBreakerOptions<never>));
    this.clock = new Clock(s.scheduler);
    const w = s.slidingWindow;
    this.window =
      w === undefined ? undefined : w.kind === 'count' ? new CountWindow(w.size) : new TimeWindow(w.duration);
    this.timed = s.slowCallDuration !== undefined || w?.kind === 'time';
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
    const clock = this.clock;
    this[BREAKER] = {
      v: 1,
      admit: () => this.admit(),
      settle: (generation, result, startedAt) => this.settle(generation, result, startedAt),
      timed: this.timed,
      now: () => clock.now(),
      scheduler: s.scheduler,
      callTimeout: s.callTimeout,
      isFailure: s.isFailure,
      isFailureResult: s.isFailureResult,
      outcomes: this.outcomes,
    };
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
    this.enter({ state: 'isolated', since: this.clock.now() });
  }

  /** Closes the circuit and forgets every count; calls in flight no longer change the state when they end. */
  reset(): void {
    const since = this.clock.now();
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

  /** Admits one call: its generation, or the `CircuitOpenError` to fail it with (counted `rejected`). */
  private admit(): number | CircuitOpenError {
    const admitted = this.decide();
    if (typeof admitted !== 'number') this.outcomes.rejected++;
    return admitted;
  }

  private decide(): number | CircuitOpenError {
    let phase = this.phase;
    if (phase.state === 'closed') return this.generation;
    if (phase.state === 'open') {
      const now = this.clock.now();
      this.catchUp(now);
      phase = this.phase;
      if (phase.state === 'open') {
        const retryAfter = phase.halfOpenAt - now;
        return new CircuitOpenError(`CircuitBreaker: circuit is open, retry after ${retryAfter} ms`, retryAfter);
      }
    }
    const { halfOpenMaxCalls, callTimeout, resetTimeout } = this.settings;
    if (phase.state === 'half-open') {
      if (phase.admitted < halfOpenMaxCalls) {
        phase.admitted++;
        return this.generation;
      }
      return new CircuitOpenError(
        `CircuitBreaker: circuit is half-open and its ${halfOpenMaxCalls} trial call(s) are taken`,
        callTimeout ?? resetTimeout,
      );
    }
    return new CircuitOpenError('CircuitBreaker: circuit is isolated', Infinity);
  }

  /** Records how a call admitted in `generation` ended; `startedAt` is its start time when the breaker is timed. */
  private settle(generation: number, result: CallResult, startedAt: number): void {
    const s = this.settings;
    const now = this.timed ? this.clock.now() : 0;
    const slow = s.slowCallDuration !== undefined && now - startedAt >= s.slowCallDuration;
    if (result === 'success') this.outcomes[slow ? 'slow' : 'success']++;
    else if (result === 'failure' || result === 'timeout') this.outcomes[result]++;
    if (generation !== this.generation) return;
    const phase = this.phase;
    if (phase.state === 'half-open') {
      if (result === 'none' || result === 'ignored') {
        phase.admitted--;
      } else if (result === 'success' && !(slow && s.slowCallRateThreshold !== undefined)) {
        if (++phase.succeeded >= s.halfOpenMaxCalls) {
          this.enter({ state: 'closed', since: this.timed ? now : this.clock.now(), consecutiveFailures: 0 });
        }
      } else {
        this.open(this.timed ? now : this.clock.now());
      }
      return;
    }
    if (phase.state !== 'closed' || result === 'none' || result === 'ignored') return;
    const failed = result !== 'success';
    phase.consecutiveFailures = failed ? phase.consecutiveFailures + 1 : 0;
    if (s.failureThreshold !== undefined && phase.consecutiveFailures >= s.failureThreshold) {
      this.open(this.timed ? now : this.clock.now());
      return;
    }
    const window = this.window;
    if (window === undefined) return;
    window.record(((failed ? FAILED : 0) | (slow ? SLOW : 0)) as Outcome, now);
    const totals = window.totals(now);
    if (totals.calls < s.minimumCalls) return;
    const { failureRateThreshold, slowCallRateThreshold } = s;
    if (
      (failureRateThreshold !== undefined && totals.failures / totals.calls >= failureRateThreshold) ||
      (slowCallRateThreshold !== undefined && totals.slow / totals.calls >= slowCallRateThreshold)
    ) {
      this.open(this.timed ? now : this.clock.now());
    }
  }

  private open(now: number): void {
    this.enter({ state: 'open', since: now, halfOpenAt: now + this.settings.resetTimeout });
  }

  private restore(snapshot: CircuitBreakerSnapshot | undefined): Phase {
    const now = this.clock.now();
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
    if ((now ?? this.clock.now()) >= phase.halfOpenAt) {
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

  /**
   * While open and watched through `state$`, schedules the step to half-open at its time. The timer decides: when it
   * fires, `resetTimeout` has passed on the timers' clock, whatever the wall clock reads by then.
   */
  private armTimer(): void {
    const phase = this.phase;
    if (phase.state !== 'open' || this.watchers.size === 0 || this.halfOpenTimer !== undefined) return;
    const delay = Math.max(0, phase.halfOpenAt - this.clock.now());
    this.halfOpenTimer = scheduleAfter(this.settings.scheduler, delay, () => {
      this.halfOpenTimer = undefined;
      if (this.phase !== phase) return;
      const now = this.clock.now();
      this.enter({ state: 'half-open', since: Math.min(now, phase.halfOpenAt), admitted: 0, succeeded: 0 });
    });
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
