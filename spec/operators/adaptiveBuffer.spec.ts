import { NEVER, Subject, interval, map, mergeMap, range } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { QueueMetrics } from '../../src/metrics/QueueMetrics.js';
import { adaptiveBuffer } from '../../src/operators/adaptiveBuffer.js';
import type { AdaptiveBufferOptions } from '../../src/operators/adaptiveBuffer.js';
import { nextCapacity } from '../../src/queue/adaptive.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

const SIZES: Record<string, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 8 };

/** Options of the JSDoc diagram: shrink when the wait is over 8 ms, grow when under 2 ms. */
const small = { minCapacity: 1, maxCapacity: 4, targetLatency: 4, interval: 10 };

describe('adaptiveBuffer', () => {
  it('shrinks while the consumer is stalled, never dropping what is queued (the JSDoc diagram)', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -abcde-----f---------g------------------h-|');
      const subs = '        ^-----------------------------------------!';
      const demand = hot('  --------------------------------i', CREDITS);
      const expected = '    --------------------------------(abcd)--h-|';
      const capacity = '    ----------3---------2---------1';
      const dropped = '     -----e-----f---------g';
      const drops = dropLane<string>();
      const sizes = new Subject<number>();
      expectObservable(source.pipe(adaptiveBuffer({ ...small, demand, onDrop: drops.onDrop, onCapacity: sizes }))).toBe(
        expected,
      );
      expectSubscriptions(source.subscriptions).toBe(subs);
      expectObservable(sizes).toBe(capacity, SIZES);
      expectObservable(drops.values$).toBe(dropped);
      expectObservable(drops.reasons$.pipe(map((r) => r.split(':')[1]))).toBe('-----x-----y---------z', {
        x: 'overflow',
        y: 'overflow',
        z: 'overflow',
      });
    });
  });

  it('grows a fast consumer (nothing ever waits) to maxCapacity, at least one slot per step', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z-a-b-c-d-e-f-g-h-i-j-k-l-m-n|');
      const sizes = new Subject<number>();
      const options = { minCapacity: 1, maxCapacity: 8, initialCapacity: 1, targetLatency: 4, interval: 10 };
      expectObservable(source.pipe(adaptiveBuffer({ ...options, onCapacity: sizes }))).toBe(
        '-a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z-a-b-c-d-e-f-g-h-i-j-k-l-m-n|',
      );
      // 1 -> 2 -> 3 -> 4 -> 5 -> 6 -> ceil(7.2) = 8, then it holds at the maximum.
      expectObservable(sizes).toBe('----------2---------3---------4---------5---------6---------8', SIZES);
    });
  });
});

/** Runs `setup` on a fresh TestScheduler in run mode until `until` ms of virtual time. */
function simulate(until: number, setup: (scheduler: SchedulerLike) => Subscription): void {
  const ts = testScheduler();
  ts.run(() => {
    const subscription = setup(ts);
    ts.schedule(() => subscription.unsubscribe(), until);
  });
}

describe('adaptiveBuffer counts values delivered at once', () => {
  it('as waits of 0 in the percentile, like QueueMetrics.queueTime', () => {
    const ts = testScheduler();
    ts.run(({ hot, flush }) => {
      // a and b pass straight through (2 credits at 0); c arrives at 5 with no credit and waits.
      // At 10 the samples are 0, 0 and c's age 5: p50 = 0 < target / 2, so the capacity grows 2 -> 3.
      // Were a and b not counted, p50 would be 5, inside [target / 2, 2 x target]: no change.
      const demand = hot('2', CREDITS);
      const source = hot('-ab--c-----');
      const changes: [number, number][] = [];
      const subscription = source
        .pipe(
          adaptiveBuffer({
            minCapacity: 1,
            maxCapacity: 8,
            initialCapacity: 2,
            targetLatency: 4,
            percentile: 0.5,
            interval: 10,
            demand,
            scheduler: ts,
            onCapacity: (capacity) => changes.push([ts.now(), capacity]),
          }),
        )
        .subscribe();
      ts.schedule(() => subscription.unsubscribe(), 15);
      flush();
      expect(changes).toEqual([[10, 3]]);
    });
  });
});

describe('adaptiveBuffer in a long virtual run', () => {
  /**
   * Producer: 30 values every 10 ms (3 per ms). Consumer: `credit` credits every 10 ms. (Steps of 10 ms, because rxjs'
   * virtual actions chain one subscription per repetition: an interval(1) over 20 s overflows the stack on teardown.)
   */
  function overload(
    options: Partial<AdaptiveBufferOptions<number>>,
    credit: number,
    until: number,
  ): { changes: { at: number; capacity: number }[]; metrics: QueueMetrics; maxDepth: number } {
    const changes: { at: number; capacity: number }[] = [];
    const metrics = new QueueMetrics();
    let maxDepth = 0;
    simulate(until, (scheduler) =>
      interval(10, scheduler)
        .pipe(
          mergeMap((i) => range(30 * i, 30)),
          adaptiveBuffer<number>({
            minCapacity: 5,
            maxCapacity: 1000,
            targetLatency: 50,
            interval: 100,
            ...options,
            demand: interval(10, scheduler).pipe(map(() => credit)),
            metrics,
            scheduler,
            onCapacity: (capacity) => changes.push({ at: scheduler.now(), capacity }),
          }),
        )
        .subscribe(() => {
          maxDepth = Math.max(maxDepth, metrics.depth);
        }),
    );
    return { changes, metrics, maxDepth };
  }

  it('a slow consumer drives capacity down to minCapacity and keeps it there', () => {
    // 3 values per ms against 1 per 10 ms: whatever the capacity, the queue is full and the wait is capacity x 10 ms.
    const { changes } = overload({ targetLatency: 20 }, 1, 10_000);
    expect(changes.at(-1)?.capacity).toBe(5);
    expect(Math.min(...changes.map((c) => c.capacity))).toBe(5);
    expect(changes.filter((c) => c.at > 5000)).toEqual([]);
    // Every change is a shrink: capacity falls monotonically from 1000 to 5.
    const capacities = changes.map((c) => c.capacity);
    expect(capacities).toEqual([...capacities].sort((a, b) => b - a));
  });

  it('oscillation is bounded: at a steady load it settles inside the dead band and stops changing', () => {
    // 5 credits per 10 ms: the wait at a full queue is about capacity x 2 ms, so the band [25, 100] ms holds any
    // capacity from about 13 to 50.
    const { changes, metrics } = overload({ targetLatency: 50 }, 5, 20_000);
    const settled = changes.filter((c) => c.at > 5000);
    expect(settled).toEqual([]);
    const final = changes.at(-1)!.capacity;
    expect(final).toBeGreaterThanOrEqual(13);
    expect(final).toBeLessThanOrEqual(50);
    expect(metrics.capacity).toBe(0); // unsubscribed: the capacity is no longer counted
  });

  it('oscillation is bounded from below too: starting at minCapacity it grows into the band and holds', () => {
    const { changes } = overload({ targetLatency: 50, initialCapacity: 5 }, 5, 20_000);
    const capacities = changes.map((c) => c.capacity);
    expect(capacities.length).toBeGreaterThan(0);
    expect(capacities).toEqual([...capacities].sort((a, b) => a - b)); // only grew
    expect(changes.filter((c) => c.at > 5000)).toEqual([]);
    // About capacity x 2 ms of wait, quantised to the consumer's 10 ms steps: it stops growing once inside the band.
    expect(capacities.at(-1)!).toBeGreaterThanOrEqual(10);
    expect(capacities.at(-1)!).toBeLessThanOrEqual(50);
  });
});

describe('adaptiveBuffer capacity steps (nextCapacity)', () => {
  const settings = {
    minCapacity: 2,
    maxCapacity: 100,
    targetLatency: 10,
    percentile: 0.99,
    interval: 1000,
    decrease: 0.8,
    increase: 1.2,
    scheduler: testScheduler(),
  };

  it('holds inside the dead band [target / 2, 2 x target]', () => {
    expect(nextCapacity(50, 5, settings)).toBe(50);
    expect(nextCapacity(50, 10, settings)).toBe(50);
    expect(nextCapacity(50, 20, settings)).toBe(50);
  });

  it('shrinks rounding down and grows rounding up, at least one slot per step', () => {
    expect(nextCapacity(50, 20.5, settings)).toBe(40);
    expect(nextCapacity(9, 21, settings)).toBe(7); // 7.2
    expect(nextCapacity(10, 4.9, settings)).toBe(12); // exactly 12, not 13
    expect(nextCapacity(11, 0, settings)).toBe(14); // 13.2
    expect(nextCapacity(3, 0, { ...settings, minCapacity: 1 })).toBe(4); // 3.6
    expect(nextCapacity(1, 0, { ...settings, minCapacity: 1 })).toBe(2); // 1.2 would be stuck at 1 if rounded
    expect(nextCapacity(5, 0, { ...settings, increase: 1.01 })).toBe(6);
    expect(nextCapacity(5, 100, { ...settings, decrease: 0.99 })).toBe(4);
  });

  it('clamps to [minCapacity, maxCapacity]', () => {
    expect(nextCapacity(2, 1000, settings)).toBe(2);
    expect(nextCapacity(3, 1000, settings)).toBe(2);
    expect(nextCapacity(90, 0, settings)).toBe(100);
    expect(nextCapacity(100, 0, settings)).toBe(100);
  });
});

describe('adaptiveBuffer plumbing', () => {
  const options = { minCapacity: 1, maxCapacity: 2, targetLatency: 100, interval: 50 };

  it('many values with demand: FIFO, and the queue is delivered after upstream completes', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -abc|');
      const demand = hot('  -----1--2', CREDITS);
      const expected = '    -----a--(b|)';
      const drops = dropLane<string>();
      expectObservable(source.pipe(adaptiveBuffer({ ...options, demand, onDrop: drops.onDrop }))).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('---x', { x: 'c:overflow' }); // capacity 2: a and b queued, c rejected
    });
  });

  it('drop-oldest evicts the head', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = cold(' -abc|');
      const demand = hot('  ------2', CREDITS);
      const drops = dropLane<string>();
      const operator = adaptiveBuffer({ ...options, overflow: 'drop-oldest', demand, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator)).toBe('------(bc|)');
      expectObservable(drops.reasons$).toBe('---x', { x: 'a:evicted' });
    });
  });

  it('upstream error: errors, queued values dropped with reason error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-ab-#');
      const drops = dropLane<string>();
      expectObservable(source.pipe(adaptiveBuffer({ ...options, demand: NEVER, onDrop: drops.onDrop }))).toBe('----#');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('----(xy)', { x: 'a:error', y: 'b:error' });
    });
  });

  it('early unsubscribe: queued values cancelled, source released', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-ab---');
      const drops = dropLane<string>();
      const operator = adaptiveBuffer({ ...options, demand: NEVER, onDrop: drops.onDrop });
      expectObservable(source.pipe(operator), '^---!').toBe('-');
      expectSubscriptions(source.subscriptions).toBe('^---!');
      expectObservable(drops.reasons$).toBe('----(xy)', { x: 'a:cancelled', y: 'b:cancelled' });
    });
  });

  it('a throwing onCapacity errors the stream; queued values dropped with reason error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-ab---------');
      const drops = dropLane<string>();
      const boom = new Error('boom');
      const operator = adaptiveBuffer({
        minCapacity: 1,
        maxCapacity: 2,
        targetLatency: 1,
        interval: 5,
        demand: NEVER,
        onDrop: drops.onDrop,
        onCapacity: () => {
          throw boom;
        },
      });
      expectObservable(source.pipe(operator)).toBe('-----#', undefined, boom);
      expectSubscriptions(source.subscriptions).toBe('^----!');
      expectObservable(drops.reasons$).toBe('-----(xy)', { x: 'a:error', y: 'b:error' });
    });
  });

  it('a throwing onDrop errors the stream', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abc-');
      const boom = new Error('boom');
      const onDrop = (): void => {
        throw boom;
      };
      expectObservable(source.pipe(adaptiveBuffer({ ...options, demand: NEVER, onDrop }))).toBe(
        '---#',
        undefined,
        boom,
      );
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('schedules nothing after teardown, and reports capacity to metrics only while subscribed', () => {
    const ts = testScheduler();
    const actions: Subscription[] = [];
    const scheduler: SchedulerLike = {
      now: () => ts.now(),
      schedule: (work, delay, state) => {
        const action = ts.schedule(work as never, delay, state);
        actions.push(action);
        return action;
      },
    };
    const changes: number[] = [];
    const metrics = new QueueMetrics();
    const subscription = new Subject<number>()
      .pipe(
        adaptiveBuffer({
          minCapacity: 1,
          maxCapacity: 8,
          initialCapacity: 4,
          targetLatency: 10,
          interval: 10,
          scheduler,
          metrics,
          onCapacity: (c) => changes.push(c),
        }),
      )
      .subscribe();
    expect(metrics.capacity).toBe(4);
    ts.schedule(() => subscription.unsubscribe(), 25);
    ts.flush();
    expect(changes).toEqual([5, 6]); // at 10 and 20; nothing at 30 or after
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a.closed)).toBe(true);
    expect(ts.actions.filter((a) => !a.closed)).toEqual([]);
    expect(metrics.capacity).toBe(0);
  });

  it('watches the capacity through metrics.capacity', () => {
    const ts = testScheduler();
    const metrics = new QueueMetrics({ scheduler: ts });
    const seen: number[] = [];
    ts.run(({ cold }) => {
      cold('-a-b-c-d-e-f|')
        .pipe(
          adaptiveBuffer({
            minCapacity: 1,
            maxCapacity: 3,
            initialCapacity: 1,
            targetLatency: 4,
            interval: 3,
            metrics,
          }),
        )
        .subscribe();
      for (const at of [1, 4, 7, 10]) ts.schedule(() => seen.push(metrics.capacity), at);
    });
    expect(seen).toEqual([1, 2, 3, 3]);
    expect(metrics.capacity).toBe(0);
  });
});

describe('adaptiveBuffer options', () => {
  const valid = { minCapacity: 1, maxCapacity: 10, targetLatency: 100 };
  const bad: [Record<string, unknown>, ErrorConstructor, string][] = [
    [{ ...valid, minCapacity: 0 }, RangeError, 'adaptiveBuffer: minCapacity must be a positive integer, got 0'],
    [{ ...valid, maxCapacity: 2.5 }, RangeError, 'adaptiveBuffer: maxCapacity must be a positive integer, got 2.5'],
    [
      { ...valid, minCapacity: 11 },
      RangeError,
      'adaptiveBuffer: maxCapacity must be at least minCapacity (11), got 10',
    ],
    [{ ...valid, initialCapacity: 11 }, RangeError, 'adaptiveBuffer: initialCapacity must be between 1 and 10, got 11'],
    [{ ...valid, minCapacity: 2, initialCapacity: 1 }, RangeError, 'initialCapacity must be between 2 and 10, got 1'],
    [{ ...valid, initialCapacity: NaN }, RangeError, 'initialCapacity must be a positive integer, got NaN'],
    [{ ...valid, maxCapacity: '10' }, TypeError, 'maxCapacity must be a positive integer, got "10"'],
    [{ ...valid, targetLatency: 0 }, RangeError, 'targetLatency must be a positive finite number, got 0'],
    [{ ...valid, targetLatency: Infinity }, RangeError, 'targetLatency must be a positive finite number, got Infinity'],
    [{ ...valid, percentile: 0 }, RangeError, 'percentile must be a number in (0, 1], got 0'],
    [{ ...valid, percentile: 1.5 }, RangeError, 'percentile must be a number in (0, 1], got 1.5'],
    [{ ...valid, percentile: NaN }, RangeError, 'percentile must be a number in (0, 1], got NaN'],
    [{ ...valid, interval: -1 }, RangeError, 'interval must be a positive finite number, got -1'],
    [{ ...valid, decrease: 1 }, RangeError, 'decrease must be a number in (0, 1), got 1'],
    [{ ...valid, decrease: 0 }, RangeError, 'decrease must be a number in (0, 1), got 0'],
    [{ ...valid, increase: 1 }, RangeError, 'increase must be a finite number > 1, got 1'],
    [{ ...valid, increase: Infinity }, RangeError, 'increase must be a finite number > 1, got Infinity'],
    [{ ...valid, increase: '2' }, TypeError, 'increase must be a finite number > 1, got "2"'],
    [{ ...valid, overflow: 'drop-newest' }, TypeError, "overflow must be one of 'drop-incoming', 'drop-oldest'"],
    [{ ...valid, onCapacity: 3 }, TypeError, 'onCapacity must be a function or an Observer, got 3'],
    [{ ...valid, onDrop: 'x' }, TypeError, 'onDrop must be a function or an Observer'],
    [{ ...valid, scheduler: {} }, TypeError, 'scheduler must be a SchedulerLike'],
    [{ ...valid, capacity: 3 }, TypeError, 'adaptiveBuffer: unknown option "capacity"'],
    [{ maxCapacity: 10, targetLatency: 100 }, TypeError, 'minCapacity must be a positive integer, got undefined'],
    [{ minCapacity: 1, maxCapacity: 10 }, TypeError, 'targetLatency must be a positive finite number, got undefined'],
  ];

  it.each(bad)('rejects %o at the factory call', (options, type, message) => {
    expect(() => adaptiveBuffer(options as never)).toThrow(type);
    expect(() => adaptiveBuffer(options as never)).toThrow(message);
  });

  it('rejects a missing options object', () => {
    expect(() => adaptiveBuffer(undefined as never)).toThrow(TypeError);
  });

  it('accepts the boundaries', () => {
    expect(() =>
      adaptiveBuffer({ ...valid, minCapacity: 10, percentile: 1, increase: 1.0001, decrease: 0.0001 }),
    ).not.toThrow();
  });
});

describe('adaptiveBuffer thresholds are exact, and its timer sleeps while every tick would change nothing', () => {
  const options = { minCapacity: 1, maxCapacity: 4, initialCapacity: 2, targetLatency: 4, interval: 10 };

  it('a wait of exactly target / 2 is in the dead band: no growth for that interval', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      const demand = cold('--1', CREDITS); // a waits exactly 2 ms
      expectObservable(cold('a').pipe(adaptiveBuffer({ ...options, demand, onCapacity: sizes }))).toBe('--a');
      // 10: p99 = 2 = target / 2, holds; 20 and 30: empty intervals read as 0 and grow; then at max it sleeps
      expectObservable(sizes).toBe('20ms 3 9ms 4', SIZES);
    });
  });

  it('a wait of exactly 2 x target is in the dead band: no shrinking for that interval', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      const demand = cold('8ms 1', CREDITS); // a waits exactly 8 ms
      expectObservable(cold('a').pipe(adaptiveBuffer({ ...options, demand, onCapacity: sizes }))).toBe('8ms a');
      expectObservable(sizes).toBe('20ms 3 9ms 4', SIZES);
    });
  });

  it('the percentile is the wait of rank ceil(p x n): p50 of waits 10 and 50 is 10, exactly 2 x target 5', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      const demand = cold('10ms 1 39ms 1', CREDITS);
      const buffer = adaptiveBuffer<string>({
        minCapacity: 1,
        maxCapacity: 3,
        initialCapacity: 2,
        targetLatency: 5,
        percentile: 0.5,
        interval: 60,
        demand,
        onCapacity: sizes,
      });
      expectObservable(cold('(ab)').pipe(buffer)).toBe('10ms a 39ms b');
      // 60: p50 = 10, in the dead band [2.5, 10], holds; 120: an empty interval grows to 3 (the maximum), then sleeps
      expectObservable(sizes).toBe('120ms 3', SIZES);
    });
  });

  it('an idle stream that never ends leaves nothing on the scheduler: the marble test finishes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      expectObservable(cold('-a-b-').pipe(adaptiveBuffer({ ...options, onCapacity: sizes }))).toBe('-a-b-');
      expectObservable(sizes).toBe('10ms 3 9ms 4', SIZES);
    });
  });

  it('stalled at minCapacity it sleeps; a delivery wakes it in the phase of the ticks it skipped', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      const demand = cold('55ms 1', CREDITS);
      const buffer = adaptiveBuffer<string>({ ...options, initialCapacity: 4, demand, onCapacity: sizes });
      expectObservable(cold('a').pipe(buffer)).toBe('55ms a');
      // 10, 20, 30: a is older than 8 ms: 4 -> 3 -> 2 -> 1, then stalled at the minimum (ticks at 40 and 50 would
      // change nothing). 60: the interval's one wait, 55 ms, is over: holds at 1. 70, 80, 90: empty intervals grow it
      // 1 -> 2 -> 3 -> 4 (ceil(3.6)), and at the maximum with nothing queued it sleeps.
      expectObservable(sizes).toBe('10ms 3 9ms 2 9ms 1 39ms 2 9ms 3 9ms 4', SIZES);
    });
  });

  it('a value onCapacity pushes into the source keeps it awake (it does not sleep with a value queued)', () => {
    testScheduler().run(({ expectObservable }) => {
      const source = new Subject<string>();
      const sizes = new Subject<number>();
      const buffer = adaptiveBuffer<string>({
        ...options,
        initialCapacity: 3,
        demand: NEVER,
        onCapacity: (capacity) => {
          sizes.next(capacity);
          if (capacity === 4) source.next('x');
        },
      });
      expectObservable(source.pipe(buffer)).toBe('-');
      // 10: an empty interval grows it to the maximum, and x is queued as it does; 20, 30, 40: x waits 10, 20, 30 ms,
      // over 2 x 4: 4 -> 3 -> 2 -> 1, then stalled at the minimum
      expectObservable(sizes).toBe('10ms 4 9ms 3 9ms 2 9ms 1', SIZES);
    });
  });

  it('stalled, a value arriving that evicts the oldest wakes it too', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const sizes = new Subject<number>();
      const buffer = adaptiveBuffer<string>({
        ...options,
        initialCapacity: 1,
        overflow: 'drop-oldest',
        demand: NEVER,
        onCapacity: sizes,
      });
      expectObservable(cold('a 48ms b').pipe(buffer)).toBe('-');
      // 10: a is 10 ms old, over, at the minimum already: stalled. 49: b evicts a. 50: b is 1 ms old, under target / 2:
      // grows to 2. 60: b is 11 ms old, over: back to 1, stalled again.
      expectObservable(sizes).toBe('50ms 2 9ms 1', SIZES);
    });
  });
});
