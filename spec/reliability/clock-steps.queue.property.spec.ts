/**
 * The queue wing under a wall clock that steps (NTP corrections, VM resume): `scheduler.now()` jumps back and forward
 * at random while timers keep real (virtual) time, as setTimeout does. For dropOnFull with maxAge, adaptiveBuffer and
 * QueueMetrics:
 *
 * - no value waits longer than maxAge of real time, plus one maxAge for each backward step in its life (the timer
 *   that reads the clock next sees the step: the step-detection interval), and none is dropped 'expired' before it
 *   is due by the stepped clock, except by as much as backward steps took away (a timer that waited maxAge is
 *   trusted over a clock that stepped back; a forward step counts as time that passed: documented);
 * - every value ends exactly once (received = emitted + dropped); adaptiveBuffer's capacity stays in [min, max];
 *   queue-time metrics never go negative.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { describe, it } from 'vitest';
import { QueueMetrics, adaptiveBuffer, dropOnFull } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { Clock, propertyRuns } from '../contract/registry.js';

/** A scheduler whose now() is the virtual time plus an offset that steps; schedule() waits virtual time. */
function steppingScheduler(clock: Clock): SchedulerLike & { step(ms: number): void } {
  let offset = 0;
  return {
    now: () => clock.now() + offset,
    schedule: clock.schedule.bind(clock) as SchedulerLike['schedule'],
    step(ms: number) {
      offset += ms;
    },
  };
}

type Step =
  { kind: 'next' } | { kind: 'credit'; n: number } | { kind: 'advance'; ms: number } | { kind: 'jump'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'next' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('credit' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('jump' as const),
      ms: fc.oneof(fc.integer({ min: -3_600_000, max: -1 }), fc.integer({ min: 1, max: 200 })),
    }),
  },
);

function law(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

describe('the queue wing under a stepping wall clock', () => {
  it('dropOnFull({ maxAge }): bounded waits, no early expiry by the stepped clock, conservation', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 50 }), fc.array(stepArb, { maxLength: 60 }), (maxAge, steps) => {
        const clock = new Clock();
        const scheduler = steppingScheduler(clock);
        const source = new Subject<number>();
        const demand = new Subject<number>();
        const metrics = new QueueMetrics({ scheduler });
        const arrived = new Map<number, { virtual: number; stepped: number; backSteps: number }>();
        const ended = new Set<number>();
        let next = 0;
        let stepsBack = 0;
        const settle = (value: number, how: string) => {
          law(!ended.has(value), `${value} ended twice (${how})`);
          ended.add(value);
          const a = arrived.get(value)!;
          const waited = clock.now() - a.virtual;
          law(
            waited <= maxAge * (1 + a.backSteps),
            `${value} waited ${waited} ms, maxAge ${maxAge}, ${a.backSteps} back steps`,
          );
        };
        const onDrop = (d: Dropped<number>) => {
          if (d.reason === 'expired') {
            const a = arrived.get(d.value)!;
            const aged = scheduler.now() - a.stepped;
            law(
              aged >= maxAge - stepsBack,
              `${d.value} expired at ${aged} ms by the stepped clock (${stepsBack} stepped back)`,
            );
          }
          settle(d.value, d.reason);
        };
        const subscription = source
          .pipe(dropOnFull({ capacity: 4, maxAge, demand, onDrop, metrics, scheduler }))
          .subscribe((v) => settle(v, 'emitted'));
        for (const step of steps) {
          if (step.kind === 'next') {
            arrived.set(next, { virtual: clock.now(), stepped: scheduler.now(), backSteps: 0 });
            source.next(next++);
          } else if (step.kind === 'credit') demand.next(step.n);
          else if (step.kind === 'advance') clock.advance(step.ms);
          else {
            scheduler.step(step.ms);
            if (step.ms < 0) {
              stepsBack -= step.ms;
              for (const [v, a] of arrived) if (!ended.has(v)) a.backSteps++;
            }
          }
          law(metrics.queueTime(0.5) >= 0, 'negative queue time');
        }
        clock.advance(maxAge * (steps.length + 2));
        law(metrics.depth === 0, `${metrics.depth} still queued after every value's maxAge passed`);
        subscription.unsubscribe();
        law(ended.size === next, `received ${next}, ended ${ended.size}`);
        law(metrics.enqueued === metrics.dequeued + metrics.dropped + metrics.depth, 'metrics out of balance');
      }),
      { numRuns: propertyRuns(500) },
    );
  });

  it('adaptiveBuffer: capacity stays in [min, max], every value ends once, no negative waits', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const clock = new Clock();
        const scheduler = steppingScheduler(clock);
        const source = new Subject<number>();
        const demand = new Subject<number>();
        const metrics = new QueueMetrics({ scheduler });
        const capacities: number[] = [];
        let received = 0;
        let ended = 0;
        const subscription = source
          .pipe(
            adaptiveBuffer({
              minCapacity: 2,
              maxCapacity: 8,
              targetLatency: 10,
              interval: 20,
              demand,
              metrics,
              scheduler,
              onDrop: () => ended++,
              onCapacity: (c) => capacities.push(c),
            }),
          )
          .subscribe(() => ended++);
        for (const step of steps) {
          if (step.kind === 'next') {
            received++;
            source.next(received);
          } else if (step.kind === 'credit') demand.next(step.n);
          else if (step.kind === 'advance') clock.advance(step.ms);
          else scheduler.step(step.ms);
          law(metrics.queueTime(0.99) >= 0, 'negative queue time');
        }
        subscription.unsubscribe();
        law(
          capacities.every((c) => c >= 2 && c <= 8),
          `capacity out of range: ${capacities.join(',')}`,
        );
        law(ended === received, `received ${received}, ended ${ended}`);
        law(clock.actions.length === 0, 'a timer left behind');
      }),
      { numRuns: propertyRuns(500) },
    );
  });
});
