/**
 * Model-based test: random sequences of calls (outcomes, durations), clock advances, isolate() and reset() are run
 * through a real CircuitBreaker on a virtual clock and through the small reference state machine below, written
 * straight from the contract. Both must agree on every admission (and retryAfter), every call's end, every state$
 * transition with its time, and the final snapshot.
 */
import fc from 'fast-check';
import { Observable, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import type { CircuitBreakerOptions, CircuitState } from '../../src/breaker/CircuitBreaker.js';
import { isCallTimeoutError, isCircuitOpenError } from '../../src/errors.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';

type Outcome = 'complete' | 'error' | 'ignored' | 'cancel' | 'valueCancel' | 'hang';

type Command =
  | { kind: 'call'; gap: number; outcome: Outcome; duration: number }
  | { kind: 'isolate'; gap: number }
  | { kind: 'reset'; gap: number };

interface Config {
  failureThreshold?: number;
  failureRateThreshold?: number;
  slowCallRateThreshold?: number;
  slowCallDuration?: number;
  slidingWindow?: { kind: 'count'; size: number } | { kind: 'time'; duration: number };
  minimumCalls?: number;
  callTimeout?: number;
  resetTimeout: number;
  halfOpenMaxCalls: number;
}

const IGNORED = new Error('ignored');

// ---------------------------------------------------------------------------------------------------------------
// The reference model: plain data, every call kept (no ring, no buckets), rates recomputed from scratch.
// ---------------------------------------------------------------------------------------------------------------

type Result = 'success' | 'failure' | 'ignored' | 'none';
interface Recorded {
  at: number;
  failed: boolean;
  slow: boolean;
}

class Model {
  state: CircuitState = 'closed';
  since = 0;
  generation = 0;
  consecutive = 0;
  recorded: Recorded[] = [];
  halfOpenAt = 0;
  admitted = 0;
  succeeded = 0;
  readonly log: Array<[number, CircuitState]> = [[0, 'closed']];

  constructor(private readonly c: Config) {}

  private get threshold(): number | undefined {
    const rated = this.c.failureRateThreshold !== undefined || this.c.slowCallRateThreshold !== undefined;
    return this.c.failureThreshold ?? (rated ? undefined : 5);
  }

  enter(state: CircuitState, at: number): void {
    this.state = state;
    this.since = at;
    this.generation++;
    this.consecutive = 0;
    this.recorded = [];
    this.admitted = 0;
    this.succeeded = 0;
    if (state === 'open') this.halfOpenAt = at + this.c.resetTimeout;
    this.log.push([at, state]);
  }

  catchUp(now: number): void {
    if (this.state === 'open' && now >= this.halfOpenAt) this.enter('half-open', this.halfOpenAt);
  }

  /** A generation number, or the retryAfter of the refusal. */
  admit(now: number): { generation: number } | { retryAfter: number } {
    this.catchUp(now);
    switch (this.state) {
      case 'closed':
        return { generation: this.generation };
      case 'open':
        return { retryAfter: this.halfOpenAt - now };
      case 'isolated':
        return { retryAfter: Infinity };
      case 'half-open':
        if (this.admitted < this.c.halfOpenMaxCalls) {
          this.admitted++;
          return { generation: this.generation };
        }
        return { retryAfter: this.c.callTimeout ?? this.c.resetTimeout };
    }
  }

  settle(generation: number, result: Result, startedAt: number, now: number): void {
    this.catchUp(now);
    if (generation !== this.generation) return;
    const slow = this.c.slowCallDuration !== undefined && now - startedAt >= this.c.slowCallDuration;
    if (this.state === 'half-open') {
      if (result === 'none' || result === 'ignored') this.admitted--;
      else if (result === 'success' && !(slow && this.c.slowCallRateThreshold !== undefined)) {
        if (++this.succeeded >= this.c.halfOpenMaxCalls) this.enter('closed', now);
      } else this.enter('open', now);
      return;
    }
    if (this.state !== 'closed' || result === 'none' || result === 'ignored') return;
    const failed = result === 'failure';
    this.consecutive = failed ? this.consecutive + 1 : 0;
    if (this.threshold !== undefined && this.consecutive >= this.threshold) return this.enter('open', now);
    const rated = this.c.failureRateThreshold !== undefined || this.c.slowCallRateThreshold !== undefined;
    if (!rated) return;
    this.recorded.push({ at: now, failed, slow });
    const window = this.c.slidingWindow ?? { kind: 'count', size: 100 };
    let live: Recorded[];
    if (window.kind === 'count') {
      live = this.recorded.slice(-window.size);
    } else {
      const width = window.duration / 10;
      live = this.recorded.filter((r) => Math.floor(now / width) - Math.floor(r.at / width) < 10);
    }
    const minimum = this.c.minimumCalls ?? (window.kind === 'count' ? Math.min(10, window.size) : 10);
    if (live.length < minimum) return;
    const failures = live.filter((r) => r.failed).length;
    const slowCalls = live.filter((r) => r.slow).length;
    if (
      (this.c.failureRateThreshold !== undefined && failures / live.length >= this.c.failureRateThreshold) ||
      (this.c.slowCallRateThreshold !== undefined && slowCalls / live.length >= this.c.slowCallRateThreshold)
    ) {
      this.enter('open', now);
    }
  }

  isolate(now: number): void {
    this.catchUp(now);
    if (this.state !== 'isolated') this.enter('isolated', now);
  }

  reset(now: number): void {
    this.catchUp(now);
    if (this.state !== 'closed') return this.enter('closed', now);
    this.generation++;
    this.consecutive = 0;
    this.recorded = [];
  }
}

/** Runs the commands through the model: what each call saw, and the transitions. */
function runModel(
  c: Config,
  commands: Command[],
): { calls: string[]; log: Array<[number, CircuitState]>; model: Model } {
  const model = new Model(c);
  const calls: string[] = commands.map(() => '-');
  // pending ends, ordered by (time, start order): what the virtual clock does with actions at the same time
  // timeouts due at an instant come after everything else due then (the guard lets the instant settle first)
  const ends: Array<{ at: number; timeout: boolean; seq: number; run: () => void }> = [];
  let seq = 0;
  const runEndsUpTo = (time: number, inclusive: boolean): void => {
    for (;;) {
      ends.sort((a, b) => a.at - b.at || Number(a.timeout) - Number(b.timeout) || a.seq - b.seq);
      const next = ends[0];
      if (next === undefined || next.at > time || (!inclusive && next.at === time)) return;
      ends.shift();
      model.catchUp(next.at);
      next.run();
    }
  };
  let now = 0;
  commands.forEach((command, i) => {
    now += command.gap;
    // actions scheduled up front (the commands) run before actions scheduled later for the same time (the ends)
    runEndsUpTo(now, false);
    model.catchUp(now);
    if (command.kind === 'isolate') return model.isolate(now);
    if (command.kind === 'reset') return model.reset(now);
    const admission = model.admit(now);
    if ('retryAfter' in admission) {
      calls[i] = `refused:${admission.retryAfter}`;
      return;
    }
    const startedAt = now;
    const { generation } = admission;
    const { outcome, duration } = command;
    // a call times out only when it runs longer than callTimeout (one ending exactly then is not timed out)
    const timesOut = c.callTimeout !== undefined && (outcome === 'hang' || duration > c.callTimeout);
    const finish = (result: Result, seen: string) => (at: number) => {
      calls[i] = seen;
      model.settle(generation, result, startedAt, at);
    };
    let end: (at: number) => void;
    let at: number;
    if (timesOut) {
      end = finish('failure', 'timeout');
      at = startedAt + c.callTimeout!;
    } else if (outcome === 'hang') {
      return;
    } else {
      at = startedAt + duration;
      end = {
        complete: finish('success', 'complete'),
        error: finish('failure', 'error'),
        ignored: finish('ignored', 'error'),
        cancel: finish('none', '-'),
        valueCancel: finish('success', '-'),
      }[outcome];
    }
    if (!timesOut && duration === 0) end(at);
    else ends.push({ at, timeout: timesOut, seq: seq++, run: () => end(at) });
  });
  runEndsUpTo(Infinity, true);
  model.catchUp(Infinity);
  return { calls, log: model.log, model };
}

/** Runs the commands through a real CircuitBreaker and circuitBreak on a virtual clock. */
function runReal(
  c: Config,
  commands: Command[],
): {
  calls: string[];
  log: Array<[number, CircuitState]>;
  breaker: CircuitBreaker;
  clock: VirtualTimeScheduler;
} {
  const clock = new VirtualTimeScheduler();
  const options: CircuitBreakerOptions = { ...c, isFailure: (e) => e !== IGNORED, scheduler: clock };
  const breaker = new CircuitBreaker(options);
  const guard = circuitBreak<string>(breaker);
  const log: Array<[number, CircuitState]> = [];
  breaker.state$.subscribe((s) => log.push([clock.now(), s]));
  const calls: string[] = commands.map(() => '-');
  let now = 0;
  commands.forEach((command, i) => {
    now += command.gap;
    clock.schedule(() => {
      if (command.kind === 'isolate') return breaker.isolate();
      if (command.kind === 'reset') return breaker.reset();
      const { outcome, duration } = command;
      const source = new Observable<string>((subscriber) => {
        if (outcome === 'valueCancel') subscriber.next('v');
        if (outcome !== 'complete' && outcome !== 'error' && outcome !== 'ignored') return;
        const end = (): void => {
          if (outcome === 'complete') subscriber.complete();
          else subscriber.error(outcome === 'ignored' ? IGNORED : new Error('down'));
        };
        if (duration === 0) return end();
        return clock.schedule(end, duration);
      });
      const subscription = source.pipe(guard).subscribe({
        error: (e: unknown) => {
          calls[i] = isCircuitOpenError(e) ? `refused:${e.retryAfter}` : isCallTimeoutError(e) ? 'timeout' : 'error';
        },
        complete: () => (calls[i] = 'complete'),
      });
      if (outcome === 'cancel' || outcome === 'valueCancel') {
        if (duration === 0) subscription.unsubscribe();
        else clock.schedule(() => subscription.unsubscribe(), duration);
      }
    }, now);
  });
  clock.flush();
  return { calls, log, breaker, clock };
}

const outcome: fc.Arbitrary<Outcome> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('complete' as const) },
  { weight: 3, arbitrary: fc.constant('error' as const) },
  { weight: 1, arbitrary: fc.constantFrom<Outcome>('ignored', 'cancel', 'valueCancel', 'hang') },
);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({ kind: fc.constant('call' as const), gap: fc.nat(8), outcome, duration: fc.nat(10) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('isolate' as const), gap: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), gap: fc.nat(8) }) },
);

const config: fc.Arbitrary<Config> = fc
  .record({
    failureThreshold: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 }),
    rates: fc.constantFrom('none', 'failure', 'slow', 'both'),
    failureRateThreshold: fc.constantFrom(0.25, 0.5, 0.6, 1),
    slowCallRateThreshold: fc.constantFrom(0.3, 0.5, 1),
    slowCallDuration: fc.integer({ min: 1, max: 6 }),
    window: fc.oneof(
      fc.record({ kind: fc.constant('count' as const), size: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('time' as const), duration: fc.constantFrom(10, 20, 40) }),
    ),
    minimumCalls: fc.integer({ min: 1, max: 4 }),
    callTimeout: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    resetTimeout: fc.integer({ min: 1, max: 20 }),
    halfOpenMaxCalls: fc.integer({ min: 1, max: 3 }),
  })
  .map((r) => {
    const c: Config = { resetTimeout: r.resetTimeout, halfOpenMaxCalls: r.halfOpenMaxCalls };
    if (r.failureThreshold !== undefined) c.failureThreshold = r.failureThreshold;
    if (r.callTimeout !== undefined) c.callTimeout = r.callTimeout;
    if (r.rates === 'failure' || r.rates === 'both') c.failureRateThreshold = r.failureRateThreshold;
    if (r.rates === 'slow' || r.rates === 'both') c.slowCallRateThreshold = r.slowCallRateThreshold;
    if (r.rates !== 'failure') c.slowCallDuration = r.slowCallDuration;
    if (r.rates !== 'none') {
      c.slidingWindow = r.window;
      c.minimumCalls = r.window.kind === 'count' ? Math.min(r.minimumCalls, r.window.size) : r.minimumCalls;
    }
    return c;
  });

describe('CircuitBreaker against a reference model', () => {
  it('agrees on admissions, call ends, transitions and the final snapshot', () => {
    fc.assert(
      fc.property(config, fc.array(command, { maxLength: 40 }), (c, commands) => {
        const real = runReal(c, commands);
        const expected = runModel(c, commands);
        expect(real.calls).toEqual(expected.calls);
        expect(real.log).toEqual(expected.log);
        const snapshot = real.breaker.toJSON();
        expect({ state: snapshot.state, since: snapshot.since, consecutive: snapshot.consecutiveFailures }).toEqual({
          state: expected.model.state,
          since: expected.model.since,
          consecutive: expected.model.state === 'closed' ? expected.model.consecutive : 0,
        });
        // a breaker restored from the snapshot on the same clock saves the same snapshot, window included
        const restored = new CircuitBreaker({ ...c, initialState: snapshot, scheduler: real.clock });
        expect(restored.toJSON()).toEqual(snapshot);
      }),
      { numRuns: 1000 },
    );
  });
});
