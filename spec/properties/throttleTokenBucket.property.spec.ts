/**
 * The laws of throttleTokenBucket, checked on random hot sources in virtual time:
 *
 * - throttleTime: with `{ rate: 1, per: d, burst: 1, mode: 'drop' }` the output equals rxjs `throttleTime(d)` on any
 *   source with no arrival exactly d ms after an earlier one (the boundary frame, where either answer is allowed);
 * - rate bound: in every mode, for any window of length L the emitted cost is at most `burst + rate * L / per` (plus,
 *   in mode 'shape', the debt of the window's last value when its cost is above `burst`);
 * - conservation: every received value ends exactly once, emitted or dropped; shape mode keeps arrival order.
 */
import fc from 'fast-check';
import { Subject, tap, throttleTime } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import type { ThrottleMode } from '../../src/operators/throttleTokenBucket.js';
import { testScheduler } from '../helpers/marbles.js';

/** Arrival times from gaps, keeping only arrivals that are not exactly `d` after an earlier kept one. */
function offBoundary(gaps: number[], d: number): number[] {
  const kept: number[] = [];
  let t = 0;
  for (const gap of gaps) {
    t += gap;
    if (!kept.some((k) => t - k === d)) kept.push(t);
  }
  return kept;
}

describe('throttleTokenBucket properties', () => {
  it("with { rate: 1, per: d, burst: 1, mode: 'drop' } equals throttleTime(d) off the boundary frame", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 60 }),
        (d, gaps) => {
          const times = offBoundary(gaps, d);
          const ours: [number, number][] = [];
          const theirs: [number, number][] = [];
          const ts = testScheduler();
          ts.run(() => {
            const source = new Subject<number>();
            source
              .pipe(throttleTokenBucket({ rate: 1, per: d, burst: 1, mode: 'drop' }))
              .subscribe((v) => ours.push([ts.now(), v]));
            source.pipe(throttleTime(d)).subscribe((v) => theirs.push([ts.now(), v]));
            times.forEach((t, i) => ts.schedule(() => source.next(i), t));
          });
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 300 },
    );
  });

  const modeArb = fc.constantFrom<ThrottleMode>('shape', 'drop', 'error');

  it('in every mode emits at most burst + rate * L / per tokens in any window of length L; conserves values', () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: modeArb,
          rate: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.double({ min: 0.05, max: 4, noNaN: true })),
          per: fc.integer({ min: 1, max: 50 }),
          burst: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.double({ min: 0.5, max: 4, noNaN: true })),
          capacity: fc.integer({ min: 1, max: 20 }),
          maxWait: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
          arrivals: fc.array(
            fc.record({
              gap: fc.integer({ min: 0, max: 30 }),
              cost: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 6, noNaN: true })),
            }),
            { maxLength: 60 },
          ),
          end: fc.constantFrom('complete', 'unsubscribe', 'none'),
          endGap: fc.integer({ min: 0, max: 50 }),
        }),
        (c) => {
          const emitted: { at: number; cost: number; index: number }[] = [];
          const dropped: number[] = [];
          let received = 0;
          const ts = testScheduler();
          ts.run(() => {
            const source = new Subject<number>();
            const costs = c.arrivals.map((a) => a.cost);
            const subscription = source
              .pipe(
                tap(() => received++),
                throttleTokenBucket({
                  rate: c.rate,
                  per: c.per,
                  burst: c.burst,
                  mode: c.mode,
                  cost: (i) => costs[i]!,
                  capacity: c.capacity,
                  ...(c.maxWait === undefined ? {} : { maxWait: c.maxWait }),
                  onDrop: (d) => dropped.push(d.value),
                }),
              )
              .subscribe({ next: (i) => emitted.push({ at: ts.now(), cost: costs[i]!, index: i }), error: () => {} });
            let t = 0;
            c.arrivals.forEach((a, i) => {
              t += a.gap;
              ts.schedule(() => source.next(i), t);
            });
            t += c.endGap;
            if (c.end === 'complete') ts.schedule(() => source.complete(), t);
            if (c.end === 'unsubscribe') ts.schedule(() => subscription.unsubscribe(), t);
          });

          // rate bound over every window [t_i, t_j] that starts and ends at an emission
          for (let i = 0; i < emitted.length; i++) {
            let sum = 0;
            for (let j = i; j < emitted.length; j++) {
              sum += emitted[j]!.cost;
              const span = emitted[j]!.at - emitted[i]!.at;
              const debt = c.mode === 'shape' ? Math.max(0, emitted[j]!.cost - c.burst) : 0;
              const bound = c.burst + (c.rate * span) / c.per + debt;
              expect(sum).toBeLessThanOrEqual(bound + 1e-9 * (1 + bound));
            }
          }
          // conservation: every received value emitted or dropped, exactly once
          const ends = [...emitted.map((e) => e.index), ...dropped].sort((a, b) => a - b);
          expect(ends).toEqual(Array.from({ length: received }, (_, i) => i));
          // order: emissions keep arrival order
          const order = emitted.map((e) => e.index);
          expect(order).toEqual([...order].sort((a, b) => a - b));
        },
      ),
      { numRuns: 400 },
    );
  });
});
