/**
 * Time in the resilience wing (issue 15 items 4, 5 and 6): deadlines are kept, a wall clock that steps neither holds a
 * breaker open nor times calls out without cause, and delays beyond what a JavaScript timer holds are waited in full.
 */
import { NEVER, Observable, asyncScheduler, defer, of, retry, throwError } from 'rxjs';
import type { MonoTypeOperatorFunction, Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import type { CircuitState } from '../../src/breaker/CircuitBreaker.js';
import { isCallTimeoutError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { retryAfter } from '../../src/operators/retryAfter.js';
import { SteppingClock, schedulerOf } from './clocks.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A call that never answers; records the time (timer time) each of its subscriptions ended with an error. */
function hanging(clock: SteppingClock, name: string, ends: Array<[string, number, string]>) {
  return {
    subscribe(observable: Observable<never>): Subscription {
      return observable.subscribe({
        error: (e: unknown) => ends.push([name, clock.timerTime, isCallTimeoutError(e) ? 'timeout' : String(e)]),
      });
    },
  };
}

/** Makes a synchronous failing call through `guard` (opens a breaker with failureThreshold 1). */
function fail<T>(guard: MonoTypeOperatorFunction<T>): void {
  (throwError(() => new Error('down')) as Observable<T>).pipe(guard).subscribe({ error: () => undefined });
}

/** Makes a synchronous call through `guard` and tells whether the breaker refused it. */
function refused(guard: MonoTypeOperatorFunction<number>): boolean {
  let open = false;
  of(1)
    .pipe(guard)
    .subscribe({ error: (e: unknown) => (open = isCircuitOpenError(e)) });
  return open;
}

describe('callTimeout: every call times out at its own deadline (issue 15 item 4)', () => {
  it('a call retried synchronously at its timeout does not push back the deadline of a call started after it', () => {
    const clock = new SteppingClock();
    const guard = circuitBreak<never>({ callTimeout: 100, failureThreshold: 100, scheduler: schedulerOf(clock) });
    const ends: Array<[string, number, string]> = [];
    let attempts = 0;
    // A hangs; retry() after the breaker resubscribes it synchronously when it times out (at 100, then at 200)
    const a = defer(() => {
      attempts++;
      return NEVER;
    }).pipe(guard, retry(1));
    hanging(clock, 'a', ends).subscribe(a);
    clock.advance(50);
    hanging(clock, 'b', ends).subscribe(NEVER.pipe(guard)); // started at 50: due at 150
    clock.advance(200);
    expect(attempts).toBe(2);
    expect(ends).toEqual([
      ['b', 150, 'timeout'],
      ['a', 200, 'timeout'],
    ]);
  });

  it('a hung half-open trial loses its slot at callTimeout, not later', () => {
    const clock = new SteppingClock();
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      callTimeout: 100,
      resetTimeout: 10,
      halfOpenMaxCalls: 2,
      scheduler: schedulerOf(clock),
    });
    const guard = circuitBreak<never>(breaker);
    const ends: Array<[string, number, string]> = [];
    // a starts while closed and hangs; it is retried synchronously when it times out at 100
    hanging(clock, 'a', ends).subscribe(NEVER.pipe(guard, retry(1)));
    clock.advance(1);
    breaker.isolate();
    breaker.reset(); // a is now a call of an earlier generation: its timeout changes nothing
    fail(guard); // opens at 1
    clock.advance(10); // half-open at 11
    hanging(clock, 'trial', ends).subscribe(NEVER.pipe(guard)); // trial from 11, due at 111
    const states: Array<[number, CircuitState]> = [];
    breaker.state$.subscribe((s) => states.push([clock.timerTime, s]));
    clock.advance(150);
    // the trial timed out at 111 and opened the circuit again
    expect(ends.find(([name]) => name === 'trial')).toEqual(['trial', 111, 'timeout']);
    expect(states.slice(0, 2)).toEqual([
      [11, 'half-open'],
      [111, 'open'],
    ]);
  });
});

describe('a wall clock that steps (issue 15 item 5)', () => {
  it('a step back while open delays half-open by at most resetTimeout after the step is first seen', () => {
    const clock = new SteppingClock();
    const guard = circuitBreak<number>({ failureThreshold: 1, resetTimeout: 100, scheduler: schedulerOf(clock) });
    clock.advance(1000);
    fail(guard); // open from 1000, half-open due at 1100
    clock.advance(10);
    clock.step(-HOUR);
    clock.advance(10);
    expect(refused(guard)).toBe(true); // 1020: the step is seen here
    clock.advance(100);
    expect(refused(guard)).toBe(false); // 1120: one resetTimeout after it was seen, a trial is let through
  });

  it('a watched breaker goes half-open when its timer fires, whatever the wall clock reads', () => {
    const clock = new SteppingClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100, scheduler: schedulerOf(clock) });
    const states: Array<[number, CircuitState]> = [];
    breaker.state$.subscribe((s) => states.push([clock.timerTime, s]));
    fail(circuitBreak(breaker));
    clock.advance(50);
    clock.step(-HOUR);
    clock.advance(60);
    expect(states).toEqual([
      [0, 'closed'],
      [0, 'open'],
      [100, 'half-open'],
    ]);
  });

  it('a step forward times out no call before callTimeout of timer time', () => {
    const clock = new SteppingClock();
    const guard = circuitBreak<never>({ callTimeout: 1000, failureThreshold: 100, scheduler: schedulerOf(clock) });
    const ends: Array<[string, number, string]> = [];
    hanging(clock, 'a', ends).subscribe(NEVER.pipe(guard));
    clock.advance(500);
    hanging(clock, 'b', ends).subscribe(NEVER.pipe(guard));
    clock.advance(100);
    clock.step(HOUR); // at 600
    clock.advance(100);
    hanging(clock, 'c', ends).subscribe(NEVER.pipe(guard)); // at 700
    clock.advance(2000);
    expect(ends).toEqual([
      ['a', 1000, 'timeout'],
      ['b', 1500, 'timeout'],
      ['c', 1700, 'timeout'],
    ]);
  });
});

describe('delays above 2^31 - 1 ms (issue 15 item 6)', () => {
  it('resetTimeout of 40 days: waited in full on timers that overflow like Node', () => {
    const clock = new SteppingClock(true);
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 40 * DAY, scheduler: schedulerOf(clock) });
    const states: Array<[number, CircuitState]> = [];
    breaker.state$.subscribe((s) => states.push([clock.timerTime, s]));
    fail(circuitBreak(breaker));
    clock.advance(40 * DAY - 1);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(states).toEqual([
      [0, 'closed'],
      [0, 'open'],
      [40 * DAY, 'half-open'],
    ]);
    expect(clock.delays.every((d) => d <= 2 ** 31 - 1)).toBe(true);
  });

  it('callTimeout of 30 days: the call times out after 30 days, not after 1 ms', () => {
    const clock = new SteppingClock(true);
    const guard = circuitBreak<never>({ callTimeout: 30 * DAY, scheduler: schedulerOf(clock) });
    const ends: Array<[string, number, string]> = [];
    hanging(clock, 'a', ends).subscribe(NEVER.pipe(guard));
    clock.advance(30 * DAY - 1);
    expect(ends).toEqual([]);
    clock.advance(1);
    expect(ends).toEqual([['a', 30 * DAY, 'timeout']]);
  });

  it('Retry-After: 2592000 with a 40-day maxDelay: the next attempt 30 days later', () => {
    const clock = new SteppingClock(true);
    const attempts: number[] = [];
    const busy = { status: 503, headers: new Headers({ 'Retry-After': '2592000' }) };
    const request = defer(() => {
      attempts.push(clock.timerTime);
      return of(busy);
    });
    const seen: unknown[] = [];
    request
      .pipe(retryAfter({ maxAttempts: 3, maxDelay: 40 * DAY, jitter: 0, scheduler: schedulerOf(clock) }))
      .subscribe({ next: (v) => seen.push(v), error: (e: unknown) => seen.push((e as Error).name) });
    clock.advance(61 * DAY);
    expect(attempts).toEqual([0, 30 * DAY, 60 * DAY]);
    expect(seen).toEqual(['RateLimitExceededError']);
  });

  describe('on the real asyncScheduler', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    let subscription: Subscription | undefined;
    afterEach(() => {
      subscription?.unsubscribe();
      process.off('warning', onWarning);
    });

    it('Retry-After: 2592000 sends one attempt, arms no overflowing timer', async () => {
      process.on('warning', onWarning);
      let attempts = 0;
      const busy = { status: 503, headers: new Headers({ 'Retry-After': '2592000' }) };
      subscription = defer(() => {
        attempts++;
        return of(busy);
      })
        .pipe(retryAfter({ maxAttempts: 10, maxDelay: 40 * DAY, scheduler: asyncScheduler }))
        .subscribe({ error: () => undefined });
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(attempts).toBe(1);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    });
  });
});
