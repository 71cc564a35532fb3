import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import type { MarbleCase } from './types.js';

export const throttleTokenBucketCases: MarbleCase[] = [
  {
    // One token per 5 frames, bucket of 2, full at subscription. a and b spend both tokens; c (0.2 tokens) and d
    // (0.4) cannot pay. By e at 9 the bucket holds 1.4, e pays, f (0.6) cannot. By 18 the bucket is full again (2),
    // so g and h (1.2 left by 19) both pass.
    id: 'throttleTokenBucket',
    title: 'Bursts up to the bucket size, then the rate; the rest is dropped',
    operator: 'throttleTokenBucket',
    call: "throttleTokenBucket({ rate: 1, per: 5, burst: 2, mode: 'drop' })",
    lanes: {
      source: '-abcd----ef-------gh|',
      output: '-ab------e--------gh|',
      drops: '---cd-----f',
    },
    captions: { drops: "reason 'rate'" },
    subscription: '^-------------------!',
    build: (h) => {
      const drops = h.drops();
      const output = h.source().pipe(
        throttleTokenBucket({
          rate: 1,
          per: 5,
          burst: 2,
          mode: 'drop',
          onDrop: drops.onDrop,
          scheduler: h.scheduler,
        }),
      );
      return { output, drops: drops.values };
    },
  },
  {
    // Shape mode delays instead: a spends the one token, b waits until the next one is due (1 + 4), c until 9, and the
    // completion waits for c.
    id: 'throttleTokenBucket-shape',
    title: 'Shape mode delays values until a token is due',
    operator: 'throttleTokenBucket',
    call: 'throttleTokenBucket({ rate: 1, per: 4, burst: 1 })',
    lanes: {
      source: '-(abc)|',
      output: '-a---b---(c|)',
      drops: '-',
    },
    subscription: '^-----!',
    build: (h) => {
      const drops = h.drops();
      const output = h
        .source()
        .pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, onDrop: drops.onDrop, scheduler: h.scheduler }));
      return { output, drops: drops.values };
    },
  },
  {
    // Latest mode keeps the last value it cannot pay for: a spends the one token at 1; b is held at 2 and replaced by
    // c at 3 (b dropped, reason 'rate'); c goes out at 5, when the next token falls due. d is held at 7, e replaces it
    // at 8 and goes out at 9; the source completes at 10 with nothing held. The final value always goes out.
    id: 'throttleTokenBucket-latest',
    title: 'Latest mode keeps the last value of a burst and sends it when a token is due',
    operator: 'throttleTokenBucket',
    call: "throttleTokenBucket({ rate: 1, per: 4, burst: 1, mode: 'latest' })",
    lanes: {
      source: '-abc---de-|',
      output: '-a---c---e|',
      drops: '---b----d',
    },
    captions: { drops: "reason 'rate'" },
    subscription: '^---------!',
    build: (h) => {
      const drops = h.drops();
      const output = h.source().pipe(
        throttleTokenBucket({
          rate: 1,
          per: 4,
          burst: 1,
          mode: 'latest',
          onDrop: drops.onDrop,
          scheduler: h.scheduler,
        }),
      );
      return { output, drops: drops.values };
    },
  },
];
