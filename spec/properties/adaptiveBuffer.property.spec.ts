import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics } from '../../src/metrics/QueueMetrics.js';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';
import { testScheduler } from '../helpers/marbles.js';

/** At each frame: a number of arrivals and a credit (0 = none). */
const frame = fc.record({ arrivals: fc.integer({ min: 0, max: 4 }), credit: fc.integer({ min: 0, max: 3 }) });
const scenario = fc
  .record({
    min: fc.integer({ min: 1, max: 4 }),
    span: fc.integer({ min: 0, max: 8 }),
    start: fc.double({ min: 0, max: 1, noNaN: true }),
    targetLatency: fc.integer({ min: 1, max: 20 }),
    interval: fc.integer({ min: 1, max: 10 }),
    overflow: fc.constantFrom('drop-incoming' as const, 'drop-oldest' as const),
    frames: fc.array(frame, { maxLength: 60 }),
    end: fc.constantFrom('complete' as const, 'error' as const, 'unsubscribe' as const),
  })
  .map((s) => ({ ...s, max: s.min + s.span, initial: s.min + Math.round(s.start * s.span) }));

describe('adaptiveBuffer (properties)', () => {
  it('conservation; capacity stays in [min, max]; a queue over its capacity never grows; FIFO; credit respected', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const ts = testScheduler();
        const metrics = new QueueMetrics({ scheduler: ts });
        const emitted: number[] = [];
        const dropped: string[] = [];
        const capacities: number[] = [];
        let capacity = s.initial;
        let requested = 0;
        let received = 0;
        let terminated = false;
        ts.run(() => {
          const source = new Subject<number>();
          const demand = new Subject<number>();
          const subscription = source
            .pipe(
              adaptiveBuffer<number>({
                minCapacity: s.min,
                maxCapacity: s.max,
                initialCapacity: s.initial,
                targetLatency: s.targetLatency,
                interval: s.interval,
                overflow: s.overflow,
                demand,
                metrics,
                scheduler: ts,
                onDrop: (d) => dropped.push(`${d.value}:${d.reason}`),
                onCapacity: (c) => {
                  expect(c).not.toBe(capacity);
                  capacity = c;
                  capacities.push(c);
                },
              }),
            )
            .subscribe({
              next: (v) => emitted.push(v),
              error: () => (terminated = true),
              complete: () => (terminated = true),
            });
          s.frames.forEach((f, t) => {
            ts.schedule(() => {
              for (let i = 0; i < f.arrivals; i++) {
                const before = metrics.depth;
                source.next(received++);
                // Over a shrunk capacity the queue only stops admitting: depth never grows past the capacity.
                if (before >= capacity) expect(metrics.depth).toBeLessThanOrEqual(before);
                expect(metrics.depth).toBeLessThanOrEqual(Math.max(before, capacity));
              }
              if (f.credit > 0) {
                requested += f.credit;
                demand.next(f.credit);
              }
              expect(metrics.capacity).toBe(capacity);
              expect(metrics.depth).toBeLessThanOrEqual(s.max);
              expect(emitted.length).toBeLessThanOrEqual(requested);
              expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
            }, t);
          });
          ts.schedule(() => {
            if (s.end === 'complete') {
              source.complete();
              demand.next(Infinity);
            } else if (s.end === 'error') source.error(new Error('upstream'));
            else subscription.unsubscribe();
          }, s.frames.length);
        });
        // The run ended (flush returned): the controller's timer is gone with the subscription.
        expect(terminated || s.end === 'unsubscribe').toBe(true);
        expect(received).toBe(emitted.length + dropped.length);
        expect(metrics.depth).toBe(0);
        expect(metrics.capacity).toBe(0);
        for (const c of capacities) {
          expect(c).toBeGreaterThanOrEqual(s.min);
          expect(c).toBeLessThanOrEqual(s.max);
        }
        expect(emitted).toEqual([...emitted].sort((a, b) => a - b));
        // Shrinking never evicts: only drop-oldest evicts, and only at a full queue.
        if (s.overflow === 'drop-incoming') expect(dropped.some((d) => d.endsWith(':evicted'))).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
