/**
 * The laws every queue operator obeys, checked on random runs: random arrivals, credits (some requested from inside
 * next), completion, errors and unsubscription.
 *
 * - conservation: every received value ends exactly once, emitted or dropped (received = emitted + dropped);
 * - capacity: never more queued than capacity (read from QueueMetrics.depth after every step);
 * - demand: never more emitted than requested;
 * - order: emitted values keep arrival order (every policy here is FIFO);
 * - nothing after a terminal signal; no value emitted twice;
 * - metrics agree: enqueued = dequeued + dropped + depth at every step.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, dropOnFull } from '../../src/index.js';
import type { DemandInput, DropReason, Dropped } from '../../src/index.js';

type Step =
  | { kind: 'next'; count: number }
  | { kind: 'request'; n: number }
  | { kind: 'requestInNext'; n: number }
  | { kind: 'complete' }
  | { kind: 'error' }
  | { kind: 'unsubscribe' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('request' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('requestInNext' as const), n: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'complete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'error' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unsubscribe' as const }) },
);

type Build = (o: {
  capacity: number;
  demand: DemandInput;
  onDrop: (d: Dropped<number>) => void;
  metrics: QueueMetrics;
}) => MonoTypeOperatorFunction<number>;

function checkLaws(build: Build, capacity: number, steps: Step[], allowed: DropReason[]): void {
  const source = new Subject<number>();
  const demand = new Demand();
  const metrics = new QueueMetrics();
  const emitted: number[] = [];
  const dropped: Dropped<number>[] = [];
  let requested = 0;
  let reRequest = 0;
  let terminated = false;
  let afterTerminal = 0;
  let received = 0;
  const request = (n: number): void => {
    requested += n;
    demand.request(n);
  };
  const subscription = source.pipe(build({ capacity, demand, onDrop: (d) => dropped.push(d), metrics })).subscribe({
    next: (v) => {
      if (terminated) afterTerminal++;
      emitted.push(v);
      if (reRequest > 0) {
        reRequest--;
        request(1);
      }
    },
    error: () => (terminated = true),
    complete: () => (terminated = true),
  });
  const checkStep = (): void => {
    expect(metrics.depth).toBeLessThanOrEqual(capacity);
    expect(emitted.length).toBeLessThanOrEqual(requested);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'next':
        for (let i = 0; i < step.count; i++) {
          if (!subscription.closed) received++;
          source.next(received);
        }
        break;
      case 'request':
        request(step.n);
        break;
      case 'requestInNext':
        reRequest += step.n;
        break;
      case 'complete':
        source.complete();
        break;
      case 'error':
        source.error(new Error('upstream'));
        break;
      case 'unsubscribe':
        subscription.unsubscribe();
        break;
    }
    checkStep();
    if (step.kind === 'complete' || step.kind === 'error') break;
  }
  subscription.unsubscribe();
  checkStep();
  // conservation, exactly once
  expect(emitted.length + dropped.length).toBe(received);
  const all = [...emitted, ...dropped.map((d) => d.value)].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: received }, (_, i) => i + 1));
  // order
  for (let i = 1; i < emitted.length; i++) expect(emitted[i]!).toBeGreaterThan(emitted[i - 1]!);
  expect(afterTerminal).toBe(0);
  for (const d of dropped) expect(allowed).toContain(d.reason);
  expect(metrics.depth).toBe(0);
  expect(metrics.enqueued).toBe(received);
  expect(metrics.dequeued).toBe(emitted.length);
  expect(metrics.dropped).toBe(dropped.length);
}

const runs = Number(process.env['PROPERTY_RUNS'] ?? 1000);
const capacityArb = fc.integer({ min: 1, max: 6 });
const stepsArb = fc.array(stepArb, { maxLength: 40 });

describe('queue laws (fast-check)', () => {
  it(`bufferBounded: conservation, capacity, demand, FIFO (${runs} runs)`, () => {
    fc.assert(
      fc.property(capacityArb, stepsArb, (capacity, steps) =>
        checkLaws((o) => bufferBounded(o), capacity, steps, ['error', 'cancelled']),
      ),
      { numRuns: runs },
    );
  });

  for (const overflow of ['drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'] as const) {
    it(`dropOnFull ${overflow}: conservation, capacity, demand, FIFO (${runs} runs)`, () => {
      fc.assert(
        fc.property(capacityArb, stepsArb, (capacity, steps) =>
          checkLaws((o) => dropOnFull({ ...o, overflow }), capacity, steps, [
            overflow === 'drop-incoming' ? 'overflow' : 'evicted',
            'error',
            'cancelled',
          ]),
        ),
        { numRuns: runs },
      );
    });
  }

  it(`dropOnFull with early drop: conservation and capacity (${runs} runs)`, () => {
    fc.assert(
      fc.property(
        capacityArb,
        stepsArb,
        fc.infiniteStream(fc.double({ min: 0, max: 1, maxExcluded: true })),
        (c, s, r) =>
          checkLaws(
            (o) => dropOnFull({ ...o, overflow: 'drop-oldest', earlyDrop: (f) => f * f, random: () => r.next().value }),
            c,
            s,
            ['early', 'evicted', 'error', 'cancelled'],
          ),
      ),
      { numRuns: runs },
    );
  });

  it('bufferBounded never drops before a terminal signal: it errors on overflow instead', () => {
    fc.assert(
      fc.property(capacityArb, stepsArb, (capacity, steps) => {
        const source = new Subject<number>();
        const demand = new Demand();
        const dropped: Dropped<number>[] = [];
        let errored: unknown;
        source
          .pipe(bufferBounded({ capacity, demand, onDrop: (d) => dropped.push(d) }))
          .subscribe({ error: (e) => (errored = e) });
        for (const step of steps) {
          if (step.kind === 'next') for (let i = 0; i < step.count; i++) source.next(i);
          if (step.kind === 'request') demand.request(step.n);
          if (dropped.length > 0) expect(errored).toBeDefined();
        }
      }),
      { numRuns: runs },
    );
  });
});
