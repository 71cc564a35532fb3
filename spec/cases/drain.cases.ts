import { Demand } from '../../src/demand/Demand.js';
import { bufferBounded } from '../../src/operators/bufferBounded.js';
import type { MarbleCase } from './types.js';

export const drainCases: MarbleCase[] = [
  {
    // drain requests 1 on subscribing, so a passes straight through at 1; each value takes 3 frames of work, and each
    // completed inner requests one more: b (queued since 3) goes at 4, c (queued since 5) at 7. The buffer completes
    // at 8 with nothing queued; the output completes when c's work ends at 10. That last completion requests nothing:
    // the producer is already done, and credit requested then would be kept on the Demand for a later subscriber.
    id: 'Demand.drain',
    title: 'The consumer keeps exactly concurrency values requested',
    operator: 'Demand.drain',
    call: 'bufferBounded({ capacity: 3, demand }), demand.drain(work)',
    lanes: {
      source: '-a-b-c--|',
      demand: '1---1--1',
      output: '----a--b--(c|)',
    },
    notes: ['work: x => ---(x|), three frames each; concurrency 1'],
    build: (h) => {
      const demand = new Demand();
      const output = h.source().pipe(
        bufferBounded({ capacity: 3, demand }),
        demand.drain((x: string) => h.cold('---(x|)', { x })),
      );
      return { demand, output };
    },
  },
];
