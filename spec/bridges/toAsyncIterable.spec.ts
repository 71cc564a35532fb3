import fc from 'fast-check';
import { NEVER, Observable, Subject, defer, filter, map, of, range, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dropOnFull, isBufferOverflowError, pull, toAsyncIterable } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * An async generator of 0..n-1 that records how far it has been read and whether its `finally` ran; `ahead()` is
 * produced minus received, given the reader's count.
 */
function counted(n: number): { gen: AsyncGenerator<number>; produced: () => number; closed: () => boolean } {
  let produced = 0;
  let closed = false;
  const gen = (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        produced++;
        yield i;
      }
    } finally {
      closed = true;
    }
  })();
  return { gen, produced: () => produced, closed: () => closed };
}

async function collect<T>(iterator: AsyncIterableIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterator) out.push(value);
  return out;
}

describe('toAsyncIterable', () => {
  describe('over a demand-aware producer (pull)', () => {
    it('subscribes at the first next(), not at creation', async () => {
      let subscriptions = 0;
      const iterator = toAsyncIterable(defer(() => (subscriptions++, of(1, 2))));
      await tick();
      expect(subscriptions).toBe(0);
      expect(await iterator.next()).toEqual({ done: false, value: 1 });
      expect(subscriptions).toBe(1);
    });

    it('a slow reader sees exactly capacity values read ahead, never more (capacity + 1 with a read pending)', async () => {
      const source = counted(100);
      const iterator = toAsyncIterable(pull(source.gen), { capacity: 4 });
      expect(await iterator.next()).toEqual({ done: false, value: 0 });
      for (let i = 0; i < 10; i++) await tick(); // the reader dawdles: the generator reads ahead, then waits
      expect(source.produced()).toBe(1 + 4);
      expect(await iterator.next()).toEqual({ done: false, value: 1 });
      for (let i = 0; i < 10; i++) await tick();
      expect(source.produced()).toBe(2 + 4);
    });

    it('the generator is never more than capacity + 1 ahead of the loop, values in order, to the end', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 8 }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
          async (capacity, pauses) => {
            const n = 30;
            let received = 0;
            let maxAhead = 0;
            const gen = (async function* () {
              for (let i = 0; i < n; i++) {
                maxAhead = Math.max(maxAhead, i + 1 - received);
                yield i;
              }
            })();
            const seen: number[] = [];
            let step = 0;
            for await (const value of toAsyncIterable(pull(gen), { capacity })) {
              received++;
              seen.push(value);
              for (let k = pauses[step++ % pauses.length]!; k > 0; k--) await tick();
            }
            expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
            expect(maxAhead).toBeLessThanOrEqual(capacity + 1);
          },
        ),
        { numRuns: 30 },
      );
    });

    it('credit survives a filter between: a swallowed value gives its credit back, nothing stalls', async () => {
      const source = counted(20);
      const evens = await collect(toAsyncIterable(pull(source.gen).pipe(filter((x) => x % 2 === 0)), { capacity: 2 }));
      expect(evens).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    });

    it('breaking out of for await unsubscribes: the generator finally runs, values held are reported cancelled', async () => {
      const source = counted(1000);
      const drops: Dropped<number>[] = [];
      const seen: number[] = [];
      for await (const value of toAsyncIterable(pull(source.gen), { capacity: 3, onDrop: (d) => drops.push(d) })) {
        seen.push(value);
        if (value === 5) {
          for (let i = 0; i < 10; i++) await tick(); // let it read ahead, so values are held when we leave
          break;
        }
      }
      await tick();
      expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
      expect(source.closed()).toBe(true);
      expect(source.produced()).toBe(6 + 3);
      expect(drops.map((d) => d.value)).toEqual([6, 7, 8]);
      expect(new Set(drops.map((d) => d.reason))).toEqual(new Set(['cancelled']));
    });

    it('links to a queue operator upstream: the queue holds and drops the excess, the bridge only capacity', async () => {
      const events = new Subject<number>();
      const queueDrops: Dropped<number>[] = [];
      const bridgeDrops: Dropped<number>[] = [];
      const iterator = toAsyncIterable(events.pipe(dropOnFull({ capacity: 3, onDrop: (d) => queueDrops.push(d) })), {
        capacity: 2,
        onDrop: (d) => bridgeDrops.push(d),
      });
      const first = iterator.next();
      for (let i = 0; i < 10; i++) events.next(i);
      // 0 answers the pending next(), 1 and 2 are read ahead (credit capacity + 1), 3..5 wait in the queue
      expect(queueDrops.map((d) => d.value)).toEqual([6, 7, 8, 9]);
      events.complete();
      expect(await first).toEqual({ done: false, value: 0 });
      expect(await collect(iterator)).toEqual([1, 2, 3, 4, 5]);
      expect(bridgeDrops).toEqual([]);
    });
  });

  describe('over a push source', () => {
    it("overflow 'error': the overflowing value is reported, the source stopped, the values before it read, then it throws", async () => {
      const source = new Subject<string>();
      const drops: Dropped<string>[] = [];
      const iterator = toAsyncIterable(source, { capacity: 2, onDrop: (d) => drops.push(d) });
      const first = iterator.next();
      for (const v of ['a', 'b', 'c', 'd', 'e']) source.next(v);
      // a answers the pending next(); b, c are held; d overflows; e is never received: the source was unsubscribed
      expect(drops).toEqual([expect.objectContaining({ value: 'd', reason: 'overflow' })]);
      expect(source.observed).toBe(false);
      expect(await first).toEqual({ done: false, value: 'a' });
      expect(await iterator.next()).toEqual({ done: false, value: 'b' });
      expect(await iterator.next()).toEqual({ done: false, value: 'c' });
      const error = await iterator.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBufferOverflowError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^toAsyncIterable: 2 values already held ahead of the reader/);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('the first read is registered before subscribing: a synchronous source fits capacity plus that read', async () => {
      expect(await collect(toAsyncIterable(range(1, 17)))).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
      const drops: Dropped<number>[] = [];
      const iterator = toAsyncIterable(range(1, 18), { onDrop: (d) => drops.push(d) });
      const read: number[] = [];
      const error = await (async () => {
        for await (const v of iterator) read.push(v);
      })().catch((e: unknown) => e);
      expect(read).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
      expect(isBufferOverflowError(error)).toBe(true);
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['18:overflow']);
    });

    it('the overflow stops a synchronous source that would never end', async () => {
      let emitted = 0;
      const endless = new Observable<number>((subscriber) => {
        for (let i = 0; !subscriber.closed; i++) {
          emitted++;
          subscriber.next(i);
        }
      });
      const iterator = toAsyncIterable(endless, { capacity: 3, onDrop: () => undefined });
      expect(await iterator.next()).toEqual({ done: false, value: 0 });
      expect(emitted).toBe(1 + 3 + 1); // the pending read, 3 held, the one that overflowed
      expect(await collect(iterator).catch((e: unknown) => e)).toSatisfy(isBufferOverflowError);
    });

    it("overflow 'drop-incoming' keeps the first capacity values, 'drop-oldest' the last", async () => {
      for (const [overflow, kept, dropped, reason] of [
        ['drop-incoming', [1, 2], [3, 4, 5], 'overflow'],
        ['drop-oldest', [4, 5], [1, 2, 3], 'evicted'],
      ] as const) {
        const source = new Subject<number>();
        const drops: Dropped<number>[] = [];
        const iterator = toAsyncIterable(source, { capacity: 2, overflow, onDrop: (d) => drops.push(d) });
        const first = iterator.next();
        for (let i = 0; i <= 5; i++) source.next(i);
        source.complete();
        expect(await first).toEqual({ done: false, value: 0 });
        expect(await collect(iterator)).toEqual(kept);
        expect(drops.map((d) => d.value)).toEqual(dropped);
        expect(new Set(drops.map((d) => d.reason))).toEqual(new Set([reason]));
      }
    });

    it('never holds more than capacity: pushed = read + dropped + held, in order (random pushes and reads)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.constantFrom('drop-incoming' as const, 'drop-oldest' as const),
          fc.array(fc.oneof(fc.constant('push' as const), fc.constant('read' as const)), { maxLength: 60 }),
          async (capacity, overflow, steps) => {
            const source = new Subject<number>();
            const drops: Dropped<number>[] = [];
            const iterator = toAsyncIterable(source, { capacity, overflow, onDrop: (d) => drops.push(d) });
            const read: number[] = [];
            const reads: Promise<void>[] = [];
            let pushed = 0;
            let started = false;
            for (const step of steps) {
              if (step === 'read') {
                started = true;
                reads.push(iterator.next().then((r) => void (r.done ? undefined : read.push(r.value))));
              } else if (started) {
                source.next(pushed++);
                // once the answered reads have landed, what is neither read nor dropped is held: at most capacity
                await tick();
                expect(pushed - read.length - drops.length).toBeLessThanOrEqual(capacity);
              }
            }
            source.complete();
            for (;;) {
              const r = await iterator.next();
              if (r.done) break;
              read.push(r.value);
            }
            await Promise.all(reads);
            expect(read.length + drops.length).toBe(pushed);
            expect([...read].sort((a, b) => a - b)).toEqual(read); // in order
          },
        ),
        { numRuns: 50 },
      );
    });
  });

  describe('ends', () => {
    it('an upstream error is thrown from the next next() after the values before it', async () => {
      const source = new Subject<number>();
      const iterator = toAsyncIterable(source);
      const first = iterator.next();
      source.next(1);
      source.next(2);
      const boom = new Error('boom');
      source.error(boom);
      expect(await first).toEqual({ done: false, value: 1 });
      expect(await iterator.next()).toEqual({ done: false, value: 2 });
      await expect(iterator.next()).rejects.toBe(boom);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('an error at subscription rejects the first next()', async () => {
      const boom = new Error('boom');
      const iterator = toAsyncIterable(throwError(() => boom));
      await expect(iterator.next()).rejects.toBe(boom);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('completion after the values: done, and done again on every next()', async () => {
      const iterator = toAsyncIterable(of('a', 'b'));
      expect(await collect(iterator)).toEqual(['a', 'b']);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    });

    it('an empty source is done at once; a source that never emits keeps next() pending until return()', async () => {
      expect(await collect(toAsyncIterable(of()))).toEqual([]);
      const iterator = toAsyncIterable(NEVER);
      const pending = iterator.next();
      expect(await iterator.return!('bye')).toEqual({ done: true, value: 'bye' });
      expect(await pending).toEqual({ done: true, value: undefined });
    });

    it('return() rejects with what an onDrop threw while the values held were reported cancelled', async () => {
      const boom = new Error('onDrop failed');
      const iterator = toAsyncIterable(of(1, 2, 3), {
        onDrop: () => {
          throw boom;
        },
      });
      expect(await iterator.next()).toEqual({ done: false, value: 1 });
      await expect(iterator.return!()).rejects.toBe(boom);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });

    it('return() before the first next() never subscribes', async () => {
      let subscribed = false;
      const iterator = toAsyncIterable(defer(() => ((subscribed = true), of(1))));
      await iterator.return!();
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      expect(subscribed).toBe(false);
    });

    it('an onDrop that throws errors the iterator with its error; the values held are reported error', async () => {
      const source = new Subject<number>();
      const boom = new Error('onDrop failed');
      const drops: Dropped<number>[] = [];
      const iterator = toAsyncIterable(source, {
        capacity: 1,
        overflow: 'drop-incoming',
        onDrop: (d) => {
          drops.push(d);
          if (d.reason === 'overflow') throw boom;
        },
      });
      const first = iterator.next();
      source.next(1);
      source.next(2);
      source.next(3); // overflow: onDrop throws
      expect(await first).toEqual({ done: false, value: 1 });
      await expect(iterator.next()).rejects.toBe(boom);
      expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['3:overflow', '2:error']);
      expect(source.observed).toBe(false);
    });
  });

  describe('a well-formed async iterator', () => {
    it('answers next() calls made before the previous one settled, in order, each one a credit', async () => {
      const source = counted(10);
      const iterator = toAsyncIterable(pull(source.gen), { capacity: 1 });
      const results = await Promise.all([iterator.next(), iterator.next(), iterator.next()]);
      expect(results.map((r) => r.value)).toEqual([0, 1, 2]);
      await iterator.return!();
    });

    it('concurrent next() calls over a push source are answered in arrival order', async () => {
      const source = new Subject<string>();
      const iterator = toAsyncIterable(source);
      const calls = [iterator.next(), iterator.next(), iterator.next()];
      source.next('x');
      source.next('y');
      source.complete();
      expect(await Promise.all(calls)).toEqual([
        { done: false, value: 'x' },
        { done: false, value: 'y' },
        { done: true, value: undefined },
      ]);
    });

    it('is its own async iterator', () => {
      const iterator = toAsyncIterable(of(1));
      expect(iterator[Symbol.asyncIterator]()).toBe(iterator);
    });

    it('with a map between, keeps order across many values', async () => {
      const values = await collect(toAsyncIterable(pull(counted(500).gen).pipe(map((x) => x * 2)), { capacity: 7 }));
      expect(values).toEqual(Array.from({ length: 500 }, (_, i) => i * 2));
    });
  });

  describe('options', () => {
    it('rejects bad options at the call, naming the operator and the option', () => {
      expect(() => toAsyncIterable(of(1), { capacity: 0 })).toThrow(
        new RangeError('toAsyncIterable: capacity must be a positive integer, got 0'),
      );
      expect(() => toAsyncIterable(of(1), { capacity: 1.5 })).toThrow(RangeError);
      expect(() => toAsyncIterable(of(1), { overflow: 'drop-newest' as never })).toThrow(
        /toAsyncIterable: overflow must be one of 'error', 'drop-oldest', 'drop-incoming'/,
      );
      expect(() => toAsyncIterable(of(1), { onDrop: 3 as never })).toThrow(TypeError);
      expect(() => toAsyncIterable(of(1), { capcity: 2 } as never)).toThrow(/unknown option "capcity"/);
      expect(() => toAsyncIterable([1, 2] as never)).toThrow(
        new TypeError('toAsyncIterable: source must be an Observable, got an array'),
      );
    });
  });
});
