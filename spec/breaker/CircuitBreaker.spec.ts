import { Observable, VirtualTimeScheduler, of, throwError } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import type { CircuitBreakerOptions, CircuitBreakerSnapshot, CircuitState } from '../../src/breaker/CircuitBreaker.js';
import { isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';

/** A virtual clock that can be moved forward by hand, running every action that falls due. */
class Clock extends VirtualTimeScheduler {
  /** Every action scheduled through `scheduler`, to see which are still live. */
  readonly timers: Subscription[] = [];
  private readonly ran = new Set<Subscription>();
  readonly scheduler: SchedulerLike = {
    now: () => this.now(),
    schedule: (work: any, delay?: number, state?: unknown) => {
      const ran = this.ran;
      const timer: Subscription = this.schedule(
        function (this: unknown, s?: unknown) {
          ran.add(timer);
          work.call(this, s);
        },
        delay,
        state,
      );
      this.timers.push(timer);
      return timer;
    },
  };

  advance(ms: number): void {
    this.schedule(() => undefined, ms);
    this.maxFrames = this.frame + ms;
    this.flush();
  }

  live(): number {
    return this.timers.filter((t) => !t.closed && !this.ran.has(t)).length;
  }
}

type Result = 'ok' | 'failed' | 'refused';

/** Makes one synchronous call through the breaker at the current time. */
function call(breaker: CircuitBreaker, outcome: 'success' | 'failure'): Result {
  let result: Result = 'ok';
  const source: Observable<number> = outcome === 'success' ? of(1) : throwError(() => new Error('down'));
  source.pipe(circuitBreak(breaker)).subscribe({
    error: (e: unknown) => (result = isCircuitOpenError(e) ? 'refused' : 'failed'),
  });
  return result;
}

function breakerOn(clock: Clock, options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker({ failureThreshold: 3, resetTimeout: 100, ...options, scheduler: clock.scheduler });
}

function watch(breaker: CircuitBreaker, clock: Clock): { seen: Array<[number, CircuitState]>; sub: Subscription } {
  const seen: Array<[number, CircuitState]> = [];
  const sub = breaker.state$.subscribe((s) => seen.push([clock.now(), s]));
  return { seen, sub };
}

describe('CircuitBreaker', () => {
  it('takes every option from its defaults when given none (failureThreshold 5)', () => {
    const breaker = new CircuitBreaker();
    const guard = circuitBreak<never>(breaker);
    const fail = (): void => {
      throwError(() => new Error('down'))
        .pipe(guard)
        .subscribe({ error: () => undefined });
    };
    for (let i = 0; i < 4; i++) fail();
    expect(breaker.state).toBe('closed');
    fail();
    expect(breaker.state).toBe('open');
    // and circuitBreak() makes its own breaker with the defaults
    let refused: unknown;
    const own = circuitBreak<never>();
    for (let i = 0; i < 6; i++)
      throwError(() => new Error('down'))
        .pipe(own)
        .subscribe({ error: (e) => (refused = e) });
    expect(isCircuitOpenError(refused)).toBe(true);
  });

  describe('state and state$', () => {
    it('starts closed; state$ gives the current state to each new subscriber', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 1 });
      expect(breaker.state).toBe('closed');
      call(breaker, 'failure');
      expect(breaker.state).toBe('open');
      const late = watch(breaker, clock);
      expect(late.seen).toEqual([[0, 'open']]);
    });

    it('takes the step to half-open when looked at after resetTimeout, without any timer', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 1 });
      clock.advance(10);
      call(breaker, 'failure');
      expect(clock.live()).toBe(0);
      clock.advance(99);
      expect(breaker.state).toBe('open');
      clock.advance(50);
      expect(breaker.state).toBe('half-open');
      expect(breaker.toJSON().since).toBe(110); // when it fell due, not when it was looked at
    });

    it('holds a half-open timer only while open and watched', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 1 });
      const first = watch(breaker, clock);
      expect(clock.live()).toBe(0); // closed: nothing to wait for
      call(breaker, 'failure');
      expect(clock.live()).toBe(1);
      first.sub.unsubscribe();
      expect(clock.live()).toBe(0);
      const second = watch(breaker, clock);
      expect(clock.live()).toBe(1);
      clock.advance(100);
      expect(second.seen).toEqual([
        [0, 'open'],
        [100, 'half-open'],
      ]);
      expect(clock.live()).toBe(0);
    });

    it('cancels the half-open timer on reset() and isolate()', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 1 });
      const { seen } = watch(breaker, clock);
      call(breaker, 'failure');
      breaker.reset();
      expect(clock.live()).toBe(0);
      call(breaker, 'failure');
      expect(clock.live()).toBe(1);
      clock.advance(5);
      breaker.isolate();
      expect(clock.live()).toBe(0);
      clock.advance(500);
      expect(breaker.state).toBe('isolated');
      expect(seen.map(([, s]) => s)).toEqual(['closed', 'open', 'closed', 'open', 'isolated']);
    });

    it('delivers a transition caused inside a state$ subscriber after the current one, to everyone in order', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 1 });
      const a: CircuitState[] = [];
      const b: CircuitState[] = [];
      breaker.state$.subscribe((s) => {
        a.push(s);
        if (s === 'open') breaker.reset();
      });
      breaker.state$.subscribe((s) => b.push(s));
      call(breaker, 'failure');
      expect(a).toEqual(['closed', 'open', 'closed']);
      expect(b).toEqual(['closed', 'open', 'closed']);
      expect(breaker.state).toBe('closed');
    });

    it('does not emit for reset() of a closed circuit, but forgets its count', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureThreshold: 2 });
      const { seen } = watch(breaker, clock);
      call(breaker, 'failure');
      breaker.reset();
      call(breaker, 'failure');
      expect(breaker.state).toBe('closed');
      expect(seen).toEqual([[0, 'closed']]);
    });

    it('ignores isolate() when already isolated', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock);
      const { seen } = watch(breaker, clock);
      breaker.isolate();
      clock.advance(3);
      breaker.isolate();
      expect(seen).toEqual([
        [0, 'closed'],
        [0, 'isolated'],
      ]);
      expect(breaker.toJSON().since).toBe(0);
    });
  });

  describe('callTimeout', () => {
    it('holds one timer per running call, none once it ended (a call ending while subscribing needs none)', () => {
      const clock = new Clock();
      const guard = circuitBreak<number>({ callTimeout: 10, failureThreshold: 100, scheduler: clock.scheduler });
      const ends: Array<[number, string]> = [];
      const run = (name: string): Subscription =>
        new Observable<number>(() => undefined).pipe(guard).subscribe({
          error: (e: unknown) => ends.push([clock.now(), `${name} ${(e as Error).name}`]),
        });
      of(1).pipe(guard).subscribe(); // ends while subscribing: no timer at all
      expect(clock.live()).toBe(0);
      run('a');
      clock.advance(3);
      const b = run('b');
      run('c');
      expect(clock.live()).toBe(3);
      clock.advance(7); // a times out at 10
      expect(clock.live()).toBe(2);
      b.unsubscribe();
      expect(clock.live()).toBe(1);
      clock.advance(10); // c at 13
      expect(ends).toEqual([
        [10, 'a CallTimeoutError'],
        [13, 'c CallTimeoutError'],
      ]);
      expect(clock.live()).toBe(0);
      const d = run('d'); // from 20, deadline 30
      expect(clock.live()).toBe(1);
      d.unsubscribe();
      expect(clock.live()).toBe(0); // nothing left to time out: no action stays on the scheduler
      clock.advance(10);
      expect(clock.live()).toBe(0);
      expect(ends).toHaveLength(2);
    });
  });

  describe('toJSON and initialState', () => {
    it('is plain JSON', () => {
      const clock = new Clock();
      const breaker = breakerOn(clock, { failureRateThreshold: 0.5, slidingWindow: { kind: 'count', size: 4 } });
      call(breaker, 'failure');
      call(breaker, 'success');
      const snapshot = breaker.toJSON();
      expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
      expect(snapshot).toEqual({
        version: 1,
        state: 'closed',
        since: 0,
        consecutiveFailures: 0,
        window: { kind: 'count', size: 4, outcomes: [1, 0] },
      });
    });

    it('restores a closed circuit with its consecutive failures', () => {
      const clock = new Clock();
      const saved = breakerOn(clock);
      call(saved, 'failure');
      call(saved, 'failure');
      const restored = breakerOn(clock, { initialState: JSON.parse(JSON.stringify(saved.toJSON())) });
      expect(restored.toJSON()).toEqual(saved.toJSON());
      call(restored, 'failure');
      expect(restored.state).toBe('open');
    });

    it('restores the count window, so the rate trips as it would have', () => {
      const clock = new Clock();
      const options: CircuitBreakerOptions = {
        failureRateThreshold: 0.5,
        slidingWindow: { kind: 'count', size: 4 },
        minimumCalls: 4,
      };
      const saved = breakerOn(clock, options);
      call(saved, 'failure');
      call(saved, 'success');
      call(saved, 'success');
      const restored = breakerOn(clock, { ...options, initialState: saved.toJSON() });
      call(restored, 'failure');
      call(saved, 'failure');
      expect([saved.state, restored.state]).toEqual(['open', 'open']);
    });

    it('restores the time window, whose calls still expire on time', () => {
      const clock = new Clock();
      const options: CircuitBreakerOptions = {
        failureRateThreshold: 0.5,
        slidingWindow: { kind: 'time', duration: 100 },
        minimumCalls: 2,
      };
      const saved = breakerOn(clock, options);
      clock.advance(5);
      call(saved, 'failure');
      const snapshot = saved.toJSON();
      expect(snapshot.window).toEqual({
        kind: 'time',
        duration: 100,
        buckets: [{ index: 0, calls: 1, failures: 1, slow: 0 }],
      });
      clock.advance(50);
      const within = breakerOn(clock, { ...options, initialState: snapshot });
      call(within, 'success');
      expect(within.state).toBe('open');
      clock.advance(50); // the failure (bucket 0..10) has expired at 105
      const expired = breakerOn(clock, { ...options, initialState: snapshot });
      call(expired, 'success');
      expect(expired.state).toBe('closed');
    });

    it('starts with an empty window when the window options changed', () => {
      const clock = new Clock();
      const saved = breakerOn(clock, { failureRateThreshold: 0.5, slidingWindow: { kind: 'count', size: 4 } });
      call(saved, 'failure');
      const restored = breakerOn(clock, {
        failureRateThreshold: 0.5,
        slidingWindow: { kind: 'count', size: 8 },
        initialState: saved.toJSON(),
      });
      expect(restored.toJSON().window).toEqual({ kind: 'count', size: 8, outcomes: [] });
    });

    it('restores an open circuit with the rest of its reset timeout', () => {
      const clock = new Clock();
      const saved = breakerOn(clock, { failureThreshold: 1 });
      clock.advance(10);
      call(saved, 'failure');
      const snapshot = saved.toJSON();
      expect(snapshot).toEqual({ version: 1, state: 'open', since: 10, consecutiveFailures: 0 });
      clock.advance(40);
      const restored = breakerOn(clock, { failureThreshold: 1, initialState: snapshot });
      let retryAfter = 0;
      of(1)
        .pipe(circuitBreak(restored))
        .subscribe({ error: (e: { retryAfter: number }) => (retryAfter = e.retryAfter) });
      expect(retryAfter).toBe(60);
      const { seen } = watch(restored, clock);
      clock.advance(60);
      expect(seen).toEqual([
        [50, 'open'],
        [110, 'half-open'],
      ]);
    });

    it('restores a stale open circuit as half-open since its reset timeout elapsed', () => {
      const clock = new Clock();
      const snapshot: CircuitBreakerSnapshot = { version: 1, state: 'open', since: 10, consecutiveFailures: 0 };
      clock.advance(500);
      const restored = breakerOn(clock, { initialState: snapshot });
      expect(restored.state).toBe('half-open');
      expect(restored.toJSON()).toEqual({ version: 1, state: 'half-open', since: 110, consecutiveFailures: 0 });
      expect(call(restored, 'success')).toBe('ok');
      expect(restored.state).toBe('closed');
    });

    it('restores half-open with every trial slot free, and isolated as isolated', () => {
      const clock = new Clock();
      const half = breakerOn(clock, {
        halfOpenMaxCalls: 2,
        initialState: { version: 1, state: 'half-open', since: 0, consecutiveFailures: 0 },
      });
      expect(call(half, 'success')).toBe('ok');
      expect(half.state).toBe('half-open');
      expect(call(half, 'success')).toBe('ok');
      expect(half.state).toBe('closed');
      const isolated = breakerOn(clock, {
        initialState: { version: 1, state: 'isolated', since: 0, consecutiveFailures: 0 },
      });
      clock.advance(1e6);
      expect(call(isolated, 'success')).toBe('refused');
    });

    it('treats a snapshot time ahead of the restoring clock as now', () => {
      const clock = new Clock();
      const restored = breakerOn(clock, {
        initialState: { version: 1, state: 'open', since: 1_700_000_000_000, consecutiveFailures: 0 },
      });
      expect(restored.toJSON().since).toBe(0);
      clock.advance(100);
      expect(restored.state).toBe('half-open');
    });
  });

  describe('without a scheduler option', () => {
    it('uses asyncScheduler and holds no timer while nobody watches', () => {
      const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
      call(breaker, 'failure');
      expect(breaker.state).toBe('open');
      expect(breaker.toJSON().since).toBeGreaterThan(0);
    });
  });
});
