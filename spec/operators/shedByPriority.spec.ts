import { NEVER, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics } from '../../src/metrics/QueueMetrics.js';
import { shedByPriority } from '../../src/operators/shedByPriority.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

/** Marble letters by level: l/L low (0), m/M medium (1), h/H high (2). */
const RANK: Record<string, number> = { l: 0, L: 0, m: 1, M: 1, h: 2, H: 2, x: 0, y: 0, z: 0 };
const priority = (value: string): number => RANK[value] ?? 0;

describe('shedByPriority', () => {
  it('delivers the highest priority first and evicts the lowest (the JSDoc diagram)', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -l-m-h-H-|');
      const demand = hot('   ----------1-1-1--', CREDITS);
      const expected = '     ----------h-H-(m|)';
      const dropped = '      -------l';
      const drops = dropLane<string>();
      expectObservable(source.pipe(shedByPriority({ capacity: 3, priority, demand, onDrop: drops.onDrop }))).toBe(
        expected,
      );
      expectSubscriptions(source.subscriptions).toBe('^--------!');
      expectObservable(drops.values$).toBe(dropped);
      expectObservable(drops.reasons$).toBe('-------a', { a: 'l:evicted' });
    });
  });

  it('seed: under overload the low level is shed first, then the medium; high is never shed while it fits', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      // capacity 4, no credit until frame 13: l L m M fill the queue, then h H evict l and L (low first, oldest
      // first), h2 = 'h' again evicts m, and the last M finds only medium and high left above nothing lower: dropped.
      const source = cold('  -lLmM-hHh-M-|');
      const demand = hot('   -------------i', CREDITS);
      const expected = '     -------------(hHhM|)';
      const drops = dropLane<string>();
      expectObservable(source.pipe(shedByPriority({ capacity: 4, priority, demand, onDrop: drops.onDrop }))).toBe(
        expected,
      );
      expectObservable(drops.reasons$).toBe('------abc-d', {
        a: 'l:evicted',
        b: 'L:evicted',
        c: 'm:evicted',
        d: 'M:overflow',
      });
    });
  });

  it('equal priorities never evict each other: a full queue of equals drops the arrival', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = cold('  -mMmM|');
      const demand = hot('   --------2', CREDITS);
      const drops = dropLane<string>();
      const operator = shedByPriority({ capacity: 2, priority, demand, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator)).toBe('--------(mM|)');
      expectObservable(drops.reasons$).toBe('---ab', { a: 'm:overflow', b: 'M:overflow' });
    });
  });

  it('a lower-priority arrival at a full queue is dropped, never queued', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = cold('  -hHl|');
      const demand = hot('   ------2', CREDITS);
      const drops = dropLane<string>();
      expectObservable(source.pipe(shedByPriority({ capacity: 2, priority, demand, onDrop: drops.onDrop }))).toBe(
        '------(hH|)',
      );
      expectObservable(drops.reasons$).toBe('---a', { a: 'l:overflow' });
    });
  });

  it('starves the low level under a constant high-priority stream (documented: strict priority)', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      // One credit per frame and one high value per frame: every credit goes to a high value, so the low value queued
      // at frame 1 waits for as long as the high stream lasts, and is still queued (cancelled) at unsubscribe.
      const source = hot('   -lhhhhhhhhh');
      const demand = hot('   --1111111111', CREDITS);
      const drops = dropLane<string>();
      const operator = shedByPriority({ capacity: 2, priority, demand, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator), '^----------!').toBe('--hhhhhhhhh');
      expectObservable(drops.reasons$).toBe('-----------a', { a: 'l:cancelled' });
    });
  });

  it('starvation with room: the low value waits until the high stream pauses', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('   -lhhhh----|');
      const demand = hot('   --11111111', CREDITS);
      const operator = shedByPriority({ capacity: 3, priority, demand });
      expectObservable(source.pipe(operator)).toBe('--hhhhl---|');
    });
  });

  it('FIFO within a priority, whatever the order of levels', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = cold('  -lmhLMH|');
      const demand = hot('   ---------i', CREDITS);
      expectObservable(source.pipe(shedByPriority({ capacity: 6, priority, demand }))).toBe('---------(hHmMlL|)');
    });
  });

  it('works with arbitrary finite priorities (negative, fractional, -0 equal to 0)', () => {
    const ranks: Record<string, number> = { a: -1.5, b: 0, c: -0, d: 1e9, e: -1e9, f: 0.25 };
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = cold('  -abcdef|');
      const demand = hot('   --------i', CREDITS);
      const operator = shedByPriority<string>({ capacity: 6, priority: (v) => ranks[v]!, demand });
      expectObservable(source.pipe(operator)).toBe('--------(dfbcae|)');
    });
  });

  it('a throwing priority errors the stream; the queued values, then the value, are reported dropped', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = cold('  -lm-x-h|');
      const demand = hot('   -', CREDITS);
      const boom = new Error('boom');
      const drops = dropLane<string>();
      const operator = shedByPriority<string>({
        capacity: 3,
        priority: (v) => {
          if (v === 'x') throw boom;
          return priority(v);
        },
        demand,
        onDrop: drops.onDrop,
      });
      expectObservable(source.pipe(operator)).toBe('----#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('----(abc)', { a: 'm:error', b: 'l:error', c: 'x:error' });
    });
  });

  it.each([NaN, Infinity, -Infinity, '1', undefined])(
    'a priority returning %s errors the stream with RangeError',
    (bad) => {
      const drops: string[] = [];
      const errors: unknown[] = [];
      of('a', 'b', 'c')
        .pipe(
          shedByPriority<string>({
            capacity: 3,
            priority: (v) => (v === 'b' ? (bad as number) : 1),
            onDrop: (d) => drops.push(`${d.value}:${d.reason}`),
          }),
        )
        .subscribe({ error: (e) => errors.push(e) });
      expect(drops).toEqual(['b:error']);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(RangeError);
      expect((errors[0] as Error).message).toBe(
        // strings are quoted, like every value an error message quotes (one formatter for all of them)
        `shedByPriority: priority must return a finite number, got ${typeof bad === 'string' ? `"${bad}"` : String(bad)}`,
      );
    },
  );

  it('calls priority once per arrival', () => {
    let calls = 0;
    of(1, 2, 3, 4, 5)
      .pipe(shedByPriority<number>({ capacity: 2, demand: NEVER, priority: (v) => (calls++, v) }))
      .subscribe();
    expect(calls).toBe(5);
  });

  it('many values with unbounded demand: straight through in arrival order', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-lmhLMH|');
      expectObservable(source.pipe(shedByPriority({ capacity: 1, priority }))).toBe('-lmhLMH|');
    });
  });

  it('upstream error: errors, queued values dropped with reason error (highest first)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-lh-#');
      const drops = dropLane<string>();
      const operator = shedByPriority({ capacity: 2, priority, demand: NEVER, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator)).toBe('----#');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('----(ab)', { a: 'h:error', b: 'l:error' });
    });
  });

  it('early unsubscribe: queued values cancelled, source released', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-lh---');
      const drops = dropLane<string>();
      const operator = shedByPriority({ capacity: 2, priority, demand: NEVER, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator), '^---!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('----(ab)', { a: 'h:cancelled', b: 'l:cancelled' });
    });
  });

  it('a throwing onDrop errors the stream', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-lhH-');
      const boom = new Error('boom');
      const onDrop = (): void => {
        throw boom;
      };
      const operator = shedByPriority({ capacity: 2, priority, demand: NEVER, onDrop });
      expectObservable(source.pipe(operator)).toBe('---#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('reports to metrics: depth, drops by reason, capacity', () => {
    const metrics = new QueueMetrics();
    const subscription = of('l', 'm', 'h', 'H', 'l')
      .pipe(shedByPriority({ capacity: 2, priority, demand: NEVER, metrics }))
      .subscribe();
    expect(metrics.capacity).toBe(2);
    expect(metrics.enqueued).toBe(5);
    expect(metrics.depth).toBe(2);
    expect(metrics.droppedBy('evicted')).toBe(2); // h evicts l, H evicts m
    expect(metrics.droppedBy('overflow')).toBe(1); // the last l
    subscription.unsubscribe();
    expect(metrics.droppedBy('cancelled')).toBe(2);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
    expect(metrics.capacity).toBe(0);
  });

  describe('options', () => {
    const bad: [unknown, ErrorConstructor, string][] = [
      [{ capacity: 0, priority }, RangeError, 'shedByPriority: capacity must be a positive integer, got 0'],
      [{ capacity: 1.5, priority }, RangeError, 'shedByPriority: capacity must be a positive integer, got 1.5'],
      [{ capacity: NaN, priority }, RangeError, 'shedByPriority: capacity must be a positive integer, got NaN'],
      [{ capacity: '3', priority }, TypeError, 'shedByPriority: capacity must be a positive integer, got "3"'],
      [{ capacity: 3 }, TypeError, 'shedByPriority: priority must be a function, got undefined'],
      [{ capacity: 3, priority: 1 }, TypeError, 'shedByPriority: priority must be a function, got 1'],
      [{ capacity: 3, priority, onDrop: 1 }, TypeError, 'shedByPriority: onDrop must be a function or an Observer'],
      [{ capacity: 3, priority, demand: 5 }, TypeError, 'shedByPriority: demand must be a Demand'],
      [{ capacity: 3, priority, metrics: {} }, TypeError, 'shedByPriority: metrics must be a QueueMetrics'],
      [{ capacity: 3, priority, scheduler: 1 }, TypeError, 'shedByPriority: scheduler must be a SchedulerLike'],
      [{ capacity: 3, priority, overflow: 'drop-oldest' }, TypeError, 'shedByPriority: unknown option "overflow"'],
      [null, TypeError, 'shedByPriority: options must be an object, got null'],
    ];

    it.each(bad)('rejects %o at the factory call', (options, type, message) => {
      expect(() => shedByPriority(options as never)).toThrow(type);
      expect(() => shedByPriority(options as never)).toThrow(message);
    });
  });
});
