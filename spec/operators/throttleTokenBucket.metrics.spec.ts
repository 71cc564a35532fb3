/**
 * throttleTokenBucket({ metrics }) (issue 20 item 5): the waiting line of 'shape' (the held value of 'latest', the
 * line of a store) is the queue; every value received counts as enqueued, every value emitted as dequeued, drops by
 * reason; so enqueued = dequeued + dropped + depth at every step.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics, memoryTokenBucketStore, throttleTokenBucket } from '../../src/index.js';
import type { ThrottleMode } from '../../src/index.js';
import { Clock, propertyRuns } from '../contract/registry.js';

function balanced(m: QueueMetrics): void {
  expect(m.enqueued).toBe(m.dequeued + m.dropped + m.depth);
}

/** The books of `m` as a line, when they do not balance (collected: a throw inside a subscriber is reported late). */
function unbalanced(m: QueueMetrics, at: string): string[] {
  const ok = m.enqueued === m.dequeued + m.dropped + m.depth;
  return ok ? [] : [`${at}: enqueued ${m.enqueued} != ${m.dequeued} + ${m.dropped} + ${m.depth}`];
}

describe('throttleTokenBucket metrics', () => {
  it("mode 'shape': the waiting line is the queue (depth, dequeued, queue time, capacity)", () => {
    const clock = new Clock();
    const metrics = new QueueMetrics({ scheduler: clock });
    const source = new Subject<string>();
    const subscription = source
      .pipe(throttleTokenBucket({ rate: 1, per: 4, capacity: 5, metrics, scheduler: clock }))
      .subscribe();
    expect(metrics.capacity).toBe(5);
    source.next('a');
    source.next('b');
    source.next('c');
    // a went out at once; b and c wait
    expect([metrics.enqueued, metrics.dequeued, metrics.depth]).toEqual([3, 1, 2]);
    clock.advance(4);
    expect([metrics.enqueued, metrics.dequeued, metrics.depth]).toEqual([3, 2, 1]);
    clock.advance(4);
    expect([metrics.enqueued, metrics.dequeued, metrics.depth]).toEqual([3, 3, 0]);
    // c waited 8 ms: the longest queue time
    expect(metrics.queueTime(1)).toBeGreaterThanOrEqual(7.8);
    expect(metrics.queueTime(1)).toBeLessThanOrEqual(8.2);
    subscription.unsubscribe();
    expect(metrics.capacity).toBe(0);
  });

  it("mode 'drop': every value is enqueued, drops counted by reason 'rate', nothing queued", () => {
    const clock = new Clock();
    const metrics = new QueueMetrics({ scheduler: clock });
    const source = new Subject<number>();
    source
      .pipe(throttleTokenBucket({ rate: 1, per: 10, burst: 2, mode: 'drop', metrics, scheduler: clock }))
      .subscribe();
    for (let i = 0; i < 5; i++) source.next(i);
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([5, 2, 3, 0]);
    expect(metrics.droppedBy('rate')).toBe(3);
  });

  it("mode 'latest': the held value is the queue; a replaced one is dropped 'rate'", () => {
    const clock = new Clock();
    const metrics = new QueueMetrics({ scheduler: clock });
    const source = new Subject<number>();
    source.pipe(throttleTokenBucket({ rate: 1, per: 10, mode: 'latest', metrics, scheduler: clock })).subscribe();
    for (let i = 0; i < 4; i++) source.next(i);
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([4, 1, 2, 1]);
    clock.advance(10);
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([4, 2, 2, 0]);
  });

  const modes = fc.constantFrom<ThrottleMode>('shape', 'drop', 'error', 'latest');
  it('enqueued = dequeued + dropped + depth at every step (every mode, keys, a store, maxWait, capacity)', () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: modes,
          store: fc.boolean(),
          keys: fc.integer({ min: 0, max: 3 }),
          maxKeys: fc.integer({ min: 1, max: 3 }),
          capacity: fc.integer({ min: 1, max: 4 }),
          maxWait: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
          steps: fc.array(
            fc.oneof(
              fc.record({ next: fc.integer({ min: 0, max: 9 }) }),
              fc.record({ advance: fc.integer({ min: 1, max: 15 }) }),
            ),
            { maxLength: 40 },
          ),
          end: fc.constantFrom('complete', 'error', 'unsubscribe'),
        }),
        (c) => {
          const clock = new Clock();
          const metrics = new QueueMetrics({ scheduler: clock });
          const broken: string[] = [];
          const check = (at: string): void => void broken.push(...unbalanced(metrics, at));
          const source = new Subject<number>();
          const subscription = source
            .pipe(
              throttleTokenBucket({
                rate: 1,
                per: 5,
                burst: 2,
                mode: c.mode,
                capacity: c.capacity,
                maxWait: c.maxWait,
                cost: (v) => (v % 3) / 2,
                ...(c.keys > 0 ? { key: (v: number) => String(v % c.keys), maxKeys: c.maxKeys } : {}),
                ...(c.store ? { store: memoryTokenBucketStore() } : {}),
                metrics,
                scheduler: clock,
                onDrop: () => balanced(metrics),
              }),
            )
            .subscribe({
              next: () => balanced(metrics),
              error: () => balanced(metrics),
              complete: () => balanced(metrics),
            });
          for (const step of c.steps) {
            if ('next' in step) source.next(step.next);
            else clock.advance(step.advance);
            check('step');
          }
          if (c.end === 'complete') source.complete();
          else if (c.end === 'error') source.error(new Error('upstream'));
          clock.advance(1000);
          subscription.unsubscribe();
          check('end');
          expect(broken).toEqual([]);
          expect(metrics.depth).toBe(0);
          expect(metrics.capacity).toBe(0);
        },
      ),
      { numRuns: propertyRuns(300) },
    );
  });
});
