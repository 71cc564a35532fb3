/**
 * Values pushed back into the source while the queue is busy with another one: from inside `next`, from inside
 * `onDrop` while room is being made, and from inside the `earlyDrop` function. Found by a conformance audit; each
 * expectation is reasoned from the contract:
 * - "Values are delivered straight through while credit is outstanding and take no buffer slot": a value pushed from
 *   inside `next` while credit covers it is delivered (after the current `next` returns), never dropped or overflowed;
 * - "No queue in this library grows without bound. Every buffer has a finite capacity": room made by an eviction is
 *   for the arrival that needed it; if `onDrop` filled it meanwhile, room is made again;
 * - every value ends exactly once: delivered, or reported to `onDrop`.
 */
import { NEVER, Subject, take } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, dropOnFull, shedByPriority } from '../../src/index.js';
import type { DropHandler, DropReason, DemandInput } from '../../src/index.js';

type Build = (options: {
  demand?: DemandInput;
  onDrop?: DropHandler<string>;
  metrics?: QueueMetrics;
}) => MonoTypeOperatorFunction<string>;

const capacityOne: Record<string, Build> = {
  bufferBounded: (o) => bufferBounded({ capacity: 1, ...o }),
  'dropOnFull drop-incoming': (o) => dropOnFull({ capacity: 1, ...o }),
  'dropOnFull drop-oldest': (o) => dropOnFull({ capacity: 1, overflow: 'drop-oldest', ...o }),
  shedByPriority: (o) => shedByPriority({ capacity: 1, priority: () => 0, ...o }),
};

describe('a value pushed into the source from inside next, while credit covers it', () => {
  for (const [name, build] of Object.entries(capacityOne)) {
    it(`${name}: with unbounded demand, every value is delivered in order and nothing is dropped or errors`, () => {
      const source = new Subject<string>();
      const seen: string[] = [];
      const drops: DropReason[] = [];
      const metrics = new QueueMetrics();
      let errored: unknown;
      source.pipe(build({ onDrop: (d) => drops.push(d.reason), metrics })).subscribe({
        next: (v) => {
          seen.push(v);
          if (v === 'a') ['b', 'c', 'd'].forEach((w) => source.next(w)); // three more than the capacity of 1
        },
        error: (e: unknown) => (errored = e),
      });
      source.next('a');
      source.next('e');
      expect(errored).toBeUndefined();
      expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(drops).toEqual([]);
      expect(metrics.depth).toBe(0);
    });

    it(`${name}: with finite credit, as many as the credit covers are delivered; beyond it the capacity applies`, () => {
      const source = new Subject<string>();
      const demand = new Demand();
      const seen: string[] = [];
      const drops: [string, DropReason][] = [];
      source.pipe(build({ demand, onDrop: (d) => drops.push([d.value, d.reason]) })).subscribe({
        next: (v) => {
          seen.push(v);
          // credit 3 was requested; 'a' used one, so 'b' and 'c' are covered; 'd' queues in the one slot
          if (v === 'a') ['b', 'c', 'd'].forEach((w) => source.next(w));
        },
        error: () => seen.push('#'),
      });
      demand.request(3);
      source.next('a');
      expect(seen).toEqual(['a', 'b', 'c']);
      expect(drops).toEqual([]);
      demand.request(1);
      expect(seen).toEqual(['a', 'b', 'c', 'd']);
    });
  }
});

describe('a value pushed into the source from inside onDrop, while room is being made', () => {
  const evicting: Record<
    string,
    (onDrop: DropHandler<string>, metrics: QueueMetrics) => MonoTypeOperatorFunction<string>
  > = {
    'dropOnFull drop-oldest': (onDrop, metrics) =>
      dropOnFull({ capacity: 2, overflow: 'drop-oldest', demand: NEVER, onDrop, metrics }),
    'dropOnFull drop-newest': (onDrop, metrics) =>
      dropOnFull({ capacity: 2, overflow: 'drop-newest', demand: NEVER, onDrop, metrics }),
    shedByPriority: (onDrop, metrics) =>
      shedByPriority({ capacity: 2, priority: (v) => (v === 'c' ? 1 : 0), demand: NEVER, onDrop, metrics }),
  };
  for (const [name, build] of Object.entries(evicting)) {
    it(`${name}: the queue never holds more than its capacity, and every value is queued or reported once`, () => {
      const source = new Subject<string>();
      const metrics = new QueueMetrics();
      const dropped: string[] = [];
      let peak = 0;
      let fed = false;
      const onDrop: DropHandler<string> = (d) => {
        dropped.push(d.value);
        peak = Math.max(peak, metrics.depth);
        if (!fed) {
          fed = true;
          source.next('x'); // into the room the eviction just made
        }
      };
      source.pipe(build(onDrop, metrics)).subscribe();
      for (const v of ['a', 'b', 'c']) {
        source.next(v);
        peak = Math.max(peak, metrics.depth);
      }
      expect(peak).toBeLessThanOrEqual(2);
      expect(metrics.depth).toBe(2);
      // 4 values arrived (a, b, c and x): 2 are queued, the other 2 were reported, none twice
      expect(new Set(dropped).size).toBe(dropped.length);
      expect(dropped).toHaveLength(2);
    });
  }
});

describe('a value pushed into the source from inside the earlyDrop function', () => {
  it('the arrival being admitted sees the queue as it is after the push (it was full: overflow)', () => {
    const source = new Subject<string>();
    const metrics = new QueueMetrics();
    const drops: [string, DropReason][] = [];
    let calls = 0;
    source
      .pipe(
        dropOnFull({
          capacity: 1,
          demand: NEVER,
          metrics,
          earlyDrop: () => {
            if (calls++ === 0) source.next('b');
            return 0;
          },
          onDrop: (d) => drops.push([d.value, d.reason]),
        }),
      )
      .subscribe();
    source.next('a'); // while a is being admitted, b arrives and takes the one slot
    expect(metrics.depth).toBe(1);
    expect(drops).toEqual([['a', 'overflow']]);
  });

  it('if the consumer leaves meanwhile, the arrival is reported cancelled, never delivered after the end', () => {
    const source = new Subject<string>();
    const seen: string[] = [];
    const drops: [string, DropReason][] = [];
    let calls = 0;
    source
      .pipe(
        dropOnFull({
          capacity: 1,
          earlyDrop: () => {
            if (calls++ === 0) source.next('b');
            return 0;
          },
          onDrop: (d) => drops.push([d.value, d.reason]),
        }),
        take(1),
      )
      .subscribe({ next: (v) => seen.push(v), complete: () => seen.push('|') });
    source.next('a'); // b goes straight through and take(1) unsubscribes while a is being admitted
    expect(seen).toEqual(['b', '|']);
    expect(drops).toEqual([['a', 'cancelled']]);
  });
});
