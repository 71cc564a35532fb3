import { BufferOverflowError } from '../../src/errors.js';
import { bufferBounded } from '../../src/operators/bufferBounded.js';
import type { MarbleCase } from './types.js';

export const bufferBoundedCases: MarbleCase[] = [
  {
    // a and b queue until the first credit; c and d wait for theirs; d is still queued when the source completes,
    // so the completion waits for it. Nothing is dropped.
    id: 'bufferBounded',
    title: 'Values wait in the buffer for credit; none is lost',
    operator: 'bufferBounded',
    call: 'bufferBounded({ capacity: 3, demand })',
    lanes: {
      source: '-a-b-c-d-|',
      demand: '----1---2-----1--',
      output: '----a---(bc)--(d|)',
      drops: '------------------',
    },
    subscription: '^--------!',
    build: (h) => {
      const drops = h.drops();
      const output = h.source().pipe(bufferBounded({ capacity: 3, demand: h.credits(), onDrop: drops.onDrop }));
      return { output, drops: drops.values };
    },
  },
  {
    // No credit ever: a, b, c fill the buffer; d finds it full, so the stream errors at d, and everything it held,
    // with d, is reported with reason 'error'.
    id: 'bufferBounded-overflow',
    title: 'A full buffer errors instead of dropping quietly',
    operator: 'bufferBounded',
    call: 'bufferBounded({ capacity: 3, demand })',
    lanes: {
      source: '-a-b-c-d-e-|',
      demand: '-',
      output: '-------#',
      drops: '-------(abcd)',
    },
    captions: { drops: "reason 'error'" },
    subscription: '^------!',
    error: BufferOverflowError,
    build: (h) => {
      const drops = h.drops();
      const output = h.source().pipe(bufferBounded({ capacity: 3, demand: h.credits(), onDrop: drops.onDrop }));
      return { output, drops: drops.values };
    },
  },
];
