/**
 * Values pushed back into the source while the queue is busy with another one: from inside `next`, from inside
 * `onDrop` while room is being made, and from inside the `earlyDrop` function. Found by a conformance audit; each
 * expectation is reasoned from the contract:
 * - "Values are delivered straight through while credit is outstanding and take no buffer slot": a value pushed from
 *   inside `next` while credit covers it is delivered (after the current `next` returns), never dropped or overflowed;
 * - "No queue in this library grows without bound. Every buffer has a finite capacity": values in transit take no slot
 *   only up to `capacity` of them, so the queue never holds more than twice its capacity;
 * - room is made once per arrival: values `onDrop` pushes into it are queued as well (a retry-on-drop loop must end);
 * - every value ends exactly once: delivered, or reported to `onDrop`.
 */
import { NEVER, Subject, merge, take } from 'rxjs';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  BufferOverflowError,
  Demand,
  QueueMetrics,
  bufferBounded,
  dropOnFull,
  shedByPriority,
} from '../../src/index.js';
import type { DropHandler, DropReason, DemandInput } from '../../src/index.js';

type Build = (options: {
  demand?: DemandInput;
  onDrop?: DropHandler<string>;
  metrics?: QueueMetrics;
}) => MonoTypeOperatorFunction<string>;

const capacityTwo: Record<string, Build> = {
  bufferBounded: (o) => bufferBounded({ capacity: 2, ...o }),
  'dropOnFull drop-incoming': (o) => dropOnFull({ capacity: 2, ...o }),
  'dropOnFull drop-oldest': (o) => dropOnFull({ capacity: 2, overflow: 'drop-oldest', ...o }),
  shedByPriority: (o) => shedByPriority({ capacity: 2, priority: () => 0, ...o }),
};

describe('a value pushed into the source from inside next, while credit covers it', () => {
  for (const [name, build] of Object.entries(capacityTwo)) {
    it(`${name}: with unbounded demand, every value is delivered in order and nothing is dropped or errors`, () => {
      const source = new Subject<string>();
      const seen: string[] = [];
      const drops: DropReason[] = [];
      const metrics = new QueueMetrics();
      let errored: unknown;
      source.pipe(build({ onDrop: (d) => drops.push(d.reason), metrics })).subscribe({
        next: (v) => {
          seen.push(v);
          if (v === 'a') ['b', 'c', 'd'].forEach((w) => source.next(w)); // three: more than the capacity of 2
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
          // credit 3 was requested; 'a' used one, so 'b' and 'c' are covered; 'd' queues in a slot
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
    it(`${name}: room is made once; a value onDrop pushes into it is queued too, and nothing is reported twice`, () => {
      const source = new Subject<string>();
      const metrics = new QueueMetrics();
      const dropped: string[] = [];
      let fed = false;
      const onDrop: DropHandler<string> = (d) => {
        dropped.push(d.value);
        if (!fed) {
          fed = true;
          source.next('x'); // into the room the eviction just made
        }
      };
      source.pipe(build(onDrop, metrics)).subscribe();
      ['a', 'b', 'c'].forEach((v) => source.next(v));
      // c evicted one value; x took that room; c was queued as well: 3 queued, 1 reported
      expect(metrics.depth).toBe(3);
      expect(dropped).toHaveLength(1);
      source.next('d'); // over capacity: d is refused, nothing queued is dropped
      expect(metrics.depth).toBe(3);
      expect(dropped).toEqual([dropped[0], 'd']);
    });
  }

  it('a retry-on-drop loop (onDrop sends each dropped value back) ends, and loses nothing', () => {
    const input = new Subject<string>();
    const retry = new Subject<string>();
    const demand = new Demand();
    const metrics = new QueueMetrics();
    const seen: string[] = [];
    merge(input, retry)
      .pipe(dropOnFull({ capacity: 2, overflow: 'drop-oldest', demand, metrics, onDrop: (d) => retry.next(d.value) }))
      .subscribe((v) => seen.push(v));
    ['a', 'b', 'c'].forEach((v) => input.next(v)); // returns: room is made once for c
    demand.request(Infinity);
    expect([...seen].sort()).toEqual(['a', 'b', 'c']);
    expect(metrics.depth).toBe(0);
  });
});

describe('values in transit take no slot only up to capacity: the queue holds at most twice its capacity', () => {
  it('bufferBounded, unbounded demand: 4 values pushed from inside next go through, a 5th overflows', () => {
    for (const pushes of [4, 5]) {
      const source = new Subject<number>();
      const metrics = new QueueMetrics();
      const seen: unknown[] = [];
      let peak = 0;
      source.pipe(bufferBounded({ capacity: 2, metrics })).subscribe({
        next: (v) => {
          seen.push(v);
          if (v === 0) for (let i = 1; i <= pushes; i++) source.next(i);
          peak = Math.max(peak, metrics.depth);
        },
        error: (e: unknown) => seen.push(e instanceof BufferOverflowError ? '#' : e),
      });
      source.next(0);
      expect(peak).toBeLessThanOrEqual(4);
      expect(seen).toEqual(pushes === 4 ? [0, 1, 2, 3, 4] : [0, '#']);
    }
  });
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
