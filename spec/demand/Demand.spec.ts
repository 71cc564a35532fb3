import { Subject, concatMap, delay, from, map, of, take, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, bufferBounded, isBufferOverflowError, pull } from '../../src/index.js';
import { testScheduler } from '../helpers/marbles.js';

describe('Demand', () => {
  it('is an Observable of the credits requested while subscribed', () => {
    const demand = new Demand();
    const seen: number[] = [];
    const subscription = demand.subscribe((n) => seen.push(n));
    demand.request(1);
    demand.request(3);
    subscription.unsubscribe();
    demand.request(2);
    expect(seen).toEqual([1, 3]);
  });

  it('keeps credit requested while nobody listens and hands it, summed, to the next subscriber', () => {
    const demand = new Demand();
    demand.request(2);
    demand.request(3);
    const seen: number[] = [];
    demand.subscribe((n) => seen.push(n));
    expect(seen).toEqual([5]);
    const late: number[] = [];
    demand.subscribe((n) => late.push(n));
    expect(late).toEqual([]);
  });

  describe('request(n) validation (Reactive Streams 3.9)', () => {
    it.each([0, -1, -Infinity, NaN, 1.5, '1' as never, null as never, undefined as never])(
      'request(%s) throws RangeError',
      (n) => {
        const demand = new Demand();
        expect(() => demand.request(n)).toThrow(RangeError);
        expect(() => demand.request(n)).toThrow('Demand.request: demand credit must be a positive integer or Infinity');
      },
    );

    it('names the credit\'s kind: a string "2" is shown quoted, so it does not read as the number 2', () => {
      expect(() => new Demand().request('2' as never)).toThrow(/got "2"$/);
    });

    it('accepts Infinity and huge sums without error (Reactive Streams 3.17)', () => {
      const demand = new Demand();
      expect(() => demand.request(Infinity)).not.toThrow();
      expect(() => demand.request(Number.MAX_SAFE_INTEGER)).not.toThrow();
      expect(() => demand.request(2 ** 60)).not.toThrow();
      const seen: number[] = [];
      demand.subscribe((n) => seen.push(n));
      expect(seen).toEqual([Infinity]);
    });
  });

  describe('Reactive Streams rules through a queue operator', () => {
    it('1.1: never emits more than was requested', () => {
      const demand = new Demand();
      const source = new Subject<number>();
      const out: number[] = [];
      source.pipe(bufferBounded({ capacity: 100, demand })).subscribe((v) => out.push(v));
      for (let i = 0; i < 50; i++) source.next(i);
      expect(out).toHaveLength(0);
      demand.request(3);
      expect(out).toEqual([0, 1, 2]);
      demand.request(1);
      demand.request(1);
      expect(out).toEqual([0, 1, 2, 3, 4]);
    });

    it('1.7: nothing after a terminal signal, even when credit keeps arriving', () => {
      const demand = new Demand();
      const events: string[] = [];
      of(1, 2)
        .pipe(bufferBounded({ capacity: 5, demand }))
        .subscribe({ next: (v) => events.push(`n${v}`), complete: () => events.push('c') });
      demand.request(5);
      demand.request(5);
      expect(events).toEqual(['n1', 'n2', 'c']);
    });
  });

  describe('drain', () => {
    it('requests concurrency credits after subscribing upstream, then one per completed inner', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const demand = new Demand();
        const requested: number[] = [];
        demand.subscribe((n) => requested.push(n));
        const source = cold('a-b-c-|').pipe(bufferBounded({ capacity: 5, demand }));
        // each value takes 3 frames of work; concurrency 1 serialises them
        const result = source.pipe(demand.drain((x: string) => cold('--x|', { x: x.toUpperCase() })));
        expectObservable(result).toBe('--A--B--C|');
      });
    });

    it('runs up to concurrency inners at once and releases queued values as inners complete', () => {
      testScheduler().run(({ cold, expectObservable }) => {
        const demand = new Demand();
        // a and b start at once (2 credits); c and d queue upstream until a (frame 6) and b (frame 8) complete.
        const source = cold('a-b-c-d-|').pipe(bufferBounded({ capacity: 5, demand }));
        const result = source.pipe(demand.drain((x: string) => cold('-----x|', { x }), { concurrency: 2 }));
        expectObservable(result).toBe('-----a-b---c-d|');
      });
    });

    it('errors with BufferOverflowError when upstream sends more than was requested', () => {
      const demand = new Demand();
      const source = new Subject<number>();
      const errors: unknown[] = [];
      const work: number[] = [];
      source
        .pipe(demand.drain((x: number) => (work.push(x), timer(10).pipe(map(() => x)))))
        .subscribe({ error: (e) => errors.push(e) });
      source.next(1);
      expect(errors).toHaveLength(0);
      source.next(2);
      expect(work).toEqual([1]);
      expect(errors).toHaveLength(1);
      expect(isBufferOverflowError(errors[0])).toBe(true);
    });

    it('errors at the first value of a source that ignores demand and emits during subscribe', () => {
      const demand = new Demand();
      const errors: unknown[] = [];
      of(1, 2, 3)
        .pipe(demand.drain((x: number) => of(x)))
        .subscribe({ error: (e) => errors.push(e) });
      expect(isBufferOverflowError(errors[0])).toBe(true);
    });

    it('passes index to project and errors when project throws', () => {
      const demand = new Demand();
      const seen: [string, number][] = [];
      const errors: unknown[] = [];
      from(['a', 'b', 'c'])
        .pipe(
          bufferBounded({ capacity: 3, demand }),
          demand.drain((x: string, i) => {
            seen.push([x, i]);
            if (x === 'b') throw new Error('project failed');
            return of(x);
          }),
        )
        .subscribe({ error: (e: Error) => errors.push(e.message) });
      expect(seen).toEqual([
        ['a', 0],
        ['b', 1],
      ]);
      expect(errors).toEqual(['project failed']);
    });

    it('consumes 10^6 synchronous values from pull without growing the stack', () => {
      const demand = new Demand();
      function* numbers() {
        for (let i = 0; i < 1_000_000; i++) yield i;
      }
      let sum = 0;
      let completed = false;
      pull(numbers(), demand)
        .pipe(demand.drain((x: number) => of(x)))
        .subscribe({ next: (x) => (sum += x), complete: () => (completed = true) });
      expect(completed).toBe(true);
      expect(sum).toBe((1_000_000 * 999_999) / 2);
    });

    it('slows an async producer to the consumer pace with a fixed number in flight', async () => {
      const demand = new Demand();
      let produced = 0;
      let inFlight = 0;
      let maxInFlight = 0;
      async function* producer() {
        for (let i = 0; i < 20; i++) {
          produced++;
          yield i;
        }
      }
      const out = await new Promise<number[]>((resolve) => {
        const values: number[] = [];
        pull(producer(), demand)
          .pipe(
            demand.drain(
              (x: number) => {
                inFlight++;
                maxInFlight = Math.max(maxInFlight, inFlight);
                expect(produced - values.length).toBeLessThanOrEqual(3);
                return of(x).pipe(
                  delay(1),
                  map((v) => (inFlight--, v)),
                );
              },
              { concurrency: 3 },
            ),
          )
          .subscribe({ next: (v) => values.push(v), complete: () => resolve(values) });
      });
      expect(out.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(maxInFlight).toBe(3);
    });

    it('validates its arguments at the call', () => {
      const demand = new Demand();
      expect(() => demand.drain('x' as never)).toThrow(TypeError);
      expect(() => demand.drain(() => of(1), { concurrency: 0 })).toThrow(
        'drain: concurrency must be a positive integer or Infinity, got 0',
      );
      expect(() => demand.drain(() => of(1), { concurrency: 1.5 })).toThrow(RangeError);
      expect(() => demand.drain(() => of(1), { concurency: 2 } as never)).toThrow(TypeError);
    });

    it('stops a synchronous pull source when unsubscribed downstream', () => {
      const demand = new Demand();
      const sideEffects: number[] = [];
      let returned = false;
      function* numbers() {
        try {
          for (let i = 0; i < 10; i++) {
            sideEffects.push(i);
            yield i;
          }
        } finally {
          returned = true;
        }
      }
      const out: number[] = [];
      pull(numbers(), demand)
        .pipe(
          demand.drain((x: number) => of(x)),
          take(3),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([0, 1, 2]);
      expect(sideEffects).toEqual([0, 1, 2]);
      expect(returned).toBe(true);
    });

    it('stops requesting after unsubscribe', () => {
      const demand = new Demand();
      const requested: number[] = [];
      demand.subscribe((n) => requested.push(n));
      const source = new Subject<number>();
      const subscription = source.pipe(demand.drain((x: number) => of(x).pipe(concatMap((v) => of(v))))).subscribe();
      source.next(1);
      subscription.unsubscribe();
      source.next(2);
      expect(requested).toEqual([1, 1]);
    });
  });
});
