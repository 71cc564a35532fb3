import { Subject, interval, map, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, bufferBounded, drain, dropOnFull, shedByPriority } from '../../src/index.js';
import type { Dropped } from '../../src/index.js';
import { Codel } from '../../src/queue/expiry.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

describe('maxAge', () => {
  it('drops a queued value the instant it reaches maxAge, and completion does not wait for it', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-a-b-c-|');
      const demand = hot('---1------1', CREDITS);
      const drops = dropLane<string>();
      // a (in at 1) is served at 3, aged 2; b (in at 3) reaches 4 at 7 and c (in at 5) at 9: both dropped then; the
      // source completed at 7, so the stream completes when c goes, at 9, not at the credit at 10.
      expectObservable(drops.reasons$).toBe('-------b-c', { b: 'b:expired', c: 'c:expired' });
      expectObservable(source.pipe(dropOnFull({ capacity: 5, maxAge: 4, demand, onDrop: drops.onDrop }))).toBe(
        '---a-----|',
      );
    });
  });

  it('an expired value frees its slot: an arrival that would have overflowed is queued', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-ab--c-|');
      const demand = hot('-------1', CREDITS);
      const drops = dropLane<string>();
      // capacity 2: a and b fill it; both reach maxAge 3 at 4 and 5; c arrives at 5 into an empty queue
      expectObservable(drops.reasons$).toBe('----ab', { a: 'a:expired', b: 'b:expired' });
      expectObservable(source.pipe(dropOnFull({ capacity: 2, maxAge: 3, demand, onDrop: drops.onDrop }))).toBe(
        '-------(c|)',
      );
    });
  });

  it('judges age by the clock at dequeue: a value that is already too old when credit comes is not served', () => {
    const scheduler = new TestScheduler(() => undefined);
    // A scheduler whose timers never fire (an event loop stalled by synchronous work): only the dequeue can judge.
    const stalled = { now: () => scheduler.now(), schedule: () => ({ unsubscribe: () => undefined }) } as never;
    const demand = new Subject<number>();
    const drops: Dropped<string>[] = [];
    const out: string[] = [];
    const source = new Subject<string>();
    source
      .pipe(dropOnFull({ capacity: 5, maxAge: 10, demand, onDrop: (d) => drops.push(d), scheduler: stalled }))
      .subscribe((v) => out.push(v));
    source.next('old');
    scheduler.frame = 50;
    source.next('young');
    scheduler.frame = 55;
    demand.next(2);
    expect(out).toEqual(['young']);
    expect(drops.map((d) => `${d.value}:${d.reason}`)).toEqual(['old:expired']);
  });

  it('shedByPriority expires the oldest value, whatever its priority', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot('-l-h-|', { l: 1, h: 9 });
      const demand = hot('------1', CREDITS);
      const drops = dropLane<number>();
      expectObservable(drops.values$).toBe('-----l', { l: 1 });
      expectObservable(
        source.pipe(shedByPriority({ capacity: 5, priority: (x) => x, maxAge: 4, demand, onDrop: drops.onDrop })),
      ).toBe('------(h|)', { h: 9 });
    });
  });

  it('leaves no timer behind: a marble test over a source that never ends finishes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-');
      expectObservable(source.pipe(dropOnFull({ capacity: 5, maxAge: 3 }))).toBe('-a-b-');
    });
  });
});

describe('CoDel (RFC 8289) decisions', () => {
  it('drops only after the wait has stayed above target for interval, then at interval / sqrt(count)', () => {
    const codel = new Codel({ target: 5, interval: 10 });
    expect(codel.drops(4, 0, 3)).toBe(false); // under target
    expect(codel.drops(6, 1, 3)).toBe(false); // above: the interval starts (ends at 11)
    expect(codel.drops(6, 5, 3)).toBe(false);
    expect(codel.drops(6, 11, 3)).toBe(true); // a whole interval above: drop, next at 11 + 10 / sqrt(1) = 21
    expect(codel.drops(7, 12, 3)).toBe(false);
    expect(codel.drops(7, 21, 3)).toBe(true); // count 2: next at 21 + 10 / sqrt(2) = 28.07...
    expect(codel.drops(7, 28, 3)).toBe(false);
    expect(codel.drops(7, 28.1, 3)).toBe(true); // count 3
    expect(codel.drops(3, 30, 3)).toBe(false); // back under target: dropping stops
    expect(codel.drops(7, 31, 3)).toBe(false); // above again: a new interval must pass first
  });

  it('dropping that starts again soon resumes at count - 2 (the original CoDel rule), not from one', () => {
    const codel = new Codel({ target: 5, interval: 10 });
    expect(codel.drops(6, 0, 3)).toBe(false); // above target: the interval runs to 10
    for (const t of [10, 20, 27.1, 32.9, 37.9, 42.4]) expect(codel.drops(6, t, 3)).toBe(true); // count 1..6
    expect(codel.drops(3, 43, 3)).toBe(false); // under target: dropping stops (next would have been 46.39)
    expect(codel.drops(6, 44, 3)).toBe(false); // above again: a new interval, to 54
    // 54 - 46.39 < 8 intervals: count resumes at 6 - 2 = 4, the next drop at 54 + 10 / sqrt(4) = 59
    expect(codel.drops(6, 54, 3)).toBe(true);
    expect(codel.drops(6, 58.6, 3)).toBe(false);
    expect(codel.drops(6, 59, 3)).toBe(true);
  });

  it('never drops the last value in the queue', () => {
    const codel = new Codel({ target: 1, interval: 1 });
    expect(codel.drops(100, 0, 0)).toBe(false);
    expect(codel.drops(100, 5, 0)).toBe(false);
  });
});

describe('codel on a queue operator', () => {
  it('drops from the head once the wait has stayed above target for interval, never the last one queued', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = hot('(abcdefgh|)');
      const drops = dropLane<string>();
      const output = source.pipe(
        dropOnFull({ capacity: 10, codel: { target: 2, interval: 4 }, onDrop: drops.onDrop }),
        drain((x: string) => cold('--x|', { x })), // one value every 3 frames
      );
      // a goes at once. b is dequeued at 3 having waited 3 (above target 2: the interval runs to 7), c at 6 (still
      // within it). d at 9: above target for a whole interval, dropped; next drop at 9 + 4 / sqrt(1) = 13; e goes in
      // the same dequeue (9 < 13), f at 12. g at 15 >= 13: dropped (next at 13 + 4 / sqrt(2)); h is the last value
      // queued, so it is served, and the wait is judged afresh from then on.
      expectObservable(drops.reasons$).toBe('---------d-----g', { d: 'd:expired', g: 'g:expired' });
      expectObservable(output).toBe('--a--b--c--e--f--h|');
    });
  });

  it('drops spend no credit and the queue conserves every value (received = emitted + dropped)', () => {
    const drops: Dropped<number>[] = [];
    const served: number[] = [];
    testScheduler().run(({ flush }) => {
      interval(1)
        .pipe(
          take(300),
          dropOnFull({ capacity: 1000, codel: { target: 5, interval: 20 }, onDrop: (d) => drops.push(d) }),
          drain((x: number) =>
            interval(2).pipe(
              take(1),
              map(() => x),
            ),
          ),
        )
        .subscribe((x) => served.push(x));
      flush();
    });
    expect(drops.length).toBeGreaterThan(0);
    expect(new Set(drops.map((d) => d.reason))).toEqual(new Set(['expired']));
    expect(served.length + drops.length).toBe(300);
    // served in arrival order, each value at most once
    expect(served).toEqual([...served].sort((a, b) => a - b));
    expect(new Set([...served, ...drops.map((d) => d.value)]).size).toBe(300);
  });
});

describe('maxAge and codel options', () => {
  it.each([
    [{ maxAge: 0 }, RangeError, 'dropOnFull: maxAge must be a positive finite number, got 0'],
    [{ maxAge: Infinity }, RangeError, 'dropOnFull: maxAge must be a positive finite number, got Infinity'],
    [{ maxAge: '5' }, TypeError, 'dropOnFull: maxAge must be a positive finite number, got "5"'],
    [{ codel: 5 }, TypeError, 'dropOnFull: codel must be { target, interval }, got 5'],
    [
      { codel: { target: 0, interval: 10 } },
      RangeError,
      'dropOnFull: codel.target must be a positive finite number, got 0',
    ],
    [
      { codel: { target: 5, interval: NaN } },
      RangeError,
      'dropOnFull: codel.interval must be a positive finite number, got NaN',
    ],
    [{ codel: { target: 5 } }, TypeError, 'dropOnFull: codel.interval must be a positive finite number, got undefined'],
    [{ codel: { target: 5, interval: 10, extra: 1 } }, TypeError, 'dropOnFull: codel: unknown option "extra"'],
  ])('dropOnFull rejects %o at the call', (extra, kind, message) => {
    expect(() => dropOnFull({ capacity: 3, ...(extra as object) })).toThrow(kind);
    expect(() => dropOnFull({ capacity: 3, ...(extra as object) })).toThrow(message);
  });

  it('adaptiveBuffer and shedByPriority take them too; bufferBounded (lossless) rejects both', () => {
    expect(() =>
      adaptiveBuffer({
        minCapacity: 1,
        maxCapacity: 4,
        targetLatency: 10,
        maxAge: 100,
        codel: { target: 5, interval: 50 },
      }),
    ).not.toThrow();
    expect(() => shedByPriority({ capacity: 3, priority: () => 1, maxAge: 100 })).not.toThrow();
    expect(() => bufferBounded({ capacity: 3, maxAge: 100 } as never)).toThrow(
      new TypeError(
        'bufferBounded: unknown option "maxAge" (known: capacity, upstream, demand, onDrop, metrics, scheduler)',
      ),
    );
    expect(() => bufferBounded({ capacity: 3, codel: { target: 1, interval: 1 } } as never)).toThrow(TypeError);
  });
});
