import { pull } from '../../src/demand/pull.js';
import type { MarbleCase } from './types.js';

export const pullCases: MarbleCase[] = [
  {
    // The generator is read once per credit: a at 2, b and c at 7, d at 14. Only the fourth credit reads past d, finds
    // the generator done and completes.
    id: 'pull',
    title: 'The producer is read only on credit: blocking, nothing dropped',
    operator: 'pull',
    call: 'pull(input, demand)',
    input: 'input: a generator of a, b, c, d',
    lanes: {
      demand: '--1----2------1---1',
      output: '--a----(bc)---d---|',
    },
    build: (h) => {
      function* letters(): Generator<string> {
        yield* ['a', 'b', 'c', 'd'];
      }
      return { output: pull(letters(), h.credits()) };
    },
  },
];
