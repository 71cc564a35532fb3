/**
 * Laws of throttleTokenBucket with a store, on random hot sources in virtual time:
 *
 * - a private memoryTokenBucketStore is the built-in bucket: in mode 'shape' with exact arithmetic (rate 1, integer
 *   per, burst and costs) the output, values and frames, equals the storeless operator's;
 * - one bucket for all: several streams sharing a memoryTokenBucketStore in mode 'drop' together emit at most
 *   burst + rate * L / per tokens in any window of length L, and each value ends exactly once (emitted or dropped).
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import { memoryTokenBucketStore } from '../../src/rate/store.js';
import { testScheduler } from '../helpers/marbles.js';

const runs = Number(process.env['PROPERTY_RUNS'] ?? 300);

describe('throttleTokenBucket with a store: properties', () => {
  it("mode 'shape' through a private memoryTokenBucketStore equals the built-in bucket (exact arithmetic)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 15 }), cost: fc.integer({ min: 0, max: 4 }) }), {
          maxLength: 40,
        }),
        (per, burst, arrivals) => {
          const withStore: [number, number][] = [];
          const builtIn: [number, number][] = [];
          const ts = testScheduler();
          ts.run(() => {
            const source = new Subject<number>();
            const cost = (i: number): number => arrivals[i]!.cost;
            source
              .pipe(throttleTokenBucket({ rate: 1, per, burst, cost, store: memoryTokenBucketStore() }))
              .subscribe((v) => withStore.push([ts.now(), v]));
            source
              .pipe(throttleTokenBucket({ rate: 1, per, burst, cost }))
              .subscribe((v) => builtIn.push([ts.now(), v]));
            let t = 0;
            arrivals.forEach(({ gap }, i) => ts.schedule(() => source.next(i), (t += gap)));
          });
          expect(withStore).toEqual(builtIn);
          expect(withStore).toHaveLength(arrivals.length);
        },
      ),
      { numRuns: runs },
    );
  });

  it("streams sharing one store emit together at most burst + rate * L / per in any window (mode 'drop')", () => {
    fc.assert(
      fc.property(
        fc.record({
          rate: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.double({ min: 0.1, max: 3, noNaN: true })),
          per: fc.integer({ min: 1, max: 20 }),
          burst: fc.integer({ min: 1, max: 4 }),
          streams: fc.array(fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 30 }), {
            minLength: 2,
            maxLength: 4,
          }),
        }),
        ({ rate, per, burst, streams }) => {
          const emitted: number[] = [];
          let dropped = 0;
          const ts = testScheduler();
          ts.run(() => {
            const store = memoryTokenBucketStore();
            streams.forEach((gaps, s) => {
              const source = new Subject<number>();
              source
                .pipe(throttleTokenBucket({ rate, per, burst, mode: 'drop', store, onDrop: () => dropped++ }))
                .subscribe(() => emitted.push(ts.now()));
              let t = 0;
              gaps.forEach((gap, i) => ts.schedule(() => source.next(s * 1000 + i), (t += gap)));
            });
          });
          const received = streams.reduce((n, gaps) => n + gaps.length, 0);
          expect(emitted.length + dropped).toBe(received);
          emitted.sort((a, b) => a - b);
          for (let i = 0; i < emitted.length; i++) {
            for (let j = i; j < emitted.length; j++) {
              expect(j - i + 1).toBeLessThanOrEqual(burst + (rate * (emitted[j]! - emitted[i]!)) / per + 1e-9);
            }
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
