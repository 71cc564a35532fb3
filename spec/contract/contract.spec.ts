/**
 * The contract every registered operator keeps (spec/contract/registry.ts), written once: never, empty, one and many
 * values, an upstream error, early unsubscription, the unsubscription chain through mergeMap, a synchronous source
 * stopped on unsubscribe, values held at the end accounted for, and no timer left behind. A new operator gets all of
 * it by being registered. What is particular to one operator (its policy, its callbacks, its options) stays in
 * spec/operators/<name>.spec.ts.
 */
import { EMPTY, NEVER, Observable, mergeMap, of, take } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { QueueMetrics } from '../../src/index.js';
import type { DemandInput, Dropped } from '../../src/index.js';
import { testScheduler } from '../helpers/marbles.js';
import { DEMAND_OPERATORS, OPERATORS } from './registry.js';
import type { RegisteredOperator } from './registry.js';

const CAPACITY = 3;

function build<T>(
  c: RegisteredOperator,
  scheduler: SchedulerLike,
  drops: Dropped<T>[] = [],
  demand?: DemandInput,
): MonoTypeOperatorFunction<T> {
  return c.build<T>({
    capacity: CAPACITY,
    demand: c.demand ? demand : undefined,
    onDrop: (drop) => drops.push(drop),
    metrics: new QueueMetrics({ scheduler }),
    scheduler,
  });
}

/** A frame after every stream of these tests has ended (their marbles end by frame 13). */
const AFTER_THE_END = 100;

/**
 * Runs `body` in a fresh TestScheduler, and checks at AFTER_THE_END that nothing else is still scheduled: teardown
 * cancelled every timer (run() would otherwise flush a leaked one silently).
 */
function run(body: (helpers: Parameters<Parameters<TestScheduler['run']>[0]>[0], scheduler: TestScheduler) => void) {
  const scheduler = testScheduler();
  let left: number | undefined;
  scheduler.run((helpers) => {
    body(helpers, scheduler);
    scheduler.schedule(() => {
      left = scheduler.actions.length;
    }, AFTER_THE_END);
  });
  expect(left, 'actions left on the scheduler after the streams ended').toBe(0);
}

describe.each(OPERATORS.map((c) => [c.name, c] as const))('contract: %s', (_name, c) => {
  it('never: emits nothing, and holds the source until unsubscribed', () => {
    run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = cold('-');
      expectObservable(source.pipe(build(c, scheduler)), '^---!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('empty: completes at once', () => {
    run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = cold('|');
      expectObservable(source.pipe(build(c, scheduler))).toBe('|');
      expectSubscriptions(source.subscriptions).toBe('(^!)');
      expectObservable(EMPTY.pipe(build(c, scheduler))).toBe('|');
    });
  });

  it('one value, then many, with unbounded demand: straight through, in order', () => {
    run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const one = cold('--a--|');
      expectObservable(one.pipe(build(c, scheduler))).toBe('--a--|');
      expectSubscriptions(one.subscriptions).toBe('^----!');
      const many = cold('-abc|');
      expectObservable(many.pipe(build(c, scheduler))).toBe('-abc|');
      expectSubscriptions(many.subscriptions).toBe('^---!');
    });
  });

  it('upstream error: passes it on at once, with the values before it', () => {
    run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = cold('-a-#', undefined, 'boom');
      expectObservable(source.pipe(build(c, scheduler))).toBe('-a-#', undefined, 'boom');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('early unsubscribe: stops, and releases the source', () => {
    run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
      const source = cold('-a-b-c-d-');
      expectObservable(source.pipe(build(c, scheduler)), '^----!').toBe('-a-b-');
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  it('does not break the unsubscription chain through mergeMap', () => {
    run(({ hot, expectObservable, expectSubscriptions }, scheduler) => {
      const source = hot('  --a-b-c-d-e-|');
      const subs = '        ^------!';
      const unsub = '       -------!';
      const result = source.pipe(
        mergeMap((x) => of(x)),
        build(c, scheduler),
        mergeMap((x) => of(x)),
      );
      expectObservable(result, unsub).toBe('--a-b-c-');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('stops listening to a synchronous observable when unsubscribed', () => {
    run((_helpers, scheduler) => {
      const sideEffects: number[] = [];
      const synchronous = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed && i < 10; i++) {
          sideEffects.push(i);
          subscriber.next(i);
        }
      });
      const seen: number[] = [];
      synchronous.pipe(build(c, scheduler), take(2)).subscribe((x) => seen.push(x));
      expect(seen).toEqual([0, 1]);
      expect(sideEffects).toEqual([0, 1]);
    });
  });
});

describe.each(DEMAND_OPERATORS.map((c) => [c.name, c] as const))(
  'contract of a demand-driven operator: %s',
  (_name, c) => {
    it('without credit, values held at an upstream error are reported error, at unsubscribe cancelled', () => {
      run(({ cold, expectObservable, expectSubscriptions }, scheduler) => {
        const failed: Dropped<string>[] = [];
        const errored = cold('-ab-#');
        expectObservable(errored.pipe(build(c, scheduler, failed, NEVER))).toBe('----#');
        expectSubscriptions(errored.subscriptions).toBe('^---!');
        const cancelled: Dropped<string>[] = [];
        const left = cold('-ab---');
        expectObservable(left.pipe(build(c, scheduler, cancelled, NEVER)), '^---!').toBe('-');
        expectSubscriptions(left.subscriptions).toBe('^---!');
        scheduler.flush();
        const fates = (drops: Dropped<string>[]) => drops.map((d) => `${d.value}:${d.reason}@${d.at}`).sort();
        expect(fates(failed)).toEqual(['a:error@4', 'b:error@4']);
        expect(fates(cancelled)).toEqual(['a:cancelled@4', 'b:cancelled@4']);
      });
    });
  },
);

describe('the registry', () => {
  it('lists every queue operator and each throttleTokenBucket mode (a suite over it can see what it covers)', () => {
    const names = OPERATORS.map((c) => c.name.split(' ')[0]);
    for (const name of ['bufferBounded', 'dropOnFull', 'shedByPriority', 'adaptiveBuffer', 'throttleTokenBucket']) {
      expect(names).toContain(name);
    }
    expect(OPERATORS.filter((c) => c.name.startsWith('throttleTokenBucket'))).toHaveLength(4);
  });

  it('the contract can fail: an operator that buffers without bound and never completes breaks it', () => {
    const holdAll: RegisteredOperator = {
      ...OPERATORS[0]!,
      build: () => (source) =>
        new Observable((subscriber) => {
          const subscription = source.subscribe({ error: (e: unknown) => subscriber.error(e) });
          return () => subscription.unsubscribe();
        }),
    };
    expect(() =>
      run(({ cold, expectObservable }, scheduler) => {
        expectObservable(cold('--a--|').pipe(build(holdAll, scheduler))).toBe('--a--|');
      }),
    ).toThrow();
  });

  it('the contract can fail: an operator that leaves a timer scheduled after the end breaks it', () => {
    const leaky: RegisteredOperator = {
      ...OPERATORS[0]!,
      build: (wiring) => (source) =>
        new Observable((subscriber) => {
          wiring.scheduler.schedule(() => undefined, 1_000); // never cancelled
          return source.subscribe(subscriber);
        }),
    };
    expect(() =>
      run(({ cold, expectObservable }, scheduler) => {
        expectObservable(cold('|').pipe(build(leaky, scheduler)), '^!').toBe('|');
      }),
    ).toThrow(/actions left on the scheduler after the streams ended/);
  });
});
