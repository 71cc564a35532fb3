import { Subject, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, dropOnFull } from '../../src/index.js';
import type { DropOverflow } from '../../src/index.js';
import { CREDITS, dropLane } from 'rxjs-backpressure/testing';
import { testScheduler } from '../helpers/marbles.js';

describe('dropOnFull', () => {
  it('passes values straight through with unbounded demand', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(' -a-b-c-|');
      const subs = '        ^------!';
      expectObservable(source.pipe(dropOnFull({ capacity: 1 }))).toBe('-a-b-c-|');
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  // capacity 2, no credit until frame 10; a, b fill the queue; c and d find it full.
  describe.each<[DropOverflow, string, string, string]>([
    // policy,          output,              drops,        why
    ['drop-incoming', '----------a-(b|)', '-----c-d', 'c and d are rejected'],
    ['drop-oldest', '----------c-(d|)', '-----a-b', 'c evicts a, d evicts b'],
    ['drop-newest', '----------a-(d|)', '-----b-c', 'c evicts b (newest), d evicts c'],
    ['drop-buffer', '----------c-(d|)', '-----(ab)', 'c evicts a and b, d finds room'],
  ])('overflow %s', (overflow, expected, dropped, why) => {
    it(`keeps the right values: ${why}`, () => {
      testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const drops = dropLane<string>();
        const demand = hot('  ----------1-1-1', CREDITS);
        const source = cold(' -a-b-c-d-|');
        const subs = '        ^--------!';
        expectObservable(source.pipe(dropOnFull({ capacity: 2, overflow, demand, onDrop: drops.onDrop }))).toBe(
          expected,
        );
        expectObservable(drops.values$).toBe(dropped);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });

    it('reports the reason the contract gives', () => {
      const drops = dropLane<number>();
      const demand = new Demand();
      const source = new Subject<number>();
      source.pipe(dropOnFull({ capacity: 2, overflow, demand, onDrop: drops.onDrop })).subscribe();
      for (let i = 0; i < 4; i++) source.next(i);
      const reason = overflow === 'drop-incoming' ? 'overflow' : 'evicted';
      expect(drops.all.map((d) => d.reason)).toEqual([reason, reason]);
    });
  });

  it('gives each drop its value, reason and scheduler time', () => {
    testScheduler().run(({ cold, flush }) => {
      const drops = dropLane<string>();
      cold('-a-b-c')
        .pipe(dropOnFull({ capacity: 1, demand: new Demand(), onDrop: drops.onDrop }))
        .subscribe();
      flush();
      expect(drops.all).toEqual([
        { value: 'b', reason: 'overflow', at: 3 },
        { value: 'c', reason: 'overflow', at: 5 },
      ]);
    });
  });

  it('accepts an Observer as onDrop (like tap) and calls only its next', () => {
    const seen: string[] = [];
    let completed = false;
    of('a', 'b', 'c')
      .pipe(
        dropOnFull({
          capacity: 1,
          demand: new Demand(),
          onDrop: { next: (d) => seen.push(d.value), complete: () => (completed = true) },
        }),
      )
      .subscribe();
    expect(seen).toEqual(['b', 'c']);
    expect(completed).toBe(false);
  });

  describe('earlyDrop', () => {
    it('drops by depth with a function of fill (reason early), never when the queue is empty', () => {
      testScheduler().run(({ cold, hot, expectObservable }) => {
        const drops = dropLane<string>();
        const demand = hot('  ----------------i', CREDITS);
        const source = cold(' -a-b-c-d-e-f-');
        // capacity 4, p = fill, random() = 0.4: a (fill 0), b (0.25 < 0.4: kept), c (0.5 >= 0.4: dropped),
        // d (0.5: dropped), e, f likewise; a and b wait for the credit at 16.
        const result = source.pipe(
          dropOnFull({ capacity: 4, demand, earlyDrop: (f) => f, random: () => 0.4, onDrop: drops.onDrop }),
        );
        expectObservable(result).toBe('----------------(ab)');
        expectObservable(drops.reasons$).toBe('-----x-y-z-w', {
          x: 'c:early',
          y: 'd:early',
          z: 'e:early',
          w: 'f:early',
        });
      });
    });

    it('drops a fixed share with a constant probability, calling random only when needed', () => {
      const randoms = [0.1, 0.9, 0.2, 0.8];
      let calls = 0;
      const out: number[] = [];
      const drops = dropLane<number>();
      of(1, 2, 3, 4)
        .pipe(dropOnFull({ capacity: 10, earlyDrop: 0.5, random: () => randoms[calls++]!, onDrop: drops.onDrop }))
        .subscribe((v) => out.push(v));
      expect(out).toEqual([2, 4]);
      expect(drops.all.map((d) => [d.value, d.reason])).toEqual([
        [1, 'early'],
        [3, 'early'],
      ]);
      expect(calls).toBe(4);
      let zeroCalls = 0;
      of(1, 2)
        .pipe(dropOnFull({ capacity: 10, earlyDrop: () => 0, random: () => (zeroCalls++, 0) }))
        .subscribe();
      expect(zeroCalls).toBe(0);
    });

    it('does not consult earlyDrop when full: the overflow policy decides', () => {
      const fills: number[] = [];
      const drops = dropLane<number>();
      const source = new Subject<number>();
      source
        .pipe(
          dropOnFull({
            capacity: 2,
            demand: new Demand(),
            earlyDrop: (f) => (fills.push(f), 0),
            onDrop: drops.onDrop,
          }),
        )
        .subscribe();
      [1, 2, 3].forEach((v) => source.next(v));
      expect(fills).toEqual([0, 0.5]);
      expect(drops.all.map((d) => d.reason)).toEqual(['overflow']);
    });

    it('errors the stream when earlyDrop throws or returns a non-probability, reporting the value', () => {
      for (const earlyDrop of [
        () => {
          throw new Error('bad curve');
        },
        () => 2,
        () => NaN,
      ]) {
        const drops = dropLane<number>();
        const errors: unknown[] = [];
        const out: number[] = [];
        of(1, 2)
          .pipe(dropOnFull({ capacity: 2, earlyDrop, onDrop: drops.onDrop }))
          .subscribe({ next: (v) => out.push(v), error: (e) => errors.push(e) });
        expect(out).toEqual([]);
        expect(errors).toHaveLength(1);
        expect(drops.all.map((d) => [d.value, d.reason])).toEqual([[1, 'error']]);
      }
    });
  });

  it('errors the stream when random returns a number outside [0, 1] (NaN dropped every value as early)', () => {
    for (const bad of [NaN, 1.5, -0.5, '0.5']) {
      const drops = dropLane<number>();
      const errors: unknown[] = [];
      const out: number[] = [];
      of(1, 2)
        .pipe(dropOnFull({ capacity: 2, earlyDrop: 0.5, random: () => bad as number, onDrop: drops.onDrop }))
        .subscribe({ next: (v) => out.push(v), error: (e) => errors.push(e) });
      expect(out).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(RangeError);
      expect((errors[0] as Error).message).toMatch(/dropOnFull: random must return a number in \[0, 1\], got/);
      expect(drops.all.map((d) => [d.value, d.reason])).toEqual([[1, 'error']]);
    }
  });

  it('reports queued values as cancelled on unsubscribe', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      const source = cold('-a-b-c-d');
      expectObservable(
        source.pipe(dropOnFull({ capacity: 2, demand: new Demand(), onDrop: drops.onDrop })),
        '------!',
      ).toBe('-');
      expectObservable(drops.reasons$).toBe('-----x(yz)', { x: 'c:overflow', y: 'a:cancelled', z: 'b:cancelled' });
    });
  });

  it('reports queued values with reason error on upstream error', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const drops = dropLane<string>();
      expectObservable(
        cold('-a-b#', undefined, 'boom').pipe(dropOnFull({ capacity: 5, demand: new Demand(), onDrop: drops.onDrop })),
      ).toBe('----#', undefined, 'boom');
      expectObservable(drops.reasons$).toBe('----(xy)', { x: 'a:error', y: 'b:error' });
    });
  });

  it('errors with the error onDrop throws and emits nothing after it', () => {
    const source = new Subject<number>();
    const demand = new Demand();
    const events: string[] = [];
    const dropped: number[] = [];
    source
      .pipe(
        dropOnFull({
          capacity: 1,
          demand,
          onDrop: (d) => {
            dropped.push(d.value);
            if (d.reason === 'overflow') throw new Error('listener broke');
          },
        }),
      )
      .subscribe({ next: (v) => events.push(`n${v}`), error: (e: Error) => events.push(e.message) });
    source.next(1);
    source.next(2);
    source.next(3);
    demand.request(5);
    expect(events).toEqual(['listener broke']);
    expect(dropped).toEqual([2, 1]); // 2 overflowed (and threw), then queued 1 was reported as error
  });

  it('keeps metrics conserved: enqueued = dequeued + dropped + depth', () => {
    const metrics = new QueueMetrics();
    const demand = new Demand();
    const source = new Subject<number>();
    source.pipe(dropOnFull({ capacity: 3, overflow: 'drop-oldest', demand, metrics })).subscribe();
    for (let i = 0; i < 10; i++) source.next(i);
    demand.request(2);
    expect(metrics.enqueued).toBe(10);
    expect(metrics.dequeued).toBe(2);
    expect(metrics.droppedBy('evicted')).toBe(7);
    expect(metrics.depth).toBe(1);
    expect(metrics.enqueued).toBe(metrics.dequeued + metrics.dropped + metrics.depth);
  });

  describe('options', () => {
    it.each([
      [{ capacity: 0 }, RangeError, 'dropOnFull: capacity must be a positive integer, got 0'],
      [{ capacity: 2.5 }, RangeError, 'dropOnFull: capacity must be a positive integer, got 2.5'],
      [{ capacity: 1, overflow: 'drop-all' }, TypeError, 'dropOnFull: overflow must be one of'],
      [{ capacity: 1, earlyDrop: 1.5 }, RangeError, 'dropOnFull: earlyDrop must be a number between 0 and 1, got 1.5'],
      [{ capacity: 1, earlyDrop: -0.1 }, RangeError, 'dropOnFull: earlyDrop must be a number between 0 and 1'],
      [{ capacity: 1, earlyDrop: NaN }, RangeError, 'dropOnFull: earlyDrop must be a number between 0 and 1, got NaN'],
      [{ capacity: 1, earlyDrop: '0.5' }, TypeError, 'dropOnFull: earlyDrop must be'],
      [{ capacity: 1, random: 0.5 }, TypeError, 'dropOnFull: random must be a function, got 0.5'],
      [{ capacity: 1, upstream: new Demand() }, TypeError, 'dropOnFull: unknown option "upstream"'],
    ])('%j throws at construction', (options, type, message) => {
      expect(() => dropOnFull(options as never)).toThrow(type);
      expect(() => dropOnFull(options as never)).toThrow(message);
    });
  });
});
