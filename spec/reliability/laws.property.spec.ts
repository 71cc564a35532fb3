/**
 * The shared law suite: every queue operator (cases.ts) on random runs of arrivals, credits (some requested from inside
 * next), virtual time passing, completion, errors and unsubscription. After every step:
 *
 * - conservation: every value received ends at most once, emitted or dropped; received = emitted + dropped + held;
 * - capacity: held never exceeds the operator's bound (and metrics.depth, where there are metrics, equals held);
 * - demand: never more emitted than requested (operators with a demand option);
 * - order: FIFO, or FIFO within a priority for shedByPriority;
 * - drop reasons: the operator's own while running; 'error' only once it errored, 'cancelled' only once unsubscribed;
 *   each drop stamped with the scheduler's now();
 * - after a terminal event or unsubscribe: nothing held, nothing emitted afterwards, no action left on the virtual
 *   scheduler (its `actions` array is empty), the demand stream and the source unsubscribed, metrics depth 0.
 *
 * "No value retained" is checked here through held = 0 and metrics depth 0, and for real (WeakRef + a forced GC) in
 * retention.spec.ts.
 *
 * Runs per case: env PROPERTY_RUNS (default 1000: 12 cases, 12 000 runs in CI; `npm run test:deep` runs 10 000 each).
 */
import fc from 'fast-check';
import { Observable, Subject } from 'rxjs';
import { describe, it } from 'vitest';
import { Demand, QueueMetrics } from '../../src/index.js';
import type { DropReason } from '../../src/index.js';
import { stepArbitrary } from '../../src/testing/laws.js';
import type { Step } from '../../src/testing/laws.js';
import { OPERATORS, Clock, priorityOf, propertyRuns } from '../contract/registry.js';
import type { RegisteredOperator } from '../contract/registry.js';

const stepArb = stepArbitrary(fc);

function law(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

function checkLaws(c: RegisteredOperator, capacity: number, steps: readonly Step[]): void {
  const clock = new Clock();
  const source = new Subject<number>();
  const demand = new Demand();
  let demandLive = 0;
  const demandStream = new Observable<number>((subscriber) => {
    demandLive++;
    const credits = demand.subscribe(subscriber);
    return () => {
      demandLive--;
      credits.unsubscribe();
    };
  });
  const metrics = new QueueMetrics();
  const fate = new Map<number, 'emitted' | 'dropped'>();
  const emitted: number[] = [];
  let dropped = 0;
  let received = 0;
  let requested = 0;
  let reRequest = 0;
  let end: 'running' | 'complete' | 'error' | 'unsubscribed' = 'running';
  let afterEnd = 0;

  const request = (n: number): void => {
    requested += n;
    demand.request(n);
  };
  const settle = (value: number, how: 'emitted' | 'dropped'): void => {
    law(fate.get(value) === undefined, `${value} settled twice (${fate.get(value)}, then ${how})`);
    law(value >= 1 && value <= received, `${value} was never received`);
    fate.set(value, how);
  };
  const onDrop = (d: { value: number; reason: DropReason; at: number }): void => {
    settle(d.value, 'dropped');
    dropped++;
    law(d.at === clock.now(), `drop of ${d.value} stamped ${d.at}, now is ${clock.now()}`);
    if (d.reason === 'cancelled') law(end === 'unsubscribed', `'cancelled' drop while ${end}`);
    else if (d.reason !== 'error') law(c.reasons.includes(d.reason), `unexpected reason ${d.reason}`);
  };

  const operator = c.build<number>({
    capacity,
    demand: c.demand ? demandStream : undefined,
    onDrop,
    metrics,
    scheduler: clock,
  });
  const subscription = source.pipe(operator).subscribe({
    next: (value) => {
      if (end !== 'running') afterEnd++;
      settle(value, 'emitted');
      emitted.push(value);
      if (reRequest > 0) {
        reRequest--;
        request(1);
      }
    },
    error: () => {
      if (end !== 'running') afterEnd++;
      end = 'error';
    },
    complete: () => {
      if (end !== 'running') afterEnd++;
      end = 'complete';
    },
  });

  const check = (): void => {
    const held = received - emitted.length - dropped;
    law(held >= 0, `more settled (${emitted.length} + ${dropped}) than received (${received})`);
    law(held <= c.bound(capacity), `${held} held, bound ${c.bound(capacity)}`);
    if (c.demand) law(emitted.length <= requested, `${emitted.length} emitted, ${requested} requested`);
    if (c.metrics) {
      law(metrics.depth === held, `metrics depth ${metrics.depth}, held ${held}`);
      law(metrics.enqueued === received, `metrics enqueued ${metrics.enqueued}, received ${received}`);
      law(metrics.dequeued === emitted.length, `metrics dequeued ${metrics.dequeued}, emitted ${emitted.length}`);
      law(metrics.dropped === dropped, `metrics dropped ${metrics.dropped}, onDrop saw ${dropped}`);
    }
    law(afterEnd === 0, 'a notification after the stream ended');
    if (end !== 'running') {
      law(held === 0, `${held} values unaccounted for after ${end}`);
      law(clock.actions.length === 0, `${clock.actions.length} scheduled actions left after ${end}`);
      law(demandLive === 0, `demand still subscribed after ${end}`);
      law(!source.observed, `source still subscribed after ${end}`);
    }
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
      case 'advance':
        clock.advance(step.ms);
        break;
      case 'complete':
        source.complete();
        break;
      case 'error':
        source.error(new Error('upstream'));
        break;
      case 'unsubscribe':
        if (end === 'running') end = 'unsubscribed';
        subscription.unsubscribe();
        break;
    }
    check();
    if (step.kind === 'complete' || step.kind === 'error' || step.kind === 'unsubscribe') break;
  }
  if (end === 'running') end = 'unsubscribed';
  subscription.unsubscribe();
  check();

  // order
  if (c.order === 'fifo') {
    for (let i = 1; i < emitted.length; i++) law(emitted[i]! > emitted[i - 1]!, `order: ${emitted.join(',')}`);
  } else {
    const last = new Map<number, number>();
    for (const value of emitted) {
      const level = priorityOf(value);
      law((last.get(level) ?? 0) < value, `order within priority ${level}: ${emitted.join(',')}`);
      last.set(level, value);
    }
  }
}

const runs = propertyRuns(1000);

describe(`laws of every queue operator (fast-check, ${runs} runs each)`, () => {
  for (const c of OPERATORS) {
    it(`${c.name}: conservation, capacity, demand, order, nothing left after the end`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 6 }), fc.array(stepArb, { maxLength: 40 }), (capacity, steps) =>
          checkLaws(c, capacity, steps),
        ),
        { numRuns: runs },
      );
    }, 120_000);
  }
});
