import { Observable, Subject, catchError, from, map, merge, of, range, take } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { isRateLimitExceededError } from '../../src/errors.js';
import { throttleTokenBucket } from '../../src/operators/throttleTokenBucket.js';
import type { ThrottleTokenBucketOptions } from '../../src/operators/throttleTokenBucket.js';
import { memoryTokenBucketStore, tokenBucketStore } from '../../src/rate/store.js';
import type { TokenBucketStore, TokenGrant, TokenRequest } from '../../src/rate/protocol.js';
import type { Dropped } from '../../src/types.js';
import { dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** A store that answers like `inner`, but a microtask later, and records every request. */
function later(inner: TokenBucketStore): { store: TokenBucketStore; asked: TokenRequest[] } {
  const asked: TokenRequest[] = [];
  return {
    asked,
    store: tokenBucketStore({
      take: (request) => {
        asked.push(request);
        return Promise.resolve().then(() => inner.take(request));
      },
    }),
  };
}

/** A clock that stands still at 0. */
const frozen: SchedulerLike = {
  now: () => 0,
  schedule: () => {
    throw new Error('no timer expected');
  },
};

function collect<T>(source: Observable<T>): Promise<{ values: T[]; error?: unknown }> {
  return new Promise((resolve) => {
    const values: T[] = [];
    source.subscribe({
      next: (v) => values.push(v),
      error: (error: unknown) => resolve({ values, error }),
      complete: () => resolve({ values }),
    });
  });
}

describe('throttleTokenBucket with a store', () => {
  describe('memoryTokenBucketStore (synchronous: exact in virtual time)', () => {
    it('is one bucket for every stream given it', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const store = memoryTokenBucketStore();
        const options: ThrottleTokenBucketOptions<string> = { rate: 1, per: 4, burst: 1, mode: 'drop', store };
        const a = cold('-x-y----|');
        const b = cold('--u--v--|');
        const drops = dropLane<string>();
        expectObservable(a.pipe(throttleTokenBucket({ ...options, onDrop: drops.onDrop }))).toBe('-x------|');
        expectObservable(b.pipe(throttleTokenBucket({ ...options, onDrop: drops.onDrop }))).toBe('-----v--|');
        expectObservable(drops.values$).toBe('--uy----');
        expectSubscriptions(a.subscriptions).toBe('^-------!');
        expectSubscriptions(b.subscriptions).toBe('^-------!');
      });
    });

    it('shapes like the built-in bucket', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const store = memoryTokenBucketStore();
        expectObservable(cold('-(abc)|').pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, store }))).toBe(
          '-a---b---(c|)',
        );
        expectObservable(
          cold('ab-----c|').pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 2, store: memoryTokenBucketStore() })),
        ).toBe('ab-----c|');
      });
    });

    it('lets a cost above burst through into debt in mode shape, when the bucket is full', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const store = memoryTokenBucketStore();
        const cost = (v: string): number => (v === 'B' ? 3 : 1);
        // B costs 3 of a burst of 1: it goes through at once (full bucket) and leaves a debt of 2 tokens (8 frames);
        // c then waits until the bucket holds 1 again: 12 frames after B.
        expectObservable(cold('Bc|').pipe(throttleTokenBucket({ rate: 1, per: 4, burst: 1, cost, store }))).toBe(
          'B-----------(c|)',
        );
      });
    });

    it('errors in mode error with the store retryAfter', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const store = memoryTokenBucketStore();
        const drops = dropLane<string>();
        const result = cold('a-b|').pipe(
          throttleTokenBucket({ rate: 1, per: 4, mode: 'error', store, onDrop: drops.onDrop }),
          catchError((e: unknown) => of(isRateLimitExceededError(e) ? `retry ${e.retryAfter}` : 'other')),
        );
        expectObservable(result).toBe('a-(r|)', { a: 'a', r: 'retry 2' });
        expectObservable(drops.reasons$).toBe('--e', { e: 'b:error' });
      });
    });

    it('expires a value that waited maxWait', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const drops = dropLane<string>();
        const result = cold('abc|').pipe(
          throttleTokenBucket({ rate: 1, per: 4, maxWait: 5, store: memoryTokenBucketStore(), onDrop: drops.onDrop }),
        );
        // b is paid for at 4; c (arrived at 2) would be paid at 8, after its maxWait ran out at 7.
        expectObservable(result).toBe('a---b--|');
        expectObservable(drops.reasons$).toBe('-------c', { c: 'c:expired' });
      });
    });

    it('cancels its timer and reports waiting values on unsubscribe', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const drops = dropLane<string>();
        const source = cold('abc|');
        const result = source.pipe(
          throttleTokenBucket({ rate: 1, per: 4, store: memoryTokenBucketStore(), onDrop: drops.onDrop }),
        );
        expectObservable(result, '---!').toBe('a--');
        expectObservable(drops.reasons$).toBe('---(bc)', { b: 'b:cancelled', c: 'c:cancelled' });
        expectSubscriptions(source.subscriptions).toBe('^--!');
      });
    });

    it('stops listening to a synchronous observable when unsubscribed', () => {
      const sideEffects: number[] = [];
      const synchronousObservable = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed && i < 10; i++) {
          sideEffects.push(i);
          subscriber.next(i);
        }
      });
      synchronousObservable
        .pipe(throttleTokenBucket({ rate: 1, burst: 5, mode: 'drop', store: memoryTokenBucketStore() }), take(3))
        .subscribe();
      expect(sideEffects).toEqual([0, 1, 2]);
    });
  });

  describe('an asynchronous store', () => {
    it('decides values one at a time in arrival order, holding at most capacity', async () => {
      const { store, asked } = later(memoryTokenBucketStore());
      const drops: Dropped<number>[] = [];
      const result = await collect(
        from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pipe(
          throttleTokenBucket({
            rate: 1,
            burst: 3,
            mode: 'drop',
            capacity: 5,
            store,
            scheduler: frozen,
            onDrop: (d) => drops.push(d),
          }),
        ),
      );
      expect(result).toEqual({ values: [1, 2, 3] });
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual([
        '6:overflow',
        '7:overflow',
        '8:overflow',
        '9:overflow',
        '10:overflow',
        '4:rate',
        '5:rate',
      ]);
      expect(asked.map((r) => r.tokens)).toEqual([1, 1, 1, 1, 1]);
      expect(asked[0]).toEqual({ tokens: 1, rate: 1, per: 1000, burst: 3, now: 0 });
    });

    it('never asks for a cost above burst in modes drop and error', async () => {
      const { store, asked } = later(memoryTokenBucketStore());
      const drops: string[] = [];
      const result = await collect(
        from([1, 5, 1]).pipe(
          throttleTokenBucket({
            rate: 1,
            burst: 2,
            mode: 'drop',
            cost: (v) => v,
            store,
            scheduler: frozen,
            onDrop: (d) => drops.push(`${d.value}:${d.reason}`),
          }),
        ),
      );
      expect(result).toEqual({ values: [1, 1] });
      expect(drops).toEqual(['5:rate']);
      expect(asked).toHaveLength(2);
    });

    it('errors the stream when the store rejects or throws, reporting held values', async () => {
      const failing: TokenBucketStore = tokenBucketStore({ take: () => Promise.reject(new Error('store down')) });
      const drops: string[] = [];
      const onDrop = (d: Dropped<number>): number => drops.push(`${d.value}:${d.reason}`);
      const rejected = await collect(
        from([1, 2]).pipe(throttleTokenBucket({ rate: 1, store: failing, scheduler: frozen, onDrop })),
      );
      expect(rejected.values).toEqual([]);
      expect((rejected.error as Error).message).toBe('store down');
      expect(drops).toEqual(['1:error', '2:error']);

      const throwing: TokenBucketStore = tokenBucketStore({
        take: () => {
          throw new Error('take threw');
        },
      });
      const thrown = await collect(of(1).pipe(throttleTokenBucket({ rate: 1, store: throwing, scheduler: frozen })));
      expect((thrown.error as Error).message).toBe('take threw');
    });

    it('errors the stream on an answer that is not a grant', async () => {
      const odd: TokenBucketStore = tokenBucketStore({
        take: () => Promise.resolve({ ok: true } as unknown as TokenGrant),
      });
      const result = await collect(of(1).pipe(throttleTokenBucket({ rate: 1, store: odd, scheduler: frozen })));
      expect(result.error).toBeInstanceOf(TypeError);
    });

    it('ignores an answer that arrives after unsubscribe', async () => {
      let answer!: (grant: TokenGrant) => void;
      const store: TokenBucketStore = tokenBucketStore({
        take: () => new Promise<TokenGrant>((resolve) => (answer = resolve)),
      });
      const seen: number[] = [];
      const drops: string[] = [];
      const subscription = of(1)
        .pipe(
          throttleTokenBucket({
            rate: 1,
            store,
            scheduler: frozen,
            onDrop: (d) => drops.push(`${d.value}:${d.reason}`),
          }),
        )
        .subscribe((v) => seen.push(v));
      subscription.unsubscribe();
      answer({ granted: true });
      await Promise.resolve();
      expect(seen).toEqual([]);
      expect(drops).toEqual(['1:cancelled']);
    });

    it('completes only after the last answer', async () => {
      const { store } = later(memoryTokenBucketStore());
      const events: string[] = [];
      const done = new Subject<void>();
      merge(of(1, 2))
        .pipe(throttleTokenBucket({ rate: 1, burst: 2, store, scheduler: frozen }), map(String))
        .subscribe({ next: (v) => events.push(v), complete: () => (events.push('|'), done.next()) });
      expect(events).toEqual([]);
      await new Promise<void>((resolve) => done.subscribe(() => resolve()));
      expect(events).toEqual(['1', '2', '|']);
    });
  });

  it('validates the store option', () => {
    expect(() => throttleTokenBucket({ rate: 1, store: {} as TokenBucketStore })).toThrow(
      new TypeError('throttleTokenBucket: store must be a TokenBucketStore (with take()), got an object'),
    );
    expect(() => throttleTokenBucket({ rate: 1, store: null as unknown as TokenBucketStore })).toThrow(TypeError);
  });
});

describe('throttleTokenBucket and memoryTokenBucketStore: rounding and odd answers (found by a conformance audit)', () => {
  /** Emission times of `count` simultaneous values through `limit`, in virtual time. */
  function emissionTimes(count: number, limit: (scheduler: SchedulerLike) => ThrottleTokenBucketOptions<number>) {
    const ts = testScheduler();
    const times: number[] = [];
    let completed = false;
    ts.run(() => {
      range(0, count)
        .pipe(throttleTokenBucket(limit(ts)))
        .subscribe({ next: () => times.push(ts.now()), complete: () => (completed = true) });
    });
    return { times, completed };
  }

  it('shape mode with a store and a rate of 3 per 10 ms: a value every 10/3 ms, as without a store, and it ends', () => {
    // 12 values at once, burst 1: the k-th can be paid for at k x 10/3 ms. At 20 ms the level is a rounding error
    // short of one token; the store must grant there rather than ask to be asked again in 1e-15 ms, forever.
    const withStore = emissionTimes(12, () => ({ rate: 3, per: 10, store: memoryTokenBucketStore() }));
    const without = emissionTimes(12, () => ({ rate: 3, per: 10 }));
    expect(withStore.completed).toBe(true);
    expect(withStore.times).toHaveLength(12);
    withStore.times.forEach((t, k) => expect(t).toBeCloseTo((k * 10) / 3, 9));
    without.times.forEach((t, k) => expect(t).toBeCloseTo((k * 10) / 3, 9));
    expect(without.times).toHaveLength(12);
  });

  it('fractional costs add up exactly enough: burst 3 pays for 30 values of 0.1, burst 0.3 for 3', () => {
    const cost = (): number => 0.1;
    for (const store of [undefined, memoryTokenBucketStore()]) {
      const deep = emissionTimes(40, () => ({
        rate: 1,
        per: 1,
        burst: 3,
        cost,
        mode: 'drop',
        ...(store && { store }),
      }));
      expect(deep.times).toHaveLength(30);
    }
    for (const store of [undefined, memoryTokenBucketStore()]) {
      const shallow = emissionTimes(5, () => ({
        rate: 1,
        per: 1,
        burst: 0.3,
        cost,
        mode: 'drop',
        ...(store && { store }),
      }));
      expect(shallow.times).toHaveLength(3);
    }
  });

  it('one memory store asked with two rates is one bucket: it keeps its tokens instead of refilling', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const store = memoryTokenBucketStore();
      const slow = cold('a-a-a-a-a|').pipe(throttleTokenBucket({ rate: 1, per: 100, mode: 'drop', store }));
      const fast = cold('-b-b-b-b-b|').pipe(throttleTokenBucket({ rate: 2, per: 100, mode: 'drop', store }));
      // the bucket starts with its one token; in 10 ms at most 0.2 more accrue: only the first value is paid for
      expectObservable(merge(slow, fast)).toBe('a---------|');
    });
  });

  it('a store answer that is not a grant errors the stream once, reporting each value once', async () => {
    const answers: unknown[] = [{}, 42, null, { granted: false }, { granted: false, retryAfter: Number.NaN }];
    answers.push({ granted: false, retryAfter: 0 }, { granted: false, retryAfter: -1 });
    answers.push({ granted: false, retryAfter: Infinity }); // in mode 'shape' the value would wait for ever
    for (const answer of answers) {
      for (const asynchronous of [false, true]) {
        const drops: string[] = [];
        const seen: unknown[] = [];
        const store = tokenBucketStore({
          take: () => (asynchronous ? Promise.resolve(answer) : answer),
        } as unknown as TokenBucketStore);
        of('a', 'b')
          .pipe(throttleTokenBucket({ rate: 1, store, onDrop: (d) => drops.push(`${d.value}:${d.reason}`) }))
          .subscribe({ next: (v) => seen.push(v), error: (e: unknown) => seen.push(e) });
        await Promise.resolve();
        await Promise.resolve();
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBeInstanceOf(TypeError);
        expect((seen[0] as Error).message).toContain('store.take must answer');
        // a synchronous answer errors before b arrives; an asynchronous one finds b waiting in line behind a
        expect(drops).toEqual(asynchronous ? ['a:error', 'b:error'] : ['a:error']);
      }
    }
  });
});
