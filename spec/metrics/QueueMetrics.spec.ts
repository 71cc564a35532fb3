import { Subject, asyncScheduler } from 'rxjs';
import type { SchedulerLike, Subscription } from 'rxjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Demand, QueueMetrics, bufferBounded, dropOnFull, isBufferOverflowError } from '../../src/index.js';
import type { DropOverflow, DropReason, Dropped } from '../../src/index.js';
import { RELATIVE_ERROR } from '../../src/metrics/Histogram.js';
import { recorderOf } from '../../src/metrics/port.js';
import { DROP_REASONS } from '../../src/types.js';

/** A clock the spec moves by hand; `reads` counts calls to now(). */
interface ManualClock {
  scheduler: SchedulerLike;
  t: number;
  reads: number;
}

function manualClock(): ManualClock {
  const clock: ManualClock = {
    t: 0,
    reads: 0,
    scheduler: {
      now: () => {
        clock.reads++;
        return clock.t;
      },
      schedule: asyncScheduler.schedule.bind(asyncScheduler),
    } as SchedulerLike,
  };
  return clock;
}

function exactPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

/** The documented error: 2% relative; a wait under 1 µs reads as 0 (or exactly, as the maximum). */
function withinDocumentedError(actual: number, exact: number): boolean {
  if (exact < 0.001) return actual === 0 || actual === exact;
  return Math.abs(actual - exact) <= RELATIVE_ERROR * exact * (1 + 1e-9);
}

function conserved(m: QueueMetrics): void {
  expect(m.enqueued).toBe(m.dequeued + m.dropped + m.depth);
  expect(m.dropped).toBe(DROP_REASONS.reduce((sum, r) => sum + m.droppedBy(r), 0));
}

describe('QueueMetrics', () => {
  it('counts a dropOnFull run', () => {
    const metrics = new QueueMetrics();
    const demand = new Demand();
    const source = new Subject<string>();
    const seen: string[] = [];
    const subscription = source.pipe(dropOnFull({ capacity: 2, demand, metrics })).subscribe((v) => seen.push(v));
    expect(metrics.capacity).toBe(2);
    for (const v of ['a', 'b', 'c', 'd', 'e']) source.next(v);
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth]).toEqual([5, 0, 3, 2]);
    expect(metrics.droppedBy('overflow')).toBe(3);
    demand.request(1);
    expect([metrics.dequeued, metrics.depth]).toEqual([1, 1]);
    subscription.unsubscribe();
    expect([metrics.enqueued, metrics.dequeued, metrics.dropped, metrics.depth, metrics.capacity]).toEqual([
      5, 1, 4, 0, 0,
    ]);
    expect(metrics.droppedBy('cancelled')).toBe(1);
    expect(seen).toEqual(['a']);
  });

  it('reports the sum of every operator it is shared by', () => {
    const metrics = new QueueMetrics();
    const lossy = new Subject<number>();
    const lossless = new Subject<number>();
    const lossyDemand = new Demand();
    const losslessDemand = new Demand();
    const a = lossy.pipe(dropOnFull({ capacity: 3, demand: lossyDemand, metrics })).subscribe();
    const errors: unknown[] = [];
    const b = lossless
      .pipe(bufferBounded({ capacity: 5, demand: losslessDemand, metrics }))
      .subscribe({ error: (e) => errors.push(e) });
    expect(metrics.capacity).toBe(8);
    for (let i = 0; i < 5; i++) lossy.next(i); // 3 queued, 2 dropped ('overflow')
    for (let i = 0; i < 4; i++) lossless.next(i); // 4 queued
    lossyDemand.request(1);
    losslessDemand.request(3);
    expect(metrics.enqueued).toBe(9);
    expect(metrics.dequeued).toBe(4);
    expect(metrics.dropped).toBe(2);
    expect(metrics.droppedBy('overflow')).toBe(2);
    expect(metrics.depth).toBe(3); // 2 + 1
    a.unsubscribe();
    expect(metrics.capacity).toBe(5);
    expect(metrics.depth).toBe(1);
    expect(metrics.droppedBy('cancelled')).toBe(2);
    for (let i = 0; i < 5; i++) lossless.next(i); // the fifth overflows: the stream errors, 6 dropped as 'error'
    expect(errors).toHaveLength(1);
    expect(isBufferOverflowError(errors[0])).toBe(true);
    expect(metrics.droppedBy('error')).toBe(6);
    expect(metrics.capacity).toBe(0);
    expect(metrics.depth).toBe(0);
    conserved(metrics);
    b.unsubscribe();
  });

  type Command =
    { kind: 'push'; target: 0 | 1 } | { kind: 'request'; target: 0 | 1; n: number } | { kind: 'tick'; ms: number };

  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), target: fc.constantFrom(0 as const, 1 as const) }),
    fc.record({
      kind: fc.constant('request' as const),
      target: fc.constantFrom(0 as const, 1 as const),
      n: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.double({ min: 0, max: 10_000, noNaN: true }) }),
  );

  it('agrees with conservation, with what the consumers saw, and with exact queue-time percentiles', () => {
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 120 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom<DropOverflow>('drop-incoming', 'drop-oldest', 'drop-newest', 'drop-buffer'),
        (commands, lossyCapacity, losslessCapacity, overflow) => {
          const clock = manualClock();
          const metrics = new QueueMetrics({ scheduler: clock.scheduler });
          const sources = [new Subject<number>(), new Subject<number>()] as const;
          const demands = [new Demand(), new Demand()] as const;
          const arrivals = new Map<number, number>();
          const waits: number[] = [];
          const drops: Dropped<number>[] = [];
          let received = 0;
          const onDrop = (d: Dropped<number>): void => void drops.push(d);
          const emit = (v: number): void => void waits.push(clock.t - arrivals.get(v)!);
          const options = { scheduler: clock.scheduler, metrics, onDrop };
          const subscriptions: Subscription[] = [
            sources[0]
              .pipe(dropOnFull({ capacity: lossyCapacity, overflow, demand: demands[0], ...options }))
              .subscribe({ next: emit, error: () => {} }),
            sources[1]
              .pipe(bufferBounded({ capacity: losslessCapacity, demand: demands[1], ...options }))
              .subscribe({ next: emit, error: () => {} }),
          ];
          let id = 0;
          for (const c of commands) {
            if (c.kind === 'tick') clock.t += c.ms;
            else if (c.kind === 'request') demands[c.target].request(c.n);
            else {
              arrivals.set(id, clock.t);
              if (!subscriptions[c.target]!.closed) received++;
              sources[c.target].next(id++);
            }
            conserved(metrics);
            expect(metrics.depth).toBeLessThanOrEqual(metrics.capacity);
            expect(metrics.enqueued).toBe(received);
            expect(metrics.dequeued).toBe(waits.length);
            expect(metrics.dropped).toBe(drops.length);
          }
          for (const reason of DROP_REASONS) {
            expect(metrics.droppedBy(reason)).toBe(drops.filter((d) => d.reason === reason).length);
          }
          for (const p of [0, 0.5, 0.9, 0.99, 1]) {
            const exact = waits.length === 0 ? 0 : exactPercentile(waits, p);
            expect(withinDocumentedError(metrics.queueTime(p), exact)).toBe(true);
          }
          for (const s of subscriptions) s.unsubscribe();
          conserved(metrics);
          expect([metrics.depth, metrics.capacity]).toEqual([0, 0]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the clock only for values that wait in a queue', () => {
    const clock = manualClock();
    const metrics = new QueueMetrics({ scheduler: clock.scheduler });
    const demand = new Demand();
    const source = new Subject<number>();
    source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: clock.scheduler })).subscribe();
    demand.request(3);
    const before = clock.reads;
    for (let i = 0; i < 3; i++) source.next(i); // delivered at once
    expect(clock.reads).toBe(before);
    source.next(3); // queued: read on enqueue
    expect(clock.reads).toBe(before + 1);
    demand.request(1); // dequeued: read on emit
    expect(clock.reads).toBe(before + 2);
    expect(metrics.queueTime(0.5)).toBe(0);
  });

  it('counts a value delivered at once with queue time 0', () => {
    const metrics = new QueueMetrics();
    const source = new Subject<number>();
    source.pipe(dropOnFull({ capacity: 1, metrics })).subscribe();
    source.next(1);
    expect([metrics.enqueued, metrics.dequeued, metrics.depth]).toEqual([1, 1, 0]);
    expect(metrics.queueTime(0.99)).toBe(0);
    expect(metrics.queueTime(1)).toBe(0);
  });

  it('gives a plain-JSON snapshot with rates since the previous snapshot', () => {
    const clock = manualClock();
    const metrics = new QueueMetrics({ scheduler: clock.scheduler });
    const demand = new Demand();
    const source = new Subject<number>();
    source.pipe(dropOnFull({ capacity: 2, demand, metrics, scheduler: clock.scheduler })).subscribe();
    clock.t = 1000;
    for (let i = 0; i < 4; i++) source.next(i); // 2 queued at 1000, 2 dropped
    clock.t = 2000;
    demand.request(1); // waited 1000 ms
    const snapshot = metrics.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    const droppedBy = Object.fromEntries(DROP_REASONS.map((r) => [r, r === 'overflow' ? 2 : 0])) as Record<
      DropReason,
      number
    >;
    expect(snapshot).toMatchObject({
      at: 2000,
      depth: 1,
      capacity: 2,
      enqueued: 4,
      dequeued: 1,
      dropped: 2,
      droppedBy,
      rates: { enqueued: 2, dequeued: 0.5, dropped: 1 },
    });
    expect(Math.abs(snapshot.queueTime.p99 - 1000)).toBeLessThanOrEqual(20);
    expect(snapshot.queueTime.max).toBe(1000);
    clock.t = 2500;
    demand.request(1);
    expect(metrics.snapshot().rates).toEqual({ enqueued: 0, dequeued: 2, dropped: 0 });
    expect(metrics.snapshot().rates).toEqual({ enqueued: 0, dequeued: 0, dropped: 0 });
  });

  it('feeds the waits > 0 of values emitted after observe() to each observer, until its stop is called', () => {
    const clock = manualClock();
    const metrics = new QueueMetrics({ scheduler: clock.scheduler });
    const recorder = recorderOf(metrics)!;
    const demand = new Demand();
    const source = new Subject<string>();
    source.pipe(dropOnFull({ capacity: 10, demand, metrics, scheduler: clock.scheduler })).subscribe();
    source.next('before'); // queued at 0
    clock.t = 5;
    demand.request(1); // waited 5 ms, before anyone observes
    const first: number[] = [];
    const second: number[] = [];
    const stopFirst = recorder.observe!({ waited: (ms) => first.push(ms) });
    const stopSecond = recorder.observe!({ waited: (ms) => second.push(ms) });
    source.next('a'); // queued at 5
    source.next('b');
    clock.t = 12;
    demand.request(1); // a: 7 ms
    stopFirst();
    stopFirst(); // twice is harmless, and does not stop the other
    clock.t = 20;
    demand.request(Infinity); // b: 15 ms
    source.next('c'); // delivered at once: wait 0 is not passed on
    expect(first).toEqual([7]);
    expect(second).toEqual([7, 15]);
    stopSecond();
    demand.request(1);
    source.next('d');
    expect(second).toEqual([7, 15]);
    expect(metrics.dequeued).toBe(5);
  });

  it('rejects invalid options and arguments', () => {
    expect(() => new QueueMetrics({ clock: 1 } as never)).toThrow(
      new TypeError('QueueMetrics: unknown option "clock" (known: scheduler)'),
    );
    expect(() => new QueueMetrics({ scheduler: {} as never })).toThrow(TypeError);
    expect(() => new QueueMetrics(null as never)).toThrow(TypeError);
    const metrics = new QueueMetrics();
    expect(() => metrics.queueTime(1.5)).toThrow(
      new RangeError('QueueMetrics.queueTime: percentile must be a number between 0 and 1, got 1.5'),
    );
    expect(() => metrics.queueTime(NaN)).toThrow(RangeError);
    expect(() => metrics.queueTime('0.5' as never)).toThrow(TypeError);
    expect(() => metrics.droppedBy('lost' as never)).toThrow(TypeError);
    // names every object has are not drop reasons either
    for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      expect(() => metrics.droppedBy(name as never)).toThrow(TypeError);
    }
  });
});
