import { NEVER, Observable, Subject, catchError, map, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, isBufferOverflowError } from '../../src/index.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** Draws an error as the value E (BufferOverflowError) or X (anything else), then completes. */
const named = catchError((e: unknown) => of(isBufferOverflowError(e) ? 'E' : e instanceof RangeError ? 'R' : 'X'));

describe('bufferBounded', () => {
  describe('without demand (unbounded consumer)', () => {
    it('passes values straight through and mirrors completion', () => {
      testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
        const source = cold(' -a-b-c-|');
        const subs = '        ^------!';
        const expected = '    -a-b-c-|';
        expectObservable(source.pipe(bufferBounded({ capacity: 1 }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });
  });

  describe('with demand', () => {
    it('queues FIFO while there is no credit and delivers as credit arrives, then completes', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const demand = hot('  ----1---2-----1--', CREDITS);
        const source = cold(' -a-b-c-d-|');
        const subs = '        ^--------!';
        const expected = '    ----a---(bc)--(d|)';
        expectObservable(source.pipe(bufferBounded({ capacity: 3, demand }))).toBe(expected);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('delivers at once while credit is outstanding, and keeps the rest of the credit', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const demand = hot('  3-------------1--', CREDITS);
        const source = cold(' -a-b-c-d-e-|');
        const expected = '    -a-b-c--------d--';
        expectObservable(source.pipe(bufferBounded({ capacity: 5, demand }))).toBe(expected);
      });
    });

    it('completes at once when upstream completes with nothing queued, whatever the credit', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const demand = hot('  -', CREDITS);
        expectObservable(cold('---|').pipe(bufferBounded({ capacity: 5, demand }))).toBe('---|');
      });
    });

    it('errors with BufferOverflowError when a value arrives to a full buffer, reporting all of them as error', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const drops = dropLane<string>();
        const demand = hot('  -', CREDITS);
        const source = cold(' -a-b-c-d-e-|');
        const subs = '        ^------!';
        const expected = '    -------(E|)';
        const dropped = '     -------(abcd)';
        expectObservable(source.pipe(bufferBounded({ capacity: 3, demand, onDrop: drops.onDrop }), named)).toBe(
          expected,
        );
        expectObservable(drops.values$).toBe(dropped);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('reports the drops with reason error and the scheduler time', () => {
      testScheduler().run(({ cold, flush }) => {
        const drops = dropLane<string>();
        cold('-a-b-')
          .pipe(bufferBounded({ capacity: 1, demand: NEVER, onDrop: drops.onDrop }))
          .subscribe({
            error: () => undefined,
          });
        flush();
        expect(drops.all).toEqual([
          { value: 'a', reason: 'error', at: 3 },
          { value: 'b', reason: 'error', at: 3 },
        ]);
      });
    });

    it('on upstream error while values wait, errors at once and reports them with reason error', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const drops = dropLane<string>();
        const demand = hot('  --------1', CREDITS);
        const source = cold(' -a-b-#', undefined, 'boom');
        expectObservable(source.pipe(bufferBounded({ capacity: 3, demand, onDrop: drops.onDrop }))).toBe(
          '-----#',
          undefined,
          'boom',
        );
        expectObservable(drops.reasons$).toBe('-----(xy)', { x: 'a:error', y: 'b:error' });
      });
    });

    it('errors when the demand stream errors, reporting what was queued', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const drops = dropLane<string>();
        const demand = hot('  ----#', CREDITS, 'demand failed');
        const source = cold(' -a-b-c-|');
        expectObservable(source.pipe(bufferBounded({ capacity: 3, demand, onDrop: drops.onDrop }))).toBe(
          '----#',
          undefined,
          'demand failed',
        );
        expectObservable(drops.values$).toBe('----(ab)');
      });
    });

    it('errors with RangeError on a credit that is not a positive integer or Infinity', () => {
      for (const bad of [0, -1, 1.5, NaN]) {
        testScheduler().run(({ cold, hot, expectObservable }) => {
          const demand = hot('--x', { x: bad });
          expectObservable(cold('-a-b-|').pipe(bufferBounded({ capacity: 3, demand }), named)).toBe('--(R|)');
        });
      }
    });

    it('accepts Infinity and sums past 2^53 as unbounded demand (Reactive Streams 3.17)', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const demand = hot('-xx', { x: Number.MAX_SAFE_INTEGER });
        expectObservable(cold('----a-b-c-|').pipe(bufferBounded({ capacity: 1, demand }))).toBe('----a-b-c-|');
        const infinite = hot('-i', CREDITS);
        expectObservable(cold('--a-b-c-|').pipe(bufferBounded({ capacity: 1, demand: infinite }))).toBe('--a-b-c-|');
      });
    });

    it('reports queued values as cancelled on unsubscribe and releases them', () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const drops = dropLane<string>();
        const demand = hot('  --1-----', CREDITS);
        const source = cold(' -a-b-c-d-|');
        const unsub = '       ------!';
        const subs = '        ^-----!';
        expectObservable(source.pipe(bufferBounded({ capacity: 5, demand, onDrop: drops.onDrop })), unsub).toBe(
          '--a---',
        );
        expectObservable(drops.reasons$).toBe('------(xy)', { x: 'b:cancelled', y: 'c:cancelled' });
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('accepts an Observable of credits, a Demand and an array as demand', () => {
      const out: number[] = [];
      of(1, 2, 3, 4)
        .pipe(bufferBounded({ capacity: 4, demand: [2, 1] }))
        .subscribe((v) => out.push(v));
      expect(out).toEqual([1, 2, 3]);
    });
  });

  describe('with upstream', () => {
    it('requests capacity at subscribe, then as many as left in each delivery, so a demand-aware producer never overflows', () => {
      const upstream = new Demand();
      const consumer = new Demand();
      const requested: number[] = [];
      upstream.subscribe((n) => requested.push(n));
      const produced = new Subject<number>();
      let outstanding = 0;
      upstream.subscribe((n) => (outstanding += n));
      const out: number[] = [];
      produced.pipe(bufferBounded({ capacity: 3, upstream, demand: consumer })).subscribe((v) => out.push(v));
      expect(requested).toEqual([3]);
      for (let i = 0; i < 3; i++) {
        outstanding--;
        produced.next(i);
      }
      expect(outstanding).toBe(0);
      consumer.request(2);
      expect(out).toEqual([0, 1]);
      expect(requested).toEqual([3, 2]); // the two slots freed by one request(2) come back as one credit
      expect(outstanding).toBe(2);
    });
  });

  describe('plumbing', () => {
    it('does not recurse when the consumer requests inside next (10^6 values, constant stack)', () => {
      const demand = new Demand();
      let delivered = 0;
      let depth = 0;
      let maxDepth = 0;
      const values = new Observable<number>((s) => {
        for (let i = 0; i < 1_000_000 && !s.closed; i++) s.next(i);
        s.complete();
      });
      let completed = false;
      values.pipe(bufferBounded({ capacity: 1_000_000, demand })).subscribe({
        next: () => {
          depth++;
          maxDepth = Math.max(maxDepth, depth);
          delivered++;
          demand.request(1);
          depth--;
        },
        complete: () => (completed = true),
      });
      expect(delivered).toBe(0);
      demand.request(1);
      expect(delivered).toBe(1_000_000);
      expect(completed).toBe(true);
      expect(maxDepth).toBe(1);
    });

    it('serialises re-entrant arrivals behind queued values (no reordering)', () => {
      const source = new Subject<number>();
      const out: number[] = [];
      source.pipe(bufferBounded({ capacity: 10 })).subscribe((v) => {
        out.push(v);
        if (v === 1) source.next(2);
        if (v === 2) source.next(3);
      });
      source.next(1);
      source.next(4);
      expect(out).toEqual([1, 2, 3, 4]);
    });

    it('never calls next while inside next, even when the consumer makes the source emit (Reactive Streams 1.3)', () => {
      const source = new Subject<number>();
      const out: number[] = [];
      let depth = 0;
      let maxDepth = 0;
      source.pipe(bufferBounded({ capacity: 100 })).subscribe((v) => {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        out.push(v);
        if (v < 50) source.next(v + 1);
        depth--;
      });
      source.next(0);
      expect(out).toEqual(Array.from({ length: 51 }, (_, i) => i));
      expect(maxDepth).toBe(1);
    });

    it('errors the stream when onDrop throws, reporting the rest, and emits nothing after', () => {
      const source = new Subject<number>();
      const demand = new Demand();
      const events: string[] = [];
      const seen: number[] = [];
      source
        .pipe(
          bufferBounded({
            capacity: 2,
            demand,
            onDrop: (d) => {
              seen.push(d.value);
              throw new Error('onDrop failed');
            },
          }),
        )
        .subscribe({ next: (v) => events.push(`n${v}`), error: (e: Error) => events.push(e.message) });
      source.next(1);
      source.next(2);
      source.next(3); // overflow: BufferOverflowError wins, drops reported quietly
      demand.request(5);
      expect(events).toEqual(['bufferBounded: buffer overflow, 2 values already queued (capacity 2)']);
      expect(seen).toEqual([1, 2, 3]);
    });

    it('counts every value in metrics: enqueued = dequeued + dropped + depth', () => {
      const metrics = new QueueMetrics();
      const demand = new Demand();
      const source = new Subject<number>();
      const subscription = source.pipe(bufferBounded({ capacity: 5, demand, metrics })).subscribe();
      expect(metrics.capacity).toBe(5);
      demand.request(2);
      for (let i = 0; i < 4; i++) source.next(i);
      expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([4, 2, 0, 2]);
      subscription.unsubscribe();
      expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([4, 2, 2, 0]);
      expect(metrics.droppedBy('cancelled')).toBe(2);
      expect(metrics.capacity).toBe(0);
    });
  });

  describe('options', () => {
    it.each([
      [{ capacity: 0 }, RangeError, 'bufferBounded: capacity must be a positive integer, got 0'],
      [{ capacity: -1 }, RangeError, 'bufferBounded: capacity must be a positive integer, got -1'],
      [{ capacity: 1.5 }, RangeError, 'bufferBounded: capacity must be a positive integer, got 1.5'],
      [{ capacity: NaN }, RangeError, 'bufferBounded: capacity must be a positive integer, got NaN'],
      [{ capacity: Infinity }, RangeError, 'bufferBounded: capacity must be a positive integer, got Infinity'],
      [{ capacity: '3' }, TypeError, 'bufferBounded: capacity must be a positive integer, got "3"'],
      [{}, TypeError, 'bufferBounded: capacity must be a positive integer, got undefined'],
      [{ capacity: 1, demand: 5 }, TypeError, 'bufferBounded: demand must be'],
      [{ capacity: 1, upstream: of(1) }, TypeError, 'bufferBounded: upstream must be a Demand'],
      [{ capacity: 1, onDrop: 'log' }, TypeError, 'bufferBounded: onDrop must be'],
      [{ capacity: 1, scheduler: {} }, TypeError, 'bufferBounded: scheduler must be'],
      [{ capacity: 1, metrics: {} }, TypeError, 'bufferBounded: metrics must be a QueueMetrics'],
      [{ capacity: 1, capacty: 2 }, TypeError, 'bufferBounded: unknown option "capacty"'],
    ])('%j throws at construction', (options, type, message) => {
      expect(() => bufferBounded(options as never)).toThrow(type);
      expect(() => bufferBounded(options as never)).toThrow(message);
    });

    it('throws TypeError when options are missing', () => {
      expect(() => bufferBounded(undefined as never)).toThrow(TypeError);
      expect(() => bufferBounded(undefined as never)).toThrow('bufferBounded: options must be an object');
    });

    it('keeps no state between subscriptions', () => {
      const op = bufferBounded<number>({ capacity: 2, demand: [1] });
      const a: number[] = [];
      const b: number[] = [];
      of(1, 2)
        .pipe(op)
        .subscribe((v) => a.push(v));
      of(3, 4)
        .pipe(op)
        .subscribe((v) => b.push(v));
      expect([a, b]).toEqual([[1], [3]]);
    });

    it('renders values with map after it unchanged (one-to-one)', () => {
      const out: number[] = [];
      of(1, 2, 3)
        .pipe(
          bufferBounded({ capacity: 3 }),
          map((x) => x * 10),
        )
        .subscribe((v) => out.push(v));
      expect(out).toEqual([10, 20, 30]);
    });
  });
});
