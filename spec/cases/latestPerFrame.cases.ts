import { latestPerFrame } from '../../src/operators/latestPerFrame.js';
import type { MarbleCase } from './types.js';

export const latestPerFrameCases: MarbleCase[] = [
  {
    // a b c arrive before the frame at 6, which emits c (a and b were replaced); d then e before the frame at 13. The
    // source completes at 12 with e held: e goes out at 13, and the completion with it.
    id: 'latestPerFrame',
    title: 'The newest value once per animation frame, the last one always',
    operator: 'latestPerFrame',
    call: 'latestPerFrame({ onDrop })',
    lanes: {
      source: '-a-b-c---d-e|',
      frames: '------x------x',
      output: '------c------(e|)',
      drops: '---a-b-----d',
    },
    captions: { frames: 'requestAnimationFrame', drops: "reason 'evicted'" },
    subscription: '^-----------!',
    build: (h) => {
      h.frames();
      const drops = h.drops();
      const output = h.source().pipe(latestPerFrame({ onDrop: drops.onDrop }));
      return { output, drops: drops.values };
    },
  },
];
