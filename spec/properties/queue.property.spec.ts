/**
 * bufferBounded's own law: it never drops quietly. Before a terminal signal nothing is reported to onDrop; a full
 * buffer errors the stream instead.
 *
 * The laws every queue operator shares (conservation, capacity, demand, FIFO order, nothing twice, nothing after the
 * end, no scheduled action or value left behind) are checked once, for every operator and policy, by
 * spec/reliability/laws.property.spec.ts.
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, bufferBounded } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';

type Step = { kind: 'next'; count: number } | { kind: 'request'; n: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('next' as const), count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('request' as const), n: fc.integer({ min: 1, max: 4 }) }) },
);

const runs = Number(process.env['PROPERTY_RUNS'] ?? 1000);
const capacityArb = fc.integer({ min: 1, max: 6 });
const stepsArb = fc.array(stepArb, { maxLength: 40 });

describe('bufferBounded (fast-check)', () => {
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
