/**
 * Callbacks that throw: onDrop, priority, earlyDrop, random, cost, onCapacity (queue operators and throttleTokenBucket),
 * isFailure (circuitBreak), project (Demand.drain).
 *
 * On random runs the callback throws at its k-th call (once, or from then on). Then: the stream errors with exactly
 * that error (or, when the throw happens while unsubscribing, unsubscribe() throws it, as rxjs does for a throwing
 * teardown); every value received is accounted for, emitted or handed to onDrop (the call that threw counts), exactly
 * once; nothing is emitted after the error; no action is left on the virtual scheduler.
 */
import fc from 'fast-check';
import { Observable, Subject, UnsubscriptionError, of, throwError } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/CircuitBreaker.js';
import {
  Demand,
  bufferBounded,
  dropOnFull,
  isBackpressureError,
  pull,
  shedByPriority,
  throttleTokenBucket,
} from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { circuitBreak } from '../../src/operators/circuitBreak.js';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';
import { Clock, propertyRuns } from '../contract/registry.js';

const boom = new Error('boom');

/** Wraps a callback so that it throws `boom` at its k-th call (and, with `always`, at every call after it). */
interface Trap {
  calls: number;
  threw: boolean;
  /** The first argument of the call that threw first. */
  firstThrowArg: unknown;
  wrap<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R;
}

function trap(k: number, always: boolean): Trap {
  const t: Trap = {
    calls: 0,
    threw: false,
    firstThrowArg: undefined,
    wrap:
      (f) =>
      (...args) => {
        const result = f(...args);
        t.calls++;
        if (t.calls === k || (always && t.calls > k)) {
          if (!t.threw) t.firstThrowArg = args[0];
          t.threw = true;
          throw boom;
        }
        return result;
      },
  };
  return t;
}

interface Wiring {
  clock: Clock;
  demand: Demand;
  onDrop: (d: Dropped<number>) => void;
  trap: Trap;
}

interface CallbackCase {
  name: string;
  build(w: Wiring): MonoTypeOperatorFunction<number>;
}

const CASES: CallbackCase[] = [
  {
    name: 'bufferBounded onDrop',
    build: (w) => bufferBounded({ capacity: 3, demand: w.demand, scheduler: w.clock, onDrop: w.trap.wrap(w.onDrop) }),
  },
  ...(['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'] as const).map((overflow): CallbackCase => ({
    name: `dropOnFull ${overflow} onDrop`,
    build: (w) =>
      dropOnFull({ capacity: 3, overflow, demand: w.demand, scheduler: w.clock, onDrop: w.trap.wrap(w.onDrop) }),
  })),
  {
    name: 'dropOnFull earlyDrop',
    build: (w) =>
      dropOnFull({
        capacity: 3,
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.onDrop,
        earlyDrop: w.trap.wrap((f: number) => f / 2),
        random: () => 0.3,
      }),
  },
  {
    name: 'dropOnFull random',
    build: (w) =>
      dropOnFull({
        capacity: 3,
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.onDrop,
        earlyDrop: 0.5,
        random: w.trap.wrap(() => 0.7),
      }),
  },
  {
    name: 'shedByPriority priority',
    build: (w) =>
      shedByPriority({
        capacity: 3,
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.onDrop,
        priority: w.trap.wrap((v: number) => v % 3),
      }),
  },
  {
    name: 'shedByPriority onDrop',
    build: (w) =>
      shedByPriority({
        capacity: 3,
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.trap.wrap(w.onDrop),
        priority: (v: number) => v % 3,
      }),
  },
  {
    name: 'adaptiveBuffer onCapacity',
    build: (w) =>
      adaptiveBuffer({
        minCapacity: 1,
        maxCapacity: 4,
        targetLatency: 1,
        interval: 2,
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.onDrop,
        onCapacity: w.trap.wrap(() => undefined),
      }),
  },
  {
    name: 'adaptiveBuffer onDrop',
    build: (w) =>
      adaptiveBuffer({
        minCapacity: 1,
        maxCapacity: 4,
        targetLatency: 1,
        interval: 2,
        overflow: 'drop-oldest',
        demand: w.demand,
        scheduler: w.clock,
        onDrop: w.trap.wrap(w.onDrop),
      }),
  },
  ...(['shape', 'drop', 'error'] as const).flatMap((mode): CallbackCase[] => [
    {
      name: `throttleTokenBucket ${mode} cost`,
      build: (w) =>
        throttleTokenBucket({
          rate: 1,
          per: 2,
          burst: 2,
          mode,
          capacity: 3,
          scheduler: w.clock,
          onDrop: w.onDrop,
          cost: w.trap.wrap(() => 1),
        }),
    },
    {
      name: `throttleTokenBucket ${mode} onDrop`,
      build: (w) =>
        throttleTokenBucket({
          rate: 1,
          per: 2,
          burst: 2,
          mode,
          capacity: 3,
          maxWait: 5,
          scheduler: w.clock,
          onDrop: w.trap.wrap(w.onDrop),
        }),
    },
  ]),
];

type Step = { kind: 'next'; count: number } | { kind: 'request'; n: number } | { kind: 'advance'; ms: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('request' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 6 }) }) },
);
const endArb = fc.constantFrom('complete', 'unsubscribe');

function law(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function contains(error: unknown, wanted: unknown): boolean {
  return error === wanted || (error instanceof UnsubscriptionError && error.errors.includes(wanted));
}

function checkThrowing(
  c: CallbackCase,
  k: number,
  always: boolean,
  steps: readonly Step[],
  ending: 'complete' | 'unsubscribe',
): void {
  const clock = new Clock();
  const demand = new Demand();
  const source = new Subject<number>();
  const t = trap(k, always);
  const fate = new Map<number, string>();
  let received = 0;
  let end = 'running' as 'running' | 'complete' | 'error';
  let error: unknown;
  let afterEnd = 0;
  const settle = (value: number, how: string): void => {
    law(!fate.has(value), `${value} settled twice (${fate.get(value)}, then ${how})`);
    fate.set(value, how);
  };
  const subscription = source
    .pipe(c.build({ clock, demand, trap: t, onDrop: (d) => settle(d.value, d.reason) }))
    .subscribe({
      next: (value) => {
        if (end !== 'running') afterEnd++;
        settle(value, 'emitted');
      },
      error: (e: unknown) => {
        if (end !== 'running') afterEnd++;
        end = 'error';
        error = e;
      },
      complete: () => {
        if (end !== 'running') afterEnd++;
        end = 'complete';
      },
    });
  for (const step of steps) {
    if (step.kind === 'next') {
      for (let i = 0; i < step.count; i++) {
        if (!subscription.closed) received++;
        source.next(received);
      }
    } else if (step.kind === 'request') demand.request(step.n);
    else clock.advance(step.ms);
    if (end !== 'running') break;
  }
  if (ending === 'complete' && end === 'running') {
    source.complete();
    demand.request(Infinity);
    clock.advance(100);
  }
  let unsubscribeError: unknown;
  try {
    subscription.unsubscribe();
  } catch (e) {
    unsubscribeError = e;
  }

  // A throw while the stream is already ending does not replace the first error: an onDrop that throws on a value
  // dropped as 'error' leaves the stream's own error in place; on a 'cancelled' one, unsubscribe() throws it.
  const during = (t.firstThrowArg as Partial<Dropped<number>> | undefined)?.reason;
  const legitimate = (e: unknown): boolean => isBackpressureError(e);
  if (t.threw && during === 'cancelled') {
    law(
      contains(unsubscribeError, boom),
      `onDrop threw while cancelling; unsubscribe threw ${String(unsubscribeError)}`,
    );
  } else if (t.threw && during === 'error') {
    law(
      end === 'error' && legitimate(error),
      `onDrop threw while erroring; the stream ended ${end} (${String(error)})`,
    );
  } else if (t.threw) {
    law(
      end === 'error' && error === boom,
      `the callback threw, but the stream ended ${end} with ${String(error)} (unsubscribe: ${String(unsubscribeError)})`,
    );
  } else {
    law(end !== 'error' || legitimate(error), `errored with ${String(error)} though no callback threw`);
    law(unsubscribeError === undefined, `unsubscribe threw ${String(unsubscribeError)}`);
  }
  law(afterEnd === 0, 'a notification after the stream ended');
  for (let v = 1; v <= received; v++) law(fate.has(v), `${v} was received but neither emitted nor dropped`);
  law(fate.size === received, `${fate.size} settled, ${received} received`);
  law(clock.actions.length === 0, `${clock.actions.length} scheduled actions left`);
  law(!source.observed, 'source still subscribed');
}

const runs = propertyRuns(300);

describe(`a callback that throws errors the stream with its error and loses nothing (${runs} runs each)`, () => {
  for (const c of CASES) {
    it(
      c.name,
      () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 12 }),
            fc.boolean(),
            fc.array(stepArb, { minLength: 1, maxLength: 30 }),
            endArb,
            (k, always, steps, ending) => checkThrowing(c, k, always, steps, ending),
          ),
          { numRuns: runs },
        );
      },
      120_000,
    );
  }
});

describe('isFailure that throws (circuitBreak)', () => {
  it('errors the call with what isFailure threw, counts it as a failure, emits nothing after', () => {
    const clock = new Clock();
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      scheduler: clock,
      isFailure: () => {
        throw boom;
      },
    });
    const seen: string[] = [];
    of(1, 2)
      .pipe(
        (source) =>
          new Observable<number>((s) =>
            source.subscribe({ next: (v) => s.next(v), complete: () => s.error(new Error('upstream')) }),
          ),
        circuitBreak(breaker),
      )
      .subscribe({
        next: (v) => seen.push(`next ${v}`),
        error: (e: unknown) => seen.push(e === boom ? 'boom' : String(e)),
      });
    expect(seen).toEqual(['next 1', 'next 2', 'boom']);
    expect(breaker.state).toBe('open');
    expect(clock.actions.filter((a) => !a.closed)).toEqual(clock.actions);
  });

  it('works the same through circuitBreak(options)', () => {
    const seen: unknown[] = [];
    throwError(() => new Error('upstream'))
      .pipe(
        circuitBreak({
          isFailure: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (e: unknown) => seen.push(e) });
    expect(seen).toEqual([boom]);
  });
});

describe('project that throws (Demand.drain)', () => {
  it('errors with that error; every value that reached drain went to project; nothing after the error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 4 }), (k, concurrency) => {
        const demand = new Demand();
        const projected: number[] = [];
        const seen: unknown[] = [];
        let errored = false;
        const values = Array.from({ length: 30 }, (_, i) => i + 1);
        const subscription = pull(values, demand)
          .pipe(
            demand.drain(
              (v: number) => {
                projected.push(v);
                if (v === k) throw boom;
                return of(v * 10);
              },
              { concurrency },
            ),
          )
          .subscribe({
            next: (v) => {
              law(!errored, 'a value after the error');
              seen.push(v);
            },
            error: (e: unknown) => {
              errored = true;
              seen.push(e);
            },
          });
        law(errored && seen[seen.length - 1] === boom, 'did not error with the thrown error');
        law(projected.length === k, `${projected.length} values reached project, expected ${k}`);
        law(seen.length === k, `${seen.length - 1} results, expected ${k - 1}`);
        law(subscription.closed, 'still subscribed');
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});
