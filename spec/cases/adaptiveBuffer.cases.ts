import { Subject } from 'rxjs';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';
import type { MarbleCase } from './types.js';

export const adaptiveBufferCases: MarbleCase[] = [
  {
    // Capacity starts at 3 and the consumer stalls: a, b, c fill the queue. At the adjustment at 10 nothing was
    // delivered, but a has waited 9 > 2 x targetLatency, so the capacity shrinks to floor(3 x 0.8) = 2. Shrinking keeps
    // what is queued (still 3) and stops admitting: d, e, f are refused. At 20, a has waited 19: floor(2 x 0.8) = 1.
    // The credits at 21, 23, 25 deliver a, b, c; the source completed at 18, so c brings the completion.
    id: 'adaptiveBuffer',
    title: 'A stalled consumer shrinks the queue; nothing queued is dropped',
    operator: 'adaptiveBuffer',
    call: 'adaptiveBuffer({ minCapacity: 1, maxCapacity: 3, targetLatency: 2, interval: 10, demand, onCapacity })',
    lanes: {
      source: '-abc--------d-e-f-|',
      demand: '---------------------1-1-1--',
      output: '---------------------a-b-(c|)',
      drops: '------------d-e-f',
      capacity: '----------2---------1',
    },
    captions: { drops: "reason 'overflow'", capacity: 'starts at 3' },
    laneValues: { capacity: { 1: 1, 2: 2, 3: 3 } },
    subscription: '^-----------------!',
    build: (h) => {
      const drops = h.drops();
      const capacity = new Subject<number>();
      const output = h.source().pipe(
        adaptiveBuffer({
          minCapacity: 1,
          maxCapacity: 3,
          targetLatency: 2,
          interval: 10,
          demand: h.credits(),
          onDrop: drops.onDrop,
          onCapacity: capacity,
          scheduler: h.scheduler,
        }),
      );
      return { output, drops: drops.values, capacity };
    },
  },
];
