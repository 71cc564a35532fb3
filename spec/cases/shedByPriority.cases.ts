import { shedByPriority } from '../../src/operators/shedByPriority.js';
import type { MarbleCase } from './types.js';

const rank: Record<string, number> = { l: 0, m: 1, h: 2, H: 2 };

export const shedByPriorityCases: MarbleCase[] = [
  {
    // l, m, h fill the queue; H (priority 2) evicts the oldest value of the lowest priority below its own: l. The
    // credits then deliver the highest priority first, FIFO within it (h before H), and m last, with the completion.
    id: 'shedByPriority',
    title: 'Under overload the least important value is shed first',
    operator: 'shedByPriority',
    call: 'shedByPriority({ capacity: 3, demand, priority })',
    lanes: {
      source: '-l-m-h-H-|',
      demand: '----------1-1-1--',
      output: '----------h-H-(m|)',
      drops: '-------l',
    },
    captions: { drops: "H evicts l: reason 'evicted'" },
    notes: ['priority: l = 0, m = 1, h = H = 2 (higher is more important)'],
    subscription: '^--------!',
    build: (h) => {
      const drops = h.drops();
      const priority = (value: string): number => rank[value] ?? 0;
      const output = h
        .source()
        .pipe(shedByPriority({ capacity: 3, demand: h.credits(), priority, onDrop: drops.onDrop }));
      return { output, drops: drops.values };
    },
  },
];
